//! Turns declared statements into a [`Catalog`] the way PostgreSQL itself understands them: the
//! statements are loaded into a scratch database, introspected, and thrown away. The scratch database is
//! either the dev database (`--dev-url`, which must be empty: the load runs in one transaction that is
//! introspected and rolled back, so nothing is committed to it) or a temporary database created on the
//! target server (loaded in batches of transactions) and dropped afterwards, also on error and on SIGINT,
//! SIGTERM and SIGHUP; a drop that fails is an error naming the database left behind.
//! Statements travel in groups, one round trip each (see [`GROUP`]): loading thousands of tables one
//! statement per round trip took longer than PostgreSQL took to run them. A declared statement that fails
//! because something it names does not exist yet is tried again after the others, until a round makes no
//! progress (see [`Retry`]): any order of valid statements loads.

use super::connect::{self, ConnectError, redact};
use super::introspect::{self, IntrospectError};
use crate::declared::{DeclaredStatement, Retry, SourceLocation};
use crate::model::Catalog;
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgDatabaseError, PgErrorPosition};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
    #[error("interrupted by {0}; nothing was kept")]
    Interrupted(&'static str),
    #[error(
        "could not drop the scratch database {name}, which is left on the server: {message}\nhint: drop it with \
         DROP DATABASE {name} WITH (FORCE)"
    )]
    NotDropped { name: String, message: String },
    #[error(
        "{error}\nalso, could not drop the scratch database {name}, which is left on the server: {message}\nhint: drop it with DROP DATABASE {name} WITH (FORCE)"
    )]
    FailedAndNotDropped { error: Box<LoadError>, name: String, message: String },
}

/// Loads the statements (already in dependency order) and returns the resulting catalog.
pub async fn load(
    target_url: &str,
    dev_url: Option<&str>,
    statements: &[DeclaredStatement],
    schemas: &[String],
    retry: Retry,
) -> Result<Catalog, LoadError> {
    load_then(target_url, dev_url, statements, schemas, retry, async |_, catalog| Ok::<_, LoadError>(catalog)).await
}

/// [`load`], then `then` with a connection to the loaded database and its catalog, before the database
/// is rolled back or dropped: for questions only the declared schema can answer (whether a planned type
/// conversion runs, [`super::conversions`]).
pub async fn load_then<T, E: From<LoadError> + std::fmt::Display>(
    target_url: &str,
    dev_url: Option<&str>,
    statements: &[DeclaredStatement],
    schemas: &[String],
    retry: Retry,
    then: impl AsyncFnOnce(&mut PgConnection, Catalog) -> Result<T, E>,
) -> Result<T, E> {
    // Listening starts before anything is created, so that no signal can leave a database behind.
    let mut signals = Signals::listen()?;
    if let Some(dev_url) = dev_url {
        let mut conn = connect::connect(dev_url).await.map_err(LoadError::from)?;
        let existing = introspect::introspect_live(&mut conn, &[]).await.map_err(LoadError::from)?;
        let only_public = existing.schemas.keys().all(|s| s == "public");
        if !(existing.is_empty() && existing.unmanaged.is_empty() && only_public) {
            return Err(LoadError::DevNotEmpty { url: redact(dev_url) }.into());
        }
        let result =
            signals.interruptible(load_into(&mut conn, statements, schemas, Loading::RolledBack, retry, then)).await;
        // Closing the connection rolls back what an interrupted load left open.
        let _ = conn.close().await;
        return result?;
    }
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "schema_scratch_{}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let quoted = super::render::ident(&name);
    let mut admin = connect::connect(target_url).await.map_err(LoadError::from)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {quoted} TEMPLATE template0")))
        .execute(&mut admin)
        .await
        .map_err(|e| LoadError::CreateScratch { url: redact(target_url), message: e.to_string() })?;
    let result = signals
        .interruptible(async {
            let url = connect::with_database(target_url, &name)?;
            let mut conn = connect::connect(&url).await?;
            let result = load_into(&mut conn, statements, schemas, Loading::Batched, retry, then).await;
            let _ = conn.close().await;
            result
        })
        .await;
    // Always dropped, whatever happened above; a drop that fails is never hidden behind another error.
    let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")))
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
    drop(signals);
    match (result, dropped) {
        (result, Ok(_)) => result?,
        (Ok(Ok(_)), Err(e)) => Err(LoadError::NotDropped { name: quoted, message: connect::describe(&e) }.into()),
        (Ok(Err(error)), Err(e)) => Err(LoadError::FailedAndNotDropped {
            error: Box::new(LoadError::Database(error.to_string())),
            name: quoted,
            message: connect::describe(&e),
        }
        .into()),
        (Err(error), Err(e)) => {
            Err(LoadError::FailedAndNotDropped { error: Box::new(error), name: quoted, message: connect::describe(&e) }
                .into())
        }
    }
}

