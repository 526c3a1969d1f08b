//! Comments: set or removed on any object that has one. The differs of the kinds write their objects'
//! comments ([`comment`]); a comment's change is [`CommentChange`].

use super::order::{Effects, Key, Rank};
use super::{Change, KindChange, view_word};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// The object a comment is on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CommentTarget {
    Schema(String),
    Extension(String),
    Type(QualifiedName),
    Sequence(QualifiedName),
    Table(QualifiedName),
    Column(ColumnRef),
    Constraint { table: QualifiedName, name: Name },
    Index(QualifiedName),
    View { name: QualifiedName, materialized: bool },
    Function(FunctionId),
    Trigger { table: QualifiedName, name: String },
    Policy { table: QualifiedName, name: String },
}

/// A comment set (`Some`) or removed (`None`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CommentChange {
    #[serde(rename = "SetComment")]
    Set { target: CommentTarget, comment: Option<String> },
}

impl KindChange for CommentChange {
    fn describe(&self) -> String {
        match self {
            CommentChange::Set { target, comment } => {
                let verb = if comment.is_some() { "set" } else { "remove" };
                format!("{verb} comment on {}", describe_target(target))
            }
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            CommentChange::Set { target, .. } => {
                use CommentTarget as T;
                e.needs.push(match target {
                    T::Schema(s) => Key::Schema(s),
                    T::Extension(x) => Key::Extension(x),
                    T::Type(n) => Key::Type(n),
                    T::Sequence(n) => Key::Sequence(n),
                    T::Table(n) | T::View { name: n, .. } => Key::Relation(n),
                    T::Column(c) => Key::Column(&c.table, &c.column),
                    T::Constraint { table, name } => Key::Constraint(table, name),
                    T::Index(n) => Key::Index(n),
                    T::Function(id) => Key::Function(id),
                    T::Trigger { table, name } => Key::Trigger(table, name),
                    T::Policy { table, name } => Key::Policy(table, name),
                });
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            CommentChange::Set { .. } => Rank::CommentsAndGrants,
        }
    }

    /// Nothing: a comment is not something another object depends on.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

/// The change that sets an object's comment to `text`.
pub(super) fn comment(target: CommentTarget, text: &Option<String>) -> Change {
    Change::Comment(CommentChange::Set { target, comment: text.clone() })
}

fn describe_target(target: &CommentTarget) -> String {
    match target {
        CommentTarget::Schema(s) => format!("schema {s}"),
        CommentTarget::Extension(x) => format!("extension {x}"),
        CommentTarget::Type(n) => format!("type {n}"),
        CommentTarget::Sequence(n) => format!("sequence {n}"),
        CommentTarget::Table(n) => format!("table {n}"),
        CommentTarget::Column(c) => format!("column {}.{}", c.table, c.column),
        CommentTarget::Constraint { table, name } => format!("constraint {name} on {table}"),
        CommentTarget::Index(n) => format!("index {n}"),
        CommentTarget::View { name, materialized } => {
            format!("{} {name}", view_word(*materialized))
        }
        CommentTarget::Function(id) => format!("function {id}"),
        CommentTarget::Trigger { table, name } => format!("trigger {name} on {table}"),
        CommentTarget::Policy { table, name } => format!("policy {name} on {table}"),
    }
}
