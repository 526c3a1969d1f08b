//! Schemas: created, dropped (unless they hold objects the tool does not manage) and commented.

use super::order::{Effects, Key, Rank};
use super::{
    Change, CommentTarget, KindChange, comment,
    keyed::{Sides, keyed},
};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A schema created or dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SchemaChange {
    #[serde(rename = "CreateSchema")]
    Create(Namespace),
    #[serde(rename = "DropSchema")]
    Drop(Namespace),
}

impl KindChange for SchemaChange {
    fn describe(&self) -> String {
        match self {
            SchemaChange::Create(s) => format!("create schema {}", s.name),
            SchemaChange::Drop(s) => format!("drop schema {}", s.name),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            SchemaChange::Create(s) => e.provides.push(Key::Schema(&s.name)),
            SchemaChange::Drop(s) => e.removes.push(Key::Schema(&s.name)),
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            SchemaChange::Drop(_) => Rank::DropSchemas,
            SchemaChange::Create(_) => Rank::CreateSchemas,
        }
    }

    /// Nothing: a schema is dropped only once everything in it is, by changes of their own.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.schemas, &desired.schemas) {
        match sides {
            Sides::Created(schema) => {
                out.push(Change::Schema(SchemaChange::Create(schema.clone())));
                if schema.comment.is_some() {
                    out.push(comment(CommentTarget::Schema(name.clone()), &schema.comment));
                }
            }
            Sides::Both(have, want) if have.comment != want.comment => {
                out.push(comment(CommentTarget::Schema(name.clone()), &want.comment));
            }
            Sides::Both(..) => {}
            // A schema that holds objects the tool does not manage is left in place with them.
            Sides::Dropped(_) if current.unmanaged.iter().any(|o| &o.schema == name) => {}
            Sides::Dropped(have) => out.push(Change::Schema(SchemaChange::Drop(have.clone()))),
        }
    }
}
