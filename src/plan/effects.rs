//! What each change provides, removes, needs and holds: the facts the planner turns into edges
//! ([`Key`], [`Effects`], defined in `diff/order.rs`). One exhaustive match over [`Change`]: one arm
//! for each kind with its own change enum, whose file writes its effects ([`KindChange::effects`]),
//! and the arms of the other variants grouped by object kind in the order of `diff/` (tables,
//! columns, constraints, indexes, views, partitions, functions, privileges, comments), so a new
//! variant fails to build here until its ordering is written.

use crate::diff::order::*;
use crate::diff::{Change, KindChange};
use crate::model::*;

/// The objects a constraint needs, besides its own table.
fn constraint_needs<'a>(table: &'a QualifiedName, c: &'a Constraint) -> Vec<Key<'a>> {
    let mut keys: Vec<Key> = column_keys(table, &c.columns).collect();
    if c.kind == ConstraintKind::PrimaryKey {
        keys.extend(c.columns.iter().map(|column| Key::NotNull(table, column)));
    }
    keys.extend(c.depends_on.iter().map(ref_key));
    if let Some(target) = &c.references {
        keys.push(Key::Relation(&target.table));
        keys.extend(column_keys(&target.table, &target.columns));
        keys.push(Key::UniqueColumns(&target.table, sorted(&target.columns)));
    }
    keys
}

fn constraint_provides<'a>(table: &'a QualifiedName, c: &'a Constraint) -> Vec<Key<'a>> {
    let mut keys = vec![Key::Constraint(table, &c.name)];
    if matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique) {
        keys.push(Key::UniqueColumns(table, sorted(&c.columns)));
    }
    keys.extend(constraint_index_name(table, c));
    keys
}

/// The name of the index behind a primary key, unique or exclusion constraint: the constraint's.
fn constraint_index_name<'a>(table: &'a QualifiedName, c: &'a Constraint) -> Option<Key<'a>> {
    match c.kind {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion => {
            Some(Key::RelationName(&table.schema, &c.name))
        }
        ConstraintKind::Check | ConstraintKind::ForeignKey => None,
    }
}

fn column_needs(column: &Column) -> impl Iterator<Item = Key<'_>> {
    column.depends_on.iter().map(ref_key)
}

/// The column's keys: the column, and its NOT NULL when it has one.
fn column_own_keys<'a>(table: &'a QualifiedName, column: &'a Column) -> impl Iterator<Item = Key<'a>> {
    let not_null = column.not_null.then(|| Key::NotNull(table, &column.name));
    std::iter::once(Key::Column(table, &column.name)).chain(not_null)
}

