//! What links a partition to its partitioned table, and the copies of a parent's constraints that a
//! detached partition keeps.

use super::{Name, QualifiedName};
use serde::Serialize;

/// A constraint of a partition that is the copy of one of its parent table's constraints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstraintCopy {
    /// Its name on the partition.
    pub name: Name,
    /// The name of the parent's constraint it copies.
    pub parent: Name,
    pub validated: bool,
}

/// Where a partition sits in its parent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionOf {
    pub parent: QualifiedName,
    /// The bound as the database renders it: `FOR VALUES FROM (1) TO (10)`, `DEFAULT`.
    pub bound: String,
}
