//! Row-level security: policies (kind, command, roles, USING and WITH CHECK, comments, and the functions,
//! relations and columns they read), and each table's ENABLE and FORCE switches.

use super::functions::function_triples;
use super::{IntrospectError, fetch, get, get_qualified, json_pairs};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("policies", include_str!("../queries/policies.sql"));
const ROW_SECURITY: (&str, &str) = ("row security", include_str!("../queries/row_security.sql"));

pub(super) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "policies";
        let table = get_qualified(&row, q, "table_name")?;
        let mut depends_on = function_triples(q, &get::<String>(&row, q, "functions")?)?;
        depends_on.extend(
            json_pairs(q, &get::<String>(&row, q, "relations")?)?
                .into_iter()
                .map(|(s, n)| ObjectRef::Relation(QualifiedName::new(s, n))),
        );
        let columns: Vec<(Name, Name, Name)> = serde_json::from_str(&get::<String>(&row, q, "columns")?)
            .map_err(|e| IntrospectError::Decode { query: q, detail: e.to_string() })?;
        depends_on.extend(columns.into_iter().map(|(schema, relation, column)| {
            ObjectRef::Column(ColumnRef { table: QualifiedName::new(schema, relation), column })
        }));
        let policy = Policy {
            name: get(&row, q, "name")?,
            table,
            permissive: get(&row, q, "permissive")?,
            command: get(&row, q, "command")?,
            roles: get(&row, q, "roles")?,
            using: get(&row, q, "using_expr")?,
            with_check: get(&row, q, "check_expr")?,
            comment: get(&row, q, "comment")?,
            depends_on,
        };
        catalog.policies.insert(policy.key(), policy);
    }
    Ok(())
}

pub(super) async fn read_row_security(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, ROW_SECURITY, schemas).await? {
        let q = "row security";
        let table = get_qualified(&row, q, "name")?;
        let switches = RowSecurity { enabled: get(&row, q, "enabled")?, forced: get(&row, q, "forced")? };
        catalog.row_security.insert(table, switches);
    }
    Ok(())
}
