//! Database dialects. Each one owns its connection handling, catalog introspection, scratch database and
//! SQL rendering; the generic modules reach them only through small traits such as
//! [`crate::plan::SqlRenderer`]. This module picks the dialect from a URL and dispatches to it.

pub mod postgres;
pub mod sqlite;
pub mod tokens;

use crate::declared::{DeclaredStatement, Retry};
use crate::model::Catalog;
use anyhow::{Context, Result};

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    Sqlite,
}

impl Kind {
    /// The dialect of a URL, from its scheme.
    pub fn from_url(url: &str) -> Result<Kind> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("postgres" | "postgresql") => Ok(Kind::Postgres),
            Some("sqlite") => Ok(Kind::Sqlite),
            _ => anyhow::bail!(
                "invalid database URL {}: expected postgres://…, postgresql://…, sqlite:path or sqlite::memory:",
                postgres::connect::redact(url)
            ),
        }
    }

    /// The sqlparser dialect that splits and analyses declared files for this database.
    pub fn sql_dialect(self) -> Box<dyn sqlparser::dialect::Dialect> {
        match self {
            Kind::Postgres => Box::new(postgres::sql_dialect()),
            Kind::Sqlite => Box::new(sqlite::sql_dialect()),
        }
    }

    /// The one schema every object is in, for databases that have no schemas of their own (SQLite:
    /// `main`); names that settings write without a schema mean `public` elsewhere.
    pub fn only_schema(self) -> Option<&'static str> {
        match self {
            Kind::Postgres => None,
            Kind::Sqlite => Some(sqlite::SCHEMA),
        }
    }

    /// A name as this database's introspection reports it: in [`Kind::only_schema`] where there is one.
    pub fn introspected_name(self, name: &crate::model::QualifiedName) -> crate::model::QualifiedName {
        match self.only_schema() {
            Some(schema) => crate::model::QualifiedName::new(schema, name.name.clone()),
            None => name.clone(),
        }
    }

    /// The migration runner's tracking table as this database's introspection names it.
    pub fn tracking_table(self, options: &crate::runner::Options) -> crate::model::QualifiedName {
        self.introspected_name(&options.table)
    }

    /// Whether a column's values can be converted with a declared expression when its type changes
    /// (PostgreSQL's `USING`); SQLite copies the values into a rebuilt table as they are.
    pub fn converts_column_values(self) -> bool {
        match self {
            Kind::Postgres => true,
            Kind::Sqlite => false,
        }
    }

    pub fn renderer(self) -> Box<dyn crate::rewrite::LiveRenderer> {
        match self {
            Kind::Postgres => Box::new(postgres::render::PostgresRenderer),
            Kind::Sqlite => Box::new(sqlite::render::SqliteRenderer),
        }
    }
}

/// The live sizes of these tables, where the database keeps statistics (PostgreSQL; one catalog query for
/// all tables); none elsewhere.
pub async fn table_stats(
    url: &str,
    tables: &[crate::model::QualifiedName],
) -> Result<indexmap::IndexMap<crate::model::QualifiedName, crate::safety::TableStats>> {
    match Kind::from_url(url)? {
        Kind::Postgres => {
            let mut conn = postgres::connect::connect(url).await?;
            Ok(postgres::stats::table_stats(&mut conn, tables).await?)
        }
        Kind::Sqlite => Ok(indexmap::IndexMap::new()),
    }
}

/// How fast the server does the work that estimates price (a short probe, see
/// [`postgres::estimate::probe`]) and the live sizes of `tables`; `None` where the database keeps no
/// sizes to price them with (SQLite), or the probe cannot run there (a read-only role or transaction):
/// estimates are then left out rather than the plan refused.
pub async fn throughput_and_sizes(
    url: &str,
    probe_schema: &str,
    tables: &[crate::model::QualifiedName],
) -> Result<
    Option<(
        crate::plan::estimate::Throughput,
        indexmap::IndexMap<crate::model::QualifiedName, crate::safety::TableStats>,
    )>,
