//! Range types: created and dropped (a changed one is replaced).

use super::order::{Effects, Key, Rank, ref_key};
use super::{
    Change, CommentTarget, KindChange, comment,
    keyed::{Sides, keyed},
};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A range type created or dropped (a changed one is dropped and created again).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum RangeTypeChange {
    #[serde(rename = "CreateRangeType")]
    Create(RangeType),
    #[serde(rename = "DropRangeType")]
    Drop(RangeType),
}

impl KindChange for RangeTypeChange {
    fn describe(&self) -> String {
        match self {
            RangeTypeChange::Create(t) => format!("create range type {}", t.name),
            RangeTypeChange::Drop(t) => format!("drop range type {}", t.name),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            RangeTypeChange::Create(t) => {
                e.provides.push(Key::Type(&t.name));
                e.needs.push(Key::Schema(&t.name.schema));
                e.needs.extend(t.depends_on.iter().map(ref_key));
            }
            RangeTypeChange::Drop(t) => {
                e.removes.push(Key::Type(&t.name));
                e.held.push(Key::Schema(&t.name.schema));
                e.held.extend(t.depends_on.iter().map(ref_key));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            RangeTypeChange::Drop(_) => Rank::DropTypes,
            RangeTypeChange::Create(_) => Rank::CreateTypes,
        }
    }

    fn disturbs(&self, objects: &mut IndexSet<ObjectRef>) {
        match self {
            RangeTypeChange::Drop(t) => {
                objects.insert(ObjectRef::Type(t.name.clone()));
            }
            RangeTypeChange::Create(_) => {}
        }
    }
}

pub(super) fn range_replaced(have: &RangeType, want: &RangeType) -> bool {
    let mut a = have.clone();
    a.comment = want.comment.clone();
    &a != want
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.range_types, &desired.range_types) {
        let (old_comment, want) = match sides {
            Sides::Created(want) => {
                out.push(Change::RangeType(RangeTypeChange::Create(want.clone())));
                (None, want)
            }
            Sides::Both(have, want) if range_replaced(have, want) => {
                out.push(Change::RangeType(RangeTypeChange::Drop(have.clone())));
                out.push(Change::RangeType(RangeTypeChange::Create(want.clone())));
                (None, want)
            }
            Sides::Both(have, want) => (have.comment.clone(), want),
            Sides::Dropped(have) => {
                out.push(Change::RangeType(RangeTypeChange::Drop(have.clone())));
                continue;
            }
        };
        if old_comment != want.comment {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
}
