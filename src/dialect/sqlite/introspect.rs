//! Reads a SQLite database into the [`Catalog`] model with a fixed set of queries, whatever the size
//! of the schema: `sqlite_schema` for the objects and their SQL, and the table-valued pragmas
//! (`pragma_table_list`, `pragma_table_xinfo`, `pragma_index_list`, `pragma_index_xinfo`,
//! `pragma_foreign_key_list`) joined against it for table kinds and options, columns, keys and
//! indexes. What the pragmas do not expose (check constraints, generation expressions, collations,
//! constraint names, AUTOINCREMENT) is read from the stored `CREATE TABLE` text by
//! [`super::normalize`], which also cuts index keys, view queries and trigger definitions out of
//! their text without changing a byte of what they say.
//!
//! Mapping to the dialect-free model: every object is in schema `main`; `AUTOINCREMENT` is the
//! column's identity (`BY DEFAULT`: values may still be given); a generated column's `generated`
//! holds `(expr) STORED` or `(expr) VIRTUAL`; `WITHOUT ROWID` and `STRICT` are table options;
//! unnamed constraints get PostgreSQL-style names (`t_pkey`, `t_a_key`, `t_a_fkey`, `t_check1`),
//! which the renderer writes out, so both sides agree.

use super::SCHEMA;
use super::normalize::{self, ParsedTable, fold};
use crate::model::*;
use indexmap::IndexMap;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Connection, Row};

/// Number of queries one introspection issues, independent of the schema size (plus one per view
/// when a view cannot be prepared: see `queries/view_columns.sql`).
pub const QUERY_COUNT: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error("catalog query `{query}` failed")]
    Query { query: &'static str, source: sqlx::Error },
    #[error("cannot read the definition of {object}: {message}")]
    Parse { object: String, message: String },
}

const OBJECTS: (&str, &str) = ("objects", include_str!("queries/objects.sql"));
const COLUMNS: (&str, &str) = ("columns", include_str!("queries/columns.sql"));
const VIEW_COLUMNS: (&str, &str) = ("view_columns", include_str!("queries/view_columns.sql"));
const INDEXES: (&str, &str) = ("indexes", include_str!("queries/indexes.sql"));
const FOREIGN_KEYS: (&str, &str) = ("foreign_keys", include_str!("queries/foreign_keys.sql"));

async fn fetch(
    conn: &mut SqliteConnection,
    (name, sql): (&'static str, &'static str),
) -> Result<Vec<SqliteRow>, IntrospectError> {
    sqlx::query(sql).fetch_all(conn).await.map_err(|source| IntrospectError::Query { query: name, source })
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    row: &'r SqliteRow,
    query: &'static str,
    column: &str,
) -> Result<T, IntrospectError> {
    row.try_get(column).map_err(|source| IntrospectError::Query { query, source })
}

fn name(table: &str) -> QualifiedName {
    QualifiedName::new(SCHEMA, table)
}

fn quote(name: &str) -> String {
    super::render::ident(name)
}

fn quoted_list(columns: &[impl AsRef<str>]) -> String {
    columns.iter().map(|c| quote(c.as_ref())).collect::<Vec<_>>().join(", ")
}

/// A constraint name not yet used in the table.
fn free_name(constraints: &IndexMap<Name, Constraint>, base: String) -> Name {
    let mut candidate = base.clone();
    let mut n = 2;
    while constraints.contains_key(candidate.as_str()) {
        candidate = format!("{base}{n}");
        n += 1;
    }
    candidate.into()
}

/// Reads the database in one read transaction (a consistent snapshot).
pub async fn introspect(conn: &mut SqliteConnection) -> Result<Catalog, IntrospectError> {
    let mut tx = conn.begin().await.map_err(|source| IntrospectError::Query { query: "begin", source })?;
    let catalog = snapshot(&mut tx).await;
    let _ = tx.rollback().await;
    catalog
}

/// One key of an index: its column (none for an expression), collation and order.
struct Key {
    column: Option<String>,
    collation: String,
    descending: bool,
}

