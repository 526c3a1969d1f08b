//! Composite types: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/composite_types.sql`): attributes in order with their types and collations (and the user
//! types and collations they depend on), and comments.
//!
//! Render: created, dropped, and altered in place (attributes added, dropped and retyped).
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use crate::dialect::postgres::introspect::{IntrospectError, decode, fetch, get, get_qualified};
use crate::dialect::postgres::render::{ident, qualified};
use crate::diff::CompositeTypeChange;
use crate::model::*;
use indexmap::IndexMap;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("composite_types", include_str!("../queries/composite_types.sql"));

pub(crate) async fn read(
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

// ------------------------------------------------------------------------------------------------
// Render.

pub(crate) fn render(change: &CompositeTypeChange) -> Vec<String> {
    match change {
        CompositeTypeChange::Create(t) => {
            let attributes: Vec<String> = t.attributes.values().map(attribute).collect();
            vec![format!("CREATE TYPE {} AS ({});", qualified(&t.name), attributes.join(", "))]
        }
        CompositeTypeChange::Drop(t) => vec![format!("DROP TYPE {};", qualified(&t.name))],
        CompositeTypeChange::Alter { from, to } => alter(from, to),
    }
}

fn attribute(a: &TypeAttribute) -> String {
    let collate = a.collation.as_ref().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
    format!("{} {}{collate}", ident(&a.name), a.data_type)
}

fn alter(from: &CompositeType, to: &CompositeType) -> Vec<String> {
    let name = qualified(&to.name);
    let mut sql = Vec::new();
    for old in from.attributes.values() {
        if !to.attributes.contains_key(&old.name) {
            sql.push(format!("ALTER TYPE {name} DROP ATTRIBUTE {};", ident(&old.name)));
        }
    }
    for new in to.attributes.values() {
        match from.attributes.get(&new.name) {
            None => sql.push(format!("ALTER TYPE {name} ADD ATTRIBUTE {};", attribute(new))),
            Some(old) if old.data_type != new.data_type || old.collation != new.collation => {
                let collate = new.collation.as_ref().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
                sql.push(format!(
                    "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {}{collate};",
                    ident(&new.name),
                    new.data_type
                ));
            }
            Some(_) => {}
        }
    }
    sql
}
