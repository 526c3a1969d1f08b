//! Triggers: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/triggers.sql`): PostgreSQL's own definition, whether enabled (and for which replication
//! role), comments, and what each depends on (its function, the functions of its WHEN condition, the columns
//! it names).
//!
//! Render: created from PostgreSQL's own definition (`pg_get_triggerdef`), then disabled or enabled for
//! replication when they are, and dropped.
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use super::functions::{function_ref, function_triples};
use crate::dialect::postgres::introspect::{IntrospectError, fetch, get, get_qualified};
use crate::dialect::postgres::locks::{ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE};
use crate::dialect::postgres::render::{ident, qualified, taking};
use crate::diff::TriggerChange;
use crate::model::*;
use crate::plan::Statement;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("triggers", include_str!("../queries/triggers.sql"));

pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "triggers";
        let table = get_qualified(&row, q, "table_name")?;
        let name: String = get(&row, q, "name")?;
        let mut depends_on = vec![function_ref(
            get(&row, q, "function_schema")?,
            get(&row, q, "function_name")?,
            get(&row, q, "function_arguments")?,
        )];
        depends_on.extend(function_triples(q, &get::<String>(&row, q, "when_functions")?)?);
        for column in get::<Vec<String>>(&row, q, "columns")? {
            depends_on.push(ObjectRef::Column(ColumnRef { table: table.clone(), column: column.into() }));
        }
        let enabled = match get::<String>(&row, q, "enabled")?.as_str() {
            "D" => Some("DISABLE".to_string()),
            "R" => Some("ENABLE REPLICA".to_string()),
            "A" => Some("ENABLE ALWAYS".to_string()),
            _ => None,
        };
        let trigger = Trigger {
            name: QualifiedName::new(table.schema.clone(), name.clone()),
            table: table.clone(),
            definition: get(&row, q, "definition")?,
            depends_on,
            enabled,
            comment: get(&row, q, "comment")?,
        };
        catalog.triggers.insert(member_key(&table, &name), trigger);
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Render.

/// Creating a trigger, or switching it on or off, takes SHARE ROW EXCLUSIVE on its table (writes wait);
/// dropping it ACCESS EXCLUSIVE.
pub(crate) fn render(change: &TriggerChange) -> Vec<Statement> {
    match change {
        TriggerChange::Create(t) => taking(create(t), SHARE_ROW_EXCLUSIVE, &t.table),
        TriggerChange::Drop(t) => {
            let sql = format!("DROP TRIGGER {} ON {};", ident(&t.name.name), qualified(&t.table));
            vec![Statement::locking(sql).taking(ACCESS_EXCLUSIVE, &t.table)]
        }
    }
}

fn create(t: &Trigger) -> Vec<String> {
    let mut sql = vec![format!("{};", t.definition)];
    if let Some(enabled) = &t.enabled {
        sql.push(format!("ALTER TABLE {} {enabled} TRIGGER {};", qualified(&t.table), ident(&t.name.name)));
    }
    sql
}