/// A key list as a constraint writes it: `("a", "b" COLLATE NOCASE DESC)`. A collation is written
/// where it differs from the column's own (which the key would take anyway).
fn key_list(keys: &[Key], parsed: &ParsedTable) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|key| {
            let column = key.column.as_deref().unwrap_or_default();
            let own = parsed.column(column).and_then(|c| c.collation.as_deref()).unwrap_or("BINARY");
            let mut sql = quote(column);
            if !key.collation.eq_ignore_ascii_case(own) {
                sql.push_str(&format!(" COLLATE {}", super::render::collation(&key.collation)));
            }
            if key.descending {
                sql.push_str(" DESC");
            }
            sql
        })
        .collect();
    format!("({})", keys.join(", "))
}

/// ` ON CONFLICT REPLACE`, or nothing for SQLite's default (ABORT).
fn on_conflict(algorithm: &Option<String>) -> String {
    algorithm.as_deref().map(|a| format!(" ON CONFLICT {a}")).unwrap_or_default()
}

/// Introspects through a connection (inside a transaction or not).
pub async fn snapshot(conn: &mut SqliteConnection) -> Result<Catalog, IntrospectError> {
    let mut catalog = Catalog::default();
    let mut parsed: IndexMap<String, ParsedTable> = IndexMap::new();
    let mut view_relations: IndexMap<String, Vec<String>> = IndexMap::new();
    // CREATE INDEX texts by index, read once the table's columns are known.
    let mut index_sql: IndexMap<String, String> = IndexMap::new();
    let objects = fetch(conn, OBJECTS).await?;
    // Names as SQLite resolves them (case-insensitively), for references read from SQL text.
    let mut by_folded: IndexMap<String, String> = IndexMap::new();
    for row in &objects {
        let n: String = get(row, OBJECTS.0, "name")?;
        by_folded.insert(fold(&n), n);
    }
    let resolve = |names: Vec<String>| -> Vec<String> {
        let mut resolved: Vec<String> = names.into_iter().filter_map(|n| by_folded.get(&fold(&n)).cloned()).collect();
        resolved.sort();
        resolved.dedup();
        resolved
    };
    for row in &objects {
        let q = OBJECTS.0;
        let kind: String = get(row, q, "type")?;
        let object: String = get(row, q, "name")?;
        let table: String = get(row, q, "tbl_name")?;
        let sql: String = get(row, q, "sql")?;
        let table_kind: String = get(row, q, "kind")?;
        let label = format!("{kind} {object}");
        let parse_error = |message: String| IntrospectError::Parse { object: label.clone(), message };
        match (kind.as_str(), table_kind.as_str()) {
            ("table", "virtual") => catalog.unmanaged.push(UnmanagedObject {
                kind: "virtual table".into(),
                schema: SCHEMA.into(),
                name: object,
            }),
            // The tables a virtual table keeps its data in belong to it.
            ("table", "shadow") => {}
            ("table", _) => {
                let details = normalize::parse_table(&sql, &object).map_err(parse_error)?;
                let mut options = Vec::new();
                if get::<bool>(row, q, "without_rowid")? {
                    options.push("WITHOUT ROWID".to_string());
                }
                if get::<bool>(row, q, "strict")? {
                    options.push("STRICT".to_string());
                }
                catalog.tables.insert(name(&object), Table { options, ..Table::new(name(&object)) });
                parsed.insert(object, details);
            }
            ("view", _) => {
                let (definition, relations) = normalize::parse_view(&sql).map_err(parse_error)?;
                view_relations.insert(object.clone(), resolve(relations));
                catalog.views.insert(
                    name(&object),
                    View {
                        name: name(&object),
                        materialized: false,
                        definition,
                        columns: Vec::new(),
                        depends_on: Vec::new(),
                        comment: None,
                        column_comments: Default::default(),
                        options: Vec::new(),
                    },
                );
            }
            // Indexes without SQL are the automatic ones behind PRIMARY KEY and UNIQUE constraints.
            ("index", _) if !sql.is_empty() => {
                index_sql.insert(object, sql);
            }
            ("trigger", _) => {
                let (definition, relations) = normalize::parse_trigger(&sql).map_err(parse_error)?;
                let depends_on = resolve(relations)
                    .into_iter()
                    .filter(|r| fold(r) != fold(&table))
                    .map(|r| ObjectRef::Relation(name(&r)))
                    .collect();
                catalog.triggers.insert(
                    name(&object),
                    Trigger {
                        name: name(&object),
                        table: name(&table),
                        definition,
                        depends_on,
                        enabled: None,
                        comment: None,
                    },
                );
            }
            _ => {}
        }
    }

    let mut primary_keys: IndexMap<String, Vec<(i64, String)>> = IndexMap::new();
    for row in fetch(conn, COLUMNS).await? {
        let q = COLUMNS.0;
        let table: String = get(&row, q, "table_name")?;
        let column: String = get(&row, q, "name")?;
        let (Some(target), Some(details)) = (catalog.tables.get_mut(&name(&table)), parsed.get(&table)) else {
            continue;
        };
        let pk: i64 = get(&row, q, "pk")?;
        let hidden: i64 = get(&row, q, "hidden")?;
        if pk > 0 {
            primary_keys.entry(table.clone()).or_default().push((pk, column.clone()));
        }
        let text = details.column(&column);
        // hidden: 2 for a VIRTUAL generated column, 3 for a STORED one.
        let generated = match (hidden, text.and_then(|c| c.generated.as_deref())) {
            (2, Some(e)) => Some(format!("({e}) VIRTUAL")),
            (3, Some(e)) => Some(format!("({e}) STORED")),
            _ => None,
        };
        let mut entry = Column::new(column.as_str(), get::<String>(&row, q, "data_type")?);
        entry.not_null = get(&row, q, "not_null")?;
        // The text as written, kept byte for byte: the renderer writes it back so that SQLite stores
        // the same text again.
        entry.default = get::<Option<String>>(&row, q, "default_expr")?.map(String::into_boxed_str);
        entry.identity = (pk > 0 && details.autoincrement).then_some(IdentityKind::ByDefault);
        entry.set_generated(generated);
        entry.set_collation(text.and_then(|c| c.collation.clone()));
        target.columns.insert(column.into(), entry);
    }
    view_columns(conn, &mut catalog).await?;

    // Indexes, grouped by index: user indexes, and the keys behind UNIQUE and PRIMARY KEY constraints.
    let mut indexes: IndexMap<(String, String), (bool, String, Vec<Key>)> = IndexMap::new();
    for row in fetch(conn, INDEXES).await? {
        let q = INDEXES.0;
        let key = (get::<String>(&row, q, "table_name")?, get::<String>(&row, q, "index_name")?);
        let entry = indexes.entry(key).or_insert((
            get::<bool>(&row, q, "is_unique")?,
            get::<String>(&row, q, "origin")?,
            Vec::new(),
        ));
        let cid: i64 = get(&row, q, "cid")?;
        entry.2.push(Key {
            column: if cid >= 0 { get(&row, q, "column_name")? } else { None },
            collation: get(&row, q, "collation")?,
            descending: get(&row, q, "descending")?,
        });
    }

    let key_indexes: IndexMap<&str, &[Key]> = indexes
        .iter()
        .filter(|(_, (_, origin, _))| origin == "pk")
        .map(|((table, _), (_, _, keys))| (table.as_str(), keys.as_slice()))
        .collect();
    for (table, mut columns) in primary_keys {
        let Some(target) = catalog.tables.get_mut(&name(&table)) else { continue };
        columns.sort();
        let columns: Vec<Name> = columns.into_iter().map(|(_, c)| c.into()).collect();
        // A key that is not the rowid has an index, which knows its collations and order.
        let keys = match key_indexes.get(table.as_str()) {
            Some(keys) => key_list(keys, &parsed[&table]),
            None => format!("({})", quoted_list(&columns)),
        };
        let constraint_name: Name =
            parsed[&table].primary_key_name.clone().unwrap_or_else(|| format!("{table}_pkey")).into();
        let definition = format!("PRIMARY KEY {keys}{}", on_conflict(&parsed[&table].primary_key_conflict));
        target.constraints.insert(
            constraint_name.clone(),
            constraint(constraint_name, ConstraintKind::PrimaryKey, definition, columns, None),
        );
    }

    for ((table, _), (_, origin, keys)) in &indexes {
        let Some(target) = catalog.tables.get_mut(&name(table)) else { continue };
        if origin != "u" {
            continue;
        }
        let columns: Vec<String> = keys.iter().filter_map(|k| k.column.clone()).collect();
        let folded: Vec<String> = columns.iter().map(|c| fold(c)).collect();
        let declared = parsed[table].uniques.iter().find(|(_, cols, _)| *cols == folded);
        let base =
            declared.and_then(|(n, _, _)| n.clone()).unwrap_or_else(|| format!("{table}_{}_key", columns.join("_")));
        let constraint_name = free_name(&target.constraints, base);
        let conflict = on_conflict(&declared.and_then(|(_, _, c)| c.clone()));
        let definition = format!("UNIQUE {}{conflict}", key_list(keys, &parsed[table]));
        target.constraints.insert(
            constraint_name.clone(),
            constraint(
                constraint_name,
                ConstraintKind::Unique,
                definition,
                columns.into_iter().map(Name::from).collect(),
                None,
            ),
        );
    }
    for ((table, index), (unique, origin, _)) in &indexes {
        let Some(target) = catalog.tables.get(&name(table)) else { continue };
        let Some(sql) = index_sql.get(index) else { continue };
        if origin != "c" {
            continue;
        }
        let scope: Vec<String> = target.columns.keys().map(|c| fold(c)).collect();
        let (definition, read) = normalize::parse_index(sql, table, &scope)
            .map_err(|message| IntrospectError::Parse { object: format!("index {index}"), message })?;
        let columns = column_names(target, &read);
        catalog.indexes.insert(
            name(index),
            Index {
                name: name(index),
                table: name(table),
                unique: *unique,
                definition,
                columns,
                comment: None,
                depends_on: Vec::new(),
                partitions: Vec::new(),
            },
        );
    }

    // Check constraints, from the table's text.
    for (table, details) in &parsed {
        let Some(target) = catalog.tables.get_mut(&name(table)) else { continue };
        for (i, (declared, expr, read)) in details.checks.iter().enumerate() {
            let base = declared.clone().unwrap_or_else(|| format!("{table}_check{}", i + 1));
            let constraint_name = free_name(&target.constraints, base);
            let columns = column_names(target, read);
            target.constraints.insert(
                constraint_name.clone(),
                constraint(constraint_name, ConstraintKind::Check, format!("CHECK ({expr})"), columns, None),
            );
        }
    }

    // Foreign keys, grouped by id.
    let mut foreign_keys: IndexMap<(String, i64), ForeignKeyRow> = IndexMap::new();
    for row in fetch(conn, FOREIGN_KEYS).await? {
        let q = FOREIGN_KEYS.0;
        let key = (get::<String>(&row, q, "table_name")?, get::<i64>(&row, q, "id")?);
        let entry = foreign_keys.entry(key).or_insert(ForeignKeyRow {
            target: get(&row, q, "ref_table")?,
            on_update: get(&row, q, "on_update")?,
            on_delete: get(&row, q, "on_delete")?,
            ..ForeignKeyRow::default()
        });
        entry.columns.push(get(&row, q, "column_name")?);
        entry.target_columns.push(get(&row, q, "ref_column")?);
    }
    let mut keys: Vec<_> = foreign_keys.into_iter().collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    for ((table, _), fk) in keys {
        let target_name = by_folded.get(&fold(&fk.target)).cloned().unwrap_or(fk.target.clone());
        let implied = fk.target_columns.iter().all(Option::is_none);
        let target_columns: Vec<Name> = if implied {
            catalog
                .tables
                .get(&name(&target_name))
                .and_then(|t| t.constraints.values().find(|c| c.kind == ConstraintKind::PrimaryKey))
                .map(|c| c.columns.clone())
                .unwrap_or_default()
        } else {
            fk.target_columns.iter().map(|c| c.as_deref().unwrap_or_default().into()).collect()
        };
        let Some(target) = catalog.tables.get_mut(&name(&table)) else { continue };
        let folded: Vec<String> = fk.columns.iter().map(|c| fold(c)).collect();
        let declared = parsed[&table].foreign_keys.iter().find(|(_, cols, _)| *cols == folded);
        let base = declared
            .and_then(|(n, _, _)| n.clone())
            .unwrap_or_else(|| format!("{table}_{}_fkey", fk.columns.join("_")));
        let mut definition = format!("FOREIGN KEY ({}) REFERENCES {}", quoted_list(&fk.columns), quote(&fk.target));
        if !implied {
            definition.push_str(&format!(" ({})", quoted_list(&target_columns)));
        }
        for (word, action) in [("UPDATE", &fk.on_update), ("DELETE", &fk.on_delete)] {
            // The pragma reports one of SQLite's five actions; anything else is not written out.
            match action.as_str() {
                "NO ACTION" => {}
                "RESTRICT" | "SET NULL" | "SET DEFAULT" | "CASCADE" => {
                    definition.push_str(&format!(" ON {word} {action}"))
                }
                other => {
                    return Err(IntrospectError::Parse {
                        object: format!("table {table}"),
                        message: format!("unknown foreign key action {other:?}"),
                    });
                }
            }
        }
        if let Some(characteristics) = declared.and_then(|(_, _, c)| c.clone()) {
            definition.push_str(&format!(" {characteristics}"));
        }
        let constraint_name = free_name(&target.constraints, base);
        let references = ForeignKeyTarget { table: name(&target_name), columns: target_columns };
        target.constraints.insert(
            constraint_name.clone(),
            constraint(
                constraint_name,
                ConstraintKind::ForeignKey,
                definition,
                fk.columns.into_iter().map(Name::from).collect(),
                Some(references),
            ),
        );
    }

    for (view, relations) in view_relations {
        if let Some(v) = catalog.views.get_mut(&name(&view)) {
            v.depends_on =
                relations.into_iter().filter(|r| *r != view).map(|r| ObjectRef::Relation(name(&r))).collect();
        }
    }
    Ok(catalog)
}

