//! Table inheritance (PostgreSQL `INHERITS`) in the diff.
//!
//! PostgreSQL carries most column changes of a parent down to its children: `ADD COLUMN`, `DROP COLUMN`
//! (of a column a child only inherits), `ALTER COLUMN … TYPE`, `SET`/`DROP DEFAULT` and `SET`/`DROP NOT
//! NULL`. A child's own column changes are therefore diffed from the state the parents' changes leave it
//! in ([`through_parents`]), and the child cannot retype an inherited column itself. A parent that drops a
//! column some child keeps drops it from itself only ([`ColumnChange::DropKeptByChildren`]).

use super::KindChange;
use super::constraints::constraint_needs;
use super::order::{Effects, Key, Rank};
use super::{Change, column_change_summary};
use super::{ColumnChange, ConstraintChange, IndexChange};
use crate::model::*;
use indexmap::IndexMap;
use indexmap::IndexSet;
use serde::Serialize;
use std::borrow::Cow;

/// An existing table that starts or stops inheriting from a parent (PostgreSQL `INHERITS`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum InheritanceChange {
    /// An existing table becomes a child of `parent` (`ALTER TABLE … INHERIT`). PostgreSQL wants the
    /// parent's CHECK constraints on the child first: `checks` are added just before.
    Inherit { table: QualifiedName, parent: QualifiedName, checks: Vec<Constraint> },
    /// An existing child stops inheriting from `parent` (`ALTER TABLE … NO INHERIT`); the columns and
    /// constraints it inherited stay, as its own, except the CHECK constraints named in `checks`, which
    /// are dropped right after.
    NoInherit { table: QualifiedName, parent: QualifiedName, checks: Vec<Name> },
}
impl KindChange for InheritanceChange {
    fn describe(&self) -> String {
        match self {
            InheritanceChange::Inherit { table, parent, .. } => {
                format!("make {table} inherit from {parent}")
            }
            InheritanceChange::NoInherit { table, parent, .. } => {
                format!("make {table} stop inheriting from {parent}")
            }
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            InheritanceChange::Inherit { table, parent, checks } => {
                e.provides.push(Key::Inheritance(table, parent));
                e.needs.push(Key::Relation(table));
                e.needs.push(Key::Relation(parent));
                for check in checks {
                    e.provides.push(Key::Constraint(table, &check.name));
                    e.needs.extend(constraint_needs(table, check));
                }
            }
            InheritanceChange::NoInherit { table, parent, .. } => {
                e.removes.push(Key::Inheritance(table, parent));
                e.provides.push(Key::Uninherited(table, parent));
                e.needs.push(Key::Relation(table));
                e.held.push(Key::Relation(parent));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            InheritanceChange::NoInherit { .. } => Rank::DropConstraints,
            InheritanceChange::Inherit { .. } => Rank::AddConstraints,
        }
    }

    /// The child keeps what it inherited, as its own.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

/// `ALTER TABLE … INHERIT` and `NO INHERIT` for a table present on both sides whose parents change.
pub(super) fn diff_parents(
    current: &Catalog,
    desired: &Catalog,
    name: &QualifiedName,
    have: &Table,
    want: &Table,
    out: &mut Vec<Change>,
) {
    for parent in have.inherits.iter().filter(|p| !want.inherits.contains(p)) {
        // What it inherited becomes its own; the checks it does not declare itself go.
        let checks = inheritable_checks(current, parent)
            .filter(|c| !want.constraints.contains_key(&c.name))
            .map(|c| c.name.clone())
            .collect();
        out.push(Change::Inheritance(InheritanceChange::NoInherit {
            table: name.clone(),
            parent: parent.clone(),
            checks,
        }));
    }
    for parent in want.inherits.iter().filter(|p| !have.inherits.contains(p)) {
        let checks =
            inheritable_checks(desired, parent).filter(|c| !have.constraints.contains_key(&c.name)).cloned().collect();
        out.push(Change::Inheritance(InheritanceChange::Inherit {
            table: name.clone(),
            parent: parent.clone(),
            checks,
        }));
    }
}

/// The CHECK constraints of `parent` that its children inherit (all but `NO INHERIT` ones).
fn inheritable_checks<'a>(catalog: &'a Catalog, parent: &QualifiedName) -> impl Iterator<Item = &'a Constraint> {
    let constraints = catalog.tables.get(parent).map(|t| t.constraints.values());
    constraints
        .into_iter()
        .flatten()
        .filter(|c| c.kind == ConstraintKind::Check && !c.definition.contains(" NO INHERIT"))
}

