//! The scratch database that verification runs migrations in (see [`crate::verify`]): a temporary
//! database on the target server, so that grants to the server's roles work (roles belong to the
//! cluster), created from template0 and dropped afterwards, also on error and on SIGINT, SIGTERM and SIGHUP, as the
//! declared files' scratch database is ([`super::scratch`]). Migration files run in a session of the
//! runner's own ([`PgDatabase`], with `[migrate]`'s timeouts); loading and introspecting use another.

use super::connect::{self, redact};
use super::introspect;
use super::render::ident;
use crate::dialect::postgres::runner::PgDatabase;
use crate::model::Catalog;
use crate::verify::{Rejected, Scratch};
use anyhow::Context;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};

/// The scratch database, created on first use (so that creating it overlaps with other work), and
/// dropped by [`with_scratch`].
pub struct PgScratch {
    target_url: String,
    options: crate::runner::Options,
    schemas: Vec<String>,
    name: String,
    /// The connection that creates the database and drops it; set before the database is created.
    admin: Option<PgConnection>,
    /// The runner's session, and another for loading and introspecting.
    sessions: Option<(PgDatabase, PgConnection)>,
    /// Whether the catalogs have statistics since the database was created (see [`Scratch::catalog`]).
    analyzed: bool,
}

/// Statements per round trip and per transaction when the current schema is loaded, as for the
/// declared files (`scratch::GROUP`, `scratch::BATCH`): one round trip per statement takes longer than
/// the server takes to run them, and one transaction over thousands of tables exhausts its lock table.
const GROUP: usize = 64;
const BATCH: usize = 8 * GROUP;

/// Runs `body` with a scratch database on the server of `target_url`, and drops the database if it was
/// created, whatever happened (an error, Ctrl-C).
pub async fn with_scratch<T>(
    target_url: &str,
    options: &crate::runner::Options,
    schemas: &[String],
    body: impl AsyncFnOnce(&mut PgScratch) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!(
        "schema_verify_{}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut scratch = PgScratch {
        target_url: target_url.to_string(),
        options: options.clone(),
        schemas: schemas.to_vec(),
        name,
        admin: None,
        sessions: None,
        analyzed: false,
    };
    // SIGINT, SIGTERM and SIGHUP, as for the declared files' scratch database.
    let mut signals = super::scratch::Signals::listen()?;
    let result = {
        let mut work = std::pin::pin!(body(&mut scratch));
        tokio::select! {
            biased;
            result = &mut work => result,
            name = signals.received() => {
                // The declared files' loader, which may be running inside `body`, drops its own scratch
                // database on the same signal: it gets a moment to do so before `body` is abandoned.
                let _ = tokio::time::timeout(std::time::Duration::from_secs(3), &mut work).await;
                Err(anyhow::anyhow!("interrupted by {name}; nothing was kept"))
            }
        }
    };
    let dropped = scratch.drop_database().await;
    drop(signals);
    // A drop that fails is never hidden behind another error.
    match (result, dropped) {
        (result, Ok(())) => result,
        (Ok(_), Err(e)) => Err(e),
        (Err(error), Err(e)) => Err(anyhow::anyhow!("{error:#}\nalso, {e:#}")),
    }
}

impl PgScratch {
    /// The sessions, once the database exists.
    async fn open(&mut self) -> anyhow::Result<&mut (PgDatabase, PgConnection)> {
        let sessions = match self.sessions.take() {
            Some(sessions) => sessions,
            None => {
                let mut admin = connect::connect(&self.target_url).await?;
                let create = format!("CREATE DATABASE {} TEMPLATE template0", ident(&self.name));
                let created = sqlx::raw_sql(AssertSqlSafe(create)).execute(&mut admin).await;
                if let Err(e) = created {
                    anyhow::bail!(
                        "cannot create a scratch database to verify the migration in on {}: {}\nhint: give the role \
                         the CREATEDB privilege, or pass --no-verify to skip the verification",
                        redact(&self.target_url),
                        connect::describe(&e)
                    );
                }
                self.admin = Some(admin);
                let url = connect::with_database(&self.target_url, &self.name)?;
                let mut conn = connect::connect(&url).await?;
                // Nothing here needs to survive a crash: commits need not wait for the disk.
                sqlx::raw_sql("SET synchronous_commit = off")
                    .execute(&mut conn)
                    .await
                    .map_err(|e| anyhow::anyhow!("scratch database: {}", connect::describe(&e)))?;
                self.analyzed = false;
                (PgDatabase::connect(&url, &self.options).await?, conn)
            }
        };
        Ok(self.sessions.insert(sessions))
    }

