//! Table constraints: added, dropped, validated and renamed. Their definitions are PostgreSQL's own
//! (`pg_get_constraintdef`), `NOT VALID` included.

use super::locking;
use super::{ident, qualified};
use crate::diff::ConstraintChange;
use crate::model::*;
use crate::plan::Statement;

pub(super) fn render(change: &ConstraintChange) -> Vec<Statement> {
    match change {
        ConstraintChange::Add { table, constraint } => locking(add(table, constraint)),
        ConstraintChange::Drop { table, constraint } => locking(drop(table, constraint)),
        ConstraintChange::Validate { table, constraint } => validate(table, constraint),
        ConstraintChange::Rename { table, from, to } => locking(rename(table, from, to)),
    }
}

pub(super) fn add_constraint(table: &QualifiedName, constraint: &Constraint) -> String {
    format!("ALTER TABLE {} ADD CONSTRAINT {} {};", qualified(table), ident(&constraint.name), constraint.definition)
}

pub(super) fn add(table: &QualifiedName, constraint: &Constraint) -> Vec<String> {
    vec![add_constraint(table, constraint)]
}

pub(super) fn drop(table: &QualifiedName, constraint: &Constraint) -> Vec<String> {
    vec![format!("ALTER TABLE {} DROP CONSTRAINT {};", qualified(table), ident(&constraint.name))]
}

/// Reads every row, under a lock that lets reads and writes go on: long running, not blocking.
pub(super) fn validate(table: &QualifiedName, constraint: &Constraint) -> Vec<Statement> {
    let sql = format!("ALTER TABLE {} VALIDATE CONSTRAINT {};", qualified(table), ident(&constraint.name));
    vec![Statement::long_running(sql)]
}

pub(super) fn rename(table: &QualifiedName, from: &str, to: &str) -> Vec<String> {
    vec![format!("ALTER TABLE {} RENAME CONSTRAINT {} TO {};", qualified(table), ident(from), ident(to))]
}
