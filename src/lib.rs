//! `schema`: a declarative schema-diff tool. Declared SQL files and a live database are both turned into
//! one dialect-free model; the difference is planned in dependency order and written as up/down migrations.

pub mod cli;
pub mod declared;
pub mod dialect;
pub mod diff;
pub mod drift;
pub mod fleet;
pub mod migrations;
pub mod model;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod rewrite;
pub mod runner;
pub mod safety;
pub mod settings;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod verify;
