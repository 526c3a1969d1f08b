//! Composite types: attributes in order with their types and collations (and the user types and
//! collations they depend on), and comments.

use super::{IntrospectError, decode, fetch, get, get_qualified};
use crate::model::*;
use indexmap::IndexMap;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("composite_types", include_str!("../queries/composite_types.sql"));

pub(super) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "composite_types";
        let name = get_qualified(&row, q, "name")?;
        type Attribute = (String, String, Option<String>, Option<String>, String, Option<String>, Option<String>);
        let rows: Vec<Attribute> = decode(q, &get::<String>(&row, q, "attributes")?)?;
        let mut attributes = IndexMap::new();
        for (attname, data_type, collation, type_schema, type_name, coll_schema, coll_name) in rows {
            let mut depends_on = Vec::new();
            if let Some(schema) = type_schema {
                depends_on.push(ObjectRef::Type(QualifiedName::new(schema, type_name)));
            }
            if let (Some(schema), Some(coll)) = (coll_schema, coll_name) {
                depends_on.push(ObjectRef::Collation(QualifiedName::new(schema, coll)));
            }
            attributes.insert(attname.clone(), TypeAttribute { name: attname, data_type, collation, depends_on });
        }
        let composite = CompositeType { name: name.clone(), attributes, comment: get(&row, q, "comment")? };
        catalog.composite_types.insert(name, composite);
    }
    Ok(())
}
