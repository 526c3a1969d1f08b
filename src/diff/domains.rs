//! Domains: altered in place where PostgreSQL allows it, replaced otherwise (their columns converted).

use super::ColumnChange;
use super::order::{Effects, Key, Rank, ref_key};
use super::{
    Change, CommentTarget, KindChange,
    columns::kept_columns_using,
    comment,
    keyed::{Sides, keyed},
};
use crate::model::*;
use indexmap::{IndexMap, IndexSet};
use serde::Serialize;

/// A domain created, dropped or altered in place. Unboxed like the rest of [`Change`].
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum DomainChange {
    #[serde(rename = "CreateDomain")]
    Create(Domain),
    #[serde(rename = "DropDomain")]
    Drop(Domain),
    /// Default, NOT NULL and constraints changed; the base type and collation are the same. `used_by`:
    /// the tables that keep a column of the domain, which a new NOT NULL or a validated constraint reads.
    #[serde(rename = "AlterDomain")]
    Alter {
        from: Domain,
        to: Domain,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        used_by: Vec<QualifiedName>,
    },
}

impl KindChange for DomainChange {
    fn describe(&self) -> String {
        match self {
            DomainChange::Create(d) => format!("create domain {}", d.name),
            DomainChange::Drop(d) => format!("drop domain {}", d.name),
            DomainChange::Alter { to, .. } => format!("alter domain {}", to.name),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            DomainChange::Create(d) => {
                e.provides.push(Key::Type(&d.name));
                e.needs.push(Key::Schema(&d.name.schema));
                e.needs.extend(d.depends_on.iter().map(ref_key));
            }
            DomainChange::Drop(d) => {
                e.removes.push(Key::Type(&d.name));
                e.held.push(Key::Schema(&d.name.schema));
                e.held.extend(d.depends_on.iter().map(ref_key));
            }
            DomainChange::Alter { from, to, .. } => {
                e.provides.push(Key::Type(&to.name));
                e.needs.extend(to.depends_on.iter().map(ref_key));
                e.held.extend(from.depends_on.iter().map(ref_key));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            DomainChange::Drop(_) => Rank::DropTypes,
            DomainChange::Create(_) | DomainChange::Alter { .. } => Rank::CreateTypes,
        }
    }

    fn disturbs(&self, objects: &mut IndexSet<ObjectRef>) {
        match self {
            DomainChange::Drop(d) => {
                objects.insert(ObjectRef::Type(d.name.clone()));
            }
            DomainChange::Create(_) | DomainChange::Alter { .. } => {}
        }
    }
}

/// Whether a domain must be dropped and created again: its base type or collation changed, which
/// `ALTER DOMAIN` cannot do.
pub(super) fn domain_replaced(have: &Domain, want: &Domain) -> bool {
    have.data_type != want.data_type || have.collation != want.collation
}

/// Returns the columns converted around a replaced domain (see [`fold_domain_conversions`]).
pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) -> IndexMap<ColumnRef, QualifiedName> {
    let mut converted = IndexMap::new();
    for (name, sides) in keyed(&current.domains, &desired.domains) {
        let (have, want) = match sides {
            Sides::Created(want) => (None, want),
            Sides::Both(have, want) => (Some(have), want),
            Sides::Dropped(have) => {
                out.push(Change::Domain(DomainChange::Drop(have.clone())));
                continue;
            }
        };
        match have {
            Some(have) if domain_replaced(have, want) => {
                // Columns that use it move to the new base type while it is replaced, and back after.
                for (table, column) in kept_columns_using(current, desired, name) {
                    let Some(wanted) = desired.tables.get(&table).and_then(|t| t.columns.get(&column.name)) else {
                        continue;
                    };
                    let mut on_base = column.clone();
                    on_base.data_type = want.data_type.as_str().into();
                    on_base.set_collation(want.collation.as_deref());
                    on_base.default = None;
                    on_base.retain_dependencies(|d| *d != ObjectRef::Type(name.clone()));
                    out.push(Change::Column(ColumnChange::Alter {
                        table: table.clone(),
                        from: column.clone(),
                        to: on_base.clone(),
                    }));
                    out.push(Change::Column(ColumnChange::Alter {
                        table: table.clone(),
                        from: on_base,
                        to: wanted.clone(),
                    }));
                    converted.insert(ColumnRef { table, column: column.name.clone() }, name.clone());
                }
                out.push(Change::Domain(DomainChange::Drop(have.clone())));
                out.push(Change::Domain(DomainChange::Create(want.clone())));
            }
            None => out.push(Change::Domain(DomainChange::Create(want.clone()))),
            Some(have) => {
                let (mut a, mut b) = (have.clone(), want.clone());
                a.comment = None;
                b.comment = None;
                if !same_domain(&a, &b) {
                    let used_by = tables_using(current, desired, name);
                    out.push(Change::Domain(DomainChange::Alter { from: have.clone(), to: want.clone(), used_by }));
                }
            }
        }
        let old_comment = have.filter(|h| !domain_replaced(h, want)).and_then(|h| h.comment.clone());
        if old_comment != want.comment {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
    converted
}

/// A column converted around a replaced domain already reaches its declared state through the new base
/// type; the table diff's own change of it (its default's cast changes with the domain) would hold the
/// old domain and need the new one at once.
pub(super) fn fold_domain_conversions(converted: &IndexMap<ColumnRef, QualifiedName>, out: &mut Vec<Change>) {
    if converted.is_empty() {
        return;
    }
    out.retain(|change| match change {
        Change::Column(ColumnChange::Alter { table, from, to }) => {
            let column = ColumnRef { table: table.clone(), column: from.name.clone() };
            let Some(domain) = converted.get(&column) else { return true };
            let uses = |c: &Column| c.depends_on.contains(&ObjectRef::Type(domain.clone()));
            !(uses(from) && uses(to))
        }
        _ => true,
    });
}

/// Compares domains including the order of their constraints (IndexMap equality ignores order).
fn same_domain(a: &Domain, b: &Domain) -> bool {
    a == b && a.constraints.keys().eq(b.constraints.keys())
}

/// The tables that keep a column of domain `name` (not an array of it): those PostgreSQL reads when the
/// domain gains NOT NULL or a validated constraint.
pub(super) fn tables_using(current: &Catalog, desired: &Catalog, name: &QualifiedName) -> Vec<QualifiedName> {
    let mut tables: Vec<QualifiedName> =
        super::columns::kept_columns_using(current, desired, name).into_iter().map(|(table, _)| table).collect();
    tables.dedup();
    tables
}
