//! PostgreSQL: catalog introspection, the scratch database that turns declared files into a model,
//! and SQL rendering.

pub mod introspect;
pub mod render;
