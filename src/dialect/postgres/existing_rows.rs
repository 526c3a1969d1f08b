//! Counting the live rows that break a planned change ([`crate::safety::existing_rows`]): one read-only
//! query per check, all on one snapshot (`REPEATABLE READ READ ONLY`), each under the check timeout and
//! in its own savepoint so that one that times out or cannot be evaluated leaves the others running.

use super::render::{ident, qualified};
use crate::model::QualifiedName;
use crate::safety::existing_rows::{Limits, Outcome, RowCheck, Rule, SAMPLES};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Executor, Row};

/// The outcome of each check, in order. Tables whose row estimate is above the limit are not read.
pub async fn count_violations(
    conn: &mut PgConnection,
    checks: &[RowCheck],
    limits: Limits,
) -> Result<Vec<Outcome>, sqlx::Error> {
    let tables: Vec<QualifiedName> = {
        let set: indexmap::IndexSet<&QualifiedName> = checks.iter().map(|c| &c.table).collect();
        set.into_iter().cloned().collect()
    };
    let stats = super::stats::table_stats(conn, &tables).await?;
    let mut tx = conn.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
    let timeout = limits.timeout.as_millis().max(1);
    sqlx::raw_sql(AssertSqlSafe(format!("SET LOCAL statement_timeout = '{timeout}ms'"))).execute(&mut *tx).await?;
    let mut out = Vec::with_capacity(checks.len());
    for check in checks {
        let size = stats.get(&check.table);
        // A table never analysed has no estimate: its size on disk stands in (about 100 bytes a row).
        let estimate = size.map(|s| s.rows.unwrap_or(s.bytes / 100)).unwrap_or(0);
        if estimate > limits.max_rows {
            out.push(Outcome::NotChecked(format!(
                "the table has about {} rows, more than check_rows_max_rows ({})",
                crate::safety::human_count(estimate),
                limits.max_rows
            )));
            continue;
        }
        tx.execute("SAVEPOINT schema_row_check").await?;
        let outcome = match count(&mut tx, check).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::NotChecked(reason(&e, limits)),
        };
        tx.execute("ROLLBACK TO SAVEPOINT schema_row_check").await?;
        out.push(outcome);
    }
    tx.rollback().await?;
    Ok(out)
}

fn reason(error: &sqlx::Error, limits: Limits) -> String {
    match error.as_database_error() {
        Some(e) if e.code().as_deref() == Some("57014") => {
            format!("counting took longer than check_rows_timeout ({} ms)", limits.timeout.as_millis())
        }
        Some(e) => format!("the database cannot evaluate it before the plan runs ({})", e.message()),
        None => error.to_string(),
    }
}

