//! Whether PostgreSQL can run the type conversions of a plan. A column whose type changes is converted
//! with `ALTER TABLE … ALTER COLUMN … TYPE … USING <expression>`, which fails outright when no cast leads
//! from the old type to the new one (`integer` → `timestamptz`) or when a declared expression does not
//! fit. Each conversion of the up and the down plan is tried in the scratch database that holds the
//! declared schema, on an empty temporary copy of its table, so that PostgreSQL itself judges it; a plan
//! with one that fails is refused, naming the column, both types and how to declare a conversion.

use super::connect;
use super::kinds::columns::conversion;
use super::render::{ident, qualified, render};
use crate::diff::ColumnChange;
use crate::diff::{Change, CompositeTypeChange, DomainChange, EnumChange, RangeTypeChange};
use crate::model::{Catalog, Column, ObjectRef, QualifiedName};
use crate::plan::Plan;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::fmt;

/// A type conversion that PostgreSQL refuses.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub table: QualifiedName,
    pub column: String,
    pub from_type: String,
    pub to_type: String,
    /// Whether the down migration converts it (back to the database's type).
    pub down: bool,
    /// The conversion declared for it, if any.
    pub declared: Option<String>,
    /// PostgreSQL's message.
    pub message: String,
    /// Whether a (corrected) conversion can make it run; not when PostgreSQL cannot change the column's
    /// type in place at all (a column of the partition key).
    pub by_conversion: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConversionError {
    #[error("cannot check the type conversions in the scratch database: {0}")]
    Database(String),
    #[error("{}", refused_message(.0))]
    Refused(Vec<Refused>),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Refused { table, column, from_type, to_type, down, declared, message, by_conversion } = self;
        let (migration, back) = if *down { ("the down migration: ", " back") } else { ("", "") };
        if !by_conversion {
            return write!(
                f,
                "{migration}column {table}.{column}{back} from {from_type} to {to_type}: {message}; PostgreSQL cannot \
                 change it in place: create a table of the new shape, copy the rows and drop the old one"
            );
        }
        match declared {
            Some(expression) => write!(
                f,
                "{migration}column {table}.{column}{back} from {from_type} to {to_type}: the declared conversion \
                 `{expression}` does not run: {message}"
            ),
            None => write!(f, "{migration}column {table}.{column}{back} from {from_type} to {to_type}: {message}"),
        }
    }
}

/// The refused conversions, then how to declare or correct them, with the first column as the example.
fn refused_message(refused: &[Refused]) -> String {
    let mut out = String::from("PostgreSQL cannot run these type conversions of the plan:");
    for r in refused {
        out.push_str(&format!("\n  {r}"));
    }
    let Some(example) = refused.iter().find(|r| r.by_conversion) else { return out };
    let convertible = || refused.iter().filter(|r| r.by_conversion);
    let (up, down) = (convertible().any(|r| !r.down), convertible().any(|r| r.down));
    let mut annotations = Vec::new();
    let mut keys = Vec::new();
    if up {
        annotations.push("    -- schema:using <expression>         (an old row's values to the new type)");
        keys.push("    using = \"<expression>\"");
    }
    if down {
        annotations.push("    -- schema:down-using <expression>    (back to the old type, for the down migration)");
        keys.push("    down_using = \"<expression>\"");
    }
    out.push_str(&format!(
        "\nhint: declare how each column's values convert, as an SQL expression over the row's columns (a declared \
         one that fails must be corrected), either in the schema files, on its own line right before the column's \
         definition in CREATE TABLE:\n{}\n  or in diff.toml:\n    [[conversion]]\n    table = \"{}\"\n    \
         column = \"{}\"\n{}",
        annotations.join("\n"),
        toml_escape(&example.table.to_string()),
        toml_escape(&example.column),
        keys.join("\n")
    ));
    out
}

