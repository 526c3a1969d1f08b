//! Introspection of domains, composite and range types and collations (one query each), and the
//! partition and storage columns of the tables query. A child module of `introspect`, sharing its
//! `fetch`/`get` helpers.

use super::{IntrospectError, fetch, get};
use crate::model::*;
use indexmap::IndexMap;
use sqlx::postgres::{PgConnection, PgRow};

/// Queries issued by [`snapshot`].
pub const QUERY_COUNT: usize = 4;

const DOMAINS: (&str, &str) = ("domains", include_str!("queries/domains.sql"));
const COMPOSITE_TYPES: (&str, &str) = ("composite_types", include_str!("queries/composite_types.sql"));
const RANGE_TYPES: (&str, &str) = ("range_types", include_str!("queries/range_types.sql"));
const COLLATIONS: (&str, &str) = ("collations", include_str!("queries/collations.sql"));

pub(super) async fn snapshot(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, DOMAINS, schemas).await? {
        let q = "domains";
        let name = QualifiedName::new(get::<String>(&row, q, "schema")?, get::<String>(&row, q, "name")?);
        let mut depends_on: Vec<ObjectRef> = type_ref(&row, q)?.into_iter().collect();
        depends_on.extend(collation_ref(&row, q)?);
        // Functions its CHECK constraints and default call are created before the domain.
        depends_on.extend(function_refs(&row, q)?);
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
    for row in fetch(conn, COMPOSITE_TYPES, schemas).await? {
        let q = "composite_types";
        let name = QualifiedName::new(get::<String>(&row, q, "schema")?, get::<String>(&row, q, "name")?);
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
    for row in fetch(conn, RANGE_TYPES, schemas).await? {
        let q = "range_types";
        let name = QualifiedName::new(get::<String>(&row, q, "schema")?, get::<String>(&row, q, "name")?);
        let mut depends_on: Vec<ObjectRef> = type_ref(&row, q)?.into_iter().collect();
        depends_on.extend(collation_ref(&row, q)?);
        depends_on.extend(function_refs(&row, q)?);
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
    for row in fetch(conn, COLLATIONS, schemas).await? {
        let q = "collations";
        let name = QualifiedName::new(get::<String>(&row, q, "schema")?, get::<String>(&row, q, "name")?);
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

/// The functions in a row's `functions` column, a JSON array of [schema, name, identity arguments].
fn function_refs(row: &PgRow, q: &'static str) -> Result<Vec<ObjectRef>, IntrospectError> {
    let functions: Vec<(String, String, String)> = decode(q, &get::<String>(row, q, "functions")?)?;
    Ok(functions
        .into_iter()
        .map(|(schema, name, arguments)| {
            ObjectRef::Function(FunctionId { name: QualifiedName::new(schema, name), arguments })
        })
        .collect())
}

fn decode<T: serde::de::DeserializeOwned>(query: &'static str, text: &str) -> Result<T, IntrospectError> {
    serde_json::from_str(text).map_err(|e| IntrospectError::Decode { query, detail: e.to_string() })
}

/// The user-defined type a row names in `type_schema`/`type_name`, if any.
fn type_ref(row: &PgRow, q: &'static str) -> Result<Option<ObjectRef>, IntrospectError> {
    Ok(match (get::<Option<String>>(row, q, "type_schema")?, get::<Option<String>>(row, q, "type_name")?) {
        (Some(schema), Some(name)) => Some(ObjectRef::Type(QualifiedName::new(schema, name))),
        _ => None,
    })
}

/// The non-built-in collation a row names in `collation_schema`/`collation_name`, if any.
pub(super) fn collation_ref(row: &PgRow, q: &'static str) -> Result<Option<ObjectRef>, IntrospectError> {
    Ok(match (get::<Option<String>>(row, q, "collation_schema")?, get::<Option<String>>(row, q, "collation_name")?) {
        (Some(schema), Some(name)) => Some(ObjectRef::Collation(QualifiedName::new(schema, name))),
        _ => None,
    })
}

/// The parent and bound of a partition, from the tables query.
pub(super) fn partition_of(row: &PgRow) -> Result<Option<Box<PartitionOf>>, IntrospectError> {
    let q = "tables";
    Ok(
        match (
            get::<Option<String>>(row, q, "parent_schema")?,
            get::<Option<String>>(row, q, "parent_name")?,
            get::<Option<String>>(row, q, "partition_bound")?,
        ) {
            (Some(schema), Some(name), Some(bound)) => {
                Some(Box::new(PartitionOf { parent: QualifiedName::new(schema, name), bound }))
            }
            _ => None,
        },
    )
}

/// The indexes attached to a partitioned index down its partition tree, from the indexes query.
pub(super) fn partition_indexes(row: &PgRow) -> Result<Vec<PartitionIndex>, IntrospectError> {
    let q = "indexes";
    let Some(text) = get::<Option<String>>(row, q, "partitions")? else { return Ok(Vec::new()) };
    type Entry = (String, String, String, String, String, bool, u32, bool);
    let entries: Vec<Entry> =
        serde_json::from_str(&text).map_err(|e| IntrospectError::Decode { query: q, detail: e.to_string() })?;
    Ok(entries
        .into_iter()
        .map(|(schema, table, name, parent_schema, parent, leaf, depth, constraint)| PartitionIndex {
            name: QualifiedName::new(schema.clone(), name),
            table: QualifiedName::new(schema, table),
            parent: QualifiedName::new(parent_schema, parent),
            leaf,
            depth,
            constraint,
        })
        .collect())
}

/// A partition's copies of its parent's constraints, from the tables query.
pub(super) fn constraint_copies(row: &PgRow) -> Result<Vec<ConstraintCopy>, IntrospectError> {
    let entries: Vec<(String, String, bool)> = decode("tables", get(row, "tables", "copies")?)?;
    Ok(entries
        .into_iter()
        .map(|(name, parent, validated)| ConstraintCopy { name: name.into(), parent: parent.into(), validated })
        .collect())
}

/// `reloptions` entries (`fillfactor=70`) as (name, value) pairs.
pub(super) fn storage_parameters(row: &PgRow) -> Result<Vec<(String, String)>, IntrospectError> {
    let options: Vec<String> = get(row, "tables", "reloptions")?;
    options
        .into_iter()
        .map(|o| match o.split_once('=') {
            Some((n, v)) => Ok((n.to_string(), v.to_string())),
            None => {
                Err(IntrospectError::Decode { query: "tables and views", detail: format!("storage parameter {o}") })
            }
        })
        .collect()
}
