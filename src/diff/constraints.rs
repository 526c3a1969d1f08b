//! Table constraints: added, dropped, validated in place, and foreign keys dropped and added again
//! around a change to what they reference.

use super::Change;
use super::KindChange;
use super::order::{Effects, Key, Rank, column_keys, ref_key, sorted};
use super::{ColumnChange, IndexChange};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A change of one table constraint (primary key, unique, check, foreign key, exclusion).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ConstraintChange {
    /// A constraint whose definition stays and whose name changes (PostgreSQL renames a key's index with it).
    #[serde(rename = "RenameConstraint")]
    Rename { table: QualifiedName, from: String, to: String },
    #[serde(rename = "AddConstraint")]
    Add { table: QualifiedName, constraint: Constraint },
    #[serde(rename = "DropConstraint")]
    Drop { table: QualifiedName, constraint: Constraint },
    #[serde(rename = "ValidateConstraint")]
    Validate { table: QualifiedName, constraint: Constraint },
}
impl KindChange for ConstraintChange {
    fn describe(&self) -> String {
        match self {
            ConstraintChange::Rename { table, from, to } => {
                format!("rename constraint {from} on {table} to {to}")
            }
            ConstraintChange::Add { table, constraint } => {
                format!("add constraint {} on {table}", constraint.name)
            }
            ConstraintChange::Drop { table, constraint } => {
                format!("drop constraint {} on {table}", constraint.name)
            }
            ConstraintChange::Validate { table, constraint } => {
                format!("validate constraint {} on {table}", constraint.name)
            }
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            ConstraintChange::Rename { table, from, to } => {
                // The constraint's kind is not known here: the name may be an index's.
                e.removes.push(Key::Constraint(table, from));
                e.removes.push(Key::RelationName(&table.schema, from));
                e.provides.push(Key::Constraint(table, to));
                e.provides.push(Key::RelationName(&table.schema, to));
                e.needs.push(Key::Relation(table));
                // Before the table is dropped (a name moved aside).
                e.held.push(Key::Relation(table));
            }
            ConstraintChange::Add { table, constraint } => {
                e.provides.extend(constraint_provides(table, constraint));
                if constraint.kind == ConstraintKind::Check {
                    e.provides.push(Key::CheckName(&constraint.name));
                }
                e.needs.push(Key::Relation(table));
                e.needs.push(Key::Rows(table));
                e.needs.extend(constraint_needs(table, constraint));
                if let Some(target) = &constraint.references {
                    e.needs.push(Key::Rows(&target.table));
                }
            }
            ConstraintChange::Drop { table, constraint } => {
                e.needs.push(Key::Relation(table));
                e.removes.extend(constraint_provides(table, constraint));
                e.held.extend(constraint_needs(table, constraint));
                // Before a partition leaves the table: it would keep a copy of the constraint. On a partition
                // leaving its table, after it left: it may be such a copy.
                e.held.push(Key::PartitionSlot(table));
                e.needs.push(Key::Detached(table));
            }
            ConstraintChange::Validate { table, constraint } => {
                e.needs.push(Key::Constraint(table, &constraint.name));
                // A partition's copy of a check is validated once its parent's check is added.
                if constraint.kind == ConstraintKind::Check {
                    e.needs.push(Key::CheckName(&constraint.name));
                }
                e.needs.extend(constraint_needs(table, constraint));
            }
        }
        e
    }

    fn slug(&self) -> String {
        match self {
            ConstraintChange::Rename { to, .. } => format!("rename_{to}"),
            ConstraintChange::Add { constraint, .. } => format!("add_{}", constraint.name),
            ConstraintChange::Drop { constraint, .. } => format!("drop_{}", constraint.name),
            ConstraintChange::Validate { .. } => self.describe().replace(' ', "_"),
        }
    }