fn toml_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The user type `name` and those its definition uses (first), each with the statement that creates it as
/// the first of `catalogs` that has it defines it; nothing for a type of neither.
fn type_definition(
    name: &QualifiedName,
    catalogs: [&Catalog; 2],
    depth: usize,
    out: &mut Vec<(QualifiedName, String)>,
) {
    // Type definitions cannot nest deeper than the types there are; this only bounds a malformed model.
    if depth > 16 || out.iter().any(|(n, _)| n == name) {
        return;
    }
    let uses = |refs: &mut dyn Iterator<Item = &ObjectRef>, out: &mut Vec<(QualifiedName, String)>| {
        for r in refs {
            if let ObjectRef::Type(used) = r {
                type_definition(used, catalogs, depth + 1, out);
            }
        }
    };
    let Some(change) = catalogs.iter().find_map(|catalog| {
        if let Some(e) = catalog.enums.get(name) {
            Some(Change::Enum(EnumChange::Create(e.clone())))
        } else if let Some(d) = catalog.domains.get(name) {
            uses(&mut d.depends_on.iter(), out);
            Some(Change::Domain(DomainChange::Create(d.clone())))
        } else if let Some(t) = catalog.composite_types.get(name) {
            uses(&mut t.attributes.values().flat_map(|a| a.depends_on.iter()), out);
            Some(Change::CompositeType(CompositeTypeChange::Create(t.clone())))
        } else if let Some(r) = catalog.range_types.get(name) {
            uses(&mut r.depends_on.iter(), out);
            Some(Change::RangeType(RangeTypeChange::Create(r.clone())))
        } else {
            None
        }
    }) else {
        return;
    };
    // Only the creation itself (a comment changes no conversion), in its schema.
    if let Some(create) = render(&change).ok().and_then(|statements| statements.into_iter().next()) {
        out.push((name.clone(), format!("CREATE SCHEMA IF NOT EXISTS {}; {create}", ident(&name.schema))));
    }
}

/// The type changes of both plans, each with whether it belongs to the down.
fn planned<'a>(up: &'a Plan, down: &'a Plan) -> Vec<(&'a QualifiedName, &'a Column, &'a Column, bool)> {
    let changes = up.steps.iter().map(|s| (&s.change, false)).chain(down.steps.iter().map(|s| (&s.change, true)));
    changes
        .filter_map(|(change, down)| match change {
            // A generated column is computed again, not converted.
            Change::Column(ColumnChange::Alter { table, from, to })
                if from.data_type != to.data_type && to.generated().is_none() =>
            {
                Some((table, from, to, down))
            }
            _ => None,
        })
        .collect()
}

/// Whether `up` or `down` converts a column's values to another type ([`check`] has something to try).
pub fn any(up: &Plan, down: &Plan) -> bool {
    !planned(up, down).is_empty()
}

