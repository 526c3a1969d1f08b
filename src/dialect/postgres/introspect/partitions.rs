//! Partitions: a partition's parent and bound and its copies of the parent's constraints (columns of the
//! tables query), and the indexes attached to a partitioned index down its partition tree (a column of the
//! indexes query).

use super::{IntrospectError, decode, get};
use crate::model::*;
use sqlx::postgres::PgRow;

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