/// The parents a child keeps: its columns change with theirs.
fn kept_parents<'a>(have: &'a Table, want: &'a Table) -> impl Iterator<Item = &'a QualifiedName> {
    have.inherits.iter().filter(|p| want.inherits.contains(p))
}

/// Whether dropping `column` from `parent` must leave it in the children: a child that inherits it keeps it.
fn kept_by_children(current: &Catalog, desired: &Catalog, parent: &QualifiedName, column: &str) -> bool {
    current.tables.values().any(|child| {
        child.inherits.contains(parent)
            && child.columns.get(column).is_some_and(|c| c.origin.inherited())
            && desired.tables.get(&child.name).is_some_and(|want| want.columns.contains_key(column))
    })
}

/// The table `have` as the changes of its parents leave it, before its own changes run (see the module
/// comment). Tables outside inheritance are returned as they are.
pub(super) fn through_parents<'a>(
    current: &Catalog,
    desired: &Catalog,
    have: &'a Table,
    want: &Table,
) -> Cow<'a, Table> {
    let left = || have.inherits.iter().filter(|p| !want.inherits.contains(p));
    let joined = || want.inherits.iter().filter(|p| !have.inherits.contains(p));
    if !have.inherits.iter().any(|p| want.inherits.contains(p)) && left().next().is_none() && joined().next().is_none()
    {
        return Cow::Borrowed(have);
    }
    let mut cache = IndexMap::new();
    let mut table = effective(current, desired, &have.name, &mut cache, 0).unwrap_or_else(|| have.clone());
    // The checks inherited from a parent it leaves become its own (those it does not declare are dropped
    // with the NO INHERIT, see `diff_parents`).
    for parent in left() {
        for check in inheritable_checks(current, parent).filter(|c| want.constraints.contains_key(&c.name)) {
            table.constraints.entry(check.name.clone()).or_insert_with(|| check.clone());
        }
    }
    // A check of its own that a new parent has too merges into the parent's on INHERIT.
    for parent in joined() {
        for check in inheritable_checks(desired, parent).filter(|c| !want.constraints.contains_key(&c.name)) {
            table.constraints.shift_remove(&check.name);
        }
    }
    Cow::Owned(table)
}

/// [`through_parents`] for the table `name`, parents first; `None` for a table not on both sides.
fn effective(
    current: &Catalog,
    desired: &Catalog,
    name: &QualifiedName,
    cache: &mut IndexMap<QualifiedName, Option<Table>>,
    depth: usize,
) -> Option<Table> {
    if let Some(done) = cache.get(name) {
        return done.clone();
    }
    let (have, want) = (current.tables.get(name)?, desired.tables.get(name)?);
    let mut table = have.clone();
    // Inheritance has no cycles in a database; the depth bound only keeps bad input from recursing forever.
    if depth < 64 {
        for parent in kept_parents(have, want) {
            let (Some(before), Some(after)) =
                (effective(current, desired, parent, cache, depth + 1), desired.tables.get(parent))
            else {
                continue;
            };
            carry_down(current, desired, parent, &before, after, &mut table);
        }
    }
    cache.insert(name.clone(), Some(table.clone()));
    Some(table)
}

