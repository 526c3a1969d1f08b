//! Turns declared statements into a [`Catalog`] the way SQLite itself understands them: the
//! statements are run, in dependency order, in a private in-memory database, which is introspected
//! with the same code as a live database and then thrown away.
//!
//! Before it is read, the scratch database gets the one rewrite SQLite makes to a whole schema by
//! itself: a double-quoted word that names nothing is a string literal to SQLite (`"open"` for
//! `'open'`), and whenever a column is renamed or dropped, SQLite rewrites every such string in every
//! definition of the database to single quotes. The declared text is therefore read as SQLite would
//! leave it after any such migration; otherwise the text written by one migration would differ from
//! the declared one after the next.

use super::connect::{self, ConnectError};
use super::introspect::{self, IntrospectError};
use super::render::ident;
use crate::declared::{DeclaredStatement, Retry, SourceLocation};
use crate::model::Catalog;
use sqlx::Connection;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("{location}: {message}")]
    Rejected { location: SourceLocation, message: String },
    #[error("the declared schema creates objects that are not managed by this version: {}", .0.join(", "))]
    Unmanaged(Vec<String>),
    #[error(transparent)]
    Introspect(#[from] IntrospectError),
    #[error("cannot prepare the declared schema for reading: {0}")]
    Rewrite(String),
}

/// Loads the statements (already in dependency order) and returns the resulting catalog. With
/// [`Retry::MissingObjects`], a statement that fails because a table, view, column, function or collation
/// it names does not exist yet (a trigger on a table declared later, say) runs again after the others,
/// until a round makes no progress.
pub async fn load(statements: &[DeclaredStatement], retry: Retry) -> Result<Catalog, LoadError> {
    let mut conn = connect::connect_memory().await?;
    let mut pending: Vec<&DeclaredStatement> = statements.iter().filter(|s| !creates_internal_table(&s.sql)).collect();
    while !pending.is_empty() {
        let mut failed: Vec<(&DeclaredStatement, LoadError)> = Vec::new();
        for statement in &pending {
            // SQLite runs each statement atomically: a failed one leaves nothing behind to roll back.
            let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.sql.as_str())).execute(&mut conn).await else {
                continue;
            };
            let message = match error.as_database_error() {
                Some(e) => e.message().to_string(),
                None => error.to_string(),
            };
            // SQLite reports no position inside the statement: point at its start.
            let location = statement.location.advance(&statement.sql, 1);
            let rejected = LoadError::Rejected { location, message };
            if retry == Retry::MissingObjects && names_a_missing_object(&rejected) {
                failed.push((statement, rejected));
            } else {
                return Err(rejected);
            }
        }
        if failed.len() == pending.len() {
            let cause = crate::declared::first_cause(&failed.iter().map(|(s, _)| *s).collect::<Vec<_>>());
            return Err(failed.swap_remove(cause).1);
        }
        pending = crate::declared::retry_order(&failed.into_iter().map(|(statement, _)| statement).collect::<Vec<_>>());
    }
    rewrite_double_quoted_strings(&mut conn).await?;
    let catalog = introspect::introspect(&mut conn).await?;
    let _ = conn.close().await;
    if !catalog.unmanaged.is_empty() {
        return Err(LoadError::Unmanaged(catalog.unmanaged.iter().map(|o| o.to_string()).collect()));
    }
    Ok(catalog)
}

/// `CREATE TABLE sqlite_sequence(name,seq)` and `sqlite_stat1`…`4`: `sqlite3 .schema` prints them
/// with the rest, but SQLite creates them itself (for AUTOINCREMENT, for ANALYZE) and refuses the
/// names to anyone else. A schema copied from `.schema` declares them; they are not the user's to
/// load.
fn creates_internal_table(sql: &str) -> bool {
    const INTERNAL: &[&str] = &["sqlite_sequence", "sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4"];
    let dialect = sqlparser::dialect::SQLiteDialect {};
    let Ok(tokens) = sqlparser::tokenizer::Tokenizer::new(&dialect, sql).tokenize_with_location() else { return false };
    let Some((name, _)) = crate::declared::create_table_names(&tokens) else { return false };
    let schema_ok = name.len() == 1 || name[0].value.eq_ignore_ascii_case("main");
    schema_ok && name.last().is_some_and(|n| INTERNAL.iter().any(|i| n.value.eq_ignore_ascii_case(i)))
}

/// SQLite gives every such error one code; its message says what is missing.
fn names_a_missing_object(error: &LoadError) -> bool {
    const MISSING: &[&str] =
        &["no such table", "no such view", "no such column", "no such function", "no such collation", "no such index"];
    matches!(error, LoadError::Rejected { message, .. } if MISSING.iter().any(|m| message.starts_with(m)))
}

/// Makes SQLite rewrite double-quoted string literals to single-quoted ones in every definition, by
/// renaming a column of a table made for that purpose. `writable_schema` makes SQLite leave a
/// definition it cannot resolve (a view over a table that does not exist) as it is instead of failing.
async fn rewrite_double_quoted_strings(conn: &mut sqlx::SqliteConnection) -> Result<(), LoadError> {
    // SQLite checks every definition of the schema for the rename (0.7 s of CPU for 6,600 objects):
    // without a double quote anywhere there is nothing to rewrite.
    let quoted: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM main.sqlite_schema WHERE instr(sql, '\"') > 0)")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| LoadError::Rewrite(e.to_string()))?;
    if !quoted {
        return Ok(());
    }
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM main.sqlite_schema")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| LoadError::Rewrite(e.to_string()))?;
    let table = (1..).map(|n| format!("schema_quotefix{n}")).find(|t| !names.iter().any(|n| n.eq_ignore_ascii_case(t)));
    let table = ident(&table.unwrap_or_default());
    let script = format!(
        "PRAGMA writable_schema = ON; CREATE TABLE main.{table} (a); ALTER TABLE main.{table} RENAME COLUMN a TO b; \
         DROP TABLE main.{table}; PRAGMA writable_schema = OFF;"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(script))
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(|e| LoadError::Rewrite(e.to_string()))
}
