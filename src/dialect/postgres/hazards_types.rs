//! Hazards of partition and table-option changes on existing tables: attaching a partition scans it
//! under an exclusive lock to check its bound, detaching one for good takes its rows out of the
//! partitioned table, and switching between LOGGED and UNLOGGED rewrites it.

use crate::diff::Change;
use crate::safety::{Context, Hazard, HazardId, Severity};

pub(super) fn hazards(change: &Change, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        Change::AttachPartition { table, parent, .. } if ctx.existing(table) => out.push(
            Hazard::new(
                HazardId::AccessExclusiveScan,
                Severity::High,
                format!("attaches {table} to {parent} and reads every row of it to check the bound while it is locked"),
                "Add a CHECK constraint matching the bound (NOT VALID, then VALIDATE) before attaching, so the scan is skipped",
            )
            .lock("ACCESS EXCLUSIVE", table)
            .scans(),
        ),
        // Detached for good (not attached again with a new bound): queries of the parent stop seeing its
        // rows, and the down migration's attach has to scan them.
        Change::DetachPartition { table, parent, .. }
            if ctx.existing(table) && !ctx.attached_partitions.contains(table) && !ctx.rebuilt(table) =>
        {
            out.push(
                Hazard::new(
                    HazardId::DataLossPartition,
                    Severity::High,
                    format!("detaches {table} from {parent}; its rows are no longer part of {parent}"),
                    "Check that nothing reads these rows through the partitioned table any more",
                )
                .lock("ACCESS EXCLUSIVE", parent),
            )
        }
        Change::SetUnlogged { table, unlogged } if ctx.existing(table) => out.push(
            Hazard::new(
                HazardId::TableRewrite,
                Severity::High,
                if *unlogged {
                    format!("makes {table} UNLOGGED, rewriting it; its rows are lost after a crash and are not replicated")
                } else {
                    format!("makes {table} LOGGED, rewriting it and writing all of it to the write-ahead log")
                },
                "Run it when the table can be locked for the rewrite",
            )
            .lock("ACCESS EXCLUSIVE", table)
            .rewrites(),
        ),
        _ => {}
    }
}