/// The columns of every view. A view whose query no longer prepares (it reads a dropped table) makes
/// the query for all of them fail; then each view is asked on its own, and such a view has no column
/// list (it is written back without one, as it was read).
async fn view_columns(conn: &mut SqliteConnection, catalog: &mut Catalog) -> Result<(), IntrospectError> {
    if catalog.views.is_empty() {
        return Ok(());
    }
    match fetch(conn, VIEW_COLUMNS).await {
        Ok(rows) => {
            for row in rows {
                let view: String = get(&row, VIEW_COLUMNS.0, "view_name")?;
                if let Some(v) = catalog.views.get_mut(&name(&view)) {
                    v.columns.push(get(&row, VIEW_COLUMNS.0, "name")?);
                }
            }
        }
        Err(_) => {
            for view in catalog.views.values_mut() {
                let columns: Result<Vec<String>, _> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_xinfo(?1, 'main') ORDER BY cid")
                        .bind(view.name.name.as_str())
                        .fetch_all(&mut *conn)
                        .await;
                view.columns = columns.unwrap_or_default();
            }
        }
    }
    Ok(())
}

#[derive(Default)]
struct ForeignKeyRow {
    target: String,
    columns: Vec<String>,
    target_columns: Vec<Option<String>>,
    on_update: String,
    on_delete: String,
}

fn constraint(
    name: Name,
    kind: ConstraintKind,
    definition: String,
    columns: Vec<Name>,
    references: Option<ForeignKeyTarget>,
) -> Constraint {
    Constraint {
        name,
        kind,
        definition: definition.into(),
        validated: true,
        columns,
        references: references.map(Box::new),
        comment: None,
        depends_on: Vec::new(),
    }
}

/// The table's own spelling of (folded) column names read from SQL text; other names are dropped.
fn column_names(table: &Table, folded: &[String]) -> Vec<Name> {
    table.columns.keys().filter(|c| folded.contains(&fold(c))).cloned().collect()
}
