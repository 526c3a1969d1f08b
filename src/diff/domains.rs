//! Domains: altered in place where PostgreSQL allows it, replaced otherwise (their columns converted).

use super::{
    Change, CommentTarget,
    columns::kept_columns_using,
    comment,
    keyed::{Sides, keyed},
};
use crate::model::*;
use indexmap::IndexMap;

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
                out.push(Change::DropDomain(have.clone()));
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
                    out.push(Change::AlterColumn { table: table.clone(), from: column.clone(), to: on_base.clone() });
                    out.push(Change::AlterColumn { table: table.clone(), from: on_base, to: wanted.clone() });
                    converted.insert(ColumnRef { table, column: column.name.clone() }, name.clone());
                }
                out.push(Change::DropDomain(have.clone()));
                out.push(Change::CreateDomain(want.clone()));
            }
            None => out.push(Change::CreateDomain(want.clone())),
            Some(have) => {
                let (mut a, mut b) = (have.clone(), want.clone());
                a.comment = None;
                b.comment = None;
                if !same_domain(&a, &b) {
                    out.push(Change::AlterDomain { from: have.clone(), to: want.clone() });
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
        Change::AlterColumn { table, from, to } => {
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
