//! Triggers on tables and views.

use super::{ObjectRef, QualifiedName};
use serde::Serialize;

/// A trigger, kept as the database's own definition (its full `CREATE TRIGGER` statement).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub name: QualifiedName,
    pub table: QualifiedName,
    pub definition: String,
    /// Relations the trigger body reads or writes besides its table, where known; the function it calls.
    pub depends_on: Vec<ObjectRef>,
    /// How it fires when not the default (PostgreSQL: `DISABLE`, `ENABLE REPLICA`, `ENABLE ALWAYS`).
    pub enabled: Option<String>,
    pub comment: Option<String>,
}
