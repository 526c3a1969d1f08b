//! Columns: type, collation, default, identity and its options, generated expression, NOT NULL,
//! inheritance, comments, and what each depends on (user types, collations, sequences of its default,
//! the same column of its inheritance parents). The same query brings the columns of views (their names in
//! order, their comments), column privileges, and per-column settings the tool does not manage.

use super::views::ViewColumns;
use super::{IntrospectError, Rows, collation_ref, get, get_name, get_qualified, json_pairs, privileges};
use crate::model::*;
use sqlx::postgres::PgConnection;

const QUERY: (&str, &str) = ("columns", include_str!("../queries/columns.sql"));

/// Reads the columns into the tables already read, and returns the views' columns for [`super::views::read`].
pub(super) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<ViewColumns, IntrospectError> {
    // The rows come in no particular order (see columns.sql): each relation's columns are put in
    // position order once all are read.
    let mut view_columns = ViewColumns::default();
    let mut table_positions: Vec<Vec<i16>> = vec![Vec::new(); catalog.tables.len()];
    let mut column_grants: Vec<Grant> = Vec::new();
    let mut rows = Rows::new(conn, QUERY, schemas);
    while let Some(row) = rows.next().await? {
        let q = "columns";
        let table = get_qualified(&row, q, "table_name")?;
        let name = get_name(&row, q, "name")?;
        privileges::column_grants(&row, &table, &name, &mut column_grants)?;
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
                    view_columns.comments.entry(table.clone()).or_default().insert(name.to_string(), comment);
                }
                view_columns.names.entry(table).or_default().push((position, name.into_string()));
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
        depends_on.extend(collation_ref(&row, q)?);
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
    inherited_column_dependencies(catalog);
    // Ordered as the privileges query orders the grants on other objects.
    column_grants.sort_by(|a, b| a.key.cmp(&b.key));
    catalog.grants.extend(column_grants.into_iter().map(|grant| (grant.key.clone(), grant)));
    Ok(view_columns)
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
