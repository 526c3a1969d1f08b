//! Indexes, and the indexes a partitioned table's index has on each partition.

use super::{Name, ObjectRef, QualifiedName};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Index {
    pub name: QualifiedName,
    /// The table or materialized view the index is on.
    pub table: QualifiedName,
    pub unique: bool,
    /// Everything after `USING`: method, keys with opclass and ordering, INCLUDE, WITH, WHERE.
    pub definition: String,
    /// Columns the index reads (keys, expressions and predicate).
    pub columns: Vec<Name>,
    pub comment: Option<String>,
    /// Functions its expressions call.
    pub depends_on: Vec<ObjectRef>,
    /// On a partitioned table: the indexes attached to it on the partitions (and theirs on sub-partitions),
    /// shallowest first. Not compared: PostgreSQL creates them with the parent index. They give the online
    /// form, which builds each one on its own, the names to build.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionIndex>,
}

/// An index of a partition attached to an index of its parent table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionIndex {
    /// The index, in its table's schema.
    pub name: QualifiedName,
    /// The partition it is on.
    pub table: QualifiedName,
    /// The index it is attached to: the partitioned index, or the one of a sub-partitioned table between.
    pub parent: QualifiedName,
    /// Whether the partition holds rows (it is not partitioned itself).
    pub leaf: bool,
    /// Levels below the partitioned index (1: on a partition of its table).
    pub depth: u32,
    /// Whether it is the index of the partition's own primary key, unique or exclusion constraint, which
    /// comes with that constraint.
    pub constraint: bool,
}
