//! The runner's primitives for PostgreSQL: a session-level advisory lock (released by the server when
//! the connection ends, so a killed runner never leaves it behind), the tracking table, and plain
//! `BEGIN`/`COMMIT` on one connection (PostgreSQL's DDL is transactional). A long statement's progress
//! is read from a second session (`progress`).

use crate::dialect::postgres::connect;
use crate::dialect::postgres::progress::{self, PgWatch, Statement};
use crate::dialect::postgres::render::{ident, literal, qualified};
use crate::runner::{Applied, Database, DbError, Options};
use sqlx::postgres::{PgConnection, PgDatabaseError, PgErrorPosition};
use sqlx::{AssertSqlSafe, Row};

/// SQLSTATE lock_not_available: `lock_timeout` expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// The columns the tracking table must have; a table of the same name made by another tool lacks some.
const COLUMNS: [&str; 7] = ["version", "name", "checksum", "applied_at", "execution_ms", "dirty", "note"];

pub struct PgDatabase {
    conn: PgConnection,
    /// For the second session that watches long statements.
    url: String,
    /// The server process of `conn`, which that session watches.
    pid: i32,
    options: Options,
    /// The quoted, qualified tracking table.
    table: String,
    /// Advisory lock key: derived from the table's name, so runners with different tables do not wait
    /// for each other. Advisory locks are per database already.
    lock_key: i64,
}

impl PgDatabase {
    /// Connects and sets the session's timeouts from the options.
    pub async fn connect(url: &str, options: &Options) -> anyhow::Result<PgDatabase> {
        let mut conn = connect::connect(url).await?;
        // The process id comes with the first statement, for no extra round trip.
        let pid: i32 = sqlx::raw_sql("SET application_name = 'schema migrate'; SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(|e| anyhow::anyhow!("cannot set up the session: {}", connect::describe(&e)))?;
        set_up(&mut conn, options).await?;
        let (table, lock_key) = names(options);
        Ok(PgDatabase { conn, url: url.to_string(), pid, options: options.clone(), table, lock_key })
    }

    /// The same connection for another run (a fleet's next tenant in this database): starting a server
    /// process costs several milliseconds, reading a tenant's state a fraction of one. The session is
    /// put back as a new one has it (settings reset to the role's and database's, temporary tables and
    /// advisory locks gone), then set up for `options`. Only a connection whose last run ended without
    /// error is given back.
    pub async fn reuse(&mut self, options: &Options) -> anyhow::Result<()> {
        sqlx::raw_sql(
            "RESET ALL; DISCARD TEMP; SELECT pg_advisory_unlock_all(); SET application_name = 'schema migrate'",
        )
        .execute(&mut self.conn)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reset the session: {}", connect::describe(&e)))?;
        set_up(&mut self.conn, options).await?;
        (self.table, self.lock_key) = names(options);
        self.options = options.clone();
        Ok(())
    }

    async fn run(&mut self, sql: &str) -> Result<(), DbError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(&mut self.conn).await.map(drop).map_err(|e| error(&e))
    }
}

/// The quoted tracking table, and the advisory lock key derived from its name, so that runners with
/// different tables do not wait for each other (advisory locks are per database already).
fn names(options: &Options) -> (String, i64) {
    let table = qualified(&options.table);
    let digest = crate::migrations::checksum(format!("schema migrate {table}").as_bytes());
    let lock_key = i64::from_str_radix(&digest[..15], 16).expect("hex digits");
    (table, lock_key)
}

/// The session's timeouts and `search_path` from the options.
async fn set_up(conn: &mut PgConnection, options: &Options) -> anyhow::Result<()> {
    let mut settings = Vec::new();
    for (name, value) in [("lock_timeout", options.lock_timeout), ("statement_timeout", options.statement_timeout)] {
        if let Some(value) = value {
            settings.push(format!("SET {name} = {}", literal(&format!("{}ms", value.as_millis()))));
        }
    }
    if !options.search_path.is_empty() {
        let schemas: Vec<String> = options.search_path.iter().map(|s| ident(s)).collect();
        settings.push(format!("SET search_path TO {}", schemas.join(", ")));
    }
    for sql in settings {
        sqlx::raw_sql(AssertSqlSafe(sql.clone()))
            .execute(&mut *conn)
            .await
            .map_err(|e| anyhow::anyhow!("{sql}: {}", connect::describe(&e)))?;
    }
    // PostgreSQL 14+: notice a vanished client (a killed runner) within a second even while a long
    // statement runs, so that its transaction and lock go away quickly. Older servers lack the setting.
    let _ = sqlx::raw_sql("SET client_connection_check_interval = '1s'").execute(&mut *conn).await;
    Ok(())
}

fn error(e: &sqlx::Error) -> DbError {
    let pg = e.as_database_error().and_then(|d| d.try_downcast_ref::<PgDatabaseError>());
    DbError {
        message: connect::describe(e),
        lock_timeout: pg.is_some_and(|pg| pg.code() == LOCK_NOT_AVAILABLE),
        position: pg.and_then(|pg| match pg.position() {
            Some(PgErrorPosition::Original(position)) => Some(position),
            _ => None,
        }),
    }
}

impl Database for PgDatabase {
    fn statement_dialect(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        Box::new(super::sql_dialect())
    }

