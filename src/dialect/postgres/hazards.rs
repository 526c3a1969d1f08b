//! PostgreSQL's part of the hazard rules: which lock each change takes, and whether it rewrites or scans
//! the table. The rules follow the lock table of the `ALTER TABLE` documentation and the fast paths
//! PostgreSQL has had since version 11 (a constant default on `ADD COLUMN` is stored in the catalog; a
//! binary-coercible type change such as `varchar(10)` → `varchar(20)` or `text` touches no row).
//! [`hazards`] sends each change to the file of its kind, `kinds/<kind>.rs`; the rules every database
//! shares are in [`crate::safety`].

use super::kinds::{columns, constraints, enums, indexes, inheritance, partitions, tables};
use crate::diff::Change;
use crate::safety::{self, Context, Hazard, HazardId};

/// The hazards of one change as PostgreSQL runs it: the shared rules' first, then PostgreSQL's own. One arm
/// per kind, whose file matches on the kind's change enum: a new kind does not build until it is decided
/// here whether PostgreSQL adds a hazard.
pub fn hazards(change: &Change, ctx: &Context) -> Vec<Hazard> {
    let mut out = safety::common_hazards(change, ctx);
    // Drops and renames lock an existing table briefly (no scan): the lock their statements state.
    for hazard in &mut out {
        if matches!(hazard.id, HazardId::DataLossTable | HazardId::DataLossColumn | HazardId::RenameVisible) {
            hazard.held_lock = hazard.table.is_some();
        }
    }
    match change {
        Change::Enum(c) => enums::hazards(c, ctx, &mut out),
        Change::Table(c) => tables::hazards(c, ctx, &mut out),
        Change::Column(c) => columns::hazards(c, ctx, &mut out),
        Change::Constraint(c) => constraints::hazards(c, ctx, &mut out),
        Change::Index(c) => indexes::hazards(c, ctx, &mut out),
        Change::Partition(c) => partitions::hazards(c, ctx, &mut out),
        Change::Inheritance(c) => inheritance::hazards(c, ctx, &mut out),
        // Nothing PostgreSQL-specific: the shared rules cover them (drops, renames, what a running
        // application sees), or they take no lock worth reporting.
        Change::Trigger(_)
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
