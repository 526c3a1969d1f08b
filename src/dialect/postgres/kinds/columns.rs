//! Columns: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/columns.sql`): type, collation, default, identity and its options, generated expression, NOT
//! NULL, inheritance, comments, and what each depends on (user types, collations, sequences of its default, the
//! same column of its inheritance parents). The same query brings the columns of views (their names in order,
//! their comments), column privileges, and per-column settings the tool does not manage.
//!
//! Render: `ADD`, `DROP` (also `ONLY` the parent's, kept by its children), `RENAME` and the `ALTER COLUMN`
//! statements of a changed column (type with its `USING` conversion, default, NOT NULL, identity and its
//! sequence's options), and a column's definition as `CREATE TABLE` and `ADD COLUMN` write it.
//!
//! Hazards: a column added with a value PostgreSQL must write into every row (a stored generated column, an
//! identity, a volatile default) or NOT NULL without a default, and a column whose type changes (a rewrite
//! unless binary coercible, a narrowing unless widening) or that becomes NOT NULL (a scan).

use super::privileges;
use super::views::ViewColumns;
use crate::dialect::postgres::introspect::{
    IntrospectError, Rows, collation_ref, get, get_name, get_qualified, json_pairs,
};
use crate::dialect::postgres::locks::ACCESS_EXCLUSIVE;
use crate::dialect::postgres::render::{ident, literal, qualified, taking};
use crate::diff::ColumnChange;
use crate::model::*;
use crate::plan::Statement;
use crate::safety::{self, Context, Hazard, HazardId, Severity};
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("columns", include_str!("../queries/columns.sql"));

/// Reads the columns into the tables already read, and returns the views' columns for [`super::views::read`].
pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<ViewColumns, IntrospectError> {
    // The rows come in no particular order (see columns.sql): each relation's columns are put in
    // position order once all are read.
    let mut view_columns = ViewColumns::default();
    let mut table_positions: Vec<Vec<i16>> = vec![Vec::new(); catalog.tables.len()];
    let mut column_grants: Vec<Grant> = Vec::new();
    let mut rows = Rows::new(conn, QUERY, schemas);
    while let Some(row) = rows.next().await? {
        let q = "columns";
        let table = get_qualified(&row, q, "table_name")?;
        let name = get_name(&row, q, "name")?;
        privileges::column_grants(&row, &table, &name, &mut column_grants)?;
        if let Some(settings) = get::<Option<Vec<String>>>(&row, q, "unmanaged_settings")? {
            let qualified = format!("{table}.{name}");
            catalog.unmanaged.extend(settings.into_iter().map(|kind| UnmanagedObject {
                kind,
                schema: table.schema.to_string(),
                name: qualified.clone(),
            }));
        }
        let position: i16 = get(&row, q, "position")?;
        match get::<&str>(&row, q, "relkind")? {
            "r" | "p" => {}
            // A foreign table's columns are read for their privileges only.
            "f" => continue,
            _ => {
                if let Some(comment) = get::<Option<String>>(&row, q, "comment")? {
                    view_columns.comments.entry(table.clone()).or_default().insert(name.to_string(), comment);
                }
                view_columns.names.entry(table).or_default().push((position, name.into_string()));
                continue;
            }
        }
        let Some((index, _, target)) = catalog.tables.get_full_mut(&table) else {
            continue;
        };
        let mut depends_on = Vec::new();
        if let (Some(schema), Some(type_name)) =
            (get::<Option<String>>(&row, q, "type_schema")?, get::<Option<String>>(&row, q, "type_name")?)
        {
            depends_on.push(ObjectRef::Type(QualifiedName::new(schema, type_name)));
        }
        depends_on.extend(collation_ref(&row, q)?);
        // Borrowed from the row, and parsed only when not empty: most columns have no default.
        let sequences = get::<&str>(&row, q, "sequences")?;
        if sequences != "[]" {
            for (schema, sequence) in json_pairs(q, sequences)? {
                depends_on.push(ObjectRef::Sequence(QualifiedName::new(schema, sequence)));
            }
        }
        let identity = match get::<&str>(&row, q, "identity")? {
            "a" => Some(IdentityKind::Always),
            "d" => Some(IdentityKind::ByDefault),
            _ => None,
        };
        let mut column = Column::new(name.clone(), get_name(&row, q, "data_type")?);
        column.not_null = get(&row, q, "not_null")?;
        column.origin = match (get::<bool>(&row, q, "inherited")?, get::<bool>(&row, q, "local")?) {
            (false, _) => ColumnOrigin::Own,
            (true, false) => ColumnOrigin::Inherited,
            (true, true) => ColumnOrigin::Merged,
        };
        column.default = get::<Option<&str>>(&row, q, "default_expr")?.map(Box::from);
        column.identity = identity;
        column.depends_on = depends_on.into_boxed_slice();
        column.set_identity_options(get::<Option<&str>>(&row, q, "identity_options")?);
        column.set_generated(get::<Option<&str>>(&row, q, "generated_expr")?);
        column.set_collation(get::<Option<&str>>(&row, q, "collation")?);
        column.set_comment(get::<Option<&str>>(&row, q, "comment")?);
        target.columns.insert(name, column);
        table_positions[index].push(position);
    }
    std::mem::drop(rows);
    for (table, positions) in catalog.tables.values_mut().zip(&table_positions) {
        if !positions.is_sorted() {
            let mut order: Vec<usize> = (0..positions.len()).collect();
            order.sort_by_key(|&i| positions[i]);
            let mut columns: Vec<_> = std::mem::take(&mut table.columns).into_iter().map(Some).collect();
            table.columns = order.into_iter().filter_map(|i| columns[i].take()).collect();
        }
    }
    std::mem::drop(table_positions);
    inherited_column_dependencies(catalog);
    // Ordered as the privileges query orders the grants on other objects.
    column_grants.sort_by(|a, b| a.key.cmp(&b.key));
    catalog.grants.extend(column_grants.into_iter().map(|grant| (grant.key.clone(), grant)));
    Ok(view_columns)
}

