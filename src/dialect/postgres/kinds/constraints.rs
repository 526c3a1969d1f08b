//! Table constraints: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/constraints.sql`): kind, PostgreSQL's own definition, whether validated, columns, the
//! referenced table and columns of a foreign key, the user types a definition uses, and comments.
//!
//! Render: added, dropped, validated and renamed. Their definitions are PostgreSQL's own
//! (`pg_get_constraintdef`), `NOT VALID` included.
//!
//! Hazards, of constraints added to an existing table: a validated CHECK or foreign key reads every row under
//! its lock (NOT VALID, then VALIDATE, does not block), and a key builds its index while reads and writes wait.

use crate::dialect::postgres::introspect::{
    IntrospectError, Rows, get, get_name, get_names, get_qualified, json_pairs,
};
use crate::dialect::postgres::locks::{ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE};
use crate::dialect::postgres::render::{ident, qualified};
use crate::diff::ConstraintChange;
use crate::model::*;
use crate::plan::Statement;
use crate::safety::{Context, Hazard, HazardId, Severity};
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("constraints", include_str!("../queries/constraints.sql"));

/// Reads the constraints into the tables already read.
pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    let mut rows = Rows::new(conn, QUERY, schemas);
    while let Some(row) = rows.next().await? {
        let q = "constraints";
        let table = get_qualified(&row, q, "table_name")?;
        let Some(target) = catalog.tables.get_mut(&table) else {
            continue;
        };
        let kind = match get::<String>(&row, q, "kind")?.as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "c" => ConstraintKind::Check,
            "f" => ConstraintKind::ForeignKey,
            "x" => ConstraintKind::Exclusion,
            other => {
                return Err(IntrospectError::Decode { query: q, detail: format!("constraint type {other}") });
            }
        };
        let references =
            match (get::<Option<String>>(&row, q, "ref_schema")?, get::<Option<String>>(&row, q, "ref_table")?) {
                (Some(schema), Some(name)) if kind == ConstraintKind::ForeignKey => Some(ForeignKeyTarget {
                    table: QualifiedName::new(schema, name),
                    columns: get_names(&row, q, "ref_columns")?,
                }),
                _ => None,
            };
        let depends_on = json_pairs(q, &get::<String>(&row, q, "types")?)?
            .into_iter()
            .map(|(schema, name)| ObjectRef::Type(QualifiedName::new(schema, name)))
            .collect();
        let name = get_name(&row, q, "name")?;
        let constraint = Constraint {
            name: name.clone(),
            kind,
            definition: get(&row, q, "definition")?,
            validated: get(&row, q, "validated")?,
            columns: get_names(&row, q, "columns")?,
            references: references.map(Box::new),
            comment: get(&row, q, "comment")?,
            depends_on,
        };
        target.constraints.insert(name, constraint);
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Render.

pub(crate) fn render(change: &ConstraintChange) -> Vec<Statement> {
    match change {
        ConstraintChange::Add { table, constraint } => vec![add(table, constraint)],
        ConstraintChange::Drop { table, constraint } => vec![drop(table, constraint)],
        ConstraintChange::Validate { table, constraint } => vec![validate(table, constraint)],
        ConstraintChange::Rename { table, from, to } => vec![rename(table, from, to)],
    }
}

pub(super) fn add_constraint(table: &QualifiedName, constraint: &Constraint) -> String {
    format!("ALTER TABLE {} ADD CONSTRAINT {} {};", qualified(table), ident(&constraint.name), constraint.definition)
}

/// `ALTER TABLE … ADD CONSTRAINT`, with its locks ([`with_locks`]).
pub(super) fn add(table: &QualifiedName, constraint: &Constraint) -> Statement {
    with_locks(Statement::locking(add_constraint(table, constraint)), table, constraint)
}

/// `statement` adding `constraint` to `table`, with the locks that takes: a foreign key SHARE ROW EXCLUSIVE
/// on both tables, any other constraint ACCESS EXCLUSIVE on its table.
pub(crate) fn with_locks(statement: Statement, table: &QualifiedName, constraint: &Constraint) -> Statement {
    match &constraint.references {
        Some(r) if constraint.kind == ConstraintKind::ForeignKey => {
            statement.taking(SHARE_ROW_EXCLUSIVE, table).taking(SHARE_ROW_EXCLUSIVE, &r.table)
        }
        _ => statement.taking(ACCESS_EXCLUSIVE, table),
    }
}

/// ACCESS EXCLUSIVE on the table, and on the referenced table for a foreign key (its side of the key goes).
pub(super) fn drop(table: &QualifiedName, constraint: &Constraint) -> Statement {
    let sql = format!("ALTER TABLE {} DROP CONSTRAINT {};", qualified(table), ident(&constraint.name));
    let statement = Statement::locking(sql).taking(ACCESS_EXCLUSIVE, table);
    match &constraint.references {
        Some(r) if constraint.kind == ConstraintKind::ForeignKey => statement.taking(ACCESS_EXCLUSIVE, &r.table),
        _ => statement,
    }
}

/// Reads every row, under a lock that lets reads and writes go on: long running, not blocking.
pub(super) fn validate(table: &QualifiedName, constraint: &Constraint) -> Statement {
    let sql = format!("ALTER TABLE {} VALIDATE CONSTRAINT {};", qualified(table), ident(&constraint.name));
    Statement::long_running(sql).taking(SHARE_UPDATE_EXCLUSIVE, table)
}

pub(super) fn rename(table: &QualifiedName, from: &str, to: &str) -> Statement {
    let sql = format!("ALTER TABLE {} RENAME CONSTRAINT {} TO {};", qualified(table), ident(from), ident(to));
    Statement::locking(sql).taking(ACCESS_EXCLUSIVE, table)
}

// ------------------------------------------------------------------------------------------------
// Hazards.

/// PostgreSQL's hazards of one constraint change. A drop or a rename takes its lock briefly; a
/// validation is the online form's second half, which blocks no writes.
pub(crate) fn hazards(change: &ConstraintChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        ConstraintChange::Add { table, constraint } => add_hazards(table, constraint, ctx, out),
        ConstraintChange::Drop { .. } | ConstraintChange::Validate { .. } | ConstraintChange::Rename { .. } => {}
    }
}

pub(super) fn add_hazards(table: &QualifiedName, constraint: &Constraint, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(table) {
        return;
    }
    match constraint.kind {
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
            .holds_lock_on(table)
            .scans(),
        ),
        ConstraintKind::ForeignKey if constraint.validated => {
            let target = constraint.references.as_ref().map(|r| format!(" and {}", r.table)).unwrap_or_default();
            let hazard = Hazard::new(
                HazardId::AccessExclusiveScan,
                Severity::High,
                format!(
                    "adds FOREIGN KEY {} and validates it by reading every row while writes to {table}{target} are blocked",
                    constraint.name
                ),
                "Add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a separate step",
            )
            .holds_lock_on(table)
            .scans();
            out.push(hazard);
        }
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion => out.push(
            Hazard::new(
                HazardId::BlockingIndexBuild,
                Severity::High,
                format!("adds constraint {} and builds its index while reads and writes are blocked", constraint.name),
                "Build a unique index CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX",
            )
            .holds_lock_on(table)
            .scans(),
        ),
        _ => {}
    }
}
