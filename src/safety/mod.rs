//! Hazards: what a planned change can do to a running database beyond its intended effect (lose data,
//! hold a lock while it rewrites or scans a table, break running application code). Every hazard has a
//! stable kebab-case [`HazardId`], used in code, output, the README, diff.toml and `--allow-hazard`.
//!
//! This module is generic: the rules every database shares (drops lose data, renames are visible) live
//! here; which lock a change takes and whether it rewrites the table is dialect knowledge and reaches
//! this module through [`crate::plan::SqlRenderer::hazards`]. Live table statistics are attached
//! afterwards ([`attach_stats`]) and grade the severity. [`policy`] decides deny / warn / allow;
//! [`lint`] applies the same rules to migration files.

pub mod existing_rows;
pub mod lint;
pub mod renames;

use crate::diff::{
    Change, EnumChange, ExtensionChange, FunctionChange, KindChange, PolicyChange, PrivilegeChange, SchemaChange,
    SequenceChange, ViewChange,
};
use crate::diff::{ColumnChange, IndexChange, PartitionChange, TableChange};
use crate::model::{Column, ColumnRef, Name, QualifiedName};
use indexmap::{IndexMap, IndexSet};
use serde::Serialize;
use std::fmt;

macro_rules! hazard_ids {
    ($($variant:ident => $id:literal),* $(,)?) => {
        /// A stable hazard identifier.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum HazardId {
            $($variant),*
        }

        impl HazardId {
            pub const ALL: &'static [HazardId] = &[$(HazardId::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(HazardId::$variant => $id),*
                }
            }
        }
    };
}

hazard_ids! {
    DataLossTable => "data-loss-table",
    DataLossColumn => "data-loss-column",
    DataLossSequence => "data-loss-sequence",
    DataLossEnumValue => "data-loss-enum-value",
    DataLossType => "data-loss-type",
    DataLossSchema => "data-loss-schema",
    DataLossExtension => "data-loss-extension",
    TypeNarrowing => "type-narrowing",
    TableRewrite => "table-rewrite",
    AccessExclusiveScan => "access-exclusive-scan",
    BlockingIndexBuild => "blocking-index-build",
    IndexDropped => "index-dropped",
    RenameVisible => "rename-visible",
    NotNullWithoutDefault => "not-null-without-default",
    TableRebuild => "table-rebuild",
    FunctionDropped => "function-dropped",
    AuthorizationChange => "authorization-change",
    DataLossPartition => "data-loss-partition",
    ExtensionVersionKept => "extension-version-kept",
    UniqueConstantDefault => "unique-constant-default",
    ReplicaIdentityChange => "replica-identity-change",
    ReplicaIdentityNothing => "replica-identity-nothing",
    InheritParent => "inherit-parent",
    ExistingRowsViolate => "existing-rows-violate",
    ExistingRowsUnchecked => "existing-rows-unchecked",
    ProbableRename => "probable-rename",
}

impl HazardId {
    /// The ids that `schema apply --allow-destructive` allows: the ones that lose data.
    pub fn is_data_loss(self) -> bool {
        matches!(
            self,
            HazardId::DataLossTable
                | HazardId::DataLossColumn
                | HazardId::DataLossSequence
                | HazardId::DataLossEnumValue
                | HazardId::DataLossType
                | HazardId::DataLossSchema
                | HazardId::DataLossExtension
                | HazardId::DataLossPartition
                | HazardId::TypeNarrowing
                | HazardId::ProbableRename
        )
    }
}

impl fmt::Display for HazardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown hazard id {0:?} (known: {known})", known = HazardId::ALL.iter().map(|h| h.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownHazard(pub String);

impl std::str::FromStr for HazardId {
    type Err = UnknownHazard;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HazardId::ALL.iter().copied().find(|h| h.as_str() == s).ok_or_else(|| UnknownHazard(s.to_string()))
    }
}

impl Serialize for HazardId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        })
    }
}

