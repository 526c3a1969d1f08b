//! Compares two catalogs and produces the [`ChangeSet`] that turns the first into the second.
//! Changes are listed in a deterministic order (the catalogs' own order); dependency ordering is the
//! planner's job. Renames are applied only when declared ([`RenameHints`]); otherwise a rename is a drop
//! and a create.

use crate::model::*;
use indexmap::{IndexMap, IndexSet};
use serde::Serialize;

mod inheritance;
mod program;
mod rebuild;
mod renames;
#[cfg(test)]
mod tests;
pub mod types;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum EnumValuePosition {
    Before(String),
    After(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CommentTarget {
    Schema(String),
    Extension(String),
    Type(QualifiedName),
    Sequence(QualifiedName),
    Table(QualifiedName),
    Column(ColumnRef),
    Constraint { table: QualifiedName, name: Name },
    Index(QualifiedName),
    View { name: QualifiedName, materialized: bool },
    Function(FunctionId),
    Trigger { table: QualifiedName, name: String },
    Policy { table: QualifiedName, name: String },
}

/// A column whose type is an enum being rebuilt: converted through text, its default reset afterwards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnumColumnUse {
    pub column: ColumnRef,
    pub data_type: Name,
    /// Whether the column has a default now (it must be dropped before the conversion).
    pub had_default: bool,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Change {
    CreateSchema(Namespace),
    DropSchema(Namespace),
    CreateExtension(Extension),
    DropExtension(Extension),
    CreateEnum(EnumType),
    DropEnum(EnumType),
    AddEnumValue {
        name: QualifiedName,
        value: String,
        position: EnumValuePosition,
    },
    /// Labels were removed or reordered, which `ALTER TYPE` cannot do: build the new type, convert the
    /// columns that use it, drop the old one.
    RebuildEnum {
        from: EnumType,
        to: EnumType,
        columns: Vec<EnumColumnUse>,
    },
    CreateSequence(Sequence),
    DropSequence(Sequence),
    AlterSequence {
        from: Sequence,
        to: Sequence,
    },
    SetSequenceOwner {
        sequence: QualifiedName,
        from: Option<ColumnRef>,
        to: Option<ColumnRef>,
    },
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
    /// A sequence whose column was renamed with its table: a serial column's `tickets_id_seq` declared as
    /// `issues_id_seq`. Renamed, it keeps its current value.
    RenameSequence {
        from: QualifiedName,
        /// In the same schema.
        to: QualifiedName,
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
    CreateView(View),
    DropView(View),
    CreateTrigger(Trigger),
    DropTrigger(Trigger),
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
    SetComment {
        target: CommentTarget,
        comment: Option<String>,
    },
    CreateDomain(Domain),
    DropDomain(Domain),
    /// Default, NOT NULL and constraints changed; the base type and collation are the same.
    AlterDomain {
        from: Domain,
        to: Domain,
    },
    CreateCompositeType(CompositeType),
    DropCompositeType(CompositeType),
    /// Attributes added, dropped or retyped.
    AlterCompositeType {
        from: CompositeType,
        to: CompositeType,
    },
    CreateRangeType(RangeType),
    DropRangeType(RangeType),
    CreateCollation(Collation),
    DropCollation(Collation),
    /// `ALTER EXTENSION … SET SCHEMA`: a relocatable extension's objects move, and what uses them stays.
    SetExtensionSchema {
        name: String,
        from: String,
        to: String,
    },
    AlterExtensionVersion {
        name: String,
        from: Option<String>,
        to: String,
        /// Whether `ALTER EXTENSION … UPDATE` reaches `to` from `from` on the server. An update never goes
        /// back to an older version unless the extension ships a script for it: a down migration that
        /// cannot is left at `from`, and says so (hazard `extension-version-kept`); an up is refused.
        reachable: bool,
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
    /// ([`types::detached_copies`] drops those it does not declare).
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
    CreateFunction(Function),
    DropFunction(Function),
    /// `CREATE OR REPLACE`: same arguments and result type, new body or attributes.
    ReplaceFunction {
        from: Function,
        to: Function,
    },
    CreatePolicy(Policy),
    DropPolicy(Policy),
    /// New roles, USING or WITH CHECK of a policy that keeps its command and kind (`ALTER POLICY`: the
    /// policy is never missing, not even inside the migration's transaction).
    AlterPolicy {
        from: Policy,
        to: Policy,
    },
    SetRowSecurity {
        table: QualifiedName,
        from: RowSecurity,
        to: RowSecurity,
    },
    GrantPrivilege(Grant),
    RevokePrivilege(Grant),
    GrantDefaultPrivilege {
        key: DefaultPrivilegeKey,
        with_grant_option: bool,
    },
    RevokeDefaultPrivilege {
        key: DefaultPrivilegeKey,
        grant_option_only: bool,
    },
    SetOwner {
        object: OwnedObject,
        from: Option<String>,
        to: String,
    },
}

impl Change {
    /// A short human description, used in plan output and migration headers.
    pub fn describe(&self) -> String {
        match self {
            Change::CreateSchema(s) => format!("create schema {}", s.name),
            Change::DropSchema(s) => format!("drop schema {}", s.name),
            Change::CreateExtension(e) => format!("create extension {}", e.name),
            Change::DropExtension(e) => format!("drop extension {}", e.name),
            Change::CreateEnum(e) => format!("create type {}", e.name),
            Change::DropEnum(e) => format!("drop type {}", e.name),
            Change::AddEnumValue { name, value, .. } => {
                format!("add value '{value}' to type {name}")
            }
            Change::RebuildEnum { to, .. } => {
                format!("rebuild type {} (values removed or reordered)", to.name)
            }
            Change::CreateSequence(s) => format!("create sequence {}", s.name),
            Change::DropSequence(s) => format!("drop sequence {}", s.name),
            Change::AlterSequence { to, .. } => format!("alter sequence {}", to.name),
            Change::SetSequenceOwner { sequence, .. } => {
                format!("set owner of sequence {sequence}")
            }
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
            Change::RenameSequence { from, to } => format!("rename sequence {from} to {}", to.name),
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
            Change::CreateView(v) => format!("create {} {}", view_word(v.materialized), v.name),
            Change::DropView(v) => format!("drop {} {}", view_word(v.materialized), v.name),
            Change::CreateTrigger(t) => format!("create trigger {} on {}", t.name.name, t.table),
            Change::DropTrigger(t) => format!("drop trigger {} on {}", t.name.name, t.table),
            Change::RebuildTable { to, .. } => format!("rebuild table {} (copying its rows)", to.name),
            Change::CopyRows { to, .. } => format!("copy the rows of table {} into its rebuilt table", to.name),
            Change::SetAside { from, to } => format!("rename table {from} aside to {} (rebuilt)", to.name),
            Change::SetComment { target, comment } => {
                let verb = if comment.is_some() { "set" } else { "remove" };
                format!("{verb} comment on {}", describe_target(target))
            }
            Change::CreateDomain(d) => format!("create domain {}", d.name),
            Change::DropDomain(d) => format!("drop domain {}", d.name),
            Change::AlterDomain { to, .. } => format!("alter domain {}", to.name),
            Change::CreateCompositeType(t) => format!("create type {}", t.name),
            Change::DropCompositeType(t) => format!("drop type {}", t.name),
            Change::AlterCompositeType { to, .. } => format!("alter type {} (attributes)", to.name),
            Change::CreateRangeType(t) => format!("create range type {}", t.name),
            Change::DropRangeType(t) => format!("drop range type {}", t.name),
            Change::CreateCollation(c) => format!("create collation {}", c.name),
            Change::DropCollation(c) => format!("drop collation {}", c.name),
            Change::SetExtensionSchema { name, to, .. } => format!("move extension {name} to schema {to}"),
            Change::AlterExtensionVersion { name, to, reachable: true, .. } => {
                format!("update extension {name} to version {to}")
            }
            Change::AlterExtensionVersion { name, from, to, reachable: false } => format!(
                "keep extension {name} at version {} (no update path to version {to})",
                from.as_deref().unwrap_or("?")
            ),
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
            Change::CreateFunction(f) => format!("create {} {}", f.kind.keyword().to_lowercase(), f.id),
            Change::DropFunction(f) => format!("drop {} {}", f.kind.keyword().to_lowercase(), f.id),
            Change::ReplaceFunction { to, .. } => format!("replace {} {}", to.kind.keyword().to_lowercase(), to.id),
            Change::CreatePolicy(p) => format!("create policy {} on {}", p.name, p.table),
            Change::DropPolicy(p) => format!("drop policy {} on {}", p.name, p.table),
            Change::AlterPolicy { to, .. } => format!("alter policy {} on {}", to.name, to.table),
            Change::GrantPrivilege(g) => {
                format!(
                    "grant {} on {} to {}",
                    g.key.privilege,
                    describe_privilege_target(&g.key.target),
                    g.key.grantee
                )
            }
            Change::RevokePrivilege(g) => format!(
                "revoke {} on {} from {}",
                g.key.privilege,
                describe_privilege_target(&g.key.target),
                g.key.grantee
            ),
            Change::GrantDefaultPrivilege { key, with_grant_option } => format!(
                "grant {} on new {} to {}{}",
                key.privilege,
                describe_default_scope(key),
                key.grantee,
                if *with_grant_option { " with grant option" } else { "" }
            ),
            Change::RevokeDefaultPrivilege { key, grant_option_only } => format!(
                "revoke {}{} on new {} from {}",
                if *grant_option_only { "grant option for " } else { "" },
                key.privilege,
                describe_default_scope(key),
                key.grantee
            ),
            Change::SetOwner { object, to, .. } => format!("set owner of {object} to {to}"),
            Change::SetRowSecurity { table, to, .. } => format!(
                "{} row level security on {table}{}",
                if to.enabled { "enable" } else { "disable" },
                if to.forced { " (forced)" } else { "" }
            ),
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
            Change::RenameIndex { to, .. } | Change::RenameSequence { to, .. } => format!("rename_{}", to.name),
            Change::CreateIndex(i) => format!("add_{}", i.name.name),
            Change::DropIndex(i) => format!("drop_{}", i.name.name),
            Change::CreateView(v) => format!("create_{}", v.name.name),
            Change::RebuildTable { to, .. } => format!("alter_{}", to.name.name),
            Change::CopyRows { to, .. } => format!("rebuild_{}", to.name.name),
            Change::DropView(v) => format!("drop_{}", v.name.name),
            Change::CreateEnum(e) => format!("create_{}", e.name.name),
            Change::AddEnumValue { name, .. } | Change::RebuildEnum { to: EnumType { name, .. }, .. } => {
                format!("alter_{}", name.name)
            }
            Change::AddConstraint { constraint, .. } => format!("add_{}", constraint.name),
            Change::DropConstraint { constraint, .. } => format!("drop_{}", constraint.name),
            other => other.describe().replace(' ', "_"),
        };
        slugify(&text)
    }
}

fn describe_privilege_target(target: &PrivilegeTarget) -> String {
    match target {
        PrivilegeTarget::Schema(s) => format!("schema {s}"),
        PrivilegeTarget::Table(n) => format!("table {n}"),
        PrivilegeTarget::Column(c) => format!("column {}.{}", c.table, c.column),
        PrivilegeTarget::Sequence(n) => format!("sequence {n}"),
        PrivilegeTarget::Function(id, kind) => format!("{} {id}", kind.keyword().to_lowercase()),
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

fn view_word(materialized: bool) -> &'static str {
    if materialized { "materialized view" } else { "view" }
}

fn describe_target(target: &CommentTarget) -> String {
    match target {
        CommentTarget::Schema(s) => format!("schema {s}"),
        CommentTarget::Extension(x) => format!("extension {x}"),
        CommentTarget::Type(n) => format!("type {n}"),
        CommentTarget::Sequence(n) => format!("sequence {n}"),
        CommentTarget::Table(n) => format!("table {n}"),
        CommentTarget::Column(c) => format!("column {}.{}", c.table, c.column),
        CommentTarget::Constraint { table, name } => format!("constraint {name} on {table}"),
        CommentTarget::Index(n) => format!("index {n}"),
        CommentTarget::View { name, materialized } => {
            format!("{} {name}", view_word(*materialized))
        }
        CommentTarget::Function(id) => format!("function {id}"),
        CommentTarget::Trigger { table, name } => format!("trigger {name} on {table}"),
        CommentTarget::Policy { table, name } => format!("policy {name} on {table}"),
    }
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

/// Declared renames: the old name in the current database and the new one in the declared schema; and
/// declared conversions of columns whose type changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenameHints {
    pub tables: Vec<(QualifiedName, QualifiedName)>,
    /// (table under its new name, old column, new column)
    pub columns: Vec<(QualifiedName, String, String)>,
    pub conversions: Vec<ColumnConversion>,
}

/// How the values of a column whose type changes are converted, when the database's own cast does not
/// do (`integer` → `timestamptz`): `using` in the direction of the hints, `down_using` back.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnConversion {
    /// The table and column by their names on the side the hints lead to (the schema files' for the up).
    pub table: QualifiedName,
    pub column: String,
    /// A SQL expression over the row's columns (as they are when the conversion runs) giving the new value.
    pub using: Option<String>,
    pub down_using: Option<String>,
}

impl RenameHints {
    /// The hints for the opposite direction (the down migration).
    pub fn reversed(&self) -> RenameHints {
        // Column hints name the table by its new name; in reverse the "new" name is the old one.
        let to_old: IndexMap<&QualifiedName, &QualifiedName> = self.tables.iter().map(|(f, t)| (t, f)).collect();
        // A conversion names the column as the schema files do; in reverse, as the database does.
        let old_column = |table: &QualifiedName, column: &str| {
            self.columns
                .iter()
                .find(|(t, _, to)| t == table && to == column)
                .map_or_else(|| column.to_string(), |(_, from, _)| from.clone())
        };
        RenameHints {
            conversions: self
                .conversions
                .iter()
                .map(|c| ColumnConversion {
                    table: to_old.get(&c.table).map_or_else(|| c.table.clone(), |n| (*n).clone()),
                    column: old_column(&c.table, &c.column),
                    using: c.down_using.clone(),
                    down_using: c.using.clone(),
                })
                .collect(),
            tables: self.tables.iter().map(|(f, t)| (t.clone(), f.clone())).collect(),
            columns: self
                .columns
                .iter()
                .map(|(table, f, t)| {
                    let old_table = to_old.get(table).map(|n| (*n).clone()).unwrap_or_else(|| table.clone());
                    (old_table, t.clone(), f.clone())
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChangeSet {
    pub changes: Vec<Change>,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// `tables of role r in schema s` for the description of a default privilege.
fn describe_default_scope(key: &DefaultPrivilegeKey) -> String {
    let schema = key.schema.as_ref().map(|s| format!(" in schema {s}")).unwrap_or_default();
    format!("{} of role {}{schema}", key.on.keyword().to_lowercase(), key.role)
}

/// The changes that turn `current` into `desired`.
pub fn diff(current: &Catalog, desired: &Catalog, hints: &RenameHints) -> ChangeSet {
    let mut out = Vec::new();
    let current = renames::apply(current, desired, hints, &mut out);
    let current = rebuild::apply(current, desired, &mut out);
    let current = &current;

    diff_schemas(current, desired, &mut out);
    diff_extensions(current, desired, &mut out);
    diff_enums(current, desired, &mut out);
    types::diff_collations(current, desired, &mut out);
    let converted_columns = types::diff_domains(current, desired, &mut out);
    types::diff_composite_types(current, desired, &mut out);
    types::diff_range_types(current, desired, &mut out);
    let dropped_columns = diff_tables(current, desired, &hints.conversions, &mut out);
    types::fold_domain_conversions(&converted_columns, &mut out);
    let dropped_functions = program::diff_functions(current, desired, &Disturbed::by(&out), &mut out);
    program::release_function_users(current, desired, &dropped_functions, &mut out);
    program::release_generated_columns(current, desired, &mut out);
    diff_sequences(current, desired, &dropped_columns, &mut out);
    // Views are decided once the column and table changes are known; their changes are listed after
    // the indexes, which need the set of recreated relations.
    let mut view_changes = Vec::new();
    let recreated_relations = diff_views(current, desired, &out, &mut view_changes);
    diff_indexes(current, desired, &recreated_relations, &mut out);
    inheritance::diff_replica_identity(current, desired, &mut out);
    inheritance::keep_in_children(current, desired, &mut out);
    recreate_dependent_foreign_keys(current, desired, &mut out);
    recreate_foreign_keys_across_retyped_columns(current, desired, &mut out);
    program::restore_on_readded_columns(current, desired, &mut out);
    out.extend(view_changes);
    let disturbed = Disturbed::by(&out);
    program::diff_triggers(current, desired, &recreated_relations, &dropped_functions, &disturbed, &mut out);
    program::diff_policies(current, desired, &recreated_relations, &dropped_functions, &disturbed, &mut out);
    program::diff_row_security(current, desired, &mut out);
    program::diff_grants(current, desired, &recreated_relations, &dropped_functions, &mut out);
    program::diff_default_privileges(current, desired, &mut out);
    program::diff_owners(current, desired, &mut out);
    rebuild::fold_partition_drops(&mut out);
    rebuild::release_detached_partitions(current, &mut out);
    types::detached_copies(current, desired, &mut out);
    types::adopted_on_attach(current, desired, &mut out);
    types::validate_check_copies(current, desired, &mut out);
    ChangeSet { changes: out }
}

fn diff_schemas(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, schema) in &desired.schemas {
        match current.schemas.get(name) {
            None => {
                out.push(Change::CreateSchema(schema.clone()));
                if schema.comment.is_some() {
                    out.push(comment(CommentTarget::Schema(name.clone()), &schema.comment));
                }
            }
            Some(have) if have.comment != schema.comment => {
                out.push(comment(CommentTarget::Schema(name.clone()), &schema.comment));
            }
            Some(_) => {}
        }
    }
    for (name, schema) in &current.schemas {
        // A schema that holds objects the tool does not manage is left in place with them.
        let holds_unmanaged = current.unmanaged.iter().any(|o| &o.schema == name);
        if !desired.schemas.contains_key(name) && !holds_unmanaged {
            out.push(Change::DropSchema(schema.clone()));
        }
    }
}

fn comment(target: CommentTarget, text: &Option<String>) -> Change {
    Change::SetComment { target, comment: text.clone() }
}

fn diff_extensions(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, ext) in &desired.extensions {
        match current.extensions.get(name) {
            None => {
                out.push(Change::CreateExtension(ext.clone()));
                if ext.comment.is_some() {
                    out.push(comment(CommentTarget::Extension(name.clone()), &ext.comment));
                }
            }
            // Moved in place when it can be: dropped, what uses it would go too (or block the drop).
            Some(have) if have.schema != ext.schema && have.relocatable => {
                out.push(Change::SetExtensionSchema {
                    name: name.clone(),
                    from: have.schema.clone(),
                    to: ext.schema.clone(),
                });
                out.extend(types::extension_version_change(have, ext));
                if have.comment != ext.comment {
                    out.push(comment(CommentTarget::Extension(name.clone()), &ext.comment));
                }
            }
            Some(have) if have.schema != ext.schema => {
                out.push(Change::DropExtension(have.clone()));
                out.push(Change::CreateExtension(ext.clone()));
                if ext.comment.is_some() {
                    out.push(comment(CommentTarget::Extension(name.clone()), &ext.comment));
                }
            }
            Some(have) => {
                out.extend(types::extension_version_change(have, ext));
                if have.comment != ext.comment {
                    out.push(comment(CommentTarget::Extension(name.clone()), &ext.comment));
                }
            }
        }
    }
    for (name, ext) in &current.extensions {
        if !desired.extensions.contains_key(name) {
            out.push(Change::DropExtension(ext.clone()));
        }
    }
}

fn diff_enums(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, want) in &desired.enums {
        let Some(have) = current.enums.get(name) else {
            out.push(Change::CreateEnum(want.clone()));
            if want.comment.is_some() {
                out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
            }
            continue;
        };
        let mut rebuilt = false;
        if have.labels != want.labels {
            match enum_additions(&have.labels, &want.labels) {
                Some(additions) => out.extend(additions.into_iter().map(|(value, position)| Change::AddEnumValue {
                    name: name.clone(),
                    value,
                    position,
                })),
                None => {
                    rebuilt = true;
                    out.push(Change::RebuildEnum {
                        from: have.clone(),
                        to: want.clone(),
                        columns: enum_column_uses(current, desired, name),
                    })
                }
            }
        }
        // A rebuilt type is a new object: its comment is set again.
        if have.comment != want.comment || (rebuilt && want.comment.is_some()) {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
    for (name, have) in &current.enums {
        if !desired.enums.contains_key(name) {
            out.push(Change::DropEnum(have.clone()));
        }
    }
}

/// If `want` only adds labels to `have` (keeping the existing ones in order), the values to add and
/// where, in an order in which each position refers to a label that exists by then.
fn enum_additions(have: &[String], want: &[String]) -> Option<Vec<(String, EnumValuePosition)>> {
    let kept: Vec<&String> = want.iter().filter(|label| have.contains(label)).collect();
    if kept.len() != have.len() || kept.iter().zip(have).any(|(a, b)| *a != b) {
        return None;
    }
    let first_existing = have.first();
    let mut additions = Vec::new();
    for (i, label) in want.iter().enumerate() {
        if have.contains(label) {
            continue;
        }
        let position = if i > 0 {
            EnumValuePosition::After(want[i - 1].clone())
        } else {
            EnumValuePosition::Before(first_existing?.clone())
        };
        additions.push((label.clone(), position));
    }
    Some(additions)
}

/// The columns of tables present on both sides that use the enum (or an array of it) in the desired state.
fn enum_column_uses(current: &Catalog, desired: &Catalog, name: &QualifiedName) -> Vec<EnumColumnUse> {
    let mut uses = Vec::new();
    for (table_name, table) in &desired.tables {
        let Some(have_table) = current.tables.get(table_name) else {
            continue;
        };
        // A partition's columns are converted (and their defaults dropped and set) through its parent.
        if types::columns_inherited(have_table, table) {
            continue;
        }
        for column in table.columns.values() {
            let uses_type = column.depends_on.contains(&ObjectRef::Type(name.clone()));
            if let Some(have_column) = have_table.columns.get(&column.name)
                && uses_type
            {
                uses.push(EnumColumnUse {
                    column: ColumnRef { table: table_name.clone(), column: column.name.clone() },
                    data_type: column.data_type.clone(),
                    had_default: have_column.default.is_some(),
                    default: column.default.as_deref().map(String::from),
                });
            }
        }
    }
    uses
}

/// The functions of both catalogs that `expression` (SQL written by the user) calls by name, qualified or
/// not: a word followed by `(`, outside string literals and quoted names. A same-named function of another
/// schema counts too: an ordering fact too many costs nothing, one too few fails the migration.
fn called_functions(expression: &str, functions: [&IndexMap<FunctionId, Function>; 2]) -> Vec<FunctionId> {
    let mut called: Vec<String> = Vec::new();
    let mut chars = expression.char_indices().peekable();
    let mut last: Option<String> = None;
    while let Some((_, c)) = chars.next() {
        match c {
            '\'' => {
                last = None;
                while let Some((_, c)) = chars.next() {
                    if c == '\'' && chars.next_if(|(_, c)| *c == '\'').is_none() {
                        break;
                    }
                }
            }
            '"' => {
                let mut name = String::new();
                while let Some((_, c)) = chars.next() {
                    if c == '"' && chars.next_if(|(_, c)| *c == '"').is_none() {
                        break;
                    }
                    name.push(c);
                }
                last = Some(name);
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut word = c.to_lowercase().to_string();
                while let Some((_, c)) = chars.next_if(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '$') {
                    word.extend(c.to_lowercase());
                }
                last = Some(word);
            }
            '(' => called.extend(last.take()),
            c if c.is_whitespace() => {}
            _ => last = None,
        }
    }
    let mut ids: Vec<FunctionId> = Vec::new();
    for id in functions.iter().flat_map(|f| f.keys()) {
        if called.iter().any(|name| name == id.name.name.as_str()) && !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids
}

/// Diffs tables, columns and constraints; returns the columns that disappear (dropped tables included).
fn diff_tables(
    current: &Catalog,
    desired: &Catalog,
    conversions: &[ColumnConversion],
    out: &mut Vec<Change>,
) -> IndexSet<ColumnRef> {
    let mut gone = IndexSet::new();
    let mut foreign_keys = Vec::new();
    for (name, want) in &desired.tables {
        let Some(have) = current.tables.get(name) else {
            let mut created = want.clone();
            created.constraints.retain(|_, c| c.kind != ConstraintKind::ForeignKey);
            for constraint in want.constraints.values().filter(|c| c.kind == ConstraintKind::ForeignKey) {
                foreign_keys.push(Change::AddConstraint { table: name.clone(), constraint: constraint.clone() });
            }
            out.push(Change::CreateTable(created));
            inheritance::created_child_columns(desired, want, out);
            push_table_comments(name, None, want, out);
            continue;
        };
        // A child's columns and constraints are diffed from what its parents' changes leave.
        let base = inheritance::through_parents(current, desired, have, want);
        if !types::columns_inherited(have, want) {
            diff_columns(name, &base, want, conversions, [&current.functions, &desired.functions], out, &mut gone);
        } else {
            diff_partition_not_null(name, have, want, current, desired, out);
        }
        inheritance::diff_parents(current, desired, name, have, want, out);
        diff_constraints(name, &base, want, out, &mut foreign_keys);
        types::diff_table_options(desired, name, have, want, out);
        push_table_comments(name, Some(have), want, out);
    }
    for (name, have) in &current.tables {
        if desired.tables.contains_key(name) {
            continue;
        }
        for column in have.columns.keys() {
            gone.insert(ColumnRef { table: name.clone(), column: column.clone() });
        }
        // Foreign keys between tables that are all being dropped are dropped first, so that the
        // tables can go in any order (they may reference each other).
        let mut dropped = have.clone();
        dropped.constraints.retain(|_, constraint| {
            let between_dropped = constraint.references.as_ref().is_some_and(|target| {
                &target.table != name
                    && !desired.tables.contains_key(&target.table)
                    && current.tables.contains_key(&target.table)
            });
            if between_dropped {
                out.push(Change::DropConstraint { table: name.clone(), constraint: constraint.clone() });
            }
            !between_dropped
        });
        out.push(Change::DropTable(dropped));
    }
    out.extend(foreign_keys);
    gone
}

/// A partition's columns change through its parent, except NOT NULL, which a partition can have on its
/// own: its own primary key sets it, and it stays once that key is dropped. The parent's NOT NULL holds on
/// every partition, and dropping it there drops it on the partitions too (PostgreSQL carries it down): the
/// partition's NOT NULL is compared with what it has after the parent's change, which runs first.
fn diff_partition_not_null(
    name: &QualifiedName,
    have: &Table,
    want: &Table,
    current: &Catalog,
    desired: &Catalog,
    out: &mut Vec<Change>,
) {
    let parent_not_null = |catalog: &Catalog, table: &Table, column: &str| {
        table
            .partition_of
            .as_ref()
            .and_then(|p| catalog.tables.get(&p.parent))
            .and_then(|p| p.columns.get(column))
            .map(|c| c.not_null)
    };
    for (column, wanted) in &want.columns {
        let Some(old) = have.columns.get(column) else { continue };
        if parent_not_null(desired, want, column) != Some(false) {
            continue;
        }
        let after_parent = old.not_null && parent_not_null(current, have, column) != Some(true);
        if after_parent == wanted.not_null {
            continue;
        }
        let mut from = old.clone();
        from.not_null = after_parent;
        let mut to = from.clone();
        to.not_null = wanted.not_null;
        // After the parent's change of the column.
        if let Some(p) = &want.partition_of {
            to.add_dependency(ObjectRef::Column(ColumnRef { table: p.parent.clone(), column: column.clone() }));
        }
        out.push(Change::AlterColumn { table: name.clone(), from, to });
    }
}

fn push_table_comments(name: &QualifiedName, have: Option<&Table>, want: &Table, out: &mut Vec<Change>) {
    if have.map(|t| &t.comment).unwrap_or(&None) != &want.comment {
        out.push(comment(CommentTarget::Table(name.clone()), &want.comment));
    }
    for column in want.columns.values() {
        let old = have.and_then(|t| t.columns.get(&column.name)).and_then(Column::comment);
        if old != column.comment() {
            out.push(comment(
                CommentTarget::Column(ColumnRef { table: name.clone(), column: column.name.clone() }),
                &column.comment().map(String::from),
            ));
        }
    }
    for constraint in want.constraints.values() {
        let old = have.and_then(|t| t.constraints.get(&constraint.name));
        // A recreated constraint loses its comment, so compare against "none" in that case.
        let old_comment = old.filter(|o| same_constraint(o, constraint)).and_then(|o| o.comment.clone());
        if old_comment != constraint.comment {
            out.push(comment(
                CommentTarget::Constraint { table: name.clone(), name: constraint.name.clone() },
                &constraint.comment,
            ));
        }
    }
}

fn diff_columns(
    table: &QualifiedName,
    have: &Table,
    want: &Table,
    conversions: &[ColumnConversion],
    functions: [&IndexMap<FunctionId, Function>; 2],
    out: &mut Vec<Change>,
    gone: &mut IndexSet<ColumnRef>,
) {
    // PostgreSQL refuses to retype a column that a generated column is computed from: that generated
    // column is dropped first and added again after, computed anew.
    let retyped: IndexSet<&str> = want
        .columns
        .values()
        .filter(|c| have.columns.get(&c.name).is_some_and(|old| old.data_type != c.data_type))
        .map(|c| c.name.as_str())
        .collect();
    let reads_retyped = |old: &Column| {
        old.generated().is_some()
            && old
                .depends_on
                .iter()
                .any(|d| matches!(d, ObjectRef::Column(c) if &c.table == table && retyped.contains(c.column.as_str())))
    };
    for (name, column) in &want.columns {
        match have.columns.get(name) {
            None => out.push(Change::AddColumn { table: table.clone(), column: column.clone() }),
            Some(old) if old.generated() != column.generated() || reads_retyped(old) => {
                // PostgreSQL before 17 cannot change a generation expression in place.
                gone.insert(ColumnRef { table: table.clone(), column: name.clone() });
                out.push(Change::DropColumn { table: table.clone(), column: old.clone() });
                out.push(Change::AddColumn { table: table.clone(), column: column.clone() });
            }
            Some(old) if !column_change_summary(old, column).is_empty() => {
                let mut to = column.clone();
                if old.data_type != column.data_type {
                    let declared = conversions.iter().find(|c| &c.table == table && c.column == name.as_str());
                    let using = declared.and_then(|c| c.using.as_deref());
                    // The functions of either side that the conversion calls: it runs after those the plan
                    // creates and before those it drops.
                    for id in using.map(|u| called_functions(u, functions)).unwrap_or_default() {
                        to.add_dependency(ObjectRef::Function(id));
                    }
                    to.set_conversion(using);
                }
                out.push(Change::AlterColumn { table: table.clone(), from: old.clone(), to });
            }
            Some(_) => {}
        }
    }
    for (name, column) in &have.columns {
        if !want.columns.contains_key(name) {
            gone.insert(ColumnRef { table: table.clone(), column: name.clone() });
            out.push(Change::DropColumn { table: table.clone(), column: column.clone() });
        }
    }
}

/// Two constraints are the same if only their validation state or comment differs in a way that
/// does not need a drop.
pub(super) fn same_constraint(a: &Constraint, b: &Constraint) -> bool {
    a.kind == b.kind && a.definition == b.definition
}

fn diff_constraints(
    table: &QualifiedName,
    have: &Table,
    want: &Table,
    out: &mut Vec<Change>,
    foreign_keys: &mut Vec<Change>,
) {
    for (name, old) in &have.constraints {
        let keep = want.constraints.get(name).is_some_and(|new| {
            same_constraint(old, new) || (!old.validated && new.validated && strip_not_valid(old) == &*new.definition)
        });
        // Dropped explicitly even when a column it uses is dropped too: the planner puts the drop
        // of the constraint first, and objects elsewhere (foreign keys) may need it gone early.
        if !keep {
            out.push(Change::DropConstraint { table: table.clone(), constraint: old.clone() });
        }
    }
    for (name, new) in &want.constraints {
        // Built only when needed: most constraints are unchanged.
        let add = || Change::AddConstraint { table: table.clone(), constraint: new.clone() };
        match have.constraints.get(name) {
            Some(old) if same_constraint(old, new) => {}
            Some(old) if !old.validated && new.validated && strip_not_valid(old) == &*new.definition => {
                out.push(Change::ValidateConstraint { table: table.clone(), constraint: new.clone() });
            }
            _ if new.kind == ConstraintKind::ForeignKey => foreign_keys.push(add()),
            _ => out.push(add()),
        }
    }
}

pub(super) fn strip_not_valid(constraint: &Constraint) -> &str {
    constraint.definition.strip_suffix(" NOT VALID").unwrap_or(&constraint.definition)
}

fn diff_sequences(current: &Catalog, desired: &Catalog, gone: &IndexSet<ColumnRef>, out: &mut Vec<Change>) {
    for (name, want) in &desired.sequences {
        let Some(have) = current.sequences.get(name) else {
            let mut created = want.clone();
            created.owned_by = None;
            out.push(Change::CreateSequence(created));
            if want.owned_by.is_some() {
                out.push(Change::SetSequenceOwner { sequence: name.clone(), from: None, to: want.owned_by.clone() });
            }
            if want.comment.is_some() {
                out.push(comment(CommentTarget::Sequence(name.clone()), &want.comment));
            }
            continue;
        };
        if !have.same_options(want) {
            out.push(Change::AlterSequence { from: have.clone(), to: want.clone() });
        }
        if have.owned_by != want.owned_by {
            out.push(Change::SetSequenceOwner {
                sequence: name.clone(),
                from: have.owned_by.clone(),
                to: want.owned_by.clone(),
            });
        }
        if have.comment != want.comment {
            out.push(comment(CommentTarget::Sequence(name.clone()), &want.comment));
        }
    }
    for (name, have) in &current.sequences {
        if desired.sequences.contains_key(name) {
            continue;
        }
        // A sequence owned by a column that is dropped goes away with it.
        if have.owned_by.as_ref().is_some_and(|owner| gone.contains(owner)) {
            continue;
        }
        out.push(Change::DropSequence(have.clone()));
    }
}

/// Decides which views are dropped and created. A view is recreated when its definition changes or
/// when something it reads changes in a way the database refuses under a view (a column type change,
/// a dropped column or relation), and so are the views that read a recreated view. Returns the set of
/// relations that are recreated (their indexes must be recreated too).
/// What the changes take away from under the objects that depend on it: dropped tables (with their row
/// types and columns), functions, types and sequences, columns dropped or changed in type or collation, and
/// enum types rebuilt. PostgreSQL refuses to drop an object while a view, function or policy depends on it,
/// and a dependant kept in place would go on using the old object: such dependants are dropped first and
/// created again after.
pub(super) struct Disturbed(IndexSet<ObjectRef>);

impl Disturbed {
    pub(super) fn by(changes: &[Change]) -> Disturbed {
        let mut objects: IndexSet<ObjectRef> = IndexSet::new();
        let column = |table: &QualifiedName, column: &Name| {
            ObjectRef::Column(ColumnRef { table: table.clone(), column: column.clone() })
        };
        for change in changes {
            match change {
                Change::AlterColumn { table, from, to }
                    if from.data_type != to.data_type || from.collation() != to.collation() =>
                {
                    objects.insert(column(table, &from.name));
                }
                Change::DropColumn { table, column: c } => {
                    objects.insert(column(table, &c.name));
                }
                Change::DropTable(t) => {
                    objects.insert(ObjectRef::Relation(t.name.clone()));
                    objects.insert(ObjectRef::Type(t.name.clone()));
                    objects.extend(t.columns.keys().map(|c| column(&t.name, c)));
                }
                Change::DropFunction(f) => {
                    objects.insert(ObjectRef::Function(f.id.clone()));
                }
                Change::RebuildEnum { from, columns, .. } => {
                    objects.insert(ObjectRef::Type(from.name.clone()));
                    objects.extend(columns.iter().map(|use_| ObjectRef::Column(use_.column.clone())));
                }
                Change::DropEnum(EnumType { name, .. })
                | Change::DropDomain(Domain { name, .. })
                | Change::DropCompositeType(CompositeType { name, .. })
                | Change::DropRangeType(RangeType { name, .. }) => {
                    objects.insert(ObjectRef::Type(name.clone()));
                }
                Change::DropSequence(s) => {
                    objects.insert(ObjectRef::Sequence(s.name.clone()));
                }
                _ => {}
            }
        }
        Disturbed(objects)
    }

    /// Whether an object with these dependencies must be dropped and created again, given the functions
    /// and views that are.
    pub(super) fn touches(
        &self,
        deps: &[ObjectRef],
        dropped_functions: &IndexSet<FunctionId>,
        recreated_views: &IndexSet<QualifiedName>,
    ) -> bool {
        deps.iter().any(|dep| {
            self.0.contains(dep)
                || match dep {
                    ObjectRef::Function(id) => dropped_functions.contains(id),
                    ObjectRef::Relation(n) | ObjectRef::Type(n) => recreated_views.contains(n),
                    ObjectRef::Column(c) => recreated_views.contains(&c.table),
                    ObjectRef::Sequence(_) | ObjectRef::Collation(_) => false,
                }
        })
    }
}

/// The views that are dropped and created again: changed ones, and those that read what the plan
/// disturbs, a function dropped, or another view recreated.
pub(super) fn views_to_recreate(
    current: &Catalog,
    desired: &Catalog,
    disturbed: &Disturbed,
    dropped_functions: &IndexSet<FunctionId>,
) -> IndexSet<QualifiedName> {
    let mut recreate: IndexSet<QualifiedName> = IndexSet::new();
    loop {
        let before = recreate.len();
        for (name, have) in &current.views {
            if recreate.contains(name) {
                continue;
            }
            let changed = desired.views.get(name).is_none_or(|want| {
                want.definition != have.definition
                    || want.materialized != have.materialized
                    || want.columns != have.columns
            });
            if changed || disturbed.touches(&have.depends_on, dropped_functions, &recreate) {
                recreate.insert(name.clone());
            }
        }
        if recreate.len() == before {
            break;
        }
    }
    recreate
}

fn diff_views(
    current: &Catalog,
    desired: &Catalog,
    changes: &[Change],
    out: &mut Vec<Change>,
) -> IndexSet<QualifiedName> {
    let recreate = views_to_recreate(current, desired, &Disturbed::by(changes), &IndexSet::new());
    for name in &recreate {
        out.push(Change::DropView(current.views[name].clone()));
    }
    for (name, want) in &desired.views {
        let have = current.views.get(name);
        let kept = have.filter(|_| !recreate.contains(name));
        match kept {
            None => out.push(Change::CreateView(want.clone())),
            // Options change in place (`ALTER … SET (…)`, `RESET (…)`), as a table's storage parameters do.
            Some(have) if have.options != want.options => out.push(Change::SetStorageParameters {
                table: name.clone(),
                from: have.options.clone(),
                to: want.options.clone(),
            }),
            Some(_) => {}
        }
        if kept.and_then(|h| h.comment.as_ref()) != want.comment.as_ref() {
            out.push(comment(
                CommentTarget::View { name: name.clone(), materialized: want.materialized },
                &want.comment,
            ));
        }
        let no_comments = IndexMap::new();
        let had = kept.map_or(&no_comments, |h| &h.column_comments);
        let column = |c: &String| CommentTarget::Column(ColumnRef { table: name.clone(), column: c.into() });
        for (c, text) in &want.column_comments {
            if had.get(c) != Some(text) {
                out.push(comment(column(c), &Some(text.clone())));
            }
        }
        for c in had.keys().filter(|c| !want.column_comments.contains_key(*c) && want.columns.contains(c)) {
            out.push(comment(column(c), &None));
        }
    }
    recreate
}

fn diff_indexes(
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
        [current, desired].iter().all(|c| types::partition_below(c, table, root))
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

/// PostgreSQL refuses to drop a primary key, unique constraint or unique index that a foreign key
/// relies on. Foreign keys that are otherwise unchanged but reference a key being dropped are dropped
/// first and added back afterwards.
fn recreate_dependent_foreign_keys(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let key = |table: &QualifiedName, columns: &[Name]| {
        let mut columns = columns.to_vec();
        columns.sort();
        (table.clone(), columns)
    };
    let mut dropped_keys = IndexSet::new();
    let mut dropped_fks = IndexSet::new();
    let mut added_fks = IndexSet::new();
    for change in out.iter() {
        match change {
            Change::DropConstraint { table, constraint } => {
                if matches!(constraint.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique) {
                    dropped_keys.insert(key(table, &constraint.columns));
                }
                dropped_fks.insert((table.clone(), constraint.name.clone()));
            }
            Change::DropIndex(index) if index.unique => {
                dropped_keys.insert(key(&index.table, &index.columns));
            }
            Change::AddConstraint { table, constraint } => {
                added_fks.insert((table.clone(), constraint.name.clone()));
            }
            _ => {}
        }
    }
    if dropped_keys.is_empty() {
        return;
    }
    let mut extra = Vec::new();
    for (name, table) in &current.tables {
        let Some(want) = desired.tables.get(name) else { continue };
        for constraint in table.constraints.values() {
            let Some(target) = &constraint.references else { continue };
            let id = (name.clone(), constraint.name.clone());
            if !dropped_keys.contains(&key(&target.table, &target.columns)) || dropped_fks.contains(&id) {
                continue;
            }
            extra.push(Change::DropConstraint { table: name.clone(), constraint: constraint.clone() });
            if let Some(again) = want.constraints.get(&constraint.name)
                && !added_fks.contains(&id)
            {
                extra.push(Change::AddConstraint { table: name.clone(), constraint: again.clone() });
            }
        }
    }
    out.extend(extra);
}

/// A foreign key whose columns change type on both sides (`text` → `integer` for the key and the column
/// that references it) cannot stay while the two columns are altered one after the other: in between, the
/// two types may not be comparable, and PostgreSQL refuses the first `ALTER … TYPE`. Such a foreign key is
/// dropped before and added again after. (When only one side changes, the state in between is the
/// declared one, which holds.)
fn recreate_foreign_keys_across_retyped_columns(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let retyped: IndexSet<(&QualifiedName, &str)> = out
        .iter()
        .filter_map(|change| match change {
            Change::AlterColumn { table, from, to } if from.data_type != to.data_type => {
                Some((table, to.name.as_str()))
            }
            _ => None,
        })
        .collect();
    if retyped.is_empty() {
        return;
    }
    let touched = |change: &Change, table: &QualifiedName, name: &str| match change {
        Change::DropConstraint { table: t, constraint } | Change::AddConstraint { table: t, constraint } => {
            t == table && constraint.name == name
        }
        _ => false,
    };
    let mut extra = Vec::new();
    for (name, table) in &current.tables {
        let Some(want) = desired.tables.get(name) else { continue };
        for constraint in table.constraints.values() {
            let Some(target) = &constraint.references else { continue };
            let local = constraint.columns.iter().any(|c| retyped.contains(&(name, c.as_str())));
            let remote = target.columns.iter().any(|c| retyped.contains(&(&target.table, c.as_str())));
            if !(local && remote) || out.iter().any(|c| touched(c, name, &constraint.name)) {
                continue;
            }
            extra.push(Change::DropConstraint { table: name.clone(), constraint: constraint.clone() });
            if let Some(again) = want.constraints.get(&constraint.name) {
                extra.push(Change::AddConstraint { table: name.clone(), constraint: again.clone() });
            }
        }
    }
    out.extend(extra);
}

/// Whether a relation stays in place: declared, and not dropped and recreated by this diff. Indexes and
/// triggers of other relations go away with them.
fn relation_survives(desired: &Catalog, recreated: &IndexSet<QualifiedName>, table: &QualifiedName) -> bool {
    (desired.tables.contains_key(table) || desired.views.contains_key(table)) && !recreated.contains(table)
}
