//! Reads a SQLite database into the [`Catalog`] model with a fixed set of queries, whatever the size
//! of the schema: `sqlite_schema` for the objects and their SQL, and the table-valued pragmas
//! (`pragma_table_xinfo`, `pragma_index_list`, `pragma_index_xinfo`, `pragma_foreign_key_list`)
//! joined against it for columns, keys and indexes. What the pragmas do not expose (check
//! constraints, generation expressions, collations, constraint names, AUTOINCREMENT, table options)
//! is read from the stored `CREATE TABLE` text by [`super::normalize`].
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

/// Number of queries one introspection issues, independent of the schema size.
pub const QUERY_COUNT: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error("catalog query `{query}` failed")]
    Query { query: &'static str, source: sqlx::Error },
    #[error("cannot read the definition of {object}: {message}")]
    Parse { object: String, message: String },
}

const OBJECTS: (&str, &str) = ("objects", include_str!("queries/objects.sql"));
const COLUMNS: (&str, &str) = ("columns", include_str!("queries/columns.sql"));
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

/// Introspects through a connection (inside a transaction or not).
pub async fn snapshot(conn: &mut SqliteConnection) -> Result<Catalog, IntrospectError> {
    let mut catalog = Catalog::default();
    let mut parsed: IndexMap<String, ParsedTable> = IndexMap::new();
    let mut view_relations: IndexMap<String, Vec<String>> = IndexMap::new();
    let mut index_sql: IndexMap<String, (String, Vec<String>)> = IndexMap::new();
    let mut virtual_tables: Vec<String> = Vec::new();
    let objects = fetch(conn, OBJECTS).await?;
    // Names as SQLite resolves them (case-insensitively), for references read from SQL text.
    let mut by_folded: IndexMap<String, String> = IndexMap::new();
    for row in &objects {
        let n: String = get(row, OBJECTS.0, "name")?;
        by_folded.insert(fold(&n), n);
    }
    let resolve = |names: Vec<String>| -> Vec<String> {
        names.into_iter().filter_map(|n| by_folded.get(&fold(&n)).cloned()).collect()
    };
    for row in &objects {
        let q = OBJECTS.0;
        let kind: String = get(row, q, "type")?;
        let object: String = get(row, q, "name")?;
        let table: String = get(row, q, "tbl_name")?;
        let sql: String = get(row, q, "sql")?;
        let label = format!("{kind} {object}");
        let parse_error = |message: String| IntrospectError::Parse { object: label.clone(), message };
        match kind.as_str() {
            "table" if normalize::canonical(&sql).starts_with("CREATE VIRTUAL TABLE") => {
                virtual_tables.push(object.clone());
                catalog.unmanaged.push(UnmanagedObject {
                    kind: "virtual table".into(),
                    schema: SCHEMA.into(),
                    name: object,
                });
            }
            "table" => {
                let details = normalize::parse_table(&sql).map_err(parse_error)?;
                catalog.tables.insert(
                    name(&object),
                    Table {
                        name: name(&object),
                        columns: IndexMap::new(),
                        constraints: IndexMap::new(),
                        comment: None,
                        options: details.options.clone(),
                        partition_key: None,
                        partition_of: None,
                        storage_parameters: Vec::new(),
                        unlogged: false,
                    },
                );
                parsed.insert(object, details);
            }
            "view" => {
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
            "index" if !sql.is_empty() => {
                index_sql.insert(object, normalize::parse_index(&sql).map_err(parse_error)?);
            }
            "trigger" => {
                let (definition, relations) = normalize::parse_trigger(&sql);
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
    // Shadow tables of virtual tables (`docs_content` for `docs`) belong to them.
    catalog.tables.retain(|n, _| !virtual_tables.iter().any(|v| n.name.starts_with(&format!("{v}_"))));

    let mut primary_keys: IndexMap<String, Vec<(i64, String)>> = IndexMap::new();
    for row in fetch(conn, COLUMNS).await? {
        let q = COLUMNS.0;
        let table: String = get(&row, q, "table_name")?;
        let column: String = get(&row, q, "name")?;
        if let Some(view) = catalog.views.get_mut(&name(&table)) {
            view.columns.push(column);
            continue;
        }
        let (Some(target), Some(details)) = (catalog.tables.get_mut(&name(&table)), parsed.get(&table)) else {
            continue;
        };
        let pk: i64 = get(&row, q, "pk")?;
        let hidden: i64 = get(&row, q, "hidden")?;
        let folded = fold(&column);
        let find = |list: &[(String, String)]| list.iter().find(|(c, _)| *c == folded).map(|(_, v)| v.clone());
        if pk > 0 {
            primary_keys.entry(table.clone()).or_default().push((pk, column.clone()));
        }
        let generated = if hidden >= 2 { find(&details.generated) } else { None };
        let mut entry = Column::new(column.as_str(), get::<String>(&row, q, "data_type")?);
        entry.not_null = get(&row, q, "not_null")?;
        entry.default = get::<Option<String>>(&row, q, "default_expr")?.map(String::into_boxed_str);
        entry.identity = (pk > 0 && details.autoincrement).then_some(IdentityKind::ByDefault);
        entry.set_generated(generated);
        entry.set_collation(find(&details.collations));
        target.columns.insert(column.into(), entry);
    }
    for (table, mut columns) in primary_keys {
        let Some(target) = catalog.tables.get_mut(&name(&table)) else { continue };
        columns.sort();
        let columns: Vec<Name> = columns.into_iter().map(|(_, c)| c.into()).collect();
        let constraint_name: Name =
            parsed[&table].primary_key_name.clone().unwrap_or_else(|| format!("{table}_pkey")).into();
        target.constraints.insert(
            constraint_name.clone(),
            constraint(
                constraint_name,
                ConstraintKind::PrimaryKey,
                format!("PRIMARY KEY ({})", quoted_list(&columns)),
                columns,
                None,
            ),
        );
    }

    // Indexes and UNIQUE constraints, grouped by index.
    let mut indexes: IndexMap<(String, String), (bool, String, Vec<String>)> = IndexMap::new();
    for row in fetch(conn, INDEXES).await? {
        let q = INDEXES.0;
        let key = (get::<String>(&row, q, "table_name")?, get::<String>(&row, q, "index_name")?);
        let entry = indexes.entry(key).or_insert((
            get::<bool>(&row, q, "is_unique")?,
            get::<String>(&row, q, "origin")?,
            Vec::new(),
        ));
        if get::<i64>(&row, q, "cid")? >= 0
            && let Some(column) = get::<Option<String>>(&row, q, "column_name")?
        {
            entry.2.push(column);
        }
    }
    for ((table, index), (unique, origin, columns)) in indexes {
        let Some(target) = catalog.tables.get_mut(&name(&table)) else { continue };
        match origin.as_str() {
            "u" => {
                let folded: Vec<String> = columns.iter().map(|c| fold(c)).collect();
                let declared =
                    parsed[&table].uniques.iter().find(|(_, cols)| *cols == folded).and_then(|(n, _)| n.clone());
                let base = declared.unwrap_or_else(|| format!("{table}_{}_key", columns.join("_")));
                let constraint_name = free_name(&target.constraints, base);
                let definition = format!("UNIQUE ({})", quoted_list(&columns));
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
            "c" => {
                let Some((definition, read)) = index_sql.get(&index) else { continue };
                let columns = column_names(target, read);
                catalog.indexes.insert(
                    name(&index),
                    Index {
                        name: name(&index),
                        table: name(&table),
                        unique,
                        definition: definition.clone(),
                        columns,
                        comment: None,
                        depends_on: Vec::new(),
                    },
                );
            }
            _ => {}
        }
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
            if action != "NO ACTION" {
                definition.push_str(&format!(" ON {word} {action}"));
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
