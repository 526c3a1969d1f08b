//! Functions, procedures and aggregates: replaced in place when only the body or attributes change,
//! dropped and created again otherwise, with what calls them let go of them first.

use super::order::{Effects, Key, Rank, ref_key};
use super::{
    Change, CommentTarget, DomainChange, KindChange, comment, constraints::same_constraint, disturbed::Disturbed,
    views::views_to_recreate,
};
use super::{ColumnChange, ConstraintChange, IndexChange};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A function, procedure or aggregate created, dropped or replaced in place.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum FunctionChange {
    #[serde(rename = "CreateFunction")]
    Create(Function),
    #[serde(rename = "DropFunction")]
    Drop(Function),
    /// `CREATE OR REPLACE`: same arguments and result type, new body or attributes.
    #[serde(rename = "ReplaceFunction")]
    Replace { from: Function, to: Function },
}

impl KindChange for FunctionChange {
    fn describe(&self) -> String {
        match self {
            FunctionChange::Create(f) => format!("create {} {}", f.kind.keyword().to_lowercase(), f.id),
            FunctionChange::Drop(f) => format!("drop {} {}", f.kind.keyword().to_lowercase(), f.id),
            FunctionChange::Replace { to, .. } => format!("replace {} {}", to.kind.keyword().to_lowercase(), to.id),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            FunctionChange::Create(f) => {
                e.provides.push(Key::Function(&f.id));
                e.provides.push(Key::FunctionSignature(&f.call_signature));
                e.needs.push(Key::Schema(&f.id.name.schema));
                e.needs.extend(f.depends_on.iter().map(ref_key));
                e.needs.extend(f.calls.iter().map(Key::Function));
            }
            FunctionChange::Drop(f) => {
                e.removes.push(Key::Function(&f.id));
                e.removes.push(Key::FunctionSignature(&f.call_signature));
                e.held.push(Key::Schema(&f.id.name.schema));
                e.held.extend(f.depends_on.iter().map(ref_key));
            }
            FunctionChange::Replace { from, to } => {
                e.provides.push(Key::Function(&to.id));
                e.needs.extend(to.depends_on.iter().map(ref_key));
                e.needs.extend(to.calls.iter().map(Key::Function));
                e.held.extend(from.depends_on.iter().map(ref_key));
            }
        }
        e
    }

    /// Dropped after the tables they may read, which a body in a string does not record; created with the
    /// column changes, since they may read the new columns.
    fn rank(&self) -> Rank {
        match self {
            FunctionChange::Drop(_) => Rank::DropSequencesAndRoutines,
            FunctionChange::Create(_) | FunctionChange::Replace { .. } => Rank::AlterColumns,
        }
    }

    fn disturbs(&self, objects: &mut IndexSet<ObjectRef>) {
        match self {
            FunctionChange::Drop(f) => {
                objects.insert(ObjectRef::Function(f.id.clone()));
            }
            FunctionChange::Create(_) | FunctionChange::Replace { .. } => {}
        }
    }
}

/// Functions created, replaced or dropped; returns the ones dropped (also those dropped to be created
/// again), whose users must be dropped first.
pub(super) fn diff(
    current: &Catalog,
    desired: &Catalog,
    disturbed: &Disturbed,
    out: &mut Vec<Change>,
) -> IndexSet<FunctionId> {
    let mut dropped = IndexSet::new();
    // A function whose body or signature uses what the plan disturbs (a column that changes type, a table,
    // type or view dropped or created again) is dropped first (PostgreSQL refuses the change otherwise),
    // and so are the functions calling it.
    loop {
        let before = dropped.len();
        let views = views_to_recreate(current, desired, disturbed, &dropped);
        for (id, have) in &current.functions {
            if dropped.contains(id) {
                continue;
            }
            let replaceable = desired.functions.get(id).is_some_and(|want| replaceable(have, want));
            if !replaceable || disturbed.touches(&have.depends_on, &dropped, &views) {
                dropped.insert(id.clone());
            }
        }
        if dropped.len() == before {
            break;
        }
    }
    for (id, have) in &current.functions {
        if dropped.contains(id) {
            out.push(Change::Function(FunctionChange::Drop(have.clone())));
        }
    }
    for (id, want) in &desired.functions {
        let have = current.functions.get(id);
        match have {
            Some(have) if !dropped.contains(id) => {
                if have.definition != want.definition || have.depends_on != want.depends_on {
                    out.push(Change::Function(FunctionChange::Replace { from: have.clone(), to: want.clone() }));
                }
                if have.comment != want.comment {
                    out.push(comment(CommentTarget::Function(id.clone()), &want.comment));
                }
            }
            _ => {
                out.push(Change::Function(FunctionChange::Create(want.clone())));
                if want.comment.is_some() {
                    out.push(comment(CommentTarget::Function(id.clone()), &want.comment));
                }
            }
        }
    }
    dropped
}

