//! The progress of the runner's statement, read from a second session ([`crate::runner::progress`]).
//!
//! The session is opened at the first poll (the runner polls only once a statement has run a while),
//! read-only, with short lock and statement timeouts, and closed when the statement ends. Each poll is
//! one query on the statistics views for the runner's server process: `pg_stat_progress_create_index`
//! (CREATE INDEX [CONCURRENTLY], REINDEX), `pg_stat_progress_cluster` (CLUSTER, VACUUM FULL) and
//! `pg_stat_activity` (a lock wait, and who holds the lock). It locks no table of the migration.
//!
//! A backfill (`DO $schema_backfill$`, batches each committed) has no progress view, and its updates
//! reach `pg_stat_user_tables.n_tup_upd` only when the block ends (PostgreSQL 15 flushes a backend's
//! table counters when it goes idle). What does move is the process's local transaction number (the
//! `virtualtransaction` of its locks, `backend/number`): every batch's COMMIT starts the next
//! transaction of the same process, whatever other sessions do. The runner reads it on its own
//! connection right before the block starts, so the number of batches committed is exact; rows are that
//! times the batch size (from the block's `LIMIT`) against the table's live-row estimate.

use crate::dialect::postgres::connect;
use crate::model::QualifiedName;
use crate::runner::progress::{Activity, Step, Watch, WatchError};
use sqlparser::tokenizer::{Token, Tokenizer};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use std::time::Duration;

/// The server process's activity and progress rows; `$2`: read its local transaction number.
const POLL: &str = "\
SELECT CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END AS blockers,
       CASE WHEN $2 THEN (SELECT split_part(l.virtualtransaction, '/', 2)::int8 FROM pg_catalog.pg_locks l
                           WHERE l.pid = a.pid AND l.locktype = 'virtualxid' AND l.granted LIMIT 1) END AS local_xact,
       ci.command AS index_command, ci.phase AS index_phase,
       ix.nspname AS index_schema, ix.relname AS index_name,
       it.nspname AS index_table_schema, it.relname AS index_table_name,
       ci.lockers_total, ci.lockers_done, ci.blocks_total, ci.blocks_done, ci.tuples_total, ci.tuples_done,
       ci.partitions_total, ci.partitions_done,
       cl.command AS cluster_command, cl.phase AS cluster_phase,
       ct.nspname AS cluster_table_schema, ct.relname AS cluster_table_name,
       cl.heap_blks_total, cl.heap_blks_scanned, cl.heap_tuples_scanned, cl.heap_tuples_written,
       cl.index_rebuild_count, ct.reltuples::int8 AS cluster_table_rows,
       (SELECT count(*) FROM pg_catalog.pg_index i WHERE i.indrelid = cl.relid) AS cluster_table_indexes
  FROM pg_catalog.pg_stat_activity a
  LEFT JOIN pg_catalog.pg_stat_progress_create_index ci ON ci.pid = a.pid
  LEFT JOIN pg_catalog.pg_stat_progress_cluster cl ON cl.pid = a.pid
  LEFT JOIN LATERAL (SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ci.index_relid) ix ON true
  LEFT JOIN LATERAL (SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ci.relid) it ON true
  LEFT JOIN LATERAL (SELECT n.nspname::text, c.relname::text, c.reltuples FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = cl.relid) ct ON true
 WHERE a.pid = $1";

/// A table's rows as the planner estimates them (`reltuples`, from the last VACUUM, ANALYZE or index
/// build), or the statistics' live rows where it has no estimate yet (-1); summed over the leaf
/// partitions of a partitioned table. (The live rows alone drift: an ANALYZE in the session that inserted
/// the rows counts them twice once the session's counters are flushed.)
const ROWS: &str = "\
WITH t AS (SELECT c.oid, c.relkind FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2),
     leaves AS (SELECT t.oid FROM t WHERE t.relkind <> 'p'
                UNION ALL
                SELECT p.relid FROM t, pg_catalog.pg_partition_tree(t.oid) p WHERE t.relkind = 'p' AND p.isleaf)
SELECT sum(CASE WHEN c.reltuples >= 0 THEN c.reltuples::float8
                ELSE pg_catalog.pg_stat_get_live_tuples(c.oid)::float8 END)::float8
  FROM leaves l JOIN pg_catalog.pg_class c ON c.oid = l.oid";

