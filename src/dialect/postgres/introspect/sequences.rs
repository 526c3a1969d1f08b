//! Sequences: their options, the column that owns one, and their comments.

use super::{IntrospectError, Rows, get, get_qualified};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("sequences", include_str!("../queries/sequences.sql"));

pub(super) async fn read(
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
