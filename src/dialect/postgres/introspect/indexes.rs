//! Indexes other than those of constraints: table, uniqueness, the definition after `USING` (PostgreSQL's
//! own), columns, comments, and on a partitioned table the indexes attached to it down its partitions.

use super::{IntrospectError, Rows, get, get_name, get_names, partitions};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("indexes", include_str!("../queries/indexes.sql"));

pub(super) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    let mut rows = Rows::new(conn, QUERY, schemas);
    while let Some(row) = rows.next().await? {
        let q = "indexes";
        let schema = get_name(&row, q, "schema")?;
        let name = QualifiedName::new(schema.clone(), get_name(&row, q, "name")?);
        // Built by the query for plain indexes; otherwise pg_get_indexdef's text after its prefix.
        let definition = match get::<Option<String>>(&row, q, "definition")? {
            Some(definition) => definition,
            None => {
                let full: String = get(&row, q, "full_definition")?;
                let prefix: &str = get(&row, q, "prefix")?;
                full.strip_prefix(prefix).map(str::to_string).ok_or_else(|| IntrospectError::Decode {
                    query: q,
                    detail: format!("unexpected index definition: {full}"),
                })?
            }
        };
        let index = Index {
            name: name.clone(),
            table: QualifiedName::new(schema, get_name(&row, q, "table_name")?),
            unique: get(&row, q, "is_unique")?,
            definition,
            columns: get_names(&row, q, "columns")?,
            comment: get(&row, q, "comment")?,
            depends_on: Vec::new(),
            partitions: partitions::partition_indexes(&row)?,
        };
        catalog.indexes.insert(name, index);
    }
    catalog.indexes.sort_unstable_keys();
    Ok(())
}
