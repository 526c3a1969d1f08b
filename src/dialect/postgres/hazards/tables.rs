//! Tables: a rebuild (rows copied into a new table under ACCESS EXCLUSIVE), a new replica identity (what
//! logical decoding sends changes), and LOGGED/UNLOGGED (a rewrite).

use super::ACCESS_EXCLUSIVE;
use crate::diff::TableChange;
use crate::model::{QualifiedName, ReplicaIdentity, Table};
use crate::safety::{self, Context, Hazard, HazardId, Severity};

/// PostgreSQL's hazards of one table change; the shared rules cover drops and renames.
pub(super) fn hazards(change: &TableChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        TableChange::CopyRows { to, .. } => copy_rows(to, out),
        TableChange::SetReplicaIdentity { table, to, .. } => set_replica_identity(table, to.as_ref(), ctx, out),
        TableChange::SetUnlogged { table, unlogged } => set_unlogged(table, *unlogged, ctx, out),
        TableChange::Create(_)
        | TableChange::Drop(_)
        | TableChange::Rename { .. }
        | TableChange::SetAside { .. }
        | TableChange::Rebuild { .. }
        | TableChange::SetStorageParameters { .. } => {}
    }
}

pub(super) fn copy_rows(to: &Table, out: &mut Vec<Hazard>) {
    out.push(
        Hazard::new(
            HazardId::TableRebuild,
            Severity::High,
            format!(
                "rebuilds table {} (PostgreSQL cannot change its partitioning in place): a new table with its \
                 partitions, every row copied into it while ACCESS EXCLUSIVE on the old table blocks reads and \
                 writes, the views, foreign keys, triggers and policies that use it created again; no row is \
                 lost, but this is not an online change",
                to.name
            ),
            "Run it when the table can be locked for the whole copy, or build the new table beside it and move the rows in batches yourself",
        )
        .lock(ACCESS_EXCLUSIVE, &to.name)
        .rewrites(),
    );
}

/// REPLICA IDENTITY takes ACCESS EXCLUSIVE (briefly: nothing is read) and changes what logical decoding
/// sends for an old row; with NOTHING, a publication that publishes updates or deletes makes them fail on
/// the table ("cannot update table … because it does not have a replica identity").
pub(super) fn set_replica_identity(
    table: &QualifiedName,
    to: Option<&ReplicaIdentity>,
    ctx: &Context,
    out: &mut Vec<Hazard>,
) {
    if ctx.existing(table) {
        out.push(safety::replica_identity(table, matches!(to, Some(ReplicaIdentity::Nothing))));
    }
}

pub(super) fn set_unlogged(table: &QualifiedName, unlogged: bool, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(table) {
        return;
    }
    out.push(
        Hazard::new(
            HazardId::TableRewrite,
            Severity::High,
            if unlogged {
                format!("makes {table} UNLOGGED, rewriting it; its rows are lost after a crash and are not replicated")
            } else {
                format!("makes {table} LOGGED, rewriting it and writing all of it to the write-ahead log")
            },
            "Run it when the table can be locked for the rewrite",
        )
        .lock("ACCESS EXCLUSIVE", table)
        .rewrites(),
    );
}
