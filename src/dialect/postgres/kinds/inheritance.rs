//! Inheritance children: the SQL that changes them, and the hazards of that SQL. Nothing is read here: a
//! child's parents are read with the tables (`inherits`).
//!
//! Render: `INHERIT` (the parent's checks added first) and `NO INHERIT` (the inherited checks the child does
//! not keep dropped after).
//!
//! Hazards: INHERIT validates the parent's checks on the child; NO INHERIT reads nothing.

use super::constraints;
use crate::dialect::postgres::locks::{ACCESS_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE};
use crate::dialect::postgres::render::{ident, qualified, taking};
use crate::diff::InheritanceChange;
use crate::model::*;
use crate::plan::Statement;
use crate::safety::{self, Context, Hazard};

// ------------------------------------------------------------------------------------------------
// Render.

pub(crate) fn render(change: &InheritanceChange) -> Vec<Statement> {
    match change {
        InheritanceChange::Inherit { table, parent, checks } => inherit(table, parent, checks),
        InheritanceChange::NoInherit { table, parent, checks } => {
            taking(no_inherit(table, parent, checks), ACCESS_EXCLUSIVE, table)
        }
    }
}

/// The parent's checks added to the child, then `INHERIT`: ACCESS EXCLUSIVE on the child, SHARE UPDATE
/// EXCLUSIVE on the parent.
pub(super) fn inherit(table: &QualifiedName, parent: &QualifiedName, checks: &[Constraint]) -> Vec<Statement> {
    let mut sql: Vec<Statement> = checks.iter().map(|c| constraints::add(table, c)).collect();
    let inherit = format!("ALTER TABLE {} INHERIT {};", qualified(table), qualified(parent));
    sql.push(Statement::locking(inherit).taking(ACCESS_EXCLUSIVE, table).taking(SHARE_UPDATE_EXCLUSIVE, parent));
    sql
}

/// `NO INHERIT` and the dropped checks: ACCESS EXCLUSIVE on the child (the parent is only read).
pub(super) fn no_inherit(table: &QualifiedName, parent: &QualifiedName, checks: &[Name]) -> Vec<String> {
    let mut sql = vec![format!("ALTER TABLE {} NO INHERIT {};", qualified(table), qualified(parent))];
    sql.extend(checks.iter().map(|c| format!("ALTER TABLE {} DROP CONSTRAINT {};", qualified(table), ident(c))));
    sql
}

// ------------------------------------------------------------------------------------------------
// Hazards.

/// PostgreSQL's hazards of a table that starts or stops inheriting.
pub(crate) fn hazards(change: &InheritanceChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        InheritanceChange::Inherit { table, parent, checks } => inherit_hazards(table, parent, checks, ctx, out),
        InheritanceChange::NoInherit { .. } => {}
    }
}

/// INHERIT reads no row, but takes ACCESS EXCLUSIVE on the child (SHARE UPDATE EXCLUSIVE on the parent);
/// the parent's CHECK constraints that the child lacks are added first, each validated by reading every
/// row of the child under that lock.
fn inherit_hazards(
    table: &QualifiedName,
    parent: &QualifiedName,
    checks: &[Constraint],
    ctx: &Context,
    out: &mut Vec<Hazard>,
) {
    if !ctx.existing(table) {
        return;
    }
    let checks: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    out.push(safety::inherit_parent(table, parent, &checks));
}
