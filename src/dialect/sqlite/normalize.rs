//! The only place that reads the SQL text SQLite stores. SQLite keeps each object's definition as the
//! text it was created with (and rewrites that text itself on `ALTER TABLE … RENAME`). What the model
//! compares and writes back (check and generation expressions, defaults, index keys, view queries,
//! trigger definitions) is cut out of that text with sqlparser's tokenizer and kept byte for byte,
//! token by token: every literal, number, operator and quoted name is the exact slice of the stored
//! text it came from. Only whitespace and comments are collapsed (to one space, or none inside
//! brackets and around commas and dots), so the declared files and a database built by our own
//! migrations agree while the text written back means exactly what was read.
//!
//! Quoted names are kept as they are, with two exceptions that cannot change the meaning: a name in
//! brackets or backticks that needs no quotes loses them (SQLite never reads those as strings), and
//! in an expression of one table (check, generation expression, index key or predicate), a
//! double-quoted name of one of its columns loses them (SQLite quotes the new name when it renames a
//! column). A double-quoted word that names no column may be a string literal to SQLite, so it keeps
//! its quotes.
//!
//! Structure (which part of a `CREATE TABLE` is a column, a constraint, a check) is found by walking
//! the tokens; sqlparser's AST is used only to list the relations a view or trigger reads, and a
//! statement it cannot parse falls back to the names in its tokens.

use sqlparser::ast::{ObjectName, Statement};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace, Word};
use std::ops::{ControlFlow, Range};

/// SQLite's keywords (`sqlite3_keyword_name`, 3.51), sorted. A name among them needs quotes.
const KEYWORDS: [&str; 147] = [
    "ABORT",
    "ACTION",
    "ADD",
    "AFTER",
    "ALL",
    "ALTER",
    "ALWAYS",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "ATTACH",
    "AUTOINCREMENT",
    "BEFORE",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASCADE",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "COMMIT",
    "CONFLICT",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DATABASE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DELETE",
    "DESC",
    "DETACH",
    "DISTINCT",
    "DO",
    "DROP",
    "EACH",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXCLUDE",
    "EXCLUSIVE",
    "EXISTS",
    "EXPLAIN",
    "FAIL",
    "FILTER",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "FOREIGN",
    "FROM",
    "FULL",
    "GENERATED",
    "GLOB",
    "GROUP",
    "GROUPS",
    "HAVING",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "IN",
    "INDEX",
    "INDEXED",
    "INITIALLY",
    "INNER",
    "INSERT",
    "INSTEAD",
    "INTERSECT",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "KEY",
    "LAST",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MATCH",
    "MATERIALIZED",
    "NATURAL",
    "NO",
    "NOT",
    "NOTHING",
    "NOTNULL",
    "NULL",
    "NULLS",
    "OF",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OTHERS",
    "OUTER",
    "OVER",
    "PARTITION",
    "PLAN",
    "PRAGMA",
    "PRECEDING",
    "PRIMARY",
    "QUERY",
    "RAISE",
    "RANGE",
    "RECURSIVE",
    "REFERENCES",
    "REGEXP",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "SELECT",
    "SET",
    "TABLE",
    "TEMP",
    "TEMPORARY",
    "THEN",
    "TIES",
    "TO",
    "TRANSACTION",
    "TRIGGER",
    "UNBOUNDED",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VACUUM",
    "VALUES",
    "VIEW",
    "VIRTUAL",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHOUT",
];

/// Whether SQLite reads `word` as a keyword.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.binary_search(&word.to_ascii_uppercase().as_str()).is_ok()
}

/// A name that SQLite reads the same with and without quotes: ASCII letters, digits and `_`, not
/// starting with a digit, and not a keyword.
pub fn is_plain(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_keyword(name)
}

/// An identifier as SQLite compares it (case-insensitively for ASCII).
pub fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// One significant token of stored SQL, with its place in the text.
#[derive(Debug)]
struct Tok {
    token: Token,
    start: usize,
    end: usize,
    /// Whitespace or a comment comes before it.
    spaced: bool,
}

/// Stored SQL, tokenized; every token knows its exact bytes.
struct Text<'a> {
    sql: &'a str,
    toks: Vec<Tok>,
}

