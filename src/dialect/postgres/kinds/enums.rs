//! Enum types: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/enums.sql`): their labels in order, and their comments.
//!
//! Render: created, dropped, a value added (`ADD VALUE … BEFORE|AFTER`), and rebuilt when values are removed or
//! reordered (the old type renamed aside, the new one created, the columns that use it converted through text,
//! the old one dropped).
//!
//! Hazards: a rebuilt type converts the columns that use it, rewriting each existing table that has one.

use super::columns::alter_column_statement;
use crate::dialect::postgres::introspect::{IntrospectError, fetch, get, get_qualified};
use crate::dialect::postgres::render::{ident, literal, locking, qualified};
use crate::diff::{EnumChange, EnumColumnUse, EnumValuePosition};
use crate::model::*;
use crate::plan::Statement;
use crate::safety::{Context, Hazard, HazardId, Severity};
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("enums", include_str!("../queries/enums.sql"));

pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "enums";
        let name = get_qualified(&row, q, "name")?;
        let enum_type =
            EnumType { name: name.clone(), labels: get(&row, q, "labels")?, comment: get(&row, q, "comment")? };
        catalog.enums.insert(name, enum_type);
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Render.

/// Only a rebuild locks tables: each column converted takes ACCESS EXCLUSIVE on its table.
pub(crate) fn render(change: &EnumChange) -> Vec<Statement> {
    match change {
        EnumChange::Create(t) => locking(vec![create_enum(&t.name, &t.labels)]),
        EnumChange::Drop(t) => locking(vec![format!("DROP TYPE {};", qualified(&t.name))]),
        EnumChange::AddValue { name, value, position } => locking(add_value(name, value, position)),
        EnumChange::Rebuild { to, columns, .. } => rebuild(to, columns),
    }
}

fn add_value(name: &QualifiedName, value: &str, position: &EnumValuePosition) -> Vec<String> {
    let (word, anchor) = match position {
        EnumValuePosition::Before(l) => ("BEFORE", l),
        EnumValuePosition::After(l) => ("AFTER", l),
    };
    vec![format!("ALTER TYPE {} ADD VALUE {} {word} {};", qualified(name), literal(value), literal(anchor))]
}

fn rebuild(to: &EnumType, columns: &[EnumColumnUse]) -> Vec<Statement> {
    let old_name = format!("{}__old", to.name.name);
    let old = QualifiedName::new(to.name.schema.clone(), old_name.clone());
    let mut sql = locking(vec![
        format!("ALTER TYPE {} RENAME TO {};", qualified(&to.name), ident(&old_name)),
        create_enum(&to.name, &to.labels),
    ]);
    for use_ in columns {
        let c = &use_.column;
        let via = if use_.data_type.ends_with("[]") { "text[]" } else { "text" };
        if use_.had_default {
            sql.push(alter_column_statement(&c.table, &c.column, "DROP DEFAULT"));
        }
        sql.push(alter_column_statement(
            &c.table,
            &c.column,
            &format!("TYPE {} USING {}::{via}::{}", use_.data_type, ident(&c.column), use_.data_type),
        ));
        if let Some(default) = &use_.default {
            sql.push(alter_column_statement(&c.table, &c.column, &format!("SET DEFAULT {default}")));
        }
    }
    sql.push(Statement::locking(format!("DROP TYPE {};", qualified(&old))));
    sql
}

fn create_enum(name: &QualifiedName, labels: &[String]) -> String {
    let labels: Vec<String> = labels.iter().map(|l| literal(l)).collect();
    format!("CREATE TYPE {} AS ENUM ({});", qualified(name), labels.join(", "))
}

// ------------------------------------------------------------------------------------------------
// Hazards.

pub(crate) fn hazards(change: &EnumChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        EnumChange::Rebuild { to, columns, .. } => rebuild_hazards(to, columns, ctx, out),
        // Catalog-only changes, and a drop the shared rules cover.
        EnumChange::Create(_) | EnumChange::Drop(_) | EnumChange::AddValue { .. } => {}
    }
}

fn rebuild_hazards(to: &EnumType, columns: &[EnumColumnUse], ctx: &Context, out: &mut Vec<Hazard>) {
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
            .holds_lock_on(table)
            .rewrites(),
        );
    }
}
