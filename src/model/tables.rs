//! Tables: their columns, constraints, storage options and replica identity. Partitions and
//! inheritance children are tables too (see `partitions.rs` for what links them).

use super::{Column, Constraint, ConstraintCopy, Name, PartitionOf, QualifiedName};
use indexmap::IndexMap;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub name: QualifiedName,
    pub columns: IndexMap<Name, Column>,
    pub constraints: IndexMap<Name, Constraint>,
    pub comment: Option<String>,
    /// Options written after the column list, as the database spells them (SQLite: `WITHOUT ROWID`,
    /// `STRICT`); empty where a database has none.
    pub options: Vec<String>,
    /// `PARTITION BY` of a partitioned table, as the database spells it (`RANGE (created_at)`).
    pub partition_key: Option<String>,
    /// The table this one is a partition of, with its bound.
    /// Boxed: most tables are not partitions, and a [`crate::diff::Change`] holding two tables stays small.
    pub partition_of: Option<Box<PartitionOf>>,
    /// Storage parameters (`fillfactor`, autovacuum settings…) as (name, value), in catalog order.
    pub storage_parameters: Vec<(String, String)>,
    /// Not written to the write-ahead log (PostgreSQL `UNLOGGED`).
    pub unlogged: bool,
    /// What identifies a changed or deleted row to logical replication, when not the database's default
    /// (PostgreSQL: the primary key). `None` also where a database has no such setting (SQLite).
    pub replica_identity: Option<ReplicaIdentity>,
    /// Parents of plain table inheritance (PostgreSQL `INHERITS`), in the order the database keeps them.
    /// A partition names its parent in [`Table::partition_of`] instead.
    pub inherits: Box<[QualifiedName]>,
    /// On a partition: the constraints PostgreSQL keeps on it as copies of its parent's (checks, foreign
    /// keys, and the keys whose names it chose, `v2_pkey`), which are not in [`Table::constraints`]. Not
    /// compared; a partition that leaves its parent keeps them as its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<ConstraintCopy>,
}

impl Table {
    /// A plain table with nothing in it yet: no columns, constraints, options, partitioning, parents or
    /// comment. Readers and builders fill in what they find.
    pub fn new(name: QualifiedName) -> Table {
        Table {
            name,
            columns: IndexMap::new(),
            constraints: IndexMap::new(),
            comment: None,
            options: Vec::new(),
            partition_key: None,
            partition_of: None,
            storage_parameters: Vec::new(),
            unlogged: false,
            replica_identity: None,
            inherits: Box::default(),
            copies: Vec::new(),
        }
    }
}

/// A replica identity other than the default (PostgreSQL `ALTER TABLE … REPLICA IDENTITY`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ReplicaIdentity {
    /// Every column of the old row.
    Full,
    /// Nothing: UPDATE and DELETE cannot be published. Also what a table whose identity index was dropped
    /// behaves as.
    Nothing,
    /// The columns of this unique index (or of the primary key or unique constraint of this name), in the
    /// table's schema.
    Index(Name),
}
