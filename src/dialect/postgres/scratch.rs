//! Turns declared statements into a [`Catalog`] the way PostgreSQL itself understands them: the
//! statements are loaded into a scratch database, introspected, and thrown away. The scratch database is
//! either the dev database (`--dev-url`, which must be empty: the load runs in one transaction that is
//! introspected and rolled back, so nothing is committed to it) or a temporary database created on the
//! target server (loaded in batches of transactions) and dropped afterwards, also on error and on Ctrl-C.
//! Statements travel in groups, one round trip each (see [`GROUP`]): loading thousands of tables one
//! statement per round trip took longer than PostgreSQL took to run them.

use super::connect::{self, ConnectError, redact};
use super::introspect::{self, IntrospectError};
use crate::declared::{DeclaredStatement, SourceLocation};
use crate::model::Catalog;
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgDatabaseError, PgErrorPosition};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(
        "cannot create a scratch database on {url}: {message}\nhint: give the role the CREATEDB privilege, or \
         point --dev-url (dev_url in diff.toml) at an empty database schema may use"
    )]
    CreateScratch { url: String, message: String },
    #[error("{location}: {message}")]
    Rejected { location: SourceLocation, message: String },
    #[error("the dev database {url} is not empty; schema needs an empty database to load the declared files into")]
    DevNotEmpty { url: String },
    #[error(
        "the declared schema creates objects that are not managed by this version: {}",
        .0.join(", ")
    )]
    Unmanaged(Vec<String>),
    #[error("scratch database: {0}")]
    Database(String),
    #[error(transparent)]
    Introspect(#[from] IntrospectError),
    #[error("interrupted; the scratch database was dropped")]
    Interrupted,
}

/// Loads the statements (already in dependency order) and returns the resulting catalog.
pub async fn load(
    target_url: &str,
    dev_url: Option<&str>,
    statements: &[DeclaredStatement],
    schemas: &[String],
) -> Result<Catalog, LoadError> {
    load_then(target_url, dev_url, statements, schemas, async |_, catalog| Ok::<_, LoadError>(catalog)).await
}

/// [`load`], then `then` with a connection to the loaded database and its catalog, before the database
/// is rolled back or dropped: for questions only the declared schema can answer (whether a planned type
/// conversion runs, [`super::conversions`]).
pub async fn load_then<T, E: From<LoadError>>(
    target_url: &str,
    dev_url: Option<&str>,
    statements: &[DeclaredStatement],
    schemas: &[String],
    then: impl AsyncFnOnce(&mut PgConnection, Catalog) -> Result<T, E>,
) -> Result<T, E> {
    if let Some(dev_url) = dev_url {
        let mut conn = connect::connect(dev_url).await.map_err(LoadError::from)?;
        let existing = introspect::introspect_live(&mut conn, &[]).await.map_err(LoadError::from)?;
        let only_public = existing.schemas.keys().all(|s| s == "public");
        if !(existing.is_empty() && existing.unmanaged.is_empty() && only_public) {
            return Err(LoadError::DevNotEmpty { url: redact(dev_url) }.into());
        }
        let result = interruptible(load_into(&mut conn, statements, schemas, Loading::RolledBack, then)).await;
        let _ = conn.close().await;
        return result;
    }

    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!(
        "schema_scratch_{}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut admin = connect::connect(target_url).await.map_err(LoadError::from)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {} TEMPLATE template0", super::render::ident(&name))))
        .execute(&mut admin)
        .await
        .map_err(|e| LoadError::CreateScratch { url: redact(target_url), message: e.to_string() })?;
    let result = interruptible(async {
        let url = connect::with_database(target_url, &name).map_err(LoadError::from)?;
        let mut conn = connect::connect(&url).await.map_err(LoadError::from)?;
        let result = load_into(&mut conn, statements, schemas, Loading::Batched, then).await;
        let _ = conn.close().await;
        result
    })
    .await;
    // Always dropped, whatever happened above.
    let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", super::render::ident(&name));
    let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await;
    let _ = admin.close().await;
    match (result, dropped) {
        (Ok(_), Err(e)) => Err(LoadError::Database(format!("could not drop scratch database {name}: {e}")).into()),
        (result, _) => result,
    }
}

async fn interruptible<T, E: From<LoadError>, F: std::future::Future<Output = Result<T, E>>>(work: F) -> Result<T, E> {
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => Err(LoadError::Interrupted.into()),
    }
}

/// How declared statements are loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Loading {
    /// In one transaction that is rolled back: a dev database must be left as it was.
    RolledBack,
    /// Committed in batches: a temporary database is dropped anyway, and one transaction over thousands
    /// of tables would exhaust the server's lock table (about 15 locks per table).
    Batched,
}

/// Statements per transaction when loading in batches (eight groups).
const BATCH: usize = 8 * GROUP;

