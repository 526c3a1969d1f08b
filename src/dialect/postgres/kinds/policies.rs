//! Row-level security: what PostgreSQL reads of it, the SQL that changes it, and the hazards of that SQL.
//!
//! Read (`queries/policies.sql`, `queries/row_security.sql`): policies (kind, command, roles, USING and WITH
//! CHECK, comments, and the functions, relations and columns they read), and each table's ENABLE and FORCE
//! switches.
//!
//! Render: policies created, altered in place (roles, `USING`, `WITH CHECK`) and dropped, and a table's
//! `ENABLE`/`FORCE ROW LEVEL SECURITY` switches.
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use super::functions::function_triples;
use crate::dialect::postgres::introspect::{IntrospectError, fetch, get, get_qualified, json_pairs};
use crate::dialect::postgres::locks::ACCESS_EXCLUSIVE;
use crate::dialect::postgres::render::{ident, qualified, taking};
use crate::diff::PolicyChange;
use crate::model::*;
use crate::plan::Statement;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("policies", include_str!("../queries/policies.sql"));
const ROW_SECURITY: (&str, &str) = ("row security", include_str!("../queries/row_security.sql"));

pub(crate) async fn read(
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

pub(crate) async fn read_row_security(
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

// ------------------------------------------------------------------------------------------------
// Render.

/// Every policy statement and row-security switch takes ACCESS EXCLUSIVE on its table.
pub(crate) fn render(change: &PolicyChange) -> Vec<Statement> {
    match change {
        PolicyChange::Create(p) => taking(vec![create_policy(p)], ACCESS_EXCLUSIVE, &p.table),
        PolicyChange::Alter { to, .. } => taking(vec![alter_policy(to)], ACCESS_EXCLUSIVE, &to.table),
        PolicyChange::Drop(p) => {
            let sql = format!("DROP POLICY {} ON {};", ident(&p.name), qualified(&p.table));
            taking(vec![sql], ACCESS_EXCLUSIVE, &p.table)
        }
        PolicyChange::SetRowSecurity { table, from, to } => {
            taking(set_row_security(table, from, to), ACCESS_EXCLUSIVE, table)
        }
    }
}

fn set_row_security(table: &QualifiedName, from: &RowSecurity, to: &RowSecurity) -> Vec<String> {
    let mut sql = Vec::new();
    if from.enabled != to.enabled {
        let verb = if to.enabled { "ENABLE" } else { "DISABLE" };
        sql.push(format!("ALTER TABLE {} {verb} ROW LEVEL SECURITY;", qualified(table)));
    }
    if from.forced != to.forced {
        let verb = if to.forced { "FORCE" } else { "NO FORCE" };
        sql.push(format!("ALTER TABLE {} {verb} ROW LEVEL SECURITY;", qualified(table)));
    }
    sql
}

fn create_policy(p: &Policy) -> String {
    let kind = if p.permissive { "PERMISSIVE" } else { "RESTRICTIVE" };
    let head = format!("CREATE POLICY {} ON {} AS {kind} FOR {}", ident(&p.name), qualified(&p.table), p.command);
    policy_clauses(head, p)
}

fn alter_policy(p: &Policy) -> String {
    policy_clauses(format!("ALTER POLICY {} ON {}", ident(&p.name), qualified(&p.table)), p)
}

/// `TO roles`, `USING` and `WITH CHECK` after a CREATE or ALTER POLICY head.
fn policy_clauses(mut sql: String, p: &Policy) -> String {
    let roles: Vec<String> =
        p.roles.iter().map(|r| if r == "PUBLIC" { "PUBLIC".to_string() } else { ident(r) }).collect();
    sql.push_str(&format!(" TO {}", roles.join(", ")));
    if let Some(using) = &p.using {
        sql.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &p.with_check {
        sql.push_str(&format!(" WITH CHECK ({check})"));
    }
    sql.push(';');
    sql
}
