//! Schemas: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/schemas.sql`): their names and comments.
//!
//! Render: created and dropped.
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use crate::dialect::postgres::introspect::{IntrospectError, fetch, get};
use crate::dialect::postgres::render::ident;
use crate::diff::SchemaChange;
use crate::model::*;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("schemas", include_str!("../queries/schemas.sql"));

pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let name: String = get(&row, "schemas", "name")?;
        catalog.schemas.insert(name.clone(), Namespace { name, comment: get(&row, "schemas", "comment")? });
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Render.

pub(crate) fn render(change: &SchemaChange) -> Vec<String> {
    match change {
        SchemaChange::Create(s) => vec![format!("CREATE SCHEMA {};", ident(&s.name))],
        SchemaChange::Drop(s) => vec![format!("DROP SCHEMA {};", ident(&s.name))],
    }
}
