//! Indexes: built on an existing table while writes wait (unless CONCURRENTLY), or dropped from a table
//! that stays (queries that used it slow down).

use super::ACCESS_EXCLUSIVE;
use crate::diff::IndexChange;
use crate::model::Index;
use crate::safety::{Context, Hazard, HazardId, Severity};

/// PostgreSQL's hazards of one index change. A rename takes its lock briefly.
pub(super) fn hazards(change: &IndexChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        IndexChange::Create(index) => create(index, ctx, out),
        IndexChange::Drop(index) => drop(index, ctx, out),
        IndexChange::Rename { .. } => {}
    }
}

pub(super) fn create(index: &Index, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(&index.table) {
        return;
    }
    out.push(
        Hazard::new(
            HazardId::BlockingIndexBuild,
            Severity::High,
            format!("builds index {} while writes to {} are blocked", index.name, index.table),
            "Create the index CONCURRENTLY, outside a transaction",
        )
        .lock("SHARE", &index.table)
        .scans(),
    );
}

pub(super) fn drop(index: &Index, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.kept(&index.table) {
        return;
    }
    out.push(
        Hazard::new(
            HazardId::IndexDropped,
            Severity::Medium,
            format!("drops index {}; queries that relied on it become slower", index.name),
            "Check that no query needs the index, and drop it CONCURRENTLY",
        )
        .lock(ACCESS_EXCLUSIVE, &index.table),
    );
}