async fn count(conn: &mut PgConnection, check: &RowCheck) -> Result<Outcome, sqlx::Error> {
    let from = from_clause(check);
    let key = sample_key(check);
    let rows_of =
        |condition: &str| format!("SELECT count(*) OVER (), {key} FROM {from} WHERE {condition} LIMIT {SAMPLES}");
    let (sql, labels) = match &check.rule {
        Rule::NotNull { column } => (rows_of(&format!("{} IS NULL", ident(column))), None),
        Rule::Unique { columns, nulls_distinct, .. } => {
            let keys: Vec<String> = columns.iter().map(|c| ident(c)).collect();
            let names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
            return duplicated(conn, &duplicates(&from, &keys, None, *nulls_distinct), &names).await;
        }
        Rule::UniqueIndex { index } => {
            let Some((keys, predicate)) = index_keys(&index.table, &index.definition) else {
                return Ok(Outcome::NotChecked(format!("cannot read the keys of index {}", index.name)));
            };
            let nulls_distinct = !index.definition.contains("NULLS NOT DISTINCT");
            return duplicated(conn, &duplicates(&from, &keys, predicate.as_deref(), nulls_distinct), &keys).await;
        }
        Rule::ForeignKey { columns, target, match_full, .. } => {
            let present: Vec<String> = columns.iter().map(|c| format!("{} IS NOT NULL", ident(c))).collect();
            // MATCH SIMPLE lets a row with a NULL in its key through; MATCH FULL only one with all NULL.
            let applies = if *match_full { present.join(" OR ") } else { present.join(" AND ") };
            let condition = match target {
                Some(target) => {
                    let matches: Vec<String> = columns
                        .iter()
                        .zip(&target.columns)
                        .map(|(c, r)| format!("schema_ref.{} = schema_row.{}", ident(r), ident(c)))
                        .collect();
                    format!(
                        "({applies}) AND NOT EXISTS (SELECT FROM {} AS schema_ref WHERE {})",
                        qualified(&target.table),
                        matches.join(" AND ")
                    )
                }
                None => format!("({applies})"),
            };
            (rows_of(&condition), None)
        }
        // A CHECK passes when its expression is NULL.
        Rule::Check { expression, .. } => (rows_of(&format!("({expression}) IS FALSE")), None),
        Rule::RemovedLabels { column, labels, array } => {
            let condition = if *array {
                format!("{}::text[] && $1", ident(column))
            } else {
                format!("{}::text = ANY($1)", ident(column))
            };
            (rows_of(&condition), Some(labels.clone()))
        }
        Rule::Converts { from: old, to } => {
            let conversion = super::kinds::columns::conversion(old, to);
            let changes = changes_value(old, to)
                .then(|| format!("({conversion})::{} IS DISTINCT FROM {}", old.data_type, ident(&old.name)));
            // Without a value check, a condition that is never true still converts every row, so a value
            // that does not convert raises.
            let condition = changes.clone().unwrap_or_else(|| format!("num_nulls({conversion}) < 0"));
            match fetch(conn, &rows_of(&condition), None).await {
                Ok(rows) => return Ok(counted(rows, |values| row_sample(check, values))),
                // A value that does not convert (SQLSTATE class 22): count them one row at a time.
                Err(e) if e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c.starts_with("22")) => {
                    conn.execute("ROLLBACK TO SAVEPOINT schema_row_check").await?;
                    return conversion_failures(conn, check, &conversion, changes.as_deref()).await;
                }
                Err(e) => return Err(e),
            }
        }
    };
    let rows = fetch(conn, &sql, labels).await?;
    Ok(counted(rows, |values| row_sample(check, values)))
}

/// The outcome of a [`duplicates`] query, whose samples are the duplicated keys, named `names`.
async fn duplicated(conn: &mut PgConnection, sql: &str, names: &[String]) -> Result<Outcome, sqlx::Error> {
    let rows = fetch(conn, sql, None).await?;
    Ok(counted(rows, |mut values| {
        let n = values.pop().flatten().unwrap_or_default();
        format!("{} ×{n}", pairs(names, &values))
    }))
}

async fn fetch(
    conn: &mut PgConnection,
    sql: &str,
    labels: Option<Vec<String>>,
) -> Result<Vec<(i64, Vec<Option<String>>)>, sqlx::Error> {
    // Built from quoted names and the database's own rendering of expressions; labels are bound.
    let mut query = sqlx::query(AssertSqlSafe(sql.to_string()));
    if let Some(labels) = labels {
        query = query.bind(labels);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<Vec<Option<String>>, _>(1)?))).collect()
}

/// The rows and samples of a count query's result (the total on every row, 0 without rows).
fn counted(rows: Vec<(i64, Vec<Option<String>>)>, sample: impl Fn(Vec<Option<String>>) -> String) -> Outcome {
    let total = rows.first().map(|(n, _)| *n as u64).unwrap_or(0);
    let samples = rows.into_iter().map(|(_, values)| sample(values)).collect();
    Outcome::Counted { rows: total, samples }
}

/// A row named by its primary key (`id=4, region=eu`), or its `ctid` without one.
fn row_sample(check: &RowCheck, values: Vec<Option<String>>) -> String {
    let names: Vec<String> = if check.keys.is_empty() {
        vec!["ctid".to_string()]
    } else {
        check.keys.iter().map(|k| k.to_string()).collect()
    };
    pairs(&names, &values)
}