impl<'a> Text<'a> {
    /// Tokenizes `sql`. The tokens must cover the text exactly, so that each one's slice is its source.
    fn new(sql: &'a str) -> Result<Text<'a>, String> {
        let mut toks = Vec::new();
        let mut spaced = false;
        for t in crate::dialect::tokens::spanned(&SQLiteDialect {}, sql, true)? {
            if matches!(t.token, Token::Whitespace(_)) {
                spaced = true;
            } else {
                toks.push(Tok { token: t.token, start: t.bytes.start, end: t.bytes.end, spaced });
                spaced = false;
            }
        }
        Ok(Text { sql, toks })
    }

    fn source(&self, i: usize) -> &'a str {
        &self.sql[self.toks[i].start..self.toks[i].end]
    }

    fn token(&self, i: usize) -> Option<&Token> {
        self.toks.get(i).map(|t| &t.token)
    }

    /// Whether token `i` is the unquoted keyword `keyword`.
    fn is(&self, i: usize, keyword: &str) -> bool {
        matches!(self.token(i), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(keyword))
    }

    /// The unquoted keyword at `i`, upper-cased.
    fn keyword(&self, i: usize) -> Option<String> {
        match self.token(i) {
            Some(Token::Word(w)) if w.quote_style.is_none() && is_keyword(&w.value) => {
                Some(w.value.to_ascii_uppercase())
            }
            _ => None,
        }
    }

