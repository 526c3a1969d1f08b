//! Sequences: created, altered, dropped (not those that go with a dropped owning column).

use super::order::{Effects, Key, Rank, relation_name};
use super::{
    Change, CommentTarget, KindChange, comment,
    keyed::{Sides, keyed},
};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A sequence created, dropped, altered, renamed, or given another owning column. Unboxed like the rest
/// of [`Change`].
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SequenceChange {
    #[serde(rename = "CreateSequence")]
    Create(Sequence),
    #[serde(rename = "DropSequence")]
    Drop(Sequence),
    #[serde(rename = "AlterSequence")]
    Alter { from: Sequence, to: Sequence },
    #[serde(rename = "SetSequenceOwner")]
    SetOwner { sequence: QualifiedName, from: Option<ColumnRef>, to: Option<ColumnRef> },
    /// A sequence whose column was renamed with its table: a serial column's `tickets_id_seq` declared as
    /// `issues_id_seq`. Renamed, it keeps its current value.
    #[serde(rename = "RenameSequence")]
    Rename {
        from: QualifiedName,
        /// In the same schema.
        to: QualifiedName,
    },
}

impl KindChange for SequenceChange {
    fn describe(&self) -> String {
        match self {
            SequenceChange::Create(s) => format!("create sequence {}", s.name),
            SequenceChange::Drop(s) => format!("drop sequence {}", s.name),
            SequenceChange::Alter { to, .. } => format!("alter sequence {}", to.name),
            SequenceChange::SetOwner { sequence, .. } => format!("set owner of sequence {sequence}"),
            SequenceChange::Rename { from, to } => format!("rename sequence {from} to {}", to.name),
        }
    }

    fn slug(&self) -> String {
        match self {
            SequenceChange::Rename { to, .. } => format!("rename_{}", to.name),
            SequenceChange::Create(_)
            | SequenceChange::Drop(_)
            | SequenceChange::Alter { .. }
            | SequenceChange::SetOwner { .. } => self.describe().replace(' ', "_"),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            SequenceChange::Create(s) => {
                e.provides.push(Key::Sequence(&s.name));
                e.provides.push(relation_name(&s.name));
                e.needs.push(Key::Schema(&s.name.schema));
            }
            SequenceChange::Drop(s) => {
                e.removes.push(Key::Sequence(&s.name));
                e.removes.push(relation_name(&s.name));
                e.held.push(Key::Schema(&s.name.schema));
            }
            SequenceChange::Alter { to, .. } => e.provides.push(Key::Sequence(&to.name)),
            SequenceChange::SetOwner { sequence, from, to } => {
                e.needs.push(Key::Sequence(sequence));
                if let Some(owner) = to {
                    e.needs.push(Key::Relation(&owner.table));
                    e.needs.push(Key::Column(&owner.table, &owner.column));
                }
                if let Some(owner) = from {
                    e.held.push(Key::Column(&owner.table, &owner.column));
                }
            }
            SequenceChange::Rename { from, to } => {
                e.removes.push(Key::Sequence(from));
                e.removes.push(relation_name(from));
                e.provides.push(Key::Sequence(to));
                e.provides.push(relation_name(to));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            SequenceChange::SetOwner { .. } => Rank::ReleaseSequences,
            SequenceChange::Drop(_) => Rank::DropSequencesAndRoutines,
            SequenceChange::Create(_) | SequenceChange::Alter { .. } => Rank::CreateSequences,
            SequenceChange::Rename { .. } => Rank::RenameMembers,
        }
    }

    fn disturbs(&self, objects: &mut IndexSet<ObjectRef>) {
        match self {
            SequenceChange::Drop(s) => {
                objects.insert(ObjectRef::Sequence(s.name.clone()));
            }
            SequenceChange::Create(_)
            | SequenceChange::Alter { .. }
            | SequenceChange::SetOwner { .. }
            | SequenceChange::Rename { .. } => {}
        }
    }
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, gone: &IndexSet<ColumnRef>, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.sequences, &desired.sequences) {
        let (have, want) = match sides {
            Sides::Both(have, want) => (have, want),
            // A sequence owned by a column that is dropped goes away with it.
            Sides::Dropped(have) if have.owned_by.as_ref().is_some_and(|owner| gone.contains(owner)) => continue,
            Sides::Dropped(have) => {
                out.push(Change::Sequence(SequenceChange::Drop(have.clone())));
                continue;
            }
            Sides::Created(want) => {
                let mut created = want.clone();
                created.owned_by = None;
                out.push(Change::Sequence(SequenceChange::Create(created)));
                if want.owned_by.is_some() {
                    out.push(Change::Sequence(SequenceChange::SetOwner {
                        sequence: name.clone(),
                        from: None,
                        to: want.owned_by.clone(),
                    }));
                }
                if want.comment.is_some() {
                    out.push(comment(CommentTarget::Sequence(name.clone()), &want.comment));
                }
                continue;
            }
        };
        if !have.same_options(want) {
            out.push(Change::Sequence(SequenceChange::Alter { from: have.clone(), to: want.clone() }));
        }
        if have.owned_by != want.owned_by {
            out.push(Change::Sequence(SequenceChange::SetOwner {
                sequence: name.clone(),
                from: have.owned_by.clone(),
                to: want.owned_by.clone(),
            }));
        }
        if have.comment != want.comment {
            out.push(comment(CommentTarget::Sequence(name.clone()), &want.comment));
        }
    }
}
