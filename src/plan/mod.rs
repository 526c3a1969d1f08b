//! Orders a [`ChangeSet`] by dependencies. Every change is a node in a petgraph graph; edges come from
//! what each change creates, removes, needs and held (see [`Effects`]). Ties are broken by a fixed
//! priority and then by the change's position in the change set, so the same input always produces
//! the same order.

use crate::diff::{Change, ChangeSet};
use crate::model::*;
use indexmap::{IndexMap, IndexSet};
use petgraph::graph::{DiGraph, NodeIndex};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

mod types;

/// Something a change can create, remove or depend on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Schema(String),
    Extension(String),
    Type(QualifiedName),
    Sequence(QualifiedName),
    Relation(QualifiedName),
    Column(QualifiedName, String),
    Constraint(QualifiedName, String),
    /// A primary key, unique constraint or unique index over these (sorted) columns: what a foreign
    /// key referencing them needs.
    UniqueColumns(QualifiedName, Vec<String>),
    Index(QualifiedName),
    Trigger(QualifiedName),
    Collation(QualifiedName),
    /// Room among a partitioned table's partitions: partitions leave before others arrive.
    PartitionSlot(QualifiedName),
    Function(FunctionId),
    Policy(QualifiedName),
    Privilege(GrantKey),
}

/// The dependency facts of one change.
#[derive(Default, Debug)]
struct Effects {
    /// Objects created or changed: run before the changes that need them.
    provides: Vec<Key>,
    /// Objects dropped or changed: run after the changes whose old objects held them.
    removes: Vec<Key>,
    /// What the new state of this change depends on.
    needs: Vec<Key>,
    /// What the old object removed by this change depended on.
    held: Vec<Key>,
}

#[derive(Debug, thiserror::Error)]
#[error("the changes depend on each other in a cycle: {}", .0.join(" -> "))]
pub struct CycleError(pub Vec<String>);

/// Returns the changes in an order that respects their dependencies.
pub fn order(changes: &ChangeSet) -> Result<Vec<Change>, CycleError> {
    Ok(order_indices(changes)?.into_iter().map(|i| changes.changes[i].clone()).collect())
}

/// The positions of the changes in an order that respects their dependencies. The dependency facts
/// (a copy of every name involved) are freed before the caller copies or moves the changes themselves.
fn order_indices(changes: &ChangeSet) -> Result<Vec<usize>, CycleError> {
    let effects: Vec<Effects> = changes.changes.iter().map(effects).collect();
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(effects.len(), effects.len() * 2);
    let nodes: Vec<NodeIndex> = (0..effects.len()).map(|i| graph.add_node(i)).collect();

    let edges = edges(&effects);
    for (from, to) in edges {
        if from != to {
            graph.add_edge(nodes[from], nodes[to], ());
        }
    }
    drop(effects);

    // Kahn's algorithm with a priority queue, so ties are broken the same way every time.
    let mut indegree: Vec<usize> =
        nodes.iter().map(|&n| graph.neighbors_directed(n, petgraph::Incoming).count()).collect();
    let mut ready: BinaryHeap<Reverse<(u8, usize)>> = BinaryHeap::new();
    for (i, &deg) in indegree.iter().enumerate() {
        if deg == 0 {
            ready.push(Reverse((priority(&changes.changes[i]), i)));
        }
    }
    let mut ordered = Vec::with_capacity(nodes.len());
    while let Some(Reverse((_, i))) = ready.pop() {
        ordered.push(i);
        for next in graph.neighbors_directed(nodes[i], petgraph::Outgoing) {
            let j = graph[next];
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(Reverse((priority(&changes.changes[j]), j)));
            }
        }
    }
    if ordered.len() != nodes.len() {
        let stuck: Vec<String> =
            indegree.iter().enumerate().filter(|(_, d)| **d > 0).map(|(i, _)| changes.changes[i].describe()).collect();
        return Err(CycleError(stuck));
    }
    Ok(ordered)
}

