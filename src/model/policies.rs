//! Row-level security: policies and the per-table switches that enable or force it.

use super::{ObjectRef, QualifiedName, member_key};
use serde::Serialize;

/// A row-level security policy on a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub name: String,
    pub table: QualifiedName,
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: String,
    /// Role names, sorted; `PUBLIC` for everyone.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
    pub comment: Option<String>,
    pub depends_on: Vec<ObjectRef>,
}

impl Policy {
    /// The key policies are stored under: policy names are unique per table only.
    pub fn key(&self) -> QualifiedName {
        member_key(&self.table, &self.name)
    }
}

/// Row-level security switches of a table; a table with both off is not listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RowSecurity {
    pub enabled: bool,
    pub forced: bool,
}
