//! Tables that no `ALTER TABLE` can take to their declared state: a partition key that changes, a table
//! that becomes partitioned or stops being so (a partition that gets partitions of its own included).
//! Such a table is rebuilt with its rows, as SQLite rebuilds its tables, but from ordinary changes:
//!
//! 1. the old table is renamed aside (`schema_old_<name>`, [`TableChange::SetAside`]), with the partitions that go with it (those the
//!    schema files declare under the same parent, or not at all), and detached from its own parent if it
//!    is a partition; the names of its indexes and keys that the declared schema uses are moved aside too;
//! 2. the rest of the diff then sees a new table (created as declared, with its partitions, indexes, keys,
//!    triggers, policies, grants and comments), the foreign keys and views of other objects pointing at a
//!    table that goes away (dropped and created again on the new one), serial sequences changing owner,
//!    and an old table to drop;
//! 3. [`TableChange::CopyRows`] copies the rows between the two: after the new table and its partitions exist
//!    (and after partitions that stay tables of their own have left the old one), before what should not
//!    see or slow down the copy (triggers, row-level security, indexes built apart, foreign keys,
//!    materialized views), and before the old table is dropped.
//!
//! The planner orders all of it from each change's effects; a row that fits none of the new partitions
//! makes the copy, and so the whole migration's transaction, fail.

use super::{Change, renames::rekey};
use super::{ConstraintChange, IndexChange, PartitionChange, TableChange};
use crate::model::*;
use indexmap::IndexSet;
use std::borrow::Cow;

