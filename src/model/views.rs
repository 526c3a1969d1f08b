//! Views and materialized views: their query as the database deparses it, and their columns.

use super::{ObjectRef, QualifiedName};
use indexmap::IndexMap;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct View {
    pub name: QualifiedName,
    pub materialized: bool,
    /// The query as the database renders it.
    pub definition: String,
    pub columns: Vec<String>,
    /// Relations (and their columns) the query reads, from the database's dependency records.
    pub depends_on: Vec<ObjectRef>,
    pub comment: Option<String>,
    /// Comments on the view's columns (`COMMENT ON COLUMN view.column`), by column.
    pub column_comments: IndexMap<String, String>,
    /// Options as (name, value), in catalog order: `check_option`, `security_barrier`, `security_invoker`
    /// of a view, storage parameters of a materialized view (PostgreSQL's `WITH (…)`).
    pub options: Vec<(String, String)>,
}
