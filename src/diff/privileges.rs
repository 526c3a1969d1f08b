//! Privileges: grants and revokes (again on a recreated object), default privileges, owners.

use super::{
    Change, CompositeTypeChange, DomainChange, EnumChange, FunctionChange, RangeTypeChange, SchemaChange,
    SequenceChange, ViewChange,
};
use crate::model::*;
use indexmap::IndexSet;

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
    // Revoking a privilege on a table revokes it on every column of the table too (PostgreSQL): the column
    // privileges of that grantee that stay are granted again after the revoke.
    let revoked_on_tables: Vec<&GrantKey> = out
        .iter()
        .filter_map(|c| match c {
            Change::RevokePrivilege(g) if matches!(g.key.target, PrivilegeTarget::Table(_)) => Some(&g.key),
            _ => None,
        })
        .collect();
    kept.retain(|key| {
        let PrivilegeTarget::Column(column) = &key.target else { return true };
        !revoked_on_tables.iter().any(|t| {
            t.target == PrivilegeTarget::Table(column.table.clone())
                && t.grantee == key.grantee
                && t.privilege == key.privilege
        })
    });
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
        Change::Schema(SchemaChange::Create(s)) => OwnedObject::Schema(s.name.clone()),
        Change::CreateTable(t) => OwnedObject::Table(t.name.clone()),
        Change::View(ViewChange::Create(v)) if v.materialized => OwnedObject::MaterializedView(v.name.clone()),
        Change::View(ViewChange::Create(v)) => OwnedObject::View(v.name.clone()),
        Change::Sequence(SequenceChange::Create(s)) => OwnedObject::Sequence(s.name.clone()),
        Change::Function(FunctionChange::Create(f)) => OwnedObject::Function(f.id.clone(), f.kind),
        Change::Enum(EnumChange::Create(t) | EnumChange::Rebuild { to: t, .. }) => OwnedObject::Type(t.name.clone()),
        Change::CompositeType(CompositeTypeChange::Create(t)) => OwnedObject::Type(t.name.clone()),
        Change::RangeType(RangeTypeChange::Create(t)) => OwnedObject::Type(t.name.clone()),
        Change::Domain(DomainChange::Create(d)) => OwnedObject::Domain(d.name.clone()),
        _ => return None,
    })
}
