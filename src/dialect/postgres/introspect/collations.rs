//! Collations: provider, locales and whether deterministic.

use super::{IntrospectError, fetch, get, get_qualified};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("collations", include_str!("../queries/collations.sql"));

pub(super) async fn read(
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