/// The dependency edges `(before, after)` between changes, from their effects.
fn edges(effects: &[Effects]) -> IndexSet<(usize, usize)> {
    let mut providers: IndexMap<&Key, Vec<usize>> = IndexMap::new();
    let mut removers: IndexMap<&Key, Vec<usize>> = IndexMap::new();
    for (i, e) in effects.iter().enumerate() {
        for key in &e.provides {
            providers.entry(key).or_default().push(i);
        }
        for key in &e.removes {
            removers.entry(key).or_default().push(i);
        }
    }
    let mut edges: IndexSet<(usize, usize)> = IndexSet::new();
    for (i, e) in effects.iter().enumerate() {
        for key in &e.needs {
            for &p in providers.get(key).into_iter().flatten() {
                edges.insert((p, i));
            }
        }
        for key in &e.held {
            for &r in removers.get(key).into_iter().flatten() {
                edges.insert((i, r));
            }
        }
    }
    // An object that is dropped and created again: the drop goes first.
    for (key, removing) in &removers {
        for &p in providers.get(key).into_iter().flatten() {
            for &r in removing {
                let replaces_itself = effects[p].removes.contains(key) || effects[r].provides.contains(key);
                if !replaces_itself {
                    edges.insert((r, p));
                }
            }
        }
    }
    edges
}

/// For each change of an ordered list, the earlier changes it must run after (the edges [`order`] uses).
/// The safety rewrites use it to move changes between migration files without breaking an order.
pub fn dependencies(ordered: &[Change]) -> Vec<Vec<usize>> {
    let effects: Vec<Effects> = ordered.iter().map(effects).collect();
    let mut deps = vec![Vec::new(); ordered.len()];
    for (before, after) in edges(&effects) {
        if before < after {
            deps[after].push(before);
        }
    }
    deps
}

/// Whether two changes create, change or remove a same object: how a change of the down plan is paired
/// with the up change it reverts.
pub fn same_object(a: &Change, b: &Change) -> bool {
    let keys = |c: &Change| {
        let e = effects(c);
        e.provides.into_iter().chain(e.removes).filter(|k| !matches!(k, Key::UniqueColumns(..))).collect::<Vec<_>>()
    };
    let theirs = keys(b);
    keys(a).iter().any(|k| theirs.contains(k))
}

/// Among changes that are free to run, drops of dependants go first, then definitions from the
/// outside in (schemas, types, tables, columns, constraints, indexes, views), comments last.
fn priority(change: &Change) -> u8 {
    match change {
        Change::DropView(_) => 0,
        Change::DropConstraint { .. } => 1,
        Change::DropIndex(_) => 2,
        Change::SetSequenceOwner { .. } => 3,
        Change::DropColumn { .. } => 4,
        Change::DropTable(_) => 5,
        Change::DropSequence(_) => 6,
        Change::DropEnum(_) => 7,
        Change::DropExtension(_) => 8,
        Change::DropSchema(_) => 9,
        Change::CreateSchema(_) => 10,
        Change::CreateExtension(_) => 11,
        Change::CreateEnum(_) | Change::AddEnumValue { .. } | Change::RebuildEnum { .. } => 12,
        Change::CreateSequence(_) | Change::AlterSequence { .. } => 13,
        Change::RenameTable { .. } => 14,
        Change::RenameColumn { .. }
        | Change::RenameConstraint { .. }
        | Change::RenameIndex { .. }
        | Change::RenameSequence { .. } => 15,
        Change::CreateTable(_) => 16,
        Change::AddColumn { .. } => 17,
        Change::AlterColumn { .. } => 18,
        Change::AddConstraint { .. } | Change::ValidateConstraint { .. } => 19,
        Change::CreateIndex(_) => 20,
        Change::CreateView(_) => 21,
        Change::DropTrigger(_) => 0,
        Change::RebuildTable { .. } => 18,
        Change::CreateTrigger(_) => 22,
        Change::SetComment { .. } => 23,
        Change::CreateDomain(_)
        | Change::DropDomain(_)
        | Change::AlterDomain { .. }
        | Change::CreateCompositeType(_)
        | Change::DropCompositeType(_)
        | Change::AlterCompositeType { .. }
        | Change::CreateRangeType(_)
        | Change::DropRangeType(_)
        | Change::CreateCollation(_)
        | Change::DropCollation(_)
        | Change::AlterExtensionVersion { .. }
        | Change::AttachPartition { .. }
        | Change::DetachPartition { .. }
        | Change::SetStorageParameters { .. }
        | Change::SetUnlogged { .. } => types::priority(change),
        Change::DropPolicy(_) => 0,
        // After the tables they may read, which a body in a string does not record.
        Change::DropFunction(_) => 6,
        Change::CreateFunction(_) | Change::ReplaceFunction { .. } => 18,
        Change::CreatePolicy(_) | Change::SetRowSecurity { .. } => 22,
        Change::RevokePrivilege(_) => 0,
        Change::GrantPrivilege(_) => 23,
        // Before the objects they apply to are created.
        Change::GrantDefaultPrivilege { .. } | Change::RevokeDefaultPrivilege { .. } => 10,
        // After the grants, which the old owner may be the one allowed to give.
        Change::SetOwner { .. } => 24,
    }
}

