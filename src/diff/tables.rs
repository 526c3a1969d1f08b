//! Tables: created, dropped, and for a table on both sides the changes of its columns, constraints,
//! parents, options and comments (each in its kind's file).

use super::KindChange;
use super::columns::{column_needs, column_own_keys};
use super::constraints::{constraint_index_name, constraint_needs, constraint_provides};
use super::order::{Effects, Key, Rank, relation_name};
use super::{
    Change, ColumnConversion, CommentTarget,
    columns::diff_columns,
    comment,
    constraints::{diff_constraints, same_constraint, strip_not_valid},
    inheritance::{columns_inherited, identity_columns, index_recreated},
    keyed::{Sides, keyed},
    partitions::diff_partition_not_null,
};
use super::{ConstraintChange, PartitionChange};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A change of a table as a whole: created, dropped, renamed, its options, or rebuilt (SQLite's copy,
/// or PostgreSQL's for a changed partition key; see `diff/rebuild.rs`). Unboxed like the rest of
/// [`Change`], whose size is its largest kind's.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TableChange {
    /// A new table with its columns and every constraint except foreign keys, which are separate
    /// changes so that tables referencing each other can be created first.
    #[serde(rename = "CreateTable")]
    Create(Table),
    #[serde(rename = "DropTable")]
    Drop(Table),
    #[serde(rename = "RenameTable")]
    Rename {
        from: QualifiedName,
        to: QualifiedName,
    },
    /// The table is rebuilt: created anew under a temporary name, rows copied (columns present on both
    /// sides), old table dropped, new one renamed. For databases whose ALTER TABLE cannot make the
    /// change in place; produced only by a dialect's [`crate::plan::SqlRenderer::adapt`].
    #[serde(rename = "RebuildTable")]
    Rebuild {
        from: Table,
        to: Table,
    },
    /// A table to be rebuilt renamed aside, to be dropped once its rows are copied ([`TableChange::CopyRows`]).
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
}
impl KindChange for TableChange {
    fn describe(&self) -> String {
        match self {
            TableChange::Create(t) => format!("create table {}", t.name),
            TableChange::Drop(t) => format!("drop table {}", t.name),
            TableChange::Rename { from, to } => format!("rename table {from} to {to}"),
            TableChange::Rebuild { to, .. } => format!("rebuild table {} (copying its rows)", to.name),
            TableChange::CopyRows { to, .. } => {
                format!("copy the rows of table {} into its rebuilt table", to.name)
            }
            TableChange::SetAside { from, to } => {
                format!("rename table {from} aside to {} (rebuilt)", to.name)
            }
            TableChange::SetStorageParameters { table, .. } => {
                format!("set storage parameters of {table}")
            }
            TableChange::SetUnlogged { table, unlogged } => {
                format!("set {table} {}", if *unlogged { "unlogged" } else { "logged" })
            }
            TableChange::SetReplicaIdentity { table, to, .. } => {
                format!("set replica identity of {table} to {}", describe_replica_identity(to))
            }
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            TableChange::Create(t) => {
                e.provides.push(Key::Relation(&t.name));
                e.provides.push(Key::Type(&t.name));
                e.provides.push(relation_name(&t.name));
                e.needs.push(Key::Schema(&t.name.schema));
                for column in t.columns.values() {
                    e.provides.extend(column_own_keys(&t.name, column));
                    e.needs.extend(column_needs(column));
                }
                for c in t.constraints.values() {
                    e.provides.extend(constraint_provides(&t.name, c));
                    e.needs.extend(constraint_needs(&t.name, c).into_iter().filter(|k| !is_own(k, &t.name)));
                }
                if let Some(p) = &t.partition_of {
                    e.needs.push(Key::Relation(&p.parent));
                    e.provides.push(Key::PartitionSlot(&p.parent));
                }
                for parent in &t.inherits {
                    e.needs.push(Key::Relation(parent));
                    e.provides.push(Key::Inheritance(&t.name, parent));
                }
            }
            TableChange::Drop(t) => {
                // After the table is renamed aside, when it is the old table of a rebuild.
                e.needs.push(Key::Aside(&t.name));
                e.removes.push(Key::Relation(&t.name));
                e.removes.push(Key::Type(&t.name));
                e.removes.push(relation_name(&t.name));
                e.held.push(Key::Schema(&t.name.schema));
                for column in t.columns.values() {
                    e.removes.extend(column_own_keys(&t.name, column));
                    e.held.extend(column_needs(column));
                }
                // The names of its constraints' indexes are not freed here: the dialect moves a name that
                // another object takes aside first ([`SqlRenderer::adapt`]), since the table itself may have
                // to wait for that object (a sequence moving over to it).
                for c in t.constraints.values() {
                    let index_name = constraint_index_name(&t.name, c);
                    e.removes
                        .extend(constraint_provides(&t.name, c).into_iter().filter(|k| Some(k) != index_name.as_ref()));
                    e.held.extend(constraint_needs(&t.name, c).into_iter().filter(|k| !is_own(k, &t.name)));
                }
                if let Some(p) = &t.partition_of {
                    e.held.push(Key::Relation(&p.parent));
                    e.removes.push(Key::PartitionSlot(&p.parent));
                }
                // A child goes before its parents (PostgreSQL refuses to drop a parent that has children).
                for parent in &t.inherits {
                    e.held.push(Key::Relation(parent));
                    e.removes.push(Key::Inheritance(&t.name, parent));
                }
            }
            TableChange::Rename { from, to } | TableChange::SetAside { from, to } => {
                if matches!(self, TableChange::SetAside { .. }) {
                    e.provides.push(Key::Aside(to));
                }
                e.removes.push(Key::Relation(from));
                e.removes.push(Key::Type(from));
                e.removes.push(relation_name(from));
                e.provides.push(Key::Relation(to));
                e.provides.push(Key::Type(to));
                e.provides.push(relation_name(to));
                e.needs.push(Key::Schema(&to.schema));
            }
            TableChange::Rebuild { from, to } => {
                // What reads the old table goes first; the new table provides it all again.
                e.provides.push(Key::Relation(&to.name));
                e.removes.push(Key::Relation(&from.name));
                e.provides.push(relation_name(&to.name));
                e.removes.push(relation_name(&from.name));
                for column in from.columns.values() {
                    e.removes.extend(column_own_keys(&from.name, column));
                    e.held.extend(column_needs(column));
                }
                for column in to.columns.values() {
                    e.provides.extend(column_own_keys(&to.name, column));
                    e.needs.extend(column_needs(column));
                }
                for c in from.constraints.values() {
                    e.removes.extend(constraint_provides(&from.name, c));
                }
                for c in to.constraints.values() {
                    e.provides.extend(constraint_provides(&to.name, c));
                    e.needs.extend(constraint_needs(&to.name, c).into_iter().filter(|k| !is_own(k, &to.name)));
                }
            }
            TableChange::CopyRows { from, to, old_tree, new_tree, .. } => {
                // After the new tables and the partitions attached to them, and after the partitions that stay
                // tables of their own have left the old ones (a detach "removes" room the copy "provides"),
                // before the old tables are dropped.
                for name in new_tree {
                    e.needs.push(Key::Relation(name));
                    e.needs.push(Key::PartitionSlot(name));
                    e.provides.push(Key::Rows(name));
                }
                e.needs.extend(to.columns.values().map(|c| Key::Column(&to.name, &c.name)));
                for name in old_tree {
                    e.needs.push(Key::Relation(name));
                    e.held.push(Key::Relation(name));
                    e.provides.push(Key::PartitionSlot(name));
                }
                e.held.extend(from.columns.values().map(|c| Key::Column(&from.name, &c.name)));
            }
            TableChange::SetStorageParameters { table, .. } | TableChange::SetUnlogged { table, .. } => {
                e.needs.push(Key::Relation(table));
            }
            TableChange::SetReplicaIdentity { table, from, to, key_columns, old_key_columns } => {
                e.needs.push(Key::Relation(table));
                if let Some(ReplicaIdentity::Index(index)) = to {
                    e.needs.push(Key::RelationName(&table.schema, index));
                    e.needs.extend(key_columns.iter().map(|c| Key::NotNull(table, c)));
                }
                // Moved off its old index before that index is dropped.
                if let Some(ReplicaIdentity::Index(index)) = from {
                    e.held.push(Key::RelationName(&table.schema, index));
                    e.held.extend(old_key_columns.iter().map(|c| Key::NotNull(table, c)));
                }
            }
        }
        e
    }

