//! SQLite test support shared by the round-trip tests, the generative pairs and the history replay: an
//! independent fingerprint of a database's schema, the rows of its tables, and plain loading.
//!
//! The fingerprint is written for the tests, not taken from the tool: what the pragmas report (tables
//! and their options, columns, keys, indexes, foreign keys), and what only the stored text says (checks,
//! column collations, generation expressions, AUTOINCREMENT, deferrable foreign keys, view queries and
//! trigger definitions), read with a small tokenizer of its own. Text is compared token by token with
//! names unquoted and words in lower case; literals stay exact. Constraint names are left out: SQLite
//! uses them in error messages only, and the tool names the unnamed ones.

use anyhow::{Context, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};
use std::str::FromStr;

/// Opens (creating if missing) the database at `url` (`sqlite:path`).
pub async fn open(url: &str) -> Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("invalid SQLite URL {url}"))?
        .create_if_missing(true)
        .disable_statement_logging();
    options.connect().await.with_context(|| format!("cannot open {url}"))
}

/// The `sqlite:` URL of a file.
pub fn url(path: &std::path::Path) -> String {
    format!("sqlite:{}", path.display())
}

/// Runs SQL text (several statements) as it is, with foreign keys off (rows of tables that reference
/// each other load in any order; [`clean`] checks them afterwards).
pub async fn load_sql(url: &str, sql: &str) -> Result<()> {
    let mut conn = open(url).await?;
    sqlx::raw_sql("PRAGMA foreign_keys = OFF").execute(&mut conn).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    conn.close().await?;
    Ok(())
}

async fn strings(conn: &mut SqliteConnection, sql: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("fingerprint query {sql}"))?;
    rows.iter().map(|r| r.try_get::<String, _>(0).map_err(Into::into)).collect()
}

/// A quoted identifier (the tests' own quoting).
fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal (the tests' own quoting).
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The sorted fingerprint lines of a database's schema; objects whose name contains `skip` (a tracking
/// table) are left out when it is given.
pub async fn fingerprint(url: &str, skip: Option<&str>) -> Result<Vec<String>> {
    let mut conn = open(url).await?;
    let queries = [
        "SELECT 'object ' || type || ' ' || name || ' on ' || tbl_name FROM sqlite_schema \
         WHERE name NOT LIKE 'sqlite_%' AND type <> 'index'",
        "SELECT 'table ' || name || ' wr=' || wr || ' strict=' || strict FROM pragma_table_list WHERE schema = 'main' \
         AND name NOT LIKE 'sqlite_%'",
        "SELECT 'column ' || s.name || '.' || c.name || ' ' || c.type || ' nn=' || c.\"notnull\" || ' dflt=' || \
         coalesce(c.dflt_value, '-') || ' pk=' || c.pk || ' hidden=' || c.hidden \
         FROM sqlite_schema s, pragma_table_xinfo(s.name) c WHERE s.type IN ('table', 'view') AND s.name NOT LIKE 'sqlite_%'",
        "SELECT 'index ' || s.name || ' ' || l.name || ' unique=' || l.\"unique\" || ' origin=' || l.origin || \
         ' partial=' || l.partial || ' ' || (SELECT group_concat(coalesce(x.name, 'expr') || ':' || x.\"desc\" || ':' || \
         x.coll, ',') FROM pragma_index_xinfo(l.name) x WHERE x.key) \
         FROM sqlite_schema s, pragma_index_list(s.name) l WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite_%'",
        "SELECT 'fk ' || s.name || '.' || f.\"from\" || ' -> ' || f.\"table\" || '.' || coalesce(f.\"to\", '(pk)') || \
         ' ' || f.on_update || ' ' || f.on_delete || ' ' || f.\"match\" || ' seq=' || f.seq \
         FROM sqlite_schema s, pragma_foreign_key_list(s.name) f \
         WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite_%'",
    ];
    // Column order is left out, as the tool leaves it (README, drift): a column added back by a down
    // goes last, and no plan reorders columns in place.
    let mut lines = Vec::new();
    for query in queries {
        lines.extend(strings(&mut conn, query).await?);
    }
    // Index names come from the index list: an automatic index's name depends on the order of the
    // constraints, so it is replaced by its table's name and keys.
    for line in &mut lines {
        // Found by position, not by splitting on spaces: table names may hold spaces.
        if let Some(start) = line.starts_with("index ").then(|| line.find(" sqlite_autoindex_")).flatten()
            && let Some(length) = line[start..].find(" unique=")
        {
            line.replace_range(start..start + length, "");
        }
    }
    let texts = sqlx::query(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL",
    )
    .fetch_all(&mut conn)
    .await?;
    for row in texts {
        let (kind, name, table, sql): (String, String, String, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
        let tokens = tokenize(&sql);
        match kind.as_str() {
            "table" => lines.extend(table_text_lines(&name, &tokens)),
            "index" => lines.push(format!("index-text {name} on {table}: {}", after_keyword(&tokens, "on"))),
            "view" => lines.push(format!("view-text {name}: {}", after_keyword(&tokens, "as"))),
            "trigger" => lines.push(format!("trigger-text {name}: {}", join(&tokens))),
            _ => {}
        }
    }
    conn.close().await?;
    if let Some(skip) = skip {
        lines.retain(|line| !line.contains(skip));
    }
    lines.sort();
    Ok(lines)
}

/// A token of SQLite's syntax, normalized for comparison.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A name or keyword (unquoted, lower case).
    Word(String),
    /// A string literal, blob literal or number, exactly as written.
    Literal(String),
    /// Punctuation or an operator.
    Punct(String),
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Word(w) => q(w),
            Tok::Literal(l) | Tok::Punct(l) => l.clone(),
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self, Tok::Word(w) if w == word)
    }
}

