//! Connections and scripts. A URL is `sqlite:path`, `sqlite://path` or `sqlite::memory:`; a missing
//! database file is created. Foreign keys are enforced on every connection (sqlx's default), except
//! while a migration script runs: see [`execute_script`].

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("invalid database URL {url}: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("cannot open {url}: {message}")]
    Unreachable { url: String, message: String },
}

pub fn options(url: &str) -> Result<SqliteConnectOptions, ConnectError> {
    if !url.to_ascii_lowercase().starts_with("sqlite:") {
        return Err(ConnectError::InvalidUrl {
            url: url.to_string(),
            message: "expected sqlite:path, sqlite://path or sqlite::memory:".to_string(),
        });
    }
    SqliteConnectOptions::from_str(url)
        .map(|o| o.create_if_missing(true).disable_statement_logging())
        .map_err(|e| ConnectError::InvalidUrl { url: url.to_string(), message: e.to_string() })
}

pub async fn connect(url: &str) -> Result<SqliteConnection, ConnectError> {
    let options = options(url)?;
    SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| ConnectError::Unreachable { url: url.to_string(), message: e.to_string() })
}

/// A connection that cannot write (for reading the live rows).
pub async fn connect_read_only(url: &str) -> Result<SqliteConnection, ConnectError> {
    let options = options(url)?.create_if_missing(false).read_only(true);
    SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| ConnectError::Unreachable { url: url.to_string(), message: e.to_string() })
}

/// A private in-memory database (the scratch database of the declared side).
pub async fn connect_memory() -> Result<SqliteConnection, ConnectError> {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")
        .map_err(|e| ConnectError::InvalidUrl { url: "sqlite::memory:".into(), message: e.to_string() })?
        .disable_statement_logging();
    SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| ConnectError::Unreachable { url: "sqlite::memory:".into(), message: e.to_string() })
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("statement {index} failed ({sql}): {message}")]
    Statement { index: usize, sql: String, message: String },
    #[error("{0}")]
    Database(String),
    #[error("the migration would leave rows whose foreign keys point nowhere: {0}; nothing was changed")]
    ForeignKeyViolations(String),
}

/// Runs a migration script the way SQLite's documentation prescribes for table rebuilds:
/// `PRAGMA foreign_keys = OFF` before the transaction (it cannot change inside one, and with it on,
/// dropping the old copy of a rebuilt table would run the `ON DELETE` actions of the tables that
/// reference it), the statements in one transaction, `PRAGMA foreign_key_check` before the commit
/// (any violation rolls everything back), and foreign keys back on afterwards.
///
/// SQLite runs every statement transactionally, so `transactional = false` (a PostgreSQL notion)
/// changes nothing here.
pub async fn execute_script(
    conn: &mut SqliteConnection,
    statements: &[String],
    _transactional: bool,
) -> Result<(), ScriptError> {
    let run = |sql: &'static str| sqlx::raw_sql(sql);
    run("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.map_err(|e| ScriptError::Database(e.to_string()))?;
    let result = async {
        let mut tx = conn.begin().await.map_err(|e| ScriptError::Database(e.to_string()))?;
        for (i, sql) in statements.iter().enumerate() {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut *tx)
                .await
                .map_err(|e| ScriptError::Statement { index: i + 1, sql: sql.clone(), message: e.to_string() })?;
        }
        let violations: Vec<(String, Option<i64>, String)> =
            sqlx::query_as("SELECT \"table\", rowid, \"parent\" FROM pragma_foreign_key_check LIMIT 5")
                .fetch_all(&mut *tx)
                .await
                .map_err(|e| ScriptError::Database(e.to_string()))?;
        if !violations.is_empty() {
            let listed: Vec<String> = violations
                .iter()
                .map(|(t, rowid, p)| format!("{t} rowid {} -> {p}", rowid.unwrap_or_default()))
                .collect();
            return Err(ScriptError::ForeignKeyViolations(listed.join(", ")));
        }
        tx.commit().await.map_err(|e| ScriptError::Database(e.to_string()))
    }
    .await;
    let restored = run("PRAGMA foreign_keys = ON").execute(&mut *conn).await;
    result?;
    restored.map(|_| ()).map_err(|e| ScriptError::Database(e.to_string()))
}