    fn slug(&self) -> String {
        match self {
            TableChange::Create(t) => format!("create_{}", t.name.name),
            TableChange::Drop(t) => format!("drop_{}", t.name.name),
            TableChange::Rename { to, .. } => format!("rename_{}", to.name),
            TableChange::Rebuild { to, .. } => format!("alter_{}", to.name.name),
            TableChange::CopyRows { to, .. } => format!("rebuild_{}", to.name.name),
            TableChange::SetAside { .. }
            | TableChange::SetStorageParameters { .. }
            | TableChange::SetUnlogged { .. }
            | TableChange::SetReplicaIdentity { .. } => self.describe().replace(' ', "_"),
        }
    }

    fn rank(&self) -> Rank {
        match self {
            TableChange::Drop(_) => Rank::DropTables,
            TableChange::Rename { .. } | TableChange::SetAside { .. } => Rank::RenameRelations,
            TableChange::Create(_) => Rank::CreateTables,
            TableChange::Rebuild { .. }
            | TableChange::SetStorageParameters { .. }
            | TableChange::SetUnlogged { .. } => Rank::AlterColumns,
            TableChange::CopyRows { .. } => Rank::AddConstraints,
            TableChange::SetReplicaIdentity { .. } => Rank::CreateViews,
        }
    }