fn column_keys(table: &QualifiedName, columns: &[String]) -> impl Iterator<Item = Key> {
    columns.iter().map(move |c| Key::Column(table.clone(), c.clone()))
}

fn ref_key(r: &ObjectRef) -> Key {
    match r {
        ObjectRef::Type(n) => Key::Type(n.clone()),
        ObjectRef::Sequence(n) => Key::Sequence(n.clone()),
        ObjectRef::Relation(n) => Key::Relation(n.clone()),
        ObjectRef::Column(c) => Key::Column(c.table.clone(), c.column.clone()),
        ObjectRef::Collation(n) => Key::Collation(n.clone()),
        ObjectRef::Function(id) => Key::Function(id.clone()),
    }
}

fn sorted(columns: &[String]) -> Vec<String> {
    let mut v = columns.to_vec();
    v.sort();
    v
}

/// The objects a constraint needs, besides its own table.
fn constraint_needs(table: &QualifiedName, c: &Constraint) -> Vec<Key> {
    let mut keys: Vec<Key> = column_keys(table, &c.columns).collect();
    keys.extend(c.depends_on.iter().map(ref_key));
    if let Some(target) = &c.references {
        keys.push(Key::Relation(target.table.clone()));
        keys.extend(column_keys(&target.table, &target.columns));
        keys.push(Key::UniqueColumns(target.table.clone(), sorted(&target.columns)));
    }
    keys
}

fn constraint_provides(table: &QualifiedName, c: &Constraint) -> Vec<Key> {
    let mut keys = vec![Key::Constraint(table.clone(), c.name.clone())];
    if matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique) {
        keys.push(Key::UniqueColumns(table.clone(), sorted(&c.columns)));
    }
    keys
}

fn column_needs(column: &Column) -> impl Iterator<Item = Key> + '_ {
    column.depends_on.iter().map(ref_key)
}

