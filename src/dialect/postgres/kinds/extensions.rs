//! Extensions: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/extensions.sql`): schema, version and the versions an update reaches, whether they can move,
//! the types they own, and their comments.
//!
//! Render: created in their schema (at a version when one is declared), dropped, moved to another schema, and
//! updated to another version when the server can reach it.
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use crate::dialect::postgres::introspect::{IntrospectError, fetch, get};
use crate::dialect::postgres::render::{ident, literal};
use crate::diff::ExtensionChange;
use crate::model::*;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("extensions", include_str!("../queries/extensions.sql"));

pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let name: String = get(&row, "extensions", "name")?;
        catalog.extensions.insert(
            name.clone(),
            Extension {
                name,
                schema: get(&row, "extensions", "schema")?,
                version: get(&row, "extensions", "version")?,
                update_targets: get(&row, "extensions", "update_targets")?,
                comment: get(&row, "extensions", "comment")?,
                relocatable: get(&row, "extensions", "relocatable")?,
                types: get(&row, "extensions", "types")?,
            },
        );
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Render.

pub(crate) fn render(change: &ExtensionChange) -> Vec<String> {
    match change {
        ExtensionChange::Create(x) => create(x),
        ExtensionChange::Drop(x) => vec![format!("DROP EXTENSION {};", ident(&x.name))],
        ExtensionChange::SetSchema { name, to, .. } => {
            vec![format!("ALTER EXTENSION {} SET SCHEMA {};", ident(name), ident(to))]
        }
        ExtensionChange::AlterVersion { name, to, reachable, .. } => alter_version(name, to, *reachable),
    }
}

fn create(x: &Extension) -> Vec<String> {
    let version = x.version.as_ref().map(|v| format!(" VERSION {}", literal(v))).unwrap_or_default();
    vec![format!("CREATE EXTENSION {} WITH SCHEMA {}{version};", ident(&x.name), ident(&x.schema))]
}

fn alter_version(name: &str, to: &str, reachable: bool) -> Vec<String> {
    if reachable {
        vec![format!("ALTER EXTENSION {} UPDATE TO {};", ident(name), literal(to))]
    } else {
        // Nothing can be run: the step stays in the plan for its hazard, `extension-version-kept`.
        Vec::new()
    }
}
