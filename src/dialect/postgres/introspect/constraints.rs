//! Table constraints: kind, PostgreSQL's own definition, whether validated, columns, the referenced table
//! and columns of a foreign key, the user types a definition uses, and comments.

use super::{IntrospectError, Rows, get, get_name, get_names, get_qualified, json_pairs};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("constraints", include_str!("../queries/constraints.sql"));

/// Reads the constraints into the tables already read.
pub(super) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    let mut rows = Rows::new(conn, QUERY, schemas);
    while let Some(row) = rows.next().await? {
        let q = "constraints";
        let table = get_qualified(&row, q, "table_name")?;
        let Some(target) = catalog.tables.get_mut(&table) else {
            continue;
        };
        let kind = match get::<String>(&row, q, "kind")?.as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "c" => ConstraintKind::Check,
            "f" => ConstraintKind::ForeignKey,
            "x" => ConstraintKind::Exclusion,
            other => {
                return Err(IntrospectError::Decode { query: q, detail: format!("constraint type {other}") });
            }
        };
        let references =
            match (get::<Option<String>>(&row, q, "ref_schema")?, get::<Option<String>>(&row, q, "ref_table")?) {
                (Some(schema), Some(name)) if kind == ConstraintKind::ForeignKey => Some(ForeignKeyTarget {
                    table: QualifiedName::new(schema, name),
                    columns: get_names(&row, q, "ref_columns")?,
                }),
                _ => None,
            };
        let depends_on = json_pairs(q, &get::<String>(&row, q, "types")?)?
            .into_iter()
            .map(|(schema, name)| ObjectRef::Type(QualifiedName::new(schema, name)))
            .collect();
        let name = get_name(&row, q, "name")?;
        let constraint = Constraint {
            name: name.clone(),
            kind,
            definition: get(&row, q, "definition")?,
            validated: get(&row, q, "validated")?,
            columns: get_names(&row, q, "columns")?,
            references: references.map(Box::new),
            comment: get(&row, q, "comment")?,
            depends_on,
        };
        target.constraints.insert(name, constraint);
    }
    Ok(())
}