> {
    match Kind::from_url(url)? {
        Kind::Postgres => {
            let mut conn = postgres::connect::connect(url).await?;
            let sizes = postgres::stats::table_stats(&mut conn, tables).await?;
            let largest = sizes.values().map(|s| s.rows.unwrap_or(s.heap_bytes / 100)).max().unwrap_or(0);
            match postgres::estimate::probe(&mut conn, probe_schema, largest).await {
                Ok(throughput) => Ok(Some((throughput, sizes))),
                Err(_) => Ok(None),
            }
        }
        Kind::Sqlite => Ok(None),
    }
}

/// Counts the live rows that break each check ([`crate::safety::existing_rows`]), read-only and on one
/// snapshot; `current` is the live catalog the checks were made from.
pub async fn count_violations(
    url: &str,
    checks: &[crate::safety::existing_rows::RowCheck],
    current: &Catalog,
    limits: crate::safety::existing_rows::Limits,
) -> Result<Vec<crate::safety::existing_rows::Outcome>> {
    if checks.is_empty() {
        return Ok(Vec::new());
    }
    match Kind::from_url(url)? {
        Kind::Postgres => {
            let mut conn = postgres::connect::connect(url).await?;
            Ok(postgres::existing_rows::count_violations(&mut conn, checks, limits).await?)
        }
        Kind::Sqlite => {
            let mut conn = sqlite::connect::connect_read_only(url).await?;
            Ok(sqlite::existing_rows::count_violations(&mut conn, checks, current, limits).await?)
        }
    }
}

/// The URL as it may be printed: a PostgreSQL password replaced by `***` (SQLite URLs hold none).
pub fn redact(url: &str) -> String {
    match Kind::from_url(url) {
        Ok(Kind::Sqlite) => url.to_string(),
        _ => postgres::connect::redact(url),
    }
}

/// The first column of each row of `sql`, as text (NULLs left out): `[fleet] query`'s target URLs.
pub async fn query_texts(url: &str, sql: &str) -> Result<Vec<String>> {
    use sqlx::Row;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    let texts = match Kind::from_url(url)? {
        Kind::Postgres => {
            let mut conn = postgres::connect::connect(url).await?;
            let rows = sqlx::query(sql).fetch_all(&mut conn).await?;
            rows.iter().map(|r| r.try_get::<Option<String>, _>(0)).collect::<Result<Vec<_>, _>>()?
        }
        Kind::Sqlite => {
            let mut conn = sqlite::connect::connect_read_only(url).await?;
            let rows = sqlx::query(sql).fetch_all(&mut conn).await?;
            rows.iter().map(|r| r.try_get::<Option<String>, _>(0)).collect::<Result<Vec<_>, _>>()?
        }
    };
    Ok(texts.into_iter().flatten().collect())
}

/// The schemas of a database that users create (not `pg_catalog`, `information_schema`, `pg_toast` or
/// temporary ones), by name, each with the name as the database writes it (`quote_ident`): where
/// `[fleet] schemas` looks for tenants. PostgreSQL only.
pub async fn schema_names(url: &str) -> Result<Vec<(String, String)>> {
    match Kind::from_url(url)? {
        Kind::Postgres => {
            let mut conn = postgres::connect::connect(url).await?;
            let names = sqlx::query_as(
                "SELECT nspname::text, quote_ident(nspname) FROM pg_catalog.pg_namespace \
                 WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY nspname",
            )
            .fetch_all(&mut conn)
            .await?;
            Ok(names)
        }
        Kind::Sqlite => anyhow::bail!("a schema per tenant ([fleet] schemas) needs PostgreSQL; SQLite has one schema"),
    }
}

pub use postgres::tenant::TenantSchemas;

async fn quote_ident(conn: &mut sqlx::PgConnection, name: &str) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT quote_ident($1)").bind(name).fetch_one(conn).await?)
}

