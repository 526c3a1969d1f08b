//! Counting the live rows that break a planned change ([`crate::safety::existing_rows`]) in a SQLite
//! database: on a read-only connection, in one read transaction (one snapshot). SQLite cannot stop a
//! statement after a time, so the row limit (an exact `count(*)` of each table) is the only bound.

use super::render::ident;
use crate::model::{Catalog, ConstraintKind, Name};
use crate::safety::existing_rows::{Limits, Outcome, RowCheck, Rule, SAMPLES};
use sqlx::sqlite::SqliteConnection;
use sqlx::{AssertSqlSafe, Connection, Row};

pub async fn count_violations(
    conn: &mut SqliteConnection,
    checks: &[RowCheck],
    current: &Catalog,
    limits: Limits,
) -> Result<Vec<Outcome>, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let mut sizes: indexmap::IndexMap<Name, u64> = indexmap::IndexMap::new();
    let mut out = Vec::with_capacity(checks.len());
    for check in checks {
        let table = check.table.name.clone();
        let size = match sizes.get(&table) {
            Some(n) => *n,
            None => {
                let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {}", ident(&table))))
                    .fetch_one(&mut *tx)
                    .await?;
                sizes.insert(table.clone(), n as u64);
                n as u64
            }
        };
        if size > limits.max_rows {
            out.push(Outcome::NotChecked(format!(
                "the table has {} rows, more than check_rows_max_rows ({})",
                crate::safety::human_count(size),
                limits.max_rows
            )));
            continue;
        }
        out.push(match count(&mut tx, check, current).await {
            Ok(outcome) => outcome,
            Err(sqlx::Error::Database(e)) => {
                Outcome::NotChecked(format!("the database cannot evaluate it before the plan runs ({})", e.message()))
            }
            Err(e) => return Err(e),
        });
    }
    tx.rollback().await?;
    Ok(out)
}

async fn count(conn: &mut SqliteConnection, check: &RowCheck, current: &Catalog) -> Result<Outcome, sqlx::Error> {
    let from = format!("{} AS schema_row", ident(&check.table.name));
    let key = if check.keys.is_empty() {
        "json_array(schema_row.rowid)".to_string()
    } else {
        let keys: Vec<String> = check.keys.iter().map(|k| format!("schema_row.{}", ident(k))).collect();
        format!("json_array({})", keys.join(", "))
    };
    let rows_of =
        |condition: &str| format!("SELECT count(*) OVER (), {key} FROM {from} WHERE {condition} LIMIT {SAMPLES}");
    let (sql, names) = match &check.rule {
        Rule::NotNull { column } => (rows_of(&format!("schema_row.{} IS NULL", ident(column))), row_names(check)),
        Rule::Unique { columns, definition, nulls_distinct, .. } => {
            // The key list of the definition carries the collations that decide which values are equal
            // (`UNIQUE ("email" COLLATE NOCASE)`); the plain columns when it cannot be read.
            let keys = constraint_keys(&check.table.name, definition)
                .filter(|keys| keys.len() == columns.len())
                .unwrap_or_else(|| columns.iter().map(|c| ident(c)).collect());
            (duplicates(&from, &keys, None, *nulls_distinct), columns.iter().map(|c| c.to_string()).collect())
        }
        Rule::UniqueIndex { index } => {
            let Some((keys, predicate)) = index_keys(&index.table.name, &index.definition) else {
                return Ok(Outcome::NotChecked(format!("cannot read the keys of index {}", index.name.name)));
            };
            (duplicates(&from, &keys, predicate.as_deref(), true), keys)
        }
        Rule::ForeignKey { columns, target, match_full, .. } => {
            let present: Vec<String> = columns.iter().map(|c| format!("schema_row.{} IS NOT NULL", ident(c))).collect();
            let applies = if *match_full { present.join(" OR ") } else { present.join(" AND ") };
            let condition = match target {
                Some(target) => {
                    // `REFERENCES parent` without columns names the parent's primary key.
                    let referenced: Vec<Name> = if target.columns.is_empty() {
                        current
                            .tables
                            .get(&target.table)
                            .and_then(|t| t.constraints.values().find(|c| c.kind == ConstraintKind::PrimaryKey))
                            .map(|c| c.columns.clone())
                            .unwrap_or_default()
                    } else {
                        target.columns.clone()
                    };
                    if referenced.len() != columns.len() {
                        return Ok(Outcome::NotChecked(format!(
                            "cannot tell which columns of {} it references",
                            target.table
                        )));
                    }
                    let matches: Vec<String> = columns
                        .iter()
                        .zip(&referenced)
                        .map(|(c, r)| format!("schema_ref.{} = schema_row.{}", ident(r), ident(c)))
                        .collect();
                    format!(
                        "({applies}) AND NOT EXISTS (SELECT 1 FROM {} AS schema_ref WHERE {})",
                        ident(&target.table.name),
                        matches.join(" AND ")
                    )
                }
                None => format!("({applies})"),
            };
            (rows_of(&condition), row_names(check))
        }
        Rule::Check { expression, .. } => (rows_of(&format!("({expression}) IS FALSE")), row_names(check)),
        // SQLite has no enum types, and a rebuild copies values as they are.
        Rule::Converts { .. } | Rule::RemovedLabels { .. } => {
            return Ok(Outcome::Counted { rows: 0, samples: Vec::new() });
        }
    };
    let duplicates = matches!(check.rule, Rule::Unique { .. } | Rule::UniqueIndex { .. });
    // Built from quoted names and the database's own rendering of expressions.
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut *conn).await?;
    let mut total = 0;
    let mut samples = Vec::new();
    for row in rows {
        total = row.try_get::<i64, _>(0)? as u64;
        let values: serde_json::Value = serde_json::from_str(&row.try_get::<String, _>(1)?).unwrap_or_default();
        let mut values: Vec<String> = values
            .as_array()
            .map(|a| a.iter().map(|v| if let Some(s) = v.as_str() { s.to_string() } else { v.to_string() }).collect())
            .unwrap_or_default();
        let sample = if duplicates {
            let n = values.pop().unwrap_or_default();
            format!("{} ×{n}", pairs(&names, &values))
        } else {
            pairs(&names, &values)
        };
        samples.push(sample);
    }
    Ok(Outcome::Counted { rows: total, samples })
}

