//! Enum types: their labels in order, and their comments.

use super::{IntrospectError, fetch, get, get_qualified};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("enums", include_str!("../queries/enums.sql"));

pub(super) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "enums";
        let name = get_qualified(&row, q, "name")?;
        let enum_type =
            EnumType { name: name.clone(), labels: get(&row, q, "labels")?, comment: get(&row, q, "comment")? };
        catalog.enums.insert(name, enum_type);
    }
    Ok(())
}
