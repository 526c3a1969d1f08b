//! Indexes: created (on a partitioned table, on the parent alone and on each partition, then attached, so
//! that the partitions' indexes get their declared names), dropped and renamed. The definition after
//! `USING` is PostgreSQL's own (`pg_get_indexdef`).

use super::locking;
use super::{ident, qualified};
use crate::diff::IndexChange;
use crate::model::*;
use crate::plan::Statement;

pub(super) fn render(change: &IndexChange) -> Vec<Statement> {
    match change {
        IndexChange::Create(i) => locking(create(i)),
        IndexChange::Drop(i) => locking(drop(i)),
        IndexChange::Rename { from, to, .. } => locking(rename(from, to)),
    }
}

pub(super) fn create(i: &Index) -> Vec<String> {
    if !i.partitions.is_empty() {
        return partitioned_index(i);
    }
    vec![format!(
        "CREATE {}INDEX {} ON {} USING {};",
        if i.unique { "UNIQUE " } else { "" },
        ident(&i.name.name),
        qualified(&i.table),
        i.definition
    )]
}

pub(super) fn drop(i: &Index) -> Vec<String> {
    // The constraints of partitions whose indexes are attached to it go with it: PostgreSQL refuses to drop
    // either first (see `partition_keys_dropped_with_their_index`).
    if i.partitions.iter().any(|p| p.constraint) {
        return vec![format!("DROP INDEX {} CASCADE;", qualified(&i.name))];
    }
    vec![format!("DROP INDEX {};", qualified(&i.name))]
}

pub(super) fn rename(from: &QualifiedName, to: &QualifiedName) -> Vec<String> {
    vec![format!("ALTER INDEX {} RENAME TO {};", qualified(from), ident(&to.name))]
}

/// An index of a partitioned table with the names its partitions' indexes have: created on the parent
/// alone (`ON ONLY`), on each partition unless the partition has it already (an index of the same name, left
/// in place by the plan because it is the same; the index of the partition's own key), then attached from
/// the deepest level up. (`CREATE INDEX` on the parent would name them itself.)
fn partitioned_index(i: &Index) -> Vec<String> {
    let unique = if i.unique { "UNIQUE " } else { "" };
    let mut sql = vec![format!(
        "CREATE {unique}INDEX {} ON ONLY {} USING {};",
        ident(&i.name.name),
        qualified(&i.table),
        i.definition
    )];
    for p in i.partitions.iter().filter(|p| !p.constraint) {
        let only = if p.leaf { "" } else { "ONLY " };
        sql.push(format!(
            "CREATE {unique}INDEX IF NOT EXISTS {} ON {only}{} USING {};",
            ident(&p.name.name),
            qualified(&p.table),
            i.definition
        ));
    }
    let mut attach: Vec<&PartitionIndex> = i.partitions.iter().collect();
    attach.sort_by_key(|p| std::cmp::Reverse(p.depth));
    sql.extend(
        attach.iter().map(|p| format!("ALTER INDEX {} ATTACH PARTITION {};", qualified(&p.parent), qualified(&p.name))),
    );
    sql
}
