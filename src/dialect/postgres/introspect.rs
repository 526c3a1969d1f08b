//! Reads a PostgreSQL database into the [`Catalog`] model with a fixed set of catalog queries (one per
//! object kind, whatever the size of the schema). The caller provides the transaction; [`snapshot`]
//! sets `search_path` to `pg_catalog` inside it so that every name PostgreSQL deparses (types,
//! defaults, view and constraint definitions) comes out schema-qualified and migrations do not depend
//! on the session's search path, and raises `work_mem` for the transaction.
//!
//! This file holds the entry points, the order of the queries and the helpers that decode a row; each
//! kind's rows become the model in the file named after it, `kinds/<kind>.rs` (partitions: the partition
//! columns of the tables and indexes queries). The queries themselves are `queries/<kind>.sql`.

use super::kinds::{
    collations, columns, composite_types, constraints, domains, enums, extensions, functions, indexes, policies,
    privileges, range_types, schemas, sequences, tables, triggers, views,
};
use crate::model::*;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Connection, Row};
use std::borrow::Cow;

/// Number of catalog queries one introspection issues, independent of the schema size: one per file in
/// `queries/`, each sent once by [`snapshot`].
pub const QUERY_COUNT: usize = 22;

#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error("catalog query `{query}` failed")]
    Query { query: &'static str, source: sqlx::Error },
    #[error("catalog query `{query}` returned unexpected data: {detail}")]
    Decode { query: &'static str, detail: String },
}

/// Objects the tool does not manage yet, listed so that nothing is ignored silently.
const UNMANAGED: (&str, &str) = ("unmanaged", include_str!("queries/unmanaged.sql"));

/// Opens a read-only, repeatable-read transaction on `conn` and introspects it: one consistent snapshot.
pub async fn introspect_live(conn: &mut PgConnection, schemas: &[String]) -> Result<Catalog, IntrospectError> {
    let mut tx = conn
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|source| IntrospectError::Query { query: "begin", source })?;
    let catalog = snapshot(&mut tx, schemas).await?;
    tx.rollback().await.map_err(|source| IntrospectError::Query { query: "rollback", source })?;
    Ok(catalog)
}

/// Introspects through a connection that is already inside a transaction. The queries run in this order:
/// each kind is read after those it refers to (columns into their tables, constraints after columns, a
/// view's columns before the view, what calls a function after both).
pub async fn snapshot(conn: &mut PgConnection, schemas: &[String]) -> Result<Catalog, IntrospectError> {
    // One round trip. work_mem: the sorts and hashes of the larger catalog queries at 10,000 tables
    // spill to disk with the default 4 MB. No parallel workers: the queries take a few hundred
    // milliseconds, and `diff` reads two databases at once, so workers only add their start-up and
    // compete for the same cores. No JIT: compiling would cost more than these queries run.
    sqlx::raw_sql(
        "SET LOCAL search_path TO pg_catalog; SET LOCAL work_mem = '64MB'; \
         SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off",
    )
    .execute(&mut *conn)
    .await
    .map_err(|source| IntrospectError::Query { query: "set search_path", source })?;
    let mut catalog = Catalog::default();
    let schemas = schemas.to_vec();

    schemas::read(conn, &schemas, &mut catalog).await?;
    extensions::read(conn, &schemas, &mut catalog).await?;
    enums::read(conn, &schemas, &mut catalog).await?;
    sequences::read(conn, &schemas, &mut catalog).await?;
    tables::read(conn, &schemas, &mut catalog).await?;
    let view_columns = columns::read(conn, &schemas, &mut catalog).await?;
    constraints::read(conn, &schemas, &mut catalog).await?;
    // Maps grown one row at a time hold up to twice the room they need, for the life of the catalog.
    for table in catalog.tables.values_mut() {
        table.columns.shrink_to_fit();
        table.constraints.sort_unstable_keys();
        table.constraints.shrink_to_fit();
    }
    indexes::read(conn, &schemas, &mut catalog).await?;
    views::read(conn, &schemas, &mut catalog, view_columns).await?;
    domains::read(conn, &schemas, &mut catalog).await?;
    composite_types::read(conn, &schemas, &mut catalog).await?;
    range_types::read(conn, &schemas, &mut catalog).await?;
    collations::read(conn, &schemas, &mut catalog).await?;
    functions::read(conn, &schemas, &mut catalog).await?;
    triggers::read(conn, &schemas, &mut catalog).await?;
    policies::read(conn, &schemas, &mut catalog).await?;
    policies::read_row_security(conn, &schemas, &mut catalog).await?;
    functions::read_uses(conn, &schemas, &mut catalog).await?;
    privileges::read_grants(conn, &schemas, &mut catalog).await?;
    privileges::read_default_privileges(conn, &schemas, &mut catalog).await?;
    privileges::read_owners(conn, &schemas, &mut catalog).await?;
    for row in fetch(conn, UNMANAGED, &schemas).await? {
        catalog.unmanaged.push(UnmanagedObject {
            kind: get(&row, "unmanaged", "kind")?,
            schema: get(&row, "unmanaged", "schema")?,
            name: get(&row, "unmanaged", "name")?,
        });
    }
    // With the columns' settings read earlier: sorted by kind, then name.
    catalog.unmanaged.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    catalog.tables.shrink_to_fit();
    catalog.indexes.shrink_to_fit();
    catalog.views.shrink_to_fit();
    catalog.sequences.shrink_to_fit();
    Ok(catalog)
}