pub(super) fn effects(change: &Change) -> Effects<'_> {
    let mut e = Effects::default();
    match change {
        // Tables.
        Change::CreateTable(t) => {
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
        Change::DropTable(t) => {
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
        Change::RenameTable { from, to } | Change::SetAside { from, to } => {
            if matches!(change, Change::SetAside { .. }) {
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
        Change::RebuildTable { from, to } => {
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
        Change::CopyRows { from, to, old_tree, new_tree, .. } => {
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
        Change::SetStorageParameters { table, .. } | Change::SetUnlogged { table, .. } => {
            e.needs.push(Key::Relation(table));
        }
        Change::SetReplicaIdentity { table, from, to, key_columns, old_key_columns } => {
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
        // Columns.
        Change::AddColumn { table, column } => {
            e.provides.extend(column_own_keys(table, column));
            e.needs.push(Key::Relation(table));
            e.needs.extend(column_needs(column));
        }
        Change::DropColumn { table, column } | Change::DropColumnKeptByChildren { table, column } => {
            // Every change to an existing table runs after a rename of that table.
            e.needs.push(Key::Relation(table));
            e.removes.extend(column_own_keys(table, column));
            e.provides.push(Key::DroppedColumn(table, &column.name));
            for dependency in column.depends_on.iter() {
                match dependency {
                    // An inherited column: a child drops it once its parent has dropped it, or has stopped
                    // being its parent (PostgreSQL refuses to drop an inherited column).
                    ObjectRef::Column(c) if c.table != *table && c.column == column.name => {
                        e.needs.push(Key::DroppedColumn(&c.table, &c.column));
                        e.needs.push(Key::Uninherited(table, &c.table));
                    }
                    other => e.held.push(ref_key(other)),
                }
            }
        }
        Change::RenameColumn { table, from, to } => {
            e.removes.push(Key::Column(table, from));
            e.provides.push(Key::Column(table, to));
            e.needs.push(Key::Relation(table));
        }
        Change::AlterColumn { table, from, to } => {
            let key = Key::Column(table, &to.name);
            e.provides.push(key.clone());
            e.needs.push(Key::Relation(table));
            e.needs.extend(column_needs(to));
            e.held.extend(column_needs(from));
            // A column a child inherited from a parent it leaves changes once it has left (PostgreSQL
            // changes inherited columns only through the parent).
            for dependency in from.depends_on.iter() {
                if let ObjectRef::Column(c) = dependency
                    && c.table != *table
                    && c.column == from.name
                    && !to.depends_on.contains(dependency)
                {
                    e.needs.push(Key::Uninherited(table, &c.table));
                }
            }
            // A declared conversion calls its functions while the change runs: a drop of one waits for it.
            if to.conversion().is_some() {
                e.held.extend(to.depends_on.iter().filter(|d| matches!(d, ObjectRef::Function(_))).map(ref_key));
            }
            // Only changes of type or collation disturb the objects that read the column.
            if from.data_type != to.data_type || from.collation() != to.collation() {
                e.removes.push(key);
            }
            match (from.not_null, to.not_null) {
                (false, true) => e.provides.push(Key::NotNull(table, &to.name)),
                (true, false) => e.removes.push(Key::NotNull(table, &to.name)),
                _ => {}
            }
        }
        // Constraints.
        Change::RenameConstraint { table, from, to } => {
            // The constraint's kind is not known here: the name may be an index's.
            e.removes.push(Key::Constraint(table, from));
            e.removes.push(Key::RelationName(&table.schema, from));
            e.provides.push(Key::Constraint(table, to));
            e.provides.push(Key::RelationName(&table.schema, to));
            e.needs.push(Key::Relation(table));
            // Before the table is dropped (a name moved aside).
            e.held.push(Key::Relation(table));
        }
        Change::AddConstraint { table, constraint } => {
            e.provides.extend(constraint_provides(table, constraint));
            if constraint.kind == ConstraintKind::Check {
                e.provides.push(Key::CheckName(&constraint.name));
            }
            e.needs.push(Key::Relation(table));
            e.needs.push(Key::Rows(table));
            e.needs.extend(constraint_needs(table, constraint));
            if let Some(target) = &constraint.references {
                e.needs.push(Key::Rows(&target.table));
            }
        }
        Change::DropConstraint { table, constraint } => {
            e.needs.push(Key::Relation(table));
            e.removes.extend(constraint_provides(table, constraint));
            e.held.extend(constraint_needs(table, constraint));
            // Before a partition leaves the table: it would keep a copy of the constraint. On a partition
            // leaving its table, after it left: it may be such a copy.
            e.held.push(Key::PartitionSlot(table));
            e.needs.push(Key::Detached(table));
        }
        Change::ValidateConstraint { table, constraint } => {
            e.needs.push(Key::Constraint(table, &constraint.name));
            // A partition's copy of a check is validated once its parent's check is added.
            if constraint.kind == ConstraintKind::Check {
                e.needs.push(Key::CheckName(&constraint.name));
            }
            e.needs.extend(constraint_needs(table, constraint));
        }
        // Indexes.
        Change::RenameIndex { table, from, to } => {
            // An index a table's attach made its parent's copy takes that copy's name after the attach.
            e.needs.push(Key::Attached(table));
            e.removes.push(Key::Index(from));
            e.removes.push(relation_name(from));
            e.provides.push(Key::Index(to));
            e.provides.push(relation_name(to));
            e.needs.push(Key::Relation(table));
            e.held.push(Key::Relation(table));
        }
        Change::CreateIndex(i) => {
            e.provides.push(Key::Index(&i.name));
            e.provides.push(relation_name(&i.name));
            // The indexes it gets on the partitions take their names too, once the partitions exist; the
            // index of a partition's constraint comes with that constraint, and is attached.
            for p in &i.partitions {
                e.needs.push(Key::Relation(&p.table));
                if p.constraint {
                    e.needs.push(Key::Constraint(&p.table, &p.name.name));
                } else {
                    e.provides.push(relation_name(&p.name));
                }
            }
            if i.unique {
                e.provides.push(Key::UniqueColumns(&i.table, sorted(&i.columns)));
            }
            e.needs.push(Key::Relation(&i.table));
            e.needs.push(Key::Rows(&i.table));
            e.needs.extend(column_keys(&i.table, &i.columns));
            e.needs.extend(i.depends_on.iter().map(ref_key));
        }
        Change::DropIndex(i) => {
            e.needs.push(Key::Relation(&i.table));
            // Before a partition leaves the table: it would keep a copy of the index (and after this table
            // left its own, as above for constraints).
            e.held.push(Key::PartitionSlot(&i.table));
            e.needs.push(Key::Detached(&i.table));
            e.removes.push(Key::Index(&i.name));
            e.removes.push(relation_name(&i.name));
            e.removes.extend(i.partitions.iter().map(|p| relation_name(&p.name)));
            // A partition's constraint whose index is attached to it can go neither first nor after: the drop
            // takes it along (`CASCADE`), and a constraint the partition keeps is added again after it.
            e.removes
                .extend(i.partitions.iter().filter(|p| p.constraint).map(|p| Key::Constraint(&p.table, &p.name.name)));
            if i.unique {
                e.removes.push(Key::UniqueColumns(&i.table, sorted(&i.columns)));
            }
            e.held.extend(column_keys(&i.table, &i.columns));
            e.held.extend(i.depends_on.iter().map(ref_key));
        }
        // Partitions and inheritance.
        Change::AttachPartition { table, parent, checks, .. } => {
            e.needs.push(Key::Relation(table));
            e.needs.push(Key::Relation(parent));
            e.provides.push(Key::PartitionSlot(parent));
            e.provides.push(Key::Attached(table));
            for check in checks {
                e.provides.push(Key::Constraint(table, &check.name));
                e.needs.extend(constraint_needs(table, check));
            }
        }
        Change::DetachPartition { table, parent, .. } => {
            e.needs.push(Key::Relation(table));
            // After the parent is renamed aside (to be rebuilt), before its drop.
            e.needs.push(Key::Aside(parent));
            e.held.push(Key::Relation(parent));
            e.removes.push(Key::PartitionSlot(parent));
            e.provides.push(Key::Detached(table));
        }
        Change::Inherit { table, parent, checks } => {
            e.provides.push(Key::Inheritance(table, parent));
            e.needs.push(Key::Relation(table));
            e.needs.push(Key::Relation(parent));
            for check in checks {
                e.provides.push(Key::Constraint(table, &check.name));
                e.needs.extend(constraint_needs(table, check));
            }
        }
        Change::NoInherit { table, parent, .. } => {
            e.removes.push(Key::Inheritance(table, parent));
            e.provides.push(Key::Uninherited(table, parent));
            e.needs.push(Key::Relation(table));
            e.held.push(Key::Relation(parent));
        }
        // The kinds with their own change enum.
        Change::Trigger(c) => return c.effects(),
        Change::Policy(c) => return c.effects(),
        Change::Comment(c) => return c.effects(),
        Change::Privilege(c) => return c.effects(),
        Change::Function(c) => return c.effects(),
        Change::View(c) => return c.effects(),
        Change::Sequence(c) => return c.effects(),
        Change::Enum(c) => return c.effects(),
        Change::Domain(c) => return c.effects(),
        Change::CompositeType(c) => return c.effects(),
        Change::RangeType(c) => return c.effects(),
        Change::Extension(c) => return c.effects(),
        Change::Schema(c) => return c.effects(),
        Change::Collation(c) => return c.effects(),
    }
    e
}

/// Keys that belong to the table itself (a self-referencing foreign key needs nothing outside it).
fn is_own(key: &Key, table: &QualifiedName) -> bool {
    match key {
        Key::Relation(n) | Key::Column(n, _) | Key::NotNull(n, _) | Key::UniqueColumns(n, _) => *n == table,
        _ => false,
    }
}