/// An inherited column of an inheritance child depends on the same column of each parent that has it:
/// the child is created after that column, its changes follow the parent's (which PostgreSQL carries
/// down to it), and it is dropped before the parent loses the column.
fn inherited_column_dependencies(catalog: &mut Catalog) {
    let mut found: Vec<(usize, Name, ObjectRef)> = Vec::new();
    for (index, table) in catalog.tables.values().enumerate() {
        for parent in &table.inherits {
            let Some(parent_table) = catalog.tables.get(parent) else { continue };
            for column in table.columns.values().filter(|c| c.origin.inherited()) {
                if parent_table.columns.contains_key(&column.name) {
                    let target = ColumnRef { table: parent.clone(), column: column.name.clone() };
                    found.push((index, column.name.clone(), ObjectRef::Column(target)));
                }
            }
        }
    }
    for (index, column, parent) in found {
        if let Some(column) = catalog.tables[index].columns.get_mut(&column) {
            column.add_dependency(parent);
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Render.

/// Every column change takes ACCESS EXCLUSIVE on its table, except the `setval` that moves a new identity
/// past the rows (it reads the table and writes the sequence).
pub(crate) fn render(change: &ColumnChange) -> Vec<Statement> {
    match change {
        ColumnChange::Add { table, column } => taking(add(table, column), ACCESS_EXCLUSIVE, table),
        ColumnChange::Drop { table, column } => taking(drop(table, column), ACCESS_EXCLUSIVE, table),
        ColumnChange::DropKeptByChildren { table, column } => {
            taking(drop_kept_by_children(table, column), ACCESS_EXCLUSIVE, table)
        }
        ColumnChange::Rename { table, from, to } => taking(rename(table, from, to), ACCESS_EXCLUSIVE, table),
        ColumnChange::Alter { table, from, to } => alter(table, from, to),
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
pub(crate) fn alter(table: &QualifiedName, from: &Column, to: &Column) -> Vec<Statement> {
    let name = &to.name;
    let mut sql = Vec::new();
    let retyped = from.data_type != to.data_type || from.collation() != to.collation();
    let default_changed = from.default != to.default || retyped;
    if from.identity.is_some() && to.identity.is_none() {
        sql.push(alter_column_statement(table, name, "DROP IDENTITY"));
    }
    if from.default.is_some() && default_changed {
        sql.push(alter_column_statement(table, name, "DROP DEFAULT"));
    }
    if retyped {
        let collate = to.collation().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
        // A generated column's values are computed again from its expression: PostgreSQL refuses USING.
        let using = if to.generated().is_some() { String::new() } else { format!(" USING {}", conversion(from, to)) };
        sql.push(alter_column_statement(table, name, &format!("TYPE {}{collate}{using}", to.data_type)));
    }
    if from.not_null != to.not_null {
        sql.push(alter_column_statement(table, name, if to.not_null { "SET NOT NULL" } else { "DROP NOT NULL" }));
    }
    if let Some(default) = &to.default
        && default_changed
    {
        sql.push(alter_column_statement(table, name, &format!("SET DEFAULT {default}")));
    }
    match (from.identity, to.identity) {
        (None, Some(kind)) => {
            let clause = identity_clause(kind, to.identity_options());
            sql.push(alter_column_statement(table, name, &format!("ADD {clause}")));
            sql.push(Statement::locking(identity_past_rows(table, name)));
        }
        (Some(a), Some(b)) => {
            if a != b {
                let word = if b == IdentityKind::Always { "ALWAYS" } else { "BY DEFAULT" };
                sql.push(alter_column_statement(table, name, &format!("SET GENERATED {word}")));
            }
            if from.identity_options() != to.identity_options() {
                let settings = identity_settings(&to.data_type, to.identity_options());
                sql.push(Statement::locking(identity_reset(table, name, &settings)).taking(ACCESS_EXCLUSIVE, table));
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

/// [`alter_column`] as a statement: ACCESS EXCLUSIVE on the table.
pub(super) fn alter_column_statement(table: &QualifiedName, column: &str, action: &str) -> Statement {
    Statement::locking(alter_column(table, column, action)).taking(ACCESS_EXCLUSIVE, table)
}

// ------------------------------------------------------------------------------------------------
// Hazards.

/// PostgreSQL's hazards of one column change; the shared rules cover drops and renames.
pub(crate) fn hazards(change: &ColumnChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        ColumnChange::Add { table, column } => add_hazards(table, column, ctx, out),
        ColumnChange::Alter { table, from, to } => alter_hazards(table, from, to, ctx, out),
        ColumnChange::Drop { .. } | ColumnChange::DropKeptByChildren { .. } | ColumnChange::Rename { .. } => {}
    }
}

pub(super) fn add_hazards(table: &QualifiedName, column: &Column, ctx: &Context, out: &mut Vec<Hazard>) {
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
            .holds_lock_on(table)
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
            .holds_lock_on(table),
        );
    }
}

pub(super) fn alter_hazards(table: &QualifiedName, from: &Column, to: &Column, ctx: &Context, out: &mut Vec<Hazard>) {
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
                .holds_lock_on(table)
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
            .holds_lock_on(table)
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
