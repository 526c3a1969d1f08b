//! Tables: names, comments, partition key, partition parent and bound, storage parameters, UNLOGGED,
//! replica identity, inheritance parents and a partition's copies of its parent's constraints. Columns
//! and constraints are read by their own queries.

use super::{IntrospectError, Rows, get, get_qualified, json_pairs, partitions};
use crate::model::*;
use indexmap::IndexMap;
use sqlx::postgres::{PgConnection, PgRow};

const QUERY: (&str, &str) = ("tables", include_str!("../queries/tables.sql"));

pub(super) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    let mut rows = Rows::new(conn, QUERY, schemas);
    while let Some(row) = rows.next().await? {
        let q = "tables";
        let name = get_qualified(&row, q, "name")?;
        let table = Table {
            name: name.clone(),
            columns: IndexMap::new(),
            constraints: IndexMap::new(),
            comment: get(&row, q, "comment")?,
            options: Vec::new(),
            partition_key: get(&row, q, "partition_key")?,
            partition_of: partitions::partition_of(&row)?,
            storage_parameters: storage_parameters(&row)?,
            unlogged: get(&row, q, "unlogged")?,
            replica_identity: replica_identity(&row)?,
            inherits: json_pairs(q, get::<&str>(&row, q, "inherits")?)?
                .into_iter()
                .map(|(schema, name)| QualifiedName::new(schema, name))
                .collect(),
            copies: partitions::constraint_copies(&row)?,
        };
        catalog.tables.insert(name, table);
    }
    catalog.tables.sort_unstable_keys();
    Ok(())
}

/// A table's replica identity from the tables query: `None` for the default. An identity index that was
/// dropped leaves `i` behind without an index, which PostgreSQL treats as NOTHING.
fn replica_identity(row: &PgRow) -> Result<Option<ReplicaIdentity>, IntrospectError> {
    let q = "tables";
    Ok(match get::<&str>(row, q, "replica_identity")? {
        "d" => None,
        "f" => Some(ReplicaIdentity::Full),
        "i" => Some(match get::<Option<&str>>(row, q, "replica_index")? {
            Some(index) => ReplicaIdentity::Index(index.into()),
            None => ReplicaIdentity::Nothing,
        }),
        "n" => Some(ReplicaIdentity::Nothing),
        other => return Err(IntrospectError::Decode { query: q, detail: format!("replica identity {other}") }),
    })
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
