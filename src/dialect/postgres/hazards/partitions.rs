//! Partitions and inheritance children: attaching a partition scans it under an exclusive lock to check
//! its bound, detaching one for good takes its rows out of the partitioned table, and INHERIT validates
//! the parent's checks on the child.

use crate::model::{Constraint, QualifiedName};
use crate::safety::{self, Context, Hazard, HazardId, Severity};

pub(super) fn attach(table: &QualifiedName, parent: &QualifiedName, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(table) {
        return;
    }
    out.push(
        Hazard::new(
            HazardId::AccessExclusiveScan,
            Severity::High,
            format!("attaches {table} to {parent} and reads every row of it to check the bound while it is locked"),
            "Add a CHECK constraint matching the bound (NOT VALID, then VALIDATE) before attaching, so the scan is skipped",
        )
        .lock("ACCESS EXCLUSIVE", table)
        .scans(),
    );
}

/// Detached for good (not attached again with a new bound): queries of the parent stop seeing its rows,
/// and the down migration's attach has to scan them.
pub(super) fn detach(table: &QualifiedName, parent: &QualifiedName, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(table) || ctx.attached_partitions.contains(table) || ctx.rebuilt(table) {
        return;
    }
    out.push(
        Hazard::new(
            HazardId::DataLossPartition,
            Severity::High,
            format!("detaches {table} from {parent}; its rows are no longer part of {parent}"),
            "Check that nothing reads these rows through the partitioned table any more",
        )
        .lock("ACCESS EXCLUSIVE", parent),
    );
}

/// INHERIT reads no row, but takes ACCESS EXCLUSIVE on the child (SHARE UPDATE EXCLUSIVE on the parent);
/// the parent's CHECK constraints that the child lacks are added first, each validated by reading every
/// row of the child under that lock.
pub(super) fn inherit(
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