/// `a=1, b=NULL`.
fn pairs(names: &[String], values: &[Option<String>]) -> String {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".to_string());
    names.iter().zip(values).map(|(k, v)| format!("{k}={}", show(v))).collect::<Vec<_>>().join(", ")
}

fn from_clause(check: &RowCheck) -> String {
    let only = if check.with_children { "" } else { "ONLY " };
    format!("{only}{} AS schema_row", qualified(&check.table))
}

/// The text of the primary key's values (the row's `ctid` without one), as an array.
fn sample_key(check: &RowCheck) -> String {
    if check.keys.is_empty() {
        return "ARRAY[schema_row.ctid::text]".to_string();
    }
    let keys: Vec<String> = check.keys.iter().map(|k| format!("schema_row.{}::text", ident(k))).collect();
    format!("ARRAY[{}]", keys.join(", "))
}

/// The rows involved in duplicates of `keys` (their sum over every duplicated key), with a few of the
/// duplicated keys and their counts. NULLs are distinct unless the key says otherwise.
fn duplicates(from: &str, keys: &[String], predicate: Option<&str>, nulls_distinct: bool) -> String {
    let mut conditions: Vec<String> = predicate.map(|p| format!("({p})")).into_iter().collect();
    if nulls_distinct {
        conditions.extend(keys.iter().map(|k| format!("({k}) IS NOT NULL")));
    }
    let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
    let selected: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!("({k}) AS schema_k{i}")).collect();
    let positions: Vec<String> = (1..=keys.len()).map(|i| i.to_string()).collect();
    let texts: Vec<String> = (0..keys.len()).map(|i| format!("schema_dup.schema_k{i}::text")).collect();
    format!(
        "SELECT (sum(schema_dup.schema_n) OVER ())::int8, ARRAY[{}, schema_dup.schema_n::text] \
         FROM (SELECT {}, count(*) AS schema_n FROM {from}{filter} GROUP BY {} HAVING count(*) > 1) AS schema_dup \
         LIMIT {SAMPLES}",
        texts.join(", "),
        selected.join(", "),
        positions.join(", ")
    )
}

/// The key expressions and the predicate of a unique index, from its definition (`btree (lower(email))
/// WHERE (deleted_at IS NULL)`): parsed, and written back as SQL, without their operator classes and
/// orderings, which do not change which rows are equal.
pub(crate) fn index_keys(table: &QualifiedName, definition: &str) -> Option<(Vec<String>, Option<String>)> {
    use sqlparser::ast::Statement as Ast;
    let sql = format!("CREATE UNIQUE INDEX schema_check ON {} USING {definition}", qualified(table));
    let parsed = sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, &sql).ok()?;
    let [Ast::CreateIndex(index)] = parsed.as_slice() else { return None };
    let keys = index.columns.iter().map(|c| c.column.expr.to_string()).collect();
    Some((keys, index.predicate.as_ref().map(|p| p.to_string())))
}

/// Whether a value can come out of the conversion different from what went in, without an error: the
/// plan's default cast to a narrower type of the same kind truncates or rounds (`varchar(10)`,
/// `numeric(8,2)`, `integer` from `numeric`, `real`, `date` from a timestamp). Not for a declared
/// conversion (it means to change values), a user type, an array, or text parsed into another kind of
/// value (`'007'` → 7, `'{"a":1}'` → jsonb change the spelling, not the value).
fn changes_value(from: &crate::model::Column, to: &crate::model::Column) -> bool {
    use crate::model::ObjectRef;
    if to.conversion().is_some()
        || [from, to].iter().any(|c| c.depends_on.iter().any(|d| matches!(d, ObjectRef::Type(_))))
        || from.data_type.ends_with("[]")
        || to.data_type.ends_with("[]")
        || super::kinds::columns::widening(&from.data_type, &to.data_type)
    {
        return false;
    }
    let base = |t: &str| t.split('(').next().unwrap_or(t).trim().to_string();
    let text_like = |b: &str| matches!(b, "text" | "character varying" | "character" | "name" | "citext");
    let (from_base, to_base) = (base(&from.data_type), base(&to.data_type));
    if matches!(from_base.as_str(), "json" | "jsonb" | "xml") {
        return false;
    }
    !text_like(&from_base) || text_like(&to_base)
}

