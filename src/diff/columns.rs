//! Columns: added, dropped, altered (type with its declared conversion, nullability, default,
//! identity, generation), and columns that must be dropped and added again around other changes.

use super::{Change, ColumnConversion, column_change_summary, inheritance::columns_inherited};
use crate::model::*;
use indexmap::{IndexMap, IndexSet};

/// The functions of both catalogs that `expression` (SQL written by the user) calls by name, qualified or
/// not: a word followed by `(`, outside string literals and quoted names. A same-named function of another
/// schema counts too: an ordering fact too many costs nothing, one too few fails the migration.
fn called_functions(expression: &str, functions: [&IndexMap<FunctionId, Function>; 2]) -> Vec<FunctionId> {
    let mut called: Vec<String> = Vec::new();
    let mut chars = expression.char_indices().peekable();
    let mut last: Option<String> = None;
    while let Some((_, c)) = chars.next() {
        match c {
            '\'' => {
                last = None;
                while let Some((_, c)) = chars.next() {
                    if c == '\'' && chars.next_if(|(_, c)| *c == '\'').is_none() {
                        break;
                    }
                }
            }
            '"' => {
                let mut name = String::new();
                while let Some((_, c)) = chars.next() {
                    if c == '"' && chars.next_if(|(_, c)| *c == '"').is_none() {
                        break;
                    }
                    name.push(c);
                }
                last = Some(name);
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut word = c.to_lowercase().to_string();
                while let Some((_, c)) = chars.next_if(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '$') {
                    word.extend(c.to_lowercase());
                }
                last = Some(word);
            }
            '(' => called.extend(last.take()),
            c if c.is_whitespace() => {}
            _ => last = None,
        }
    }
    let mut ids: Vec<FunctionId> = Vec::new();
    for id in functions.iter().flat_map(|f| f.keys()) {
        if called.iter().any(|name| name == id.name.name.as_str()) && !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids
}

pub(super) fn diff_columns(
    table: &QualifiedName,
    have: &Table,
    want: &Table,
    conversions: &[ColumnConversion],
    functions: [&IndexMap<FunctionId, Function>; 2],
    out: &mut Vec<Change>,
    gone: &mut IndexSet<ColumnRef>,
) {
    // PostgreSQL refuses to retype a column that a generated column is computed from: that generated
    // column is dropped first and added again after, computed anew.
    let retyped: IndexSet<&str> = want
        .columns
        .values()
        .filter(|c| have.columns.get(&c.name).is_some_and(|old| old.data_type != c.data_type))
        .map(|c| c.name.as_str())
        .collect();
    let reads_retyped = |old: &Column| {
        old.generated().is_some()
            && old
                .depends_on
                .iter()
                .any(|d| matches!(d, ObjectRef::Column(c) if &c.table == table && retyped.contains(c.column.as_str())))
    };
    for (name, column) in &want.columns {
        match have.columns.get(name) {
            None => out.push(Change::AddColumn { table: table.clone(), column: column.clone() }),
            Some(old) if old.generated() != column.generated() || reads_retyped(old) => {
                // PostgreSQL before 17 cannot change a generation expression in place.
                gone.insert(ColumnRef { table: table.clone(), column: name.clone() });
                out.push(Change::DropColumn { table: table.clone(), column: old.clone() });
                out.push(Change::AddColumn { table: table.clone(), column: column.clone() });
            }
            Some(old) if !column_change_summary(old, column).is_empty() => {
                let mut to = column.clone();
                if old.data_type != column.data_type {
                    let declared = conversions.iter().find(|c| &c.table == table && c.column == name.as_str());
                    let using = declared.and_then(|c| c.using.as_deref());
                    // The functions of either side that the conversion calls: it runs after those the plan
                    // creates and before those it drops.
                    for id in using.map(|u| called_functions(u, functions)).unwrap_or_default() {
                        to.add_dependency(ObjectRef::Function(id));
                    }
                    to.set_conversion(using);
                }
                out.push(Change::AlterColumn { table: table.clone(), from: old.clone(), to });
            }
            Some(_) => {}
        }
    }
    for (name, column) in &have.columns {
        if !want.columns.contains_key(name) {
            gone.insert(ColumnRef { table: table.clone(), column: name.clone() });
            out.push(Change::DropColumn { table: table.clone(), column: column.clone() });
        }
    }
}

/// Columns of tables kept on both sides whose type is `name` (directly or as an array).
/// The columns that use type `name` directly (not in an array) and stay.
pub(super) fn kept_columns_using(
    current: &Catalog,
    desired: &Catalog,
    name: &QualifiedName,
) -> Vec<(QualifiedName, Column)> {
    columns_using(current, desired, name).into_iter().filter(|(_, c)| !c.data_type.ends_with(']')).collect()
}

/// Every column that uses type `name` (directly or in an array) and stays.
pub(super) fn columns_using(
    current: &Catalog,
    desired: &Catalog,
    name: &QualifiedName,
) -> Vec<(QualifiedName, Column)> {
    let dep = ObjectRef::Type(name.clone());
    let mut uses = Vec::new();
    for (table_name, table) in &current.tables {
        let Some(want) = desired.tables.get(table_name) else { continue };
        // A partition's columns change through its parent.
        if columns_inherited(table, want) {
            continue;
        }
        for column in table.columns.values() {
            if column.depends_on.contains(&dep) && want.columns.contains_key(&column.name) {
                uses.push((table_name.clone(), column.clone()));
            }
        }
    }
    uses
}

/// A stored generated column that reads a column whose type or collation changes: PostgreSQL refuses the
/// change while it exists, so it is dropped first and added again after (computed anew), unless the table
/// diff replaces it already.
pub(super) fn release_generated_columns(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let retyped: IndexSet<ColumnRef> = out
        .iter()
        .filter_map(|c| match c {
            Change::AlterColumn { table, from, to }
                if from.data_type != to.data_type || from.collation() != to.collation() =>
            {
                Some(ColumnRef { table: table.clone(), column: from.name.clone() })
            }
            _ => None,
        })
        .collect();
    if retyped.is_empty() {
        return;
    }
    let mut released = Vec::new();
    for table in retyped.iter().map(|c| &c.table).collect::<IndexSet<_>>() {
        let (Some(have), Some(want)) = (current.tables.get(table), desired.tables.get(table)) else { continue };
        for column in have.columns.values().filter(|c| c.generated().is_some()) {
            let reads_retyped =
                column.depends_on.iter().any(|d| matches!(d, ObjectRef::Column(c) if retyped.contains(c)));
            let replaced = out.iter().any(
                |c| matches!(c, Change::DropColumn { table: t, column: d } if t == table && d.name == column.name),
            );
            if let Some(wanted) = want.columns.get(&column.name).filter(|_| reads_retyped && !replaced) {
                released.push(Change::DropColumn { table: table.clone(), column: column.clone() });
                released.push(Change::AddColumn { table: table.clone(), column: wanted.clone() });
            }
        }
    }
    out.extend(released);
}

/// A column dropped and added again (a generated column whose expression changes, or that calls a
/// function being created again) takes its indexes and constraints with it: the unchanged ones are
/// created again after it.
pub(super) fn restore_on_readded_columns(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let mut dropped = IndexSet::new();
    let mut added = IndexSet::new();
    for change in out.iter() {
        match change {
            Change::DropColumn { table, column } => {
                dropped.insert(ColumnRef { table: table.clone(), column: column.name.clone() });
            }
            Change::AddColumn { table, column } => {
                added.insert(ColumnRef { table: table.clone(), column: column.name.clone() });
            }
            _ => {}
        }
    }
    let readded: IndexSet<&ColumnRef> = dropped.intersection(&added).collect();
    if readded.is_empty() {
        return;
    }
    let touches = |table: &QualifiedName, columns: &[Name]| {
        columns.iter().any(|c| readded.contains(&ColumnRef { table: table.clone(), column: c.clone() }))
    };
    let mut restored = Vec::new();
    for (name, index) in &current.indexes {
        let planned = out.iter().any(|c| matches!(c, Change::CreateIndex(i) if &i.name == name));
        if touches(&index.table, &index.columns) && desired.indexes.get(name) == Some(index) && !planned {
            restored.push(Change::CreateIndex(index.clone()));
        }
    }
    for (table_name, table) in &current.tables {
        for (constraint_name, constraint) in &table.constraints {
            let unchanged =
                desired.tables.get(table_name).and_then(|t| t.constraints.get(constraint_name)) == Some(constraint);
            let planned = out.iter().any(|c| {
                matches!(c, Change::AddConstraint { table, constraint: k } if table == table_name && k.name == *constraint_name)
            });
            if unchanged && !planned && touches(table_name, &constraint.columns) {
                restored.push(Change::DropConstraint { table: table_name.clone(), constraint: constraint.clone() });
                restored.push(Change::AddConstraint { table: table_name.clone(), constraint: constraint.clone() });
            }
        }
    }
    out.extend(restored);
}
