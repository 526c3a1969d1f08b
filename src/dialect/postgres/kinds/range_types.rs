//! Range types: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/range_types.sql`): subtype, operator class, collation, difference function, comments, and
//! what a range type depends on (its subtype, collation and functions).
//!
//! Render: created with their options, and dropped.
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use super::functions::function_triples;
use crate::dialect::postgres::introspect::{IntrospectError, collation_ref, fetch, get, get_qualified, type_ref};
use crate::dialect::postgres::render::qualified;
use crate::diff::RangeTypeChange;
use crate::model::*;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("range_types", include_str!("../queries/range_types.sql"));

pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "range_types";
        let name = get_qualified(&row, q, "name")?;
        let mut depends_on: Vec<ObjectRef> = type_ref(&row, q)?.into_iter().collect();
        depends_on.extend(collation_ref(&row, q)?);
        depends_on.extend(function_triples(q, &get::<String>(&row, q, "functions")?)?);
        let range = RangeType {
            name: name.clone(),
            subtype: get(&row, q, "subtype")?,
            subtype_opclass: get(&row, q, "subtype_opclass")?,
            collation: get(&row, q, "collation")?,
            subtype_diff: get(&row, q, "subtype_diff")?,
            comment: get(&row, q, "comment")?,
            depends_on,
        };
        catalog.range_types.insert(name, range);
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Render.

pub(crate) fn render(change: &RangeTypeChange) -> Vec<String> {
    match change {
        RangeTypeChange::Create(t) => create(t),
        RangeTypeChange::Drop(t) => vec![format!("DROP TYPE {};", qualified(&t.name))],
    }
}

fn create(t: &RangeType) -> Vec<String> {
    let mut options = vec![format!("SUBTYPE = {}", t.subtype)];
    if let Some(opclass) = &t.subtype_opclass {
        options.push(format!("SUBTYPE_OPCLASS = {opclass}"));
    }
    if let Some(collation) = &t.collation {
        options.push(format!("COLLATION = {collation}"));
    }
    if let Some(diff) = &t.subtype_diff {
        options.push(format!("SUBTYPE_DIFF = {diff}"));
    }
    vec![format!("CREATE TYPE {} AS RANGE ({});", qualified(&t.name), options.join(", "))]
}