/// One hazard of one planned change (or one statement of a linted file).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hazard {
    pub id: HazardId,
    pub severity: Severity,
    /// The lock the statement takes and on which table, e.g. `ACCESS EXCLUSIVE on public.users`.
    pub lock: Option<String>,
    /// The hazard is the lock the change holds on `table`: [`name_locks`] fills `lock` from the step's
    /// statements, which state the locks they take ([`crate::plan::name_locks`]).
    #[serde(skip)]
    pub held_lock: bool,
    /// The table the hazard concerns, where there is one.
    pub table: Option<QualifiedName>,
    /// Whether the table is rewritten (every row copied) while the lock is held.
    pub rewrites: bool,
    /// Whether the table is read in full while the lock is held.
    pub scans: bool,
    pub message: String,
    /// One imperative line.
    pub help: String,
    /// Estimated rows of `table` (live statistics), where known.
    pub rows: Option<u64>,
    /// Total size of `table` on disk, indexes included, where known.
    pub bytes: Option<u64>,
}

impl Hazard {
    pub fn new(id: HazardId, severity: Severity, message: impl Into<String>, help: impl Into<String>) -> Hazard {
        Hazard {
            id,
            severity,
            lock: None,
            held_lock: false,
            table: None,
            rewrites: false,
            scans: false,
            message: message.into(),
            help: help.into(),
            rows: None,
            bytes: None,
        }
    }

    pub fn on(mut self, table: &QualifiedName) -> Hazard {
        self.table = Some(table.clone());
        self
    }

    /// The hazard is the lock the change holds on `table`, in the mode its statements state
    /// ([`crate::plan::Statement::locks`]); [`crate::plan::name_locks`] names it once the step's SQL is
    /// written.
    pub fn holds_lock_on(mut self, table: &QualifiedName) -> Hazard {
        self.held_lock = true;
        self.table = Some(table.clone());
        self
    }

    /// The lock mode (`ACCESS EXCLUSIVE`, `SHARE`…) taken on `table`, as read from a linted statement's
    /// text (a planned change's hazards use [`Hazard::holds_lock_on`] instead).
    pub fn lock(mut self, mode: &str, table: &QualifiedName) -> Hazard {
        self.lock = Some(format!("{mode} on {table}"));
        self.held_lock = false;
        if self.table.is_none() {
            self.table = Some(table.clone());
        }
        self
    }

    pub fn rewrites(mut self) -> Hazard {
        self.rewrites = true;
        self.scans = true;
        self
    }

    pub fn scans(mut self) -> Hazard {
        self.scans = true;
        self
    }

    /// Whether the hazard's cost grows with the table's size (a lock held for a rewrite or scan, a
    /// failure on a non-empty table).
    pub fn grows_with_size(&self) -> bool {
        self.rewrites
            || self.scans
            || matches!(
                self.id,
                HazardId::NotNullWithoutDefault
                    | HazardId::UniqueConstantDefault
                    | HazardId::DataLossTable
                    | HazardId::DataLossColumn
            )
    }

    /// `ACCESS EXCLUSIVE on public.users (≈1.2M rows, 340 MB)`, or the size alone when there is no lock.
    pub fn lock_text(&self) -> Option<String> {
        let size = self.size_text();
        match (&self.lock, size) {
            (Some(lock), Some(size)) => Some(format!("{lock} ({size})")),
            (Some(lock), None) => Some(lock.clone()),
            (None, Some(size)) => self.table.as_ref().map(|t| format!("{t} ({size})")),
            (None, None) => None,
        }
    }

    fn size_text(&self) -> Option<String> {
        // There `rows` counts the rows that break the change, which the message already says.
        if self.id == HazardId::ExistingRowsViolate {
            return None;
        }
        match (self.rows, self.bytes) {
            (Some(rows), Some(bytes)) => Some(format!("≈{} rows, {}", human_count(rows), human_bytes(bytes))),
            (Some(rows), None) => Some(format!("≈{} rows", human_count(rows))),
            (None, Some(bytes)) => Some(format!("row count unknown, {}", human_bytes(bytes))),
            (None, None) => None,
        }
    }
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.id, self.severity, self.message)?;
        if let Some(lock) = self.lock_text() {
            write!(f, "; {lock}")?;
        }
        Ok(())
    }
}

