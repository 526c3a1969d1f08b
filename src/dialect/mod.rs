//! Database dialects. Each one owns its connection handling, catalog introspection, scratch database and
//! SQL rendering; the generic modules reach them only through small traits such as
//! [`crate::plan::SqlRenderer`]. This module picks the dialect from a URL and dispatches to it.

pub mod postgres;
pub mod sqlite;

use crate::declared::{DeclaredStatement, Retry};
use crate::model::Catalog;
use anyhow::Result;

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