/// `CREATE OR REPLACE` keeps the argument list (names and defaults), the result type and the kind.
fn replaceable(have: &Function, want: &Function) -> bool {
    have.kind == want.kind && have.signature == want.signature && have.returns == want.returns
}

/// Column defaults, generated columns, table constraints, indexes and domains that call a function being
/// dropped and created again, and are otherwise unchanged: they let go of the function first and take
/// it up again after (PostgreSQL refuses to drop a function they use). What they call may be named
/// differently after (a function whose arguments are renamed), so "unchanged" leaves what they depend on
/// out, and they take up the desired version. Changed ones are replaced by the table diff.
pub(super) fn release_function_users(
    current: &Catalog,
    desired: &Catalog,
    dropped_functions: &IndexSet<FunctionId>,
    out: &mut Vec<Change>,
) {
    if dropped_functions.is_empty() {
        return;
    }
    let calls = |deps: &[ObjectRef]| {
        deps.iter().any(|d| matches!(d, ObjectRef::Function(id) if dropped_functions.contains(id)))
    };
    let same_column = |a: &Column, b: &Column| {
        let (mut a, mut b) = (a.clone(), b.clone());
        a.retain_dependencies(|_| false);
        b.retain_dependencies(|_| false);
        a == b
    };
    for (name, have) in &current.tables {
        let Some(want) = desired.tables.get(name) else { continue };
        for (column_name, column) in &have.columns {
            if !calls(&column.depends_on) {
                continue;
            }
            let Some(wanted) = want.columns.get(column_name).filter(|w| same_column(column, w)) else { continue };
            if column.generated().is_some() {
                // A generation expression cannot be taken off and put back (before PostgreSQL 17): the
                // column is dropped and added again, computed anew.
                out.push(Change::Column(ColumnChange::Drop { table: name.clone(), column: column.clone() }));
                out.push(Change::Column(ColumnChange::Add { table: name.clone(), column: wanted.clone() }));
            } else {
                let mut released = column.clone();
                released.default = None;
                released.retain_dependencies(|d| !matches!(d, ObjectRef::Function(_)));
                out.push(Change::Column(ColumnChange::Alter {
                    table: name.clone(),
                    from: column.clone(),
                    to: released.clone(),
                }));
                out.push(Change::Column(ColumnChange::Alter {
                    table: name.clone(),
                    from: released,
                    to: wanted.clone(),
                }));
            }
        }
        for (constraint_name, constraint) in &have.constraints {
            if !calls(&constraint.depends_on) {
                continue;
            }
            if let Some(wanted) = want.constraints.get(constraint_name).filter(|w| same_constraint(constraint, w)) {
                out.push(Change::Constraint(ConstraintChange::Drop {
                    table: name.clone(),
                    constraint: constraint.clone(),
                }));
                out.push(Change::Constraint(ConstraintChange::Add { table: name.clone(), constraint: wanted.clone() }));
            }
        }
    }
    let same_index = |a: &Index, b: &Index| a.table == b.table && a.unique == b.unique && a.definition == b.definition;
    for (name, index) in &current.indexes {
        if !calls(&index.depends_on) {
            continue;
        }
        if let Some(wanted) = desired.indexes.get(name).filter(|w| same_index(index, w)) {
            out.push(Change::Index(IndexChange::Drop(index.clone())));
            out.push(Change::Index(IndexChange::Create(wanted.clone())));
        }
    }
    // A domain lets go of its constraints and default, and takes them up again as declared; its own
    // change, if any, becomes those two steps.
    for (name, have) in &current.domains {
        let Some(want) = desired.domains.get(name) else { continue };
        let replaced = out.iter().any(|c| matches!(c, Change::Domain(DomainChange::Drop(d)) if d.name == *name));
        if replaced || !calls(&have.depends_on) {
            continue;
        }
        out.retain(|c| !matches!(c, Change::Domain(DomainChange::Alter { from, .. }) if from.name == *name));
        let mut released = have.clone();
        released.constraints.clear();
        released.default = None;
        released.depends_on.retain(|d| !matches!(d, ObjectRef::Function(_)));
        let used_by = super::domains::tables_using(current, desired, name);
        out.push(Change::Domain(DomainChange::Alter {
            from: have.clone(),
            to: released.clone(),
            used_by: used_by.clone(),
        }));
        out.push(Change::Domain(DomainChange::Alter { from: released, to: want.clone(), used_by }));
    }
}
