//! Collations: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/collations.sql`): provider, locales and whether deterministic.
//!
//! Render: created with their provider and locales, and dropped.
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use crate::dialect::postgres::introspect::{IntrospectError, fetch, get, get_qualified};
use crate::dialect::postgres::render::{literal, qualified};
use crate::diff::CollationChange;
use crate::model::*;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("collations", include_str!("../queries/collations.sql"));

pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "collations";
        let name = get_qualified(&row, q, "name")?;
        let collation = Collation {
            name: name.clone(),
            provider: get(&row, q, "provider")?,
            deterministic: get(&row, q, "deterministic")?,
            lc_collate: get(&row, q, "lc_collate")?,
            lc_ctype: get(&row, q, "lc_ctype")?,
            locale: get(&row, q, "locale")?,
        };
        catalog.collations.insert(name, collation);
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Render.

pub(crate) fn render(change: &CollationChange) -> Vec<String> {
    match change {
        CollationChange::Create(c) => vec![create_collation(c)],
        CollationChange::Drop(c) => vec![format!("DROP COLLATION {};", qualified(&c.name))],
    }
}

fn create_collation(c: &Collation) -> String {
    let mut options = vec![format!("PROVIDER = {}", c.provider)];
    if let Some(locale) = &c.locale {
        options.push(format!("LOCALE = {}", literal(locale)));
    }
    if let Some(lc) = &c.lc_collate {
        options.push(format!("LC_COLLATE = {}", literal(lc)));
    }
    if let Some(lc) = &c.lc_ctype {
        options.push(format!("LC_CTYPE = {}", literal(lc)));
    }
    if !c.deterministic {
        options.push("DETERMINISTIC = false".to_string());
    }
    format!("CREATE COLLATION {} ({});", qualified(&c.name), options.join(", "))
}