/// Renames aside every table the diff must rebuild, in a copy of `current`, and records the changes of
/// step 1 and the copies of step 3. Without any, `current` is returned as it is.
pub(super) fn apply<'a>(current: Cow<'a, Catalog>, desired: &Catalog, out: &mut Vec<Change>) -> Cow<'a, Catalog> {
    let roots = roots(&current, desired);
    if roots.is_empty() {
        return current;
    }
    let mut catalog = current.into_owned();
    let mut taken = relation_names(&catalog);
    taken.extend(relation_names(desired));
    let declared_names = relation_names(desired);
    let mut done: IndexSet<QualifiedName> = IndexSet::new();
    for root in roots {
        if done.contains(&root) {
            continue;
        }
        let old_tree = going_with(&catalog, desired, &root);
        done.extend(old_tree.iter().cloned());
        let mut aside_tree = Vec::with_capacity(old_tree.len());
        for name in &old_tree {
            let aside = free_name(&name.schema, &name.name, &mut taken);
            out.push(Change::Table(TableChange::SetAside { from: name.clone(), to: aside.clone() }));
            super::renames::rename_table_in(&mut catalog, name, &aside);
            aside_tree.push(aside);
        }
        let root_aside = &aside_tree[0];
        // A partition's bound is taken by its new self: the old one leaves its parent first.
        if let Some(table) = catalog.tables.get_mut(root_aside)
            && let Some(parent) = table.partition_of.take()
        {
            out.push(Change::Partition(PartitionChange::Detach {
                table: root_aside.clone(),
                parent: parent.parent,
                bound: parent.bound,
            }));
        }
        move_names_aside(&mut catalog, &aside_tree, &declared_names, &mut taken, out);
        let row_security = catalog.row_security.get(root_aside).copied().unwrap_or_default();
        out.push(Change::Table(TableChange::CopyRows {
            from: catalog.tables[root_aside].clone(),
            to: desired.tables[&root].clone(),
            old_tree: aside_tree.clone(),
            new_tree: declared_tree(desired, &root),
            old_row_security: row_security.enabled || row_security.forced,
        }));
    }
    let aside: IndexSet<QualifiedName> = out
        .iter()
        .filter_map(|c| match c {
            Change::Table(TableChange::CopyRows { old_tree, .. }) => Some(old_tree.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    release_foreign_keys(&mut catalog, &aside, out);
    Cow::Owned(catalog)
}

/// A foreign key of another table follows the old table when it is renamed aside (PostgreSQL binds it to
/// the table, not its name), and would keep it from being dropped: it is dropped first, and the ordinary
/// diff adds the declared one to the new table.
fn release_foreign_keys(catalog: &mut Catalog, aside: &IndexSet<QualifiedName>, out: &mut Vec<Change>) {
    for (name, table) in catalog.tables.iter_mut() {
        if aside.contains(name) {
            continue;
        }
        table.constraints.retain(|_, constraint| {
            let follows = constraint.references.as_ref().is_some_and(|r| aside.contains(&r.table));
            if follows {
                out.push(Change::Constraint(ConstraintChange::Drop {
                    table: name.clone(),
                    constraint: constraint.clone(),
                }));
            }
            !follows
        });
    }
}

/// The old partitions of a rebuilt table go with it when it is dropped: a drop of their own would empty
/// them before the copy reads them, and they have nothing to lose once it has.
pub(super) fn fold_partition_drops(out: &mut Vec<Change>) {
    let partitions: IndexSet<QualifiedName> = out
        .iter()
        .filter_map(|c| match c {
            Change::Table(TableChange::CopyRows { old_tree, .. }) => Some(old_tree.iter().skip(1).cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    if !partitions.is_empty() {
        out.retain(|c| !matches!(c, Change::Table(TableChange::Drop(t)) if partitions.contains(&t.name)));
    }
}

/// A partition detached from a table that the plan drops (a table rebuilt, or one dropped and created
/// under another name) would keep what PostgreSQL copied onto it from that table: its foreign keys, checks,
/// keys and indexes, the foreign keys still pointing at the dropped table's partner and blocking its drop.
/// Those of the dropped table are dropped first, which takes the copies along (the planner puts a
/// parent's dropped constraints and indexes before its partitions leave).
pub(super) fn release_detached_partitions(current: &Catalog, out: &mut Vec<Change>) {
    let dropped: IndexSet<&QualifiedName> = out
        .iter()
        .filter_map(|c| match c {
            Change::Table(TableChange::Drop(t)) => Some(&t.name),
            _ => None,
        })
        .collect();
    let parents: IndexSet<QualifiedName> = out
        .iter()
        .filter_map(|c| match c {
            Change::Partition(PartitionChange::Detach { parent, .. }) if dropped.contains(parent) => {
                Some(parent.clone())
            }
            _ => None,
        })
        .collect();
    if parents.is_empty() {
        return;
    }
    let mut extra = Vec::new();
    for parent in &parents {
        let Some(table) = current.tables.get(parent) else { continue };
        for constraint in table.constraints.values() {
            let gone = out.iter().any(|c| {
                matches!(c, Change::Constraint(ConstraintChange::Drop { table, constraint: d }) if table == parent && d.name == constraint.name)
            });
            if gone {
                continue;
            }
            // A name moved aside ([`move_names_aside`]) is dropped instead, under its own name.
            let mut constraint = constraint.clone();
            if let Some(at) = out.iter().position(|c| {
                matches!(c, Change::Constraint(ConstraintChange::Rename { table, to, .. }) if table == parent && *to == constraint.name)
            }) && let Change::Constraint(ConstraintChange::Rename { from, .. }) = out.remove(at)
            {
                constraint.name = from.into();
            }
            extra.push(Change::Constraint(ConstraintChange::Drop { table: parent.clone(), constraint }));
        }
        for index in current.indexes.values().filter(|i| &i.table == parent) {
            if out.iter().any(|c| matches!(c, Change::Index(IndexChange::Drop(i)) if i.name == index.name)) {
                continue;
            }
            let mut index = index.clone();
            if let Some(at) =
                out.iter().position(|c| matches!(c, Change::Index(IndexChange::Rename { to, .. }) if *to == index.name))
                && let Change::Index(IndexChange::Rename { from, .. }) = out.remove(at)
            {
                index.name = from;
            }
            extra.push(Change::Index(IndexChange::Drop(index)));
        }
    }
    out.extend(extra);
}

/// The tables on both sides whose partition key differs, parents before their partitions.
fn roots(current: &Catalog, desired: &Catalog) -> Vec<QualifiedName> {
    let mut roots: Vec<(usize, QualifiedName)> = current
        .tables
        .iter()
        .filter(|(name, have)| desired.tables.get(*name).is_some_and(|want| want.partition_key != have.partition_key))
        .map(|(name, _)| (depth(current, name), name.clone()))
        .collect();
    roots.sort_by_key(|(depth, _)| *depth);
    roots.into_iter().map(|(_, name)| name).collect()
}

/// How many parents a table has above it.
fn depth(catalog: &Catalog, name: &QualifiedName) -> usize {
    let mut depth = 0;
    let mut at = name;
    while let Some(parent) = catalog.tables.get(at).and_then(|t| t.partition_of.as_ref()) {
        depth += 1;
        at = &parent.parent;
        if depth > catalog.tables.len() {
            break;
        }
    }
    depth
}

/// `root` and the partitions below it that are rebuilt with it, parents first: those the schema files
/// declare as partitions of the same parent, or do not declare. The others stay tables of their own and
/// are detached by the ordinary diff.
fn going_with(catalog: &Catalog, desired: &Catalog, root: &QualifiedName) -> Vec<QualifiedName> {
    let mut tree = vec![root.clone()];
    let mut at = 0;
    while at < tree.len() {
        let parent = tree[at].clone();
        for (name, table) in &catalog.tables {
            if table.partition_of.as_ref().is_none_or(|p| p.parent != parent) || tree.contains(name) {
                continue;
            }
            let goes = desired
                .tables
                .get(name)
                .is_none_or(|want| want.partition_of.as_ref().is_some_and(|p| p.parent == parent));
            if goes {
                tree.push(name.clone());
            }
        }
        at += 1;
    }
    tree
}

/// `root` and its declared partitions at every level, parents first.
fn declared_tree(desired: &Catalog, root: &QualifiedName) -> Vec<QualifiedName> {
    let mut tree = vec![root.clone()];
    let mut at = 0;
    while at < tree.len() {
        let parent = tree[at].clone();
        for (name, table) in &desired.tables {
            if table.partition_of.as_ref().is_some_and(|p| p.parent == parent) && !tree.contains(name) {
                tree.push(name.clone());
            }
        }
        at += 1;
    }
    tree
}

/// The indexes and keys of the tables renamed aside whose names the declared schema gives to an object
/// (most often the same index or key of the new table): renamed aside too, on the old table, which
/// takes them along when it is dropped.
fn move_names_aside(
    catalog: &mut Catalog,
    tables: &[QualifiedName],
    declared: &IndexSet<(String, String)>,
    taken: &mut IndexSet<(String, String)>,
    out: &mut Vec<Change>,
) {
    for table_name in tables {
        let Some(table) = catalog.tables.get_mut(table_name) else { continue };
        let keys: Vec<Name> = table
            .constraints
            .values()
            .filter(|c| has_index(c) && declared.contains(&(table_name.schema.to_string(), c.name.to_string())))
            .map(|c| c.name.clone())
            .collect();
        for key in keys {
            let aside = free_name(&table_name.schema, &key, taken);
            if let Some(constraint) = rekey(&mut table.constraints, &key, aside.name.clone()) {
                constraint.name = aside.name.clone();
            }
            out.push(Change::Constraint(ConstraintChange::Rename {
                table: table_name.clone(),
                from: key.to_string(),
                to: aside.name.to_string(),
            }));
        }
    }
    let indexes: Vec<QualifiedName> = catalog
        .indexes
        .values()
        .filter(|i| {
            tables.contains(&i.table) && declared.contains(&(i.name.schema.to_string(), i.name.name.to_string()))
        })
        .map(|i| i.name.clone())
        .collect();
    for name in indexes {
        let aside = free_name(&name.schema, &name.name, taken);
        if let Some(index) = rekey(&mut catalog.indexes, &name, aside.clone()) {
            index.name = aside.clone();
            out.push(Change::Index(IndexChange::Rename { table: index.table.clone(), from: name, to: aside }));
        }
    }
}

fn has_index(c: &Constraint) -> bool {
    matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion)
}

/// `schema_old_<name>` (cut to PostgreSQL's 63 bytes), or with a number after it, that no relation of
/// either side has; taken from then on.
fn free_name(schema: &str, name: &str, taken: &mut IndexSet<(String, String)>) -> QualifiedName {
    let mut candidate = crate::model::helper_name("schema_old_", name);
    let mut n = 1;
    while taken.contains(&(schema.to_string(), candidate.clone())) {
        n += 1;
        let suffix = format!("_{n}");
        candidate = crate::model::helper_name("schema_old_", name);
        while candidate.len() + suffix.len() > 63 {
            candidate.pop();
        }
        candidate.push_str(&suffix);
    }
    taken.insert((schema.to_string(), candidate.clone()));
    QualifiedName::new(schema, candidate)
}

/// Every (schema, name) in a catalog's namespace of relations: tables, views, sequences, indexes, the
/// indexes of primary key, unique and exclusion constraints, composite types.
fn relation_names(catalog: &Catalog) -> IndexSet<(String, String)> {
    let pair = |n: &QualifiedName| (n.schema.to_string(), n.name.to_string());
    let mut names: IndexSet<(String, String)> = catalog
        .tables
        .keys()
        .chain(catalog.views.keys())
        .chain(catalog.sequences.keys())
        .chain(catalog.indexes.keys())
        .chain(catalog.composite_types.keys())
        .map(pair)
        .collect();
    for table in catalog.tables.values() {
        for c in table.constraints.values().filter(|c| has_index(c)) {
            names.insert((table.name.schema.to_string(), c.name.to_string()));
        }
    }
    names
}
