//! Sequences: created and altered with every option spelled out, dropped, renamed, and the column that
//! owns one (`OWNED BY`).

use super::columns::column_ref;
use super::{ident, qualified};
use crate::model::*;

pub(super) fn create(s: &Sequence) -> Vec<String> {
    vec![format!("CREATE SEQUENCE {} {};", qualified(&s.name), sequence_options(s))]
}

pub(super) fn drop(s: &Sequence) -> Vec<String> {
    vec![format!("DROP SEQUENCE {};", qualified(&s.name))]
}

pub(super) fn alter(to: &Sequence) -> Vec<String> {
    vec![format!("ALTER SEQUENCE {} {};", qualified(&to.name), sequence_options(to))]
}

pub(super) fn set_owner(sequence: &QualifiedName, to: Option<&ColumnRef>) -> Vec<String> {
    let owner = to.map(column_ref).unwrap_or_else(|| "NONE".to_string());
    vec![format!("ALTER SEQUENCE {} OWNED BY {owner};", qualified(sequence))]
}

pub(super) fn rename(from: &QualifiedName, to: &QualifiedName) -> Vec<String> {
    vec![format!("ALTER SEQUENCE {} RENAME TO {};", qualified(from), ident(&to.name))]
}

fn sequence_options(s: &Sequence) -> String {
    format!(
        "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
        s.data_type,
        s.increment,
        s.min_value,
        s.max_value,
        s.start,
        s.cache,
        if s.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}
