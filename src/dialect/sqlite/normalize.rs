//! The only place that sees sqlparser's AST for SQLite. SQLite keeps each object's definition as the
//! text it was created with, and rewrites that text itself on `ALTER TABLE … RENAME` (quoting the
//! new names). Text that the model compares (check and generation expressions, index keys, view
//! queries, trigger definitions) is therefore parsed, printed with the AST's `Display`, and put in a
//! canonical token form (no comments, single spaces, no quotes around plain identifiers), so that the declared files and a database built by our own migrations agree.

use sqlparser::ast::{ColumnOption, Expr, GeneratedExpressionMode, ObjectName, Statement, TableConstraint};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::keywords::ALL_KEYWORDS;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use std::ops::ControlFlow;

/// Canonical token form of a piece of SQL.
pub fn canonical(sql: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&SQLiteDialect {}, sql).tokenize() else {
        return sql.split_whitespace().collect::<Vec<_>>().join(" ");
    };
    let mut out = String::new();
    let mut space = false;
    for token in tokens {
        let text = match &token {
            Token::Whitespace(_) => {
                space = true;
                continue;
            }
            Token::EOF => continue,
            Token::Word(w) if w.quote_style.is_some() && plain_identifier(&w.value) => w.value.clone(),
            other => other.to_string(),
        };
        let tight = matches!(token, Token::Comma | Token::RParen | Token::Period | Token::SemiColon)
            || out.ends_with('(')
            || out.ends_with('.');
        if space && !out.is_empty() && !tight {
            out.push(' ');
        }
        space = false;
        out.push_str(&text);
    }
    out
}

/// A name that means the same with and without quotes.
fn plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && ALL_KEYWORDS.binary_search(&name.to_ascii_uppercase().as_str()).is_err()
}

/// An identifier as SQLite compares it (case-insensitively for ASCII).
pub fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn expr(e: &Expr) -> String {
    canonical(&e.to_string())
}

/// Column names an expression reads (lower-cased).
fn identifiers(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    let _ = sqlparser::ast::visit_expressions(e, |e| {
        match e {
            Expr::Identifier(i) => out.push(fold(&i.value)),
            Expr::CompoundIdentifier(parts) => out.extend(parts.last().map(|i| fold(&i.value))),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    out.sort();
    out.dedup();
    out
}

fn last_name(name: &ObjectName) -> String {
    name.0.last().map(|p| p.as_ident().map(|i| i.value.clone()).unwrap_or_else(|| p.to_string())).unwrap_or_default()
}

/// Relations a statement reads or writes, by name.
fn relations(statement: &Statement) -> Vec<String> {
    let mut out = Vec::new();
    let _ = sqlparser::ast::visit_relations(statement, |name| {
        out.push(last_name(name));
        ControlFlow::<()>::Continue(())
    });
    out.sort();
    out.dedup();
    out
}

fn parse_one(sql: &str) -> Result<Statement, String> {
    let mut statements = Parser::parse_sql(&SQLiteDialect {}, sql).map_err(|e| e.to_string())?;
    match (statements.pop(), statements.is_empty()) {
        (Some(statement), true) => Ok(statement),
        _ => Err("expected exactly one statement".to_string()),
    }
}

/// What the pragmas do not say about a table, read from its `CREATE TABLE` text.
#[derive(Debug, Default)]
pub struct ParsedTable {
    /// Table options after the column list: `WITHOUT ROWID`, `STRICT`.
    pub options: Vec<String>,
    pub autoincrement: bool,
    /// Per column (folded name): generation clause (`(expr) STORED`) and collation.
    pub generated: Vec<(String, String)>,
    pub collations: Vec<(String, String)>,
    pub primary_key_name: Option<String>,
    /// (name, folded columns) of unique constraints.
    pub uniques: Vec<(Option<String>, Vec<String>)>,
    /// (name, folded columns, characteristics such as `DEFERRABLE INITIALLY DEFERRED`).
    pub foreign_keys: Vec<(Option<String>, Vec<String>, Option<String>)>,
    /// (name, canonical expression, folded columns read).
    pub checks: Vec<(Option<String>, String, Vec<String>)>,
}

pub fn parse_table(sql: &str) -> Result<ParsedTable, String> {
    let tokens = Tokenizer::new(&SQLiteDialect {}, sql).tokenize().map_err(|e| e.to_string())?;
    // Split off the options after the column list: sqlparser does not know every combination.
    let mut depth = 0usize;
    let mut end = tokens.len();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    end = i + 1;
                    break;
                }
            }
            _ => {}
        }
    }
    let head: String = tokens[..end].iter().map(|t| t.to_string()).collect();
    let mut parsed = ParsedTable::default();
    let tail: String = tokens[end..].iter().map(|t| t.to_string()).collect();
    for option in tail.split(',') {
        let words: Vec<String> = option.split_whitespace().map(str::to_uppercase).collect();
        if !words.is_empty() {
            parsed.options.push(words.join(" "));
        }
    }
    parsed.autoincrement = tokens.iter().any(
        |t| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("AUTOINCREMENT")),
    );

    let Statement::CreateTable(table) = parse_one(&head)? else {
        return Err("not a CREATE TABLE statement".to_string());
    };
    let name_of = |i: &Option<sqlparser::ast::Ident>| i.as_ref().map(|i| i.value.clone());
    for column in &table.columns {
        let column_name = fold(&column.name.value);
        for option in &column.options {
            let named = name_of(&option.name);
            match &option.option {
                ColumnOption::Generated { generation_expr: Some(e), generation_expr_mode, .. } => {
                    let mode = match generation_expr_mode {
                        Some(GeneratedExpressionMode::Stored) => "STORED",
                        _ => "VIRTUAL",
                    };
                    parsed.generated.push((column_name.clone(), format!("({}) {mode}", expr(e))));
                }
                ColumnOption::Collation(name) => {
                    parsed.collations.push((column_name.clone(), last_name(name).to_uppercase()));
                }
                ColumnOption::PrimaryKey(pk) => parsed.primary_key_name = named.or_else(|| name_of(&pk.name)),
                ColumnOption::Unique(u) => {
                    parsed.uniques.push((named.or_else(|| name_of(&u.name)), vec![column_name.clone()]))
                }
                ColumnOption::ForeignKey(fk) => parsed.foreign_keys.push((
                    named.or_else(|| name_of(&fk.name)),
                    vec![column_name.clone()],
                    fk.characteristics.as_ref().map(|c| c.to_string()),
                )),
                ColumnOption::Check(check) => parsed.checks.push((
                    named.or_else(|| name_of(&check.name)),
                    expr(&check.expr),
                    identifiers(&check.expr),
                )),
                _ => {}
            }
        }
    }
    for constraint in &table.constraints {
        match constraint {
            TableConstraint::PrimaryKey(pk) => parsed.primary_key_name = name_of(&pk.name),
            TableConstraint::Unique(u) => parsed.uniques.push((
                name_of(&u.name),
                u.columns.iter().map(|c| c.column.expr.to_string()).map(|c| fold(c.trim_matches('"'))).collect(),
            )),
            TableConstraint::ForeignKey(fk) => parsed.foreign_keys.push((
                name_of(&fk.name),
                fk.columns.iter().map(|c| fold(&c.value)).collect(),
                fk.characteristics.as_ref().map(|c| c.to_string()),
            )),
            TableConstraint::Check(check) => {
                parsed.checks.push((name_of(&check.name), expr(&check.expr), identifiers(&check.expr)))
            }
            _ => {}
        }
    }
    Ok(parsed)
}