fn row_names(check: &RowCheck) -> Vec<String> {
    if check.keys.is_empty() { vec!["rowid".to_string()] } else { check.keys.iter().map(|k| k.to_string()).collect() }
}

fn pairs(names: &[String], values: &[String]) -> String {
    names.iter().zip(values).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// The rows involved in duplicates of `keys`, with a few duplicated keys and their counts.
fn duplicates(from: &str, keys: &[String], predicate: Option<&str>, nulls_distinct: bool) -> String {
    let mut conditions: Vec<String> = predicate.map(|p| format!("({p})")).into_iter().collect();
    if nulls_distinct {
        conditions.extend(keys.iter().map(|k| format!("({k}) IS NOT NULL")));
    }
    let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
    let selected: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!("{k} AS schema_k{i}")).collect();
    let positions: Vec<String> = (1..=keys.len()).map(|i| i.to_string()).collect();
    let values: Vec<String> = (0..keys.len()).map(|i| format!("schema_dup.schema_k{i}")).collect();
    format!(
        "SELECT sum(schema_dup.schema_n) OVER (), json_array({}, schema_dup.schema_n) \
         FROM (SELECT {}, count(*) AS schema_n FROM {from}{filter} GROUP BY {} HAVING count(*) > 1) AS schema_dup \
         LIMIT {SAMPLES}",
        values.join(", "),
        selected.join(", "),
        positions.join(", ")
    )
}

/// The keys of a `UNIQUE (…)` or `PRIMARY KEY (…)` definition, read like an index's.
fn constraint_keys(table: &str, definition: &str) -> Option<Vec<String>> {
    let open = definition.find('(')?;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in definition[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`' | '[') => quote = Some(if c == '[' { ']' } else { c }),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return index_keys(table, &definition[open..=open + i]).map(|(keys, _)| keys);
                }
            }
            _ => {}
        }
    }
    None
}

/// The key expressions (with their collations, which decide which values are equal) and the predicate
/// of a unique index, from its definition (`("email" COLLATE NOCASE) WHERE "deleted" = 0`).
fn index_keys(table: &str, definition: &str) -> Option<(Vec<String>, Option<String>)> {
    use sqlparser::ast::Statement as Ast;
    let sql = format!("CREATE UNIQUE INDEX schema_check ON {} {definition}", ident(table));
    let parsed = sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, &sql).ok()?;
    let [Ast::CreateIndex(index)] = parsed.as_slice() else { return None };
    let keys = index.columns.iter().map(|c| c.column.expr.to_string()).collect();
    Some((keys, index.predicate.as_ref().map(|p| p.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_keys_keep_collations_and_drop_orderings() {
        let (keys, predicate) =
            index_keys("t", "(\"email\" COLLATE NOCASE DESC, lower(\"b\")) WHERE \"deleted\" = 0").unwrap();
        assert_eq!(keys, vec!["\"email\" COLLATE NOCASE".to_string(), "lower(\"b\")".to_string()]);
        assert_eq!(predicate.as_deref(), Some("\"deleted\" = 0"));
        let keys = constraint_keys("t", "UNIQUE (\"c\" COLLATE NOCASE, \"a(\") ON CONFLICT ABORT").unwrap();
        assert_eq!(keys, vec!["\"c\" COLLATE NOCASE".to_string(), "\"a(\"".to_string()]);
    }
}
