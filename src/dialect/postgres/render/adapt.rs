//! PostgreSQL's adaptations of a diffed change set before it is ordered ([`crate::plan::SqlRenderer::adapt`]):
//! names moved aside for a dropped table whose names are taken again, column type changes that an
//! extension's move makes, new partitions attached with their own keys, partition keys dropped with the
//! index they are attached to, and the privileges a new object gets or lacks by default.

use super::ident;
use crate::diff::{
    Change, ChangeSet, ExtensionChange, FunctionChange, PrivilegeChange, SchemaChange, SequenceChange, ViewChange,
};
use crate::diff::{ColumnChange, ConstraintChange, IndexChange, PartitionChange, TableChange};
use crate::model::*;

/// The passes in the order they run: each reads the changes the earlier ones left.
pub(super) fn adapt(mut changes: ChangeSet, current: &Catalog, desired: &Catalog) -> ChangeSet {
    move_taken_names_aside(&mut changes, current, desired);
    moved_extension_types(&mut changes, current);
    partitions_attached_with_their_keys(&mut changes, current, desired);
    partition_keys_dropped_with_their_index(&mut changes, desired);
    privileges_of_new_objects(&mut changes, desired);
    changes
}

/// A new object gets privileges it was never granted: a function is executable by PUBLIC, and the
/// default privileges (`ALTER DEFAULT PRIVILEGES`) add theirs. Where the declared schema does not have
/// them, a revoke follows the creation. Default privileges of any role are considered: a revoke of a
/// privilege the object did not get changes nothing.
/// The other way round, default privileges that take a built-in privilege away (`REVOKE EXECUTE ON
/// FUNCTIONS FROM PUBLIC`) keep it from a new object that the declared schema gives it by default (a
/// function created before those default privileges, as `schema inspect` reads one): it is granted after
/// the creation (granting a privilege the object got changes nothing).
fn privileges_of_new_objects(changes: &mut ChangeSet, desired: &Catalog) {
    let mut revokes = Vec::new();
    let mut grants = Vec::new();
    for change in &changes.changes {
        let (target, on, schema) = match change {
            Change::Function(FunctionChange::Create(f)) => (
                PrivilegeTarget::Function(f.id.clone(), f.kind),
                DefaultObjectKind::Functions,
                Some(f.id.name.schema.as_str()),
            ),
            Change::Table(TableChange::Create(t)) => {
                (PrivilegeTarget::Table(t.name.clone()), DefaultObjectKind::Tables, Some(t.name.schema.as_str()))
            }
            Change::View(ViewChange::Create(v)) => {
                (PrivilegeTarget::Table(v.name.clone()), DefaultObjectKind::Tables, Some(v.name.schema.as_str()))
            }
            Change::Sequence(SequenceChange::Create(q)) => {
                (PrivilegeTarget::Sequence(q.name.clone()), DefaultObjectKind::Sequences, Some(q.name.schema.as_str()))
            }
            Change::Schema(SchemaChange::Create(s)) => {
                (PrivilegeTarget::Schema(s.name.clone()), DefaultObjectKind::Schemas, None)
            }
            _ => continue,
        };
        let mut given: Vec<(&str, &str)> = Vec::new();
        if on == DefaultObjectKind::Functions {
            given.push(("PUBLIC", "EXECUTE"));
        }
        for (key, default) in &desired.default_privileges {
            let applies = key.on == on && (key.schema.is_none() || key.schema.as_deref() == schema);
            if applies && matches!(default.state, DefaultPrivilegeState::Granted { .. }) {
                given.push((&key.grantee, &key.privilege));
            }
        }
        for (grantee, privilege) in given {
            let key =
                GrantKey { target: target.clone(), grantee: grantee.to_string(), privilege: privilege.to_string() };
            let revoke = Change::Privilege(PrivilegeChange::Revoke(Grant {
                key: key.clone(),
                grantable: false,
                implicit: true,
            }));
            if !desired.grants.contains_key(&key) && !revokes.contains(&revoke) {
                revokes.push(revoke);
            }
        }
        for (key, default) in &desired.default_privileges {
            let applies = key.on == on && (key.schema.is_none() || key.schema.as_deref() == schema);
            if !applies || default.state != DefaultPrivilegeState::Revoked {
                continue;
            }
            let wanted =
                GrantKey { target: target.clone(), grantee: key.grantee.clone(), privilege: key.privilege.clone() };
            if let Some(grant) = desired.grants.get(&wanted).filter(|g| g.implicit) {
                let grant = Change::Privilege(PrivilegeChange::Grant(grant.clone()));
                if !grants.contains(&grant) {
                    grants.push(grant);
                }
            }
        }
    }
    changes.changes.extend(revokes);
    changes.changes.extend(grants);
}

