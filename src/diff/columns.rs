//! Columns: added, dropped, altered (type with its declared conversion, nullability, default,
//! identity, generation), and columns that must be dropped and added again around other changes.

use super::KindChange;
use super::order::{Effects, Key, Rank, ref_key};
use super::{Change, ColumnConversion, column_change_summary, inheritance::columns_inherited};
use super::{ConstraintChange, IndexChange};
use crate::model::*;
use indexmap::{IndexMap, IndexSet};
use serde::Serialize;

/// A change of one column of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ColumnChange {
    #[serde(rename = "AddColumn")]
    Add { table: QualifiedName, column: Column },
    #[serde(rename = "DropColumn")]
    Drop { table: QualifiedName, column: Column },
    #[serde(rename = "RenameColumn")]
    Rename { table: QualifiedName, from: String, to: String },
    #[serde(rename = "AlterColumn")]
    Alter { table: QualifiedName, from: Column, to: Column },
    /// `ALTER TABLE ONLY … DROP COLUMN`: a parent's column that its children keep as their own.
    #[serde(rename = "DropColumnKeptByChildren")]
    DropKeptByChildren { table: QualifiedName, column: Column },
}
impl KindChange for ColumnChange {
    fn describe(&self) -> String {
        match self {
            ColumnChange::Add { table, column } => format!("add column {table}.{}", column.name),
            ColumnChange::Drop { table, column } => format!("drop column {table}.{}", column.name),
            ColumnChange::Rename { table, from, to } => {
                format!("rename column {table}.{from} to {to}")
            }
            ColumnChange::Alter { table, from, to } => {
                format!("alter column {table}.{} ({})", to.name, column_change_summary(from, to).join(", "))
            }
            ColumnChange::DropKeptByChildren { table, column } => {
                format!("drop column {table}.{} (its children keep theirs)", column.name)
            }
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            ColumnChange::Add { table, column } => {
                e.provides.extend(column_own_keys(table, column));
                e.needs.push(Key::Relation(table));
                e.needs.extend(column_needs(column));
            }
            ColumnChange::Drop { table, column } | ColumnChange::DropKeptByChildren { table, column } => {
                // Every change to an existing table runs after a rename of that table.
                e.needs.push(Key::Relation(table));
                e.removes.extend(column_own_keys(table, column));
                e.provides.push(Key::DroppedColumn(table, &column.name));
                for dependency in column.depends_on.iter() {
                    match dependency {
                        // An inherited column: a child drops it once its parent has dropped it, or has stopped
                        // being its parent (PostgreSQL refuses to drop an inherited column).
                        ObjectRef::Column(c) if c.table != *table && c.column == column.name => {
                            e.needs.push(Key::DroppedColumn(&c.table, &c.column));
                            e.needs.push(Key::Uninherited(table, &c.table));
                        }
                        other => e.held.push(ref_key(other)),
                    }
                }
            }
            ColumnChange::Rename { table, from, to } => {
                e.removes.push(Key::Column(table, from));
                e.provides.push(Key::Column(table, to));
                e.needs.push(Key::Relation(table));
            }
            ColumnChange::Alter { table, from, to } => {
                let key = Key::Column(table, &to.name);
                e.provides.push(key.clone());
                e.needs.push(Key::Relation(table));
                e.needs.extend(column_needs(to));
                e.held.extend(column_needs(from));
                // A column a child inherited from a parent it leaves changes once it has left (PostgreSQL
                // changes inherited columns only through the parent).
                for dependency in from.depends_on.iter() {
                    if let ObjectRef::Column(c) = dependency
                        && c.table != *table
                        && c.column == from.name
                        && !to.depends_on.contains(dependency)
                    {
                        e.needs.push(Key::Uninherited(table, &c.table));
                    }
                }
                // A declared conversion calls its functions while the change runs: a drop of one waits for it.
                if to.conversion().is_some() {
                    e.held.extend(to.depends_on.iter().filter(|d| matches!(d, ObjectRef::Function(_))).map(ref_key));
                }
                // Only changes of type or collation disturb the objects that read the column.
                if from.data_type != to.data_type || from.collation() != to.collation() {
                    e.removes.push(key);
                }
                match (from.not_null, to.not_null) {
                    (false, true) => e.provides.push(Key::NotNull(table, &to.name)),
                    (true, false) => e.removes.push(Key::NotNull(table, &to.name)),
                    _ => {}
                }
            }
        }
        e
    }

    fn slug(&self) -> String {
        match self {
            ColumnChange::Add { column, .. } => format!("add_{}", column.name),
            ColumnChange::Drop { column, .. } => format!("drop_{}", column.name),
            ColumnChange::Alter { to, .. } => format!("alter_{}", to.name),
            ColumnChange::Rename { to, .. } => format!("rename_{to}"),
            ColumnChange::DropKeptByChildren { .. } => self.describe().replace(' ', "_"),
        }
    }

