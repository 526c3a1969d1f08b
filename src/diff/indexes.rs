//! Indexes: created, dropped, and recreated with a relation that is recreated.

use super::{Change, CommentTarget, comment, partitions::partition_below, tables::relation_survives};
use crate::model::*;
use indexmap::IndexSet;

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
            out.push(Change::DropIndex(on_parent_columns(current, have)));
        }
    }
    for (name, want) in &desired.indexes {
        let have = current.indexes.get(name);
        let rebuilt = have.is_none_or(|have| !same(have, want)) || recreated_relations.contains(&want.table);
        if rebuilt {
            out.push(Change::CreateIndex(on_parent_columns(desired, want)));
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