/// The runner's own local transaction number (see the module header).
const LOCAL_XACT: &str = "\
SELECT split_part(virtualtransaction, '/', 2)::int8 FROM pg_catalog.pg_locks
 WHERE pid = pg_backend_pid() AND locktype = 'virtualxid' AND granted LIMIT 1";

/// What the runner's statement is, as far as its progress is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// A `DO $schema_backfill$` block: batches of `batch` rows of `table`, each committed.
    Backfill {
        table: Option<QualifiedName>,
        batch: Option<u64>,
        /// The runner's local transaction number right before the block started.
        before: Option<i64>,
    },
    /// `CREATE INDEX name` or `REINDEX INDEX [schema.]name`: the index's name as the statement gives it.
    /// A build that is not concurrent commits the index's catalog row only at its end, and a concurrent
    /// REINDEX builds a copy under another name (`name_ccnew`), so the statement names it better than
    /// the progress view.
    Index {
        name: Vec<String>,
    },
    Other,
}

impl Statement {
    /// What `sql` is, read with the tokenizer (the parser does not read `DO` bodies).
    pub fn of(sql: &str) -> Statement {
        // Only these matter: a large seed INSERT is not tokenized a second time.
        let first = first_word(sql);
        if !["DO", "CREATE", "REINDEX"].iter().any(|w| first.eq_ignore_ascii_case(w)) {
            return Statement::Other;
        }
        let dialect = super::sql_dialect();
        let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize() else { return Statement::Other };
        let tokens: Vec<Token> = tokens.into_iter().filter(|t| !matches!(t, Token::Whitespace(_))).collect();
        match tokens.as_slice() {
            [first, rest @ ..] if keyword(first, "DO") => rest
                .iter()
                .find_map(|t| match t {
                    Token::DollarQuotedString(s) if s.tag.as_deref() == Some("schema_backfill") => {
                        Some(backfill(&s.value))
                    }
                    _ => None,
                })
                .unwrap_or(Statement::Other),
            [first, rest @ ..] if keyword(first, "CREATE") => create_index(rest).unwrap_or(Statement::Other),
            [first, rest @ ..] if keyword(first, "REINDEX") => reindex(rest).unwrap_or(Statement::Other),
            _ => Statement::Other,
        }
    }
}

/// The first word of `sql`, after white space and comments.
fn first_word(sql: &str) -> &str {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.split_once("*/").map_or("", |(_, after)| after);
        } else {
            let end = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
            return &rest[..end];
        }
    }
}

fn keyword(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// An identifier as the server names it: unquoted ones fold to lower case.
fn identifier(token: &Token) -> Option<String> {
    match token {
        Token::Word(w) if w.quote_style == Some('"') => Some(w.value.clone()),
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_lowercase()),
        _ => None,
    }
}

/// The table of the block's `UPDATE table SET` and the batch size of its first `LIMIT n`.
fn backfill(body: &str) -> Statement {
    let dialect = super::sql_dialect();
    let tokens: Vec<Token> = Tokenizer::new(&dialect, body)
        .tokenize()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let table = tokens.iter().enumerate().filter(|(_, t)| keyword(t, "UPDATE")).find_map(|(i, _)| {
        let mut parts = Vec::new();
        let mut rest = tokens[i + 1..].iter();
        loop {
            parts.push(identifier(rest.next()?)?);
            match rest.next()? {
                Token::Period => continue,
                t if keyword(t, "SET") => break,
                _ => return None,
            }
        }
        match parts.as_slice() {
            [name] => Some(QualifiedName::new("public", name.clone())),
            [schema, name] => Some(QualifiedName::new(schema.clone(), name.clone())),
            _ => None,
        }
    });
    let batch = tokens.windows(2).find_map(|w| match w {
        [limit, Token::Number(n, _)] if keyword(limit, "LIMIT") => n.parse().ok(),
        _ => None,
    });
    Statement::Backfill { table, batch, before: None }
}

