//! Views and materialized views: what PostgreSQL reads of them, the SQL that changes them, and the hazards
//! of that SQL.
//!
//! Read (`queries/views.sql`): PostgreSQL's own definition, the relations, columns and types it reads, options,
//! comments, and the names and comments of its columns (read by the columns query).
//!
//! Render: created (with their options) and dropped. The query is PostgreSQL's own (`pg_get_viewdef`).
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use super::tables::{parameters, storage_parameters};
use crate::dialect::postgres::introspect::{IntrospectError, Rows, get, get_qualified, json_pairs};
use crate::dialect::postgres::locks::ACCESS_EXCLUSIVE;
use crate::dialect::postgres::render::{locking, qualified, taking};
use crate::diff::ViewChange;
use crate::model::*;
use crate::plan::Statement;
use indexmap::IndexMap;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("views", include_str!("../queries/views.sql"));

/// The columns of views, from the columns query, which reads them before the views are.
#[derive(Default)]
pub(crate) struct ViewColumns {
    /// Each view's column names with their positions, in no particular order.
    pub names: IndexMap<QualifiedName, Vec<(i16, String)>>,
    pub comments: IndexMap<QualifiedName, IndexMap<String, String>>,
}

pub(crate) async fn read(
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

// ------------------------------------------------------------------------------------------------
// Render.

/// A new view locks only itself (it reads the relations it selects from); a drop takes ACCESS EXCLUSIVE on
/// the view.
pub(crate) fn render(change: &ViewChange) -> Vec<Statement> {
    match change {
        ViewChange::Create(v) => locking(create(v)),
        ViewChange::Drop(v) => {
            let sql = format!("DROP {} {};", view_keyword(v.materialized), qualified(&v.name));
            taking(vec![sql], ACCESS_EXCLUSIVE, &v.name)
        }
    }
}

fn create(v: &View) -> Vec<String> {
    let options = if v.options.is_empty() { String::new() } else { format!(" WITH ({})", parameters(&v.options)) };
    vec![format!("CREATE {} {}{options} AS\n{};", view_keyword(v.materialized), qualified(&v.name), v.definition)]
}

pub(super) fn view_keyword(materialized: bool) -> &'static str {
    if materialized { "MATERIALIZED VIEW" } else { "VIEW" }
}