/// `1.2M`, `34k`, `512`.
pub fn human_count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3).replace(".0k", "k"),
        1_000_000..1_000_000_000 => format!("{:.1}M", n as f64 / 1e6).replace(".0M", "M"),
        _ => format!("{:.1}G", n as f64 / 1e9).replace(".0G", "G"),
    }
}

/// `340 MB`, `8 kB` (powers of 1024, PostgreSQL's `pg_size_pretty` units).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} bytes") } else { format!("{:.0} {}", value, UNITS[unit]) }
}

/// Functions whose calls make a column default volatile: adding a column with such a default computes
/// it for every row, rewriting the table. `now()` and `CURRENT_TIMESTAMP` are stable and are not here.
const VOLATILE_FUNCTIONS: &[&str] =
    &["nextval(", "random(", "gen_random_uuid(", "uuid_generate_v", "clock_timestamp(", "timeofday(", "txid_current("];

/// Whether a column default (SQL text) calls a volatile function.
pub fn is_volatile_default(default: &str) -> bool {
    let lower = default.to_ascii_lowercase();
    VOLATILE_FUNCTIONS.iter().any(|f| lower.contains(f))
}

/// Live size of one table, from the database's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableStats {
    /// Estimated rows; `None` when the table was never analysed or vacuumed.
    pub rows: Option<u64>,
    /// The table and its indexes (and TOAST) on disk.
    pub bytes: u64,
    /// The table's own file (its rows), without indexes.
    pub heap_bytes: u64,
}

/// What the hazard rules know about the plan a change belongs to.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Tables (and materialized views) created by the same plan: new, so locking them costs nothing.
    pub created_tables: IndexSet<QualifiedName>,
    /// Tables dropped by the same plan: their indexes and constraints go with them.
    pub dropped_tables: IndexSet<QualifiedName>,
    /// Indexes dropped and created again under the same name (changed definitions).
    pub replaced_indexes: IndexSet<QualifiedName>,
    /// Columns that indexes, constraints, views, triggers, defaults or sequences of the current schema
    /// depend on (filled by [`rewrite::context`]), under their current names and, when the plan renames
    /// them, their new ones too. The plain indexes of [`Context::column_indexes`] are not counted.
    pub columns_in_use: IndexSet<ColumnRef>,
    /// The plain indexes (not behind a constraint) of the current schema that read a column the plan
    /// renames or whose type it changes (keyed by the column's current name), on a table that is neither
    /// partitioned nor a partition, when the plan leaves them as they are, changes that column once and
    /// none of their other columns (filled by [`rewrite::context`]): a phased rename builds them again on
    /// the new column, a phased type change on the shadow column.
    pub column_indexes: IndexMap<ColumnRef, Vec<crate::model::Index>>,
    /// Tables that a view or trigger of the current schema reads (filled by [`rewrite::context`]).
    pub tables_in_use: IndexSet<QualifiedName>,
    /// The current definition of every column (filled by [`rewrite::context`]).
    pub current_columns: IndexMap<ColumnRef, Column>,
    /// Functions created by the same plan (a revoke of their default privileges changes nothing in use).
    pub created_functions: IndexSet<crate::model::FunctionId>,
    /// Objects created by the same plan that privileges are granted on: revoking what they were created
    /// with changes nothing in use.
    pub created_targets: IndexSet<crate::model::PrivilegeTarget>,
    /// Tables attached as partitions by the same plan.
    pub attached_partitions: IndexSet<QualifiedName>,
    /// Tables rebuilt by the same plan ([`TableChange::CopyRows`]), under the names they are renamed aside to,
    /// partitions included: their rename, detach and drop lose nothing, the copy carries their rows.
    pub rebuilt_tables: IndexSet<QualifiedName>,
    /// Partitioned tables of the current schema and those the plan creates (filled by
    /// [`rewrite::rewrite`]): some online forms (concurrent index builds, `NOT VALID` foreign keys, keys
    /// `USING INDEX`) do not exist for them, and are made on their partitions instead.
    pub partitioned_tables: IndexSet<QualifiedName>,
    /// The partitions holding rows (not partitioned themselves) under each partitioned table of the schema
    /// the plan starts from, sub-partitions included, by name (filled by [`rewrite::rewrite`]): the online
    /// forms on a partitioned table work on each of them.
    pub partition_leaves: IndexMap<QualifiedName, Vec<QualifiedName>>,
    /// Indexes (not behind a constraint) of the schema the plan starts from that the plan keeps (filled by
    /// [`rewrite::rewrite`]): a partitioned index built online attaches such an index of a partition
    /// instead of building it again.
    pub kept_indexes: IndexSet<QualifiedName>,
    /// The primary key columns of the tables expand/contract backfills, when the plan keeps the key
    /// (filled by [`rewrite::context`]): backfills walk the key instead of scanning for unfilled rows.
    pub primary_keys: IndexMap<QualifiedName, Vec<Name>>,
    /// The columns and tables the plan drops while it adds or creates ones like them: probably renames
    /// that no hint declared.
    pub probable_renames: renames::ProbableRenames,
}

