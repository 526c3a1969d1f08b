//! Dependency facts of the changes to domains, composite and range types, collations, extension
//! versions, partitions and table options (see [`super::Effects`]).

use super::{Effects, Key, ref_key, relation_name};
use crate::diff::Change;

/// The effects of the changes this module owns; other changes are left as they are.
pub(super) fn effects<'a>(change: &'a Change, e: &mut Effects<'a>) {
    match change {
        Change::CreateDomain(d) => {
            e.provides.push(Key::Type(&d.name));
            e.needs.push(Key::Schema(&d.name.schema));
            e.needs.extend(d.depends_on.iter().map(ref_key));
        }
        Change::DropDomain(d) => {
            e.removes.push(Key::Type(&d.name));
            e.held.push(Key::Schema(&d.name.schema));
            e.held.extend(d.depends_on.iter().map(ref_key));
        }
        Change::AlterDomain { from, to } => {
            e.provides.push(Key::Type(&to.name));
            e.needs.extend(to.depends_on.iter().map(ref_key));
            e.held.extend(from.depends_on.iter().map(ref_key));
        }
        Change::CreateCompositeType(t) => {
            // A composite type is a relation too (relkind `c`): its name is taken among tables and indexes.
            e.provides.push(Key::Type(&t.name));
            e.provides.push(relation_name(&t.name));
            e.needs.push(Key::Schema(&t.name.schema));
            e.needs.extend(t.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
        }
        Change::DropCompositeType(t) => {
            e.removes.push(Key::Type(&t.name));
            e.removes.push(relation_name(&t.name));
            e.held.push(Key::Schema(&t.name.schema));
            e.held.extend(t.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
        }
        Change::AlterCompositeType { from, to } => {
            e.provides.push(Key::Type(&to.name));
            e.needs.extend(to.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
            e.held.extend(from.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
        }
        Change::CreateRangeType(t) => {
            e.provides.push(Key::Type(&t.name));
            e.needs.push(Key::Schema(&t.name.schema));
            e.needs.extend(t.depends_on.iter().map(ref_key));
        }
        Change::DropRangeType(t) => {
            e.removes.push(Key::Type(&t.name));
            e.held.push(Key::Schema(&t.name.schema));
            e.held.extend(t.depends_on.iter().map(ref_key));
        }
        Change::CreateCollation(c) => {
            e.provides.push(Key::Collation(&c.name));
            e.needs.push(Key::Schema(&c.name.schema));
        }
        Change::DropCollation(c) => {
            e.removes.push(Key::Collation(&c.name));
            e.held.push(Key::Schema(&c.name.schema));
        }
        Change::AlterExtensionVersion { name, .. } => e.provides.push(Key::Extension(name)),
        Change::SetExtensionSchema { name, from, to } => {
            e.provides.push(Key::Extension(name));
            e.needs.push(Key::Schema(to));
            e.held.push(Key::Schema(from));
        }
        Change::AttachPartition { table, parent, checks, .. } => {
            e.needs.push(Key::Relation(table));
            e.needs.push(Key::Relation(parent));
            e.provides.push(Key::PartitionSlot(parent));
            e.provides.push(Key::Attached(table));
            for check in checks {
                e.provides.push(Key::Constraint(table, &check.name));
                e.needs.extend(super::constraint_needs(table, check));
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
        Change::SetStorageParameters { table, .. } | Change::SetUnlogged { table, .. } => {
            e.needs.push(Key::Relation(table));
        }
        _ => {}
    }
}

/// What a created or dropped partition adds to its table's effects: the parent comes first and goes
/// last, and partitions leaving a parent make room before others take their bounds.
pub(super) fn table_extras<'a>(change: &'a Change, e: &mut Effects<'a>) {
    match change {
        Change::CreateTable(t) => {
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
        _ => {}
    }
}
