//! Turns declared statements into a [`Catalog`] the way SQLite itself understands them: the
//! statements are run, in dependency order, in a private in-memory database, which is introspected
//! with the same code as a live database and then thrown away.

use super::connect::{self, ConnectError};
use super::introspect::{self, IntrospectError};
use crate::declared::{DeclaredStatement, SourceLocation};
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

/// Loads the statements (already in dependency order) and returns the resulting catalog.
pub async fn load(statements: &[DeclaredStatement]) -> Result<Catalog, LoadError> {
    let mut conn = connect::connect_memory().await?;
    for statement in statements {
        if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.sql.clone())).execute(&mut conn).await {
            let message = match error.as_database_error() {
                Some(e) => e.message().to_string(),
                None => error.to_string(),
            };
            // SQLite reports no position inside the statement: point at its start.
            let location = statement.location.advance(&statement.sql, 1);
            return Err(LoadError::Rejected { location, message });
        }
    }
    let catalog = introspect::introspect(&mut conn).await?;
    let _ = conn.close().await;
    if !catalog.unmanaged.is_empty() {
        return Err(LoadError::Unmanaged(catalog.unmanaged.iter().map(|o| o.to_string()).collect()));
    }
    Ok(catalog)
}