/// What the column changes of `parent` (from `before` to `after`) do to its child `table`.
fn carry_down(
    current: &Catalog,
    desired: &Catalog,
    parent: &QualifiedName,
    before: &Table,
    after: &Table,
    table: &mut Table,
) {
    let parent_ref = |column: &Name| ObjectRef::Column(ColumnRef { table: parent.clone(), column: column.clone() });
    for (name, new) in &after.columns {
        match (before.columns.get(name), table.columns.get_mut(name)) {
            // ALTER COLUMN on the parent, as the renderer writes it, reaches the child.
            (Some(old), Some(child)) if !column_change_summary(old, new).is_empty() => {
                let retyped = old.data_type != new.data_type || old.collation() != new.collation();
                if retyped {
                    child.data_type = new.data_type.clone();
                    child.set_collation(new.collation());
                }
                if old.default != new.default || retyped {
                    if new.default.is_some() {
                        child.default = new.default.clone();
                    } else if old.default.is_some() {
                        child.default = None;
                    }
                }
                if old.not_null != new.not_null {
                    child.not_null = new.not_null;
                }
            }
            // A column the parent adds: merged into the child's own, or added to the child.
            (None, Some(child)) => {
                child.origin = ColumnOrigin::Merged;
                child.add_dependency(parent_ref(name));
            }
            (None, None) => {
                let mut inherited = new.clone();
                inherited.set_comment(None::<&str>);
                inherited.identity = None;
                inherited.set_identity_options(None::<&str>);
                inherited.origin = ColumnOrigin::Inherited;
                inherited.add_dependency(parent_ref(name));
                table.columns.insert(name.clone(), inherited);
            }
            _ => {}
        }
    }
    // A column the parent drops: kept as the child's own when some child keeps it (the parent drops it
    // with ONLY), dropped with the parent's when the child only inherits it.
    for name in before.columns.keys().filter(|n| !after.columns.contains_key(*n)) {
        let only = kept_by_children(current, desired, parent, name);
        let Some(child) = table.columns.get_mut(name) else { continue };
        let other_parent = table
            .inherits
            .iter()
            .any(|p| p != parent && desired.tables.get(p).is_some_and(|t| t.columns.contains_key(name)));
        if child.origin == ColumnOrigin::Inherited && !only && !other_parent {
            table.columns.shift_remove(name);
        } else if !other_parent {
            child.origin = ColumnOrigin::Own;
        }
    }
}

/// A parent's column dropped while a child keeps it is dropped from the parent only.
pub(super) fn keep_in_children(current: &Catalog, desired: &Catalog, out: &mut [Change]) {
    for change in out.iter_mut() {
        if let Change::Column(ColumnChange::Drop { table, column }) = change
            && kept_by_children(current, desired, table, &column.name)
        {
            *change = Change::Column(ColumnChange::DropKeptByChildren { table: table.clone(), column: column.clone() });
        }
    }
}

/// The changes that give a new child the inherited columns it declares otherwise than its parents (a
/// default of its own): `CREATE TABLE … INHERITS` gives it the parents' definitions.
pub(super) fn created_child_columns(desired: &Catalog, table: &Table, out: &mut Vec<Change>) {
    for column in table.columns.values().filter(|c| c.origin == ColumnOrigin::Inherited) {
        let Some(parent_column) =
            table.inherits.iter().find_map(|p| desired.tables.get(p).and_then(|t| t.columns.get(&column.name)))
        else {
            continue;
        };
        let mut inherited = column.clone();
        inherited.default = parent_column.default.clone();
        inherited.not_null = parent_column.not_null;
        if !column_change_summary(&inherited, column).is_empty() {
            out.push(Change::Column(ColumnChange::Alter {
                table: table.name.clone(),
                from: inherited,
                to: column.clone(),
            }));
        }
    }
}

/// Whether the plan drops the index (or key constraint) `index` of `table`.
pub(super) fn index_recreated(table: &QualifiedName, index: &str, out: &[Change]) -> bool {
    out.iter().any(|c| match c {
        Change::Index(IndexChange::Drop(i)) => i.table == *table && i.name.name == index,
        Change::Constraint(ConstraintChange::Drop { table: t, constraint }) => t == table && constraint.name == index,
        _ => false,
    })
}

/// The columns of the index (or key constraint) `index` on `table`.
pub(super) fn identity_columns(catalog: &Catalog, table: &QualifiedName, index: &str) -> Vec<Name> {
    let by_index = catalog.indexes.get(&QualifiedName::new(table.schema.clone(), index)).map(|i| i.columns.clone());
    let by_constraint = || catalog.tables.get(table).and_then(|t| t.constraints.get(index)).map(|c| c.columns.clone());
    by_index.or_else(by_constraint).unwrap_or_default()
}

/// Whether the columns of a table present on both sides are managed through its parent: a partition's
/// columns are its parent's, and PostgreSQL carries every column change down to the partitions.
pub(super) fn columns_inherited(have: &Table, want: &Table) -> bool {
    have.partition_of.is_some() && want.partition_of.is_some()
}