    /// A dropped table takes its relation, its row type and its columns away; a table renamed (aside or
    /// not) or rebuilt keeps its name for what depends on it.
    fn disturbs(&self, objects: &mut IndexSet<ObjectRef>) {
        match self {
            TableChange::Drop(t) => {
                objects.insert(ObjectRef::Relation(t.name.clone()));
                objects.insert(ObjectRef::Type(t.name.clone()));
                objects.extend(
                    t.columns.keys().map(|c| ObjectRef::Column(ColumnRef { table: t.name.clone(), column: c.clone() })),
                );
            }
            TableChange::Create(_)
            | TableChange::Rename { .. }
            | TableChange::Rebuild { .. }
            | TableChange::SetAside { .. }
            | TableChange::CopyRows { .. }
            | TableChange::SetStorageParameters { .. }
            | TableChange::SetUnlogged { .. }
            | TableChange::SetReplicaIdentity { .. } => {}
        }
    }
}

/// Diffs tables, columns and constraints; returns the columns that disappear (dropped tables included).
pub(super) fn diff(
    current: &Catalog,
    desired: &Catalog,
    conversions: &[ColumnConversion],
    out: &mut Vec<Change>,
) -> IndexSet<ColumnRef> {
    let mut gone = IndexSet::new();
    let mut foreign_keys = Vec::new();
    for (name, sides) in keyed(&current.tables, &desired.tables) {
        match sides {
            Sides::Created(want) => {
                let mut created = want.clone();
                created.constraints.retain(|_, c| c.kind != ConstraintKind::ForeignKey);
                for constraint in want.constraints.values().filter(|c| c.kind == ConstraintKind::ForeignKey) {
                    foreign_keys.push(Change::Constraint(ConstraintChange::Add {
                        table: name.clone(),
                        constraint: constraint.clone(),
                    }));
                }
                out.push(Change::Table(TableChange::Create(created)));
                super::inheritance::created_child_columns(desired, want, out);
                push_table_comments(name, None, want, out);
            }
            Sides::Both(have, want) => {
                // A child's columns and constraints are diffed from what its parents' changes leave.
                let base = super::inheritance::through_parents(current, desired, have, want);
                if !columns_inherited(have, want) {
                    let functions = [&current.functions, &desired.functions];
                    diff_columns(name, &base, want, conversions, functions, out, &mut gone);
                } else {
                    diff_partition_not_null(name, have, want, current, desired, out);
                }
                super::inheritance::diff_parents(current, desired, name, have, want, out);
                diff_constraints(name, &base, want, out, &mut foreign_keys);
                diff_table_options(desired, name, have, want, out);
                push_table_comments(name, Some(have), want, out);
            }
            Sides::Dropped(have) => {
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
                        out.push(Change::Constraint(ConstraintChange::Drop {
                            table: name.clone(),
                            constraint: constraint.clone(),
                        }));
                    }
                    !between_dropped
                });
                out.push(Change::Table(TableChange::Drop(dropped)));
            }
        }
    }
    out.extend(foreign_keys);
    gone
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