impl Context {
    pub fn from_changes<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Context {
        let changes: Vec<&Change> = changes.into_iter().collect();
        let mut created_tables = IndexSet::new();
        let mut dropped_tables = IndexSet::new();
        let mut dropped_indexes = IndexSet::new();
        let mut replaced_indexes = IndexSet::new();
        let mut created_functions = IndexSet::new();
        let mut created_targets = IndexSet::new();
        let mut attached_partitions = IndexSet::new();
        let mut rebuilt_tables = IndexSet::new();
        for &change in &changes {
            use crate::model::PrivilegeTarget;
            match change {
                Change::Function(FunctionChange::Create(f)) => {
                    created_functions.insert(f.id.clone());
                    created_targets.insert(PrivilegeTarget::Function(f.id.clone(), f.kind));
                }
                Change::View(ViewChange::Create(v)) if !v.materialized => {
                    created_targets.insert(PrivilegeTarget::Table(v.name.clone()));
                }
                Change::Sequence(SequenceChange::Create(q)) => {
                    created_targets.insert(PrivilegeTarget::Sequence(q.name.clone()));
                }
                Change::Schema(SchemaChange::Create(n)) => {
                    created_targets.insert(PrivilegeTarget::Schema(n.name.clone()));
                }
                Change::Index(IndexChange::Drop(i)) => {
                    dropped_indexes.insert(i.name.clone());
                }
                Change::Index(IndexChange::Create(i)) if dropped_indexes.contains(&i.name) => {
                    replaced_indexes.insert(i.name.clone());
                }
                Change::Table(TableChange::Drop(t)) => {
                    dropped_tables.insert(t.name.clone());
                }
                Change::Table(TableChange::Create(t)) => {
                    created_tables.insert(t.name.clone());
                    created_targets.insert(PrivilegeTarget::Table(t.name.clone()));
                }
                Change::View(ViewChange::Create(v)) if v.materialized => {
                    created_tables.insert(v.name.clone());
                    created_targets.insert(PrivilegeTarget::Table(v.name.clone()));
                }
                Change::Partition(PartitionChange::Attach { table, .. }) => {
                    attached_partitions.insert(table.clone());
                }
                Change::Table(TableChange::CopyRows { old_tree, .. }) => {
                    rebuilt_tables.extend(old_tree.iter().cloned());
                }
                _ => {}
            }
        }
        Context {
            probable_renames: renames::ProbableRenames::find(&changes, &rebuilt_tables),
            rebuilt_tables,
            created_tables,
            dropped_tables,
            replaced_indexes,
            created_functions,
            created_targets,
            attached_partitions,
            ..Context::default()
        }
    }

    /// Whether `table` exists before the plan runs (and may hold rows).
    pub fn existing(&self, table: &QualifiedName) -> bool {
        !self.created_tables.contains(table)
    }

    /// Whether `table` exists before the plan runs and is still there after it.
    pub fn kept(&self, table: &QualifiedName) -> bool {
        self.existing(table) && !self.dropped_tables.contains(table)
    }

    /// Whether `table` is the old table of a rebuild (or one of its partitions), under its name aside.
    pub fn rebuilt(&self, table: &QualifiedName) -> bool {
        self.rebuilt_tables.contains(table)
    }
}

