//! PostgreSQL's part of the hazard rules: which lock each change takes, and whether it rewrites or scans
//! the table. The rules follow the lock table of the `ALTER TABLE` documentation and the fast paths
//! PostgreSQL has had since version 11 (a constant default on `ADD COLUMN` is stored in the catalog; a
//! binary-coercible type change such as `varchar(10)` → `varchar(20)` or `text` touches no row).
//! [`hazards`] sends each change to the file of its kind; the rules every database shares are in
//! [`crate::safety`].

pub mod columns;
mod constraints;
mod enums;
mod indexes;
mod partitions;
mod tables;

use crate::diff::Change;
use crate::diff::{ColumnChange, ConstraintChange, IndexChange, InheritanceChange, PartitionChange, TableChange};
use crate::safety::{self, Context, Hazard, HazardId};

const ACCESS_EXCLUSIVE: &str = "ACCESS EXCLUSIVE";

/// The hazards of one change as PostgreSQL runs it: the shared rules' first, then PostgreSQL's own. One arm
/// per variant (per kind for the kinds with their own change enum): a new variant does not build until it
/// is decided here whether PostgreSQL adds a hazard.
pub fn hazards(change: &Change, ctx: &Context) -> Vec<Hazard> {
    let mut out = safety::common_hazards(change, ctx);
    // Drops and renames take ACCESS EXCLUSIVE, briefly (no scan), on an existing table.
    for hazard in &mut out {
        if matches!(hazard.id, HazardId::DataLossTable | HazardId::DataLossColumn | HazardId::RenameVisible)
            && let Some(table) = hazard.table.clone()
        {
            hazard.lock = Some(format!("{ACCESS_EXCLUSIVE} on {table}"));
        }
    }
    match change {
        Change::Enum(c) => enums::hazards(c, ctx, &mut out),
        Change::Table(TableChange::CopyRows { to, .. }) => tables::copy_rows(to, &mut out),
        Change::Table(TableChange::SetReplicaIdentity { table, to, .. }) => {
            tables::set_replica_identity(table, to.as_ref(), ctx, &mut out)
        }
        Change::Table(TableChange::SetUnlogged { table, unlogged }) => {
            tables::set_unlogged(table, *unlogged, ctx, &mut out)
        }
        Change::Column(ColumnChange::Add { table, column }) => columns::add(table, column, ctx, &mut out),
        Change::Column(ColumnChange::Alter { table, from, to }) => columns::alter(table, from, to, ctx, &mut out),
        Change::Constraint(ConstraintChange::Add { table, constraint }) => {
            constraints::add(table, constraint, ctx, &mut out)
        }
        Change::Index(IndexChange::Create(index)) => indexes::create(index, ctx, &mut out),
        Change::Index(IndexChange::Drop(index)) => indexes::drop(index, ctx, &mut out),
        Change::Partition(PartitionChange::Attach { table, parent, .. }) => {
            partitions::attach(table, parent, ctx, &mut out)
        }
        Change::Partition(PartitionChange::Detach { table, parent, .. }) => {
            partitions::detach(table, parent, ctx, &mut out)
        }
        Change::Inheritance(InheritanceChange::Inherit { table, parent, checks }) => {
            partitions::inherit(table, parent, checks, ctx, &mut out)
        }
        // Nothing PostgreSQL-specific: the shared rules cover them (drops, renames, what a running
        // application sees), or they take no lock worth reporting.
        Change::Table(TableChange::Create(_))
        | Change::Table(TableChange::Drop(_))
        | Change::Table(TableChange::Rename { .. })
        | Change::Table(TableChange::SetAside { .. })
        | Change::Table(TableChange::Rebuild { .. })
        | Change::Table(TableChange::SetStorageParameters { .. })
        | Change::Column(ColumnChange::Drop { .. })
        | Change::Column(ColumnChange::DropKeptByChildren { .. })
        | Change::Column(ColumnChange::Rename { .. })
        | Change::Constraint(ConstraintChange::Drop { .. })
        | Change::Constraint(ConstraintChange::Validate { .. })
        | Change::Constraint(ConstraintChange::Rename { .. })
        | Change::Index(IndexChange::Rename { .. })
        | Change::Inheritance(InheritanceChange::NoInherit { .. })
        | Change::Trigger(_)
        | Change::Policy(_)
        | Change::Comment(_)
        | Change::Privilege(_)
        | Change::Function(_)
        | Change::View(_)
        | Change::Sequence(_)
        | Change::Domain(_)
        | Change::CompositeType(_)
        | Change::RangeType(_)
        | Change::Extension(_)
        | Change::Schema(_)
        | Change::Collation(_) => {}
    }
    out
}