    fn rank(&self) -> Rank {
        match self {
            ConstraintChange::Drop { .. } => Rank::DropConstraints,
            ConstraintChange::Rename { .. } => Rank::RenameMembers,
            ConstraintChange::Add { .. } | ConstraintChange::Validate { .. } => Rank::AddConstraints,
        }
    }

    /// A constraint is not what dependants read: dropping it takes nothing away from under them.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

/// Two constraints are the same if only their validation state or comment differs in a way that
/// does not need a drop.
pub(super) fn same_constraint(a: &Constraint, b: &Constraint) -> bool {
    a.kind == b.kind && a.definition == b.definition
}

pub(super) fn diff_constraints(
    table: &QualifiedName,
    have: &Table,
    want: &Table,
    out: &mut Vec<Change>,
    foreign_keys: &mut Vec<Change>,
) {
    for (name, old) in &have.constraints {
        let keep = want.constraints.get(name).is_some_and(|new| {
            same_constraint(old, new) || (!old.validated && new.validated && strip_not_valid(old) == &*new.definition)
        });
        // Dropped explicitly even when a column it uses is dropped too: the planner puts the drop
        // of the constraint first, and objects elsewhere (foreign keys) may need it gone early.
        if !keep {
            out.push(Change::Constraint(ConstraintChange::Drop { table: table.clone(), constraint: old.clone() }));
        }
    }
    for (name, new) in &want.constraints {
        // Built only when needed: most constraints are unchanged.
        let add = || Change::Constraint(ConstraintChange::Add { table: table.clone(), constraint: new.clone() });
        match have.constraints.get(name) {
            Some(old) if same_constraint(old, new) => {}
            Some(old) if !old.validated && new.validated && strip_not_valid(old) == &*new.definition => {
                out.push(Change::Constraint(ConstraintChange::Validate {
                    table: table.clone(),
                    constraint: new.clone(),
                }));
            }
            _ if new.kind == ConstraintKind::ForeignKey => foreign_keys.push(add()),
            _ => out.push(add()),
        }
    }
}

pub(super) fn strip_not_valid(constraint: &Constraint) -> &str {
    constraint.definition.strip_suffix(" NOT VALID").unwrap_or(&constraint.definition)
}

/// PostgreSQL refuses to drop a primary key, unique constraint or unique index that a foreign key
/// relies on. Foreign keys that are otherwise unchanged but reference a key being dropped are dropped
/// first and added back afterwards.
pub(super) fn recreate_dependent_foreign_keys(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let key = |table: &QualifiedName, columns: &[Name]| {
        let mut columns = columns.to_vec();
        columns.sort();
        (table.clone(), columns)
    };
    let mut dropped_keys = IndexSet::new();
    let mut dropped_fks = IndexSet::new();
    let mut added_fks = IndexSet::new();
    for change in out.iter() {
        match change {
            Change::Constraint(ConstraintChange::Drop { table, constraint }) => {
                if matches!(constraint.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique) {
                    dropped_keys.insert(key(table, &constraint.columns));
                }
                dropped_fks.insert((table.clone(), constraint.name.clone()));
            }
            Change::Index(IndexChange::Drop(index)) if index.unique => {
                dropped_keys.insert(key(&index.table, &index.columns));
            }
            Change::Constraint(ConstraintChange::Add { table, constraint }) => {
                added_fks.insert((table.clone(), constraint.name.clone()));
            }
            _ => {}
        }
    }
    if dropped_keys.is_empty() {
        return;
    }
    let mut extra = Vec::new();
    for (name, table) in &current.tables {
        let Some(want) = desired.tables.get(name) else { continue };
        for constraint in table.constraints.values() {
            let Some(target) = &constraint.references else { continue };
            let id = (name.clone(), constraint.name.clone());
            if !dropped_keys.contains(&key(&target.table, &target.columns)) || dropped_fks.contains(&id) {
                continue;
            }
            extra.push(Change::Constraint(ConstraintChange::Drop {
                table: name.clone(),
                constraint: constraint.clone(),
            }));
            if let Some(again) = want.constraints.get(&constraint.name)
                && !added_fks.contains(&id)
            {
                extra
                    .push(Change::Constraint(ConstraintChange::Add { table: name.clone(), constraint: again.clone() }));
            }
        }
    }
    out.extend(extra);
}

/// A foreign key whose columns change type on both sides (`text` → `integer` for the key and the column
/// that references it) cannot stay while the two columns are altered one after the other: in between, the
/// two types may not be comparable, and PostgreSQL refuses the first `ALTER … TYPE`. Such a foreign key is
/// dropped before and added again after. (When only one side changes, the state in between is the
/// declared one, which holds.)
pub(super) fn recreate_foreign_keys_across_retyped_columns(
    current: &Catalog,
    desired: &Catalog,
    out: &mut Vec<Change>,
) {
    let retyped: IndexSet<(&QualifiedName, &str)> = out
        .iter()
        .filter_map(|change| match change {
            Change::Column(ColumnChange::Alter { table, from, to }) if from.data_type != to.data_type => {
                Some((table, to.name.as_str()))
            }
            _ => None,
        })
        .collect();
    if retyped.is_empty() {
        return;
    }
    let touched = |change: &Change, table: &QualifiedName, name: &str| match change {
        Change::Constraint(ConstraintChange::Drop { table: t, constraint })
        | Change::Constraint(ConstraintChange::Add { table: t, constraint }) => t == table && constraint.name == name,
        _ => false,
    };
    let mut extra = Vec::new();
    for (name, table) in &current.tables {
        let Some(want) = desired.tables.get(name) else { continue };
        for constraint in table.constraints.values() {
            let Some(target) = &constraint.references else { continue };
            let local = constraint.columns.iter().any(|c| retyped.contains(&(name, c.as_str())));
            let remote = target.columns.iter().any(|c| retyped.contains(&(&target.table, c.as_str())));
            if !(local && remote) || out.iter().any(|c| touched(c, name, &constraint.name)) {
                continue;
            }
            extra.push(Change::Constraint(ConstraintChange::Drop {
                table: name.clone(),
                constraint: constraint.clone(),
            }));
            if let Some(again) = want.constraints.get(&constraint.name) {
                extra
                    .push(Change::Constraint(ConstraintChange::Add { table: name.clone(), constraint: again.clone() }));
            }
        }
    }
    out.extend(extra);
}

/// The objects a constraint needs, besides its own table.
pub(super) fn constraint_needs<'a>(table: &'a QualifiedName, c: &'a Constraint) -> Vec<Key<'a>> {
    let mut keys: Vec<Key> = column_keys(table, &c.columns).collect();
    if c.kind == ConstraintKind::PrimaryKey {
        keys.extend(c.columns.iter().map(|column| Key::NotNull(table, column)));
    }
    keys.extend(c.depends_on.iter().map(ref_key));
    if let Some(target) = &c.references {
        keys.push(Key::Relation(&target.table));
        keys.extend(column_keys(&target.table, &target.columns));
        keys.push(Key::UniqueColumns(&target.table, sorted(&target.columns)));
    }
    keys
}

pub(super) fn constraint_provides<'a>(table: &'a QualifiedName, c: &'a Constraint) -> Vec<Key<'a>> {
    let mut keys = vec![Key::Constraint(table, &c.name)];
    if matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique) {
        keys.push(Key::UniqueColumns(table, sorted(&c.columns)));
    }
    keys.extend(constraint_index_name(table, c));
    keys
}

/// The name of the index behind a primary key, unique or exclusion constraint: the constraint's.
pub(super) fn constraint_index_name<'a>(table: &'a QualifiedName, c: &'a Constraint) -> Option<Key<'a>> {
    match c.kind {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion => {
            Some(Key::RelationName(&table.schema, &c.name))
        }
        ConstraintKind::Check | ConstraintKind::ForeignKey => None,
    }
}