/// The hazards every database shares: drops lose data, renames are visible to running code.
/// Dialects add their lock and rewrite rules on top (see [`crate::plan::SqlRenderer::hazards`]). One
/// arm per kind: a new kind does not build until it is graded here.
pub fn common_hazards(change: &Change, ctx: &Context) -> Vec<Hazard> {
    let mut out = Vec::new();
    match change {
        Change::Table(c) => table_hazards(c, ctx, &mut out),
        Change::Column(c) => column_hazards(c, ctx, &mut out),
        Change::Sequence(c) => sequence_hazards(c, &mut out),
        Change::Enum(c) => enum_hazards(c, &mut out),
        Change::Schema(c) => schema_hazards(c, &mut out),
        Change::Extension(c) => extension_hazards(c, &mut out),
        Change::Function(c) => function_hazards(c, &mut out),
        Change::Privilege(c) => privilege_hazards(c, ctx, &mut out),
        Change::Policy(c) => policy_hazards(c, ctx, &mut out),
        // No hazard every database shares (a dialect adds its locks and scans).
        Change::Constraint(_)
        | Change::Index(_)
        | Change::Partition(_)
        | Change::Inheritance(_)
        | Change::Trigger(_)
        | Change::Comment(_)
        | Change::View(_)
        | Change::Domain(_)
        | Change::CompositeType(_)
        | Change::RangeType(_)
        | Change::Collation(_) => {}
    }
    out
}

/// A dropped table loses its rows; a renamed one is missed by running code; a rebuild that leaves
/// columns out loses their values.
fn table_hazards(change: &TableChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        // The old table of a rebuild goes once its rows are copied (its hazard is the copy's).
        TableChange::Drop(t) if ctx.rebuilt(&t.name) => {}
        TableChange::Drop(t) => {
            out.push(
                Hazard::new(
                    HazardId::DataLossTable,
                    Severity::High,
                    format!("drops table {} and its rows", t.name),
                    "Stop using the table in the application first, and back up its rows if they may be needed",
                )
                .on(&t.name),
            );
            out.extend(ctx.probable_renames.table(t));
        }
        TableChange::Rename { from, to } => out.push(
            Hazard::new(
                HazardId::RenameVisible,
                Severity::High,
                format!("renames table {from} to {to}; running application code that uses the old name fails"),
                "Deploy application code that works with both names first, or (PostgreSQL) generate with --phased to keep an updatable view under the old name until the contract",
            )
            .on(to),
        ),
        TableChange::Rebuild { from, to } => {
            for column in from.columns.values().filter(|c| !to.columns.contains_key(&c.name)) {
                out.push(
                    Hazard::new(
                        HazardId::DataLossColumn,
                        Severity::High,
                        format!("drops column {}.{} and its values", from.name, column.name),
                        "Stop reading and writing the column in the application first, and back up its values if needed",
                    )
                    .on(&from.name),
                );
                // Under the declared name, as the hints name it.
                out.extend(ctx.probable_renames.column(&to.name, column));
            }
        }
        TableChange::Create(_)
        | TableChange::SetAside { .. }
        | TableChange::CopyRows { .. }
        | TableChange::SetStorageParameters { .. }
        | TableChange::SetUnlogged { .. }
        | TableChange::SetReplicaIdentity { .. } => {}
    }
}

fn column_hazards(change: &ColumnChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        ColumnChange::Drop { table, column } | ColumnChange::DropKeptByChildren { table, column } => {
            out.push(
                Hazard::new(
                    HazardId::DataLossColumn,
                    Severity::High,
                    format!("drops column {table}.{} and its values", column.name),
                    "Stop reading and writing the column in the application first, and back up its values if needed",
                )
                .on(table),
            );
            out.extend(ctx.probable_renames.column(table, column));
        }
        ColumnChange::Rename { table, from, to } => out.push(
            Hazard::new(
                HazardId::RenameVisible,
                Severity::High,
                format!("renames column {table}.{from} to {to}; running application code that uses the old name fails"),
                "Deploy application code that works with both names first, or (PostgreSQL) generate with --phased to keep both columns in sync until the contract",
            )
            .on(table),
        ),
        ColumnChange::Add { .. } | ColumnChange::Alter { .. } => {}
    }
}

