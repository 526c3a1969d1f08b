//! Estimates on PostgreSQL: what work each step does ([`work`]), and how fast this server does it
//! ([`probe`]): a table of [`PROBE_ROWS`] rows is built, scanned, rewritten, indexed and partly updated
//! inside a transaction that is rolled back, and each operation's time per MiB (or per row) prices the
//! plan's steps by the live sizes of their tables.

use super::render::{ident, qualified};
use crate::diff::Change;
use crate::diff::{ColumnChange, ConstraintChange, IndexChange, TableChange};
use crate::model::{ConstraintKind, QualifiedName};
use crate::plan::Step;
use crate::plan::estimate::{StepForm, Throughput, Work, WorkKind};
use crate::safety::HazardId;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Row};
use std::time::Instant;

/// Rows of the probe table at most (about 15 MiB): long enough to time, short enough for every plan.
pub const PROBE_ROWS: u32 = 200_000;

/// Rows of the probe table at least: below, fixed costs (parsing, catalog updates) dominate.
pub const PROBE_MIN_ROWS: u32 = 2_000;

/// The work `step` does in proportion to table sizes.
pub fn work(step: &Step) -> Vec<Work> {
    let on = |table: &QualifiedName, kind: WorkKind| vec![Work { table: table.clone(), kind }];
    let rewrites = |table: &QualifiedName| {
        step.hazards.iter().any(|h| h.id == HazardId::TableRewrite && h.table.as_ref() == Some(table))
    };
    let online = step.form == StepForm::Online;
    match (step.form, &step.change) {
        (StepForm::Expand | StepForm::Revert, _) => Vec::new(),
        (StepForm::Backfill, change) => table_of(change).map(|t| on(t, WorkKind::Backfill)).unwrap_or_default(),
        // A contract that validates what the expand added reads the table.
        (StepForm::Contract, change) if step.statements.iter().any(|s| s.long_running) => {
            table_of(change).map(|t| on(t, WorkKind::Scan)).unwrap_or_default()
        }
        (StepForm::Contract, _) => Vec::new(),
        (_, Change::Column(ColumnChange::Alter { table, from, to })) => {
            if rewrites(table) {
                on(table, WorkKind::Rewrite)
            } else if to.not_null && !from.not_null {
                on(table, WorkKind::Scan)
            } else {
                Vec::new()
            }
        }
        (_, Change::Column(ColumnChange::Add { table, .. })) if rewrites(table) => on(table, WorkKind::Rewrite),
        (_, Change::Constraint(ConstraintChange::Add { table, constraint })) => match constraint.kind {
            ConstraintKind::PrimaryKey | ConstraintKind::Unique if online => on(table, WorkKind::ConcurrentIndexBuild),
            ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion => {
                on(table, WorkKind::IndexBuild)
            }
            ConstraintKind::Check | ConstraintKind::ForeignKey if constraint.validated => on(table, WorkKind::Scan),
            ConstraintKind::Check | ConstraintKind::ForeignKey => Vec::new(),
        },
        (_, Change::Constraint(ConstraintChange::Validate { table, .. })) => on(table, WorkKind::Scan),
        (_, Change::Index(IndexChange::Create(index))) => {
            let kind = if online { WorkKind::ConcurrentIndexBuild } else { WorkKind::IndexBuild };
            // A partitioned table holds no rows itself: the work is on its partitions.
            let leaves: Vec<&QualifiedName> = index.partitions.iter().filter(|p| p.leaf).map(|p| &p.table).collect();
            if leaves.is_empty() {
                on(&index.table, kind)
            } else {
                leaves.into_iter().map(|t| Work { table: t.clone(), kind }).collect()
            }
        }
        (_, Change::Table(TableChange::Rebuild { from, .. })) => on(&from.name, WorkKind::Rewrite),
        (_, Change::Table(TableChange::CopyRows { old_tree, .. })) => {
            old_tree.iter().map(|t| Work { table: t.clone(), kind: WorkKind::Rewrite }).collect()
        }
        (_, Change::Enum(crate::diff::EnumChange::Rebuild { columns, .. })) => {
            let tables: indexmap::IndexSet<&QualifiedName> = columns.iter().map(|c| &c.column.table).collect();
            tables.into_iter().map(|t| Work { table: t.clone(), kind: WorkKind::Rewrite }).collect()
        }
        _ => Vec::new(),
    }
}

