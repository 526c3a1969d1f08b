//! SQLite: connections (a database file, created if missing), catalog introspection from
//! `sqlite_schema` and the table-valued pragmas, the in-memory scratch database that turns declared
//! files into a model, and SQL rendering, including the table rebuilds that SQLite's limited
//! `ALTER TABLE` needs.
//!
//! SQLite has one schema per database file, `main`; every object of the model lives in it.

pub mod connect;
pub mod existing_rows;
pub mod introspect;
mod normalize;
pub mod render;
#[cfg(test)]
mod render_tests;
pub mod runner;
pub mod scratch;
pub mod verify;

/// The only schema of a SQLite database that the tool manages.
pub const SCHEMA: &str = "main";

/// The sqlparser dialect used to split and analyse declared files.
pub fn sql_dialect() -> sqlparser::dialect::SQLiteDialect {
    sqlparser::dialect::SQLiteDialect {}
}