    /// The name at `i` (an identifier, quoted or not, or a string SQLite accepts as a name), unquoted.
    fn name(&self, i: usize) -> Option<String> {
        match self.token(i)? {
            Token::Word(w) => Some(w.value.clone()),
            Token::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// The index of the `)` that closes the `(` at `open`.
    fn closing(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for (i, t) in self.toks.iter().enumerate().skip(open) {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The first `(` at the top level in `range`.
    fn first_paren(&self, range: Range<usize>) -> Option<usize> {
        range.into_iter().find(|&i| self.token(i) == Some(&Token::LParen))
    }

    /// The tokens of `range` split at top-level commas.
    fn split_commas(&self, range: Range<usize>) -> Vec<Range<usize>> {
        let mut parts = Vec::new();
        let mut depth = 0usize;
        let mut start = range.start;
        for i in range.clone() {
            match self.toks[i].token {
                Token::LParen => depth += 1,
                Token::RParen => depth = depth.saturating_sub(1),
                Token::Comma if depth == 0 => {
                    parts.push(start..i);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(start..range.end);
        parts
    }

    /// The canonical text of `range`: each token's own bytes, one space where the source had
    /// whitespace or a comment (none after `(` and `.`, before `)`, `,`, `.` and `;`). A name loses
    /// needless quotes as the module documentation says; `scope` lists the names (folded) that
    /// double-quoted names may lose them for.
    fn render(&self, range: Range<usize>, scope: Option<&[String]>) -> String {
        let mut out = String::new();
        let mut previous_rewritten = false;
        for i in range.clone() {
            let tok = &self.toks[i];
            let rewritten = unquoted(&tok.token, scope);
            let text = rewritten.as_deref().unwrap_or(self.source(i));
            // Tokens, not characters: the number `1.` before `AS` keeps its space (`1.AS` is not SQL).
            let after = i.checked_sub(1).filter(|p| *p >= range.start).and_then(|p| self.token(p));
            let tight = matches!(tok.token, Token::Comma | Token::RParen | Token::Period | Token::SemiColon)
                || matches!(after, Some(Token::LParen | Token::Period));
            let space = if i == range.start {
                false
            } else if tok.spaced {
                !tight
            } else {
                // A name that lost its quotes must not run into its neighbour (`"a"AND` is not `aAND`).
                (rewritten.is_some() || previous_rewritten)
                    && out.chars().last().is_some_and(wordish)
                    && text.chars().next().is_some_and(wordish)
            };
            if space {
                out.push(' ');
            }
            out.push_str(text);
            previous_rewritten = rewritten.is_some();
        }
        out
    }

    /// The folded names of `scope` that words in `range` name.
    fn names_in(&self, range: Range<usize>, scope: &[String]) -> Vec<String> {
        let mut out: Vec<String> = range
            .filter_map(|i| match self.token(i) {
                Some(Token::Word(w)) if scope.contains(&fold(&w.value)) => Some(fold(&w.value)),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Every name in the text (candidates for the relations it reads).
    fn words(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .toks
            .iter()
            .filter_map(|t| match &t.token {
                Token::Word(w) => Some(w.value.clone()),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// A character that can continue a word or start a quoted one.
fn wordish(c: char) -> bool {
    !c.is_ascii() || c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '"' | '\'' | '`' | '[' | ']')
}

/// The name of a quoted word that may lose its quotes, if this one may.
fn unquoted(token: &Token, scope: Option<&[String]>) -> Option<String> {
    let Token::Word(Word { value, quote_style: Some(quote), .. }) = token else { return None };
    if !is_plain(value) {
        return None;
    }
    match quote {
        '[' | '`' => Some(value.clone()),
        '"' if scope.is_some_and(|s| s.contains(&fold(value))) => Some(value.clone()),
        _ => None,
    }
}

/// Canonical token form of a piece of SQL. Text the tokenizer cannot read is kept exactly as it is.
#[cfg(test)]
fn canonical(sql: &str) -> String {
    match Text::new(sql) {
        Ok(text) => text.render(0..text.toks.len(), None),
        Err(_) => sql.trim().to_string(),
    }
}

/// Whether the text ends in a `--` comment (which runs to the end of the line).
pub fn ends_in_line_comment(sql: &str) -> bool {
    let tokens = Tokenizer::new(&SQLiteDialect {}, sql).tokenize().unwrap_or_default();
    let last = tokens.iter().rev().find(|t| !matches!(t, Token::EOF));
    matches!(last, Some(Token::Whitespace(Whitespace::SingleLineComment { .. })))
}

/// Whether a default may be written without parentheses: a string, blob or number (signed or not),
/// NULL, TRUE, FALSE or CURRENT_TIME/DATE/TIMESTAMP, with nothing around it (a comment after it would
/// swallow the rest of the column's definition).
pub fn is_literal_default(default: &str) -> bool {
    let Ok(text) = Text::new(default) else { return false };
    let bare =
        text.toks.first().is_some_and(|t| t.start == 0) && text.toks.last().is_some_and(|t| t.end == default.len());
    if !bare {
        return false;
    }
    let number = |t: &Token| matches!(t, Token::Number(..)) || matches!(t, Token::HexStringLiteral(_));
    match text.toks.as_slice() {
        [one] => match &one.token {
            Token::SingleQuotedString(_) | Token::HexStringLiteral(_) | Token::Number(..) => true,
            Token::Word(w) if w.quote_style.is_none() => {
                ["NULL", "TRUE", "FALSE", "CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"]
                    .contains(&w.value.to_ascii_uppercase().as_str())
            }
            _ => false,
        },
        [sign, value] => matches!(sign.token, Token::Plus | Token::Minus) && !value.spaced && number(&value.token),
        _ => false,
    }
}

/// Whether a declared type (as the pragma reports it) is names that are not keywords, then at most
/// `(n)` or `(n, m)` with signed numbers: a type SQLite reads back as the same text when written bare.
pub fn is_plain_type(data_type: &str) -> bool {
    let Ok(text) = Text::new(data_type) else { return false };
    let words = text.toks.iter().take_while(|t| matches!(&t.token, Token::Word(w) if w.quote_style.is_none())).count();
    let names_are_plain = (0..words).all(|i| text.name(i).is_some_and(|n| is_plain(&n)));
    let signed = |tokens: &[Tok]| match tokens {
        [n] => matches!(n.token, Token::Number(..)),
        [sign, n] => matches!(sign.token, Token::Plus | Token::Minus) && matches!(n.token, Token::Number(..)),
        _ => false,
    };
    let size = match &text.toks[words..] {
        [] => true,
        [open, inner @ .., close] if open.token == Token::LParen && close.token == Token::RParen => {
            match inner.iter().position(|t| t.token == Token::Comma) {
                None => signed(inner),
                Some(comma) => signed(&inner[..comma]) && signed(&inner[comma + 1..]),
            }
        }
        _ => false,
    };
    words > 0 && names_are_plain && size
}

/// What the pragmas do not say about a table, read from its `CREATE TABLE` text.
#[derive(Debug, Default)]
pub struct ParsedTable {
    pub autoincrement: bool,
    /// Per column, in declaration order: its name and what the pragmas do not tell.
    pub columns: Vec<ParsedColumn>,
    pub primary_key_name: Option<String>,
    /// The primary key's `ON CONFLICT` algorithm, unless it is the default (ABORT).
    pub primary_key_conflict: Option<String>,
    /// (name, folded columns, `ON CONFLICT` algorithm) of unique constraints.
    pub uniques: Vec<(Option<String>, Vec<String>, Option<String>)>,
    /// (name, folded columns, characteristics such as `DEFERRABLE INITIALLY DEFERRED`).
    pub foreign_keys: Vec<(Option<String>, Vec<String>, Option<String>)>,
    /// (name, canonical expression, folded columns read).
    pub checks: Vec<(Option<String>, String, Vec<String>)>,
}

#[derive(Debug, Default, PartialEq)]
pub struct ParsedColumn {
    pub name: String,
    /// The generation expression in canonical form, without parentheses.
    pub generated: Option<String>,
    /// The collation name, upper-cased.
    pub collation: Option<String>,
}

impl ParsedTable {
    pub fn column(&self, name: &str) -> Option<&ParsedColumn> {
        let folded = fold(name);
        self.columns.iter().find(|c| fold(&c.name) == folded)
    }
}

/// Keywords that start a constraint of a column or table, and so end whatever came before.
fn starts_constraint(text: &Text, i: usize) -> bool {
    let starts = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "COLLATE", "REFERENCES", "GENERATED", "AS"];
    // `SET NULL` and `SET DEFAULT` are foreign key actions.
    let after_set = text.is(i.wrapping_sub(1), "SET");
    starts.iter().any(|k| text.is(i, k))
        || (text.is(i, "NOT") && text.is(i + 1, "NULL"))
        || (!after_set && (text.is(i, "NULL") || text.is(i, "DEFAULT")))
}

/// The algorithm of an `ON CONFLICT` clause of the constraint from `from` (to the next constraint),
/// unless it is the default, ABORT.
fn conflict(text: &Text, from: usize, end: usize) -> Option<String> {
    let mut i = from + 1;
    while i < end && !starts_constraint(text, i) {
        if text.token(i) == Some(&Token::LParen) {
            i = text.closing(i).unwrap_or(end);
        } else if text.is(i, "ON") && text.is(i + 1, "CONFLICT") {
            let algorithm = text.keyword(i + 2)?;
            return matches!(algorithm.as_str(), "ROLLBACK" | "FAIL" | "IGNORE" | "REPLACE").then_some(algorithm);
        }
        i += 1;
    }
    None
}

/// `[NOT] DEFERRABLE [INITIALLY DEFERRED|IMMEDIATE]` in a foreign key clause (from `from` to the next
/// constraint), spelled canonically.
fn characteristics(text: &Text, from: usize, end: usize) -> Option<String> {
    let mut i = from;
    let mut words: Vec<&str> = Vec::new();
    while i < end && !(i > from && starts_constraint(text, i)) {
        if text.is(i, "NOT") && text.is(i + 1, "DEFERRABLE") {
            words.extend(["NOT", "DEFERRABLE"]);
            i += 1;
        } else if text.is(i, "DEFERRABLE") {
            words.push("DEFERRABLE");
        } else if text.is(i, "INITIALLY") && text.is(i + 1, "DEFERRED") {
            words.extend(["INITIALLY", "DEFERRED"]);
        } else if text.is(i, "INITIALLY") && text.is(i + 1, "IMMEDIATE") {
            words.extend(["INITIALLY", "IMMEDIATE"]);
        } else if text.token(i) == Some(&Token::LParen) {
            i = text.closing(i).unwrap_or(end);
        }
        i += 1;
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// The names listed in the parentheses at `open` (`(a, "b" COLLATE nocase DESC)`), folded.
fn listed_names(text: &Text, open: usize) -> Vec<String> {
    let Some(close) = text.closing(open) else { return Vec::new() };
    text.split_commas(open + 1..close).into_iter().filter_map(|part| text.name(part.start).map(|n| fold(&n))).collect()
}

/// Reads a `CREATE TABLE` statement (`table` is its name, for the scope of its expressions).
pub fn parse_table(sql: &str, table: &str) -> Result<ParsedTable, String> {
    let text = Text::new(sql)?;
    let open = text.first_paren(0..text.toks.len()).ok_or("no column list")?;
    let close = text.closing(open).ok_or("the column list is not closed")?;
    let items = text.split_commas(open + 1..close);
    let is_table_constraint = |item: &Range<usize>| {
        ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"].iter().any(|k| text.is(item.start, k))
    };
    let mut parsed = ParsedTable::default();
    for item in items.iter().filter(|item| !is_table_constraint(item)) {
        let name = text
            .name(item.start)
            .ok_or_else(|| format!("cannot read a column name at `{}`", text.source(item.start)))?;
        parsed.columns.push(ParsedColumn { name, ..ParsedColumn::default() });
    }
    let scope: Vec<String> = std::iter::once(fold(table)).chain(parsed.columns.iter().map(|c| fold(&c.name))).collect();

    let mut column_index = 0;
    for item in &items {
        let column = (!is_table_constraint(item)).then(|| {
            column_index += 1;
            column_index - 1
        });
        let own_columns: Vec<String> = column.map(|c| vec![fold(&parsed.columns[c].name)]).unwrap_or_default();
        let mut pending: Option<String> = None;
        let mut i = if column.is_some() { item.start + 1 } else { item.start };
        while i < item.end {
            if text.token(i) == Some(&Token::LParen) {
                i = text.closing(i).map_or(item.end, |c| c + 1);
                continue;
            }
            match (text.keyword(i).as_deref(), column) {
                (Some("CONSTRAINT"), _) => {
                    pending = text.name(i + 1);
                    i += 2;
                    continue;
                }
                (Some("PRIMARY"), _) => {
                    parsed.primary_key_name = pending.take();
                    parsed.primary_key_conflict = conflict(&text, i, item.end);
                }
                (Some("UNIQUE"), Some(_)) => {
                    parsed.uniques.push((pending.take(), own_columns.clone(), conflict(&text, i, item.end)))
                }
                (Some("UNIQUE"), None) => {
                    let columns = text.first_paren(i..item.end).map(|p| listed_names(&text, p)).unwrap_or_default();
                    parsed.uniques.push((pending.take(), columns, conflict(&text, i, item.end)));
                }
                (Some("CHECK"), _) => {
                    let open = text.first_paren(i..item.end).ok_or("CHECK without an expression")?;
                    let close = text.closing(open).ok_or("CHECK is not closed")?;
                    let expression = text.render(open + 1..close, Some(&scope));
                    let read = text.names_in(open + 1..close, &scope[1..]);
                    parsed.checks.push((pending.take(), expression, read));
                    i = close + 1;
                    continue;
                }
                (Some("FOREIGN"), None) => {
                    let columns = text.first_paren(i..item.end).map(|p| listed_names(&text, p)).unwrap_or_default();
                    let references = (i..item.end).find(|&r| text.is(r, "REFERENCES")).unwrap_or(item.end);
                    let characteristics = characteristics(&text, references, item.end);
                    parsed.foreign_keys.push((pending.take(), columns, characteristics));
                    i = item.end;
                    continue;
                }
                (Some("REFERENCES"), Some(_)) => {
                    let characteristics = characteristics(&text, i, item.end);
                    parsed.foreign_keys.push((pending.take(), own_columns.clone(), characteristics));
                }
                (Some("COLLATE"), Some(c)) => {
                    pending = None;
                    parsed.columns[c].collation = text.name(i + 1).map(|n| n.to_ascii_uppercase());
                    i += 2;
                    continue;
                }
                (Some("AS"), Some(c)) => {
                    let open = text.first_paren(i..item.end).ok_or("a generated column without an expression")?;
                    let close = text.closing(open).ok_or("a generation expression is not closed")?;
                    parsed.columns[c].generated = Some(text.render(open + 1..close, Some(&scope)));
                    i = close + 1;
                    continue;
                }
                // A default is read from the pragma; skip it so that its words are not taken for
                // constraints (a parenthesized one is skipped as a group). `SET DEFAULT` is an action.
                (Some("DEFAULT"), _) if !text.is(i.wrapping_sub(1), "SET") => {
                    pending = None;
                    i += 1;
                    if matches!(text.token(i), Some(Token::Plus | Token::Minus)) {
                        i += 1;
                    }
                    if text.token(i) != Some(&Token::LParen) {
                        i += 1;
                    }
                    continue;
                }
                (Some("AUTOINCREMENT"), _) => parsed.autoincrement = true,
                // A name given to NOT NULL, NULL, DEFAULT or COLLATE (which the model does not name)
                // is not the next constraint's.
                (Some("NOT" | "NULL" | "COLLATE" | "DEFAULT"), _) => pending = None,
                _ => {}
            }
            i += 1;
        }
    }
    Ok(parsed)
}

fn last_name(name: &ObjectName) -> String {
    name.0.last().map(|p| p.as_ident().map(|i| i.value.clone()).unwrap_or_else(|| p.to_string())).unwrap_or_default()
}

/// The relations a statement reads or writes, by name: from sqlparser's AST, or, when it cannot parse
/// the statement, every name in it (the caller keeps those that name a relation).
fn relations(sql: &str, text: &Text) -> Vec<String> {
    let statement =
        Parser::parse_sql(&SQLiteDialect {}, sql).ok().and_then(|mut s| (s.len() == 1).then(|| s.remove(0)));
    let Some(statement) = statement else { return text.words() };
    let mut out = Vec::new();
    let _ = sqlparser::ast::visit_relations(&statement, |name| {
        out.push(last_name(name));
        ControlFlow::<()>::Continue(())
    });
    if let Statement::CreateTrigger(trigger) = &statement {
        out.push(last_name(&trigger.table_name));
    }
    out.sort();
    out.dedup();
    out
}

/// A view's query in canonical form and the relations it reads.
pub fn parse_view(sql: &str) -> Result<(String, Vec<String>), String> {
    let text = Text::new(sql)?;
    let mut depth = 0usize;
    let mut query = None;
    for (i, tok) in text.toks.iter().enumerate() {
        match tok.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ if depth == 0 && text.is(i, "AS") => {
                query = Some(i + 1);
                break;
            }
            _ => {}
        }
    }
    let start = query.ok_or("no AS before the query")?;
    Ok((text.render(start..text.toks.len(), None), relations(sql, &text)))
}

/// An index's keys and predicate in canonical form (`(a, lower(b) DESC) WHERE c`), and the columns
/// of its table (`columns`, folded) they read.
pub fn parse_index(sql: &str, table: &str, columns: &[String]) -> Result<(String, Vec<String>), String> {
    let text = Text::new(sql)?;
    let open = text.first_paren(0..text.toks.len()).ok_or("no key list")?;
    let scope: Vec<String> = std::iter::once(fold(table)).chain(columns.iter().cloned()).collect();
    let range = open..text.toks.len();
    Ok((text.render(range.clone(), Some(&scope)), text.names_in(range, columns)))
}

/// A trigger's full definition in canonical form and the relations it uses.
pub fn parse_trigger(sql: &str) -> Result<(String, Vec<String>), String> {
    let text = Text::new(sql)?;
    Ok((text.render(0..text.toks.len(), None), relations(sql, &text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted_for_the_binary_search() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_keyword("select") && is_keyword("Current_Timestamp") && !is_keyword("status"));
    }

    #[test]
    fn canonical_form_ignores_spacing_and_comments_and_keeps_every_token_as_written() {
        assert_eq!(canonical("lower( email ) -- x\n <> 'A b'"), canonical("lower(email)  <>  /* y */ 'A b'"));
        // Literals and quoted names keep their bytes: doubled quotes, a comment inside a string,
        // a hexadecimal integer (sqlparser reads `0x1F` as a blob) and a blob literal.
        assert_eq!(
            canonical("'x''; DROP TABLE canary; --'  ||  \"a\"\"b\" || 0x1F || x'0a' -- gone"),
            "'x''; DROP TABLE canary; --' || \"a\"\"b\" || 0x1F || x'0a'"
        );
        // Double-quoted names keep their quotes: one that names nothing is a string to SQLite.
        assert_eq!(
            canonical("\"email\" = [email] AND `x` <> [a b] AND [select]"),
            "\"email\" = email AND x <> [a b] AND [select]"
        );
        // A name that loses its quotes does not run into its neighbour, nor does a number ending in a dot.
        assert_eq!(canonical("[a]AND[b]"), "a AND b");
        assert_eq!(canonical("SELECT 1. AS x, t . y, f( 2 )"), "SELECT 1. AS x, t.y, f(2)");
        // Text the tokenizer cannot read is kept as it is.
        assert_eq!(canonical("  'unterminated  "), "'unterminated");
    }

    #[test]
    fn types_are_written_bare_only_when_sqlite_reads_them_back_unchanged() {
        for bare in ["INTEGER", "double  precision", "VARCHAR( 10 )", "DECIMAL(10, -2)", "UNSIGNED BIG INT"] {
            assert!(is_plain_type(bare), "{bare}");
        }
        for quoted in
            ["x) ; DROP TABLE canary; --", "it's", "int primary key", "a\"b", "TEXT(1) x", "", "VARCHAR(0x10)"]
        {
            assert!(!is_plain_type(quoted), "{quoted}");
        }
    }

    #[test]
    fn defaults_ending_in_a_comment_and_literals_are_recognised() {
        assert!(ends_in_line_comment("'a' -- x )") && !ends_in_line_comment("'a' /* x */ || '--'"));
        assert!(!is_literal_default("'a' -- x"));
        for literal in ["'it''s'", "-1", "+0x1F", "1e5", "x'0a'", "NULL", "current_timestamp"] {
            assert!(is_literal_default(literal), "{literal}");
        }
        for expression in ["'a' || 'b'", "- 1", "\"dq\"", "abs(-1)", "1 + 2"] {
            assert!(!is_literal_default(expression), "{expression}");
        }
    }

    #[test]
    fn table_details_come_from_the_create_statement() {
        let parsed = parse_table(
            "CREATE TABLE t (id INTEGER CONSTRAINT pk PRIMARY KEY AUTOINCREMENT, a text COLLATE nocase CHECK (length(a) > 0) \
             DEFAULT 'CHECK (x)', g int AS (id * 2) STORED, \"q\"\"x\" REFERENCES t DEFERRABLE INITIALLY DEFERRED NOT NULL, \
             CONSTRAINT c2 CHECK (\"a\" <> 'x''y' AND \"zz\" <> '--'), UNIQUE (a, [g])) WITHOUT ROWID, STRICT",
            "t",
        )
        .unwrap();
        assert!(parsed.autoincrement);
        assert_eq!(parsed.primary_key_name.as_deref(), Some("pk"));
        let names: Vec<&str> = parsed.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "a", "g", "q\"x"]);
        assert_eq!(parsed.column("G").unwrap().generated.as_deref(), Some("id * 2"));
        assert_eq!(parsed.column("a").unwrap().collation.as_deref(), Some("NOCASE"));
        assert_eq!(parsed.checks[0], (None, "length(a) > 0".to_string(), vec!["a".to_string()]));
        // A quoted column loses its quotes; `"zz"` names no column and may be a string: it keeps them.
        assert_eq!(
            parsed.checks[1],
            (Some("c2".to_string()), "a <> 'x''y' AND \"zz\" <> '--'".to_string(), vec!["a".to_string()])
        );
        assert_eq!(
            parsed.foreign_keys,
            vec![(None, vec!["q\"x".to_string()], Some("DEFERRABLE INITIALLY DEFERRED".to_string()))]
        );
        assert_eq!(parsed.uniques, vec![(None, vec!["a".to_string(), "g".to_string()], None)]);
        let named = parse_table("CREATE TABLE t (a int CONSTRAINT nn NOT NULL CHECK (a > 0))", "t").unwrap();
        assert_eq!(named.checks[0].0, None, "the name belongs to NOT NULL");
        let conflicts = parse_table(
            "CREATE TABLE t (id INTEGER PRIMARY KEY DESC ON CONFLICT REPLACE AUTOINCREMENT, \
             a UNIQUE ON CONFLICT IGNORE REFERENCES p ON DELETE CASCADE, b UNIQUE ON CONFLICT ABORT, \
             UNIQUE (a, b) ON CONFLICT FAIL)",
            "t",
        )
        .unwrap();
        assert_eq!(conflicts.primary_key_conflict.as_deref(), Some("REPLACE"));
        let uniques: Vec<Option<&str>> = conflicts.uniques.iter().map(|u| u.2.as_deref()).collect();
        assert_eq!(uniques, [Some("IGNORE"), None, Some("FAIL")]);
    }

    #[test]
    fn views_indexes_and_triggers_are_cut_from_their_text() {
        let (query, relations) = parse_view("CREATE VIEW \"v (x)\"(a) AS SELECT 'it''s' AS a FROM t -- c").unwrap();
        assert_eq!(query, "SELECT 'it''s' AS a FROM t");
        // The view's own name is among them; the reader leaves it out.
        assert_eq!(relations, ["t", "v (x)"]);
        let columns = ["a".to_string(), "b".to_string()];
        let (index, read) =
            parse_index("CREATE INDEX \"i(\" ON t (\"a\", lower(\"b\") DESC) WHERE a <> ')'", "t", &columns).unwrap();
        assert_eq!(index, "(a, lower(b) DESC) WHERE a <> ')'");
        assert_eq!(read, columns);
        let (trigger, relations) =
            parse_trigger("CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('x''y'); END").unwrap();
        assert_eq!(trigger, "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('x''y'); END");
        assert_eq!(relations, ["log", "t"]);
    }
}
