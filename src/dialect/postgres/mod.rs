//! PostgreSQL: connections, catalog introspection, the scratch database that turns declared files into
//! a model, and SQL rendering.

pub mod connect;
pub mod conversions;
pub mod hazards;
pub mod introspect;
pub mod online;
pub mod render;
#[cfg(test)]
mod render_tests;
pub mod runner;
pub mod scratch;
pub mod stats;
pub mod verify;

/// The sqlparser dialect used to split and analyse declared files.
pub fn sql_dialect() -> sqlparser::dialect::PostgreSqlDialect {
    sqlparser::dialect::PostgreSqlDialect {}
}
