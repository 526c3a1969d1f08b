//! Partitions: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (no query of their own): a partition's parent and bound and its copies of the parent's constraints
//! (columns of the tables query), and the indexes attached to a partitioned index down its partition tree (a
//! column of the indexes query).
//!
//! Render: `ATTACH PARTITION` (the parent's checks added to the table first) and `DETACH PARTITION`.
//!
//! Hazards: attaching a partition scans it under an exclusive lock to check its bound, and detaching one for
//! good takes its rows out of the partitioned table.

use super::constraints;
use crate::dialect::postgres::introspect::{IntrospectError, decode, get};
use crate::dialect::postgres::locks::{ACCESS_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE};
use crate::dialect::postgres::render::qualified;
use crate::diff::PartitionChange;
use crate::model::*;
use crate::plan::Statement;
use crate::safety::{Context, Hazard, HazardId, Severity};
use sqlx::postgres::PgRow;

// ------------------------------------------------------------------------------------------------
// Read.

/// The parent and bound of a partition, from the tables query.
pub(super) fn partition_of(row: &PgRow) -> Result<Option<Box<PartitionOf>>, IntrospectError> {
    let q = "tables";
    Ok(
        match (
            get::<Option<String>>(row, q, "parent_schema")?,
            get::<Option<String>>(row, q, "parent_name")?,
            get::<Option<String>>(row, q, "partition_bound")?,
        ) {
            (Some(schema), Some(name), Some(bound)) => {
                Some(Box::new(PartitionOf { parent: QualifiedName::new(schema, name), bound }))
            }
            _ => None,
        },
    )
}

/// The indexes attached to a partitioned index down its partition tree, from the indexes query.
pub(super) fn partition_indexes(row: &PgRow) -> Result<Vec<PartitionIndex>, IntrospectError> {
    let q = "indexes";
    let Some(text) = get::<Option<String>>(row, q, "partitions")? else { return Ok(Vec::new()) };
    type Entry = (String, String, String, String, String, bool, u32, bool);
    let entries: Vec<Entry> =
        serde_json::from_str(&text).map_err(|e| IntrospectError::Decode { query: q, detail: e.to_string() })?;
    Ok(entries
        .into_iter()
        .map(|(schema, table, name, parent_schema, parent, leaf, depth, constraint)| PartitionIndex {
            name: QualifiedName::new(schema.clone(), name),
            table: QualifiedName::new(schema, table),
            parent: QualifiedName::new(parent_schema, parent),
            leaf,
            depth,
            constraint,
        })
        .collect())
}

/// A partition's copies of its parent's constraints, from the tables query.
pub(super) fn constraint_copies(row: &PgRow) -> Result<Vec<ConstraintCopy>, IntrospectError> {
    let entries: Vec<(String, String, bool)> = decode("tables", get(row, "tables", "copies")?)?;
    Ok(entries
        .into_iter()
        .map(|(name, parent, validated)| ConstraintCopy { name: name.into(), parent: parent.into(), validated })
        .collect())
}

// ------------------------------------------------------------------------------------------------
// Render.

pub(crate) fn render(change: &PartitionChange) -> Vec<Statement> {
    match change {
        PartitionChange::Attach { table, parent, bound, checks } => attach(table, parent, bound, checks),
        PartitionChange::Detach { table, parent, .. } => vec![detach(table, parent)],
    }
}

/// The checks that let the attach skip its scan, then the attach: ACCESS EXCLUSIVE on the table, SHARE
/// UPDATE EXCLUSIVE on the parent (since PostgreSQL 12).
pub(super) fn attach(
    table: &QualifiedName,
    parent: &QualifiedName,
    bound: &str,
    checks: &[Constraint],
) -> Vec<Statement> {
    let mut sql: Vec<Statement> = checks.iter().map(|c| constraints::add(table, c)).collect();
    let attach = format!("ALTER TABLE {} ATTACH PARTITION {} {bound};", qualified(parent), qualified(table));
    sql.push(Statement::locking(attach).taking(ACCESS_EXCLUSIVE, table).taking(SHARE_UPDATE_EXCLUSIVE, parent));
    sql
}

/// ACCESS EXCLUSIVE on the parent and the partition.
pub(super) fn detach(table: &QualifiedName, parent: &QualifiedName) -> Statement {
    let sql = format!("ALTER TABLE {} DETACH PARTITION {};", qualified(parent), qualified(table));
    Statement::locking(sql).taking(ACCESS_EXCLUSIVE, parent).taking(ACCESS_EXCLUSIVE, table)
}

// ------------------------------------------------------------------------------------------------
// Hazards.

/// PostgreSQL's hazards of attaching or detaching a partition.
pub(crate) fn hazards(change: &PartitionChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        PartitionChange::Attach { table, parent, .. } => attach_hazards(table, parent, ctx, out),
        PartitionChange::Detach { table, parent, .. } => detach_hazards(table, parent, ctx, out),
    }
}

pub(super) fn attach_hazards(table: &QualifiedName, parent: &QualifiedName, ctx: &Context, out: &mut Vec<Hazard>) {
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
        .holds_lock_on(table)
        .scans(),
    );
}

/// Detached for good (not attached again with a new bound): queries of the parent stop seeing its rows,
/// and the down migration's attach has to scan them.
pub(super) fn detach_hazards(table: &QualifiedName, parent: &QualifiedName, ctx: &Context, out: &mut Vec<Hazard>) {
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
        .holds_lock_on(parent),
    );
}
