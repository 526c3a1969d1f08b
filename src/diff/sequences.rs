//! Sequences: created, altered, dropped (not those that go with a dropped owning column).

use super::{
    Change, CommentTarget, comment,
    keyed::{Sides, keyed},
};
use crate::model::*;
use indexmap::IndexSet;

pub(super) fn diff(current: &Catalog, desired: &Catalog, gone: &IndexSet<ColumnRef>, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.sequences, &desired.sequences) {
        let (have, want) = match sides {
            Sides::Both(have, want) => (have, want),
            // A sequence owned by a column that is dropped goes away with it.
            Sides::Dropped(have) if have.owned_by.as_ref().is_some_and(|owner| gone.contains(owner)) => continue,
            Sides::Dropped(have) => {
                out.push(Change::DropSequence(have.clone()));
                continue;
            }
            Sides::Created(want) => {
                let mut created = want.clone();
                created.owned_by = None;
                out.push(Change::CreateSequence(created));
                if want.owned_by.is_some() {
                    out.push(Change::SetSequenceOwner {
                        sequence: name.clone(),
                        from: None,
                        to: want.owned_by.clone(),
                    });
                }
                if want.comment.is_some() {
                    out.push(comment(CommentTarget::Sequence(name.clone()), &want.comment));
                }
                continue;
            }
        };
        if !have.same_options(want) {
            out.push(Change::AlterSequence { from: have.clone(), to: want.clone() });
        }
        if have.owned_by != want.owned_by {
            out.push(Change::SetSequenceOwner {
                sequence: name.clone(),
                from: have.owned_by.clone(),
                to: want.owned_by.clone(),
            });
        }
        if have.comment != want.comment {
            out.push(comment(CommentTarget::Sequence(name.clone()), &want.comment));
        }
    }
}
