//! The facts the planner orders changes by, which each kind's change enum gives in its own file
//! (`diff/<kind>.rs`): the [`Key`]s a change provides, removes, needs and holds ([`Effects`]), and its
//! [`Rank`] among the changes free to run. They live here, beside the changes, so that a kind's
//! ordering is written with its changes; `plan` turns them into a graph.

use crate::model::*;

/// Something a change can create, remove or depend on. Keys borrow their names from the changes: at
/// 10,000 tables, owned copies of every name were a third of `schema inspect`'s peak heap.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Key<'a> {
    Schema(&'a str),
    Extension(&'a str),
    /// A type by name: an enum, domain, composite or range type, or the row type every table and view has
    /// under its own name (`RETURNS SETOF t`, an argument of type `t`, a column of type `t`).
    Type(&'a QualifiedName),
    Sequence(&'a QualifiedName),
    Relation(&'a QualifiedName),
    /// A name in a schema's namespace of relations, which tables, views, sequences, indexes (those behind
    /// primary key, unique and exclusion constraints too) and composite types share: a change that frees
    /// it goes before one that takes it. (schema, name)
    RelationName(&'a str, &'a str),
    Column(&'a QualifiedName, &'a str),
    /// A column's NOT NULL: a primary key needs it, and PostgreSQL refuses to drop it while a primary key
    /// holds the column.
    NotNull(&'a QualifiedName, &'a str),
    Constraint(&'a QualifiedName, &'a str),
    /// A primary key, unique constraint or unique index over these (sorted) columns: what a foreign
    /// key referencing them needs.
    UniqueColumns(&'a QualifiedName, Box<[&'a str]>),
    Index(&'a QualifiedName),
    /// A trigger on a table.
    Trigger(&'a QualifiedName, &'a str),
    Collation(&'a QualifiedName),
    /// Room among a partitioned table's partitions: partitions leave before others arrive.
    PartitionSlot(&'a QualifiedName),
    /// A partition detached from its parent: what it keeps of the parent's (see
    /// [`super::PartitionChange::Detach`]) can be dropped.
    Detached(&'a QualifiedName),
    /// A check of this name added to some table: a partition's copy of it (which has its parent's name, and
    /// which no change provides on its own) is validated after.
    CheckName(&'a str),
    /// A table attached as a partition: the indexes its parent made copies of are there.
    Attached(&'a QualifiedName),
    /// A table inheriting from another (child, parent).
    Inheritance(&'a QualifiedName, &'a QualifiedName),
    /// A column that a parent no longer has: its children may drop what it leaves them.
    DroppedColumn(&'a QualifiedName, &'a str),
    /// A child no longer inheriting from a parent: the columns it inherited are its own and can be dropped.
    Uninherited(&'a QualifiedName, &'a QualifiedName),
    /// A table renamed aside to be rebuilt ([`super::TableChange::SetAside`]), under that name: what drops it, or
    /// something of it, comes after. (Not [`Key::Relation`], which a view or table taking a dropped table's
    /// name provides too.)
    Aside(&'a QualifiedName),
    /// A rebuilt table's rows, copied in ([`super::TableChange::CopyRows`]): what must not see the copy (triggers,
    /// row-level security) or would slow it down (indexes, foreign keys, materialized views) comes after.
    Rows(&'a QualifiedName),
    Function(&'a FunctionId),
    /// A function's place among overloads: its name and argument types ([`Function::call_signature`]).
    FunctionSignature(&'a str),
    /// A policy on a table.
    Policy(&'a QualifiedName, &'a str),
    Privilege(&'a GrantKey),
    /// The privileges a grantee holds on a table's columns: (table, grantee, privilege). Revoking the
    /// privilege on the table removes them; a column grant made before that revoke would be lost.
    ColumnPrivileges(&'a QualifiedName, &'a str, &'a str),
}

/// The dependency facts of one change.
#[derive(Default, Debug)]
pub(crate) struct Effects<'a> {
    /// Objects created or changed: run before the changes that need them.
    pub(crate) provides: Vec<Key<'a>>,
    /// Objects dropped or changed: run after the changes whose old objects held them.
    pub(crate) removes: Vec<Key<'a>>,
    /// What the new state of this change depends on.
    pub(crate) needs: Vec<Key<'a>>,
    /// What the old object removed by this change depended on.
    pub(crate) held: Vec<Key<'a>>,
}

pub(crate) fn column_keys<'a>(
    table: &'a QualifiedName,
    columns: &'a [impl AsRef<str>],
) -> impl Iterator<Item = Key<'a>> {
    columns.iter().map(move |c| Key::Column(table, c.as_ref()))
}

pub(crate) fn ref_key(r: &ObjectRef) -> Key<'_> {
    match r {
        ObjectRef::Type(n) => Key::Type(n),
        ObjectRef::Sequence(n) => Key::Sequence(n),
        ObjectRef::Relation(n) => Key::Relation(n),
        ObjectRef::Column(c) => Key::Column(&c.table, &c.column),
        ObjectRef::Collation(n) => Key::Collation(n),
        ObjectRef::Function(id) => Key::Function(id),
    }
}

pub(crate) fn sorted(columns: &[Name]) -> Box<[&str]> {
    let mut v: Box<[&str]> = columns.iter().map(Name::as_str).collect();
    v.sort_unstable();
    v
}

pub(crate) fn relation_name(name: &QualifiedName) -> Key<'_> {
    Key::RelationName(&name.schema, &name.name)
}

/// A change's place among the changes that are free to run; lower ranks run first. Dependencies decide
/// the order wherever they exist ([`Effects`]); ranks only break ties, so that the same input always
/// gives the same plan, in the order a person would write it: what depends on other objects is
/// released first, then objects are dropped from the inside out and created from the outside in
/// (schemas, types, tables, columns, constraints, indexes, views), comments, grants and owners last.
/// Each kind's change enum gives its changes' ranks ([`super::KindChange::rank`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rank {
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