/// Whether a relation stays in place: declared, and not dropped and recreated by this diff. Indexes and
/// triggers of other relations go away with them.
pub(super) fn relation_survives(desired: &Catalog, recreated: &IndexSet<QualifiedName>, table: &QualifiedName) -> bool {
    (desired.tables.contains_key(table) || desired.views.contains_key(table)) && !recreated.contains(table)
}

/// Partition membership, storage parameters and logging of a table present on both sides.
fn diff_table_options(desired: &Catalog, name: &QualifiedName, have: &Table, want: &Table, out: &mut Vec<Change>) {
    if have.partition_of != want.partition_of {
        if let Some(old) = &have.partition_of {
            out.push(Change::Partition(PartitionChange::Detach {
                table: name.clone(),
                parent: old.parent.clone(),
                bound: old.bound.clone(),
            }));
        }
        if let Some(new) = &want.partition_of {
            // The table's own checks that are the parent's become the parent's copies on ATTACH: they stay.
            let mut checks = Vec::new();
            let parent_checks = desired.tables.get(&new.parent).map(|p| p.constraints.values());
            for check in parent_checks.into_iter().flatten().filter(|c| c.kind == ConstraintKind::Check) {
                let alike = have.constraints.get(&check.name).is_some_and(|own| {
                    same_constraint(own, check) || own.validated && &*own.definition == strip_not_valid(check)
                });
                if alike {
                    out.retain(|c| !matches!(c, Change::Constraint(ConstraintChange::Drop { table, constraint }) if table == name && constraint.name == check.name));
                } else {
                    checks.push(check.clone());
                }
            }
            out.push(Change::Partition(PartitionChange::Attach {
                table: name.clone(),
                parent: new.parent.clone(),
                bound: new.bound.clone(),
                checks,
            }));
        }
    }
    if have.storage_parameters != want.storage_parameters {
        out.push(Change::Table(TableChange::SetStorageParameters {
            table: name.clone(),
            from: have.storage_parameters.clone(),
            to: want.storage_parameters.clone(),
        }));
    }
    if have.unlogged != want.unlogged {
        out.push(Change::Table(TableChange::SetUnlogged { table: name.clone(), unlogged: want.unlogged }));
    }
}

/// `ALTER TABLE … REPLICA IDENTITY` where it differs, and again after its index is dropped and created
/// anew (a new index is not the identity, even under the old name). Runs after the index and constraint
/// changes are known.
pub(super) fn diff_replica_identity(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let mut changes = Vec::new();
    for (name, want) in &desired.tables {
        // A new table starts at the default.
        let have = current.tables.get(name).and_then(|t| t.replica_identity.clone());
        let rebuilt = matches!(&have, Some(ReplicaIdentity::Index(index)) if index_recreated(name, index, out));
        if have == want.replica_identity && !rebuilt {
            continue;
        }
        let key_columns = match &want.replica_identity {
            Some(ReplicaIdentity::Index(index)) => identity_columns(desired, name, index),
            _ => Vec::new(),
        };
        let old_key_columns = match &have {
            Some(ReplicaIdentity::Index(index)) if !rebuilt => identity_columns(current, name, index),
            _ => Vec::new(),
        };
        changes.push(Change::Table(TableChange::SetReplicaIdentity {
            table: name.clone(),
            // The identity goes with its dropped index: set again after the new one, from nothing.
            from: if rebuilt { None } else { have },
            to: want.replica_identity.clone(),
            key_columns,
            old_key_columns,
        }));
    }
    out.extend(changes);
}

/// Keys that belong to the table itself (a self-referencing foreign key needs nothing outside it).
fn is_own(key: &Key, table: &QualifiedName) -> bool {
    match key {
        Key::Relation(n) | Key::Column(n, _) | Key::NotNull(n, _) | Key::UniqueColumns(n, _) => *n == table,
        _ => false,
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
