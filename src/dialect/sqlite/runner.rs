//! The runner's primitives for SQLite. SQLite has one writer at a time, so the lock is an immediate
//! transaction (`BEGIN IMMEDIATE`) held for the whole run, and each migration is a savepoint inside it:
//! a failing migration is rolled back to its savepoint, the ones before it commit when the lock is
//! released. A killed runner therefore commits nothing of its run. Foreign keys are off for the session
//! (they cannot be switched inside a transaction, and table rebuilds need them off) and checked with
//! `PRAGMA foreign_key_check` before each migration is released. SQLite runs every statement in a
//! transaction, so `-- schema:no-transaction` changes nothing here: such a file runs in its savepoint
//! too (and, like any other, may not contain BEGIN or COMMIT).

use crate::dialect::sqlite::{self, connect, render::ident};
use crate::runner::{Applied, Database, DbError, Options};
use sqlx::sqlite::SqliteConnection;
use sqlx::{AssertSqlSafe, Row};

/// SQLITE_BUSY and SQLITE_LOCKED, and their extended codes: another connection is writing.
const BUSY: [&str; 5] = ["5", "6", "261", "262", "517"];

const SAVEPOINT: &str = "schema_migration";

/// How long a read waits for a writer's commit.
const BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 5000";

pub struct SqliteDatabase {
    conn: SqliteConnection,
    /// The quoted tracking table (always in `main`).
    table: String,
}

impl SqliteDatabase {
    pub async fn connect(url: &str, options: &Options) -> anyhow::Result<SqliteDatabase> {
        let mut conn = connect::connect(url).await?;
        for sql in [BUSY_TIMEOUT, "PRAGMA foreign_keys = OFF"] {
            sqlx::raw_sql(sql).execute(&mut conn).await.map_err(|e| anyhow::anyhow!("{sql}: {e}"))?;
        }
        Ok(SqliteDatabase { conn, table: ident(&options.table.name) })
    }

    /// The session, for verification, which introspects the in-memory database it runs migrations in
    /// (another connection would open another, empty, database).
    pub(crate) fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }

    async fn run(&mut self, sql: &str) -> Result<(), DbError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(&mut self.conn).await.map(drop).map_err(|e| error(&e))
    }
}

fn error(e: &sqlx::Error) -> DbError {
    DbError {
        message: e.as_database_error().map_or_else(|| e.to_string(), |d| d.message().to_string()),
        lock_timeout: false,
        position: None,
    }
}

fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).is_some_and(|code| BUSY.contains(&code.as_ref()))
}

impl Database for SqliteDatabase {
    /// SQLite has no progress to report: the runner shows the elapsed time of a long statement.
    type Watch = crate::runner::progress::NoWatch;

    fn statement_dialect(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        Box::new(super::sql_dialect())
    }

    fn tracking_table(&self, options: &Options) -> crate::model::QualifiedName {
        crate::model::QualifiedName::new(sqlite::SCHEMA, options.table.name.clone())
    }

    fn always_transactional(&self) -> bool {
        // The lock is a transaction held for the whole run: a statement never commits on its own, so a
        // no-transaction file runs in its savepoint like any other and cannot be left half done.
        true
    }

    async fn try_lock(&mut self) -> Result<bool, DbError> {
        // A busy database makes `BEGIN IMMEDIATE` return at once; the runner does the (bounded) waiting.
        self.run("PRAGMA busy_timeout = 0").await?;
        let begun = sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut self.conn).await;
        self.run(BUSY_TIMEOUT).await?;
        match begun {
            Ok(_) => Ok(true),
            Err(e) if is_busy(&e) => Ok(false),
            Err(e) => Err(error(&e)),
        }
    }

    async fn lock_holder(&mut self) -> Result<Option<String>, DbError> {
        Ok(Some("another connection is writing to the database".into()))
    }

    async fn unlock(&mut self) -> Result<(), DbError> {
        self.run("COMMIT").await
    }

    async fn ensure_table(&mut self) -> Result<(), DbError> {
        self.run(&format!(
            "CREATE TABLE IF NOT EXISTS {} (\n\
             \x20   version text PRIMARY KEY,\n\
             \x20   name text NOT NULL,\n\
             \x20   checksum text NOT NULL,\n\
             \x20   applied_at text NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now') || ' UTC'),\n\
             \x20   execution_ms integer NOT NULL DEFAULT 0,\n\
             \x20   dirty integer NOT NULL DEFAULT 0,\n\
             \x20   note text\n\
             )",
            self.table
        ))
        .await
    }

    async fn applied(&mut self) -> Result<Vec<Applied>, DbError> {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1")
                .bind(self.table.trim_matches('"').replace("\"\"", "\""))
                .fetch_optional(&mut self.conn)
                .await
                .map_err(|e| error(&e))?;
        if exists.is_none() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT version, name, checksum, applied_at, execution_ms, dirty, note FROM {} ORDER BY version",
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
        self.run(&format!("SAVEPOINT {SAVEPOINT}")).await
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        let violations =
            sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut self.conn).await.map_err(|e| error(&e))?;
        if let Some(row) = violations.first() {
            let table: String = row.try_get(0).unwrap_or_default();
            self.rollback().await?;
            return Err(DbError {
                message: format!(
                    "{} row(s) would have foreign keys that point nowhere (first in table {table})",
                    violations.len()
                ),
                lock_timeout: false,
                position: None,
            });
        }
        self.run(&format!("RELEASE {SAVEPOINT}")).await
    }

    async fn rollback(&mut self) -> Result<(), DbError> {
        self.run(&format!("ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}")).await
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
}