/// The text of a catalog query for the connected server. PostgreSQL 14 lacks two catalog columns the
/// index and constraint queries read (`NULLS NOT DISTINCT` and `ON DELETE SET NULL (columns)`, both new
/// in 15): there they are replaced by the values they always have on 14.
fn for_server(conn: &PgConnection, sql: &'static str) -> AssertSqlSafe<Cow<'static, str>> {
    AssertSqlSafe(match conn.server_version_num() {
        Some(version) if version < 150_000 => Cow::Owned(
            sql.replace("i.indnullsnotdistinct", "false")
                .replace("ix.indnullsnotdistinct", "false")
                .replace("con.confdelsetcols", "NULL::int2[]"),
        ),
        _ => Cow::Borrowed(sql),
    })
}

pub(super) async fn fetch(
    conn: &mut PgConnection,
    (name, sql): (&'static str, &'static str),
    schemas: &[String],
) -> Result<Vec<PgRow>, IntrospectError> {
    let query = sqlx::query(for_server(conn, sql));
    // The extensions query takes no parameter.
    let query = if sql.contains("$1") { query.bind(schemas) } else { query };
    query.fetch_all(&mut *conn).await.map_err(|source| IntrospectError::Query { query: name, source })
}

/// The rows of one catalog query, decoded as they arrive instead of collected first (`fetch`): at
/// 10,000 tables the columns query returns about 100,000 rows, and holding them all beside the model
/// built from them raised the peak memory of an introspection. Dropped before the next query.
pub(super) struct Rows<'c> {
    name: &'static str,
    stream: futures_core::stream::BoxStream<'c, Result<PgRow, sqlx::Error>>,
}

impl<'c> Rows<'c> {
    pub(super) fn new(
        conn: &'c mut PgConnection,
        (name, sql): (&'static str, &'static str),
        schemas: &'c [String],
    ) -> Self {
        let query = sqlx::query(for_server(conn, sql));
        let query = if sql.contains("$1") { query.bind(schemas) } else { query };
        Rows { name, stream: query.fetch(conn) }
    }

    pub(super) async fn next(&mut self) -> Result<Option<PgRow>, IntrospectError> {
        std::future::poll_fn(|cx| self.stream.as_mut().poll_next(cx))
            .await
            .transpose()
            .map_err(|source| IntrospectError::Query { query: self.name, source })
    }
}

pub(super) fn get<'r, T>(row: &'r PgRow, query: &'static str, column: &str) -> Result<T, IntrospectError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(column).map_err(|e| IntrospectError::Decode { query, detail: format!("{column}: {e}") })
}

/// Decodes a text column straight into a [`Name`] (inline when short, no intermediate `String`).
pub(super) fn get_name(row: &PgRow, query: &'static str, column: &str) -> Result<Name, IntrospectError> {
    get::<&str>(row, query, column).map(Name::from)
}

/// The name in the row's `schema` column and `name_column`: every kind's key.
pub(super) fn get_qualified(
    row: &PgRow,
    query: &'static str,
    name_column: &str,
) -> Result<QualifiedName, IntrospectError> {
    Ok(QualifiedName::new(get_name(row, query, "schema")?, get_name(row, query, name_column)?))
}

/// Decodes a `text[]` column into [`Name`]s.
pub(super) fn get_names(row: &PgRow, query: &'static str, column: &str) -> Result<Vec<Name>, IntrospectError> {
    Ok(get::<Vec<String>>(row, query, column)?.into_iter().map(Name::from).collect())
}

pub(super) fn json_pairs(query: &'static str, text: &str) -> Result<Vec<(Name, Name)>, IntrospectError> {
    serde_json::from_str(text).map_err(|e| IntrospectError::Decode { query, detail: e.to_string() })
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(query: &'static str, text: &str) -> Result<T, IntrospectError> {
    serde_json::from_str(text).map_err(|e| IntrospectError::Decode { query, detail: e.to_string() })
}

/// The user-defined type a row names in `type_schema`/`type_name`, if any.
pub(super) fn type_ref(row: &PgRow, q: &'static str) -> Result<Option<ObjectRef>, IntrospectError> {
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
