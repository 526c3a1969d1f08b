//! Reads a PostgreSQL database into the [`Catalog`] model with a fixed set of catalog queries (one per
//! object kind, whatever the size of the schema). The caller provides the transaction; [`snapshot`]
//! sets `search_path` to `pg_catalog` inside it so that every name PostgreSQL deparses (types,
//! defaults, view and constraint definitions) comes out schema-qualified and migrations do not depend
//! on the session's search path, and raises `work_mem` for the transaction.

use crate::model::*;
use indexmap::IndexMap;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Connection, Row};
use std::borrow::Cow;

#[path = "introspect_types.rs"]
mod types;

/// Number of catalog queries one introspection issues, independent of the schema size.
pub const QUERY_COUNT: usize = 10 + super::introspect_program::QUERY_COUNT + types::QUERY_COUNT;

#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error("catalog query `{query}` failed")]
    Query { query: &'static str, source: sqlx::Error },
    #[error("catalog query `{query}` returned unexpected data: {detail}")]
    Decode { query: &'static str, detail: String },
}

struct Queries;
impl Queries {
    const SCHEMAS: (&'static str, &'static str) = ("schemas", include_str!("queries/schemas.sql"));
    const EXTENSIONS: (&'static str, &'static str) = ("extensions", include_str!("queries/extensions.sql"));
    const ENUMS: (&'static str, &'static str) = ("enums", include_str!("queries/enums.sql"));
    const SEQUENCES: (&'static str, &'static str) = ("sequences", include_str!("queries/sequences.sql"));
    const TABLES: (&'static str, &'static str) = ("tables", include_str!("queries/tables.sql"));
    const COLUMNS: (&'static str, &'static str) = ("columns", include_str!("queries/columns.sql"));
    const CONSTRAINTS: (&'static str, &'static str) = ("constraints", include_str!("queries/constraints.sql"));
    const INDEXES: (&'static str, &'static str) = ("indexes", include_str!("queries/indexes.sql"));
    const VIEWS: (&'static str, &'static str) = ("views", include_str!("queries/views.sql"));
    const UNMANAGED: (&'static str, &'static str) = ("unmanaged", include_str!("queries/unmanaged.sql"));
}

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

/// Introspects through a connection that is already inside a transaction.
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

    for row in fetch(conn, Queries::SCHEMAS, &schemas).await? {
        let name: String = get(&row, "schemas", "name")?;
        catalog.schemas.insert(name.clone(), Namespace { name, comment: get(&row, "schemas", "comment")? });
    }
    for row in fetch(conn, Queries::EXTENSIONS, &schemas).await? {
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
    for row in fetch(conn, Queries::ENUMS, &schemas).await? {
        let q = "enums";
        let name = QualifiedName::new(get_name(&row, q, "schema")?, get_name(&row, q, "name")?);
        let enum_type =
            EnumType { name: name.clone(), labels: get(&row, q, "labels")?, comment: get(&row, q, "comment")? };
        catalog.enums.insert(name, enum_type);
    }
    let mut rows = Rows::new(conn, Queries::SEQUENCES, &schemas);
    while let Some(row) = rows.next().await? {
        let q = "sequences";
        let name = QualifiedName::new(get_name(&row, q, "schema")?, get_name(&row, q, "name")?);
        let owner_table: Option<String> = get(&row, q, "owner_table")?;
        let owned_by = match (get::<Option<String>>(&row, q, "owner_schema")?, owner_table) {
            (Some(schema), Some(table)) => Some(ColumnRef {
                table: QualifiedName::new(schema, table),
                column: get::<Option<&str>>(&row, q, "owner_column")?.unwrap_or_default().into(),
            }),
            _ => None,
        };
        let sequence = Sequence {
            name: name.clone(),
            data_type: get(&row, q, "data_type")?,
            start: get(&row, q, "start")?,
            increment: get(&row, q, "increment")?,
            min_value: get(&row, q, "min_value")?,
            max_value: get(&row, q, "max_value")?,
            cache: get(&row, q, "cache")?,
            cycle: get(&row, q, "cycle")?,
            owned_by,
            comment: get(&row, q, "comment")?,
        };
        catalog.sequences.insert(name, sequence);
    }
    drop(rows);
    let mut rows = Rows::new(conn, Queries::TABLES, &schemas);
    while let Some(row) = rows.next().await? {
        let q = "tables";
        let name = QualifiedName::new(get_name(&row, q, "schema")?, get_name(&row, q, "name")?);
        let table = Table {
            name: name.clone(),
            columns: IndexMap::new(),
            constraints: IndexMap::new(),
            comment: get(&row, q, "comment")?,
            options: Vec::new(),
            partition_key: get(&row, q, "partition_key")?,
            partition_of: types::partition_of(&row)?,
            storage_parameters: types::storage_parameters(&row)?,
            unlogged: get(&row, q, "unlogged")?,
            replica_identity: replica_identity(&row)?,
            inherits: json_pairs(q, get::<&str>(&row, q, "inherits")?)?
                .into_iter()
                .map(|(schema, name)| QualifiedName::new(schema, name))
                .collect(),
            copies: types::constraint_copies(&row)?,
        };
        catalog.tables.insert(name, table);
    }
    drop(rows);
    catalog.tables.sort_unstable_keys();
    // The rows come in no particular order (see columns.sql): each relation's columns are put in
    // position order once all are read.
    let mut view_columns: IndexMap<QualifiedName, Vec<(i16, String)>> = IndexMap::new();
    let mut view_comments: IndexMap<QualifiedName, IndexMap<String, String>> = IndexMap::new();
    let mut table_positions: Vec<Vec<i16>> = vec![Vec::new(); catalog.tables.len()];
    let mut column_grants: Vec<Grant> = Vec::new();
    let mut rows = Rows::new(conn, Queries::COLUMNS, &schemas);
    while let Some(row) = rows.next().await? {
        let q = "columns";
        let table = QualifiedName::new(get_name(&row, q, "schema")?, get_name(&row, q, "table_name")?);
        let name = get_name(&row, q, "name")?;
        read_column_grants(&row, &table, &name, &mut column_grants)?;
        if let Some(settings) = get::<Option<Vec<String>>>(&row, q, "unmanaged_settings")? {
            let qualified = format!("{table}.{name}");
            catalog.unmanaged.extend(settings.into_iter().map(|kind| UnmanagedObject {
                kind,
                schema: table.schema.to_string(),
                name: qualified.clone(),
            }));
        }
        let position: i16 = get(&row, q, "position")?;
        match get::<&str>(&row, q, "relkind")? {
            "r" | "p" => {}
            // A foreign table's columns are read for their privileges only.
            "f" => continue,
            _ => {
                if let Some(comment) = get::<Option<String>>(&row, q, "comment")? {
                    view_comments.entry(table.clone()).or_default().insert(name.to_string(), comment);
                }
                view_columns.entry(table).or_default().push((position, name.into_string()));
                continue;
            }
        }
        let Some((index, _, target)) = catalog.tables.get_full_mut(&table) else {
            continue;
        };
        let mut depends_on = Vec::new();
        if let (Some(schema), Some(type_name)) =
            (get::<Option<String>>(&row, q, "type_schema")?, get::<Option<String>>(&row, q, "type_name")?)
        {
            depends_on.push(ObjectRef::Type(QualifiedName::new(schema, type_name)));
        }
        depends_on.extend(types::collation_ref(&row, q)?);
        // Borrowed from the row, and parsed only when not empty: most columns have no default.
        let sequences = get::<&str>(&row, q, "sequences")?;
        if sequences != "[]" {
            for (schema, sequence) in json_pairs(q, sequences)? {
                depends_on.push(ObjectRef::Sequence(QualifiedName::new(schema, sequence)));
            }
        }
        let identity = match get::<&str>(&row, q, "identity")? {
            "a" => Some(IdentityKind::Always),
            "d" => Some(IdentityKind::ByDefault),
            _ => None,
        };
        let mut column = Column::new(name.clone(), get_name(&row, q, "data_type")?);
        column.not_null = get(&row, q, "not_null")?;
        column.origin = match (get::<bool>(&row, q, "inherited")?, get::<bool>(&row, q, "local")?) {
            (false, _) => ColumnOrigin::Own,
            (true, false) => ColumnOrigin::Inherited,
            (true, true) => ColumnOrigin::Merged,
        };
        column.default = get::<Option<&str>>(&row, q, "default_expr")?.map(Box::from);
        column.identity = identity;
        column.depends_on = depends_on.into_boxed_slice();
        column.set_identity_options(get::<Option<&str>>(&row, q, "identity_options")?);
        column.set_generated(get::<Option<&str>>(&row, q, "generated_expr")?);
        column.set_collation(get::<Option<&str>>(&row, q, "collation")?);
        column.set_comment(get::<Option<&str>>(&row, q, "comment")?);
        target.columns.insert(name, column);
        table_positions[index].push(position);
    }
    drop(rows);
    for (table, positions) in catalog.tables.values_mut().zip(&table_positions) {
        if !positions.is_sorted() {
            let mut order: Vec<usize> = (0..positions.len()).collect();
            order.sort_by_key(|&i| positions[i]);
            let mut columns: Vec<_> = std::mem::take(&mut table.columns).into_iter().map(Some).collect();
            table.columns = order.into_iter().filter_map(|i| columns[i].take()).collect();
        }
    }
    drop(table_positions);
    inherited_column_dependencies(&mut catalog);
    // Ordered as the privileges query orders the grants on other objects.
    column_grants.sort_by(|a, b| a.key.cmp(&b.key));
    catalog.grants.extend(column_grants.into_iter().map(|grant| (grant.key.clone(), grant)));
    let mut rows = Rows::new(conn, Queries::CONSTRAINTS, &schemas);
    while let Some(row) = rows.next().await? {
        let q = "constraints";
        let table = QualifiedName::new(get_name(&row, q, "schema")?, get_name(&row, q, "table_name")?);
        let Some(target) = catalog.tables.get_mut(&table) else {
            continue;
        };
        let kind = match get::<String>(&row, q, "kind")?.as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "c" => ConstraintKind::Check,
            "f" => ConstraintKind::ForeignKey,
            "x" => ConstraintKind::Exclusion,
            other => {
                return Err(IntrospectError::Decode { query: q, detail: format!("constraint type {other}") });
            }
        };
        let references =
            match (get::<Option<String>>(&row, q, "ref_schema")?, get::<Option<String>>(&row, q, "ref_table")?) {
                (Some(schema), Some(name)) if kind == ConstraintKind::ForeignKey => Some(ForeignKeyTarget {
                    table: QualifiedName::new(schema, name),
                    columns: get_names(&row, q, "ref_columns")?,
                }),
                _ => None,
            };
        let depends_on = json_pairs(q, &get::<String>(&row, q, "types")?)?
            .into_iter()
            .map(|(schema, name)| ObjectRef::Type(QualifiedName::new(schema, name)))
            .collect();
        let name = get_name(&row, q, "name")?;
        let constraint = Constraint {
            name: name.clone(),
            kind,
            definition: get(&row, q, "definition")?,
            validated: get(&row, q, "validated")?,
            columns: get_names(&row, q, "columns")?,
            references: references.map(Box::new),
            comment: get(&row, q, "comment")?,
            depends_on,
        };
        target.constraints.insert(name, constraint);
    }
    drop(rows);
    // Maps grown one row at a time hold up to twice the room they need, for the life of the catalog.
    for table in catalog.tables.values_mut() {
        table.columns.shrink_to_fit();
        table.constraints.sort_unstable_keys();
        table.constraints.shrink_to_fit();
    }
    let mut rows = Rows::new(conn, Queries::INDEXES, &schemas);
    while let Some(row) = rows.next().await? {
        let q = "indexes";
        let schema = get_name(&row, q, "schema")?;
        let name = QualifiedName::new(schema.clone(), get_name(&row, q, "name")?);
        // Built by the query for plain indexes; otherwise pg_get_indexdef's text after its prefix.
        let definition = match get::<Option<String>>(&row, q, "definition")? {
            Some(definition) => definition,
            None => {
                let full: String = get(&row, q, "full_definition")?;
                let prefix: &str = get(&row, q, "prefix")?;
                full.strip_prefix(prefix).map(str::to_string).ok_or_else(|| IntrospectError::Decode {
                    query: q,
                    detail: format!("unexpected index definition: {full}"),
                })?
            }
        };
        let index = Index {
            name: name.clone(),
            table: QualifiedName::new(schema, get_name(&row, q, "table_name")?),
            unique: get(&row, q, "is_unique")?,
            definition,
            columns: get_names(&row, q, "columns")?,
            comment: get(&row, q, "comment")?,
            depends_on: Vec::new(),
            partitions: types::partition_indexes(&row)?,
        };
        catalog.indexes.insert(name, index);
    }
    drop(rows);
    catalog.indexes.sort_unstable_keys();
    let mut rows = Rows::new(conn, Queries::VIEWS, &schemas);
    while let Some(row) = rows.next().await? {
        let q = "views";
        let name = QualifiedName::new(get_name(&row, q, "schema")?, get_name(&row, q, "name")?);
        let definition: String = get(&row, q, "definition")?;
        let mut depends_on: Vec<ObjectRef> = Vec::new();
        let deps: Vec<(Name, Name, Option<Name>)> = serde_json::from_str(&get::<String>(&row, q, "depends_on")?)
            .map_err(|e| IntrospectError::Decode { query: q, detail: e.to_string() })?;
        for (schema, relation, column) in deps {
            let relation = QualifiedName::new(schema, relation);
            depends_on.push(match column {
                Some(column) => ObjectRef::Column(ColumnRef { table: relation, column }),
                None => ObjectRef::Relation(relation),
            });
        }
        for (schema, type_name) in json_pairs(q, &get::<String>(&row, q, "types")?)? {
            depends_on.push(ObjectRef::Type(QualifiedName::new(schema, type_name)));
        }
        depends_on.sort();
        depends_on.dedup();
        let view = View {
            name: name.clone(),
            materialized: get(&row, q, "materialized")?,
            definition: definition.trim().trim_end_matches(';').to_string(),
            columns: view_columns.shift_remove(&name).map(in_position_order).unwrap_or_default(),
            depends_on,
            comment: get(&row, q, "comment")?,
            column_comments: view_comments.shift_remove(&name).unwrap_or_default(),
            options: types::storage_parameters(&row)?,
        };
        catalog.views.insert(name, view);
    }
    drop(rows);
    types::snapshot(conn, &schemas, &mut catalog).await?;
    super::introspect_program::read(conn, &schemas, &mut catalog).await?;
    for row in fetch(conn, Queries::UNMANAGED, &schemas).await? {
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

/// An inherited column of an inheritance child depends on the same column of each parent that has it:
/// the child is created after that column, its changes follow the parent's (which PostgreSQL carries
/// down to it), and it is dropped before the parent loses the column.
fn inherited_column_dependencies(catalog: &mut Catalog) {
    let mut found: Vec<(usize, Name, ObjectRef)> = Vec::new();
    for (index, table) in catalog.tables.values().enumerate() {
        for parent in &table.inherits {
            let Some(parent_table) = catalog.tables.get(parent) else { continue };
            for column in table.columns.values().filter(|c| c.origin.inherited()) {
                if parent_table.columns.contains_key(&column.name) {
                    let target = ColumnRef { table: parent.clone(), column: column.name.clone() };
                    found.push((index, column.name.clone(), ObjectRef::Column(target)));
                }
            }
        }
    }
    for (index, column, parent) in found {
        if let Some(column) = catalog.tables[index].columns.get_mut(&column) {
            column.add_dependency(parent);
        }
    }
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

/// A view's column names in position order.
fn in_position_order(mut columns: Vec<(i16, String)>) -> Vec<String> {
    columns.sort_by_key(|(position, _)| *position);
    columns.into_iter().map(|(_, name)| name).collect()
}

/// The privileges granted on one column, from the columns query's `privileges` (JSON
/// `[[grantee, privilege, grantable], …]`, the owner left out).
fn read_column_grants(
    row: &PgRow,
    table: &QualifiedName,
    column: &Name,
    out: &mut Vec<Grant>,
) -> Result<(), IntrospectError> {
    let q = "columns";
    let Some(text) = get::<Option<&str>>(row, q, "privileges")? else {
        return Ok(());
    };
    let privileges: Vec<(String, String, bool)> =
        serde_json::from_str(text).map_err(|e| IntrospectError::Decode { query: q, detail: e.to_string() })?;
    for (grantee, privilege, grantable) in privileges {
        let target = PrivilegeTarget::Column(ColumnRef { table: table.clone(), column: column.clone() });
        let key = GrantKey { target, grantee, privilege };
        out.push(Grant { key: key.clone(), grantable, implicit: false });
    }
    Ok(())
}

/// The rows of one catalog query, decoded as they arrive instead of collected first (`fetch`): at
/// 10,000 tables the columns query returns about 100,000 rows, and holding them all beside the model
/// built from them raised the peak memory of an introspection. Dropped before the next query.
struct Rows<'c> {
    name: &'static str,
    stream: futures_core::stream::BoxStream<'c, Result<PgRow, sqlx::Error>>,
}

impl<'c> Rows<'c> {
    fn new(conn: &'c mut PgConnection, (name, sql): (&'static str, &'static str), schemas: &'c [String]) -> Self {
        let query = sqlx::query(for_server(conn, sql));
        let query = if sql.contains("$1") { query.bind(schemas) } else { query };
        Rows { name, stream: query.fetch(conn) }
    }

    async fn next(&mut self) -> Result<Option<PgRow>, IntrospectError> {
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

/// Decodes a `text[]` column into [`Name`]s.
pub(super) fn get_names(row: &PgRow, query: &'static str, column: &str) -> Result<Vec<Name>, IntrospectError> {
    Ok(get::<Vec<String>>(row, query, column)?.into_iter().map(Name::from).collect())
}

pub(super) fn json_pairs(query: &'static str, text: &str) -> Result<Vec<(Name, Name)>, IntrospectError> {
    serde_json::from_str(text).map_err(|e| IntrospectError::Decode { query, detail: e.to_string() })
}
