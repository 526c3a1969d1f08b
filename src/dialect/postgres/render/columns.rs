//! Columns: `ADD`, `DROP` (also `ONLY` the parent's, kept by its children), `RENAME` and the
//! `ALTER COLUMN` statements of a changed column (type with its `USING` conversion, default, NOT NULL,
//! identity and its sequence's options), and a column's definition as `CREATE TABLE` and `ADD COLUMN`
//! write it.

use super::locking;
use super::{ident, literal, qualified};
use crate::diff::ColumnChange;
use crate::model::*;
use crate::plan::Statement;

pub(super) fn render(change: &ColumnChange) -> Vec<Statement> {
    match change {
        ColumnChange::Add { table, column } => locking(add(table, column)),
        ColumnChange::Drop { table, column } => locking(drop(table, column)),
        ColumnChange::DropKeptByChildren { table, column } => locking(drop_kept_by_children(table, column)),
        ColumnChange::Rename { table, from, to } => locking(rename(table, from, to)),
        ColumnChange::Alter { table, from, to } => locking(alter(table, from, to)),
    }
}

pub(super) fn add(table: &QualifiedName, column: &Column) -> Vec<String> {
    vec![format!("ALTER TABLE {} ADD COLUMN {};", qualified(table), definition(column))]
}

pub(super) fn drop(table: &QualifiedName, column: &Column) -> Vec<String> {
    vec![format!("ALTER TABLE {} DROP COLUMN {};", qualified(table), ident(&column.name))]
}

/// A parent's column that its children keep as their own.
pub(super) fn drop_kept_by_children(table: &QualifiedName, column: &Column) -> Vec<String> {
    vec![format!("ALTER TABLE ONLY {} DROP COLUMN {};", qualified(table), ident(&column.name))]
}

pub(super) fn rename(table: &QualifiedName, from: &str, to: &str) -> Vec<String> {
    vec![format!("ALTER TABLE {} RENAME COLUMN {} TO {};", qualified(table), ident(from), ident(to))]
}

/// A column changed in place: identity and default dropped first, then its type, NOT NULL, default and
/// identity. Also the locking part of the online and phased forms ([`crate::dialect::postgres::online`]).
pub(crate) fn alter(table: &QualifiedName, from: &Column, to: &Column) -> Vec<String> {
    let name = &to.name;
    let mut sql = Vec::new();
    let retyped = from.data_type != to.data_type || from.collation() != to.collation();
    let default_changed = from.default != to.default || retyped;
    if from.identity.is_some() && to.identity.is_none() {
        sql.push(alter_column(table, name, "DROP IDENTITY"));
    }
    if from.default.is_some() && default_changed {
        sql.push(alter_column(table, name, "DROP DEFAULT"));
    }
    if retyped {
        let collate = to.collation().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
        // A generated column's values are computed again from its expression: PostgreSQL refuses USING.
        let using = if to.generated().is_some() { String::new() } else { format!(" USING {}", conversion(from, to)) };
        sql.push(alter_column(table, name, &format!("TYPE {}{collate}{using}", to.data_type)));
    }
    if from.not_null != to.not_null {
        sql.push(alter_column(table, name, if to.not_null { "SET NOT NULL" } else { "DROP NOT NULL" }));
    }
    if let Some(default) = &to.default
        && default_changed
    {
        sql.push(alter_column(table, name, &format!("SET DEFAULT {default}")));
    }
    match (from.identity, to.identity) {
        (None, Some(kind)) => {
            let clause = identity_clause(kind, to.identity_options());
            sql.push(alter_column(table, name, &format!("ADD {clause}")));
            sql.push(identity_past_rows(table, name));
        }
        (Some(a), Some(b)) => {
            if a != b {
                let word = if b == IdentityKind::Always { "ALWAYS" } else { "BY DEFAULT" };
                sql.push(alter_column(table, name, &format!("SET GENERATED {word}")));
            }
            if from.identity_options() != to.identity_options() {
                let settings = identity_settings(&to.data_type, to.identity_options());
                sql.push(identity_reset(table, name, &settings));
            }
        }
        _ => {}
    }
    sql
}

/// The `USING` expression of a type change from `from` to `to`: the one declared for it, or a cast of the
/// column. Enum types have no casts to other types but text; going through text covers enum to enum, enum
/// to text-like and text to enum, and `text[]` the same between arrays. Between an array and a scalar only
/// text leads (`mood[]` → `text` → `other`): `text[]` to a scalar has no cast. Whether PostgreSQL can run
/// it is checked before a plan is written ([`crate::dialect::postgres::conversions`]).
pub fn conversion(from: &Column, to: &Column) -> String {
    if let Some(declared) = to.conversion() {
        return declared.to_string();
    }
    let involves_user_type = [from, to].iter().any(|c| c.depends_on.iter().any(|d| matches!(d, ObjectRef::Type(_))));
    let via = match (involves_user_type, from.data_type.ends_with("[]") && to.data_type.ends_with("[]")) {
        (false, _) => "",
        (true, false) => "::text",
        (true, true) => "::text[]",
    };
    format!("{}{via}::{}", ident(&to.name), to.data_type)
}