fn sequence_hazards(change: &SequenceChange, out: &mut Vec<Hazard>) {
    match change {
        SequenceChange::Drop(s) => out.push(Hazard::new(
            HazardId::DataLossSequence,
            Severity::Medium,
            format!("drops sequence {} and its current value", s.name),
            "Make sure nothing calls nextval on the sequence any more",
        )),
        SequenceChange::Create(_)
        | SequenceChange::Alter { .. }
        | SequenceChange::SetOwner { .. }
        | SequenceChange::Rename { .. } => {}
    }
}

fn enum_hazards(change: &EnumChange, out: &mut Vec<Hazard>) {
    match change {
        EnumChange::Drop(e) => out.push(Hazard::new(
            HazardId::DataLossType,
            Severity::Medium,
            format!("drops type {}", e.name),
            "Make sure no column, function or application query uses the type any more",
        )),
        EnumChange::Rebuild { from, to, .. } => {
            let removed: Vec<&str> =
                from.labels.iter().filter(|l| !to.labels.contains(l)).map(String::as_str).collect();
            if !removed.is_empty() {
                out.push(Hazard::new(
                    HazardId::DataLossEnumValue,
                    Severity::High,
                    format!(
                        "removes value(s) {} from type {}; rows holding them make the migration fail",
                        removed.iter().map(|l| format!("'{l}'")).collect::<Vec<_>>().join(", "),
                        to.name
                    ),
                    "Update the rows that hold the removed values before migrating",
                ));
            }
        }
        EnumChange::Create(_) | EnumChange::AddValue { .. } => {}
    }
}

fn schema_hazards(change: &SchemaChange, out: &mut Vec<Hazard>) {
    match change {
        SchemaChange::Drop(s) => out.push(Hazard::new(
            HazardId::DataLossSchema,
            Severity::Medium,
            format!("drops schema {}", s.name),
            "Check that the schema holds nothing unmanaged that should be kept",
        )),
        SchemaChange::Create(_) => {}
    }
}

fn extension_hazards(change: &ExtensionChange, out: &mut Vec<Hazard>) {
    match change {
        ExtensionChange::AlterVersion { name, from, to, reachable: false } => out.push(Hazard::new(
            HazardId::ExtensionVersionKept,
            Severity::Medium,
            format!(
                "cannot take extension {name} from version {} to {to}: the server has no update path between them, \
                 so the extension stays at the newer version",
                from.as_deref().unwrap_or("?")
            ),
            format!("Check that the application works with it, or drop and create the extension at {to} by hand"),
        )),
        ExtensionChange::Drop(x) => out.push(Hazard::new(
            HazardId::DataLossExtension,
            Severity::High,
            format!("drops extension {} and what it stores", x.name),
            "Check that no column or function depends on the extension",
        )),
        ExtensionChange::AlterVersion { .. } | ExtensionChange::Create(_) | ExtensionChange::SetSchema { .. } => {}
    }
}

fn function_hazards(change: &FunctionChange, out: &mut Vec<Hazard>) {
    match change {
        FunctionChange::Drop(f) => out.push(Hazard::new(
            HazardId::FunctionDropped,
            Severity::Medium,
            format!(
                "drops {} {}; running application code that calls it fails until it exists again",
                f.kind.keyword().to_lowercase(),
                f.id
            ),
            "Check that nothing outside the schema calls it (or that it is created again in the same migration)",
        )),
        FunctionChange::Create(_) | FunctionChange::Replace { .. } => {}
    }
}