/// A migration's text made to run on one tenant's schema instead of the template ([`TenantSchemas`]);
/// the error names `path`, the line and the column of what cannot be mapped.
pub fn for_tenant(kind: Kind, path: &std::path::Path, sql: &str, schemas: &TenantSchemas) -> Result<String> {
    match kind {
        Kind::Postgres => postgres::tenant::for_tenant(sql, schemas).map_err(|r| {
            anyhow::anyhow!(
                "{}:{}:{}: {} (for tenant {:?})",
                path.display(),
                r.line,
                r.column,
                r.message,
                schemas.tenant
            )
        }),
        Kind::Sqlite => anyhow::bail!("a schema per tenant ([fleet] schemas) needs PostgreSQL; SQLite has one schema"),
    }
}

/// Reads the managed objects of a live database (one consistent snapshot).
pub async fn introspect(url: &str, schemas: &[String]) -> Result<Catalog> {
    match Kind::from_url(url)? {
        Kind::Postgres => {
            let mut conn = postgres::connect::connect(url).await?;
            Ok(postgres::introspect::introspect_live(&mut conn, schemas).await?)
        }
        // A SQLite database has one schema, `main`; `schemas` has nothing to select.
        Kind::Sqlite => {
            let mut conn = sqlite::connect::connect(url).await?;
            Ok(sqlite::introspect::introspect(&mut conn).await?)
        }
    }
}

/// Loads declared statements (in dependency order) into a scratch database of the target's kind and
/// introspects the result.
pub async fn load_declared(
    target_url: &str,
    dev_url: Option<&str>,
    statements: &[DeclaredStatement],
    schemas: &[String],
    retry: Retry,
) -> Result<Catalog> {
    match Kind::from_url(target_url)? {
        Kind::Postgres => Ok(postgres::scratch::load(target_url, dev_url, statements, schemas, retry).await?),
        // The scratch database is a private in-memory one; there is no server to ask for a dev database.
        Kind::Sqlite => Ok(sqlite::scratch::load(statements, retry).await?),
    }
}

/// Runs statements against a database: in one transaction, or each on its own when `transactional`
/// is false.
pub async fn execute(url: &str, statements: &[String], transactional: bool) -> Result<()> {
    match Kind::from_url(url)? {
        Kind::Postgres => {
            let mut conn = postgres::connect::connect(url).await?;
            postgres::connect::execute_script(&mut conn, statements, transactional).await?;
            Ok(())
        }
        Kind::Sqlite => {
            let mut conn = sqlite::connect::connect(url).await?;
            sqlite::connect::execute_script(&mut conn, statements, transactional).await?;
            Ok(())
        }
    }
}

/// Work to run in a verification scratch database ([`crate::verify::Scratch`]) of the URL's dialect. A
/// trait rather than a closure: the work is generic over the scratch database's type.
#[allow(async_fn_in_trait)]
pub trait ScratchJob {
    type Output;
    async fn run<S: crate::verify::Scratch>(self, scratch: &mut S) -> Result<Self::Output>;
}

/// Runs `job` in a new scratch database of `url`'s dialect, removed afterwards whatever happens.
pub async fn with_verify_scratch<J: ScratchJob>(
    url: &str,
    options: &crate::runner::Options,
    schemas: &[String],
    job: J,
) -> Result<J::Output> {
    match Kind::from_url(url)? {
        Kind::Postgres => postgres::verify::with_scratch(url, options, schemas, async |s| job.run(s).await).await,
        Kind::Sqlite => job.run(&mut sqlite::verify::SqliteScratch::open(options).await?).await,
    }
}

/// The database the declared files were loaded into, while it still exists ([`load_declared_then`]).
pub enum DeclaredDatabase<'a> {
    Postgres(&'a mut sqlx::PgConnection),
    /// SQLite's scratch database is gone by then: SQLite converts no column values
    /// ([`Kind::converts_column_values`]), so nothing is left to ask it.
    Sqlite,
}

