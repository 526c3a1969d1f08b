//! What PostgreSQL does for each object kind, one file per kind named after it (`tables.rs`, `columns.rs`,
//! `policies.rs`, …): reading the kind from the catalog (the rows of `queries/<kind>.sql`), writing the SQL
//! of its changes with the table locks each statement takes (the modes of [`super::locks`]), and grading
//! the hazards of that SQL (blocking locks, scans, rewrites). Each file's module comment
//! says what PostgreSQL does with its kind.
//!
//! A kind file has up to three sections, in this order, each under a separator line: read, render,
//! hazards (a section is left out when the kind has nothing there: inheritance and comments are read with
//! other kinds, and most kinds have no hazards of PostgreSQL's own). The sections are plain functions of
//! the file, entered through `read` (`read_<what>` when a kind has several queries), `render(&<Kind>Change)`
//! and `hazards(&<Kind>Change, ctx, out)`. Plain functions rather than inline `mod read {}`, `mod render {}`
//! and `mod hazards {}`: the dispatchers, the modules beside them (online forms, conversions) and the kinds
//! that borrow from one another name a helper by its kind alone (`columns::definition`,
//! `columns::binary_coercible`, `constraints::add_constraint`) rather than by its kind and layer, and a
//! kind's file is small enough to be one namespace. Where a hazards helper grades the change a render
//! helper of the same name writes, it carries the suffix `_hazards` (`add` writes `ADD COLUMN`,
//! `add_hazards` grades it).
//!
//! What is not about one kind stays in the dispatchers: [`super::introspect`] (the order of the catalog
//! queries and the helpers that decode a row), [`super::render`] (quoting, the renderer with the one
//! exhaustive match over [`crate::diff::Change`], and the passes of `render/adapt.rs`) and
//! [`super::hazards`] (the other exhaustive match). A new kind is one file here, its query in `queries/`,
//! and one line or arm in each of those.

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