/// Counts the rows whose value fails to convert (or changes, `changes`), one savepoint-like exception
/// block a row, in a `DO` block that leaves its results in two settings of the transaction.
async fn conversion_failures(
    conn: &mut PgConnection,
    check: &RowCheck,
    conversion: &str,
    changes: Option<&str>,
) -> Result<Outcome, sqlx::Error> {
    const TAG: &str = "$schema_row_check$";
    if conversion.contains(TAG) || changes.is_some_and(|c| c.contains(TAG)) {
        return Ok(Outcome::NotChecked("the conversion's text contains the check's quoting tag".to_string()));
    }
    let table = qualified(&check.table);
    let only = if check.with_children { "" } else { "ONLY " };
    let this_row = "schema_row.tableoid = r.schema_oid AND schema_row.ctid = r.schema_ctid";
    let changed = match changes {
        Some(condition) => format!(
            "IF EXISTS (SELECT FROM {only}{table} AS schema_row WHERE {this_row} AND {condition}) THEN bad := true; END IF;"
        ),
        None => String::new(),
    };
    let body = format!(
        "DO {TAG}
DECLARE
  r record;
  bad boolean;
  n int8 := 0;
  samples text[] := '{{}}';
BEGIN
  FOR r IN SELECT schema_row.tableoid AS schema_oid, schema_row.ctid AS schema_ctid, {key} AS schema_key
             FROM {only}{table} AS schema_row LOOP
    bad := false;
    BEGIN
      PERFORM {conversion} FROM {only}{table} AS schema_row WHERE {this_row};
      {changed}
    EXCEPTION WHEN data_exception THEN
      bad := true;
    END;
    IF bad THEN
      n := n + 1;
      IF n <= {SAMPLES} THEN samples := samples || array_to_string(r.schema_key, chr(31), 'NULL'); END IF;
    END IF;
  END LOOP;
  PERFORM set_config('schema_row_check.rows', n::text, true), set_config('schema_row_check.samples', array_to_string(samples, chr(30)), true);
END {TAG}",
        key = sample_key(check),
    );
    sqlx::raw_sql(AssertSqlSafe(body)).execute(&mut *conn).await?;
    let row = sqlx::query(
        "SELECT current_setting('schema_row_check.rows')::int8, current_setting('schema_row_check.samples')",
    )
    .fetch_one(&mut *conn)
    .await?;
    let total: i64 = row.try_get(0)?;
    let joined: String = row.try_get(1)?;
    let samples = joined
        .split('\u{1e}')
        .filter(|s| !s.is_empty())
        .map(|s| row_sample(check, s.split('\u{1f}').map(|v| Some(v.to_string())).collect()))
        .collect();
    Ok(Outcome::Counted { rows: total as u64, samples })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_keys_are_read_without_opclasses_or_orderings() {
        let t = QualifiedName::new("public", "users");
        let (keys, predicate) =
            index_keys(&t, "btree (lower((email)::text) text_pattern_ops DESC, tenant) WHERE (deleted_at IS NULL)")
                .unwrap();
        assert_eq!(keys, vec!["lower((email)::TEXT)".to_string(), "tenant".to_string()]);
        assert_eq!(predicate.as_deref(), Some("(deleted_at IS NULL)"));
        let (keys, _) = index_keys(&t, "btree (\"Mixed Case\") NULLS NOT DISTINCT").unwrap();
        assert_eq!(keys, vec!["\"Mixed Case\"".to_string()]);
    }
}
