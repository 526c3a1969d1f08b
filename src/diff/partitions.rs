//! Partitions: what PostgreSQL keeps in step between a partitioned table and its partitions, and
//! what a partition keeps (copies of the parent's constraints and indexes) when it leaves.

use super::KindChange;
use super::constraints::constraint_needs;
use super::order::{Effects, Key, Rank};
use super::{
    Change,
    constraints::{same_constraint, strip_not_valid},
};
use super::{ColumnChange, ConstraintChange, IndexChange, TableChange};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// An existing table attached to or detached from a partitioned table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum PartitionChange {
    /// An existing table becomes a partition (or takes a new bound after a detach).
    #[serde(rename = "AttachPartition")]
    Attach {
        table: QualifiedName,
        parent: QualifiedName,
        bound: String,
        /// The parent's checks, which PostgreSQL requires the table to have (it merges them into the
        /// parent's): those it lacks, added to it first.
        checks: Vec<Constraint>,
    },
    /// A partition leaves its table. It keeps the copies of the table's constraints and indexes as its own
    /// ([`detached_copies`] drops those it does not declare).
    #[serde(rename = "DetachPartition")]
    Detach { table: QualifiedName, parent: QualifiedName, bound: String },
}
impl KindChange for PartitionChange {
    fn describe(&self) -> String {
        match self {
            PartitionChange::Attach { table, parent, .. } => {
                format!("attach partition {table} to {parent}")
            }
            PartitionChange::Detach { table, parent, .. } => {
                format!("detach partition {table} from {parent}")
            }
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            PartitionChange::Attach { table, parent, checks, .. } => {
                e.needs.push(Key::Relation(table));
                e.needs.push(Key::Relation(parent));
                e.provides.push(Key::PartitionSlot(parent));
                e.provides.push(Key::Attached(table));
                for check in checks {
                    e.provides.push(Key::Constraint(table, &check.name));
                    e.needs.extend(constraint_needs(table, check));
                }
            }
            PartitionChange::Detach { table, parent, .. } => {
                e.needs.push(Key::Relation(table));
                // After the parent is renamed aside (to be rebuilt), before its drop.
                e.needs.push(Key::Aside(parent));
                e.held.push(Key::Relation(parent));
                e.removes.push(Key::PartitionSlot(parent));
                e.provides.push(Key::Detached(table));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            PartitionChange::Detach { .. } => Rank::DropConstraints,
            PartitionChange::Attach { .. } => Rank::AddConstraints,
        }
    }

    /// The partition stays a table: what reads it still finds it.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

/// A partition's columns change through its parent, except NOT NULL, which a partition can have on its
/// own: its own primary key sets it, and it stays once that key is dropped. The parent's NOT NULL holds on
/// every partition, and dropping it there drops it on the partitions too (PostgreSQL carries it down): the
/// partition's NOT NULL is compared with what it has after the parent's change, which runs first.
pub(super) fn diff_partition_not_null(
    name: &QualifiedName,
    have: &Table,
    want: &Table,
    current: &Catalog,
    desired: &Catalog,
    out: &mut Vec<Change>,
) {
    let parent_not_null = |catalog: &Catalog, table: &Table, column: &str| {
        table
            .partition_of
            .as_ref()
            .and_then(|p| catalog.tables.get(&p.parent))
            .and_then(|p| p.columns.get(column))
            .map(|c| c.not_null)
    };
    for (column, wanted) in &want.columns {
        let Some(old) = have.columns.get(column) else { continue };
        if parent_not_null(desired, want, column) != Some(false) {
            continue;
        }
        let after_parent = old.not_null && parent_not_null(current, have, column) != Some(true);
        if after_parent == wanted.not_null {
            continue;
        }
        let mut from = old.clone();
        from.not_null = after_parent;
        let mut to = from.clone();
        to.not_null = wanted.not_null;
        // After the parent's change of the column.
        if let Some(p) = &want.partition_of {
            to.add_dependency(ObjectRef::Column(ColumnRef { table: p.parent.clone(), column: column.clone() }));
        }
        out.push(Change::Column(ColumnChange::Alter { table: name.clone(), from, to }));
    }
}

/// Whether `table` is a partition of `root`, directly or below one of its partitions.
pub(super) fn partition_below(catalog: &Catalog, table: &QualifiedName, root: &QualifiedName) -> bool {
    let mut at = table;
    // Partition trees have no cycles in a database; the bound only keeps bad input from looping.
    for _ in 0..64 {
        match catalog.tables.get(at).and_then(|t| t.partition_of.as_ref()) {
            Some(p) if &p.parent == root => return true,
            Some(p) => at = &p.parent,
            None => return false,
        }
    }
    false
}

/// A partition that leaves its parent keeps, as its own, what PostgreSQL copied onto it from the parent:
/// checks, foreign keys, primary key and unique constraints (under the names PostgreSQL chose) and indexes,
/// except those the plan drops from the parent first (the copies go with them). The ones the table
/// declares alike stay (they are not added again; a NOT VALID copy declared valid is validated), the others
/// are dropped after the detach. A table the plan drops takes them along.
pub(super) fn detached_copies(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let detached: Vec<(QualifiedName, QualifiedName)> = out
        .iter()
        .filter_map(|c| match c {
            Change::Partition(PartitionChange::Detach { table, parent, .. }) => Some((table.clone(), parent.clone())),
            _ => None,
        })
        .collect();
    for (name, parent) in detached {
        // A parent the plan drops loses its constraints and indexes before its partitions leave
        // ([`super::rebuild::release_detached_partitions`]), and the copies with them.
        if out.iter().any(|c| matches!(c, Change::Table(TableChange::Drop(t)) if t.name == parent)) {
            continue;
        }
        let (Some(have), Some(want)) = (current.tables.get(&name), desired.tables.get(&name)) else { continue };
        for copy in &have.copies {
            if have.constraints.contains_key(&copy.name) {
                continue;
            }
            let Some(original) = copied_constraint(current, &parent, &copy.parent, out, 0) else { continue };
            let mut kept = original.clone();
            kept.name = copy.name.clone();
            kept.comment = None;
            kept.validated = copy.validated;
            let definition = strip_not_valid(original);
            kept.definition =
                if copy.validated { definition.into() } else { format!("{definition} NOT VALID").into_boxed_str() };
            let added = |c: &Change| matches!(c, Change::Constraint(ConstraintChange::Add { table, constraint }) if *table == name && constraint.name == kept.name);
            match want.constraints.get(&kept.name) {
                Some(new) if same_constraint(&kept, new) => out.retain(|c| !added(c)),
                Some(new) if !kept.validated && new.validated && strip_not_valid(&kept) == &*new.definition => {
                    if let Some(at) = out.iter().position(added) {
                        out[at] = Change::Constraint(ConstraintChange::Validate {
                            table: name.clone(),
                            constraint: new.clone(),
                        });
                    }
                }
                _ => out.push(Change::Constraint(ConstraintChange::Drop { table: name.clone(), constraint: kept })),
            }
        }
        for copy in detached_index_copies(current, &name, out) {
            let created = |c: &Change| matches!(c, Change::Index(IndexChange::Create(i)) if i.name == copy.name);
            match desired.indexes.get(&copy.name) {
                Some(new) if new.table == name && new.unique == copy.unique && new.definition == copy.definition => {
                    out.retain(|c| !created(c))
                }
                _ => out.push(Change::Index(IndexChange::Drop(copy))),
            }
        }
    }
}

/// `ATTACH PARTITION` makes a table's own index that matches an index of the parent (the first by name,
/// where PostgreSQL takes the oldest) that index's copy instead of building one. Declared as the copy's
/// name, it is kept (not dropped and built again by the attach); declared as the table's own besides a copy
/// of another name, it takes the copy's name after the attach and is built again under its own.
pub(super) fn adopted_on_attach(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let attached: Vec<(QualifiedName, QualifiedName)> = out
        .iter()
        .filter_map(|c| match c {
            Change::Partition(PartitionChange::Attach { table, parent, .. }) => Some((table.clone(), parent.clone())),
            _ => None,
        })
        .collect();
    let dropped = |out: &[Change], name: &QualifiedName| {
        out.iter().any(|c| matches!(c, Change::Index(IndexChange::Drop(i)) if i.name == *name))
    };
    for (table, parent) in attached {
        if !current.tables.contains_key(&table) {
            continue;
        }
        for index in desired.indexes.values().filter(|i| i.table == parent) {
            let kept = current.indexes.get(&index.name).is_some_and(|have| {
                have.table == parent && have.unique == index.unique && have.definition == index.definition
            });
            let copy = index.partitions.iter().find(|p| p.table == table && p.depth == 1 && !p.constraint);
            let (true, Some(copy)) = (kept && !dropped(out, &index.name), copy) else { continue };
            let matching =
                |i: &&Index| i.table == table && i.unique == index.unique && i.definition == index.definition;
            if current.indexes.get(&copy.name).is_some_and(|own| matching(&own)) {
                out.retain(|c| !matches!(c, Change::Index(IndexChange::Drop(i)) if i.name == copy.name));
                continue;
            }
            let Some(own) = current.indexes.values().filter(matching).find(|i| !dropped(out, &i.name)) else {
                continue;
            };
            let Some(declared) = desired.indexes.get(&own.name).filter(|i| matching(i)) else { continue };
            out.push(Change::Index(IndexChange::Rename {
                table: table.clone(),
                from: own.name.clone(),
                to: copy.name.clone(),
            }));
            out.push(Change::Index(IndexChange::Create(declared.clone())));
        }
    }
}

/// A partition's copy of a `NOT VALID` check of its parent is valid where the partition was created after
/// the check (or validated on its own), and not valid where the check was added to the parent after it.
/// A copy the declared state has valid is validated on the partition (`ALTER TABLE … VALIDATE CONSTRAINT`
/// works on one partition) when it is not valid now or the plan adds the parent's check. (The other way
/// round, a valid copy cannot become not valid again, short of dropping the parent's check.)
pub(super) fn validate_check_copies(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let mut validations = Vec::new();
    for (name, want) in &desired.tables {
        let (Some(parent), Some(have)) = (want.partition_of.as_ref(), current.tables.get(name)) else { continue };
        if have.partition_of.as_ref().map(|p| &p.parent) != Some(&parent.parent) {
            continue;
        }
        let Some(parent_table) = desired.tables.get(&parent.parent) else { continue };
        for copy in want.copies.iter().filter(|c| c.validated) {
            let Some(check) = parent_table.constraints.get(&copy.parent) else { continue };
            if check.kind != ConstraintKind::Check || check.validated {
                continue;
            }
            let added = out.iter().any(|c| {
                matches!(c, Change::Constraint(ConstraintChange::Add { table, constraint }) if *table == parent.parent && constraint.name == check.name)
            });
            let invalid = have.copies.iter().any(|c| c.name == copy.name && !c.validated);
            if added || invalid {
                let mut valid = check.clone();
                valid.name = copy.name.clone();
                valid.validated = true;
                valid.definition = strip_not_valid(check).into();
                validations
                    .push(Change::Constraint(ConstraintChange::Validate { table: name.clone(), constraint: valid }));
            }
        }
    }
    out.extend(validations);
}

/// The constraint `name` of `table` that a partition's copy copies, when the plan does not drop it (or,
/// for a copy on a partition of a partition, the one it copies in turn).
fn copied_constraint<'a>(
    current: &'a Catalog,
    table: &QualifiedName,
    name: &Name,
    out: &[Change],
    depth: usize,
) -> Option<&'a Constraint> {
    let dropped = out.iter().any(
        |c| matches!(c, Change::Constraint(ConstraintChange::Drop { table: t, constraint }) if t == table && constraint.name == *name),
    );
    let have = current.tables.get(table)?;
    if dropped || depth > 64 {
        return None;
    }
    if let Some(own) = have.constraints.get(name) {
        return Some(own);
    }
    let copy = have.copies.iter().find(|c| c.name == *name)?;
    copied_constraint(current, &have.partition_of.as_ref()?.parent, &copy.parent, out, depth + 1)
}

/// The indexes of `table` attached to an index of the table it leaves, which the plan does not drop, as
/// indexes of their own (with the indexes of its partitions attached to them). The indexes of the
/// partition's own keys stay with those keys.
fn detached_index_copies(current: &Catalog, table: &QualifiedName, out: &[Change]) -> Vec<Index> {
    let mut copies = Vec::new();
    for root in current.indexes.values() {
        if out.iter().any(|c| matches!(c, Change::Index(IndexChange::Drop(i)) if i.name == root.name)) {
            continue;
        }
        for attached in root.partitions.iter().filter(|p| &p.table == table && !p.constraint) {
            let mut below = Vec::new();
            let mut parents = vec![&attached.name];
            for p in root.partitions.iter().filter(|p| p.depth > attached.depth) {
                if parents.contains(&&p.parent) {
                    parents.push(&p.name);
                    below.push(PartitionIndex { depth: p.depth - attached.depth, ..p.clone() });
                }
            }
            copies.push(Index {
                name: attached.name.clone(),
                table: table.clone(),
                unique: root.unique,
                definition: root.definition.clone(),
                columns: root.columns.clone(),
                comment: None,
                depends_on: root.depends_on.clone(),
                partitions: below,
            });
        }
    }
    copies
}
