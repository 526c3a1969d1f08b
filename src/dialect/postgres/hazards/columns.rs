//! Columns: a column added with a value PostgreSQL must write into every row (a stored generated column,
//! an identity, a volatile default) or NOT NULL without a default, and a column whose type changes (a
//! rewrite unless binary coercible, a narrowing unless widening) or that becomes NOT NULL (a scan).

use super::ACCESS_EXCLUSIVE;
use crate::diff::ColumnChange;
use crate::model::{Column, QualifiedName};
use crate::safety::{self, Context, Hazard, HazardId, Severity};

/// PostgreSQL's hazards of one column change; the shared rules cover drops and renames.
pub(super) fn hazards(change: &ColumnChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        ColumnChange::Add { table, column } => add(table, column, ctx, out),
        ColumnChange::Alter { table, from, to } => alter(table, from, to, ctx, out),
        ColumnChange::Drop { .. } | ColumnChange::DropKeptByChildren { .. } | ColumnChange::Rename { .. } => {}
    }
}

pub(super) fn add(table: &QualifiedName, column: &Column, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(table) {
        return;
    }
    let name = format!("{table}.{}", column.name);
    let rewrite_reason = if column.generated().is_some() {
        Some("a stored generated column")
    } else if column.identity.is_some() {
        Some("an identity column")
    } else if column.default.as_deref().is_some_and(safety::is_volatile_default) {
        Some("a volatile default")
    } else {
        None
    };
    if let Some(reason) = rewrite_reason {
        out.push(
            Hazard::new(
                HazardId::TableRewrite,
                Severity::High,
                format!(
                    "adds column {name} with {reason}, which rewrites the table while reads and writes are blocked"
                ),
                "Add the column without it (nullable, constant default), backfill in batches, then set the default",
            )
            .lock(ACCESS_EXCLUSIVE, table)
            .rewrites(),
        );
    }
    if column.not_null && column.default.is_none() && column.identity.is_none() && column.generated().is_none() {
        out.push(
            Hazard::new(
                HazardId::NotNullWithoutDefault,
                Severity::High,
                format!("adds NOT NULL column {name} without a default, which fails if the table has rows"),
                format!(
                    "Give the column a default, or add a [[backfill]] entry to diff.toml (table = \"{table}\", column = \"{}\", value = \"<SQL expression>\") and generate with --phased",
                    column.name
                ),
            )
            .lock(ACCESS_EXCLUSIVE, table),
        );
    }
}

pub(super) fn alter(table: &QualifiedName, from: &Column, to: &Column, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(table) {
        return;
    }
    let name = format!("{table}.{}", to.name);
    if from.data_type != to.data_type {
        if !binary_coercible(&from.data_type, &to.data_type) {
            out.push(
                Hazard::new(
                    HazardId::TableRewrite,
                    Severity::High,
                    format!(
                        "changes the type of {name} from {} to {}, which rewrites the table and its indexes while reads and writes are blocked",
                        from.data_type, to.data_type
                    ),
                    "Add a column of the new type, backfill it in batches and switch over, instead of altering in place",
                )
                .lock(ACCESS_EXCLUSIVE, table)
                .rewrites(),
            );
        }
        if !widening(&from.data_type, &to.data_type) {
            out.push(
                Hazard::new(
                    HazardId::TypeNarrowing,
                    Severity::High,
                    format!(
                        "changes the type of {name} from {} to {}; values that do not fit fail the migration or are narrowed",
                        from.data_type, to.data_type
                    ),
                    "Check that every existing value converts to the new type before migrating",
                )
                .on(table),
            );
        }
    }
    if to.not_null && !from.not_null {
        out.push(
            Hazard::new(
                HazardId::AccessExclusiveScan,
                Severity::High,
                format!("sets {name} NOT NULL, reading every row while reads and writes are blocked"),
                "Add CHECK (column IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL",
            )
            .lock(ACCESS_EXCLUSIVE, table)
            .scans(),
        );
    }
}

/// `character varying(20)` → (`character varying`, [20]); `numeric(10,2)` → (`numeric`, [10, 2]).
fn split_type(t: &str) -> (&str, Option<Vec<i64>>) {
    match t.strip_suffix(')').and_then(|rest| rest.split_once('(')) {
        Some((base, args)) => (base.trim(), args.split(',').map(|a| a.trim().parse().ok()).collect()),
        None => (t, None),
    }
}

/// Whether PostgreSQL changes the type without touching the rows (and without rebuilding indexes).
pub fn binary_coercible(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    let (fb, fa) = split_type(from);
    let (tb, ta) = split_type(to);
    let varlen = |b: &str| b == "character varying" || b == "bit varying";
    match (fb, tb) {
        ("character varying", "text") => true,
        ("text", "character varying") => ta.is_none(),
        ("cidr", "inet") => true,
        (f, t) if f == t && varlen(f) => match (fa, ta) {
            (_, None) => true,
            (Some(fa), Some(ta)) => ta[0] >= fa[0],
            (None, Some(_)) => false,
        },
        ("numeric", "numeric") => match (fa, ta) {
            (_, None) => true,
            (Some(fa), Some(ta)) => ta.len() == 2 && fa.len() == 2 && ta[1] == fa[1] && ta[0] >= fa[0],
            (None, Some(_)) => false,
        },
        _ => false,
    }
}

/// Whether every value of `from` converts to `to` without loss or failure.
pub fn widening(from: &str, to: &str) -> bool {
    if binary_coercible(from, to) {
        return true;
    }
    let (fb, fa) = split_type(from);
    let (tb, ta) = split_type(to);
    let integer_rank = |b: &str| match b {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        _ => None,
    };
    match (fb, tb) {
        (_, "text") if !from.ends_with("[]") => true,
        (f, t) if integer_rank(f).is_some() && integer_rank(t).is_some() => integer_rank(f) < integer_rank(t),
        (f, "numeric") if integer_rank(f).is_some() => ta.is_none(),
        ("real", "double precision") => true,
        ("character", "character varying") => match (fa, ta) {
            (_, None) => true,
            (Some(fa), Some(ta)) => ta[0] >= fa[0],
            (None, Some(_)) => false,
        },
        ("date", "timestamp without time zone" | "timestamp with time zone") => true,
        ("timestamp without time zone", "timestamp with time zone") => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coercible_and_widening_types() {
        assert!(binary_coercible("character varying(10)", "character varying(20)"));
        assert!(binary_coercible("character varying(10)", "text"));
        assert!(binary_coercible("numeric(10,2)", "numeric(12,2)"));
        assert!(!binary_coercible("character varying(20)", "character varying(10)"));
        assert!(!binary_coercible("integer", "bigint"));
        assert!(widening("integer", "bigint"));
        assert!(!widening("bigint", "integer"));
        assert!(!widening("text", "character varying(10)"));
        assert!(!widening("character varying(20)", "character varying(10)"));
        assert!(widening("integer", "text"));
    }

    #[test]
    fn volatile_defaults() {
        assert!(safety::is_volatile_default("nextval('public.t_id_seq'::regclass)"));
        assert!(safety::is_volatile_default("gen_random_uuid()"));
        assert!(!safety::is_volatile_default("now()"));
        assert!(!safety::is_volatile_default("0"));
    }
}
