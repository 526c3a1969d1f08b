//! What PostgreSQL does for each object kind, one file per kind named after it (`tables.rs`, `columns.rs`,
//! `policies.rs`, …): reading the kind from the catalog (the rows of `queries/<kind>.sql`), writing the SQL
//! of its changes, and grading the hazards of that SQL (locks, scans, rewrites).
//!
//! A kind file is laid out in three sections, in this order, each under a separator line: read, render,
//! hazards (a section is left out when the kind has nothing there). They are plain functions of the file,
//! entered through `read` (or `read_<what>` when a kind has several queries), `render(&<Kind>Change)` and
//! `hazards(&<Kind>Change, ctx, out)`. Plain functions rather than inline `mod read {}`, `mod render {}`,
//! `mod hazards {}`: the dispatchers and the kinds that borrow from one another name a helper as
//! `columns::definition` instead of `columns::render::definition`, and one namespace per file keeps
//! clashes visible. Where a hazards helper grades the change a render helper writes, it carries the suffix
//! `_hazards` (`add` writes `ADD COLUMN`, `add_hazards` grades it).
//!
//! What is not about one kind stays in the dispatchers: [`super::introspect`] (the order of the catalog
//! queries and the helpers that decode a row), [`super::render`] (quoting, the renderer and the one
//! exhaustive match over [`crate::diff::Change`], and `adapt.rs`) and [`super::hazards`] (the other
//! exhaustive match).

pub(crate) mod collations;
pub(crate) mod columns;
pub(crate) mod comments;
pub(crate) mod composite_types;
pub(crate) mod constraints;
pub(crate) mod domains;
pub(crate) mod enums;
pub(crate) mod extensions;
pub(crate) mod functions;
pub(crate) mod indexes;
pub(crate) mod inheritance;
pub(crate) mod partitions;
pub(crate) mod policies;
pub(crate) mod privileges;
pub(crate) mod range_types;
pub(crate) mod schemas;
pub(crate) mod sequences;
pub(crate) mod tables;
pub(crate) mod triggers;
pub(crate) mod views;
