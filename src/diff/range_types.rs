//! Range types: created and dropped (a changed one is replaced).

use super::{
    Change, CommentTarget, comment,
    keyed::{Sides, keyed},
};
use crate::model::*;

pub(super) fn range_replaced(have: &RangeType, want: &RangeType) -> bool {
    let mut a = have.clone();
    a.comment = want.comment.clone();
    &a != want
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.range_types, &desired.range_types) {
        let (old_comment, want) = match sides {
            Sides::Created(want) => {
                out.push(Change::CreateRangeType(want.clone()));
                (None, want)
            }
            Sides::Both(have, want) if range_replaced(have, want) => {
                out.push(Change::DropRangeType(have.clone()));
                out.push(Change::CreateRangeType(want.clone()));
                (None, want)
            }
            Sides::Both(have, want) => (have.comment.clone(), want),
            Sides::Dropped(have) => {
                out.push(Change::DropRangeType(have.clone()));
                continue;
            }
        };
        if old_comment != want.comment {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
}
