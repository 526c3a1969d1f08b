//! Constraints added to an existing table: a validated CHECK or foreign key reads every row under its lock
//! (NOT VALID, then VALIDATE, does not block), and a key builds its index while reads and writes wait.

use super::ACCESS_EXCLUSIVE;
use crate::diff::ConstraintChange;
use crate::model::{Constraint, ConstraintKind, QualifiedName};
use crate::safety::{Context, Hazard, HazardId, Severity};

/// PostgreSQL's hazards of one constraint change. A drop or a rename takes its lock briefly; a
/// validation is the online form's second half, which blocks no writes.
pub(super) fn hazards(change: &ConstraintChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        ConstraintChange::Add { table, constraint } => add(table, constraint, ctx, out),
        ConstraintChange::Drop { .. } | ConstraintChange::Validate { .. } | ConstraintChange::Rename { .. } => {}
    }
}

pub(super) fn add(table: &QualifiedName, constraint: &Constraint, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(table) {
        return;
    }
    match constraint.kind {
        ConstraintKind::Check if constraint.validated => out.push(
            Hazard::new(
                HazardId::AccessExclusiveScan,
                Severity::High,
                format!(
                    "adds CHECK constraint {} and validates it by reading every row under a lock that blocks reads and writes",
                    constraint.name
                ),
                "Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a separate step",
            )
            .lock(ACCESS_EXCLUSIVE, table)
            .scans(),
        ),
        ConstraintKind::ForeignKey if constraint.validated => {
            let target = constraint.references.as_ref().map(|r| format!(" and {}", r.table)).unwrap_or_default();
            let mut hazard = Hazard::new(
                HazardId::AccessExclusiveScan,
                Severity::High,
                format!(
                    "adds FOREIGN KEY {} and validates it by reading every row while writes to {table}{target} are blocked",
                    constraint.name
                ),
                "Add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a separate step",
            )
            .lock("SHARE ROW EXCLUSIVE", table)
            .scans();
            if let Some(lock) = &mut hazard.lock {
                lock.push_str(&target);
            }
            out.push(hazard);
        }
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion => out.push(
            Hazard::new(
                HazardId::BlockingIndexBuild,
                Severity::High,
                format!("adds constraint {} and builds its index while reads and writes are blocked", constraint.name),
                "Build a unique index CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX",
            )
            .lock(ACCESS_EXCLUSIVE, table)
            .scans(),
        ),
        _ => {}
    }
}
