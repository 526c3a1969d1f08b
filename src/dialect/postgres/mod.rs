//! PostgreSQL: connections, catalog introspection, the scratch database that turns declared files into
//! a model, SQL rendering, hazards and online forms.
//!
//! `introspect/`, `render/` and `hazards/` are organised by object kind, under the same file names in
//! each (`tables.rs`, `columns.rs`, `policies.rs`, …): a kind is read, written and graded in the file
//! named after it. Each `mod.rs` holds what is not about one kind: the order of the catalog queries, or
//! the one exhaustive match over [`crate::diff::Change`] that sends each change to its kind's file.

pub mod connect;
pub mod conversions;
pub mod estimate;
pub mod existing_rows;
pub mod hazards;
pub mod introspect;
mod kinds;
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