    async fn drop_database(&mut self) -> anyhow::Result<()> {
        if let Some((_, conn)) = self.sessions.take() {
            let _ = conn.close().await;
        }
        let Some(mut admin) = self.admin.take() else {
            return Ok(());
        };
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(&self.name));
        let dropped = sqlx::raw_sql(AssertSqlSafe(drop)).execute(&mut admin).await;
        let _ = admin.close().await;
        dropped.map(|_| ()).map_err(|e| {
            let name = ident(&self.name);
            anyhow::anyhow!(
                "could not drop the scratch database {name}, which is left on the server: {}\nhint: drop it with DROP \
                 DATABASE {name} WITH (FORCE)",
                connect::describe(&e)
            )
        })
    }

    /// One batch in one transaction, a group of statements per round trip.
    async fn load_batch(conn: &mut PgConnection, batch: &[String]) -> Result<(), sqlx::Error> {
        let mut tx = conn.begin().await?;
        for group in batch.chunks(GROUP) {
            let mut text = String::with_capacity(group.iter().map(|s| s.len() + 3).sum());
            for statement in group {
                text.push_str(statement);
                // On its own line: a statement may end in a `--` comment.
                text.push_str("\n;\n");
            }
            sqlx::raw_sql(AssertSqlSafe(text)).execute(&mut *tx).await?;
        }
        tx.commit().await
    }
}

impl Scratch for PgScratch {
    type Db = PgDatabase;

    async fn session(&mut self) -> anyhow::Result<&mut PgDatabase> {
        Ok(&mut self.open().await?.0)
    }

    async fn load(&mut self, statements: &[String]) -> anyhow::Result<Result<(), Rejected>> {
        let conn = &mut self.open().await?.1;
        let trouble = |e: sqlx::Error| anyhow::anyhow!("scratch database: {}", connect::describe(&e));
        for batch in statements.chunks(BATCH) {
            if PgScratch::load_batch(conn, batch).await.is_ok() {
                continue;
            }
            // The batch was rolled back; again one statement at a time, so that the error names it.
            let mut tx = conn.begin().await.map_err(trouble)?;
            for statement in batch {
                if let Err(e) = sqlx::raw_sql(AssertSqlSafe(statement.clone())).execute(&mut *tx).await {
                    return Ok(Err(Rejected { statement: statement.clone(), error: connect::describe(&e) }));
                }
            }
            tx.commit().await.map_err(trouble)?;
        }
        Ok(Ok(()))
    }

    async fn reset(&mut self) -> anyhow::Result<()> {
        // Created again on next use.
        self.drop_database().await
    }

    async fn catalog(&mut self) -> anyhow::Result<Catalog> {
        // Statistics for the catalogs that grew, as the declared files' scratch database gathers them
        // (`scratch::analyze`): without them the catalog queries pick plans made for small catalogs.
        // Once: a migration changes the catalogs' sizes far less than loading the schema did.
        const CATALOGS: &str = "ANALYZE pg_catalog.pg_namespace, pg_catalog.pg_class, pg_catalog.pg_attribute, \
            pg_catalog.pg_attrdef, pg_catalog.pg_type, pg_catalog.pg_constraint, pg_catalog.pg_index, \
            pg_catalog.pg_depend, pg_catalog.pg_description, pg_catalog.pg_inherits, pg_catalog.pg_sequence, \
            pg_catalog.pg_proc, pg_catalog.pg_trigger";
        self.open().await?;
        if !self.analyzed {
            sqlx::raw_sql(CATALOGS)
                .execute(&mut self.open().await?.1)
                .await
                .map_err(|e| anyhow::anyhow!("scratch database: {}", connect::describe(&e)))?;
            self.analyzed = true;
        }
        let schemas = self.schemas.clone();
        introspect::introspect_live(&mut self.open().await?.1, &schemas)
            .await
            .context("introspecting the scratch database")
    }
}
