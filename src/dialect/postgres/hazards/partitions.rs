//! Partitions: attaching a partition scans it under an exclusive lock to check its bound, and detaching
//! one for good takes its rows out of the partitioned table.

use crate::diff::PartitionChange;
use crate::model::QualifiedName;
use crate::safety::{Context, Hazard, HazardId, Severity};

/// PostgreSQL's hazards of attaching or detaching a partition.
pub(super) fn hazards(change: &PartitionChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        PartitionChange::Attach { table, parent, .. } => attach(table, parent, ctx, out),
        PartitionChange::Detach { table, parent, .. } => detach(table, parent, ctx, out),
    }
}

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