/// Names that move: a table (or materialized view) the plan drops holds the names of its indexes and
/// of its constraints' indexes until it is dropped, and its drop may have to wait for the object that
/// takes one of them (a sequence moving over to a new table that reuses the old primary key's name). Such
/// a name is moved aside first, on the old table (`RENAME CONSTRAINT`, `ALTER INDEX … RENAME`), which
/// needs nothing and which the drop takes along.
fn move_taken_names_aside(changes: &mut ChangeSet, current: &Catalog, desired: &Catalog) {
    let dropped: indexmap::IndexSet<&QualifiedName> = changes
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Table(TableChange::Drop(t)) => Some(&t.name),
            Change::View(ViewChange::Drop(v)) if v.materialized => Some(&v.name),
            _ => None,
        })
        // A materialized view dropped to be created again gets its indexes back after it.
        .filter(|name| !desired.tables.contains_key(*name) && !desired.views.contains_key(*name))
        .collect();
    if dropped.is_empty() {
        return;
    }
    let taken = relation_names(desired);
    let aside = |name: &str| crate::model::helper_name("schema_old_", name);
    // Names dropped on their own (before a partition leaves the table) are free by then.
    let dropped_on_their_own = |table: &QualifiedName, name: &str| {
        changes.changes.iter().any(|c| match c {
            Change::Constraint(ConstraintChange::Drop { table: t, constraint }) => {
                t == table && constraint.name == name
            }
            Change::Index(IndexChange::Drop(i)) => i.table == *table && i.name.name == name,
            _ => false,
        })
    };
    let mut moves = Vec::new();
    for change in &changes.changes {
        let Change::Table(TableChange::Drop(table)) = change else { continue };
        if !dropped.contains(&table.name) {
            continue;
        }
        for c in table.constraints.values() {
            let has_index =
                matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion);
            if has_index
                && taken.contains(&(table.name.schema.as_str(), c.name.as_str()))
                && !dropped_on_their_own(&table.name, &c.name)
            {
                moves.push(Change::Constraint(ConstraintChange::Rename {
                    table: table.name.clone(),
                    from: c.name.to_string(),
                    to: aside(&c.name),
                }));
            }
        }
    }
    for index in current.indexes.values() {
        if dropped.contains(&index.table)
            && taken.contains(&(index.name.schema.as_str(), index.name.name.as_str()))
            && !dropped_on_their_own(&index.table, &index.name.name)
        {
            let to = QualifiedName::new(index.name.schema.clone(), aside(&index.name.name));
            moves.push(Change::Index(IndexChange::Rename { table: index.table.clone(), from: index.name.clone(), to }));
        }
    }
    changes.changes.extend(moves);
}

/// A new partition of an existing table whose own primary key or unique constraint is, in the declared
/// schema, the index attached to an index of the parent: `CREATE TABLE … PARTITION OF` would create the
/// parent's indexes on it before its own constraints (two indexes, the parent's under a name PostgreSQL
/// picks). Created as a table of its own, with its constraints and the parent's inherited checks (which
/// `ATTACH PARTITION` requires and then marks inherited), and then attached, it has its keys when
/// PostgreSQL looks for the indexes the parent needs, and they are attached.
fn partitions_attached_with_their_keys(changes: &mut ChangeSet, current: &Catalog, desired: &Catalog) {
    let mut attaches = Vec::new();
    for change in &mut changes.changes {
        let Change::Table(TableChange::Create(t)) = change else { continue };
        let Some(p) = t.partition_of.clone() else { continue };
        let keys_taken = desired
            .indexes
            .values()
            .any(|i| i.table == p.parent && i.partitions.iter().any(|e| e.table == t.name && e.constraint));
        // Identity and generated columns of a partition come from its parent.
        let plain_columns = t.columns.values().all(|c| c.identity.is_none() && c.generated().is_none());
        let (Some(parent), true, true) = (desired.tables.get(&p.parent), keys_taken, plain_columns) else { continue };
        if !current.tables.contains_key(&p.parent) {
            continue;
        }
        for check in parent.constraints.values() {
            let inherited = check.kind == ConstraintKind::Check && !check.definition.contains(" NO INHERIT");
            if inherited && !t.constraints.contains_key(&check.name) {
                t.constraints.insert(check.name.clone(), check.clone());
            }
        }
        t.partition_of = None;
        attaches.push(Change::Partition(PartitionChange::Attach {
            table: t.name.clone(),
            parent: p.parent,
            bound: p.bound,
            checks: Vec::new(),
        }));
    }
    changes.changes.extend(attaches);
}