/// `[UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] name ON …` after CREATE.
fn create_index(tokens: &[Token]) -> Option<Statement> {
    let mut rest = tokens.iter().peekable();
    rest.next_if(|t| keyword(t, "UNIQUE"));
    if !keyword(rest.next()?, "INDEX") {
        return None;
    }
    rest.next_if(|t| keyword(t, "CONCURRENTLY"));
    if rest.next_if(|t| keyword(t, "IF")).is_some() {
        rest.next_if(|t| keyword(t, "NOT"));
        rest.next_if(|t| keyword(t, "EXISTS"));
    }
    let name = match rest.next()? {
        t if keyword(t, "ON") => Vec::new(),
        t => vec![identifier(t)?],
    };
    Some(Statement::Index { name })
}

/// `[(options)] INDEX [CONCURRENTLY] [schema.]name` after REINDEX; None for a table, schema or database.
fn reindex(tokens: &[Token]) -> Option<Statement> {
    let mut rest = tokens.iter().peekable();
    if rest.next_if(|t| matches!(t, Token::LParen)).is_some() {
        while !matches!(rest.next()?, Token::RParen) {}
    }
    if !keyword(rest.next()?, "INDEX") {
        return None;
    }
    rest.next_if(|t| keyword(t, "CONCURRENTLY"));
    let mut name = vec![identifier(rest.next()?)?];
    while rest.next_if(|t| matches!(t, Token::Period)).is_some() {
        name.push(identifier(rest.next()?)?);
    }
    Some(Statement::Index { name })
}

/// The runner's local transaction number, read on its own connection; None if it cannot be read.
pub async fn local_transaction(conn: &mut PgConnection) -> Option<i64> {
    sqlx::query_scalar(LOCAL_XACT).fetch_optional(conn).await.ok().flatten()
}

/// Watches the runner's server process `pid` from a second session of `url`.
pub struct PgWatch {
    url: String,
    pid: i32,
    statement: Statement,
    conn: Option<PgConnection>,
    /// The backfill's table's rows, read at the first poll.
    rows: Option<Option<f64>>,
    /// The backfill's batches at the last poll that saw them (between two batches no transaction runs).
    batches: Option<i64>,
}

impl PgWatch {
    pub fn new(url: &str, pid: i32, statement: Statement) -> PgWatch {
        PgWatch { url: url.to_string(), pid, statement, conn: None, rows: None, batches: None }
    }

    async fn open(&self) -> Result<PgConnection, WatchError> {
        let options = connect::options(&self.url)
            .map_err(|e| WatchError(e.to_string()))?
            .application_name("schema migrate progress")
            // It only reads; were it ever to wait for a lock, it gives up rather than stand in a queue.
            .options([("default_transaction_read_only", "on"), ("lock_timeout", "1s"), ("statement_timeout", "5s")]);
        match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect_with(&options)).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(WatchError(format!("cannot open a second connection: {}", connect::describe(&e)))),
            Err(_) => Err(WatchError("cannot open a second connection: no answer within 10 s".into())),
        }
    }
}

fn failed(e: sqlx::Error) -> WatchError {
    WatchError(format!("cannot read the progress views: {}", connect::describe(&e)))
}

impl Watch for PgWatch {
    async fn poll(&mut self) -> Result<Activity, WatchError> {
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.open().await?,
        };
        let backfill = matches!(self.statement, Statement::Backfill { .. });
        let row = sqlx::query(POLL).bind(self.pid).bind(backfill).fetch_optional(&mut conn).await.map_err(failed)?;
        if let (Statement::Backfill { table: Some(table), .. }, None) = (&self.statement, &self.rows) {
            let rows: Option<f64> = sqlx::query_scalar(ROWS)
                .bind(table.schema.as_str())
                .bind(table.name.as_str())
                .fetch_one(&mut conn)
                .await
                .map_err(failed)?;
            self.rows = Some(rows);
        }
        self.conn = Some(conn);
        let Some(row) = row else { return Ok(Activity::Running) };
        activity(&row, &self.statement, self.rows.flatten(), &mut self.batches).map_err(failed)
    }

    async fn close(self) {
        if let Some(conn) = self.conn {
            let _ = conn.close().await;
        }
    }
}