fn table_of(change: &Change) -> Option<&QualifiedName> {
    match change {
        Change::Column(ColumnChange::Alter { table, .. })
        | Change::Column(ColumnChange::Add { table, .. })
        | Change::Column(ColumnChange::Drop { table, .. })
        | Change::Column(ColumnChange::Rename { table, .. })
        | Change::Constraint(ConstraintChange::Add { table, .. }) => Some(table),
        Change::Table(TableChange::Rename { to, .. }) => Some(to),
        _ => None,
    }
}

/// Times the probe's operations on this server, on a table of `rows` rows (clamped to
/// [`PROBE_MIN_ROWS`]..=[`PROBE_ROWS`]: as large as the largest table to price, so that small plans pay
/// little). `schema` is where the probe table is created (in a transaction rolled back at the end, so
/// that its writes go through the write-ahead log as a real table's do); without the right to create
/// there, a temporary table stands in.
pub async fn probe(conn: &mut PgConnection, schema: &str, rows: u64) -> Result<Throughput, sqlx::Error> {
    let probe_rows = rows.clamp(u64::from(PROBE_MIN_ROWS), u64::from(PROBE_ROWS)) as u32;
    let mut tx = conn.begin().await?;
    sqlx::raw_sql("SET LOCAL statement_timeout = '30s'").execute(&mut *tx).await?;
    let name = QualifiedName::new(schema, "schema_estimate_probe");
    sqlx::raw_sql("SAVEPOINT schema_probe").execute(&mut *tx).await?;
    let create = |table: &str| {
        format!(
            "CREATE TABLE {table} AS SELECT g AS id, g AS a, md5(g::text) AS b FROM generate_series(1, {probe_rows}) AS g"
        )
    };
    let table = match sqlx::raw_sql(AssertSqlSafe(create(&qualified(&name)))).execute(&mut *tx).await {
        Ok(_) => qualified(&name),
        Err(_) => {
            sqlx::raw_sql("ROLLBACK TO SAVEPOINT schema_probe").execute(&mut *tx).await?;
            let temporary = format!("pg_temp.{}", ident("schema_estimate_probe"));
            sqlx::raw_sql(AssertSqlSafe(create(&temporary))).execute(&mut *tx).await?;
            temporary
        }
    };
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE INDEX ON {table} (id)"))).execute(&mut *tx).await?;
    let size = sqlx::query(AssertSqlSafe(format!(
        "SELECT pg_relation_size('{table}'::regclass)::float8, pg_total_relation_size('{table}'::regclass)::float8",
        table = table.replace('\'', "''")
    )))
    .fetch_one(&mut *tx)
    .await?;
    let (heap, all): (f64, f64) = (size.try_get(0)?, size.try_get(1)?);
    let (heap, all) = (heap / 1048576.0, all / 1048576.0);
    let mut timed = async |sql: String| -> Result<f64, sqlx::Error> {
        let started = Instant::now();
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *tx).await?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    };
    let scan = timed(format!("SELECT count(*) FROM {table} WHERE a IS NULL")).await?;
    let rewrite = timed(format!("ALTER TABLE {table} ALTER COLUMN a TYPE bigint")).await?;
    let index = timed(format!("CREATE INDEX ON {table} (b)")).await?;
    let updated = probe_rows / 10;
    let update = timed(format!("UPDATE {table} SET a = a + 1 WHERE id <= {updated}")).await?;
    tx.rollback().await?;
    Ok(Throughput {
        scan_ms_per_mib: scan / heap,
        rewrite_ms_per_mib: rewrite / all,
        index_ms_per_mib: index / heap,
        update_ms_per_row: update / f64::from(updated),
    })
}
