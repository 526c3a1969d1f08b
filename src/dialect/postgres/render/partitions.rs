//! Partitions and inheritance children: `ATTACH PARTITION` (the parent's checks added to the table first)
//! and `DETACH PARTITION`, `INHERIT` (the parent's checks added first) and `NO INHERIT` (the inherited
//! checks the child does not keep dropped after).

use super::constraints::add_constraint;
use super::{ident, qualified};
use crate::model::*;

pub(super) fn attach(table: &QualifiedName, parent: &QualifiedName, bound: &str, checks: &[Constraint]) -> Vec<String> {
    let mut sql: Vec<String> = checks.iter().map(|c| add_constraint(table, c)).collect();
    sql.push(format!("ALTER TABLE {} ATTACH PARTITION {} {bound};", qualified(parent), qualified(table)));
    sql
}

pub(super) fn detach(table: &QualifiedName, parent: &QualifiedName) -> Vec<String> {
    vec![format!("ALTER TABLE {} DETACH PARTITION {};", qualified(parent), qualified(table))]
}

pub(super) fn inherit(table: &QualifiedName, parent: &QualifiedName, checks: &[Constraint]) -> Vec<String> {
    let mut sql: Vec<String> = checks.iter().map(|c| add_constraint(table, c)).collect();
    sql.push(format!("ALTER TABLE {} INHERIT {};", qualified(table), qualified(parent)));
    sql
}

pub(super) fn no_inherit(table: &QualifiedName, parent: &QualifiedName, checks: &[Name]) -> Vec<String> {
    let mut sql = vec![format!("ALTER TABLE {} NO INHERIT {};", qualified(table), qualified(parent))];
    sql.extend(checks.iter().map(|c| format!("ALTER TABLE {} DROP CONSTRAINT {};", qualified(table), ident(c))));
    sql
}
