//! Collations: created and dropped (a changed one is dropped and created again).

use super::order::{Effects, Key, Rank};
use super::{
    Change, KindChange,
    keyed::{Sides, keyed},
};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A collation created or dropped (a changed one is dropped and created again).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CollationChange {
    #[serde(rename = "CreateCollation")]
    Create(Collation),
    #[serde(rename = "DropCollation")]
    Drop(Collation),
}

impl KindChange for CollationChange {
    fn describe(&self) -> String {
        match self {
            CollationChange::Create(c) => format!("create collation {}", c.name),
            CollationChange::Drop(c) => format!("drop collation {}", c.name),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            CollationChange::Create(c) => {
                e.provides.push(Key::Collation(&c.name));
                e.needs.push(Key::Schema(&c.name.schema));
            }
            CollationChange::Drop(c) => {
                e.removes.push(Key::Collation(&c.name));
                e.held.push(Key::Schema(&c.name.schema));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            CollationChange::Drop(_) => Rank::DropExtensionsAndCollations,
            CollationChange::Create(_) => Rank::CreateExtensionsAndCollations,
        }
    }

    /// Nothing: a column changing its collation is an `AlterColumn`, which disturbs its readers itself.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (_, sides) in keyed(&current.collations, &desired.collations) {
        match sides {
            Sides::Created(want) => out.push(Change::Collation(CollationChange::Create(want.clone()))),
            Sides::Both(have, want) if have != want => {
                out.push(Change::Collation(CollationChange::Drop(have.clone())));
                out.push(Change::Collation(CollationChange::Create(want.clone())));
            }
            Sides::Both(..) => {}
            Sides::Dropped(have) => out.push(Change::Collation(CollationChange::Drop(have.clone()))),
        }
    }
}