/// The shared rules for policies and row-level security: who sees which rows changes.
fn policy_hazards(change: &PolicyChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        PolicyChange::SetRowSecurity { table, from, to }
            if ctx.existing(table) && ((to.enabled && !from.enabled) || (to.forced && !from.forced)) =>
        {
            out.push(
                Hazard::new(
                    HazardId::AuthorizationChange,
                    Severity::Medium,
                    format!("{}; roles see only the rows a policy allows (none without a policy)", change.describe()),
                    "Create the policies the application's roles need in the same migration",
                )
                .on(table),
            )
        }
        PolicyChange::Alter { to, .. } => out.push(
            Hazard::new(
                HazardId::AuthorizationChange,
                Severity::Low,
                format!("{}; the rows it allows change for its roles", change.describe()),
                "Check that the application's roles still see and write the rows they need",
            )
            .on(&to.table),
        ),
        PolicyChange::Drop(p) if ctx.kept(&p.table) => out.push(
            Hazard::new(
                HazardId::AuthorizationChange,
                Severity::Medium,
                format!("drops policy {} on {}; the rows it allowed are no longer visible through it", p.name, p.table),
                "Check that another policy grants what the application needs",
            )
            .on(&p.table),
        ),
        PolicyChange::SetRowSecurity { .. } | PolicyChange::Create(_) | PolicyChange::Drop(_) => {}
    }
}

/// The shared rules for privileges and owners: who may do what changes.
fn privilege_hazards(change: &PrivilegeChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        PrivilegeChange::Revoke(g) if !ctx.created_targets.contains(&g.key.target) => out.push(Hazard::new(
            HazardId::AuthorizationChange,
            Severity::Medium,
            format!("{}; queries of that role that need it fail from then on", change.describe()),
            "Check that the role no longer needs the privilege",
        )),
        PrivilegeChange::RevokeDefault { .. } => out.push(Hazard::new(
            HazardId::AuthorizationChange,
            Severity::Low,
            format!("{}; objects created later no longer get it", change.describe()),
            "Check that the role is granted what it needs on objects created from now on",
        )),
        PrivilegeChange::SetOwner { from: Some(from), .. } => out.push(Hazard::new(
            HazardId::AuthorizationChange,
            Severity::Medium,
            format!("{}; {from} loses the owner's rights (ALTER, DROP, GRANT) on it", change.describe()),
            "Check that no job or application connects as the old owner to change it",
        )),
        PrivilegeChange::Revoke(_)
        | PrivilegeChange::Grant(_)
        | PrivilegeChange::GrantDefault { .. }
        | PrivilegeChange::SetOwner { from: None, .. } => {}
    }
}

/// The hazards of a database that says nothing more about its locks: the common ones, a rebuilt table,
/// and any type change as a possible narrowing.
pub fn default_hazards(change: &Change, ctx: &Context) -> Vec<Hazard> {
    let mut out = common_hazards(change, ctx);
    match change {
        Change::Table(TableChange::Rebuild { from, .. }) if ctx.existing(&from.name) => out.push(
            Hazard::new(
                HazardId::TableRebuild,
                Severity::Medium,
                format!("rebuilds table {} by copying every row into a new table", from.name),
                "Run it when writes can wait for the copy, or split the change so it needs no rebuild",
            )
            .holds_lock_on(&from.name)
            .rewrites(),
        ),
        Change::Column(ColumnChange::Alter { table, from, to }) if from.data_type != to.data_type => out.push(
            Hazard::new(
                HazardId::TypeNarrowing,
                Severity::High,
                format!(
                    "changes the type of {table}.{} from {} to {}; values that do not convert fail or are narrowed",
                    to.name, from.data_type, to.data_type
                ),
                "Check that every existing value fits the new type before migrating",
            )
            .on(table),
        ),
        _ => {}
    }
    out
}

/// Attaches live statistics to every hazard on a table that has them, and grades severity by size:
/// an empty table's rewrite is low, a large one's high.
pub fn attach_stats(hazards: &mut [Hazard], stats: &IndexMap<QualifiedName, TableStats>) {
    for hazard in hazards {
        let Some(s) = hazard.table.as_ref().and_then(|t| stats.get(t)) else { continue };
        hazard.rows = s.rows;
        hazard.bytes = Some(s.bytes);
        if hazard.grows_with_size() {
            hazard.severity = grade(s);
        }
    }
}