/// A view's query in canonical form and the relations it reads.
pub fn parse_view(sql: &str) -> Result<(String, Vec<String>), String> {
    let statement = parse_one(sql)?;
    let Statement::CreateView(view) = &statement else {
        return Err("not a CREATE VIEW statement".to_string());
    };
    Ok((canonical(&view.query.to_string()), relations(&statement)))
}

/// An index's keys and predicate in canonical form (`(a, lower(b) DESC) WHERE c`), and the columns
/// they read.
pub fn parse_index(sql: &str) -> Result<(String, Vec<String>), String> {
    let Statement::CreateIndex(index) = parse_one(sql)? else {
        return Err("not a CREATE INDEX statement".to_string());
    };
    let keys: Vec<String> = index.columns.iter().map(|c| c.to_string()).collect();
    let mut definition = format!("({})", keys.join(", "));
    let mut columns: Vec<String> = index.columns.iter().flat_map(|c| identifiers(&c.column.expr)).collect();
    if let Some(predicate) = &index.predicate {
        definition.push_str(&format!(" WHERE {predicate}"));
        columns.extend(identifiers(predicate));
    }
    columns.sort();
    columns.dedup();
    Ok((canonical(&definition), columns))
}

/// A trigger's full definition in canonical form and the relations its body uses. A trigger the
/// parser cannot read is kept in token form (still canonical), without its references.
pub fn parse_trigger(sql: &str) -> (String, Vec<String>) {
    match parse_one(sql) {
        Ok(statement @ Statement::CreateTrigger(_)) => (canonical(&statement.to_string()), relations(&statement)),
        _ => (canonical(sql), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_ignores_quotes_case_comments_and_spacing() {
        assert_eq!(canonical("lower( \"email\" ) -- x\n <> 'A b'"), canonical("lower(email) <> 'A b'"));
        assert_eq!(canonical("\"select\" + 1"), "\"select\" + 1");
    }

    #[test]
    fn table_details_come_from_the_create_statement() {
        let parsed = parse_table(
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a text COLLATE nocase CHECK (length(a) > 0), \
             g int AS (id * 2) STORED, CONSTRAINT c2 CHECK (\"a\" <> 'x')) WITHOUT ROWID, STRICT",
        )
        .unwrap();
        assert_eq!(parsed.options, vec!["WITHOUT ROWID", "STRICT"]);
        assert!(parsed.autoincrement);
        assert_eq!(parsed.generated, vec![("g".to_string(), "(id * 2) STORED".to_string())]);
        assert_eq!(parsed.collations, vec![("a".to_string(), "NOCASE".to_string())]);
        assert_eq!(parsed.checks[1], (Some("c2".to_string()), "a <> 'x'".to_string(), vec!["a".to_string()]));
    }
}
