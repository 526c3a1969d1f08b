//! Enum types: a rebuilt type converts the columns that use it, rewriting each existing table that has
//! one.

use super::ACCESS_EXCLUSIVE;
use crate::diff::{EnumChange, EnumColumnUse};
use crate::model::{EnumType, QualifiedName};
use crate::safety::{Context, Hazard, HazardId, Severity};

pub(super) fn hazards(change: &EnumChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        EnumChange::Rebuild { to, columns, .. } => rebuild(to, columns, ctx, out),
        // Catalog-only changes, and a drop the shared rules cover.
        EnumChange::Create(_) | EnumChange::Drop(_) | EnumChange::AddValue { .. } => {}
    }
}

fn rebuild(to: &EnumType, columns: &[EnumColumnUse], ctx: &Context, out: &mut Vec<Hazard>) {
    let mut tables: Vec<&QualifiedName> = columns.iter().map(|c| &c.column.table).collect();
    tables.dedup();
    for table in tables.into_iter().filter(|t| ctx.existing(t)) {
        out.push(
            Hazard::new(
                HazardId::TableRewrite,
                Severity::High,
                format!("converts the columns of {table} that use type {} to the rebuilt type, rewriting the table", to.name),
                "Run it when the table can be locked for the rewrite, or add values instead of removing or reordering them",
            )
            .lock(ACCESS_EXCLUSIVE, table)
            .rewrites(),
        );
    }
}