fn effects(change: &Change) -> Effects {
    let mut e = Effects::default();
    match change {
        Change::CreateSchema(s) => e.provides.push(Key::Schema(s.name.clone())),
        Change::DropSchema(s) => e.removes.push(Key::Schema(s.name.clone())),
        Change::CreateExtension(x) => {
            e.provides.push(Key::Extension(x.name.clone()));
            e.needs.push(Key::Schema(x.schema.clone()));
        }
        Change::DropExtension(x) => {
            e.removes.push(Key::Extension(x.name.clone()));
            e.held.push(Key::Schema(x.schema.clone()));
        }
        Change::CreateEnum(t) => {
            e.provides.push(Key::Type(t.name.clone()));
            e.needs.push(Key::Schema(t.name.schema.clone()));
        }
        Change::DropEnum(t) => {
            e.removes.push(Key::Type(t.name.clone()));
            e.held.push(Key::Schema(t.name.schema.clone()));
        }
        Change::AddEnumValue { name, .. } => e.provides.push(Key::Type(name.clone())),
        Change::RebuildEnum { to, columns, .. } => {
            // The type is replaced in place and the columns using it are converted by this change
            // itself; what reads those columns (views) must go first and come back after.
            e.provides.push(Key::Type(to.name.clone()));
            for use_ in columns {
                let key = Key::Column(use_.column.table.clone(), use_.column.column.clone());
                e.provides.push(key.clone());
                e.removes.push(key);
            }
        }
        Change::CreateSequence(s) => {
            e.provides.push(Key::Sequence(s.name.clone()));
            e.needs.push(Key::Schema(s.name.schema.clone()));
        }
        Change::DropSequence(s) => {
            e.removes.push(Key::Sequence(s.name.clone()));
            e.held.push(Key::Schema(s.name.schema.clone()));
        }
        Change::AlterSequence { to, .. } => e.provides.push(Key::Sequence(to.name.clone())),
        Change::SetSequenceOwner { sequence, from, to } => {
            e.needs.push(Key::Sequence(sequence.clone()));
            if let Some(owner) = to {
                e.needs.push(Key::Relation(owner.table.clone()));
                e.needs.push(Key::Column(owner.table.clone(), owner.column.clone()));
            }
            if let Some(owner) = from {
                e.held.push(Key::Column(owner.table.clone(), owner.column.clone()));
            }
        }
        Change::CreateTable(t) => {
            e.provides.push(Key::Relation(t.name.clone()));
            e.needs.push(Key::Schema(t.name.schema.clone()));
            for column in t.columns.values() {
                e.provides.push(Key::Column(t.name.clone(), column.name.clone()));
                e.needs.extend(column_needs(column));
            }
            for c in t.constraints.values() {
                e.provides.extend(constraint_provides(&t.name, c));
                e.needs.extend(constraint_needs(&t.name, c).into_iter().filter(|k| !is_own(k, &t.name)));
            }
        }
        Change::DropTable(t) => {
            e.removes.push(Key::Relation(t.name.clone()));
            e.held.push(Key::Schema(t.name.schema.clone()));
            for column in t.columns.values() {
                e.removes.push(Key::Column(t.name.clone(), column.name.clone()));
                e.held.extend(column_needs(column));
            }
            for c in t.constraints.values() {
                e.removes.extend(constraint_provides(&t.name, c));
                e.held.extend(constraint_needs(&t.name, c).into_iter().filter(|k| !is_own(k, &t.name)));
            }
        }
        Change::RenameTable { from, to } => {
            e.removes.push(Key::Relation(from.clone()));
            e.provides.push(Key::Relation(to.clone()));
            e.needs.push(Key::Schema(to.schema.clone()));
        }
        Change::AddColumn { table, column } => {
            e.provides.push(Key::Column(table.clone(), column.name.clone()));
            e.needs.push(Key::Relation(table.clone()));
            e.needs.extend(column_needs(column));
        }
        Change::DropColumn { table, column } => {
            // Every change to an existing table runs after a rename of that table.
            e.needs.push(Key::Relation(table.clone()));
            e.removes.push(Key::Column(table.clone(), column.name.clone()));
            e.held.extend(column_needs(column));
        }
        Change::RenameColumn { table, from, to } => {
            e.removes.push(Key::Column(table.clone(), from.clone()));
            e.provides.push(Key::Column(table.clone(), to.clone()));
            e.needs.push(Key::Relation(table.clone()));
        }
        Change::RenameConstraint { table, from, to } => {
            e.removes.push(Key::Constraint(table.clone(), from.clone()));
            e.provides.push(Key::Constraint(table.clone(), to.clone()));
            e.needs.push(Key::Relation(table.clone()));
        }
        Change::RenameSequence { from, to } => {
            e.removes.push(Key::Sequence(from.clone()));
            e.provides.push(Key::Sequence(QualifiedName::new(&from.schema, to)));
        }
        Change::RenameIndex { table, from, to } => {
            e.removes.push(Key::Index(from.clone()));
            e.provides.push(Key::Index(QualifiedName::new(&from.schema, to)));
            e.needs.push(Key::Relation(table.clone()));
        }
        Change::AlterColumn { table, from, to } => {
            let key = Key::Column(table.clone(), to.name.clone());
            e.provides.push(key.clone());
            e.needs.push(Key::Relation(table.clone()));
            e.needs.extend(column_needs(to));
            e.held.extend(column_needs(from));
            // Only changes of type or collation disturb the objects that read the column.
            if from.data_type != to.data_type || from.collation != to.collation {
                e.removes.push(key);
            }
        }
        Change::AddConstraint { table, constraint } => {
            e.provides.extend(constraint_provides(table, constraint));
            e.needs.push(Key::Relation(table.clone()));
            e.needs.extend(constraint_needs(table, constraint));
        }
        Change::DropConstraint { table, constraint } => {
            e.needs.push(Key::Relation(table.clone()));
            e.removes.extend(constraint_provides(table, constraint));
            e.held.extend(constraint_needs(table, constraint));
        }
        Change::ValidateConstraint { table, constraint } => {
            e.needs.push(Key::Constraint(table.clone(), constraint.name.clone()));
            e.needs.extend(constraint_needs(table, constraint));
        }
        Change::CreateIndex(i) => {
            e.provides.push(Key::Index(i.name.clone()));
            if i.unique {
                e.provides.push(Key::UniqueColumns(i.table.clone(), sorted(&i.columns)));
            }
            e.needs.push(Key::Relation(i.table.clone()));
            e.needs.extend(column_keys(&i.table, &i.columns));
        }
        Change::DropIndex(i) => {
            e.needs.push(Key::Relation(i.table.clone()));
            e.removes.push(Key::Index(i.name.clone()));
            if i.unique {
                e.removes.push(Key::UniqueColumns(i.table.clone(), sorted(&i.columns)));
            }
            e.held.extend(column_keys(&i.table, &i.columns));
        }
        Change::CreateView(v) => {
            e.provides.push(Key::Relation(v.name.clone()));
            e.provides.extend(column_keys(&v.name, &v.columns));
            e.needs.push(Key::Schema(v.name.schema.clone()));
            e.needs.extend(v.depends_on.iter().map(ref_key));
        }
        Change::DropView(v) => {
            e.removes.push(Key::Relation(v.name.clone()));
            e.removes.extend(column_keys(&v.name, &v.columns));
            e.held.push(Key::Schema(v.name.schema.clone()));
            e.held.extend(v.depends_on.iter().map(ref_key));
        }
        Change::CreateTrigger(t) => {
            e.provides.push(Key::Trigger(member_key(&t.table, &t.name.name)));
            e.needs.push(Key::Relation(t.table.clone()));
            e.needs.extend(t.depends_on.iter().map(ref_key));
        }
        Change::DropTrigger(t) => {
            e.removes.push(Key::Trigger(member_key(&t.table, &t.name.name)));
            // It goes before its table does.
            e.held.push(Key::Relation(t.table.clone()));
            e.held.extend(t.depends_on.iter().map(ref_key));
        }
        Change::RebuildTable { from, to } => {
            // What reads the old table goes first; the new table provides it all again.
            e.provides.push(Key::Relation(to.name.clone()));
            e.removes.push(Key::Relation(from.name.clone()));
            for column in from.columns.values() {
                e.removes.push(Key::Column(from.name.clone(), column.name.clone()));
                e.held.extend(column_needs(column));
            }
            for column in to.columns.values() {
                e.provides.push(Key::Column(to.name.clone(), column.name.clone()));
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
        Change::SetComment { target, .. } => {
            use crate::diff::CommentTarget as T;
            e.needs.push(match target {
                T::Schema(s) => Key::Schema(s.clone()),
                T::Type(n) => Key::Type(n.clone()),
                T::Sequence(n) => Key::Sequence(n.clone()),
                T::Table(n) | T::View { name: n, .. } => Key::Relation(n.clone()),
                T::Column(c) => Key::Column(c.table.clone(), c.column.clone()),
                T::Constraint { table, name } => Key::Constraint(table.clone(), name.clone()),
                T::Index(n) => Key::Index(n.clone()),
                T::Function(id) => Key::Function(id.clone()),
                T::Trigger { table, name } => Key::Trigger(member_key(table, name)),
                T::Policy { table, name } => Key::Policy(member_key(table, name)),
            });
        }
        Change::CreateDomain(_)
        | Change::DropDomain(_)
        | Change::AlterDomain { .. }
        | Change::CreateCompositeType(_)
        | Change::DropCompositeType(_)
        | Change::AlterCompositeType { .. }
        | Change::CreateRangeType(_)
        | Change::DropRangeType(_)
        | Change::CreateCollation(_)
        | Change::DropCollation(_)
        | Change::AlterExtensionVersion { .. }
        | Change::AttachPartition { .. }
        | Change::DetachPartition { .. }
        | Change::SetStorageParameters { .. }
        | Change::SetUnlogged { .. } => types::effects(change, &mut e),
        Change::CreateFunction(f) => {
            e.provides.push(Key::Function(f.id.clone()));
            e.needs.push(Key::Schema(f.id.name.schema.clone()));
            e.needs.extend(f.depends_on.iter().map(ref_key));
        }
        Change::DropFunction(f) => {
            e.removes.push(Key::Function(f.id.clone()));
            e.held.push(Key::Schema(f.id.name.schema.clone()));
            e.held.extend(f.depends_on.iter().map(ref_key));
        }
        Change::ReplaceFunction { from, to } => {
            e.provides.push(Key::Function(to.id.clone()));
            e.needs.extend(to.depends_on.iter().map(ref_key));
            e.held.extend(from.depends_on.iter().map(ref_key));
        }
        Change::CreatePolicy(p) => {
            e.provides.push(Key::Policy(p.key()));
            e.needs.push(Key::Relation(p.table.clone()));
            e.needs.extend(p.depends_on.iter().map(ref_key));
        }
        Change::DropPolicy(p) => {
            e.removes.push(Key::Policy(p.key()));
            e.held.push(Key::Relation(p.table.clone()));
            e.held.extend(p.depends_on.iter().map(ref_key));
        }
        Change::SetRowSecurity { table, .. } => e.needs.push(Key::Relation(table.clone())),
        Change::GrantPrivilege(g) => {
            e.provides.push(Key::Privilege(g.key.clone()));
            e.needs.extend(privilege_target_keys(&g.key.target));
        }
        Change::RevokePrivilege(g) => {
            // After the object is created (a default privilege revoked from a new function), before it
            // is dropped.
            e.removes.push(Key::Privilege(g.key.clone()));
            e.needs.extend(privilege_target_keys(&g.key.target));
            e.held.extend(privilege_target_keys(&g.key.target));
        }
        Change::GrantDefaultPrivilege { key, .. } | Change::RevokeDefaultPrivilege { key, .. } => {
            if let Some(schema) = &key.schema {
                e.needs.push(Key::Schema(schema.clone()));
                e.held.push(Key::Schema(schema.clone()));
            }
        }
        Change::SetOwner { object, .. } => {
            let key = match object {
                OwnedObject::Schema(s) => Key::Schema(s.clone()),
                OwnedObject::Table(n) | OwnedObject::View(n) | OwnedObject::MaterializedView(n) => {
                    Key::Relation(n.clone())
                }
                OwnedObject::Sequence(n) => Key::Sequence(n.clone()),
                OwnedObject::Function(id, _) => Key::Function(id.clone()),
                OwnedObject::Type(n) | OwnedObject::Domain(n) => Key::Type(n.clone()),
            };
            e.needs.push(key);
        }
    }
    types::table_extras(change, &mut e);
    e
}

fn privilege_target_keys(target: &PrivilegeTarget) -> Vec<Key> {
    match target {
        PrivilegeTarget::Schema(s) => vec![Key::Schema(s.clone())],
        PrivilegeTarget::Table(n) => vec![Key::Relation(n.clone())],
        PrivilegeTarget::Column(c) => {
            vec![Key::Relation(c.table.clone()), Key::Column(c.table.clone(), c.column.clone())]
        }
        PrivilegeTarget::Sequence(n) => vec![Key::Sequence(n.clone())],
        PrivilegeTarget::Function(id, _) => vec![Key::Function(id.clone())],
    }
}

/// Keys that belong to the table itself (a self-referencing foreign key needs nothing outside it).
fn is_own(key: &Key, table: &QualifiedName) -> bool {
    match key {
        Key::Relation(n) | Key::Column(n, _) | Key::UniqueColumns(n, _) => n == table,
        _ => false,
    }
}

/// How one dialect spells changes. The only thing the generic planner needs from a database.
pub trait SqlRenderer {
    /// The SQL statements (each ending in `;`) that carry out one change.
    fn render(&self, change: &Change) -> Vec<String>;
    /// Whether a value added to an enum type can be used in the same transaction (PostgreSQL: no).
    fn enum_value_usable_before_commit(&self) -> bool {
        true
    }
    /// Rewrites changes the database cannot make in place (SQLite's limited ALTER TABLE) into ones
    /// it can, such as [`Change::RebuildTable`]. Called on the diff before ordering.
    fn adapt(&self, changes: ChangeSet, _current: &Catalog, _desired: &Catalog) -> ChangeSet {
        changes
    }
    /// The hazards of one change as this database runs it: the locks it takes, whether it rewrites or
    /// scans the table. The default knows only what every database shares (see [`crate::safety`]).
    fn hazards(&self, change: &Change, context: &crate::safety::Context) -> Vec<crate::safety::Hazard> {
        crate::safety::default_hazards(change, context)
    }
    /// The online form of a change to a table that exists before the plan: statements that do not block
    /// the application for longer than a brief lock (see [`crate::safety::rewrite`]). `None`: the plain
    /// statements are used.
    fn online(&self, _change: &Change, _context: &crate::safety::Context) -> Option<crate::safety::rewrite::Online> {
        None
    }
    /// The change split into expand / backfill / contract, when running application code cannot survive it
    /// in one step and the database can keep both shapes in sync. `None`: the one-step plan is used.
    fn expand_contract(
        &self,
        _change: &Change,
        _context: &crate::safety::Context,
        _options: &crate::safety::rewrite::Options,
    ) -> Option<crate::safety::rewrite::Phased> {
        None
    }
    /// Statements that set the lock and statement timeouts (for the rest of the transaction when
    /// `in_transaction`, for the session otherwise). `Some(ZERO)` means no limit.
    fn timeouts(
        &self,
        _lock: Option<std::time::Duration>,
        _statement: Option<std::time::Duration>,
        _in_transaction: bool,
    ) -> Vec<String> {
        Vec::new()
    }
    /// Whether a statement of an online form runs long without blocking (a concurrent build, a validation,
    /// a backfill), so that it gets the online statement timeout.
    fn is_long_running(&self, _sql: &str) -> bool {
        false
    }
}

/// One change of an ordered plan and its SQL.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub description: String,
    pub statements: Vec<String>,
    /// What the step risks on a running database (stable ids, locks, live sizes where known).
    pub hazards: Vec<crate::safety::Hazard>,
    #[serde(skip)]
    pub change: Change,
}

/// An ordered, rendered plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// False when the plan cannot run inside one transaction (a new enum value used later in it).
    pub transactional: bool,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn statements(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().flat_map(|s| s.statements.iter().map(String::as_str))
    }

    /// Every hazard of every step, with the step it belongs to.
    pub fn hazards(&self) -> impl Iterator<Item = (&Step, &crate::safety::Hazard)> {
        self.steps.iter().flat_map(|s| s.hazards.iter().map(move |h| (s, h)))
    }
}

