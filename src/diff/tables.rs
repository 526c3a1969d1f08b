//! Tables: created, dropped, and for a table on both sides the changes of its columns, constraints,
//! parents, options and comments (each in its kind's file).

use super::{
    Change, ColumnConversion, CommentTarget,
    columns::diff_columns,
    comment,
    constraints::{diff_constraints, same_constraint, strip_not_valid},
    inheritance::{columns_inherited, identity_columns, index_recreated},
    keyed::{Sides, keyed},
    partitions::diff_partition_not_null,
};
use crate::model::*;
use indexmap::IndexSet;

/// Diffs tables, columns and constraints; returns the columns that disappear (dropped tables included).
pub(super) fn diff(
    current: &Catalog,
    desired: &Catalog,
    conversions: &[ColumnConversion],
    out: &mut Vec<Change>,
) -> IndexSet<ColumnRef> {
    let mut gone = IndexSet::new();
    let mut foreign_keys = Vec::new();
    for (name, sides) in keyed(&current.tables, &desired.tables) {
        match sides {
            Sides::Created(want) => {
                let mut created = want.clone();
                created.constraints.retain(|_, c| c.kind != ConstraintKind::ForeignKey);
                for constraint in want.constraints.values().filter(|c| c.kind == ConstraintKind::ForeignKey) {
                    foreign_keys.push(Change::AddConstraint { table: name.clone(), constraint: constraint.clone() });
                }
                out.push(Change::CreateTable(created));
                super::inheritance::created_child_columns(desired, want, out);
                push_table_comments(name, None, want, out);
            }
            Sides::Both(have, want) => {
                // A child's columns and constraints are diffed from what its parents' changes leave.
                let base = super::inheritance::through_parents(current, desired, have, want);
                if !columns_inherited(have, want) {
                    let functions = [&current.functions, &desired.functions];
                    diff_columns(name, &base, want, conversions, functions, out, &mut gone);
                } else {
                    diff_partition_not_null(name, have, want, current, desired, out);
                }
                super::inheritance::diff_parents(current, desired, name, have, want, out);
                diff_constraints(name, &base, want, out, &mut foreign_keys);
                diff_table_options(desired, name, have, want, out);
                push_table_comments(name, Some(have), want, out);
            }
            Sides::Dropped(have) => {
                for column in have.columns.keys() {
                    gone.insert(ColumnRef { table: name.clone(), column: column.clone() });
                }
                // Foreign keys between tables that are all being dropped are dropped first, so that the
                // tables can go in any order (they may reference each other).
                let mut dropped = have.clone();
                dropped.constraints.retain(|_, constraint| {
                    let between_dropped = constraint.references.as_ref().is_some_and(|target| {
                        &target.table != name
                            && !desired.tables.contains_key(&target.table)
                            && current.tables.contains_key(&target.table)
                    });
                    if between_dropped {
                        out.push(Change::DropConstraint { table: name.clone(), constraint: constraint.clone() });
                    }
                    !between_dropped
                });
                out.push(Change::DropTable(dropped));
            }
        }
    }
    out.extend(foreign_keys);
    gone
}

fn push_table_comments(name: &QualifiedName, have: Option<&Table>, want: &Table, out: &mut Vec<Change>) {
    if have.map(|t| &t.comment).unwrap_or(&None) != &want.comment {
        out.push(comment(CommentTarget::Table(name.clone()), &want.comment));
    }
    for column in want.columns.values() {
        let old = have.and_then(|t| t.columns.get(&column.name)).and_then(Column::comment);
        if old != column.comment() {
            out.push(comment(
                CommentTarget::Column(ColumnRef { table: name.clone(), column: column.name.clone() }),
                &column.comment().map(String::from),
            ));
        }
    }
    for constraint in want.constraints.values() {
        let old = have.and_then(|t| t.constraints.get(&constraint.name));
        // A recreated constraint loses its comment, so compare against "none" in that case.
        let old_comment = old.filter(|o| same_constraint(o, constraint)).and_then(|o| o.comment.clone());
        if old_comment != constraint.comment {
            out.push(comment(
                CommentTarget::Constraint { table: name.clone(), name: constraint.name.clone() },
                &constraint.comment,
            ));
        }
    }
}

/// Whether a relation stays in place: declared, and not dropped and recreated by this diff. Indexes and
/// triggers of other relations go away with them.
pub(super) fn relation_survives(desired: &Catalog, recreated: &IndexSet<QualifiedName>, table: &QualifiedName) -> bool {
    (desired.tables.contains_key(table) || desired.views.contains_key(table)) && !recreated.contains(table)
}

/// Partition membership, storage parameters and logging of a table present on both sides.
fn diff_table_options(desired: &Catalog, name: &QualifiedName, have: &Table, want: &Table, out: &mut Vec<Change>) {
    if have.partition_of != want.partition_of {
        if let Some(old) = &have.partition_of {
            out.push(Change::DetachPartition {
                table: name.clone(),
                parent: old.parent.clone(),
                bound: old.bound.clone(),
            });
        }
        if let Some(new) = &want.partition_of {
            // The table's own checks that are the parent's become the parent's copies on ATTACH: they stay.
            let mut checks = Vec::new();
            let parent_checks = desired.tables.get(&new.parent).map(|p| p.constraints.values());
            for check in parent_checks.into_iter().flatten().filter(|c| c.kind == ConstraintKind::Check) {
                let alike = have.constraints.get(&check.name).is_some_and(|own| {
                    same_constraint(own, check) || own.validated && &*own.definition == strip_not_valid(check)
                });
                if alike {
                    out.retain(|c| !matches!(c, Change::DropConstraint { table, constraint } if table == name && constraint.name == check.name));
                } else {
                    checks.push(check.clone());
                }
            }
            out.push(Change::AttachPartition {
                table: name.clone(),
                parent: new.parent.clone(),
                bound: new.bound.clone(),
                checks,
            });
        }
    }
    if have.storage_parameters != want.storage_parameters {
        out.push(Change::SetStorageParameters {
            table: name.clone(),
            from: have.storage_parameters.clone(),
            to: want.storage_parameters.clone(),
        });
    }
    if have.unlogged != want.unlogged {
        out.push(Change::SetUnlogged { table: name.clone(), unlogged: want.unlogged });
    }
}

/// `ALTER TABLE … REPLICA IDENTITY` where it differs, and again after its index is dropped and created
/// anew (a new index is not the identity, even under the old name). Runs after the index and constraint
/// changes are known.
pub(super) fn diff_replica_identity(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let mut changes = Vec::new();
    for (name, want) in &desired.tables {
        // A new table starts at the default.
        let have = current.tables.get(name).and_then(|t| t.replica_identity.clone());
        let rebuilt = matches!(&have, Some(ReplicaIdentity::Index(index)) if index_recreated(name, index, out));
        if have == want.replica_identity && !rebuilt {
            continue;
        }
        let key_columns = match &want.replica_identity {
            Some(ReplicaIdentity::Index(index)) => identity_columns(desired, name, index),
            _ => Vec::new(),
        };
        let old_key_columns = match &have {
            Some(ReplicaIdentity::Index(index)) if !rebuilt => identity_columns(current, name, index),
            _ => Vec::new(),
        };
        changes.push(Change::SetReplicaIdentity {
            table: name.clone(),
            // The identity goes with its dropped index: set again after the new one, from nothing.
            from: if rebuilt { None } else { have },
            to: want.replica_identity.clone(),
            key_columns,
            old_key_columns,
        });
    }
    out.extend(changes);
}