fn name(row: &sqlx::postgres::PgRow, schema: &str, name: &str) -> Result<Option<QualifiedName>, sqlx::Error> {
    let schema: Option<String> = row.try_get(schema)?;
    let name: Option<String> = row.try_get(name)?;
    Ok(schema.zip(name).map(|(s, n)| QualifiedName::new(s, n)))
}

/// `done` of `total`, as a fraction and as `unit done of total`, when `total` is known.
fn count(unit: &str, done: Option<i64>, total: Option<i64>) -> Option<(f64, String)> {
    let (done, total) = (done?, total.filter(|t| *t > 0)?);
    Some((done as f64 / total as f64, format!("{unit} {done} of {total}")))
}

fn activity(
    row: &sqlx::postgres::PgRow,
    statement: &Statement,
    rows: Option<f64>,
    batches: &mut Option<i64>,
) -> Result<Activity, sqlx::Error> {
    let get = |column: &str| row.try_get::<Option<i64>, _>(column);
    let blocked_by: Vec<i64> =
        row.try_get::<Option<Vec<i32>>, _>("blockers")?.unwrap_or_default().into_iter().map(i64::from).collect();
    if let Some(command) = row.try_get::<Option<String>, _>("index_command")? {
        let phase: Option<String> = row.try_get("index_phase")?;
        let table = name(row, "index_table_schema", "index_table_name")?;
        let named = match statement {
            Statement::Index { name } => name.as_slice(),
            _ => &[],
        };
        // An unqualified index name is in its table's schema.
        let index = match (named, name(row, "index_schema", "index_name")?, &table) {
            ([schema, name], _, _) => QualifiedName::new(schema.clone(), name.clone()).to_string(),
            ([name], _, Some(table)) => QualifiedName::new(table.schema.clone(), name.clone()).to_string(),
            (_, Some(index), _) => index.to_string(),
            (_, None, Some(table)) => format!("on {table}"),
            (_, None, None) => String::new(),
        };
        let verb = if command.starts_with("REINDEX") { "reindexing" } else { "building index" };
        let phase_text = phase.as_deref().unwrap_or_default();
        // The phase says which counters move: the lock waits, a table scan (blocks), or the rest (tuples).
        let measured = if phase_text.starts_with("waiting") {
            count("transactions waited for", get("lockers_done")?, get("lockers_total")?)
        } else if phase_text.contains("scanning table") {
            count("blocks", get("blocks_done")?, get("blocks_total")?)
        } else {
            count("tuples", get("tuples_done")?, get("tuples_total")?).or(count(
                "blocks",
                get("blocks_done")?,
                get("blocks_total")?,
            ))
        };
        let partitions = get("partitions_total")?
            .filter(|t| *t > 0)
            .map(|total| format!("partitions {} of {total}", get("partitions_done").ok().flatten().unwrap_or(0)));
        let detail = [partitions, measured.as_ref().map(|(_, d)| d.clone())].into_iter().flatten().collect::<Vec<_>>();
        return Ok(Activity::Step(Step {
            action: format!("{verb} {index}").trim_end().to_string(),
            // `building index public.t_a (scanning table)`, not `(building index: scanning table)`.
            phase: phase.map(|p| p.strip_prefix("building index: ").map(str::to_string).unwrap_or(p)),
            fraction: measured.map(|(f, _)| f),
            approximate: false,
            detail: (!detail.is_empty()).then(|| detail.join(", ")),
            blocked_by,
        }));
    }
    if let Some(command) = row.try_get::<Option<String>, _>("cluster_command")? {
        let phase: Option<String> = row.try_get("cluster_phase")?;
        let table = name(row, "cluster_table_schema", "cluster_table_name")?;
        // Blocks and indexes are counted against exact totals; tuples against the planner's estimate.
        let rows = get("cluster_table_rows")?;
        let (measured, approximate) = match phase.as_deref() {
            Some("seq scanning heap") => (count("blocks", get("heap_blks_scanned")?, get("heap_blks_total")?), false),
            Some("index scanning heap") => (count("tuples scanned", get("heap_tuples_scanned")?, rows), true),
            Some("writing new heap") => (count("tuples written", get("heap_tuples_written")?, rows), true),
            Some("rebuilding index") => {
                (count("indexes rebuilt", get("index_rebuild_count")?, get("cluster_table_indexes")?), false)
            }
            _ => (None, false),
        };
        let (fraction, detail) = match measured {
            Some((fraction, detail)) if approximate => (Some(fraction), Some(detail.replacen(" of ", " of about ", 1))),
            Some((fraction, detail)) => (Some(fraction), Some(detail)),
            None => (None, None),
        };
        let action = match table {
            Some(table) => format!("{command} {table}"),
            None => command,
        };
        return Ok(Activity::Step(Step { action, phase, fraction, approximate, detail, blocked_by }));
    }
    if let Statement::Backfill { table, batch, before: Some(before) } = statement {
        if let Some(now) = row.try_get::<Option<i64>, _>("local_xact")? {
            // The block's first transaction is `before + 1`; each COMMIT starts the next one. The number
            // is 32 bits wide and may wrap.
            *batches = Some((now - before - 1).rem_euclid(1 << 32));
        }
        if let Some(done) = *batches {
            let rows_done = batch.map(|b| done.saturating_mul(b as i64));
            let fraction = rows_done.zip(rows.filter(|r| *r >= 1.0)).map(|(d, r)| d as f64 / r);
            let mut detail = match batch {
                Some(batch) => format!("{done} batches of {batch} rows committed"),
                None => format!("{done} batches committed"),
            };
            if let Some(rows) = rows.filter(|r| *r >= 1.0) {
                detail.push_str(&format!(", of about {} rows", rows.round() as u64));
            }
            let action = match table {
                Some(table) => format!("backfilling {table}"),
                None => "backfilling".to_string(),
            };
            let detail = Some(detail);
            return Ok(Activity::Step(Step { action, phase: None, fraction, approximate: true, detail, blocked_by }));
        }
    }
    if row.try_get::<Option<Vec<i32>>, _>("blockers")?.is_some() {
        return Ok(Activity::WaitingForLock { holders: blocked_by });
    }
    Ok(Activity::Running)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_backfill_block_names_its_table_and_batch_size() {
        let sql = "DO $schema_backfill$\nDECLARE\n    schema_k1 \"Odd\".\"T\".\"id\"%TYPE;\nBEGIN\n    LOOP\n        \
                   WITH schema_batch AS (\n            SELECT \"id\" FROM \"Odd\".\"T\" ORDER BY \"id\" LIMIT 250\n        \
                   ), schema_done AS (\n            UPDATE \"Odd\".\"T\" SET \"b\" = (1) WHERE (\"id\") IN (SELECT \"id\" FROM \
                   schema_batch)\n        )\n        SELECT 1;\n        COMMIT;\n    END LOOP;\nEND\n$schema_backfill$;";
        assert_eq!(
            Statement::of(sql),
            Statement::Backfill { table: Some(QualifiedName::new("Odd", "T")), batch: Some(250), before: None }
        );
        let unqualified = "DO $schema_backfill$ BEGIN LOOP UPDATE Accounts SET x = 1 WHERE ctid = ANY (ARRAY(\n\
                           SELECT ctid FROM Accounts LIMIT 10)); COMMIT; END LOOP; END $schema_backfill$";
        assert_eq!(
            Statement::of(unqualified),
            Statement::Backfill {
                table: Some(QualifiedName::new("public", "accounts")),
                batch: Some(10),
                before: None
            }
        );
        assert_eq!(Statement::of("DO $$ BEGIN UPDATE t SET a = 1; END $$"), Statement::Other, "not a backfill");
    }

    #[test]
    fn an_index_build_is_named_from_its_statement() {
        let named = |sql| match Statement::of(sql) {
            Statement::Index { name } => name,
            other => panic!("{sql}: {other:?}"),
        };
        assert_eq!(named("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"Ix\" ON t (a)"), ["Ix"]);
        assert_eq!(named("-- why\n/* and how */ create unique index T_A on t (a)"), ["t_a"]);
        assert!(named("CREATE INDEX ON t (a)").is_empty());
        assert_eq!(named("REINDEX (VERBOSE) INDEX CONCURRENTLY app.\"Big_pkey\""), ["app", "Big_pkey"]);
        assert_eq!(Statement::of("REINDEX TABLE t"), Statement::Other);
        assert_eq!(Statement::of("CREATE TABLE t (a int)"), Statement::Other);
    }
}