/// Orders the change set and renders every change.
pub fn build(changes: &ChangeSet, renderer: &dyn SqlRenderer) -> Result<Plan, CycleError> {
    build_from(changes.clone(), renderer)
}

/// [`build`] that consumes the change set: the changes move into the plan's steps instead of being
/// copied, which keeps one copy of a large schema's changes in memory instead of two.
pub fn build_from(changes: ChangeSet, renderer: &dyn SqlRenderer) -> Result<Plan, CycleError> {
    let positions = order_indices(&changes)?;
    let mut slots: Vec<Option<Change>> = changes.changes.into_iter().map(Some).collect();
    let ordered: Vec<Change> = positions.into_iter().filter_map(|i| slots[i].take()).collect();
    drop(slots);
    let mut transactional = true;
    if !renderer.enum_value_usable_before_commit() {
        let mut added: Vec<Key> = Vec::new();
        for change in &ordered {
            if let Change::AddEnumValue { name, .. } = change {
                added.push(Key::Type(name.clone()));
            } else if effects(change).needs.iter().any(|k| added.contains(k)) {
                transactional = false;
            }
        }
    }
    let context = crate::safety::Context::from_changes(&ordered);
    let steps = ordered
        .into_iter()
        .map(|change| Step {
            description: change.describe(),
            statements: renderer.render(&change),
            hazards: renderer.hazards(&change, &context),
            change,
        })
        .collect();
    Ok(Plan { steps, transactional })
}
