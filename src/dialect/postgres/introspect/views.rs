//! Views and materialized views: PostgreSQL's own definition, the relations, columns and types it reads,
//! options, comments, and the names and comments of its columns (read by the columns query).

use super::tables::storage_parameters;
use super::{IntrospectError, Rows, get, get_qualified, json_pairs};
use crate::model::*;
use indexmap::IndexMap;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("views", include_str!("../queries/views.sql"));

/// The columns of views, from the columns query, which reads them before the views are.
#[derive(Default)]
pub(super) struct ViewColumns {
    /// Each view's column names with their positions, in no particular order.
    pub names: IndexMap<QualifiedName, Vec<(i16, String)>>,
    pub comments: IndexMap<QualifiedName, IndexMap<String, String>>,
}

pub(super) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
    mut view_columns: ViewColumns,
) -> Result<(), IntrospectError> {
    let mut rows = Rows::new(conn, QUERY, schemas);
    while let Some(row) = rows.next().await? {
        let q = "views";
        let name = get_qualified(&row, q, "name")?;
        let definition: String = get(&row, q, "definition")?;
        let mut depends_on: Vec<ObjectRef> = Vec::new();
        let deps: Vec<(Name, Name, Option<Name>)> = serde_json::from_str(&get::<String>(&row, q, "depends_on")?)
            .map_err(|e| IntrospectError::Decode { query: q, detail: e.to_string() })?;
        for (schema, relation, column) in deps {
            let relation = QualifiedName::new(schema, relation);
            depends_on.push(match column {
                Some(column) => ObjectRef::Column(ColumnRef { table: relation, column }),
                None => ObjectRef::Relation(relation),
            });
        }
        for (schema, type_name) in json_pairs(q, &get::<String>(&row, q, "types")?)? {
            depends_on.push(ObjectRef::Type(QualifiedName::new(schema, type_name)));
        }
        depends_on.sort();
        depends_on.dedup();
        let view = View {
            name: name.clone(),
            materialized: get(&row, q, "materialized")?,
            definition: definition.trim().trim_end_matches(';').to_string(),
            columns: view_columns.names.shift_remove(&name).map(in_position_order).unwrap_or_default(),
            depends_on,
            comment: get(&row, q, "comment")?,
            column_comments: view_columns.comments.shift_remove(&name).unwrap_or_default(),
            options: storage_parameters(&row)?,
        };
        catalog.views.insert(name, view);
    }
    Ok(())
}

/// A view's column names in position order.
fn in_position_order(mut columns: Vec<(i16, String)>) -> Vec<String> {
    columns.sort_by_key(|(position, _)| *position);
    columns.into_iter().map(|(_, name)| name).collect()
}
