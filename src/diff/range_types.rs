//! Range types: created and dropped (a changed one is replaced).

use super::{Change, CommentTarget, comment};
use crate::model::*;

pub(super) fn range_replaced(have: &RangeType, want: &RangeType) -> bool {
    let mut a = have.clone();
    a.comment = want.comment.clone();
    &a != want
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, want) in &desired.range_types {
        let have = current.range_types.get(name);
        let replaced = have.is_some_and(|h| range_replaced(h, want));
        match have {
            None => out.push(Change::CreateRangeType(want.clone())),
            Some(have) if replaced => {
                out.push(Change::DropRangeType(have.clone()));
                out.push(Change::CreateRangeType(want.clone()));
            }
            Some(_) => {}
        }
        let old_comment = have.filter(|_| !replaced).and_then(|h| h.comment.clone());
        if old_comment != want.comment {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
    for (name, have) in &current.range_types {
        if !desired.range_types.contains_key(name) {
            out.push(Change::DropRangeType(have.clone()));
        }
    }
}
