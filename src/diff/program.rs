//! Diffs of functions and procedures, triggers, row-level security policies and switches. A function
//! whose signature or result type changes cannot be replaced in place: it is dropped and created
//! again, and the views, triggers and policies that call it go and come back with it.

use super::{Change, CommentTarget, Disturbed, comment};
use crate::model::*;
use indexmap::IndexSet;

/// Functions created, replaced or dropped; returns the ones dropped (also those dropped to be created
/// again), whose users must be dropped first.
pub(super) fn diff_functions(
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
        let views = super::views_to_recreate(current, desired, disturbed, &dropped);
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
            out.push(Change::DropFunction(have.clone()));
        }
    }
    for (id, want) in &desired.functions {
        let have = current.functions.get(id);
        match have {
            Some(have) if !dropped.contains(id) => {
                if have.definition != want.definition || have.depends_on != want.depends_on {
                    out.push(Change::ReplaceFunction { from: have.clone(), to: want.clone() });
                }
                if have.comment != want.comment {
                    out.push(comment(CommentTarget::Function(id.clone()), &want.comment));
                }
            }
            _ => {
                out.push(Change::CreateFunction(want.clone()));
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

pub(super) fn diff_triggers(
    current: &Catalog,
    desired: &Catalog,
    recreated_relations: &IndexSet<QualifiedName>,
    dropped_functions: &IndexSet<FunctionId>,
    disturbed: &Disturbed,
    out: &mut Vec<Change>,
) {
    let same = |a: &Trigger, b: &Trigger| {
        a.name == b.name
            && a.table == b.table
            && a.definition == b.definition
            && a.enabled == b.enabled
            && a.depends_on == b.depends_on
    };
    let mut recreate: IndexSet<&QualifiedName> = IndexSet::new();
    for (key, have) in &current.triggers {
        let keep = desired.triggers.get(key).is_some_and(|want| same(have, want))
            && !recreated_relations.contains(&have.table)
            && !disturbed.touches(&have.depends_on, dropped_functions, recreated_relations);
        if !keep {
            recreate.insert(key);
            out.push(Change::DropTrigger(have.clone()));
        }
    }
    for (key, want) in &desired.triggers {
        let have = current.triggers.get(key);
        if have.is_none() || recreate.contains(key) {
            out.push(Change::CreateTrigger(want.clone()));
        }
        let old_comment = have.filter(|_| !recreate.contains(key)).and_then(|t| t.comment.as_ref());
        if old_comment != want.comment.as_ref() {
            let target = CommentTarget::Trigger { table: want.table.clone(), name: want.name.name.to_string() };
            out.push(comment(target, &want.comment));
        }
    }
}

/// Policies are altered in place where they can be; a policy that reads a column that is retyped or
/// dropped is dropped first and created again after (PostgreSQL refuses both under a policy).
pub(super) fn diff_policies(
    current: &Catalog,
    desired: &Catalog,
    recreated_relations: &IndexSet<QualifiedName>,
    dropped_functions: &IndexSet<FunctionId>,
    disturbed: &Disturbed,
    out: &mut Vec<Change>,
) {
    let same = |a: &Policy, b: &Policy| Policy { comment: None, ..a.clone() } == Policy { comment: None, ..b.clone() };
    // ALTER POLICY sets roles, USING and WITH CHECK; it cannot change the command or the kind, nor
    // take away a USING or WITH CHECK clause.
    let alterable = |a: &Policy, b: &Policy| {
        a.permissive == b.permissive
            && a.command == b.command
            && (a.using.is_none() || b.using.is_some())
            && (a.with_check.is_none() || b.with_check.is_some())
    };
    let mut recreate: IndexSet<&QualifiedName> = IndexSet::new();
    for (key, have) in &current.policies {
        let want = desired.policies.get(key);
        let in_place = !recreated_relations.contains(&have.table)
            && !disturbed.touches(&have.depends_on, dropped_functions, recreated_relations);
        match want {
            Some(want) if in_place && same(have, want) => {}
            Some(want) if in_place && alterable(have, want) => {
                out.push(Change::AlterPolicy { from: have.clone(), to: want.clone() });
            }
            _ => {
                recreate.insert(key);
                out.push(Change::DropPolicy(have.clone()));
            }
        }
    }
    for (key, want) in &desired.policies {
        let have = current.policies.get(key);
        if have.is_none() || recreate.contains(key) {
            out.push(Change::CreatePolicy(want.clone()));
        }
        let old_comment = have.filter(|_| !recreate.contains(key)).and_then(|p| p.comment.as_ref());
        if old_comment != want.comment.as_ref() {
            let target = CommentTarget::Policy { table: want.table.clone(), name: want.name.clone() };
            out.push(comment(target, &want.comment));
        }
    }
}

/// ENABLE/FORCE ROW LEVEL SECURITY switches of tables that exist on the desired side.
pub(super) fn diff_row_security(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for table in desired.tables.keys() {
        let have = current.row_security.get(table).copied().unwrap_or_default();
        let want = desired.row_security.get(table).copied().unwrap_or_default();
        let created = !current.tables.contains_key(table);
        if have != want && !(created && want == RowSecurity::default()) {
            out.push(Change::SetRowSecurity { table: table.clone(), from: have, to: want });
        }
    }
}

/// GRANT and REVOKE. Privileges on an object that is dropped go with it; on an object that is dropped
/// and created again (a view, a function), they are granted again.
pub(super) fn diff_grants(
    current: &Catalog,
    desired: &Catalog,
    recreated_relations: &IndexSet<QualifiedName>,
    dropped_functions: &IndexSet<FunctionId>,
    out: &mut Vec<Change>,
) {
    let exists_after = |target: &PrivilegeTarget| match target {
        PrivilegeTarget::Schema(s) => desired.schemas.contains_key(s),
        PrivilegeTarget::Table(n) => {
            (desired.tables.contains_key(n) || desired.views.contains_key(n)) && !recreated_relations.contains(n)
        }
        PrivilegeTarget::Column(c) => desired.tables.get(&c.table).is_some_and(|t| t.columns.contains_key(&c.column)),
        PrivilegeTarget::Sequence(n) => desired.sequences.contains_key(n),
        PrivilegeTarget::Function(id, _) => desired.functions.contains_key(id) && !dropped_functions.contains(id),
    };
    let mut kept: IndexSet<&GrantKey> = IndexSet::new();
    for (key, have) in &current.grants {
        if !exists_after(&key.target) {
            continue;
        }
        match desired.grants.get(key) {
            Some(want) if want.grantable == have.grantable => {
                kept.insert(key);
            }
            _ => out.push(Change::RevokePrivilege(have.clone())),
        }
    }
    for (key, want) in &desired.grants {
        // A default privilege comes with the object when it is created.
        let comes_with_creation = want.implicit && !(current_has(current, &key.target) && exists_after(&key.target));
        if !kept.contains(key) && !comes_with_creation {
            out.push(Change::GrantPrivilege(want.clone()));
        }
    }
}

fn current_has(current: &Catalog, target: &PrivilegeTarget) -> bool {
    match target {
        PrivilegeTarget::Schema(s) => current.schemas.contains_key(s),
        PrivilegeTarget::Table(n) => current.tables.contains_key(n) || current.views.contains_key(n),
        PrivilegeTarget::Column(c) => current.tables.get(&c.table).is_some_and(|t| t.columns.contains_key(&c.column)),
        PrivilegeTarget::Sequence(n) => current.sequences.contains_key(n),
        PrivilegeTarget::Function(id, _) => current.functions.contains_key(id),
    }
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
                out.push(Change::DropColumn { table: name.clone(), column: column.clone() });
                out.push(Change::AddColumn { table: name.clone(), column: wanted.clone() });
            } else {
                let mut released = column.clone();
                released.default = None;
                released.retain_dependencies(|d| !matches!(d, ObjectRef::Function(_)));
                out.push(Change::AlterColumn { table: name.clone(), from: column.clone(), to: released.clone() });
                out.push(Change::AlterColumn { table: name.clone(), from: released, to: wanted.clone() });
            }
        }
        for (constraint_name, constraint) in &have.constraints {
            if !calls(&constraint.depends_on) {
                continue;
            }
            if let Some(wanted) =
                want.constraints.get(constraint_name).filter(|w| super::same_constraint(constraint, w))
            {
                out.push(Change::DropConstraint { table: name.clone(), constraint: constraint.clone() });
                out.push(Change::AddConstraint { table: name.clone(), constraint: wanted.clone() });
            }
        }
    }
    let same_index = |a: &Index, b: &Index| a.table == b.table && a.unique == b.unique && a.definition == b.definition;
    for (name, index) in &current.indexes {
        if !calls(&index.depends_on) {
            continue;
        }
        if let Some(wanted) = desired.indexes.get(name).filter(|w| same_index(index, w)) {
            out.push(Change::DropIndex(index.clone()));
            out.push(Change::CreateIndex(wanted.clone()));
        }
    }
    // A domain lets go of its constraints and default, and takes them up again as declared; its own
    // change, if any, becomes those two steps.
    for (name, have) in &current.domains {
        let Some(want) = desired.domains.get(name) else { continue };
        let replaced = out.iter().any(|c| matches!(c, Change::DropDomain(d) if d.name == *name));
        if replaced || !calls(&have.depends_on) {
            continue;
        }
        out.retain(|c| !matches!(c, Change::AlterDomain { from, .. } if from.name == *name));
        let mut released = have.clone();
        released.constraints.clear();
        released.default = None;
        released.depends_on.retain(|d| !matches!(d, ObjectRef::Function(_)));
        out.push(Change::AlterDomain { from: have.clone(), to: released.clone() });
        out.push(Change::AlterDomain { from: released, to: want.clone() });
    }
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

/// `ALTER DEFAULT PRIVILEGES`: each entry that differs, granted or revoked.
pub(super) fn diff_default_privileges(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    use DefaultPrivilegeState::{Granted, Revoked};
    let grant = |key: &DefaultPrivilegeKey, with_grant_option| Change::GrantDefaultPrivilege {
        key: key.clone(),
        with_grant_option,
    };
    let revoke = |key: &DefaultPrivilegeKey, grant_option_only| Change::RevokeDefaultPrivilege {
        key: key.clone(),
        grant_option_only,
    };
    for (key, have) in &current.default_privileges {
        let want = desired.default_privileges.get(key).map(|d| d.state);
        if want == Some(have.state) {
            continue;
        }
        match (have.state, want) {
            (Granted { grantable: true }, Some(Granted { .. })) => out.push(revoke(key, true)),
            (Granted { grantable: false }, Some(Granted { .. })) => out.push(grant(key, true)),
            (Granted { .. }, None | Some(Revoked)) => out.push(revoke(key, false)),
            // A built-in default taken away comes back.
            (Revoked, None) => out.push(grant(key, false)),
            (Revoked, Some(Revoked)) => {}
            (Revoked, Some(Granted { grantable })) => out.push(grant(key, grantable)),
        }
    }
    for (key, want) in &desired.default_privileges {
        if !current.default_privileges.contains_key(key) {
            out.push(match want.state {
                Granted { grantable } => grant(key, grantable),
                Revoked => revoke(key, false),
            });
        }
    }
}

/// Owners, where both sides list them (callers empty them unless ownership is managed). An object this
/// plan creates is owned by the role that runs it, taken to be the one `current` was read with.
pub(super) fn diff_owners(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    if desired.owners.objects.is_empty() {
        return;
    }
    let created: IndexSet<OwnedObject> = out.iter().filter_map(created_object).collect();
    let creator = current.owners.session_role.as_ref();
    for (object, want) in &desired.owners.objects {
        let have = if created.contains(object) { creator } else { current.owners.objects.get(object) };
        if have != Some(want) {
            out.push(Change::SetOwner { object: object.clone(), from: have.cloned(), to: want.clone() });
        }
    }
}

/// The object a change creates (or creates again), if it has an owner of its own.
fn created_object(change: &Change) -> Option<OwnedObject> {
    Some(match change {
        Change::CreateSchema(s) => OwnedObject::Schema(s.name.clone()),
        Change::CreateTable(t) => OwnedObject::Table(t.name.clone()),
        Change::CreateView(v) if v.materialized => OwnedObject::MaterializedView(v.name.clone()),
        Change::CreateView(v) => OwnedObject::View(v.name.clone()),
        Change::CreateSequence(s) => OwnedObject::Sequence(s.name.clone()),
        Change::CreateFunction(f) => OwnedObject::Function(f.id.clone(), f.kind),
        Change::CreateEnum(t) | Change::RebuildEnum { to: t, .. } => OwnedObject::Type(t.name.clone()),
        Change::CreateCompositeType(t) => OwnedObject::Type(t.name.clone()),
        Change::CreateRangeType(t) => OwnedObject::Type(t.name.clone()),
        Change::CreateDomain(d) => OwnedObject::Domain(d.name.clone()),
        _ => return None,
    })
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
