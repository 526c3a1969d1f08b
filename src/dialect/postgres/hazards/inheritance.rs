//! Inheritance children: INHERIT validates the parent's checks on the child; NO INHERIT reads nothing.

use crate::diff::InheritanceChange;
use crate::model::{Constraint, QualifiedName};
use crate::safety::{self, Context, Hazard};

/// PostgreSQL's hazards of a table that starts or stops inheriting.
pub(super) fn hazards(change: &InheritanceChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        InheritanceChange::Inherit { table, parent, checks } => inherit(table, parent, checks, ctx, out),
        InheritanceChange::NoInherit { .. } => {}
    }
}

/// INHERIT reads no row, but takes ACCESS EXCLUSIVE on the child (SHARE UPDATE EXCLUSIVE on the parent);
/// the parent's CHECK constraints that the child lacks are added first, each validated by reading every
/// row of the child under that lock.
fn inherit(table: &QualifiedName, parent: &QualifiedName, checks: &[Constraint], ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(table) {
        return;
    }
    let checks: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    out.push(safety::inherit_parent(table, parent, &checks));
}
