//! Sequences: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/sequences.sql`): their options, the column that owns one, and their comments.
//!
//! Render: created and altered with every option spelled out, dropped, renamed, and the column that owns one
//! (`OWNED BY`).
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use super::columns::column_ref;
use crate::dialect::postgres::introspect::{IntrospectError, Rows, get, get_qualified};
use crate::dialect::postgres::locks::{ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE};
use crate::dialect::postgres::render::{ident, locking, qualified, taking};
use crate::diff::SequenceChange;
use crate::model::*;
use crate::plan::Statement;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("sequences", include_str!("../queries/sequences.sql"));

pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    let mut rows = Rows::new(conn, QUERY, schemas);
    while let Some(row) = rows.next().await? {
        let q = "sequences";
        let name = get_qualified(&row, q, "name")?;
        let owner_table: Option<String> = get(&row, q, "owner_table")?;
        let owned_by = match (get::<Option<String>>(&row, q, "owner_schema")?, owner_table) {
            (Some(schema), Some(table)) => Some(ColumnRef {
                table: QualifiedName::new(schema, table),
                column: get::<Option<&str>>(&row, q, "owner_column")?.unwrap_or_default().into(),
            }),
            _ => None,
        };
        let sequence = Sequence {
            name: name.clone(),
            data_type: get(&row, q, "data_type")?,
            start: get(&row, q, "start")?,
            increment: get(&row, q, "increment")?,
            min_value: get(&row, q, "min_value")?,
            max_value: get(&row, q, "max_value")?,
            cache: get(&row, q, "cache")?,
            cycle: get(&row, q, "cycle")?,
            owned_by,
            comment: get(&row, q, "comment")?,
        };
        catalog.sequences.insert(name, sequence);
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Render.

/// `ALTER SEQUENCE` takes SHARE ROW EXCLUSIVE on the sequence, which makes `nextval` (and so the inserts
/// that draw from it) wait; a rename or a drop takes ACCESS EXCLUSIVE.
pub(crate) fn render(change: &SequenceChange) -> Vec<Statement> {
    match change {
        SequenceChange::Create(s) => {
            locking(vec![format!("CREATE SEQUENCE {} {};", qualified(&s.name), sequence_options(s))])
        }
        SequenceChange::Drop(s) => {
            taking(vec![format!("DROP SEQUENCE {};", qualified(&s.name))], ACCESS_EXCLUSIVE, &s.name)
        }
        SequenceChange::Alter { to, .. } => {
            let sql = format!("ALTER SEQUENCE {} {};", qualified(&to.name), sequence_options(to));
            taking(vec![sql], SHARE_ROW_EXCLUSIVE, &to.name)
        }
        SequenceChange::SetOwner { sequence, to, .. } => {
            let owner = to.as_ref().map(column_ref).unwrap_or_else(|| "NONE".to_string());
            taking(
                vec![format!("ALTER SEQUENCE {} OWNED BY {owner};", qualified(sequence))],
                SHARE_ROW_EXCLUSIVE,
                sequence,
            )
        }
        SequenceChange::Rename { from, to } => {
            let sql = format!("ALTER SEQUENCE {} RENAME TO {};", qualified(from), ident(&to.name));
            taking(vec![sql], ACCESS_EXCLUSIVE, from)
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
