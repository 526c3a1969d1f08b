//! Schemas: their names and comments.

use super::{IntrospectError, fetch, get};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("schemas", include_str!("../queries/schemas.sql"));

pub(super) async fn read(
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
