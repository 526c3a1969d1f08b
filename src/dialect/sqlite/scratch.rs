//! Turns declared statements into a [`Catalog`] the way SQLite itself understands them: the
//! statements are run, in dependency order, in a private in-memory database, which is introspected
//! with the same code as a live database and then thrown away.

use super::connect::{self, ConnectError};
use super::introspect::{self, IntrospectError};
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
}

/// Loads the statements (already in dependency order) and returns the resulting catalog. With
/// [`Retry::MissingObjects`], a statement that fails because a table, view, column, function or collation
/// it names does not exist yet (a trigger on a table declared later, say) runs again after the others,
/// until a round makes no progress.
pub async fn load(statements: &[DeclaredStatement], retry: Retry) -> Result<Catalog, LoadError> {
    let mut conn = connect::connect_memory().await?;
    let mut pending: Vec<&DeclaredStatement> = statements.iter().collect();
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
    let catalog = introspect::introspect(&mut conn).await?;
    let _ = conn.close().await;
    if !catalog.unmanaged.is_empty() {
        return Err(LoadError::Unmanaged(catalog.unmanaged.iter().map(|o| o.to_string()).collect()));
    }
    Ok(catalog)
}

/// SQLite gives every such error one code; its message says what is missing.
fn names_a_missing_object(error: &LoadError) -> bool {
    const MISSING: &[&str] =
        &["no such table", "no such view", "no such column", "no such function", "no such collation", "no such index"];
    matches!(error, LoadError::Rejected { message, .. } if MISSING.iter().any(|m| message.starts_with(m)))
}
