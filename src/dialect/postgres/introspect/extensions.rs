//! Extensions: schema, version and the versions an update reaches, whether they can move, the types
//! they own, and their comments.

use super::{IntrospectError, fetch, get};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("extensions", include_str!("../queries/extensions.sql"));

pub(super) async fn read(
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
