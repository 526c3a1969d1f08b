//! Composite types: attributes added, dropped and retyped in place, or the type replaced.

use super::order::{Effects, Key, Rank, ref_key, relation_name};
use super::{
    Change, CommentTarget, KindChange, comment,
    keyed::{Sides, keyed},
};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A composite type created, dropped or altered in place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CompositeTypeChange {
    #[serde(rename = "CreateCompositeType")]
    Create(CompositeType),
    #[serde(rename = "DropCompositeType")]
    Drop(CompositeType),
    /// Attributes added, dropped or retyped.
    #[serde(rename = "AlterCompositeType")]
    Alter { from: CompositeType, to: CompositeType },
}

impl KindChange for CompositeTypeChange {
    fn describe(&self) -> String {
        match self {
            CompositeTypeChange::Create(t) => format!("create type {}", t.name),
            CompositeTypeChange::Drop(t) => format!("drop type {}", t.name),
            CompositeTypeChange::Alter { to, .. } => format!("alter type {} (attributes)", to.name),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            CompositeTypeChange::Create(t) => {
                // A composite type is a relation too (relkind `c`): its name is taken among tables and indexes.
                e.provides.push(Key::Type(&t.name));
                e.provides.push(relation_name(&t.name));
                e.needs.push(Key::Schema(&t.name.schema));
                e.needs.extend(t.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
            }
            CompositeTypeChange::Drop(t) => {
                e.removes.push(Key::Type(&t.name));
                e.removes.push(relation_name(&t.name));
                e.held.push(Key::Schema(&t.name.schema));
                e.held.extend(t.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
            }
            CompositeTypeChange::Alter { from, to } => {
                e.provides.push(Key::Type(&to.name));
                e.needs.extend(to.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
                e.held.extend(from.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            CompositeTypeChange::Drop(_) => Rank::DropTypes,
            CompositeTypeChange::Create(_) | CompositeTypeChange::Alter { .. } => Rank::CreateTypes,
        }
    }

    fn disturbs(&self, objects: &mut IndexSet<ObjectRef>) {
        match self {
            CompositeTypeChange::Drop(t) => {
                objects.insert(ObjectRef::Type(t.name.clone()));
            }
            CompositeTypeChange::Create(_) | CompositeTypeChange::Alter { .. } => {}
        }
    }
}

/// The attribute order `ALTER TYPE` can reach from `have`: kept attributes in place, new ones at the end.
fn reachable_order<'a>(have: &'a CompositeType, want: &'a CompositeType) -> Vec<&'a String> {
    let mut order: Vec<&String> = have.attributes.keys().filter(|n| want.attributes.contains_key(*n)).collect();
    order.extend(want.attributes.keys().filter(|n| !have.attributes.contains_key(*n)));
    order
}

pub(super) fn composite_replaced(have: &CompositeType, want: &CompositeType) -> bool {
    !reachable_order(have, want).into_iter().eq(want.attributes.keys())
        || have.attributes.values().any(|a| {
            want.attributes.get(&a.name).is_some_and(|b| a.collation != b.collation && a.data_type == b.data_type)
        })
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.composite_types, &desired.composite_types) {
        let (old_comment, want) = match sides {
            Sides::Created(want) => {
                out.push(Change::CompositeType(CompositeTypeChange::Create(want.clone())));
                (None, want)
            }
            Sides::Both(have, want) if composite_replaced(have, want) => {
                out.push(Change::CompositeType(CompositeTypeChange::Drop(have.clone())));
                out.push(Change::CompositeType(CompositeTypeChange::Create(want.clone())));
                (None, want)
            }
            Sides::Both(have, want) => {
                if have.attributes != want.attributes {
                    out.push(Change::CompositeType(CompositeTypeChange::Alter {
                        from: have.clone(),
                        to: want.clone(),
                    }));
                }
                (have.comment.clone(), want)
            }
            Sides::Dropped(have) => {
                out.push(Change::CompositeType(CompositeTypeChange::Drop(have.clone())));
                continue;
            }
        };
        if old_comment != want.comment {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
}