/// SQLite's tokens, without whitespace and comments. Unterminated quotes end at the end of the text.
fn tokenize(sql: &str) -> Vec<Tok> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let quoted = |i: usize, close: char| -> (String, usize) {
        let mut text = String::new();
        let mut j = i + 1;
        while j < chars.len() {
            if chars[j] == close {
                if close != ']' && chars.get(j + 1) == Some(&close) {
                    text.push(close);
                    j += 2;
                    continue;
                }
                return (text, j + 1);
            }
            text.push(chars[j]);
            j += 1;
        }
        (text, j)
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            let (text, next) = quoted(i, '\'');
            out.push(Tok::Literal(lit(&text)));
            i = next;
        } else if matches!(c, 'x' | 'X') && chars.get(i + 1) == Some(&'\'') {
            let (text, next) = quoted(i + 1, '\'');
            out.push(Tok::Literal(format!("x'{}'", text.to_lowercase())));
            i = next;
        } else if c == '"' || c == '`' || c == '[' {
            let close = match c {
                '[' => ']',
                other => other,
            };
            let (text, next) = quoted(i, close);
            out.push(Tok::Word(text.to_lowercase()));
            i = next;
        } else if c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii() {
            let start = i;
            let number = c.is_ascii_digit();
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '$') || !chars[i].is_ascii())
            {
                i += 1;
                // A number's exponent sign and decimal point belong to it.
                if number
                    && i < chars.len()
                    && (chars[i] == '.' || (matches!(chars[i], '+' | '-') && matches!(chars[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
            }
            let text: String = chars[start..i].iter().collect();
            out.push(if number { Tok::Literal(text.to_lowercase()) } else { Tok::Word(text.to_lowercase()) });
        } else if c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            out.push(Tok::Literal(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let three: String = chars[i..(i + 3).min(chars.len())].iter().collect();
            let op = if three == "->>" {
                three
            } else if ["||", "<<", ">>", "<=", ">=", "==", "!=", "<>", "->"].contains(&two.as_str()) {
                two
            } else {
                c.to_string()
            };
            i += op.chars().count();
            out.push(Tok::Punct(op));
        }
    }
    out
}

fn join(tokens: &[Tok]) -> String {
    tokens.iter().map(Tok::text).collect::<Vec<_>>().join(" ")
}

/// The tokens after the first top-level `keyword` (a view's query, an index's table and keys).
fn after_keyword(tokens: &[Tok], keyword: &str) -> String {
    let at = tokens.iter().position(|t| t.is_word(keyword)).map_or(tokens.len(), |i| i + 1);
    join(&tokens[at..])
}

/// The index of the token that closes the parenthesis opened at `open`.
fn closing(tokens: &[Tok], open: usize) -> usize {
    let mut depth = 0;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t {
            Tok::Punct(p) if p == "(" => depth += 1,
            Tok::Punct(p) if p == ")" => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// What only a table's text says: checks, column collations, generation expressions, AUTOINCREMENT and
/// whether each foreign key is deferred.
fn table_text_lines(table: &str, tokens: &[Tok]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(open) = tokens.iter().position(|t| matches!(t, Tok::Punct(p) if p == "(")) else { return out };
    let close = closing(tokens, open);
    // Top-level items between the parentheses.
    let mut items: Vec<&[Tok]> = Vec::new();
    let (mut depth, mut start) = (0, open + 1);
    for i in open + 1..close {
        match &tokens[i] {
            Tok::Punct(p) if p == "(" => depth += 1,
            Tok::Punct(p) if p == ")" => depth -= 1,
            Tok::Punct(p) if p == "," && depth == 0 => {
                items.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&tokens[start..close.min(tokens.len())]);
    let constraint_words = ["constraint", "primary", "unique", "check", "foreign"];
    for item in items {
        let Some(first) = item.first() else { continue };
        let column = match first {
            Tok::Word(w) if constraint_words.contains(&w.as_str()) => None,
            Tok::Word(w) => Some(w.clone()),
            _ => None,
        };
        let mut i = 0;
        while i < item.len() {
            let word = |k: usize, w: &str| item.get(k).is_some_and(|t| t.is_word(w));
            if word(i, "check") || (word(i, "as") && column.is_some()) {
                let close = closing(item, i + 1);
                let expr = join(&item[(i + 2).min(item.len())..close.min(item.len())]);
                if word(i, "check") {
                    out.push(format!("check {table}: {expr}"));
                } else {
                    let stored = word(close + 1, "stored");
                    out.push(format!(
                        "generated {table}.{}: {expr} {}",
                        column.as_deref().unwrap_or(""),
                        if stored { "stored" } else { "virtual" }
                    ));
                }
                i = close;
            } else if word(i, "collate") {
                if let (Some(c), Some(Tok::Word(name))) = (&column, item.get(i + 1)) {
                    // The collation of a key in a constraint is an index's (the index lines have it).
                    out.push(format!("collate {table}.{c}: {name}"));
                }
                i += 1;
            } else if word(i, "autoincrement") {
                out.push(format!("autoincrement {table}"));
            } else if word(i, "references") {
                // A deferred key is named by its columns and target, not its position: the order of
                // foreign keys in the text does not change what they do.
                let from = match &column {
                    Some(c) => q(c),
                    None => item
                        .iter()
                        .position(|t| t.is_word("foreign"))
                        .map(|f| join(&item[(f + 3).min(i)..closing(item, f + 2).min(i)]))
                        .unwrap_or_default(),
                };
                let target = item.get(i + 1).map(Tok::text).unwrap_or_default();
                let mut j = i + 1;
                while j < item.len() && !word(j, "deferrable") && !word(j, "constraint") && !word(j, "check") {
                    j += 1;
                }
                let deferred = word(j, "deferrable") && word(j + 1, "initially") && word(j + 2, "deferred");
                if deferred {
                    out.push(format!("fk-deferred {table} ({from}) -> {target}"));
                }
            } else if word(i, "default") && matches!(item.get(i + 1), Some(Tok::Punct(p)) if p == "(") {
                // A default's expression is in the pragma; skip it whole (it may hold COLLATE or AS).
                i = closing(item, i + 1);
            }
            i += 1;
        }
    }
    // A key written on a column collates with the column: the column's COLLATE decides, wherever the
    // constraint is written.
    out
}

/// Every table of a database with its stored columns (not generated ones), sorted by name.
pub async fn tables(url: &str) -> Result<Vec<(String, Vec<String>)>> {
    let mut conn = open(url).await?;
    let names = strings(
        &mut conn,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .await?;
    let mut out = Vec::new();
    for name in names {
        let sql = format!("SELECT name FROM pragma_table_xinfo({}) WHERE hidden = 0 ORDER BY cid", lit(&name));
        let columns = strings(&mut conn, &sql).await?;
        out.push((name, columns));
    }
    conn.close().await?;
    Ok(out)
}

/// A table whose rows must survive a migration: its name and columns before, the same after (a column
/// keeps its place in the list under a new name), and whether its AUTOINCREMENT counter must too.
#[derive(Debug, Clone)]
pub struct Kept {
    pub before: (String, Vec<String>),
    pub after: (String, Vec<String>),
    pub sequence: bool,
}

/// Every row of `table` projected on `columns`, sorted; numbers compare by value (a column retyped from
/// INTEGER to REAL keeps 5 as 5.0). With `sequence`, the table's AUTOINCREMENT counter is one more line.
pub async fn rows(url: &str, table: &str, columns: &[String], sequence: bool) -> Result<Vec<String>> {
    let mut conn = open(url).await?;
    let mut out = if columns.is_empty() {
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {}", q(table))))
            .fetch_one(&mut conn)
            .await?;
        vec![format!("{count} rows")]
    } else {
        let select: Vec<String> = columns
            .iter()
            .map(|c| {
                let c = q(c);
                format!(
                    "CASE WHEN typeof({c}) IN ('integer', 'real') THEN quote(CAST({c} AS REAL)) ELSE quote({c}) END"
                )
            })
            .collect();
        strings(&mut conn, &format!("SELECT {} FROM {}", select.join(" || ',' || "), q(table))).await?
    };
    out.sort();
    if sequence {
        let seq = format!("SELECT 'sequence ' || seq FROM sqlite_sequence WHERE name = {}", lit(table));
        out.extend(strings(&mut conn, &seq).await?);
    }
    conn.close().await?;
    Ok(out)
}

/// What differs between the rows of the kept tables in `before` and in `after`; empty when every row
/// and value survived.
pub async fn lost_rows(before: &str, after: &str, keep: &[Kept]) -> Result<String> {
    let mut out = String::new();
    for kept in keep {
        let a = rows(before, &kept.before.0, &kept.before.1, kept.sequence).await?;
        let b = rows(after, &kept.after.0, &kept.after.1, kept.sequence).await?;
        if a != b {
            out.push_str(&format!("rows of {} ({}):\n", kept.after.0, kept.after.1.join(", ")));
            out.push_str(&super::roundtrip::fingerprint_diff(&a, &b));
        }
    }
    Ok(out)
}

/// `PRAGMA foreign_key_check` and `PRAGMA integrity_check`, as a list of problems (empty when clean).
pub async fn problems(url: &str) -> Result<Vec<String>> {
    let mut conn = open(url).await?;
    let mut out = strings(
        &mut conn,
        "SELECT 'foreign key of ' || \"table\" || ' rowid ' || coalesce(rowid, '?') || ' -> ' || parent \
         FROM pragma_foreign_key_check",
    )
    .await?;
    out.extend(strings(&mut conn, "PRAGMA integrity_check").await?.into_iter().filter(|l| l != "ok"));
    conn.close().await?;
    Ok(out)
}

/// The schema text as `sqlite3 .schema` prints it: each object's stored SQL followed by `;`, in the
/// order of `sqlite_schema` (the order they were created in), SQLite's own tables left out.
pub async fn schema_text(url: &str, skip: Option<&str>) -> Result<String> {
    let mut conn = open(url).await?;
    let rows = sqlx::query(
        "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
    )
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    let mut out = String::new();
    for row in rows {
        let (name, sql): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        if skip.is_some_and(|s| name.contains(s)) {
            continue;
        }
        out.push_str(&sql);
        out.push_str(";\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_ignore_quotes_case_space_and_comments_but_not_literals() {
        let a = tokenize("CREATE VIEW \"V\" AS SELECT [a] , 'It''s' -- c\n FROM t WHERE x>=1.5e+3");
        let b = tokenize("create view v as select a,'It''s' from \"T\" where x >= 1.5e+3");
        assert_eq!(join(&a), join(&b));
        assert_ne!(join(&tokenize("SELECT 'a'")), join(&tokenize("SELECT 'A'")));
    }

    #[test]
    fn table_text_lines_find_checks_collations_generated_and_deferred_keys() {
        let sql = "CREATE TABLE t (a int CHECK (a > 0) COLLATE NOCASE, b AS (a * 2) STORED, \
                   c int DEFAULT (1) REFERENCES p DEFERRABLE INITIALLY DEFERRED, CONSTRAINT k CHECK (b <> 'x,y'), \
                   FOREIGN KEY (a, c) REFERENCES \"q r\" (x, y) DEFERRABLE INITIALLY DEFERRED)";
        let mut lines = table_text_lines("t", &tokenize(sql));
        lines.sort();
        assert_eq!(
            lines,
            [
                "check t: \"a\" > 0",
                "check t: \"b\" <> 'x,y'",
                "collate t.a: nocase",
                "fk-deferred t (\"a\" , \"c\") -> \"q r\"",
                "fk-deferred t (\"c\") -> \"p\"",
                "generated t.b: \"a\" * 2 stored",
            ]
        );
    }
}