impl DeclaredDatabase<'_> {
    /// The declared catalog of `schemas` with the schema `template` named `tenant`, as a tenant's schema
    /// built by the template's migrations holds it: PostgreSQL renames the schema in the scratch database
    /// (views, defaults and keys follow it, as they would have been created there) inside a transaction
    /// or savepoint that is rolled back once the catalog is read. Function bodies, which are text, are
    /// mapped as `fleet up` maps the migrations that create them ([`for_tenant`]).
    pub async fn catalog_renamed(&mut self, template: &str, tenant: &str, schemas: &[String]) -> Result<Catalog> {
        match self {
            DeclaredDatabase::Postgres(conn) => {
                use sqlx::Connection;
                let written = quote_ident(conn, tenant).await?;
                let mut tx = conn.begin().await?;
                let rename = format!(
                    "ALTER SCHEMA {} RENAME TO {}",
                    postgres::render::ident(template),
                    postgres::render::ident(tenant)
                );
                sqlx::raw_sql(sqlx::AssertSqlSafe(rename))
                    .execute(&mut *tx)
                    .await
                    .with_context(|| format!("cannot name the declared schema {template:?} {tenant:?}"))?;
                let mut catalog = postgres::introspect::snapshot(&mut tx, schemas).await?;
                tx.rollback().await?;
                let map = TenantSchemas { template, tenant, written: &written, foreign: &[] };
                for function in catalog.functions.values_mut() {
                    if let Ok(mapped) = postgres::tenant::for_tenant(&function.definition, &map) {
                        function.definition = mapped;
                    }
                }
                Ok(catalog)
            }
            DeclaredDatabase::Sqlite => anyhow::bail!("SQLite has no schemas to rename"),
        }
    }

    /// `name` as the database writes it where it needs no quotes (PostgreSQL's `quote_ident`).
    pub async fn quote_ident(&mut self, name: &str) -> Result<String> {
        match self {
            DeclaredDatabase::Postgres(conn) => quote_ident(conn, name).await,
            DeclaredDatabase::Sqlite => Ok(sqlite::render::ident(name)),
        }
    }

    /// Tries every type conversion of `up` and `down` where the declared schema is (see
    /// [`postgres::conversions::check`]); an error names the conversions the database refuses.
    pub async fn check_conversions(
        &mut self,
        declared: &Catalog,
        current: &Catalog,
        up: &crate::plan::Plan,
        down: &crate::plan::Plan,
    ) -> Result<()> {
        match self {
            DeclaredDatabase::Postgres(conn) => {
                Ok(postgres::conversions::check(conn, declared, current, up, down).await?)
            }
            DeclaredDatabase::Sqlite => Ok(()),
        }
    }
}

/// Whether `up` or `down` converts a column's values to another type on a database of this kind, so that
/// [`DeclaredDatabase::check_conversions`] has something to try (and the declared schema is worth loading
/// again for it). SQLite copies values into a rebuilt table as they are: nothing to try.
pub fn plans_convert_values(kind: Kind, up: &crate::plan::Plan, down: &crate::plan::Plan) -> bool {
    kind.converts_column_values() && postgres::conversions::any(up, down)
}

