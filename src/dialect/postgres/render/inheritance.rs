//! Inheritance children: `INHERIT` (the parent's checks added first) and `NO INHERIT` (the inherited
//! checks the child does not keep dropped after).

use super::constraints::add_constraint;
use super::locking;
use super::{ident, qualified};
use crate::diff::InheritanceChange;
use crate::model::*;
use crate::plan::Statement;

pub(super) fn render(change: &InheritanceChange) -> Vec<Statement> {
    match change {
        InheritanceChange::Inherit { table, parent, checks } => locking(inherit(table, parent, checks)),
        InheritanceChange::NoInherit { table, parent, checks } => locking(no_inherit(table, parent, checks)),
    }
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