    fn rank(&self) -> Rank {
        match self {
            ColumnChange::Drop { .. } | ColumnChange::DropKeptByChildren { .. } => Rank::DropColumns,
            ColumnChange::Rename { .. } => Rank::RenameMembers,
            ColumnChange::Add { .. } => Rank::AddColumns,
            ColumnChange::Alter { .. } => Rank::AlterColumns,
        }
    }

    /// A dropped column, and a column whose type or collation changes, are taken away from what reads
    /// them. A column its children keep stays for them.
    fn disturbs(&self, objects: &mut IndexSet<ObjectRef>) {
        let column = |table: &QualifiedName, column: &Name| {
            ObjectRef::Column(ColumnRef { table: table.clone(), column: column.clone() })
        };
        match self {
            ColumnChange::Alter { table, from, to }
                if from.data_type != to.data_type || from.collation() != to.collation() =>
            {
                objects.insert(column(table, &from.name));
            }
            ColumnChange::Drop { table, column: c } => {
                objects.insert(column(table, &c.name));
            }
            ColumnChange::Alter { .. }
            | ColumnChange::Add { .. }
            | ColumnChange::Rename { .. }
            | ColumnChange::DropKeptByChildren { .. } => {}
        }
    }
}

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
            None => out.push(Change::Column(ColumnChange::Add { table: table.clone(), column: column.clone() })),
            Some(old) if old.generated() != column.generated() || reads_retyped(old) => {
                // PostgreSQL before 17 cannot change a generation expression in place.
                gone.insert(ColumnRef { table: table.clone(), column: name.clone() });
                out.push(Change::Column(ColumnChange::Drop { table: table.clone(), column: old.clone() }));
                out.push(Change::Column(ColumnChange::Add { table: table.clone(), column: column.clone() }));
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
                out.push(Change::Column(ColumnChange::Alter { table: table.clone(), from: old.clone(), to }));
            }
            Some(_) => {}
        }
    }
    for (name, column) in &have.columns {
        if !want.columns.contains_key(name) {
            gone.insert(ColumnRef { table: table.clone(), column: name.clone() });
            out.push(Change::Column(ColumnChange::Drop { table: table.clone(), column: column.clone() }));
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
            Change::Column(ColumnChange::Alter { table, from, to })
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
                |c| matches!(c, Change::Column(ColumnChange::Drop { table: t, column: d }) if t == table && d.name == column.name),
            );
            if let Some(wanted) = want.columns.get(&column.name).filter(|_| reads_retyped && !replaced) {
                released.push(Change::Column(ColumnChange::Drop { table: table.clone(), column: column.clone() }));
                released.push(Change::Column(ColumnChange::Add { table: table.clone(), column: wanted.clone() }));
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
            Change::Column(ColumnChange::Drop { table, column }) => {
                dropped.insert(ColumnRef { table: table.clone(), column: column.name.clone() });
            }
            Change::Column(ColumnChange::Add { table, column }) => {
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
        let planned = out.iter().any(|c| matches!(c, Change::Index(IndexChange::Create(i)) if &i.name == name));
        if touches(&index.table, &index.columns) && desired.indexes.get(name) == Some(index) && !planned {
            restored.push(Change::Index(IndexChange::Create(index.clone())));
        }
    }
    for (table_name, table) in &current.tables {
        for (constraint_name, constraint) in &table.constraints {
            let unchanged =
                desired.tables.get(table_name).and_then(|t| t.constraints.get(constraint_name)) == Some(constraint);
            let planned = out.iter().any(|c| {
                matches!(c, Change::Constraint(ConstraintChange::Add { table, constraint: k }) if table == table_name && k.name == *constraint_name)
            });
            if unchanged && !planned && touches(table_name, &constraint.columns) {
                restored.push(Change::Constraint(ConstraintChange::Drop {
                    table: table_name.clone(),
                    constraint: constraint.clone(),
                }));
                restored.push(Change::Constraint(ConstraintChange::Add {
                    table: table_name.clone(),
                    constraint: constraint.clone(),
                }));
            }
        }
    }
    out.extend(restored);
}

pub(super) fn column_needs(column: &Column) -> impl Iterator<Item = Key<'_>> {
    column.depends_on.iter().map(ref_key)
}

/// The column's keys: the column, and its NOT NULL when it has one.
pub(super) fn column_own_keys<'a>(table: &'a QualifiedName, column: &'a Column) -> impl Iterator<Item = Key<'a>> {
    let not_null = column.not_null.then(|| Key::NotNull(table, &column.name));
    std::iter::once(Key::Column(table, &column.name)).chain(not_null)
}