/// A partition's primary key or unique constraint whose index is attached to an index of the partitioned
/// table (not to a constraint of it) can be dropped neither before that index ("cannot drop index … because
/// index … requires it") nor after it ("constraint … depends on index …"). The index is dropped with
/// `CASCADE`, which takes exactly those constraints along (and what needs them, which the plan drops first):
/// their own drops leave the plan, and a constraint that the partition keeps is added again after it.
fn partition_keys_dropped_with_their_index(changes: &mut ChangeSet, desired: &Catalog) {
    let taken_along: indexmap::IndexSet<(QualifiedName, Name)> = changes
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Index(IndexChange::Drop(i)) => Some(i),
            _ => None,
        })
        .flat_map(|i| i.partitions.iter().filter(|p| p.constraint).map(|p| (p.table.clone(), p.name.name.clone())))
        .collect();
    if taken_along.is_empty() {
        return;
    }
    let mut added = indexmap::IndexSet::new();
    changes.changes.retain(|c| match c {
        Change::Constraint(ConstraintChange::Drop { table, constraint }) => {
            !taken_along.contains(&(table.clone(), constraint.name.clone()))
        }
        Change::Constraint(ConstraintChange::Add { table, constraint }) => {
            added.insert((table.clone(), constraint.name.clone()));
            true
        }
        _ => true,
    });
    for (table, name) in &taken_along {
        let kept = desired.tables.get(table).and_then(|t| t.constraints.get(name));
        if let (Some(constraint), false) = (kept, added.contains(&(table.clone(), name.clone()))) {
            changes.changes.push(Change::Constraint(ConstraintChange::Add {
                table: table.clone(),
                constraint: constraint.clone(),
            }));
        }
    }
}

/// Every (schema, name) taken in a catalog's namespace of relations: tables, views, sequences, indexes,
/// the indexes of primary key, unique and exclusion constraints, composite types.
fn relation_names(catalog: &Catalog) -> indexmap::IndexSet<(&str, &str)> {
    fn pair(n: &QualifiedName) -> (&str, &str) {
        (n.schema.as_str(), n.name.as_str())
    }
    let mut names: indexmap::IndexSet<(&str, &str)> = catalog
        .tables
        .keys()
        .chain(catalog.views.keys())
        .chain(catalog.sequences.keys())
        .chain(catalog.indexes.keys())
        .chain(catalog.composite_types.keys())
        .map(pair)
        .collect();
    for table in catalog.tables.values() {
        for c in table.constraints.values() {
            if matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion) {
                names.insert((table.name.schema.as_str(), c.name.as_str()));
            }
        }
    }
    names
}

/// A column of a type that belongs to an extension moved to another schema reads `ext.citext` instead of
/// `public.citext` on the other side, but `ALTER EXTENSION … SET SCHEMA` moves the type itself: the
/// column's type does not change. Such a change is taken out of the column's alterations (and the
/// alteration dropped when nothing else changes), instead of an `ALTER … TYPE` that would rewrite the
/// table and be reported as narrowing its type.
fn moved_extension_types(changes: &mut ChangeSet, current: &Catalog) {
    let moves: Vec<(&Extension, String)> = changes
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Extension(ExtensionChange::SetSchema { name, to, .. }) => {
                Some((current.extensions.get(name)?, to.clone()))
            }
            _ => None,
        })
        .collect();
    if moves.is_empty() {
        return;
    }
    // `schema.type` as format_type writes it: the schema quoted when it must be, so both forms are tried.
    let member = |data_type: &str, schema: &str, types: &[String]| -> Option<String> {
        let bare = data_type.trim_end_matches("[]");
        let name = [format!("{schema}."), format!("{}.", ident(schema))]
            .iter()
            .find_map(|prefix| bare.strip_prefix(prefix.as_str()))?
            .trim_matches('"')
            .to_string();
        types.contains(&name).then(|| format!("{name}{}", &data_type[bare.len()..]))
    };
    let same_type = |from: &Column, to: &Column| {
        moves.iter().any(|(extension, target)| {
            let before = member(&from.data_type, &extension.schema, &extension.types);
            before.is_some() && before == member(&to.data_type, target, &extension.types)
        })
    };
    changes.changes.retain_mut(|change| match change {
        Change::Column(ColumnChange::Alter { from, to, .. })
            if from.data_type != to.data_type && same_type(from, to) =>
        {
            to.data_type = from.data_type.clone();
            to.set_conversion(None::<&str>);
            !crate::diff::column_change_summary(from, to).is_empty()
        }
        _ => true,
    });
}