/// The tables a plan's hazards concern, each once, in plan order: what to ask statistics for.
pub fn tables_of<'a>(hazards: impl IntoIterator<Item = &'a Hazard>) -> Vec<QualifiedName> {
    let set: IndexSet<&QualifiedName> = hazards.into_iter().filter_map(|h| h.table.as_ref()).collect();
    set.into_iter().cloned().collect()
}

/// Row and size thresholds for severity: under 10k rows and 100 MB a lock is brief.
fn grade(s: &TableStats) -> Severity {
    const MEDIUM_ROWS: u64 = 10_000;
    const HIGH_ROWS: u64 = 1_000_000;
    const HIGH_BYTES: u64 = 1 << 30;
    match s.rows {
        Some(0) => Severity::Low,
        Some(rows) if rows < MEDIUM_ROWS && s.bytes < 100 << 20 => Severity::Low,
        Some(rows) if rows < HIGH_ROWS && s.bytes < HIGH_BYTES => Severity::Medium,
        Some(_) => Severity::High,
        None if s.bytes >= HIGH_BYTES => Severity::High,
        None => Severity::Medium,
    }
}

/// `ALTER TABLE … REPLICA IDENTITY` on an existing table: a brief lock (nothing is read), and logical decoding sends other columns of an old row; with NOTHING, a publication that publishes updates or
/// deletes makes them fail on the table ("cannot update table … because it does not have a replica identity").
pub fn replica_identity(table: &QualifiedName, nothing: bool) -> Hazard {
    let hazard = if nothing {
        Hazard::new(
            HazardId::ReplicaIdentityNothing,
            Severity::High,
            format!(
                "sets REPLICA IDENTITY NOTHING on {table}: if a publication publishes its updates or deletes, \
                 every UPDATE and DELETE on it fails from then on"
            ),
            "Check that no publication publishes updates or deletes of the table, or give it an identity",
        )
    } else {
        Hazard::new(
            HazardId::ReplicaIdentityChange,
            Severity::Low,
            format!(
                "changes the REPLICA IDENTITY of {table}: logical replication and change-data-capture consumers \
                 receive other columns of the old row from then on"
            ),
            "Check that the subscribers of the table's changes expect the new identity",
        )
    };
    hazard.holds_lock_on(table)
}

/// `ALTER TABLE child INHERIT parent` on an existing table: it reads no row, but locks the child (and the
/// parent), and the parent's queries see the child's rows. The parent's
/// CHECK constraints the child lacks (`checks`) are added first, each validated by reading the child.
pub fn inherit_parent(table: &QualifiedName, parent: &QualifiedName, checks: &[&str]) -> Hazard {
    let added = if checks.is_empty() {
        String::new()
    } else {
        format!(", and the CHECK constraints {} are added to {table} first, reading every row", checks.join(", "))
    };
    let mut hazard = Hazard::new(
        HazardId::InheritParent,
        Severity::Medium,
        format!(
            "makes {table} inherit from {parent}: queries on {parent} return the rows of {table} from then on{added}"
        ),
        "Check that the application expects the child's rows in queries on the parent",
    )
    .holds_lock_on(table);
    if !checks.is_empty() {
        hazard = hazard.scans();
    }
    hazard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for id in HazardId::ALL {
            assert_eq!(id.as_str().parse::<HazardId>().unwrap(), *id);
        }
        assert!("data-loss".parse::<HazardId>().is_err());
    }

    #[test]
    fn sizes_read_like_pg_size_pretty() {
        assert_eq!(human_count(1_234_567), "1.2M");
        assert_eq!(human_count(5_000), "5k");
        assert_eq!(human_bytes(340 * 1024 * 1024), "340 MB");
        assert_eq!(human_bytes(100), "100 bytes");
    }

    #[test]
    fn empty_tables_grade_low() {
        assert_eq!(grade(&TableStats { rows: Some(0), bytes: 8192, heap_bytes: 0 }), Severity::Low);
        assert_eq!(grade(&TableStats { rows: Some(50_000), bytes: 1 << 20, heap_bytes: 0 }), Severity::Medium);
        assert_eq!(grade(&TableStats { rows: Some(5_000_000), bytes: 1 << 31, heap_bytes: 0 }), Severity::High);
    }
}
