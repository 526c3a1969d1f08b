//! The [`Change`] enum: every change the tool can plan, with its description for plans and migration
//! headers. The kinds converted to their own change enum (`PolicyChange` in `diff/policies.rs`…) are
//! one variant each, wrapping it; each kind answers the generic concerns ([`KindChange`]) in its own
//! file, and the dialects match on the kind's enum in their files named after the kind. The other
//! changes are still one variant per statement kind here. Every match over `Change` is exhaustive,
//! so a new variant breaks the build where it must be handled.

use super::collations::CollationChange;
use super::comments::CommentChange;
use super::composite_types::CompositeTypeChange;
use super::domains::DomainChange;
use super::enums::EnumChange;
use super::extensions::ExtensionChange;
use super::functions::FunctionChange;
use super::order::{Effects, Rank};
use super::policies::PolicyChange;
use super::privileges::PrivilegeChange;
use super::range_types::RangeTypeChange;
use super::schemas::SchemaChange;
use super::sequences::SequenceChange;
use super::triggers::TriggerChange;
use super::views::ViewChange;
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// What every kind's change enum answers, in the kind's own file (`diff/<kind>.rs`): the concerns
/// that do not depend on the database. [`Change`] sends each of its kinds here with one arm per
/// concern.
pub(crate) trait KindChange {
    /// A short human description, used in plan output and migration headers.
    fn describe(&self) -> String;
    /// Words for a migration file name, before [`slugify`]: the description's by default.
    fn slug(&self) -> String {
        self.describe().replace(' ', "_")
    }
    /// What the change provides, removes, needs and holds: the planner's edges.
    fn effects(&self) -> Effects<'_>;
    /// Its place among the changes that are free to run ([`Rank`]).
    fn rank(&self) -> Rank;
    /// What the change takes away from under the objects that depend on it (see
    /// [`super::disturbed::Disturbed`]).
    fn disturbs(&self, objects: &mut IndexSet<ObjectRef>);
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Change {
    /// A new table with its columns and every constraint except foreign keys, which are separate
    /// changes so that tables referencing each other can be created first.
    CreateTable(Table),
    DropTable(Table),
    RenameTable {
        from: QualifiedName,
        to: QualifiedName,
    },
    AddColumn {
        table: QualifiedName,
        column: Column,
    },
    DropColumn {
        table: QualifiedName,
        column: Column,
    },
    RenameColumn {
        table: QualifiedName,
        from: String,
        to: String,
    },
    /// A constraint whose definition stays and whose name changes (PostgreSQL renames a key's index with it).
    RenameConstraint {
        table: QualifiedName,
        from: String,
        to: String,
    },
    /// An index whose definition stays and whose name changes (in its schema).
    RenameIndex {
        table: QualifiedName,
        from: QualifiedName,
        /// In the same schema.
        to: QualifiedName,
    },
    AlterColumn {
        table: QualifiedName,
        from: Column,
        to: Column,
    },
    AddConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    DropConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    ValidateConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    CreateIndex(Index),
    DropIndex(Index),
    /// The table is rebuilt: created anew under a temporary name, rows copied (columns present on both
    /// sides), old table dropped, new one renamed. For databases whose ALTER TABLE cannot make the
    /// change in place; produced only by a dialect's [`crate::plan::SqlRenderer::adapt`].
    RebuildTable {
        from: Table,
        to: Table,
    },
    /// A table to be rebuilt renamed aside, to be dropped once its rows are copied ([`Change::CopyRows`]).
    /// Also moves aside the names PostgreSQL chose for what it made for the table (the copies of its
    /// parent's indexes on a partition, an identity column's sequence): the new table's get them.
    SetAside {
        from: QualifiedName,
        /// In the same schema.
        to: QualifiedName,
    },
    /// The rows of a table that PostgreSQL cannot change in place (its partition key changes, or it
    /// becomes partitioned or stops being so) copied into the table built anew in its place. The old
    /// table was renamed aside first, with the partitions that go with it ([`rebuild`]); the new one is
    /// created under the declared name with its declared partitions by ordinary changes, and the old
    /// one is dropped after this copy.
    CopyRows {
        /// The old table, under its name aside.
        from: Table,
        /// The new table, as declared.
        to: Table,
        /// The old tables whose rows this copy moves: `from` and the partitions renamed aside with it.
        old_tree: Vec<QualifiedName>,
        /// The tables that receive them: `to` and its declared partitions, at every level.
        new_tree: Vec<QualifiedName>,
        /// Whether row-level security is enabled or forced on the old table: the copy turns it off there
        /// first, so that it reads every row whatever the policies allow.
        old_row_security: bool,
    },
    /// An existing table becomes a partition (or takes a new bound after a detach).
    AttachPartition {
        table: QualifiedName,
        parent: QualifiedName,
        bound: String,
        /// The parent's checks, which PostgreSQL requires the table to have (it merges them into the
        /// parent's): those it lacks, added to it first.
        checks: Vec<Constraint>,
    },
    /// A partition leaves its table. It keeps the copies of the table's constraints and indexes as its own
    /// ([`detached_copies`] drops those it does not declare).
    DetachPartition {
        table: QualifiedName,
        parent: QualifiedName,
        bound: String,
    },
    SetStorageParameters {
        table: QualifiedName,
        from: Vec<(String, String)>,
        to: Vec<(String, String)>,
    },
    SetUnlogged {
        table: QualifiedName,
        unlogged: bool,
    },
    /// `ALTER TABLE … REPLICA IDENTITY`; `None` is the default.
    SetReplicaIdentity {
        table: QualifiedName,
        from: Option<ReplicaIdentity>,
        to: Option<ReplicaIdentity>,
        /// The columns of the identity index of `to`: they must be NOT NULL first.
        key_columns: Vec<Name>,
        /// The columns of the identity index of `from`: they stay NOT NULL until it moves off.
        old_key_columns: Vec<Name>,
    },
    /// `ALTER TABLE ONLY … DROP COLUMN`: a parent's column that its children keep as their own.
    DropColumnKeptByChildren {
        table: QualifiedName,
        column: Column,
    },
    /// An existing table becomes a child of `parent` (`ALTER TABLE … INHERIT`). PostgreSQL wants the
    /// parent's CHECK constraints on the child first: `checks` are added just before.
    Inherit {
        table: QualifiedName,
        parent: QualifiedName,
        checks: Vec<Constraint>,
    },
    /// An existing child stops inheriting from `parent` (`ALTER TABLE … NO INHERIT`); the columns and
    /// constraints it inherited stay, as its own, except the CHECK constraints named in `checks`, which
    /// are dropped right after.
    NoInherit {
        table: QualifiedName,
        parent: QualifiedName,
        checks: Vec<Name>,
    },
    // The kinds with their own change enum, last: their serialized form is their own variants'
    // (`{"CreatePolicy": …}`), as when they were variants of `Change`.
    #[serde(untagged)]
    Trigger(TriggerChange),
    #[serde(untagged)]
    Policy(PolicyChange),
    #[serde(untagged)]
    Comment(CommentChange),
    #[serde(untagged)]
    Privilege(PrivilegeChange),
    #[serde(untagged)]
    Function(FunctionChange),
    #[serde(untagged)]
    View(ViewChange),
    #[serde(untagged)]
    Sequence(SequenceChange),
    #[serde(untagged)]
    Enum(EnumChange),
    #[serde(untagged)]
    Domain(DomainChange),
    #[serde(untagged)]
    CompositeType(CompositeTypeChange),
    #[serde(untagged)]
    RangeType(RangeTypeChange),
    #[serde(untagged)]
    Extension(ExtensionChange),
    #[serde(untagged)]
    Schema(SchemaChange),
    #[serde(untagged)]
    Collation(CollationChange),
}

impl Change {
    /// A short human description, used in plan output and migration headers.
    pub fn describe(&self) -> String {
        match self {
            Change::CreateTable(t) => format!("create table {}", t.name),
            Change::DropTable(t) => format!("drop table {}", t.name),
            Change::RenameTable { from, to } => format!("rename table {from} to {to}"),
            Change::AddColumn { table, column } => format!("add column {table}.{}", column.name),
            Change::DropColumn { table, column } => format!("drop column {table}.{}", column.name),
            Change::RenameColumn { table, from, to } => {
                format!("rename column {table}.{from} to {to}")
            }
            Change::RenameConstraint { table, from, to } => format!("rename constraint {from} on {table} to {to}"),
            Change::RenameIndex { from, to, .. } => format!("rename index {from} to {}", to.name),
            Change::AlterColumn { table, from, to } => {
                format!("alter column {table}.{} ({})", to.name, column_change_summary(from, to).join(", "))
            }
            Change::AddConstraint { table, constraint } => {
                format!("add constraint {} on {table}", constraint.name)
            }
            Change::DropConstraint { table, constraint } => {
                format!("drop constraint {} on {table}", constraint.name)
            }
            Change::ValidateConstraint { table, constraint } => {
                format!("validate constraint {} on {table}", constraint.name)
            }
            Change::CreateIndex(i) => format!("create index {}", i.name),
            Change::DropIndex(i) => format!("drop index {}", i.name),
            Change::RebuildTable { to, .. } => format!("rebuild table {} (copying its rows)", to.name),
            Change::CopyRows { to, .. } => format!("copy the rows of table {} into its rebuilt table", to.name),
            Change::SetAside { from, to } => format!("rename table {from} aside to {} (rebuilt)", to.name),
            Change::AttachPartition { table, parent, .. } => format!("attach partition {table} to {parent}"),
            Change::DetachPartition { table, parent, .. } => format!("detach partition {table} from {parent}"),
            Change::SetStorageParameters { table, .. } => format!("set storage parameters of {table}"),
            Change::SetUnlogged { table, unlogged } => {
                format!("set {table} {}", if *unlogged { "unlogged" } else { "logged" })
            }
            Change::SetReplicaIdentity { table, to, .. } => {
                format!("set replica identity of {table} to {}", describe_replica_identity(to))
            }
            Change::DropColumnKeptByChildren { table, column } => {
                format!("drop column {table}.{} (its children keep theirs)", column.name)
            }
            Change::Inherit { table, parent, .. } => format!("make {table} inherit from {parent}"),
            Change::NoInherit { table, parent, .. } => format!("make {table} stop inheriting from {parent}"),
            Change::Trigger(c) => c.describe(),
            Change::Policy(c) => c.describe(),
            Change::Comment(c) => c.describe(),
            Change::Privilege(c) => c.describe(),
            Change::Function(c) => c.describe(),
            Change::View(c) => c.describe(),
            Change::Sequence(c) => c.describe(),
            Change::Enum(c) => c.describe(),
            Change::Domain(c) => c.describe(),
            Change::CompositeType(c) => c.describe(),
            Change::RangeType(c) => c.describe(),
            Change::Extension(c) => c.describe(),
            Change::Schema(c) => c.describe(),
            Change::Collation(c) => c.describe(),
        }
    }