/// Loads in progress in this process: a signal that arrives while there is none ends the process.
static LOADS: AtomicUsize = AtomicUsize::new(0);

/// SIGINT, SIGTERM and SIGHUP, listened for while a load runs. Once tokio listens for a signal its handler
/// stays installed for the life of the process, so a task started with the first load ends the process,
/// as the signal would have, when one arrives while no load runs.
pub(super) struct Signals {
    #[cfg(unix)]
    streams: [(tokio::signal::unix::Signal, &'static str, i32); 3],
}

impl Signals {
    pub(super) fn listen() -> Result<Signals, LoadError> {
        #[cfg(unix)]
        let signals = {
            let signals = Signals { streams: Self::streams()? };
            static WATCHING: AtomicBool = AtomicBool::new(false);
            if !WATCHING.swap(true, Ordering::SeqCst) {
                let mut streams = Self::streams()?;
                tokio::spawn(async move {
                    loop {
                        let number = Self::next(&mut streams).await.1;
                        if LOADS.load(Ordering::SeqCst) == 0 {
                            std::process::exit(128 + number);
                        }
                    }
                });
            }
            signals
        };
        #[cfg(not(unix))]
        let signals = Signals {};
        LOADS.fetch_add(1, Ordering::SeqCst);
        Ok(signals)
    }

    #[cfg(unix)]
    fn streams() -> Result<[(tokio::signal::unix::Signal, &'static str, i32); 3], LoadError> {
        use tokio::signal::unix::{SignalKind, signal};
        let listen =
            |kind: SignalKind| signal(kind).map_err(|e| LoadError::Database(format!("cannot listen for signals: {e}")));
        Ok([
            (listen(SignalKind::interrupt())?, "SIGINT", 2),
            (listen(SignalKind::terminate())?, "SIGTERM", 15),
            (listen(SignalKind::hangup())?, "SIGHUP", 1),
        ])
    }

    /// The next of the signals: its name and number.
    #[cfg(unix)]
    async fn next(streams: &mut [(tokio::signal::unix::Signal, &'static str, i32); 3]) -> (&'static str, i32) {
        let [(int, int_name, int_number), (term, term_name, term_number), (hup, hup_name, hup_number)] = streams;
        tokio::select! {
            _ = int.recv() => (*int_name, *int_number),
            _ = term.recv() => (*term_name, *term_number),
            _ = hup.recv() => (*hup_name, *hup_number),
        }
    }

    /// The name of the next of the signals to arrive.
    pub(super) async fn received(&mut self) -> &'static str {
        #[cfg(unix)]
        return Self::next(&mut self.streams).await.0;
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }

    /// Runs `work` until it ends or one of the signals arrives.
    async fn interruptible<R, F: std::future::Future<Output = Result<R, LoadError>>>(
        &mut self,
        work: F,
    ) -> Result<R, LoadError> {
        #[cfg(unix)]
        return tokio::select! {
            result = work => result,
            (name, _) = Self::next(&mut self.streams) => Err(LoadError::Interrupted(name)),
        };
        #[cfg(not(unix))]
        return tokio::select! {
            result = work => result,
            _ = tokio::signal::ctrl_c() => Err(LoadError::Interrupted("Ctrl-C")),
        };
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        LOADS.fetch_sub(1, Ordering::SeqCst);
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

/// Loads the statements into the database `conn` is connected to, then runs `then` (whose result is the
/// inner one) on it.
async fn load_into<T, E>(
    conn: &mut PgConnection,
    statements: &[DeclaredStatement],
    schemas: &[String],
    loading: Loading,
    retry: Retry,
    then: impl AsyncFnOnce(&mut PgConnection, Catalog) -> Result<T, E>,
) -> Result<Result<T, E>, LoadError> {
    let database = |e: sqlx::Error| LoadError::Database(e.to_string());
    let unmanaged = |catalog: &Catalog| match catalog.unmanaged.is_empty() {
        true => Ok(()),
        false => Err(LoadError::Unmanaged(catalog.unmanaged.iter().map(|o| o.to_string()).collect())),
    };
    let mut pending: Vec<&DeclaredStatement> = statements.iter().collect();
    match loading {
        Loading::RolledBack => {
            if let Some(statement) = statements.iter().find(|s| s.outside_transaction) {
                return Err(LoadError::Database(format!(
                    "{}: this statement runs outside a transaction, and the dev database must be left empty (its \
                     load is rolled back); replay without --dev-url (a temporary database on the server)",
                    statement.location
                )));
            }
            let mut tx = conn.begin().await.map_err(database)?;
            while !pending.is_empty() {
                let failed = run_all(&mut tx, &pending, retry).await?;
                pending = next_round(pending.len(), failed)?;
            }
            analyze(&mut tx).await?;
            let catalog = introspect::snapshot(&mut tx, schemas).await?;
            unmanaged(&catalog)?;
            let result = then(&mut tx, catalog).await;
            let _ = tx.rollback().await;
            Ok(result)
        }
        Loading::Batched => {
            while !pending.is_empty() {
                let mut failed = Vec::new();
                // Statements that cannot run in a transaction block run on their own, in order.
                for run in pending.chunk_by(|a, b| a.outside_transaction == b.outside_transaction) {
                    if run[0].outside_transaction {
                        for statement in run {
                            execute(conn, &statement.sql).await.map_err(|e| rejected(statement, e))?;
                        }
                        continue;
                    }
                    for batch in run.chunks(BATCH) {
                        let mut tx = conn.begin().await.map_err(database)?;
                        failed.extend(run_all(&mut tx, batch, retry).await?);
                        tx.commit().await.map_err(database)?;
                    }
                }
                pending = next_round(pending.len(), failed)?;
            }
            analyze(conn).await?;
            let catalog = introspect::introspect_live(conn, schemas).await?;
            unmanaged(&catalog)?;
            Ok(then(conn, catalog).await)
        }
    }
}

/// A statement that failed because something it names did not exist, with the server's error.
type Failed<'a> = (&'a DeclaredStatement, LoadError);

/// The statements to try again after a round in which `tried` statements ran and `failed` failed for a
/// missing object; when the round made no progress, the error of the statement that the others wait for.
fn next_round(tried: usize, mut failed: Vec<Failed<'_>>) -> Result<Vec<&DeclaredStatement>, LoadError> {
    if failed.len() < tried {
        return Ok(crate::declared::retry_order(
            &failed.into_iter().map(|(statement, _)| statement).collect::<Vec<_>>(),
        ));
    }
    let cause = crate::declared::first_cause(&failed.iter().map(|(s, _)| *s).collect::<Vec<_>>());
    Err(failed.swap_remove(cause).1)
}

/// Statements sent in one round trip. Each group runs under a savepoint; a group the server rejects is
/// rolled back to it and run again one statement at a time, so that the error names the statement.
const GROUP: usize = 64;

/// Runs the statements under savepoints, in groups. With [`Retry::MissingObjects`], a statement that fails
/// because something it names does not exist yet is rolled back and returned to be tried again later;
/// any other error ends the load.
async fn run_all<'a>(
    conn: &mut PgConnection,
    statements: &[&'a DeclaredStatement],
    retry: Retry,
) -> Result<Vec<Failed<'a>>, LoadError> {
    let database = |e: sqlx::Error| LoadError::Database(e.to_string());
    let mut failed = Vec::new();
    // Set in a round trip of its own: the server parses a whole query string before it runs any of it,
    // so a savepoint sent with a group that does not parse would never be set.
    execute(conn, "SAVEPOINT schema_load").await.map_err(database)?;
    const NEXT: &str = "RELEASE SAVEPOINT schema_load; SAVEPOINT schema_load";
    for group in statements.chunks(GROUP) {
        // One round trip: the group, then a fresh savepoint for the next one. After an error the server
        // skips the rest of the string, and the savepoint set before the group is still there.
        let mut batch = String::with_capacity(group.iter().map(|s| s.sql.len() + 3).sum::<usize>() + 64);
        for statement in group {
            batch.push_str(&statement.sql);
            // On its own line: a statement may end in a `--` comment.
            batch.push_str("\n;\n");
        }
        batch.push_str(NEXT);
        if execute(conn, &batch).await.is_ok() {
            continue;
        }
        execute(conn, "ROLLBACK TO SAVEPOINT schema_load").await.map_err(database)?;
        for statement in group {
            let Err(error) = execute(conn, &format!("{}\n;\n{NEXT}", statement.sql)).await else { continue };
            execute(conn, "ROLLBACK TO SAVEPOINT schema_load").await.map_err(database)?;
            if retry == Retry::MissingObjects && names_a_missing_object(&error) {
                failed.push((*statement, rejected(statement, error)));
            } else {
                return Err(rejected(statement, error));
            }
        }
    }
    execute(conn, "RELEASE SAVEPOINT schema_load").await.map_err(database)?;
    Ok(failed)
}

/// Errors that a statement gets when it runs before what it names is created: an undefined table,
/// object (type, index, trigger, role …), schema, function or column, a foreign key or `ON CONFLICT`
/// (in a SQL function body) without the unique constraint it needs yet.
fn names_a_missing_object(error: &sqlx::Error) -> bool {
    const MISSING: &[&str] = &["42P01", "42704", "3F000", "42883", "42703", "42830", "42P10"];
    error.as_database_error().and_then(|e| e.code()).is_some_and(|code| MISSING.contains(&code.as_ref()))
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
