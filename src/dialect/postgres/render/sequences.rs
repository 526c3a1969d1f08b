//! Sequences: created and altered with every option spelled out, dropped, renamed, and the column that
//! owns one (`OWNED BY`).

use super::columns::column_ref;
use super::{ident, qualified};
use crate::diff::SequenceChange;
use crate::model::*;

pub(super) fn render(change: &SequenceChange) -> Vec<String> {
    match change {
        SequenceChange::Create(s) => vec![format!("CREATE SEQUENCE {} {};", qualified(&s.name), sequence_options(s))],
        SequenceChange::Drop(s) => vec![format!("DROP SEQUENCE {};", qualified(&s.name))],
        SequenceChange::Alter { to, .. } => {
            vec![format!("ALTER SEQUENCE {} {};", qualified(&to.name), sequence_options(to))]
        }
        SequenceChange::SetOwner { sequence, to, .. } => {
            let owner = to.as_ref().map(column_ref).unwrap_or_else(|| "NONE".to_string());
            vec![format!("ALTER SEQUENCE {} OWNED BY {owner};", qualified(sequence))]
        }
        SequenceChange::Rename { from, to } => {
            vec![format!("ALTER SEQUENCE {} RENAME TO {};", qualified(from), ident(&to.name))]
        }
    }
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