    /// Words for a migration file name: `create_users`, `add_bio`…
    pub fn slug(&self) -> String {
        let text = match self {
            Change::CreateTable(t) => format!("create_{}", t.name.name),
            Change::DropTable(t) => format!("drop_{}", t.name.name),
            Change::AddColumn { column, .. } => format!("add_{}", column.name),
            Change::DropColumn { column, .. } => format!("drop_{}", column.name),
            Change::AlterColumn { to, .. } => format!("alter_{}", to.name),
            Change::RenameTable { to, .. } => format!("rename_{}", to.name),
            Change::RenameColumn { to, .. } | Change::RenameConstraint { to, .. } => format!("rename_{to}"),
            Change::RenameIndex { to, .. } => format!("rename_{}", to.name),
            Change::CreateIndex(i) => format!("add_{}", i.name.name),
            Change::DropIndex(i) => format!("drop_{}", i.name.name),
            Change::RebuildTable { to, .. } => format!("alter_{}", to.name.name),
            Change::CopyRows { to, .. } => format!("rebuild_{}", to.name.name),
            Change::AddConstraint { constraint, .. } => format!("add_{}", constraint.name),
            Change::DropConstraint { constraint, .. } => format!("drop_{}", constraint.name),
            Change::Trigger(c) => c.slug(),
            Change::Policy(c) => c.slug(),
            Change::Comment(c) => c.slug(),
            Change::Privilege(c) => c.slug(),
            Change::Function(c) => c.slug(),
            Change::View(c) => c.slug(),
            Change::Sequence(c) => c.slug(),
            Change::Enum(c) => c.slug(),
            Change::Domain(c) => c.slug(),
            Change::CompositeType(c) => c.slug(),
            Change::RangeType(c) => c.slug(),
            Change::Extension(c) => c.slug(),
            Change::Schema(c) => c.slug(),
            Change::Collation(c) => c.slug(),
            other => other.describe().replace(' ', "_"),
        };
        slugify(&text)
    }
}

fn describe_replica_identity(identity: &Option<ReplicaIdentity>) -> String {
    match identity {
        None => "default".to_string(),
        Some(ReplicaIdentity::Full) => "full".to_string(),
        Some(ReplicaIdentity::Nothing) => "nothing".to_string(),
        Some(ReplicaIdentity::Index(index)) => format!("index {index}"),
    }
}

pub(super) fn view_word(materialized: bool) -> &'static str {
    if materialized { "materialized view" } else { "view" }
}

/// What differs between two versions of a column, in words.
pub fn column_change_summary(from: &Column, to: &Column) -> Vec<String> {
    let mut parts = Vec::new();
    if from.data_type != to.data_type {
        let using = to.conversion().map(|c| format!(" using {c}")).unwrap_or_default();
        parts.push(format!("type {} -> {}{using}", from.data_type, to.data_type));
    }
    if from.collation() != to.collation() {
        parts.push("collation".to_string());
    }
    if from.not_null != to.not_null {
        parts.push(if to.not_null { "set not null" } else { "drop not null" }.to_string());
    }
    if from.default != to.default {
        parts.push(if to.default.is_some() { "set default" } else { "drop default" }.to_string());
    }
    if from.identity != to.identity || from.identity_options() != to.identity_options() {
        parts.push("identity".to_string());
    }
    if from.generated() != to.generated() {
        parts.push("generated expression".to_string());
    }
    parts
}

/// Lower-case ASCII words joined by `_`, at most 60 characters.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_string();
    if out.len() > 60 {
        out.truncate(60);
        out = out.trim_end_matches('_').to_string();
    }
    if out.is_empty() { "migration".to_string() } else { out }
}
