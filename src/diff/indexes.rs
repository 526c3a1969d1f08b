//! Indexes: created, dropped, and recreated with a relation that is recreated.

use super::KindChange;
use super::order::{Effects, Key, Rank, column_keys, ref_key, relation_name, sorted};
use super::{Change, CommentTarget, comment, partitions::partition_below, tables::relation_survives};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A change of one index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum IndexChange {
    /// An index whose definition stays and whose name changes (in its schema).
    #[serde(rename = "RenameIndex")]
    Rename {
        table: QualifiedName,
        from: QualifiedName,
        /// In the same schema.
        to: QualifiedName,
    },
    #[serde(rename = "CreateIndex")]
    Create(Index),
    #[serde(rename = "DropIndex")]
    Drop(Index),
}
impl KindChange for IndexChange {
    fn describe(&self) -> String {
        match self {
            IndexChange::Rename { from, to, .. } => format!("rename index {from} to {}", to.name),
            IndexChange::Create(i) => format!("create index {}", i.name),
            IndexChange::Drop(i) => format!("drop index {}", i.name),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            IndexChange::Rename { table, from, to } => {
                // An index a table's attach made its parent's copy takes that copy's name after the attach.
                e.needs.push(Key::Attached(table));
                e.removes.push(Key::Index(from));
                e.removes.push(relation_name(from));
                e.provides.push(Key::Index(to));
                e.provides.push(relation_name(to));
                e.needs.push(Key::Relation(table));
                e.held.push(Key::Relation(table));
            }
            IndexChange::Create(i) => {
                e.provides.push(Key::Index(&i.name));
                e.provides.push(relation_name(&i.name));
                // The indexes it gets on the partitions take their names too, once the partitions exist; the
                // index of a partition's constraint comes with that constraint, and is attached.
                for p in &i.partitions {
                    e.needs.push(Key::Relation(&p.table));
                    if p.constraint {
                        e.needs.push(Key::Constraint(&p.table, &p.name.name));
                    } else {
                        e.provides.push(relation_name(&p.name));
                    }
                }
                if i.unique {
                    e.provides.push(Key::UniqueColumns(&i.table, sorted(&i.columns)));
                }
                e.needs.push(Key::Relation(&i.table));
                e.needs.push(Key::Rows(&i.table));
                e.needs.extend(column_keys(&i.table, &i.columns));
                e.needs.extend(i.depends_on.iter().map(ref_key));
            }
            IndexChange::Drop(i) => {
                e.needs.push(Key::Relation(&i.table));
                // Before a partition leaves the table: it would keep a copy of the index (and after this table
                // left its own, as above for constraints).
                e.held.push(Key::PartitionSlot(&i.table));
                e.needs.push(Key::Detached(&i.table));
                e.removes.push(Key::Index(&i.name));
                e.removes.push(relation_name(&i.name));
                e.removes.extend(i.partitions.iter().map(|p| relation_name(&p.name)));
                // A partition's constraint whose index is attached to it can go neither first nor after: the drop
                // takes it along (`CASCADE`), and a constraint the partition keeps is added again after it.
                e.removes.extend(
                    i.partitions.iter().filter(|p| p.constraint).map(|p| Key::Constraint(&p.table, &p.name.name)),
                );
                if i.unique {
                    e.removes.push(Key::UniqueColumns(&i.table, sorted(&i.columns)));
                }
                e.held.extend(column_keys(&i.table, &i.columns));
                e.held.extend(i.depends_on.iter().map(ref_key));
            }
        }
        e
    }

    fn slug(&self) -> String {
        match self {
            IndexChange::Rename { to, .. } => format!("rename_{}", to.name),
            IndexChange::Create(i) => format!("add_{}", i.name.name),
            IndexChange::Drop(i) => format!("drop_{}", i.name.name),
        }
    }

    fn rank(&self) -> Rank {
        match self {
            IndexChange::Drop(_) => Rank::DropIndexes,
            IndexChange::Rename { .. } => Rank::RenameMembers,
            IndexChange::Create(_) => Rank::CreateIndexes,
        }
    }

    /// No dependant reads an index by name.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

pub(super) fn diff(
    current: &Catalog,
    desired: &Catalog,
    recreated_relations: &IndexSet<QualifiedName>,
    out: &mut Vec<Change>,
) {
    let relation_survives = |table: &QualifiedName| relation_survives(desired, recreated_relations, table);
    // On the partitions that are partitions on both sides, a partitioned index has the same indexes
    // attached (an index created `ON ONLY` and not attached everywhere yet is invalid; an attached index
    // has its name). Partitions created, attached or detached by the plan get theirs from PostgreSQL.
    // (A partition below one that leaves the table stays a partition, but not of this table.)
    let partition_on_both = |table: &QualifiedName, root: &QualifiedName| {
        [current, desired].iter().all(|c| partition_below(c, table, root))
    };
    let attached = |i: &Index| -> IndexSet<(QualifiedName, QualifiedName, bool)> {
        i.partitions
            .iter()
            .filter(|p| partition_on_both(&p.table, &i.table))
            .map(|p| (p.table.clone(), p.name.clone(), p.constraint))
            .collect()
    };
    let same = |a: &Index, b: &Index| {
        a.table == b.table
            && a.unique == b.unique
            && a.definition == b.definition
            && (a.partitions.is_empty() && b.partitions.is_empty() || attached(a) == attached(b))
    };
    // An index of a partition that a new index of its parent table takes as its own is attached to it, not
    // dropped and built again.
    let adopted: IndexSet<&QualifiedName> = desired
        .indexes
        .values()
        .filter(|want| current.indexes.get(&want.name).is_none_or(|have| !same(have, want)))
        .flat_map(|want| {
            want.partitions.iter().filter(move |p| {
                current.indexes.get(&p.name).is_some_and(|have| {
                    have.table == p.table && have.unique == want.unique && have.definition == want.definition
                })
            })
        })
        .map(|p| &p.name)
        .collect();
    for (name, have) in &current.indexes {
        let keep = desired.indexes.get(name).is_some_and(|want| same(have, want))
            || (!desired.indexes.contains_key(name) && adopted.contains(name));
        // Indexes of dropped or recreated relations go away with them.
        if !keep && relation_survives(&have.table) {
            out.push(Change::Index(IndexChange::Drop(on_parent_columns(current, have))));
        }
    }
    for (name, want) in &desired.indexes {
        let have = current.indexes.get(name);
        let rebuilt = have.is_none_or(|have| !same(have, want)) || recreated_relations.contains(&want.table);
        if rebuilt {
            out.push(Change::Index(IndexChange::Create(on_parent_columns(desired, want))));
        }
        let old_comment = if rebuilt { None } else { have.and_then(|h| h.comment.clone()) };
        if old_comment != want.comment {
            out.push(comment(CommentTarget::Index(name.clone()), &want.comment));
        }
    }
}

/// An index of a partition reads columns that are its parent's (added, dropped and changed there, and by
/// PostgreSQL on the partitions): it needs them too, so that it is dropped before and created after them.
fn on_parent_columns(catalog: &Catalog, index: &Index) -> Index {
    let mut index = index.clone();
    let mut table = catalog.tables.get(&index.table);
    while let Some(parent) = table.and_then(|t| t.partition_of.as_ref()).map(|p| &p.parent) {
        for column in &index.columns {
            index.depends_on.push(ObjectRef::Column(ColumnRef { table: parent.clone(), column: column.clone() }));
        }
        table = catalog.tables.get(parent);
    }
    index
}
