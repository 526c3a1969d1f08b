//! Partitions: `ATTACH PARTITION` (the parent's checks added to the table first) and `DETACH PARTITION`.

use super::constraints::add_constraint;
use super::locking;
use super::qualified;
use crate::diff::PartitionChange;
use crate::model::*;
use crate::plan::Statement;

pub(super) fn render(change: &PartitionChange) -> Vec<Statement> {
    match change {
        PartitionChange::Attach { table, parent, bound, checks } => locking(attach(table, parent, bound, checks)),
        PartitionChange::Detach { table, parent, .. } => locking(detach(table, parent)),
    }
}

pub(super) fn attach(table: &QualifiedName, parent: &QualifiedName, bound: &str, checks: &[Constraint]) -> Vec<String> {
    let mut sql: Vec<String> = checks.iter().map(|c| add_constraint(table, c)).collect();
    sql.push(format!("ALTER TABLE {} ATTACH PARTITION {} {bound};", qualified(parent), qualified(table)));
    sql
}

pub(super) fn detach(table: &QualifiedName, parent: &QualifiedName) -> Vec<String> {
    vec![format!("ALTER TABLE {} DETACH PARTITION {};", qualified(parent), qualified(table))]
}
