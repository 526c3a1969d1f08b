//! PostgreSQL: connections, catalog introspection, the scratch database that turns declared files into
//! a model, SQL rendering, hazards and online forms.
//!
//! Each object kind is one file, `kinds/<kind>.rs` (`tables.rs`, `columns.rs`, `policies.rs`, …): the kind
//! is read (the rows of `queries/<kind>.sql`), written and graded in the file named after it.
//! `introspect.rs`, `render/` and `hazards.rs` hold what is not about one kind: the order of the catalog
//! queries and the helpers that decode a row, or the one exhaustive match over [`crate::diff::Change`] that
//! sends each change to its kind's file.

pub mod connect;
pub mod conversions;
pub mod estimate;
pub mod existing_rows;
pub mod hazards;
pub mod introspect;
mod kinds;
pub mod locks;
pub mod online;
pub mod progress;
pub mod render;
#[cfg(test)]
mod render_tests;
pub mod runner;
pub mod scratch;
pub mod stats;
pub mod tenant;
pub mod verify;

/// The sqlparser dialect used to split and analyse declared files.
pub fn sql_dialect() -> sqlparser::dialect::PostgreSqlDialect {
    sqlparser::dialect::PostgreSqlDialect {}
}