/// A column as `CREATE TABLE` and `ADD COLUMN` write it.
pub(crate) fn definition(column: &Column) -> String {
    let mut sql = format!("{} {}", ident(&column.name), column.data_type);
    if let Some(collation) = column.collation() {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(expr) = column.generated() {
        sql.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
    }
    if let Some(default) = &column.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if let Some(identity) = column.identity {
        sql.push_str(&format!(" {}", identity_clause(identity, column.identity_options())));
    }
    if column.not_null {
        sql.push_str(" NOT NULL");
    }
    sql
}

fn identity_clause(kind: IdentityKind, options: Option<&str>) -> String {
    let head = match kind {
        IdentityKind::Always => "GENERATED ALWAYS AS IDENTITY",
        IdentityKind::ByDefault => "GENERATED BY DEFAULT AS IDENTITY",
    };
    match options {
        Some(options) => format!("{head} ({options})"),
        None => head.to_string(),
    }
}

/// An identity given to a column that already holds values starts at its START, and the next value it
/// hands out would collide with theirs: it is moved past the largest one. Only forward and only for an
/// ascending sequence, so a START above the values is kept.
pub(super) fn identity_past_rows(table: &QualifiedName, column: &str) -> String {
    let sequence = format!("pg_catalog.pg_get_serial_sequence({}, {})", literal(&qualified(table)), literal(column));
    format!(
        "SELECT pg_catalog.setval({sequence}, used.last) FROM (SELECT max({}) AS last FROM {}) used \
         JOIN pg_catalog.pg_sequence s ON s.seqrelid = {sequence}::regclass \
         WHERE used.last >= s.seqstart AND s.seqincrement > 0;",
        ident(column),
        qualified(table)
    )
}

/// New options for an identity's sequence. A sequence that has not handed out a value yet restarts at the
/// new start (its next value may lie outside the new range, which PostgreSQL refuses without RESTART); one
/// in use keeps its position, and PostgreSQL refuses a range that no longer holds it.
fn identity_reset(table: &QualifiedName, column: &str, settings: &str) -> String {
    let sequence = format!("pg_catalog.pg_get_serial_sequence({}, {})", literal(&qualified(table)), literal(column));
    let set = alter_column(table, column, settings);
    let restart = alter_column(table, column, &format!("{settings} RESTART"));
    format!(
        "DO $schema_identity$\n\
         DECLARE\n\
         \x20   used boolean;\n\
         BEGIN\n\
         \x20   EXECUTE format('SELECT is_called FROM %s', {sequence}) INTO used;\n\
         \x20   IF used THEN\n\
         \x20       {set}\n\
         \x20   ELSE\n\
         \x20       {restart}\n\
         \x20   END IF;\n\
         END\n\
         $schema_identity$;"
    )
}

/// Every option of an identity's sequence as the `SET …` clauses of `ALTER COLUMN`, those not listed at
/// their defaults for the column's type: an option taken out of the schema files goes back to its default.
fn identity_settings(data_type: &str, options: Option<&str>) -> String {
    let words: Vec<&str> = options.unwrap_or("").split_whitespace().collect();
    let value = |key: &[&str]| -> Option<i128> {
        let at = words.windows(key.len()).position(|w| w == key)?;
        words.get(at + key.len())?.parse().ok()
    };
    let (lo, hi) = match data_type {
        "smallint" => (i16::MIN.into(), i16::MAX.into()),
        "integer" => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    };
    let increment = value(&["INCREMENT", "BY"]).unwrap_or(1);
    let ascending = increment > 0;
    let min = value(&["MINVALUE"]).unwrap_or(if ascending { 1 } else { lo });
    let max = value(&["MAXVALUE"]).unwrap_or(if ascending { hi } else { -1 });
    let start = value(&["START", "WITH"]).unwrap_or(if ascending { min } else { max });
    let cache = value(&["CACHE"]).unwrap_or(1);
    let cycle = if words.contains(&"CYCLE") { "CYCLE" } else { "NO CYCLE" };
    format!(
        "SET INCREMENT BY {increment} SET MINVALUE {min} SET MAXVALUE {max} SET START WITH {start} SET CACHE {cache} \
         SET {cycle}"
    )
}

/// `schema.table.column`, quoted.
pub(super) fn column_ref(c: &ColumnRef) -> String {
    format!("{}.{}", qualified(&c.table), ident(&c.column))
}

/// `ALTER TABLE … ALTER COLUMN … <action>;`
pub(super) fn alter_column(table: &QualifiedName, column: &str, action: &str) -> String {
    format!("ALTER TABLE {} ALTER COLUMN {} {action};", qualified(table), ident(column))
}