async fn load_into<T, E: From<LoadError>>(
    conn: &mut PgConnection,
    statements: &[DeclaredStatement],
    schemas: &[String],
    loading: Loading,
    then: impl AsyncFnOnce(&mut PgConnection, Catalog) -> Result<T, E>,
) -> Result<T, E> {
    let unmanaged = |catalog: &Catalog| match catalog.unmanaged.is_empty() {
        true => Ok(()),
        false => Err(LoadError::Unmanaged(catalog.unmanaged.iter().map(|o| o.to_string()).collect())),
    };
    match loading {
        Loading::RolledBack => {
            if let Some(statement) = statements.iter().find(|s| s.outside_transaction) {
                return Err(LoadError::Database(format!(
                    "{}: this statement runs outside a transaction, and the dev database must be left empty (its \
                     load is rolled back); replay without --dev-url (a temporary database on the server)",
                    statement.location
                ))
                .into());
            }
            let mut tx = conn.begin().await.map_err(|e| LoadError::Database(e.to_string()))?;
            run_all(&mut tx, statements).await?;
            analyze(&mut tx).await?;
            let catalog = introspect::snapshot(&mut tx, schemas).await.map_err(LoadError::from)?;
            unmanaged(&catalog)?;
            let result = then(&mut tx, catalog).await;
            let _ = tx.rollback().await;
            result
        }
        Loading::Batched => {
            // Statements that cannot run in a transaction block run on their own, in order.
            for run in statements.chunk_by(|a, b| a.outside_transaction == b.outside_transaction) {
                if run[0].outside_transaction {
                    for statement in run {
                        execute(conn, &statement.sql).await.map_err(|e| rejected(statement, e))?;
                    }
                    continue;
                }
                for batch in run.chunks(BATCH) {
                    let mut tx = conn.begin().await.map_err(|e| LoadError::Database(e.to_string()))?;
                    run_all(&mut tx, batch).await?;
                    tx.commit().await.map_err(|e| LoadError::Database(e.to_string()))?;
                }
            }
            analyze(conn).await?;
            let catalog = introspect::introspect_live(conn, schemas).await.map_err(LoadError::from)?;
            unmanaged(&catalog)?;
            then(conn, catalog).await
        }
    }
}

/// Statements sent in one round trip. Each group runs under a savepoint; a group the server rejects is
/// rolled back to it and run again one statement at a time, so that the error names the statement.
const GROUP: usize = 64;

async fn run_all(conn: &mut PgConnection, statements: &[DeclaredStatement]) -> Result<(), LoadError> {
    let database = |e: sqlx::Error| LoadError::Database(e.to_string());
    // Set in a round trip of its own: the server parses a whole query string before it runs any of it,
    // so a savepoint sent with a group that does not parse would never be set.
    execute(conn, "SAVEPOINT schema_load").await.map_err(database)?;
    for group in statements.chunks(GROUP) {
        // One round trip: the group, then a fresh savepoint for the next one. After an error the server
        // skips the rest of the string, and the savepoint set before the group is still there.
        let mut batch = String::with_capacity(group.iter().map(|s| s.sql.len() + 3).sum::<usize>() + 64);
        for statement in group {
            batch.push_str(&statement.sql);
            // On its own line: a statement may end in a `--` comment.
            batch.push_str("\n;\n");
        }
        batch.push_str("RELEASE SAVEPOINT schema_load; SAVEPOINT schema_load");
        if execute(conn, &batch).await.is_ok() {
            continue;
        }
        execute(conn, "ROLLBACK TO SAVEPOINT schema_load").await.map_err(database)?;
        for statement in group {
            execute(conn, &statement.sql).await.map_err(|e| rejected(statement, e))?;
        }
    }
    execute(conn, "RELEASE SAVEPOINT schema_load").await.map_err(database)
}

/// Gives the catalogs that grew with the load statistics before they are introspected. Without them the
/// planner takes the freshly loaded catalogs for small ones: at 5,000 tables it joined the column
/// comments by a nested loop, and the columns query took 8.6 s instead of 0.3 s. Where the role may not
/// analyze a catalog, PostgreSQL skips it with a warning.
async fn analyze(conn: &mut PgConnection) -> Result<(), LoadError> {
    const CATALOGS: &str = "ANALYZE pg_catalog.pg_namespace, pg_catalog.pg_class, pg_catalog.pg_attribute, \
        pg_catalog.pg_attrdef, pg_catalog.pg_type, pg_catalog.pg_constraint, pg_catalog.pg_index, \
        pg_catalog.pg_depend, pg_catalog.pg_description, pg_catalog.pg_inherits, pg_catalog.pg_sequence, \
        pg_catalog.pg_proc, pg_catalog.pg_trigger";
    execute(conn, CATALOGS).await.map_err(|e| LoadError::Database(e.to_string()))
}

async fn execute(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(drop)
}

/// The server's message, placed at the file, line and column it points to.
fn rejected(statement: &DeclaredStatement, error: sqlx::Error) -> LoadError {
    let position = match error.as_database_error().and_then(|e| e.try_downcast_ref::<PgDatabaseError>()) {
        Some(pg) => match pg.position() {
            Some(PgErrorPosition::Original(p)) => p,
            _ => 1,
        },
        None => 1,
    };
    let message = connect::describe(&error);
    LoadError::Rejected { location: statement.location.advance(&statement.sql, position), message }
}
