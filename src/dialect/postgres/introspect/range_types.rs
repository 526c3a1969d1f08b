//! Range types: subtype, operator class, collation, difference function, comments, and what a range type
//! depends on (its subtype, collation and functions).

use super::functions::function_triples;
use super::{IntrospectError, collation_ref, fetch, get, get_qualified, type_ref};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("range_types", include_str!("../queries/range_types.sql"));

pub(super) async fn read(
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
