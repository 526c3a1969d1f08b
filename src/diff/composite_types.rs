//! Composite types: attributes added, dropped and retyped in place, or the type replaced.

use super::{
    Change, CommentTarget, comment,
    keyed::{Sides, keyed},
};
use crate::model::*;

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
                out.push(Change::CreateCompositeType(want.clone()));
                (None, want)
            }
            Sides::Both(have, want) if composite_replaced(have, want) => {
                out.push(Change::DropCompositeType(have.clone()));
                out.push(Change::CreateCompositeType(want.clone()));
                (None, want)
            }
            Sides::Both(have, want) => {
                if have.attributes != want.attributes {
                    out.push(Change::AlterCompositeType { from: have.clone(), to: want.clone() });
                }
                (have.comment.clone(), want)
            }
            Sides::Dropped(have) => {
                out.push(Change::DropCompositeType(have.clone()));
                continue;
            }
        };
        if old_comment != want.comment {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
}
