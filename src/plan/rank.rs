//! Ranks: the order in which changes that do not depend on each other run. Dependencies decide the order
//! wherever they exist ([`super::order`]); ranks only break ties, so that the same input always gives
//! the same plan, in the order a person would write it: what depends on other objects is released
//! first, then objects are dropped from the inside out and created from the outside in (schemas,
//! types, tables, columns, constraints, indexes, views), comments, grants and owners last.

use crate::diff::order::Rank;
use crate::diff::{Change, KindChange};

/// The rank of one change. One exhaustive match: a new kind of change must be given its place (the kinds
/// with their own change enum give theirs in their file, [`KindChange::rank`]).
pub(super) fn rank(change: &Change) -> Rank {
    use Rank::*;
    match change {
        Change::DropConstraint { .. } | Change::NoInherit { .. } | Change::DetachPartition { .. } => DropConstraints,
        Change::DropIndex(_) => DropIndexes,
        Change::DropColumn { .. } | Change::DropColumnKeptByChildren { .. } => DropColumns,
        Change::DropTable(_) => DropTables,
        Change::RenameTable { .. } | Change::SetAside { .. } => RenameRelations,
        Change::RenameColumn { .. } | Change::RenameConstraint { .. } | Change::RenameIndex { .. } => RenameMembers,
        Change::CreateTable(_) => CreateTables,
        Change::AddColumn { .. } => AddColumns,
        Change::AlterColumn { .. }
        | Change::RebuildTable { .. }
        | Change::SetStorageParameters { .. }
        | Change::SetUnlogged { .. } => AlterColumns,
        Change::AddConstraint { .. }
        | Change::ValidateConstraint { .. }
        | Change::CopyRows { .. }
        | Change::Inherit { .. }
        | Change::AttachPartition { .. } => AddConstraints,
        Change::CreateIndex(_) => CreateIndexes,
        Change::SetReplicaIdentity { .. } => CreateViews,
        Change::Trigger(c) => c.rank(),
        Change::Policy(c) => c.rank(),
        Change::Comment(c) => c.rank(),
        Change::Privilege(c) => c.rank(),
        Change::Function(c) => c.rank(),
        Change::View(c) => c.rank(),
        Change::Sequence(c) => c.rank(),
        Change::Enum(c) => c.rank(),
        Change::Domain(c) => c.rank(),
        Change::CompositeType(c) => c.rank(),
        Change::RangeType(c) => c.rank(),
        Change::Extension(c) => c.rank(),
        Change::Schema(c) => c.rank(),
        Change::Collation(c) => c.rank(),
    }
}
