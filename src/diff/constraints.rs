//! Table constraints: added, dropped, validated in place, and foreign keys dropped and added again
//! around a change to what they reference.

use super::Change;
use crate::model::*;
use indexmap::IndexSet;

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
            out.push(Change::DropConstraint { table: table.clone(), constraint: old.clone() });
        }
    }
    for (name, new) in &want.constraints {
        // Built only when needed: most constraints are unchanged.
        let add = || Change::AddConstraint { table: table.clone(), constraint: new.clone() };
        match have.constraints.get(name) {
            Some(old) if same_constraint(old, new) => {}
            Some(old) if !old.validated && new.validated && strip_not_valid(old) == &*new.definition => {
                out.push(Change::ValidateConstraint { table: table.clone(), constraint: new.clone() });
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
            Change::DropConstraint { table, constraint } => {
                if matches!(constraint.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique) {
                    dropped_keys.insert(key(table, &constraint.columns));
                }
                dropped_fks.insert((table.clone(), constraint.name.clone()));
            }
            Change::DropIndex(index) if index.unique => {
                dropped_keys.insert(key(&index.table, &index.columns));
            }
            Change::AddConstraint { table, constraint } => {
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
            extra.push(Change::DropConstraint { table: name.clone(), constraint: constraint.clone() });
            if let Some(again) = want.constraints.get(&constraint.name)
                && !added_fks.contains(&id)
            {
                extra.push(Change::AddConstraint { table: name.clone(), constraint: again.clone() });
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
            Change::AlterColumn { table, from, to } if from.data_type != to.data_type => {
                Some((table, to.name.as_str()))
            }
            _ => None,
        })
        .collect();
    if retyped.is_empty() {
        return;
    }
    let touched = |change: &Change, table: &QualifiedName, name: &str| match change {
        Change::DropConstraint { table: t, constraint } | Change::AddConstraint { table: t, constraint } => {
            t == table && constraint.name == name
        }
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
            extra.push(Change::DropConstraint { table: name.clone(), constraint: constraint.clone() });
            if let Some(again) = want.constraints.get(&constraint.name) {
                extra.push(Change::AddConstraint { table: name.clone(), constraint: again.clone() });
            }
        }
    }
    out.extend(extra);
}
