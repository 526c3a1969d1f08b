//! Ranks: the order in which changes that do not depend on each other run. Dependencies decide the order
//! wherever they exist ([`super::order`]); ranks only break ties, so that the same input always gives
//! the same plan, in the order a person would write it: what depends on other objects is released
//! first, then objects are dropped from the inside out and created from the outside in (schemas,
//! types, tables, columns, constraints, indexes, views), comments, grants and owners last.

use crate::diff::Change;

/// A change's place among the changes that are free to run; lower ranks run first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Rank {
    /// Views, triggers, policies and privileges that hold on to what later steps change or drop.
    ReleaseDependants,
    /// Constraints, inheritance links and partitions let go of their tables.
    DropConstraints,
    DropIndexes,
    /// Sequences stop being owned by the columns about to go.
    ReleaseSequences,
    DropColumns,
    DropTables,
    /// Sequences, and functions (after the tables they may read, which a body in a string does not
    /// record).
    DropSequencesAndRoutines,
    DropTypes,
    DropExtensionsAndCollations,
    DropSchemas,
    /// Schemas, and default privileges (before the objects they apply to are created).
    CreateSchemas,
    CreateExtensionsAndCollations,
    CreateTypes,
    CreateSequences,
    RenameRelations,
    /// Columns, constraints, indexes and sequences.
    RenameMembers,
    CreateTables,
    AddColumns,
    /// Column changes, rebuilt tables, table settings, and functions (which may read the new columns).
    AlterColumns,
    /// Constraints and their validation, copied rows, inheritance and attached partitions.
    AddConstraints,
    CreateIndexes,
    /// Views, and replica identities (onto an index once it is built).
    CreateViews,
    CreateTriggersAndPolicies,
    CommentsAndGrants,
    /// After the grants, which the old owner may be the one allowed to give.
    Owners,
}

/// The rank of one change. One exhaustive match: a new kind of change must be given its place.
pub(super) fn rank(change: &Change) -> Rank {
    use Rank::*;
    match change {
        Change::DropView(_) | Change::DropTrigger(_) | Change::DropPolicy(_) | Change::RevokePrivilege(_) => {
            ReleaseDependants
        }
        Change::DropConstraint { .. } | Change::NoInherit { .. } | Change::DetachPartition { .. } => DropConstraints,
        Change::DropIndex(_) => DropIndexes,
        Change::SetSequenceOwner { .. } => ReleaseSequences,
        Change::DropColumn { .. } | Change::DropColumnKeptByChildren { .. } => DropColumns,
        Change::DropTable(_) => DropTables,
        Change::DropSequence(_) | Change::DropFunction(_) => DropSequencesAndRoutines,
        Change::DropEnum(_) | Change::DropDomain(_) | Change::DropCompositeType(_) | Change::DropRangeType(_) => {
            DropTypes
        }
        Change::DropExtension(_) | Change::DropCollation(_) => DropExtensionsAndCollations,
        Change::DropSchema(_) => DropSchemas,
        Change::CreateSchema(_) | Change::GrantDefaultPrivilege { .. } | Change::RevokeDefaultPrivilege { .. } => {
            CreateSchemas
        }
        Change::CreateExtension(_)
        | Change::CreateCollation(_)
        | Change::AlterExtensionVersion { .. }
        | Change::SetExtensionSchema { .. } => CreateExtensionsAndCollations,
        Change::CreateEnum(_)
        | Change::AddEnumValue { .. }
        | Change::RebuildEnum { .. }
        | Change::CreateDomain(_)
        | Change::AlterDomain { .. }
        | Change::CreateCompositeType(_)
        | Change::AlterCompositeType { .. }
        | Change::CreateRangeType(_) => CreateTypes,
        Change::CreateSequence(_) | Change::AlterSequence { .. } => CreateSequences,
        Change::RenameTable { .. } | Change::SetAside { .. } => RenameRelations,
        Change::RenameColumn { .. }
        | Change::RenameConstraint { .. }
        | Change::RenameIndex { .. }
        | Change::RenameSequence { .. } => RenameMembers,
        Change::CreateTable(_) => CreateTables,
        Change::AddColumn { .. } => AddColumns,
        Change::AlterColumn { .. }
        | Change::RebuildTable { .. }
        | Change::SetStorageParameters { .. }
        | Change::SetUnlogged { .. }
        | Change::CreateFunction(_)
        | Change::ReplaceFunction { .. } => AlterColumns,
        Change::AddConstraint { .. }
        | Change::ValidateConstraint { .. }
        | Change::CopyRows { .. }
        | Change::Inherit { .. }
        | Change::AttachPartition { .. } => AddConstraints,
        Change::CreateIndex(_) => CreateIndexes,
        Change::CreateView(_) | Change::SetReplicaIdentity { .. } => CreateViews,
        Change::CreateTrigger(_)
        | Change::CreatePolicy(_)
        | Change::AlterPolicy { .. }
        | Change::SetRowSecurity { .. } => CreateTriggersAndPolicies,
        Change::SetComment { .. } | Change::GrantPrivilege(_) => CommentsAndGrants,
        Change::SetOwner { .. } => Owners,
    }
}