/// [`load_declared`], then `then` with the database the declared files were loaded into (before it is
/// rolled back or dropped) and its catalog.
pub async fn load_declared_then<T>(
    target_url: &str,
    dev_url: Option<&str>,
    statements: &[DeclaredStatement],
    schemas: &[String],
    retry: Retry,
    then: impl AsyncFnOnce(DeclaredDatabase<'_>, Catalog) -> Result<T>,
) -> Result<T> {
    match Kind::from_url(target_url)? {
        Kind::Postgres => {
            let then =
                async |conn: &mut sqlx::PgConnection, catalog| then(DeclaredDatabase::Postgres(conn), catalog).await;
            postgres::scratch::load_then(target_url, dev_url, statements, schemas, retry, then).await
        }
        Kind::Sqlite => {
            let catalog = sqlite::scratch::load(statements, retry).await?;
            then(DeclaredDatabase::Sqlite, catalog).await
        }
    }
}

/// The migration runner's connection to a database of either dialect ([`crate::runner::Database`]).
pub enum Runner {
    Postgres(postgres::runner::PgDatabase),
    Sqlite(sqlite::runner::SqliteDatabase),
}

impl Runner {
    pub async fn connect(url: &str, options: &crate::runner::Options) -> Result<Runner> {
        Ok(match Kind::from_url(url)? {
            Kind::Postgres => Runner::Postgres(postgres::runner::PgDatabase::connect(url, options).await?),
            Kind::Sqlite => Runner::Sqlite(sqlite::runner::SqliteDatabase::connect(url, options).await?),
        })
    }

    /// The same connection, set up for another run on the same database (see
    /// [`postgres::runner::PgDatabase::reuse`]); SQLite connections are not reused.
    pub async fn reuse(&mut self, options: &crate::runner::Options) -> Result<()> {
        match self {
            Runner::Postgres(db) => db.reuse(options).await,
            Runner::Sqlite(_) => anyhow::bail!("SQLite connections are not reused"),
        }
    }
}

/// Calls the same method on whichever dialect's runner this is.
macro_rules! each_runner {
    ($self:ident, $db:ident => $call:expr) => {
        match $self {
            Runner::Postgres($db) => $call,
            Runner::Sqlite($db) => $call,
        }
    };
}

impl crate::runner::Database for Runner {
    fn statement_dialect(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        each_runner!(self, db => db.statement_dialect())
    }
    fn tracking_table(&self, options: &crate::runner::Options) -> crate::model::QualifiedName {
        each_runner!(self, db => db.tracking_table(options))
    }
    fn always_transactional(&self) -> bool {
        each_runner!(self, db => db.always_transactional())
    }
    async fn try_lock(&mut self) -> Result<bool, crate::runner::DbError> {
        each_runner!(self, db => db.try_lock().await)
    }
    async fn lock_holder(&mut self) -> Result<Option<String>, crate::runner::DbError> {
        each_runner!(self, db => db.lock_holder().await)
    }
    async fn unlock(&mut self) -> Result<(), crate::runner::DbError> {
        each_runner!(self, db => db.unlock().await)
    }
    async fn ensure_table(&mut self) -> Result<(), crate::runner::DbError> {
        each_runner!(self, db => db.ensure_table().await)
    }
    async fn applied(&mut self) -> Result<Vec<crate::runner::Applied>, crate::runner::DbError> {
        each_runner!(self, db => db.applied().await)
    }
    async fn begin(&mut self) -> Result<(), crate::runner::DbError> {
        each_runner!(self, db => db.begin().await)
    }
    async fn commit(&mut self) -> Result<(), crate::runner::DbError> {
        each_runner!(self, db => db.commit().await)
    }
    async fn rollback(&mut self) -> Result<(), crate::runner::DbError> {
        each_runner!(self, db => db.rollback().await)
    }
    async fn execute(&mut self, sql: &str) -> Result<(), crate::runner::DbError> {
        each_runner!(self, db => db.execute(sql).await)
    }
    async fn insert(&mut self, row: &crate::runner::Applied) -> Result<(), crate::runner::DbError> {
        each_runner!(self, db => db.insert(row).await)
    }
    async fn mark(
        &mut self,
        version: &str,
        dirty: bool,
        note: Option<&str>,
        execution_ms: i64,
    ) -> Result<(), crate::runner::DbError> {
        each_runner!(self, db => db.mark(version, dirty, note, execution_ms).await)
    }
    async fn delete(&mut self, version: &str) -> Result<(), crate::runner::DbError> {
        each_runner!(self, db => db.delete(version).await)
    }
    type Watch = postgres::progress::PgWatch;
    async fn watch(&mut self, sql: &str) -> Option<Self::Watch> {
        match self {
            Runner::Postgres(db) => db.watch(sql).await,
            // SQLite's runner has no watch ([`crate::runner::progress::NoWatch`]).
            Runner::Sqlite(_) => None,
        }
    }
}
