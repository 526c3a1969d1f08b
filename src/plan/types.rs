//! Dependency facts of the changes to domains, composite and range types, collations, extension
//! versions, partitions and table options (see [`super::Effects`]).

use super::{Effects, Key, ref_key};
use crate::diff::Change;

/// The effects of the changes this module owns; other changes are left as they are.
pub(super) fn effects(change: &Change, e: &mut Effects) {
    match change {
        Change::CreateDomain(d) => {
            e.provides.push(Key::Type(d.name.clone()));
            e.needs.push(Key::Schema(d.name.schema.clone()));
            e.needs.extend(d.depends_on.iter().map(ref_key));
        }
        Change::DropDomain(d) => {
            e.removes.push(Key::Type(d.name.clone()));
            e.held.push(Key::Schema(d.name.schema.clone()));
            e.held.extend(d.depends_on.iter().map(ref_key));
        }
        Change::AlterDomain { from, to } => {
            e.provides.push(Key::Type(to.name.clone()));
            e.needs.extend(to.depends_on.iter().map(ref_key));
            e.held.extend(from.depends_on.iter().map(ref_key));
        }
        Change::CreateCompositeType(t) => {
            e.provides.push(Key::Type(t.name.clone()));
            e.needs.push(Key::Schema(t.name.schema.clone()));
            e.needs.extend(t.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
        }
        Change::DropCompositeType(t) => {
            e.removes.push(Key::Type(t.name.clone()));
            e.held.push(Key::Schema(t.name.schema.clone()));
            e.held.extend(t.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
        }
        Change::AlterCompositeType { from, to } => {
            e.provides.push(Key::Type(to.name.clone()));
            e.needs.extend(to.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
            e.held.extend(from.attributes.values().flat_map(|a| a.depends_on.iter().map(ref_key)));
        }
        Change::CreateRangeType(t) => {
            e.provides.push(Key::Type(t.name.clone()));
            e.needs.push(Key::Schema(t.name.schema.clone()));
            e.needs.extend(t.depends_on.iter().map(ref_key));
        }
        Change::DropRangeType(t) => {
            e.removes.push(Key::Type(t.name.clone()));
            e.held.push(Key::Schema(t.name.schema.clone()));
            e.held.extend(t.depends_on.iter().map(ref_key));
        }
        Change::CreateCollation(c) => {
            e.provides.push(Key::Collation(c.name.clone()));
            e.needs.push(Key::Schema(c.name.schema.clone()));
        }
        Change::DropCollation(c) => {
            e.removes.push(Key::Collation(c.name.clone()));
            e.held.push(Key::Schema(c.name.schema.clone()));
        }
        Change::AlterExtensionVersion { name, .. } => e.provides.push(Key::Extension(name.clone())),
        Change::AttachPartition { table, parent, .. } => {
            e.needs.push(Key::Relation(table.clone()));
            e.needs.push(Key::Relation(parent.clone()));
            e.provides.push(Key::PartitionSlot(parent.clone()));
        }
        Change::DetachPartition { table, parent, .. } => {
            e.needs.push(Key::Relation(table.clone()));
            e.held.push(Key::Relation(parent.clone()));
            e.removes.push(Key::PartitionSlot(parent.clone()));
        }
        Change::SetStorageParameters { table, .. } | Change::SetUnlogged { table, .. } => {
            e.needs.push(Key::Relation(table.clone()));
        }
        _ => {}
    }
}

/// What a created or dropped partition adds to its table's effects: the parent comes first and goes
/// last, and partitions leaving a parent make room before others take their bounds.
pub(super) fn table_extras(change: &Change, e: &mut Effects) {
    match change {
        Change::CreateTable(t) => {
            if let Some(p) = &t.partition_of {
                e.needs.push(Key::Relation(p.parent.clone()));
                e.provides.push(Key::PartitionSlot(p.parent.clone()));
            }
        }
        Change::DropTable(t) => {
            if let Some(p) = &t.partition_of {
                e.held.push(Key::Relation(p.parent.clone()));
                e.removes.push(Key::PartitionSlot(p.parent.clone()));
            }
        }
        _ => {}
    }
}

/// Tie-breaking priority (see [`super::priority`]).
pub(super) fn priority(change: &Change) -> u8 {
    match change {
        Change::DetachPartition { .. } => 1,
        Change::DropDomain(_) | Change::DropCompositeType(_) | Change::DropRangeType(_) => 7,
        Change::DropCollation(_) => 8,
        Change::CreateCollation(_) | Change::AlterExtensionVersion { .. } => 11,
        Change::CreateDomain(_)
        | Change::AlterDomain { .. }
        | Change::CreateCompositeType(_)
        | Change::AlterCompositeType { .. }
        | Change::CreateRangeType(_) => 12,
        Change::SetStorageParameters { .. } | Change::SetUnlogged { .. } => 18,
        Change::AttachPartition { .. } => 19,
        _ => 23,
    }
}
