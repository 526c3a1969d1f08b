//! Domains: base type, default, NOT NULL, collation, CHECK constraints (validated or not), comments, and
//! what a domain depends on (its base type, collation, and the functions its checks and default call).

use super::functions::function_triples;
use super::{IntrospectError, collation_ref, decode, fetch, get, get_qualified, type_ref};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("domains", include_str!("../queries/domains.sql"));

pub(super) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "domains";
        let name = get_qualified(&row, q, "name")?;
        let mut depends_on: Vec<ObjectRef> = type_ref(&row, q)?.into_iter().collect();
        depends_on.extend(collation_ref(&row, q)?);
        // Functions its CHECK constraints and default call are created before the domain.
        depends_on.extend(function_triples(q, &get::<String>(&row, q, "functions")?)?);
        let checks: Vec<(String, String, bool)> = decode(q, &get::<String>(&row, q, "constraints")?)?;
        let constraints = checks
            .into_iter()
            .map(|(name, definition, validated)| {
                let definition = definition.strip_suffix(" NOT VALID").unwrap_or(&definition).to_string();
                (name.clone(), DomainConstraint { name, definition, validated })
            })
            .collect();
        let domain = Domain {
            name: name.clone(),
            data_type: get(&row, q, "data_type")?,
            default: get(&row, q, "default_expr")?,
            not_null: get(&row, q, "not_null")?,
            collation: get(&row, q, "collation")?,
            constraints,
            comment: get(&row, q, "comment")?,
            depends_on,
        };
        catalog.domains.insert(name, domain);
    }
    Ok(())
}