/// Tries every type conversion of `up` and `down` on `conn`, a database holding the declared schema
/// (`declared`; `current` is the database the plan starts from), inside a transaction that is rolled
/// back. A conversion whose source or target type does not exist there (a type the migration drops), or
/// whose table cannot be copied there, cannot be judged and is left to the migration.
pub async fn check(
    conn: &mut PgConnection,
    declared: &Catalog,
    current: &Catalog,
    up: &Plan,
    down: &Plan,
) -> Result<(), ConversionError> {
    let planned = planned(up, down);
    if planned.is_empty() {
        return Ok(());
    }
    let database = |e: sqlx::Error| ConversionError::Database(connect::describe(&e));
    // Nested in the load's own transaction (a savepoint) when there is one.
    let mut tx = conn.begin().await.map_err(database)?;
    let mut refused = Vec::new();
    for (table, from, to, down) in planned {
        let mut attempt = tx.begin().await.map_err(database)?;
        // A type that is not where the declared schema is (one the up drops, which the down converts back
        // to) is created there from the catalog that has it, so that its conversions are judged too.
        let declared_table = if down { current.tables.get(table) } else { declared.tables.get(table) };
        // The types of the column and of the table's other columns (the copy has them all).
        let others = declared_table.into_iter().flat_map(|t| t.columns.values()).flat_map(|c| c.depends_on.iter());
        let mut definitions = Vec::new();
        for d in from.depends_on.iter().chain(to.depends_on.iter()).chain(others) {
            if let ObjectRef::Type(name) = d {
                type_definition(name, [current, declared], 0, &mut definitions);
            }
        }
        let mut types = attempt.begin().await.map_err(database)?;
        let mut created = true;
        for (name, statement) in definitions {
            let exists: (bool,) = sqlx::query_as("SELECT to_regtype($1) IS NOT NULL")
                .bind(qualified(&name))
                .fetch_one(&mut *types)
                .await
                .map_err(database)?;
            if !exists.0 && sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut *types).await.is_err() {
                created = false;
                break;
            }
        }
        // A type that cannot be created leaves its conversions unjudged, as before.
        if created { types.commit().await } else { types.rollback().await }.map_err(database)?;
        let exists: (bool,) = sqlx::query_as("SELECT to_regtype($1) IS NOT NULL AND to_regtype($2) IS NOT NULL")
            .bind(from.data_type.as_str())
            .bind(to.data_type.as_str())
            .fetch_one(&mut *attempt)
            .await
            .map_err(database)?;
        if !exists.0 {
            attempt.rollback().await.map_err(database)?;
            continue;
        }
        // The table with its columns named as they are when the conversion runs, after the renames of its
        // plan (as the schema files name them for the up, as the database does for the down), partitioned
        // the same way (the key's columns cannot be retyped), the column at its type before the conversion.
        let partitioned =
            declared_table.and_then(|t| t.partition_key.as_ref()).map(|key| format!(" PARTITION BY {key}"));
        let mut columns: Vec<String> = declared_table
            .map(|t| {
                t.columns
                    .values()
                    .filter(|c| c.name != to.name)
                    .map(|c| format!("{} {}", ident(&c.name), c.data_type))
                    .collect()
            })
            .unwrap_or_default();
        columns.push(format!("{} {}", ident(&to.name), from.data_type));
        let copy = ident(&table.name);
        let collate = to.collation().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
        let statements = [
            format!("CREATE TEMPORARY TABLE {copy} ({}){}", columns.join(", "), partitioned.unwrap_or_default()),
            format!(
                "ALTER TABLE pg_temp.{copy} ALTER COLUMN {} TYPE {}{collate} USING {}",
                ident(&to.name),
                to.data_type,
                conversion(from, to)
            ),
        ];
        let [copy, conversion] = statements;
        // A copy that cannot be made leaves the conversion unjudged, not refused.
        let mut failure = None;
        if sqlx::raw_sql(sqlx::AssertSqlSafe(copy)).execute(&mut *attempt).await.is_ok()
            && let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(conversion)).execute(&mut *attempt).await
        {
            // PostgreSQL's own message without its hint (it would suggest a USING clause, which the
            // statement has): the message says how to fix it here.
            let pg = e.as_database_error().and_then(|e| e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>());
            // feature_not_supported, invalid_table_definition (a partition key's column): no USING expression
            // changes those.
            let by_conversion = pg.is_none_or(|pg| !matches!(pg.code(), "0A000" | "42P16"));
            failure = Some((pg.map_or_else(|| connect::describe(&e), |pg| pg.message().to_string()), by_conversion));
        }
        attempt.rollback().await.map_err(database)?;
        if let Some((message, by_conversion)) = failure {
            refused.push(Refused {
                table: table.clone(),
                column: to.name.to_string(),
                from_type: from.data_type.to_string(),
                to_type: to.data_type.to_string(),
                down,
                declared: to.conversion().map(String::from),
                message,
                by_conversion,
            });
        }
    }
    tx.rollback().await.map_err(database)?;
    if refused.is_empty() { Ok(()) } else { Err(ConversionError::Refused(refused)) }
}
