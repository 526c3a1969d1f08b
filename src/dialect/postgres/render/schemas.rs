//! Schemas: created and dropped.

use super::ident;
use crate::diff::SchemaChange;

pub(super) fn render(change: &SchemaChange) -> Vec<String> {
    match change {
        SchemaChange::Create(s) => vec![format!("CREATE SCHEMA {};", ident(&s.name))],
        SchemaChange::Drop(s) => vec![format!("DROP SCHEMA {};", ident(&s.name))],
    }
}
