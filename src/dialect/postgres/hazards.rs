//! PostgreSQL's part of the hazard rules: which lock each change takes, and whether it rewrites or scans
//! the table. The rules follow the lock table of the `ALTER TABLE` documentation and the fast paths
//! PostgreSQL has had since version 11 (a constant default on `ADD COLUMN` is stored in the catalog; a
//! binary-coercible type change such as `varchar(10)` → `varchar(20)` or `text` touches no row).

use crate::diff::Change;
use crate::model::{Column, ConstraintKind, QualifiedName};
use crate::safety::{self, Context, Hazard, HazardId, Severity};

const ACCESS_EXCLUSIVE: &str = "ACCESS EXCLUSIVE";

/// The hazards of one change as PostgreSQL runs it.
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
        Change::AddColumn { table, column } if ctx.existing(table) => add_column(table, column, &mut out),
        Change::AlterColumn { table, from, to } if ctx.existing(table) => alter_column(table, from, to, &mut out),
        Change::AddConstraint { table, constraint } if ctx.existing(table) => match constraint.kind {
            ConstraintKind::Check if constraint.validated => out.push(
                Hazard::new(
                    HazardId::AccessExclusiveScan,
                    Severity::High,
                    format!(
                        "adds CHECK constraint {} and validates it by reading every row under a lock that blocks reads and writes",
                        constraint.name
                    ),
                    "Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a separate step",
                )
                .lock(ACCESS_EXCLUSIVE, table)
                .scans(),
            ),
            ConstraintKind::ForeignKey if constraint.validated => {
                let target = constraint.references.as_ref().map(|r| format!(" and {}", r.table)).unwrap_or_default();
                let mut hazard = Hazard::new(
                    HazardId::AccessExclusiveScan,
                    Severity::High,
                    format!(
                        "adds FOREIGN KEY {} and validates it by reading every row while writes to {table}{target} are blocked",
                        constraint.name
                    ),
                    "Add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a separate step",
                )
                .lock("SHARE ROW EXCLUSIVE", table)
                .scans();
                if let Some(lock) = &mut hazard.lock {
                    lock.push_str(&target);
                }
                out.push(hazard);
            }
            ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion => out.push(
                Hazard::new(
                    HazardId::BlockingIndexBuild,
                    Severity::High,
                    format!(
                        "adds constraint {} and builds its index while reads and writes are blocked",
                        constraint.name
                    ),
                    "Build a unique index CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX",
                )
                .lock(ACCESS_EXCLUSIVE, table)
                .scans(),
            ),
            _ => {}
        },
        Change::CreateIndex(index) if ctx.existing(&index.table) => out.push(
            Hazard::new(
                HazardId::BlockingIndexBuild,
                Severity::High,
                format!("builds index {} while writes to {} are blocked", index.name, index.table),
                "Create the index CONCURRENTLY, outside a transaction",
            )
            .lock("SHARE", &index.table)
            .scans(),
        ),
        Change::DropIndex(index) if ctx.kept(&index.table) => out.push(
            Hazard::new(
                HazardId::IndexDropped,
                Severity::Medium,
                format!("drops index {}; queries that relied on it become slower", index.name),
                "Check that no query needs the index, and drop it CONCURRENTLY",
            )
            .lock(ACCESS_EXCLUSIVE, &index.table),
        ),
        Change::CopyRows { to, .. } => out.push(
            Hazard::new(
                HazardId::TableRebuild,
                Severity::High,
                format!(
                    "rebuilds table {} (PostgreSQL cannot change its partitioning in place): a new table with its \
                     partitions, every row copied into it while ACCESS EXCLUSIVE on the old table blocks reads and \
                     writes, the views, foreign keys, triggers and policies that use it created again; no row is \
                     lost, but this is not an online change",
                    to.name
                ),
                "Run it when the table can be locked for the whole copy, or build the new table beside it and move the rows in batches yourself",
            )
            .lock(ACCESS_EXCLUSIVE, &to.name)
            .rewrites(),
        ),
        // REPLICA IDENTITY takes ACCESS EXCLUSIVE (briefly: nothing is read) and changes what logical
        // decoding sends for an old row; with NOTHING, a publication that publishes updates or deletes makes
        // them fail on the table ("cannot update table … because it does not have a replica identity").
        Change::SetReplicaIdentity { table, to, .. } if ctx.existing(table) => {
            out.push(safety::replica_identity(table, matches!(to, Some(crate::model::ReplicaIdentity::Nothing))))
        }
        // INHERIT reads no row, but takes ACCESS EXCLUSIVE on the child (SHARE UPDATE EXCLUSIVE on the
        // parent); the parent's CHECK constraints that the child lacks are added first, each validated by
        // reading every row of the child under that lock.
        Change::Inherit { table, parent, checks } if ctx.existing(table) => {
            let checks: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
            out.push(safety::inherit_parent(table, parent, &checks));
        }
        Change::RebuildEnum { to, columns, .. } => {
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
        _ => {}
    }
    super::hazards_types::hazards(change, ctx, &mut out);
    out
}

fn add_column(table: &QualifiedName, column: &Column, out: &mut Vec<Hazard>) {
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

fn alter_column(table: &QualifiedName, from: &Column, to: &Column, out: &mut Vec<Hazard>) {
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
