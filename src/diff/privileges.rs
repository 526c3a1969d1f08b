//! Privileges: grants and revokes (again on a recreated object), default privileges, owners.

use super::TableChange;
use super::order::{Effects, Key, Rank};
use super::{
    Change, CompositeTypeChange, DomainChange, EnumChange, FunctionChange, KindChange, RangeTypeChange, SchemaChange,
    SequenceChange, ViewChange,
};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A privilege granted or revoked, a default privilege, or an owner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum PrivilegeChange {
    #[serde(rename = "GrantPrivilege")]
    Grant(Grant),
    #[serde(rename = "RevokePrivilege")]
    Revoke(Grant),
    #[serde(rename = "GrantDefaultPrivilege")]
    GrantDefault {
        key: DefaultPrivilegeKey,
        with_grant_option: bool,
    },
    #[serde(rename = "RevokeDefaultPrivilege")]
    RevokeDefault {
        key: DefaultPrivilegeKey,
        grant_option_only: bool,
    },
    SetOwner {
        object: OwnedObject,
        from: Option<String>,
        to: String,
    },
}

impl KindChange for PrivilegeChange {
    fn describe(&self) -> String {
        match self {
            PrivilegeChange::Grant(g) => {
                format!(
                    "grant {} on {} to {}",
                    g.key.privilege,
                    describe_privilege_target(&g.key.target),
                    g.key.grantee
                )
            }
            PrivilegeChange::Revoke(g) => format!(
                "revoke {} on {} from {}",
                g.key.privilege,
                describe_privilege_target(&g.key.target),
                g.key.grantee
            ),
            PrivilegeChange::GrantDefault { key, with_grant_option } => format!(
                "grant {} on new {} to {}{}",
                key.privilege,
                describe_default_scope(key),
                key.grantee,
                if *with_grant_option { " with grant option" } else { "" }
            ),
            PrivilegeChange::RevokeDefault { key, grant_option_only } => format!(
                "revoke {}{} on new {} from {}",
                if *grant_option_only { "grant option for " } else { "" },
                key.privilege,
                describe_default_scope(key),
                key.grantee
            ),
            PrivilegeChange::SetOwner { object, to, .. } => format!("set owner of {object} to {to}"),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            PrivilegeChange::Grant(g) => {
                e.provides.push(Key::Privilege(&g.key));
                if let PrivilegeTarget::Column(c) = &g.key.target {
                    e.provides.push(Key::ColumnPrivileges(&c.table, &g.key.grantee, &g.key.privilege));
                }
                e.needs.extend(privilege_target_keys(&g.key.target));
            }
            PrivilegeChange::Revoke(g) => {
                // After the object is created (a default privilege revoked from a new function), before it
                // is dropped.
                e.removes.push(Key::Privilege(&g.key));
                if let PrivilegeTarget::Table(table) = &g.key.target {
                    e.removes.push(Key::ColumnPrivileges(table, &g.key.grantee, &g.key.privilege));
                }
                e.needs.extend(privilege_target_keys(&g.key.target));
                e.held.extend(privilege_target_keys(&g.key.target));
            }
            PrivilegeChange::GrantDefault { key, .. } | PrivilegeChange::RevokeDefault { key, .. } => {
                if let Some(schema) = &key.schema {
                    e.needs.push(Key::Schema(schema));
                    e.held.push(Key::Schema(schema));
                }
            }
            PrivilegeChange::SetOwner { object, .. } => {
                let key = match object {
                    OwnedObject::Schema(s) => Key::Schema(s),
                    OwnedObject::Table(n) | OwnedObject::View(n) | OwnedObject::MaterializedView(n) => Key::Relation(n),
                    OwnedObject::Sequence(n) => Key::Sequence(n),
                    OwnedObject::Function(id, _) => Key::Function(id),
                    OwnedObject::Type(n) | OwnedObject::Domain(n) => Key::Type(n),
                };
                e.needs.push(key);
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            PrivilegeChange::Revoke(_) => Rank::ReleaseDependants,
            // Before the objects they apply to are created.
            PrivilegeChange::GrantDefault { .. } | PrivilegeChange::RevokeDefault { .. } => Rank::CreateSchemas,
            PrivilegeChange::Grant(_) => Rank::CommentsAndGrants,
            PrivilegeChange::SetOwner { .. } => Rank::Owners,
        }
    }

    /// Nothing: a privilege or an owner is what other objects depend on last.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

fn privilege_target_keys(target: &PrivilegeTarget) -> Vec<Key<'_>> {
    match target {
        PrivilegeTarget::Schema(s) => vec![Key::Schema(s)],
        PrivilegeTarget::Table(n) => vec![Key::Relation(n)],
        PrivilegeTarget::Column(c) => {
            vec![Key::Relation(&c.table), Key::Column(&c.table, &c.column)]
        }
        PrivilegeTarget::Sequence(n) => vec![Key::Sequence(n)],
        PrivilegeTarget::Function(id, _) => vec![Key::Function(id)],
    }
}

fn describe_privilege_target(target: &PrivilegeTarget) -> String {
    match target {
        PrivilegeTarget::Schema(s) => format!("schema {s}"),
        PrivilegeTarget::Table(n) => format!("table {n}"),
        PrivilegeTarget::Column(c) => format!("column {}.{}", c.table, c.column),
        PrivilegeTarget::Sequence(n) => format!("sequence {n}"),
        PrivilegeTarget::Function(id, kind) => format!("{} {id}", kind.keyword().to_lowercase()),
    }
}

/// `tables of role r in schema s` for the description of a default privilege.
fn describe_default_scope(key: &DefaultPrivilegeKey) -> String {
    let schema = key.schema.as_ref().map(|s| format!(" in schema {s}")).unwrap_or_default();
    format!("{} of role {}{schema}", key.on.keyword().to_lowercase(), key.role)
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
            _ => out.push(Change::Privilege(PrivilegeChange::Revoke(have.clone()))),
        }
    }
    // Revoking a privilege on a table revokes it on every column of the table too (PostgreSQL): the column
    // privileges of that grantee that stay are granted again after the revoke.
    let revoked_on_tables: Vec<&GrantKey> = out
        .iter()
        .filter_map(|c| match c {
            Change::Privilege(PrivilegeChange::Revoke(g)) if matches!(g.key.target, PrivilegeTarget::Table(_)) => {
                Some(&g.key)
            }
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
            out.push(Change::Privilege(PrivilegeChange::Grant(want.clone())));
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
    let grant = |key: &DefaultPrivilegeKey, with_grant_option| {
        Change::Privilege(PrivilegeChange::GrantDefault { key: key.clone(), with_grant_option })
    };
    let revoke = |key: &DefaultPrivilegeKey, grant_option_only| {
        Change::Privilege(PrivilegeChange::RevokeDefault { key: key.clone(), grant_option_only })
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
            out.push(Change::Privilege(PrivilegeChange::SetOwner {
                object: object.clone(),
                from: have.cloned(),
                to: want.clone(),
            }));
        }
    }
}

/// The object a change creates (or creates again), if it has an owner of its own.
fn created_object(change: &Change) -> Option<OwnedObject> {
    Some(match change {
        Change::Schema(SchemaChange::Create(s)) => OwnedObject::Schema(s.name.clone()),
        Change::Table(TableChange::Create(t)) => OwnedObject::Table(t.name.clone()),
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