    async fn try_lock(&mut self) -> Result<bool, DbError> {
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(self.lock_key)
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| error(&e))
    }

    async fn lock_holder(&mut self) -> Result<Option<String>, DbError> {
        let row = sqlx::query(
            "SELECT a.pid, a.application_name, a.client_addr::text AS client, \
                    to_char(now() - a.backend_start, 'HH24:MI:SS') AS connected \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.classid::bigint = ($1::bigint >> 32) AND l.objid::bigint = ($1::bigint & 4294967295)",
        )
        .bind(self.lock_key)
        .fetch_optional(&mut self.conn)
        .await
        .map_err(|e| error(&e))?;
        Ok(row.map(|row| {
            let pid: i32 = row.try_get("pid").unwrap_or_default();
            let application: Option<String> = row.try_get("application_name").ok();
            let client: Option<String> = row.try_get("client").ok().flatten();
            let connected: Option<String> = row.try_get("connected").ok();
            format!(
                "held by server process {pid}, application {:?}, client {}, connected for {}",
                application.unwrap_or_default(),
                client.unwrap_or_else(|| "local socket".into()),
                connected.unwrap_or_default()
            )
        }))
    }

    async fn unlock(&mut self) -> Result<(), DbError> {
        sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
            .bind(self.lock_key)
            .fetch_one(&mut self.conn)
            .await
            .map(drop)
            .map_err(|e| error(&e))
    }

    async fn ensure_table(&mut self) -> Result<(), DbError> {
        // Only when missing: `CREATE SCHEMA IF NOT EXISTS` needs the right to create schemas even then,
        // which a tenant's role may not have.
        let schema = &self.options.table.schema;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1)")
            .bind(schema.as_str())
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| error(&e))?;
        if !exists {
            self.run(&format!("CREATE SCHEMA IF NOT EXISTS {}", ident(schema))).await?;
        }
        self.run(&format!(
            "CREATE TABLE IF NOT EXISTS {} (\n\
             \x20   version text PRIMARY KEY,\n\
             \x20   name text NOT NULL,\n\
             \x20   checksum text NOT NULL,\n\
             \x20   applied_at timestamptz NOT NULL DEFAULT now(),\n\
             \x20   execution_ms bigint NOT NULL DEFAULT 0,\n\
             \x20   dirty boolean NOT NULL DEFAULT false,\n\
             \x20   note text\n\
             )",
            self.table
        ))
        .await
    }

    async fn applied(&mut self) -> Result<Vec<Applied>, DbError> {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
        )
        .bind(&self.table)
        .fetch_all(&mut self.conn)
        .await
        .map_err(|e| error(&e))?;
        if columns.is_empty() {
            return Ok(Vec::new());
        }
        let missing: Vec<&str> = COLUMNS.iter().copied().filter(|c| !columns.iter().any(|have| have == c)).collect();
        if !missing.is_empty() {
            return Err(DbError {
                message: format!(
                    "{} exists but was not created by `schema migrate` (it has no column {}); set [migrate] table in \
                     diff.toml to another name",
                    self.table,
                    missing.join(", ")
                ),
                lock_timeout: false,
                position: None,
            });
        }
        let sql = format!(
            "SELECT version, name, checksum, \
                    to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS applied_at, \
                    execution_ms, dirty, note \
             FROM {} ORDER BY version",
            self.table
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut self.conn).await.map_err(|e| error(&e))?;
        rows.iter()
            .map(|row| {
                Ok(Applied {
                    version: row.try_get("version")?,
                    name: row.try_get("name")?,
                    checksum: row.try_get("checksum")?,
                    applied_at: row.try_get("applied_at")?,
                    execution_ms: row.try_get("execution_ms")?,
                    dirty: row.try_get("dirty")?,
                    note: row.try_get("note")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| error(&e))
    }

    async fn begin(&mut self) -> Result<(), DbError> {
        self.run("BEGIN").await
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        self.run("COMMIT").await
    }

    async fn rollback(&mut self) -> Result<(), DbError> {
        self.run("ROLLBACK").await
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.run(sql).await
    }

    async fn insert(&mut self, row: &Applied) -> Result<(), DbError> {
        let sql = format!(
            "INSERT INTO {} (version, name, checksum, execution_ms, dirty, note) VALUES ($1, $2, $3, $4, $5, $6)",
            self.table
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&row.version)
            .bind(&row.name)
            .bind(&row.checksum)
            .bind(row.execution_ms)
            .bind(row.dirty)
            .bind(&row.note)
            .execute(&mut self.conn)
            .await
            .map(drop)
            .map_err(|e| error(&e))
    }

    async fn mark(&mut self, version: &str, dirty: bool, note: Option<&str>, execution_ms: i64) -> Result<(), DbError> {
        let sql = format!("UPDATE {} SET dirty = $2, note = $3, execution_ms = $4 WHERE version = $1", self.table);
        sqlx::query(AssertSqlSafe(sql))
            .bind(version)
            .bind(dirty)
            .bind(note)
            .bind(execution_ms)
            .execute(&mut self.conn)
            .await
            .map(drop)
            .map_err(|e| error(&e))
    }

    async fn delete(&mut self, version: &str) -> Result<(), DbError> {
        let sql = format!("DELETE FROM {} WHERE version = $1", self.table);
        sqlx::query(AssertSqlSafe(sql)).bind(version).execute(&mut self.conn).await.map(drop).map_err(|e| error(&e))
    }

    type Watch = PgWatch;

    async fn watch(&mut self, sql: &str) -> Option<PgWatch> {
        let mut statement = Statement::of(sql);
        // A backfill's batches are counted from the transaction number right before it (one read of
        // pg_locks on this connection, only before a backfill block).
        if let Statement::Backfill { before, .. } = &mut statement {
            *before = progress::local_transaction(&mut self.conn).await;
        }
        Some(PgWatch::new(&self.url, self.pid, statement))
    }
}
