//! The declared side: reads `*.sql` under the schema directory, splits it into statements with
//! sqlparser's tokenizer (so dollar quotes, comments and quoted identifiers are handled), learns from
//! each statement's AST which object it defines and which it references, and orders the statements so
//! that each one comes after what it needs. Statements the parser cannot analyse are kept, in file
//! order. This module is the only one that sees sqlparser's AST.

use indexmap::IndexMap;
use sqlparser::ast::{
    AlterTableOperation, ColumnOption, CommentObject, CreateFunctionBody, DataType, DollarQuotedString, Expr,
    FunctionReturnType, ObjectName, ObjectNamePart, Statement, TableConstraint, UserDefinedTypeRepresentation, Value,
    Visit, Visitor,
};
use sqlparser::dialect::Dialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Span, Token, Tokenizer, Whitespace};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

pub mod types;

/// Where a statement starts: file, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

impl SourceLocation {
    /// The location of the `offset`-th character (1-based, as PostgreSQL reports error positions)
    /// inside the statement text `sql` that starts at this location.
    pub fn advance(&self, sql: &str, offset: usize) -> SourceLocation {
        let (mut line, mut column) = (self.line, self.column);
        for ch in sql.chars().take(offset.saturating_sub(1)) {
            if ch == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        SourceLocation { file: self.file.clone(), line, column }
    }
}

/// One statement of the declared schema.
#[derive(Debug, Clone)]
pub struct DeclaredStatement {
    pub location: SourceLocation,
    pub sql: String,
    /// What the statement defines, if the parser understood it.
    pub defines: Vec<ObjectKey>,
    pub references: Vec<ObjectKey>,
    pub parsed: bool,
    /// `--` comments right before the statement (after the previous one), one per line.
    pub leading_comments: String,
    /// Must run outside a transaction block: a statement of a replayed migration file marked
    /// `-- schema:no-transaction` (CREATE INDEX CONCURRENTLY, batched backfills). Never set for schema files.
    pub outside_transaction: bool,
    /// Set for what a file may hold that is not schema and is never loaded (see [`prepare`]).
    pub not_schema: Option<NotSchema>,
}

/// Whether the loader tries a statement again when it fails because something it names does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Declared files: a statement that came too early runs again after the others, until a round makes
    /// no progress, so that any order of valid statements loads.
    MissingObjects,
    /// Replayed migrations: they run in their order, and the first error is theirs.
    Never,
}

/// Of the statements that still fail for a missing object after a round of retries made no progress, the
/// one whose error to report: the first that names nothing another of them would create (one that names
/// what a failing statement creates fails because of it), or else the first.
pub fn first_cause(failed: &[&DeclaredStatement]) -> usize {
    let defined: std::collections::HashSet<&ObjectKey> = failed.iter().flat_map(|s| &s.defines).collect();
    // A statement's references never hold what it defines itself (see `analyse`).
    failed.iter().position(|s| !s.references.iter().any(|key| defined.contains(key))).unwrap_or(0)
}

/// What a schema file may hold that is not schema: `pg_dump --schema-only` writes both kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSchema {
    /// A psql meta-command (`\restrict KEY`, `\connect db`): read by psql, never sent to the server.
    MetaCommand,
    /// A setting that lasts for the session and changes nothing in the objects the statements create
    /// (`SET lock_timeout = 0`, pg_dump's `SELECT pg_catalog.set_config('search_path', '', false)`).
    SessionSetting,
}

/// A name in one of PostgreSQL's namespaces, after identifier folding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKey {
    Schema(String),
    Extension(String),
    /// Tables, views, sequences and indexes share one namespace.
    Relation(String, String),
    Type(String, String),
    Collation(String, String),
    /// Functions and procedures, by name: every overload shares the key.
    Function(String, String),
    /// Triggers and policies: (schema, table, name).
    Member(String, String, String),
    /// Every relation and function of a schema (`GRANT … ON ALL TABLES IN SCHEMA s`).
    AllIn(String),
    /// `ALTER DEFAULT PRIVILEGES`: loaded before the objects it applies to are created.
    DefaultPrivileges,
}

/// A conversion declared in the schema files for a column whose type changes: `-- schema:using <expr>`
/// (old values to the declared type) and `-- schema:down-using <expr>` (back, for the down migration).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredConversion {
    pub location: Option<SourceLocation>,
    pub schema: String,
    pub table: String,
    pub column: String,
    pub using: Option<String>,
    pub down_using: Option<String>,
}

/// Renames declared in the schema files with an annotation comment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredRenames {
    /// (old table, new table) as (schema, name) pairs.
    pub tables: Vec<((String, String), (String, String))>,
    /// (table schema, table name, old column, new column)
    pub columns: Vec<(String, String, String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeclaredError {
    #[error("cannot read schema directory {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{location}: {message}")]
    Syntax { location: SourceLocation, message: String },
    #[error(
        "{location}: {kind} is not managed by this version of schema (it manages schemas, extensions, enum, \
         composite and range types, domains, collations, sequences, tables, partitioned tables and their \
         partitions, constraints, indexes, views, materialized views, functions, procedures, aggregates, triggers, \
         row-level security policies, privileges, default privileges, owners and comments); remove the \
         statement from the schema files"
    )]
    Unmanaged { location: SourceLocation, kind: String },
    #[error("no .sql files found under {0}")]
    Empty(PathBuf),
}

/// Reads every `*.sql` file under `dir` (recursively, in path order) and splits it into statements.
pub fn read_dir(dir: &Path, dialect: &dyn Dialect) -> Result<Vec<DeclaredStatement>, DeclaredError> {
    let mut files = Vec::new();
    collect_sql_files(dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(DeclaredError::Empty(dir.to_path_buf()));
    }
    let mut statements = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| DeclaredError::Io { path: file.clone(), source })?;
        statements.extend(split(&file, &text, dialect)?);
    }
    Ok(statements)
}

fn collect_sql_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DeclaredError> {
    let entries = std::fs::read_dir(dir).map_err(|source| DeclaredError::Io { path: dir.to_path_buf(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| DeclaredError::Io { path: dir.to_path_buf(), source })?;
        let path = entry.path();
        if path.is_dir() {
            collect_sql_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

/// Splits one file into statements at top-level semicolons and analyses each one.
pub fn split(file: &Path, text: &str, dialect: &dyn Dialect) -> Result<Vec<DeclaredStatement>, DeclaredError> {
    split_statements(file, text, dialect)?
        .into_iter()
        .map(|raw| {
            let mut statement = if raw.meta_command {
                DeclaredStatement {
                    not_schema: Some(NotSchema::MetaCommand),
                    ..DeclaredStatement::unanalysed(raw.location, raw.sql)
                }
            } else {
                analyse(raw.location, &raw.sql, dialect)?
            };
            statement.leading_comments = raw.leading_comments;
            Ok(statement)
        })
        .collect()
}

/// One statement's text and where it starts, before analysis.
#[derive(Debug, Clone)]
pub struct RawStatement {
    pub location: SourceLocation,
    pub sql: String,
    pub leading_comments: String,
    /// A psql meta-command (a line that starts with a backslash between statements, such as pg_dump's
    /// `\restrict KEY`): `sql` is the line, which is not SQL.
    pub meta_command: bool,
}

/// Splits SQL text into statements at top-level semicolons, without judging them.
pub fn split_statements(file: &Path, text: &str, dialect: &dyn Dialect) -> Result<Vec<RawStatement>, DeclaredError> {
    let ends = segment_ends(text, SEGMENT_BYTES);
    if ends.len() > 1
        && let Ok(statements) = split_segments(file, text, dialect, &ends)
    {
        return Ok(statements);
    }
    // One segment: the whole text, as the tokenizer sees it (also when a cut was not at a token boundary,
    // which shows as an unterminated string, identifier or comment in a segment).
    split_segments(file, text, dialect, &[text.len()])
}

/// Bytes of SQL text tokenized at once. The tokens take about 45 times the text: a 4 MB schema file
/// (5,000 generated tables) tokenized whole held 191 MB of tokens.
const SEGMENT_BYTES: usize = 256 * 1024;

/// Where to cut the text for tokenizing, each just after a semicolon outside strings, quoted identifiers,
/// dollar quotes and comments, about every `size` bytes; the last end is the text's length. A cut at a
/// top-level semicolon is a token boundary, and the statement splitter carries its state across cuts.
/// A cheap scan: if it misjudges a cut, tokenizing the segment fails and the text is tokenized whole.
fn segment_ends(text: &str, size: usize) -> Vec<usize> {
    let b = text.as_bytes();
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    let mut ends = Vec::new();
    let (mut i, mut last) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\'' => {
                let escapes = i > 0 && matches!(b[i - 1], b'e' | b'E') && (i < 2 || !is_word(b[i - 2]));
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' if escapes => i += 2,
                        b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
                        b'\'' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            quote @ (b'"' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != quote {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'$' if (i == 0 || !is_word(b[i - 1])) && !b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let tag_len = b[i + 1..].iter().take_while(|&&c| is_word(c) && c != b'$').count();
                if b.get(i + 1 + tag_len) != Some(&b'$') {
                    i += 1;
                    continue;
                }
                let tag = &b[i..i + tag_len + 2];
                i += tag.len();
                while i < b.len() && !b[i..].starts_with(tag) {
                    i += 1;
                }
                i += tag.len();
            }
            b';' => {
                i += 1;
                if i - last >= size && i < b.len() {
                    ends.push(i);
                    last = i;
                }
            }
            _ => i += 1,
        }
    }
    ends.push(b.len());
    ends
}

/// [`split_statements`] over the text tokenized one segment (ending at each of `ends`) at a time.
fn split_segments(
    file: &Path,
    text: &str,
    dialect: &dyn Dialect,
    ends: &[usize],
) -> Result<Vec<RawStatement>, DeclaredError> {
    let offsets = LineOffsets::new(text);
    let mut statements = Vec::new();
    let mut start: Option<Location> = None;
    // Comments between two statements, kept for annotations such as `-- schema:renamed-from`.
    let mut comments = String::new();
    // The tokenizer emits no EOF token; a synthetic one at the end closes a last statement that has
    // no semicolon.
    let end_of_text = sqlparser::tokenizer::TokenWithSpan::at(
        Token::EOF,
        sqlparser::tokenizer::Location::new(u64::MAX, 1),
        sqlparser::tokenizer::Location::new(u64::MAX, 1),
    );
    // A trigger body (`BEGIN … END`, SQLite) or a SQL-standard function body (`BEGIN ATOMIC … END`,
    // PostgreSQL) holds semicolons of its own: they end nothing while a block opened by BEGIN or CASE
    // is open inside a CREATE TRIGGER, FUNCTION or PROCEDURE statement.
    let mut leading: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut tokens = Vec::new();
    // Line and column (in characters) where the segment starts.
    let (mut line, mut column) = (1u64, 1u64);
    let mut piece_start = 0;
    // Where a psql meta-command being read starts: it ends at the end of its line.
    let mut meta: Option<Location> = None;
    for (segment, &end) in ends.iter().enumerate() {
        let piece = &text[piece_start..end];
        let shift = |mut location: Location| {
            if location.line == 1 {
                location.column += column - 1;
            }
            location.line += line - 1;
            location
        };
        tokens.clear();
        Tokenizer::new(dialect, piece)
            .tokenize_with_location_into_buf_with_mapper(&mut tokens, |mut token| {
                token.span = Span::new(shift(token.span.start), shift(token.span.end));
                token
            })
            .map_err(|e| DeclaredError::Syntax {
                location: SourceLocation {
                    file: file.to_path_buf(),
                    line: shift(e.location).line,
                    column: shift(e.location).column,
                },
                message: e.message,
            })?;
        let last = segment + 1 == ends.len();
        for token in tokens.iter().chain(last.then_some(&end_of_text)) {
            if let Some(first) = meta {
                let line_ends = matches!(
                    token.token,
                    Token::EOF | Token::Whitespace(Whitespace::Newline | Whitespace::SingleLineComment { .. })
                );
                if !line_ends {
                    continue;
                }
                meta = None;
                let begin = offsets.byte(first.line, first.column);
                let end = offsets.byte(token.span.start.line, token.span.start.column);
                statements.push(RawStatement {
                    location: SourceLocation { file: file.to_path_buf(), line: first.line, column: first.column },
                    sql: text[begin..end].trim_end().to_string(),
                    leading_comments: std::mem::take(&mut comments),
                    meta_command: true,
                });
            }
            // psql reads a backslash outside a statement as a meta-command up to the end of the line.
            if start.is_none() && matches!(token.token, Token::Backslash) {
                meta = Some(token.span.start);
                continue;
            }
            let is_blank = matches!(token.token, Token::Whitespace(_) | Token::EOF);
            if let Token::Word(w) = &token.token
                && w.quote_style.is_none()
            {
                let word = w.value.to_ascii_uppercase();
                let in_trigger = leading.first().is_some_and(|w| w == "CREATE")
                    && leading.iter().any(|w| matches!(w.as_str(), "TRIGGER" | "FUNCTION" | "PROCEDURE"));
                if leading.len() < 4 {
                    leading.push(word.clone());
                }
                match word.as_str() {
                    "BEGIN" | "CASE" if in_trigger => depth += 1,
                    "END" if in_trigger => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            if matches!(token.token, Token::SemiColon) && depth > 0 {
                continue;
            }
            match &token.token {
                Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) if start.is_none() => {
                    comments.push_str(comment.trim());
                    comments.push('\n');
                }
                Token::SemiColon | Token::EOF => {
                    if let Some(first) = start.take() {
                        let begin = offsets.byte(first.line, first.column);
                        let end = offsets.byte(token.span.start.line, token.span.start.column);
                        let location =
                            SourceLocation { file: file.to_path_buf(), line: first.line, column: first.column };
                        statements.push(RawStatement {
                            location,
                            sql: text[begin..end].trim_end().to_string(),
                            leading_comments: std::mem::take(&mut comments),
                            meta_command: false,
                        });
                    }
                    comments.clear();
                    leading.clear();
                    depth = 0;
                }
                _ if start.is_none() && !is_blank => start = Some(token.span.start),
                _ => {}
            }
        }
        match piece.rfind('\n') {
            Some(newline) => {
                line += piece.matches('\n').count() as u64;
                column = piece[newline + 1..].chars().count() as u64 + 1;
            }
            None => column += piece.chars().count() as u64,
        }
        piece_start = end;
    }
    Ok(statements)
}

/// Maps the tokenizer's (line, column) locations, which count characters, to byte offsets.
struct LineOffsets<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineOffsets { text, starts }
    }

    fn byte(&self, line: u64, column: u64) -> usize {
        let Some(&line_start) = self.starts.get(line.saturating_sub(1) as usize) else {
            return self.text.len();
        };
        self.text[line_start..]
            .char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map(|(i, _)| line_start + i)
            .unwrap_or(self.text.len())
    }
}

impl DeclaredStatement {
    /// A statement as written, with nothing known about it: it loads in file order.
    pub fn unanalysed(location: SourceLocation, sql: String) -> DeclaredStatement {
        DeclaredStatement {
            location,
            sql,
            defines: Vec::new(),
            references: Vec::new(),
            parsed: false,
            leading_comments: String::new(),
            outside_transaction: false,
            not_schema: None,
        }
    }
}

fn analyse(location: SourceLocation, sql: &str, dialect: &dyn Dialect) -> Result<DeclaredStatement, DeclaredError> {
    let mut statement = DeclaredStatement::unanalysed(location.clone(), sql.to_string());
    let tokens = Tokenizer::new(dialect, sql).tokenize().unwrap_or_default();
    let words: Vec<&Token> = tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_))).collect();
    if session_only(&words) {
        statement.not_schema = Some(NotSchema::SessionSetting);
        return Ok(statement);
    }
    let Ok(parsed) = Parser::parse_sql(dialect, sql) else {
        // The parser in use does not know ALTER DEFAULT PRIVILEGES; the database reads it, and its
        // tokens say which schemas it needs.
        if leading_keywords(sql, dialect) == "ALTER DEFAULT PRIVILEGES" {
            statement.parsed = true;
            statement.defines = vec![ObjectKey::DefaultPrivileges];
            statement.references =
                words_after(sql, dialect, &["IN", "SCHEMA"]).into_iter().map(ObjectKey::Schema).collect();
            return Ok(statement);
        }
        // An aggregate has no body: its tokens say all it needs. A function's or procedure's body stays
        // unknown and is read from its tokens below.
        if let Some((defined, references, true)) = routine_by_keywords(sql, dialect) {
            statement.defines = vec![defined];
            statement.references = references;
            statement.parsed = true;
            return Ok(statement);
        }
        if let Some(kind) = unmanaged_by_keywords(sql, dialect) {
            return Err(DeclaredError::Unmanaged { location, kind });
        }
        // The database will judge it. Its tokens still tell what it creates and which qualified names it
        // mentions (pg_dump qualifies every name), so that what uses it can wait for it; it still waits
        // for every statement before it (see `order`), and the loader retries it if it was too early.
        (statement.defines, statement.references) = analyse_tokens(&words);
        return Ok(statement);
    };
    // sqlparser reads `SELECT set_config(…)` as a query: it is a setting, and runs like SET.
    if set_config_call(&words).is_some() {
        statement.parsed = true;
        return Ok(statement);
    }
    let [ast] = parsed.as_slice() else {
        return Ok(statement);
    };
    if let Some(kind) = unmanaged_kind(ast, sql, dialect) {
        return Err(DeclaredError::Unmanaged { location, kind });
    }
    statement.parsed = true;
    // The scratch load runs in a transaction, where CONCURRENTLY is refused; it changes nothing in the
    // resulting index.
    if let Statement::CreateIndex(index) = ast
        && index.concurrently
    {
        statement.sql = without_keyword(sql, "CONCURRENTLY", dialect);
    }
    statement.defines = defines(ast);
    let mut refs = References::default();
    let _ = ast.visit(&mut refs);
    collect_explicit_references(ast, &mut refs.keys);
    let mut references = refs.keys;
    // Every qualified name also needs its schema.
    let schemas: Vec<ObjectKey> = references
        .iter()
        .chain(statement.defines.iter())
        .filter_map(|k| match k {
            ObjectKey::Relation(s, _)
            | ObjectKey::Type(s, _)
            | ObjectKey::Collation(s, _)
            | ObjectKey::Function(s, _) => Some(ObjectKey::Schema(s.clone())),
            _ => None,
        })
        .collect();
    references.extend(schemas);
    references.sort();
    references.dedup();
    references.retain(|r| !statement.defines.contains(r));
    statement.references = references;
    Ok(statement)
}

/// The statement text with the first occurrence of an (unquoted) keyword removed.
fn without_keyword(sql: &str, keyword: &str, dialect: &dyn Dialect) -> String {
    let Ok(tokens) = Tokenizer::new(dialect, sql).tokenize_with_location() else { return sql.to_string() };
    let offsets = LineOffsets::new(sql);
    for token in &tokens {
        if let Token::Word(w) = &token.token
            && w.quote_style.is_none()
            && w.value.eq_ignore_ascii_case(keyword)
        {
            let start = offsets.byte(token.span.start.line, token.span.start.column);
            let end = offsets.byte(token.span.end.line, token.span.end.column);
            return format!("{}{}", &sql[..start], &sql[end..]);
        }
    }
    sql.to_string()
}

/// The kinds a declared schema may contain in this version.
fn unmanaged_kind(ast: &Statement, sql: &str, dialect: &dyn Dialect) -> Option<String> {
    // Table inheritance is PostgreSQL's.
    if let Statement::CreateTable(t) = ast
        && t.inherits.is_some()
        && dialect.is::<sqlparser::dialect::SQLiteDialect>()
    {
        return Some("table inheritance (CREATE TABLE … INHERITS)".into());
    }
    let allowed = match ast {
        Statement::CreateSchema { .. }
        | Statement::CreateExtension(_)
        | Statement::CreateSequence { .. }
        | Statement::CreateIndex(_)
        | Statement::CreateView(_)
        | Statement::Set(_)
        | Statement::CreateTrigger(_) => true,
        Statement::CreateDomain(_) | Statement::CreateCollation(_) => {
            !dialect.is::<sqlparser::dialect::SQLiteDialect>()
        }
        Statement::CreatePolicy(_) | Statement::Grant(_) | Statement::Revoke(_) => {
            !dialect.is::<sqlparser::dialect::SQLiteDialect>()
        }
        Statement::CreateFunction(f) => !f.temporary && !dialect.is::<sqlparser::dialect::SQLiteDialect>(),
        Statement::CreateType { representation, .. } => {
            matches!(
                representation,
                Some(
                    UserDefinedTypeRepresentation::Enum { .. }
                        | UserDefinedTypeRepresentation::Composite { .. }
                        | UserDefinedTypeRepresentation::Range { .. }
                )
            )
        }
        Statement::CreateTable(_) => true,
        Statement::Comment { object_type, .. } => matches!(
            object_type,
            CommentObject::Column
                | CommentObject::Domain
                | CommentObject::Extension
                | CommentObject::Index
                | CommentObject::MaterializedView
                | CommentObject::Schema
                | CommentObject::Sequence
                | CommentObject::Table
                | CommentObject::Type
                | CommentObject::View
                | CommentObject::Function
                | CommentObject::Procedure
        ),
        // Owners (compared only when ownership is managed: see `prepare`).
        Statement::AlterFunction(alter) => {
            use sqlparser::ast::AlterFunctionKind;
            matches!(alter.kind, AlterFunctionKind::Function | AlterFunctionKind::Aggregate)
                && matches!(alter.operation, sqlparser::ast::AlterFunctionOperation::OwnerTo(_))
        }
        Statement::AlterSchema(alter) => {
            alter.operations.iter().all(|op| matches!(op, sqlparser::ast::AlterSchemaOperation::OwnerTo { .. }))
        }
        Statement::AlterTable(alter) => alter.operations.iter().all(|op| {
            !matches!(op, AlterTableOperation::AttachPartition { .. } | AlterTableOperation::DetachPartition { .. })
        }),
        _ => false,
    };
    if allowed { None } else { Some(leading_keywords(sql, dialect)) }
}

/// The name and value of a setting: `SET [SESSION|LOCAL] name {TO|=} value`, `SET TIME ZONE value`,
/// `RESET name`, or pg_dump's `SELECT pg_catalog.set_config('name', 'value', false)`. The name is folded;
/// the value is its tokens' text, with the quotes of a string taken off (`''` is the empty value).
fn setting(words: &[&Token]) -> Option<(String, String)> {
    if let Some(found) = set_config_call(words) {
        return Some(found);
    }
    let name_of = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_lowercase()),
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    };
    let text = |tokens: &[&Token]| {
        tokens
            .iter()
            .map(|t| match t {
                Token::SingleQuotedString(s) => s.clone(),
                Token::Word(w) if w.quote_style.is_none() => w.value.to_lowercase(),
                other => other.to_string(),
            })
            .collect::<String>()
    };
    match words {
        [first, name, ..] if is_keyword(first, "RESET") => Some((name_of(name)?, "default".into())),
        [first, rest @ ..] if is_keyword(first, "SET") => {
            let rest = match rest {
                [scope, rest @ ..] if is_keyword(scope, "SESSION") || is_keyword(scope, "LOCAL") => rest,
                _ => rest,
            };
            match rest {
                [time, zone, value @ ..] if is_keyword(time, "TIME") && is_keyword(zone, "ZONE") => {
                    Some(("timezone".into(), text(value)))
                }
                [name, assign, value @ ..] if is_keyword(assign, "TO") || matches!(assign, Token::Eq) => {
                    Some((name_of(name)?, text(value)))
                }
                // A dotted name (`SET myapp.flag = on`) is a custom setting: it is kept.
                _ => None,
            }
        }
        _ => None,
    }
}

/// `SELECT [pg_catalog.]set_config('name', 'value', false|true)`, as pg_dump writes it, and nothing more.
fn set_config_call(words: &[&Token]) -> Option<(String, String)> {
    let words = match words {
        [select, schema, Token::Period, rest @ ..]
            if is_keyword(select, "SELECT") && is_keyword(schema, "pg_catalog") =>
        {
            rest
        }
        [select, rest @ ..] if is_keyword(select, "SELECT") => rest,
        _ => return None,
    };
    match words {
        [
            function,
            Token::LParen,
            Token::SingleQuotedString(name),
            Token::Comma,
            Token::SingleQuotedString(value),
            Token::Comma,
            local,
            Token::RParen,
        ] if is_keyword(function, "set_config") && (is_keyword(local, "false") || is_keyword(local, "true")) => {
            Some((name.to_lowercase(), value.clone()))
        }
        _ => None,
    }
}

/// A setting that lasts for the session and changes nothing in what the declared statements create, so
/// it is not loaded: the timeouts, messages and encoding pg_dump sets, and the values it sets that are the
/// server's defaults anyway. `check_function_bodies` is not honoured either: a migration creates functions
/// with their bodies checked, so the scratch load checks them too (the loader retries a function whose body
/// names what is created after it). `default_tablespace`: tablespaces are not managed. Any other setting
/// (`search_path` to a schema, `TIME ZONE`, …) changes how what follows is read and is loaded as written.
fn session_only(words: &[&Token]) -> bool {
    let Some((name, value)) = setting(words) else { return false };
    match name.as_str() {
        "statement_timeout"
        | "lock_timeout"
        | "idle_in_transaction_session_timeout"
        | "idle_session_timeout"
        | "transaction_timeout"
        | "client_encoding"
        | "client_min_messages"
        | "check_function_bodies"
        | "row_security"
        | "default_tablespace"
        | "synchronous_commit"
        | "application_name" => true,
        "standard_conforming_strings" => value == "on",
        "xmloption" => value == "content",
        "default_with_oids" => value == "false" || value == "off",
        "default_table_access_method" => value == "heap",
        // pg_dump qualifies every name, and the declared side reads unqualified names as the default
        // search path does.
        "search_path" => value.is_empty(),
        _ => false,
    }
}

fn is_keyword(token: &Token, keyword: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(keyword))
}

/// For a statement the parser cannot read: what its leading keywords say it creates (`CREATE [OR REPLACE]
/// [MATERIALIZED] VIEW a.b`, `CREATE SEQUENCE a.b`, …), and every qualified name it mentions (`a.b`, also in
/// `'a.b'::regclass` and `nextval('a.b')`) as a relation, type or function of that schema. Over-approximate
/// on purpose: a key that nothing defines orders nothing, and the loader retries what came too early.
fn analyse_tokens(words: &[&Token]) -> (Vec<ObjectKey>, Vec<ObjectKey>) {
    let fold = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_lowercase()),
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    };
    // `a.b` at position i: (a, b).
    let qualified_at = |i: usize| -> Option<(String, String)> {
        match (words.get(i), words.get(i + 1), words.get(i + 2)) {
            (Some(a), Some(Token::Period), Some(b)) => Some((fold(a)?, fold(b)?)),
            _ => None,
        }
    };
    let mut defines = Vec::new();
    if words.first().is_some_and(|w| is_keyword(w, "CREATE")) {
        const MODIFIERS: &[&str] = &[
            "OR",
            "REPLACE",
            "TEMP",
            "TEMPORARY",
            "UNLOGGED",
            "MATERIALIZED",
            "RECURSIVE",
            "GLOBAL",
            "LOCAL",
            "TRUSTED",
            "PROCEDURAL",
        ];
        let mut i = 1;
        while words.get(i).is_some_and(|w| MODIFIERS.iter().any(|m| is_keyword(w, m))) {
            i += 1;
        }
        let kind = words.get(i).and_then(|w| fold(w)).unwrap_or_default();
        i += 1;
        if words
            .get(i..i + 3)
            .is_some_and(|w| is_keyword(w[0], "IF") && is_keyword(w[1], "NOT") && is_keyword(w[2], "EXISTS"))
        {
            i += 3;
        }
        let name = qualified_at(i).or_else(|| Some(("public".to_string(), fold(words.get(i)?)?)));
        if let Some((schema, name)) = name {
            defines.extend(match kind.as_str() {
                "table" | "sequence" | "view" => Some(ObjectKey::Relation(schema, name)),
                "type" | "domain" => Some(ObjectKey::Type(schema, name)),
                "function" | "procedure" => Some(ObjectKey::Function(schema, name)),
                "collation" => Some(ObjectKey::Collation(schema, name)),
                // An unqualified name is the schema's or the extension's own.
                "schema" => words.get(i).and_then(|w| fold(w)).map(ObjectKey::Schema),
                "extension" => words.get(i).and_then(|w| fold(w)).map(ObjectKey::Extension),
                _ => None,
            });
        }
    }
    let mut references = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if let Some((schema, name)) = qualified_at(i) {
            references.push(ObjectKey::Relation(schema.clone(), name.clone()));
            references.push(ObjectKey::Type(schema.clone(), name.clone()));
            references.push(ObjectKey::Function(schema.clone(), name));
            references.push(ObjectKey::Schema(schema));
            // `a.b.c` (a column): the rest is not another name.
            i += 3;
            while matches!(words.get(i), Some(Token::Period)) {
                i += 2;
            }
            continue;
        }
        if let Token::SingleQuotedString(text) = words[i] {
            let regclass = matches!(words.get(i + 1), Some(Token::DoubleColon))
                && words.get(i + 2).is_some_and(|w| is_keyword(w, "regclass"));
            let nextval = i >= 2 && matches!(words[i - 1], Token::LParen) && is_keyword(words[i - 2], "nextval");
            if regclass || nextval {
                references.extend(relation_from_string(text));
            }
        }
        i += 1;
    }
    references.sort();
    references.dedup();
    references.retain(|r| !defines.contains(r));
    (defines, references)
}

/// The schema an unqualified name lives in: `main` in SQLite, else the first schema of PostgreSQL's
/// default search path. Dependency ordering only needs names to be consistent; renames need the real one.
fn default_schema(dialect: &dyn Dialect) -> &'static str {
    if dialect.is::<sqlparser::dialect::SQLiteDialect>() { "main" } else { "public" }
}

/// For statements the parser rejects: recognize the unmanaged kinds by their leading keywords.
fn unmanaged_by_keywords(sql: &str, dialect: &dyn Dialect) -> Option<String> {
    const UNMANAGED: &[&str] = &[
        "CREATE RULE",
        "CREATE OPERATOR",
        "CREATE ROLE",
        "CREATE USER",
        "CREATE PUBLICATION",
        "CREATE EVENT TRIGGER",
        "INSERT",
        "UPDATE",
        "DELETE",
    ];
    let kind = leading_keywords(sql, dialect);
    UNMANAGED.iter().any(|u| kind.starts_with(u)).then_some(kind)
}

/// The statement's first keywords, e.g. `CREATE FUNCTION`, skipping `OR REPLACE`.
fn leading_keywords(sql: &str, dialect: &dyn Dialect) -> String {
    let tokens = Tokenizer::new(dialect, sql).tokenize().unwrap_or_default();
    let words: Vec<String> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .map_while(|t| match t {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_uppercase()),
            _ => None,
        })
        .filter(|w| w != "OR" && w != "REPLACE")
        .take(3)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let keep = match words.as_slice() {
        ["CREATE", "CONSTRAINT", "TRIGGER"] | ["CREATE", "EVENT", "TRIGGER"] | ["ALTER", "DEFAULT", "PRIVILEGES"] => 3,
        ["CREATE", "UNIQUE", ..] | ["CREATE", "MATERIALIZED", ..] | ["ALTER", ..] | ["CREATE", ..] | ["DROP", ..] => 2,
        _ => 1,
    };
    words.iter().take(keep).copied().collect::<Vec<_>>().join(" ")
}

/// The comma-separated identifiers that follow the keyword sequence `keywords` in a statement, folded
/// (`IN SCHEMA a, "B"` gives `a`, `B`).
fn words_after(sql: &str, dialect: &dyn Dialect, keywords: &[&str]) -> Vec<String> {
    let tokens = Tokenizer::new(dialect, sql).tokenize().unwrap_or_default();
    let tokens: Vec<&Token> = tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_))).collect();
    let is_keyword =
        |t: &Token, k: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    let mut out = Vec::new();
    for start in 0..tokens.len() {
        if tokens.len() - start < keywords.len()
            || !keywords.iter().enumerate().all(|(i, k)| is_keyword(tokens[start + i], k))
        {
            continue;
        }
        let mut i = start + keywords.len();
        while let Some(Token::Word(w)) = tokens.get(i) {
            out.push(if w.quote_style.is_some() { w.value.clone() } else { w.value.to_lowercase() });
            if !matches!(tokens.get(i + 1), Some(Token::Comma)) {
                break;
            }
            i += 2;
        }
    }
    out
}

/// The declared statements that are loaded, and what to tell the user (once, on stderr) about the others.
#[derive(Debug)]
pub struct Prepared {
    pub statements: Vec<DeclaredStatement>,
    pub notes: Vec<String>,
}

/// Sets apart what the files hold that is not schema: psql meta-commands and session settings (never
/// loaded) and, while owners are not managed, statements that only give an object its owner (not loaded:
/// the role may not exist where the files are loaded). Each kind gets one note naming its first statement.
pub fn prepare(statements: Vec<DeclaredStatement>, manage_owners: bool, dialect: &dyn Dialect) -> Prepared {
    let mut notes = Vec::new();
    let mut skipped: Vec<SourceLocation> = Vec::new();
    let mut owners: Vec<SourceLocation> = Vec::new();
    let mut kept = Vec::with_capacity(statements.len());
    for statement in statements {
        if statement.not_schema.is_some() {
            skipped.push(statement.location);
            continue;
        }
        if !manage_owners {
            match owner_setting(&statement.sql, dialect) {
                Some(OwnerSetting::Only) => {
                    owners.push(statement.location);
                    continue;
                }
                Some(OwnerSetting::Also) => owners.push(statement.location.clone()),
                None => {}
            }
        }
        kept.push(statement);
    }
    if let Some(first) = skipped.first() {
        notes.push(format!(
            "note: skipped {} psql meta-command(s) and session setting(s) that are not schema (the first at {first})",
            skipped.len()
        ));
    }
    if let Some(first) = owners.first() {
        notes.push(format!(
            "warning: ignored the owners set by {} statement(s) (the first at {first}): owners are not managed; to \
             manage them, set `manage = true` under `[ownership]` in diff.toml",
            owners.len()
        ));
    }
    Prepared { statements: kept, notes }
}

/// How a statement gives an object its owner.
#[derive(Debug, PartialEq, Eq)]
enum OwnerSetting {
    /// That is all it does: `ALTER … OWNER TO role`, `SET SESSION AUTHORIZATION role`, `SET ROLE role`.
    Only,
    /// Among other things: `CREATE SCHEMA … AUTHORIZATION role`, `ALTER TABLE t OWNER TO r, ADD …`.
    Also,
}

fn owner_setting(sql: &str, dialect: &dyn Dialect) -> Option<OwnerSetting> {
    let tokens = Tokenizer::new(dialect, sql).tokenize().ok()?;
    let words: Vec<&Token> = tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_))).collect();
    let first = words.first()?;
    if is_keyword(first, "SET") {
        let rest = match &words[1..] {
            [scope, rest @ ..] if is_keyword(scope, "SESSION") || is_keyword(scope, "LOCAL") => rest,
            rest => rest,
        };
        // `SET [SESSION | LOCAL] ROLE r`, `SET [SESSION | LOCAL] SESSION AUTHORIZATION r` (with the scope
        // SESSION taken off above, `AUTHORIZATION r` is left).
        let sets_role = match rest {
            [session, authorization, ..] if is_keyword(session, "SESSION") => {
                is_keyword(authorization, "AUTHORIZATION")
            }
            [first, ..] => is_keyword(first, "ROLE") || is_keyword(first, "AUTHORIZATION"),
            [] => false,
        };

        return sets_role.then_some(OwnerSetting::Only);
    }
    if is_keyword(first, "CREATE") && words.get(1).is_some_and(|w| is_keyword(w, "SCHEMA")) {
        return words.iter().any(|w| is_keyword(w, "AUTHORIZATION")).then_some(OwnerSetting::Also);
    }
    if !is_keyword(first, "ALTER") {
        return None;
    }
    // `OWNER TO role` outside parentheses; the statement does nothing else unless it has a comma outside them.
    let mut depth = 0usize;
    let (mut owner, mut comma) = (false, false);
    for (i, word) in words.iter().enumerate() {
        match word {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => comma = true,
            _ if depth == 0 && is_keyword(word, "OWNER") && words.get(i + 1).is_some_and(|w| is_keyword(w, "TO")) => {
                owner = true
            }
            _ => {}
        }
    }
    match (owner, comma) {
        (false, _) => None,
        (true, false) => Some(OwnerSetting::Only),
        (true, true) => Some(OwnerSetting::Also),
    }
}

/// Folds an identifier as PostgreSQL does: unquoted names are lower-cased.
fn fold(ident: &sqlparser::ast::Ident) -> String {
    if ident.quote_style.is_some() { ident.value.clone() } else { ident.value.to_lowercase() }
}

fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(i) => fold(i),
            ObjectNamePart::Function(f) => fold(&f.name),
        })
        .collect()
}

/// (schema, name) of a possibly qualified name; unqualified names resolve to `public`, the first
/// schema of the default search path.
fn qualify(name: &ObjectName) -> Option<(String, String)> {
    let mut parts = name_parts(name);
    let last = parts.pop()?;
    let schema = parts.pop().unwrap_or_else(|| "public".to_string());
    Some((schema, last))
}

fn relation(name: &ObjectName) -> Option<ObjectKey> {
    qualify(name).map(|(s, n)| ObjectKey::Relation(s, n))
}

fn type_key(name: &ObjectName) -> Option<ObjectKey> {
    qualify(name).map(|(s, n)| ObjectKey::Type(s, n))
}

/// A collation named by a column or type (built-in ones such as `"C"` simply have no definer).
fn collation_key(name: &ObjectName) -> Option<ObjectKey> {
    qualify(name).map(|(s, n)| ObjectKey::Collation(s, n))
}

/// A trigger or policy, named after its table.
fn member_key(table: &ObjectName, name: &ObjectName) -> Option<ObjectKey> {
    let (schema, table) = qualify(table)?;
    Some(ObjectKey::Member(schema, table, name_parts(name).pop()?))
}

fn function_key(name: &ObjectName) -> Option<ObjectKey> {
    qualify(name).map(|(s, n)| ObjectKey::Function(s, n))
}

fn defines(ast: &Statement) -> Vec<ObjectKey> {
    match ast {
        Statement::CreateSchema { schema_name, .. } => {
            let name = schema_name.to_string();
            let folded = match schema_name {
                sqlparser::ast::SchemaName::Simple(n) | sqlparser::ast::SchemaName::NamedAuthorization(n, _) => {
                    name_parts(n).pop().unwrap_or(name)
                }
                sqlparser::ast::SchemaName::UnnamedAuthorization(i) => fold(i),
            };
            vec![ObjectKey::Schema(folded)]
        }
        Statement::CreateExtension(e) => vec![ObjectKey::Extension(fold(&e.name))],
        Statement::CreateType { name, .. } => type_key(name).into_iter().collect(),
        Statement::CreateDomain(d) => type_key(&d.name).into_iter().collect(),
        Statement::CreateCollation(c) => {
            qualify(&c.name).map(|(s, n)| ObjectKey::Collation(s, n)).into_iter().collect()
        }
        Statement::CreateSequence { name, .. } => relation(name).into_iter().collect(),
        Statement::CreateTable(t) => relation(&t.name).into_iter().collect(),
        Statement::CreateFunction(f) => function_key(&f.name).into_iter().collect(),
        Statement::CreateTrigger(t) => member_key(&t.table_name, &t.name).into_iter().collect(),
        Statement::CreatePolicy(p) => {
            member_key(&p.table_name, &ObjectName::from(vec![p.name.clone()])).into_iter().collect()
        }
        Statement::CreateView(v) => relation(&v.name).into_iter().collect(),
        Statement::CreateIndex(i) => {
            // An index lives in its table's schema.
            let table_schema = qualify(&i.table_name).map(|(s, _)| s);
            match (&i.name, table_schema) {
                (Some(name), Some(schema)) => {
                    name_parts(name).pop().map(|n| ObjectKey::Relation(schema, n)).into_iter().collect()
                }
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// Collects relations and types mentioned anywhere in a statement's expressions and queries.
#[derive(Default)]
struct References {
    keys: Vec<ObjectKey>,
}

impl Visitor for References {
    type Break = ();

    fn pre_visit_relation(&mut self, name: &ObjectName) -> ControlFlow<()> {
        self.keys.extend(relation(name));
        ControlFlow::Continue(())
    }

    /// A set-returning function in FROM (`FROM f(1)`, `LATERAL f(t.a)`) is a call, not a relation (its
    /// name is also visited as a relation, which finds nothing).
    fn pre_visit_table_factor(&mut self, factor: &sqlparser::ast::TableFactor) -> ControlFlow<()> {
        use sqlparser::ast::TableFactor;
        match factor {
            TableFactor::Table { name, args: Some(_), .. } | TableFactor::Function { name, .. } => {
                self.keys.extend(function_key(name));
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Cast { data_type, expr, .. } => {
                push_data_type(data_type, &mut self.keys);
                // nextval('seq'::regclass) and 'seq'::regclass name a sequence in a string.
                if matches!(data_type, DataType::Regclass)
                    && let Expr::Value(v) = expr.as_ref()
                    && let Value::SingleQuotedString(s) = &v.value
                {
                    self.keys.extend(relation_from_string(s));
                }
            }
            Expr::Function(f) if name_parts(&f.name).last().is_some_and(|n| n == "nextval") => {
                self.keys.extend(function_key(&f.name));
                if let sqlparser::ast::FunctionArguments::List(list) = &f.args
                    && let Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                        Expr::Value(v),
                    ))) = list.args.first()
                    && let Value::SingleQuotedString(s) = &v.value
                {
                    self.keys.extend(relation_from_string(s));
                }
            }
            Expr::Function(f) => self.keys.extend(function_key(&f.name)),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// A relation named inside a string literal, such as nextval's argument: `'app.users_id_seq'`.
fn relation_from_string(text: &str) -> Option<ObjectKey> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(text).ok()?;
    relation(&parser.parse_object_name(false).ok()?)
}

fn push_data_type(data_type: &DataType, out: &mut Vec<ObjectKey>) {
    match data_type {
        DataType::Custom(name, _) => out.extend(type_key(name)),
        DataType::Array(sqlparser::ast::ArrayElemTypeDef::AngleBracket(inner))
        | DataType::Array(sqlparser::ast::ArrayElemTypeDef::SquareBracket(inner, _))
        | DataType::Array(sqlparser::ast::ArrayElemTypeDef::Parenthesis(inner)) => push_data_type(inner, out),
        _ => {}
    }
}

/// References that the visitor does not reach: column types and foreign key targets.
fn collect_explicit_references(ast: &Statement, out: &mut Vec<ObjectKey>) {
    let constraint = |c: &TableConstraint, out: &mut Vec<ObjectKey>| {
        if let TableConstraint::ForeignKey(fk) = c {
            out.extend(relation(&fk.foreign_table));
        }
    };
    let column = |c: &sqlparser::ast::ColumnDef, out: &mut Vec<ObjectKey>| {
        push_data_type(&c.data_type, out);
        for option in &c.options {
            if let ColumnOption::ForeignKey(fk) = &option.option {
                out.extend(relation(&fk.foreign_table));
            }
            if let ColumnOption::Collation(name) = &option.option {
                out.extend(collation_key(name));
            }
        }
    };
    match ast {
        Statement::AlterFunction(alter) => out.extend(function_key(&alter.function.name)),
        Statement::AlterSchema(alter) => out.extend(name_parts(&alter.name).pop().map(ObjectKey::Schema)),
        Statement::CreateTable(t) => {
            if let Some(parent) = &t.partition_of {
                out.extend(relation(parent));
            }
            for parent in t.inherits.iter().flatten() {
                out.extend(relation(parent));
            }
            for c in &t.columns {
                column(c, out);
            }
            for c in &t.constraints {
                constraint(c, out);
            }
        }
        Statement::AlterTable(alter) => {
            for op in &alter.operations {
                match op {
                    AlterTableOperation::AddConstraint { constraint: c, .. } => constraint(c, out),
                    AlterTableOperation::AddColumn { column_def, .. } => column(column_def, out),
                    AlterTableOperation::AlterColumn {
                        op: sqlparser::ast::AlterColumnOperation::SetDataType { data_type, .. },
                        ..
                    } => push_data_type(data_type, out),
                    AlterTableOperation::EnableTrigger { name }
                    | AlterTableOperation::DisableTrigger { name }
                    | AlterTableOperation::EnableAlwaysTrigger { name }
                    | AlterTableOperation::EnableReplicaTrigger { name } => {
                        out.extend(member_key(&alter.name, &ObjectName::from(vec![name.clone()])))
                    }
                    _ => {}
                }
            }
        }
        Statement::Comment { object_type, object_name, .. } => {
            let mut parts = name_parts(object_name);
            if matches!(object_type, CommentObject::Column) {
                parts.pop();
            }
            let last = parts.pop();
            let schema = parts.pop().unwrap_or_else(|| "public".to_string());
            if let Some(last) = last {
                out.push(match object_type {
                    CommentObject::Type => ObjectKey::Type(schema, last),
                    CommentObject::Function | CommentObject::Procedure => ObjectKey::Function(schema, last),
                    CommentObject::Schema => ObjectKey::Schema(last),
                    CommentObject::Extension => ObjectKey::Extension(last),
                    _ => ObjectKey::Relation(schema, last),
                });
            }
        }
        Statement::CreateTrigger(trigger) => {
            out.extend(relation(&trigger.table_name));
            if let Some(body) = &trigger.exec_body {
                out.extend(function_key(&body.func_desc.name));
            }
        }
        Statement::CreatePolicy(policy) => out.extend(relation(&policy.table_name)),
        Statement::Grant(sqlparser::ast::Grant { objects: Some(objects), .. })
        | Statement::Revoke(sqlparser::ast::Revoke { objects: Some(objects), .. }) => grant_references(objects, out),
        Statement::CreateFunction(f) => {
            for arg in f.args.iter().flatten() {
                push_row_or_data_type(&arg.data_type, out);
            }
            match &f.return_type {
                Some(FunctionReturnType::DataType(t)) | Some(FunctionReturnType::SetOf(t)) => {
                    push_row_or_data_type(t, out)
                }
                None => {}
            }
            // A body in a string is parsed by PostgreSQL when the function is created (LANGUAGE sql):
            // what it reads must exist by then.
            let is_sql = f.language.as_ref().is_some_and(|l| l.value.eq_ignore_ascii_case("sql"));
            if is_sql
                && let Some(CreateFunctionBody::AsBeforeOptions { body, .. } | CreateFunctionBody::AsAfterOptions(body)) =
                    &f.function_body
                && let Expr::Value(v) = body
                && let Value::SingleQuotedString(text)
                | Value::DollarQuotedString(DollarQuotedString { value: text, .. }) = &v.value
            {
                out.extend(body_references(text));
            }
        }
        Statement::CreateDomain(d) => {
            push_data_type(&d.data_type, out);
            if let Some(collation) = &d.collation {
                out.extend(collation_key(&ObjectName::from(vec![collation.clone()])));
            }
        }
        Statement::CreateType { representation: Some(representation), .. } => match representation {
            UserDefinedTypeRepresentation::Composite { attributes } => {
                for a in attributes {
                    push_data_type(&a.data_type, out);
                    out.extend(a.collation.as_ref().and_then(collation_key));
                }
            }
            UserDefinedTypeRepresentation::Range { options } => {
                for option in options {
                    match option {
                        sqlparser::ast::UserDefinedTypeRangeOption::Subtype(t) => push_data_type(t, out),
                        sqlparser::ast::UserDefinedTypeRangeOption::Collation(c) => out.extend(collation_key(c)),
                        sqlparser::ast::UserDefinedTypeRangeOption::SubtypeDiff(f)
                        | sqlparser::ast::UserDefinedTypeRangeOption::Canonical(f) => out.extend(function_key(f)),
                        _ => {}
                    }
                }
            }
            _ => {}
        },
        Statement::CreateSchema { .. } | Statement::CreateExtension(_) => {}
        _ => {}
    }
}

/// The objects a GRANT or REVOKE names. `ALL … IN SCHEMA` needs everything of that schema, which
/// [`order`] resolves from [`ObjectKey::AllIn`].
fn grant_references(objects: &sqlparser::ast::GrantObjects, out: &mut Vec<ObjectKey>) {
    use sqlparser::ast::GrantObjects as G;
    match objects {
        G::Tables(names) | G::Views(names) | G::Sequences(names) => out.extend(names.iter().filter_map(relation)),
        G::Schemas(names) => out.extend(names.iter().filter_map(|n| name_parts(n).pop().map(ObjectKey::Schema))),
        G::Function { name, .. } | G::Procedure { name, .. } => out.extend(function_key(name)),
        G::AllTablesInSchema { schemas }
        | G::AllSequencesInSchema { schemas }
        | G::AllViewsInSchema { schemas }
        | G::AllFunctionsInSchema { schemas } => {
            out.extend(schemas.iter().filter_map(|n| name_parts(n).pop().map(ObjectKey::AllIn)))
        }
        _ => {}
    }
}

/// A type that may also be a table's row type (`RETURNS SETOF users`).
fn push_row_or_data_type(data_type: &DataType, out: &mut Vec<ObjectKey>) {
    let mut types = Vec::new();
    push_data_type(data_type, &mut types);
    for key in types {
        if let ObjectKey::Type(schema, name) = &key {
            out.push(ObjectKey::Relation(schema.clone(), name.clone()));
        }
        out.push(key);
    }
}

/// Relations and functions that the statements of a SQL function body use (PostgreSQL dialect).
fn body_references(body: &str) -> Vec<ObjectKey> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let Ok(statements) = Parser::parse_sql(&dialect, body) else { return Vec::new() };
    let mut refs = References::default();
    for statement in &statements {
        let _ = statement.visit(&mut refs);
    }
    refs.keys
}

/// What a `LANGUAGE sql` function body in a string names, as (schema, name) pairs; unqualified names
/// resolve to `public`. PostgreSQL checks such a body when the function is created but records none of
/// it: this orders functions after the tables, types and functions they need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlBodyReferences {
    /// Tables, views and sequences it reads or writes.
    pub relations: Vec<(String, String)>,
    /// Types it casts to.
    pub types: Vec<(String, String)>,
    /// Functions and procedures it calls (built-in ones included: the caller matches them against the
    /// functions it knows).
    pub functions: Vec<(String, String)>,
}

/// The references of a `LANGUAGE sql` body in a string, or `None` where the parser cannot read it.
pub fn sql_body_references(body: &str) -> Option<SqlBodyReferences> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    Parser::parse_sql(&dialect, body).ok()?;
    let mut out = SqlBodyReferences::default();
    for key in body_references(body) {
        match key {
            ObjectKey::Relation(s, n) => out.relations.push((s, n)),
            ObjectKey::Type(s, n) => out.types.push((s, n)),
            ObjectKey::Function(s, n) => out.functions.push((s, n)),
            _ => {}
        }
    }
    for list in [&mut out.relations, &mut out.types, &mut out.functions] {
        list.sort();
        list.dedup();
    }
    Some(out)
}

/// The identifiers of a body the parser cannot read (folded as PostgreSQL folds them), or `None` where
/// it cannot even be split into tokens: a function it names may be among them.
pub fn sql_body_words(body: &str) -> Option<Vec<String>> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let tokens = sqlparser::tokenizer::Tokenizer::new(&dialect, body).tokenize().ok()?;
    let mut words: Vec<String> = tokens
        .into_iter()
        .filter_map(|t| match t {
            sqlparser::tokenizer::Token::Word(w) if w.quote_style.is_some() => Some(w.value),
            sqlparser::tokenizer::Token::Word(w) => Some(w.value.to_lowercase()),
            _ => None,
        })
        .collect();
    words.sort();
    words.dedup();
    Some(words)
}

/// Orders statements so that each comes after the statements defining what it references. Schemas
/// and extensions go first; otherwise file order is kept. A dependency cycle is broken at the
/// earliest statement in file order (the loader retries a statement that then comes too early).
///
/// Linear in the statements and their references: where a statement waits for a whole set of others
/// (every statement before it, every object of a schema, every default privilege), it waits for one extra
/// node that waits for the set, instead of for each member (20,000 statements the parser cannot read
/// once made 200 million edges, 3 GB).
pub fn order(statements: Vec<DeclaredStatement>) -> Vec<DeclaredStatement> {
    let order = positions(&statements, true);
    let mut slots: Vec<Option<DeclaredStatement>> = statements.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The order of a round of retries: the statements that failed for a missing object, by what they define
/// and reference only. They all ran once in file order already, so a statement the parser could not read
/// no longer waits for those before it: a chain of them written backwards loads in one more round instead
/// of one round per link.
pub fn retry_order<'a>(failed: &[&'a DeclaredStatement]) -> Vec<&'a DeclaredStatement> {
    positions(failed, false).into_iter().map(|i| failed[i]).collect()
}

/// The positions of the statements in the order of [`order`] (`in_file_order`: unread statements wait for
/// those before them).
fn positions<S: std::borrow::Borrow<DeclaredStatement>>(statements: &[S], in_file_order: bool) -> Vec<usize> {
    let count = statements.len();
    let (nodes, edges) = graph(statements, in_file_order);
    let rank = |i: usize| -> u8 {
        match statements.get(i).and_then(|s| s.borrow().defines.first()) {
            Some(ObjectKey::Schema(_)) => 0,
            Some(ObjectKey::Extension(_)) => 1,
            // Functions wait for everything that does not need them: a body is checked on creation.
            Some(ObjectKey::Function(..)) => 3,
            // The nodes that stand for sets cost nothing to pass.
            _ if i >= count => 0,
            _ => 2,
        }
    };
    // Successors in one array (by source node), and the number of predecessors of each node.
    let mut first_edge = vec![0usize; nodes + 1];
    let mut indegree = vec![0usize; nodes];
    for &(from, to) in &edges {
        first_edge[from + 1] += 1;
        indegree[to] += 1;
    }
    for i in 0..nodes {
        first_edge[i + 1] += first_edge[i];
    }
    let mut successors = vec![0usize; edges.len()];
    let mut fill = first_edge.clone();
    for (from, to) in edges {
        successors[fill[from]] = to;
        fill[from] += 1;
    }
    let mut done = vec![false; nodes];
    let mut ready: BinaryHeap<Reverse<(u8, usize)>> =
        (0..nodes).filter(|&i| indegree[i] == 0).map(|i| Reverse((rank(i), i))).collect();
    let mut order = Vec::with_capacity(count);
    // The earliest statement not yet placed, for breaking cycles: it only moves forward.
    let mut earliest = 0;
    while order.len() < count {
        let next = match ready.pop() {
            Some(Reverse((_, i))) if !done[i] => i,
            Some(_) => continue,
            None => {
                while done[earliest] {
                    earliest += 1;
                }
                earliest
            }
        };
        done[next] = true;
        if next < count {
            order.push(next);
        }
        for &j in &successors[first_edge[next]..first_edge[next + 1]] {
            indegree[j] = indegree[j].saturating_sub(1);
            if indegree[j] == 0 && !done[j] {
                ready.push(Reverse((rank(j), j)));
            }
        }
    }
    order
}

/// The ordering constraints of [`order`]: the number of nodes (the statements, then the nodes that stand
/// for sets) and the edges `(before, after)`.
fn graph<S: std::borrow::Borrow<DeclaredStatement>>(
    statements: &[S],
    in_file_order: bool,
) -> (usize, Vec<(usize, usize)>) {
    let statements: Vec<&DeclaredStatement> = statements.iter().map(|s| s.borrow()).collect();
    let count = statements.len();
    // Overloads of a function share its key: a call waits for every one of them (which one it calls
    // is not known). Any other key is defined by its first statement.
    let mut definers: IndexMap<&ObjectKey, Vec<usize>> = IndexMap::new();
    for (i, s) in statements.iter().enumerate() {
        for key in &s.defines {
            let entry = definers.entry(key).or_default();
            if entry.is_empty() || matches!(key, ObjectKey::Function(..)) {
                entry.push(i);
            }
        }
    }
    // Nodes 0..count are the statements; the nodes after them stand for sets.
    let mut nodes = count;
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut add_node = || {
        nodes += 1;
        nodes - 1
    };
    // A name with several overloads is one node waiting for all of them, so that calls add one edge each.
    let mut overloads: IndexMap<&ObjectKey, usize> = IndexMap::new();
    for (key, defining) in &definers {
        if defining.len() > 1 {
            let node = add_node();
            edges.extend(defining.iter().map(|&d| (d, node)));
            overloads.insert(key, node);
        }
    }
    // `ALL … IN SCHEMA s` waits for every relation and function defined in `s`.
    let mut all_in: IndexMap<&str, usize> = IndexMap::new();
    for (i, s) in statements.iter().enumerate() {
        for key in &s.references {
            if let ObjectKey::AllIn(schema) = key {
                let node = *all_in.entry(schema.as_str()).or_insert_with(&mut add_node);
                edges.push((node, i));
            }
        }
    }
    // Default privileges apply to objects created after them: they go before every object (before
    // every schema, too, unless they name one).
    let (mut before_schemas, mut before_objects) = (None, None);
    for (i, s) in statements.iter().enumerate() {
        if s.defines.contains(&ObjectKey::DefaultPrivileges) {
            let global = !s.references.iter().any(|r| matches!(r, ObjectKey::Schema(_)));
            let node = if global { &mut before_schemas } else { &mut before_objects };
            edges.push((i, *node.get_or_insert_with(&mut add_node)));
        }
    }
    for (i, s) in statements.iter().enumerate() {
        for key in &s.defines {
            match key {
                ObjectKey::Relation(schema, _) | ObjectKey::Function(schema, _) => {
                    if let Some(&node) = all_in.get(schema.as_str())
                        && !s.references.contains(&ObjectKey::AllIn(schema.clone()))
                    {
                        edges.push((i, node));
                    }
                }
                _ => {}
            }
        }
        let creates_object = s
            .defines
            .iter()
            .any(|d| matches!(d, ObjectKey::Relation(..) | ObjectKey::Type(..) | ObjectKey::Function(..)));
        let creates_schema = s.defines.iter().any(|d| matches!(d, ObjectKey::Schema(_)));
        let is_default_privilege = s.defines.contains(&ObjectKey::DefaultPrivileges);
        if !is_default_privilege {
            if let Some(node) = before_schemas
                && (creates_object || creates_schema)
            {
                edges.push((node, i));
            }
            if let Some(node) = before_objects
                && creates_object
            {
                edges.push((node, i));
            }
        }
        for key in &s.references {
            if let Some(&node) = overloads.get(key) {
                // An overload calling its own name: which one it calls is not known, and waiting for
                // all of them would wait for itself.
                if !s.defines.contains(key) {
                    edges.push((node, i));
                }
            } else if let Some(&d) = definers.get(key).and_then(|d| d.first())
                && d != i
            {
                edges.push((d, i));
            }
        }
    }
    // A statement the parser could not read may need anything written before it (a comment on a
    // trigger, say): it waits for every earlier statement of its file list, through a chain of nodes,
    // each standing for the statements before one such statement.
    let mut before: Option<usize> = None;
    let mut from = 0;
    for (i, s) in statements.iter().enumerate() {
        if s.parsed || !in_file_order {
            continue;
        }
        let node = add_node();
        edges.extend(before.map(|b| (b, node)));
        edges.extend((from..i).map(|j| (j, node)));
        edges.push((node, i));
        (before, from) = (Some(node), i);
    }
    (nodes, edges)
}

/// What a `CREATE FUNCTION`, `PROCEDURE` or `AGGREGATE` statement that the parser cannot read defines (a
/// `BEGIN ATOMIC` body, a procedure, any aggregate), read from its tokens, so that what calls it is loaded
/// after it rather than before. An aggregate has no body: what it needs (its support functions and state
/// types, the user types among its arguments) is read too, and is then complete (the third value); a
/// function's or procedure's body stays unknown.
fn routine_by_keywords(sql: &str, dialect: &dyn Dialect) -> Option<(ObjectKey, Vec<ObjectKey>, bool)> {
    let tokens = Tokenizer::new(dialect, sql).tokenize().ok()?;
    let tokens: Vec<&Token> = tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF)).collect();
    let keyword = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_uppercase()),
        _ => None,
    };
    let mut at = 0;
    if keyword(tokens.first()?)? != "CREATE" {
        return None;
    }
    at += 1;
    if keyword(tokens.get(at)?).as_deref() == Some("OR") {
        at += 2;
    }
    let kind = keyword(tokens.get(at)?)?;
    if !matches!(kind.as_str(), "FUNCTION" | "PROCEDURE" | "AGGREGATE") {
        return None;
    }
    // A possibly qualified name starting at `at`: its folded parts and the index after it.
    let name_at = |mut at: usize| -> (Vec<String>, usize) {
        let mut parts = Vec::new();
        while let Some(Token::Word(w)) = tokens.get(at) {
            parts.push(if w.quote_style.is_some() { w.value.clone() } else { w.value.to_lowercase() });
            if !matches!(tokens.get(at + 1), Some(Token::Period)) {
                return (parts, at + 1);
            }
            at += 2;
        }
        (parts, at)
    };
    let qualified = |mut parts: Vec<String>| -> Option<(String, String)> {
        let name = parts.pop()?;
        Some((parts.pop().unwrap_or_else(|| default_schema(dialect).to_string()), name))
    };
    let (name, mut at) = name_at(at + 1);
    let (schema, name) = qualified(name)?;
    let defined = ObjectKey::Function(schema.clone(), name);
    let mut references = vec![ObjectKey::Schema(schema)];
    if kind != "AGGREGATE" {
        return Some((defined, references, false));
    }
    // Arguments, then `(OPTION = value, …)`: each name in the arguments may be a user type.
    let mut depth = 0usize;
    while let Some(token) = tokens.get(at) {
        match token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(_) if depth > 0 => {
                let option = keyword(token).unwrap_or_default();
                let follows_eq = matches!(tokens.get(at + 1), Some(Token::Eq));
                let (value, next) = if follows_eq { name_at(at + 2) } else { name_at(at) };
                let key = qualified(value);
                let function_option = matches!(
                    option.as_str(),
                    "SFUNC"
                        | "FINALFUNC"
                        | "COMBINEFUNC"
                        | "SERIALFUNC"
                        | "DESERIALFUNC"
                        | "MSFUNC"
                        | "MINVFUNC"
                        | "MFINALFUNC"
                );
                match key {
                    Some((s, n)) if follows_eq && function_option => references.push(ObjectKey::Function(s, n)),
                    Some((s, n)) => references.push(ObjectKey::Type(s, n)),
                    None => {}
                }
                at = next.max(at + 1);
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    let schemas: Vec<ObjectKey> = references
        .iter()
        .filter_map(|k| match k {
            ObjectKey::Function(s, _) | ObjectKey::Type(s, _) => Some(ObjectKey::Schema(s.clone())),
            _ => None,
        })
        .collect();
    references.extend(schemas);
    references.sort();
    references.dedup();
    references.retain(|r| *r != defined);
    Some((defined, references, true))
}

/// Where a `-- schema:…` comment of a `CREATE TABLE` statement belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnnotationPlace {
    /// Before the column list (between the table name and `(`, or before the statement's first token).
    Table,
    /// The column at this index of the column list: the comment ends that column's line, or stands on its
    /// own lines right before the column's definition.
    Column(usize),
}

/// The single-line comments of a `CREATE TABLE` statement's tokens that start with one of `marks`, each
/// with the mark, the text after it, the comment's token and where it belongs. A comment on its own line
/// inside the column list waits for the next column definition (table constraints are skipped); one that
/// no column follows is left out. `column_count` bounds the columns (what the parser read).
fn table_annotations<'t>(
    tokens: &'t [sqlparser::tokenizer::TokenWithSpan],
    column_count: usize,
    marks: &[&'static str],
) -> Vec<(&'static str, &'t str, &'t sqlparser::tokenizer::TokenWithSpan, AnnotationPlace)> {
    let mut out = Vec::new();
    let (mut depth, mut columns_seen, mut last_code_line) = (0usize, 0usize, 0u64);
    // The column being read (or last read) at depth 1, and whether the next word starts a definition.
    let mut column_index: Option<usize> = None;
    let mut expecting_column = false;
    let mut pending = Vec::new();
    for token in tokens {
        match &token.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                let comment = comment.trim();
                let Some((mark, text)) = marks.iter().find_map(|m| Some((*m, comment.strip_prefix(m)?))) else {
                    continue;
                };
                match (depth, column_index) {
                    (0, _) => out.push((mark, text, token, AnnotationPlace::Table)),
                    (_, Some(i)) if token.span.start.line == last_code_line => {
                        out.push((mark, text, token, AnnotationPlace::Column(i)))
                    }
                    _ => pending.push((mark, text, token)),
                }
            }
            Token::Whitespace(_) => {}
            Token::LParen => {
                depth += 1;
                expecting_column |= depth == 1;
                last_code_line = token.span.end.line;
            }
            Token::RParen => {
                depth = depth.saturating_sub(1);
                last_code_line = token.span.end.line;
            }
            Token::Comma if depth == 1 => {
                expecting_column = true;
                last_code_line = token.span.end.line;
            }
            _ => {
                if depth == 1 && expecting_column {
                    expecting_column = false;
                    let starts_constraint = matches!(&token.token, Token::Word(w) if w.quote_style.is_none()
                        && ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "EXCLUDE", "LIKE"]
                            .contains(&w.value.to_uppercase().as_str()));
                    column_index = None;
                    if !starts_constraint && columns_seen < column_count {
                        column_index = Some(columns_seen);
                        let place = AnnotationPlace::Column(columns_seen);
                        out.extend(pending.drain(..).map(|(mark, text, token)| (mark, text, token, place)));
                        columns_seen += 1;
                    }
                }
                last_code_line = token.span.end.line;
            }
        }
    }
    out
}

/// Conversion annotations of columns, `-- schema:using <expression>` and `-- schema:down-using
/// <expression>`, in the places a column's `-- schema:renamed-from` goes: on their own lines right before
/// the column definition, or at the end of its line. Each is one line; a column takes at most one of each.
pub fn conversions(
    statements: &[DeclaredStatement],
    dialect: &dyn Dialect,
) -> Result<Vec<DeclaredConversion>, DeclaredError> {
    const USING: &str = "schema:using";
    const DOWN_USING: &str = "schema:down-using";
    let mut out: Vec<DeclaredConversion> = Vec::new();
    for statement in statements {
        if !statement.sql.contains(USING) && !statement.sql.contains(DOWN_USING) {
            continue;
        }
        let Ok(parsed) = Parser::parse_sql(dialect, &statement.sql) else { continue };
        let [Statement::CreateTable(table)] = parsed.as_slice() else { continue };
        let Some((schema, name)) = qualify(&table.name) else { continue };
        let schema = if name_parts(&table.name).len() < 2 { default_schema(dialect).to_string() } else { schema };
        let offsets = LineOffsets::new(&statement.sql);
        let tokens = Tokenizer::new(dialect, &statement.sql).tokenize_with_location().unwrap_or_default();
        // `schema:down-using` first: `schema:using` is not its prefix, but the order keeps that obvious.
        for (mark, text, token, place) in table_annotations(&tokens, table.columns.len(), &[DOWN_USING, USING]) {
            let byte = offsets.byte(token.span.start.line, token.span.start.column);
            let location = statement.location.advance(&statement.sql, statement.sql[..byte].chars().count() + 1);
            let text = text.trim().trim_end_matches(';').trim().to_string();
            if text.is_empty() {
                return Err(DeclaredError::Syntax {
                    location,
                    message: "`-- schema:using` and `-- schema:down-using` need a SQL expression".into(),
                });
            }
            let AnnotationPlace::Column(index) = place else { continue };
            let Some(column) = table.columns.get(index) else { continue };
            let column = fold(&column.name);
            let position = out.iter().position(|c| c.schema == schema && c.table == name && c.column == column);
            let entry = match position {
                Some(i) => &mut out[i],
                None => {
                    out.push(DeclaredConversion {
                        location: Some(location.clone()),
                        schema: schema.clone(),
                        table: name.clone(),
                        column: column.clone(),
                        ..Default::default()
                    });
                    out.last_mut().expect("just pushed")
                }
            };
            let slot = if mark == DOWN_USING { &mut entry.down_using } else { &mut entry.using };
            if slot.is_some() {
                return Err(DeclaredError::Syntax {
                    location,
                    message: format!("column {column} has a second `-- {mark}` annotation; give one expression"),
                });
            }
            *slot = Some(text);
        }
    }
    Ok(out)
}

/// Rename annotations, `-- schema:renamed-from old_name`:
/// - right before a `CREATE TABLE` statement, or between the table name and `(`: the table was renamed;
/// - on its own line before a column definition: that column was renamed;
/// - at the end of a column definition's line (after the comma, if any): that column was renamed.
pub fn renames(statements: &[DeclaredStatement], dialect: &dyn Dialect) -> Result<DeclaredRenames, DeclaredError> {
    const MARK: &str = "schema:renamed-from";
    let mut out = DeclaredRenames::default();
    for statement in statements {
        if !statement.sql.contains(MARK) && !statement.leading_comments.contains(MARK) {
            continue;
        }
        let tokens = Tokenizer::new(dialect, &statement.sql).tokenize_with_location().unwrap_or_default();
        // The table's name and its columns' names, from the parser or, for what it cannot read (SQLite's
        // NOT GLOB, STRICT ANY…), from the tokens: a hint is never dropped because the rest of the
        // statement is beyond the parser. SQLite keeps unquoted names as written; PostgreSQL folds them.
        let sqlite = dialect.is::<sqlparser::dialect::SQLiteDialect>();
        let fold = |ident: &sqlparser::ast::Ident| if sqlite { ident.value.clone() } else { fold(ident) };
        let (name_idents, column_names): (Vec<sqlparser::ast::Ident>, Vec<String>) =
            match Parser::parse_sql(dialect, &statement.sql).as_deref() {
                Ok([Statement::CreateTable(table)]) => (
                    table.name.0.iter().filter_map(|p| p.as_ident().cloned()).collect(),
                    table.columns.iter().map(|c| fold(&c.name)).collect(),
                ),
                Ok(_) => continue,
                Err(_) => match create_table_names(&tokens) {
                    Some((name, columns)) => (name, columns.iter().map(&fold).collect()),
                    None => continue,
                },
            };
        let Some(name) = name_idents.last().map(&fold) else { continue };
        let schema = match name_idents.len() {
            1 => default_schema(dialect).to_string(),
            n => fold(&name_idents[n - 2]),
        };
        let new_table = (schema.clone(), name.clone());
        for line in statement.leading_comments.lines() {
            if let Some(old) = line.trim().strip_prefix(MARK) {
                out.tables.push(((schema.clone(), old.trim().to_string()), new_table.clone()));
            }
        }
        let mut renamed_columns: Vec<(usize, String)> = Vec::new();
        for (_, old, _, place) in table_annotations(&tokens, column_names.len(), &[MARK]) {
            let old = old.trim().to_string();
            match place {
                AnnotationPlace::Table => out.tables.push(((schema.clone(), old), new_table.clone())),
                // Of two hints for one column, the one nearest its definition counts.
                AnnotationPlace::Column(i) => match renamed_columns.iter_mut().find(|(c, _)| *c == i) {
                    Some(slot) => slot.1 = old,
                    None => renamed_columns.push((i, old)),
                },
            }
        }
        for (i, old) in renamed_columns {
            out.columns.push((schema.clone(), name.clone(), old, column_names[i].clone()));
        }
    }
    Ok(out)
}

/// The name parts and column names of a `CREATE [TEMP] TABLE [IF NOT EXISTS] name (…)` read from its
/// tokens: a column is the first word after `(` or a comma at depth 1 that does not start a table
/// constraint. `None` for anything else (`AS SELECT`, no column list).
pub(crate) fn create_table_names(
    tokens: &[sqlparser::tokenizer::TokenWithSpan],
) -> Option<(Vec<sqlparser::ast::Ident>, Vec<sqlparser::ast::Ident>)> {
    let mut words = tokens.iter().map(|t| &t.token).filter(|t| !matches!(t, Token::Whitespace(_))).peekable();
    let keyword = |t: Option<&Token>, k: &str| matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    if !keyword(words.next(), "CREATE") {
        return None;
    }
    let mut next = words.next();
    while ["TEMP", "TEMPORARY", "UNLOGGED"].iter().any(|k| keyword(next, k)) {
        next = words.next();
    }
    if !keyword(next, "TABLE") {
        return None;
    }
    let ident = |t: Option<&Token>| match t {
        Some(Token::Word(w)) => {
            Some(sqlparser::ast::Ident { value: w.value.clone(), quote_style: w.quote_style, span: Span::empty() })
        }
        _ => None,
    };
    let mut first = words.next();
    if keyword(first, "IF") {
        if !keyword(words.next(), "NOT") || !keyword(words.next(), "EXISTS") {
            return None;
        }
        first = words.next();
    }
    let mut name = vec![ident(first)?];
    while words.peek() == Some(&&Token::Period) {
        words.next();
        name.push(ident(words.next())?);
    }
    if words.next() != Some(&Token::LParen) {
        return None;
    }
    let (mut depth, mut expecting, mut columns) = (1usize, true, Vec::new());
    for token in words {
        match token {
            Token::LParen => depth += 1,
            Token::RParen if depth == 1 => break,
            Token::RParen => depth -= 1,
            Token::Comma if depth == 1 => expecting = true,
            _ if depth == 1 && expecting => {
                expecting = false;
                let constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "EXCLUDE", "LIKE"]
                    .iter()
                    .any(|k| keyword(Some(token), k));
                if !constraint {
                    columns.push(ident(Some(token))?);
                }
            }
            _ => {}
        }
    }
    Some((name, columns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;

    fn statements(sql: &str) -> Vec<DeclaredStatement> {
        split(Path::new("schema/app.sql"), sql, &PostgreSqlDialect {}).unwrap()
    }

    /// Statements, locations and comments from the text tokenized in segments cut at every top-level
    /// semicolon, against the text tokenized whole.
    fn split_both_ways(sql: &str, dialect: &dyn Dialect) -> (usize, Vec<String>, Vec<String>) {
        let file = Path::new("schema/app.sql");
        let show = |r: Vec<RawStatement>| {
            r.into_iter().map(|r| format!("{}|{}|{}", r.location, r.sql, r.leading_comments)).collect::<Vec<_>>()
        };
        let ends = segment_ends(sql, 1);
        let segmented = show(split_segments(file, sql, dialect, &ends).unwrap());
        let whole = show(split_segments(file, sql, dialect, &[sql.len()]).unwrap());
        (ends.len(), segmented, whole)
    }

    #[test]
    fn rename_and_conversion_annotations_attach_to_the_column_they_stand_before_or_end() {
        let sql = "-- schema:renamed-from old_t\nCREATE TABLE t (\n  -- schema:renamed-from a0\n  \
                   -- schema:using a::int\n  a int, -- schema:down-using a::text\n  CONSTRAINT c CHECK (a > 0),\n  \
                   -- schema:renamed-from b0\n  b text -- schema:renamed-from b1\n);";
        let statements = statements(sql);
        let renames = renames(&statements, &PostgreSqlDialect {}).unwrap();
        let pair = |s: &str, n: &str| (s.to_string(), n.to_string());
        assert_eq!(renames.tables, vec![(pair("public", "old_t"), pair("public", "t"))]);
        let columns: Vec<(&str, &str)> = renames.columns.iter().map(|c| (c.2.as_str(), c.3.as_str())).collect();
        // The table constraint between them takes no hint; of b's two hints the one ending its line counts.
        assert_eq!(columns, vec![("a0", "a"), ("b1", "b")]);
        let conversions = conversions(&statements, &PostgreSqlDialect {}).unwrap();
        let found: Vec<_> =
            conversions.iter().map(|c| (c.column.as_str(), c.using.as_deref(), c.down_using.as_deref())).collect();
        assert_eq!(found, vec![("a", Some("a::int"), Some("a::text"))]);
    }

    #[test]
    fn tokenizing_in_segments_splits_like_tokenizing_whole() {
        let sql = "-- schema:renamed-from a\nCREATE TABLE \"t;x\" (a text DEFAULT 'x;''y' CHECK (a <> E'\\';'));\n\
                   /* c; /* nested; */ still; */ CREATE VIEW v AS SELECT $$;$$ AS d, $tag$ ; $x$ $tag$ AS e;\n\
                   COMMENT ON TABLE \"t;x\" IS 'é;ü'; CREATE INDEX i ON \"t;x\" (a) WHERE a <> ';';  \n\
                   CREATE TABLE u (b int)";
        let (ends, segmented, whole) = split_both_ways(sql, &PostgreSqlDialect {});
        assert_eq!(ends, 5, "one cut after each top-level semicolon but the last");
        assert_eq!(whole.len(), 5);
        assert_eq!(segmented, whole);

        let trigger = "CREATE TABLE t (a int);\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET a = 1;\n  \
                       SELECT CASE WHEN 1 THEN 2 END;\nEND;\nCREATE VIEW `v;w` AS SELECT [a] FROM t;";
        let (ends, segmented, whole) = split_both_ways(trigger, &sqlparser::dialect::SQLiteDialect {});
        assert!(ends > 3);
        assert_eq!(whole.len(), 3);
        assert_eq!(segmented, whole);
    }

    #[test]
    fn a_cut_that_is_not_a_token_boundary_fails_so_the_text_is_tokenized_whole() {
        // The fallback of `split_statements` relies on this: a segment that ends inside a string, a quoted
        // identifier, a block comment or a dollar quote does not tokenize.
        let file = Path::new("schema/app.sql");
        for sql in ["SELECT 'a;b'; SELECT 1;", "SELECT \"a;b\"; SELECT 1;", "/* a; */ SELECT 1;", "SELECT $$a;b$$;"] {
            let inside = sql.find(';').unwrap() + 1;
            assert!(split_segments(file, sql, &PostgreSqlDialect {}, &[inside, sql.len()]).is_err(), "{sql}");
            assert_eq!(
                split_statements(file, sql, &PostgreSqlDialect {}).unwrap().len(),
                sql.matches("SELECT").count()
            );
        }
        // The scan does not know SQLite's bracket quotes: it cuts inside one, and the text is tokenized whole.
        let sql = "CREATE VIEW v AS SELECT [a;b] FROM t;";
        let dialect = sqlparser::dialect::SQLiteDialect {};
        let ends = segment_ends(sql, 1);
        assert_eq!(ends.len(), 2);
        assert!(split_segments(file, sql, &dialect, &ends).is_err());
        assert_eq!(split_statements(file, sql, &dialect).unwrap().len(), 1);
    }

    #[test]
    fn a_last_statement_without_semicolon_is_kept() {
        let parts = statements("CREATE TABLE a (x int);\nCREATE TABLE b (y int)\n-- trailing comment\n");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].sql, "CREATE TABLE b (y int)\n-- trailing comment");
        assert_eq!(statements("-- only a comment\n").len(), 0);
    }

    #[test]
    fn splits_on_top_level_semicolons_only() {
        let sql = "CREATE TABLE \"a;b\" (x text DEFAULT ';');\n-- c; d\nCREATE VIEW v AS SELECT $$;$$ AS s;\n";
        let parts = statements(sql);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].location.line, 3);
        assert_eq!(parts[1].sql, "CREATE VIEW v AS SELECT $$;$$ AS s");
    }

    #[test]
    fn orders_statements_by_dependency() {
        let sql = "CREATE VIEW v AS SELECT * FROM app.t;\nCREATE TABLE app.t (m app.mood, u int REFERENCES u);\n\
                   CREATE TYPE app.mood AS ENUM ('a');\nCREATE SCHEMA app;\nCREATE TABLE u (id int PRIMARY KEY);";
        let ordered: Vec<String> = order(statements(sql)).into_iter().map(|s| s.sql).collect();
        let pos = |prefix: &str| ordered.iter().position(|s| s.starts_with(prefix)).unwrap();
        assert!(pos("CREATE SCHEMA") < pos("CREATE TYPE"));
        assert!(pos("CREATE TYPE") < pos("CREATE TABLE app.t"));
        assert!(pos("CREATE TABLE u") < pos("CREATE TABLE app.t"));
        assert!(pos("CREATE TABLE app.t") < pos("CREATE VIEW"));
    }

    /// A call cannot tell which overload it means: it waits for every function of its name, and a
    /// set-returning function in FROM is a call too.
    #[test]
    fn a_call_waits_for_every_overload_and_for_functions_in_from() {
        let sql = "CREATE FUNCTION z(i int) RETURNS SETOF int LANGUAGE sql AS $$ SELECT i $$;\n\
                   CREATE FUNCTION a() RETURNS int LANGUAGE sql AS $$ SELECT b('x') $$;\n\
                   CREATE FUNCTION b(i int) RETURNS int LANGUAGE sql AS $$ SELECT i $$;\n\
                   CREATE FUNCTION b(t text) RETURNS int LANGUAGE sql AS $$ SELECT length(t) $$;\n\
                   CREATE FUNCTION c() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM y(1) $$;\n\
                   CREATE FUNCTION y(i int) RETURNS SETOF int LANGUAGE sql AS $$ SELECT i $$;";
        let ordered: Vec<String> = order(statements(sql)).into_iter().map(|s| s.sql).collect();
        let pos = |prefix: &str| ordered.iter().position(|s| s.starts_with(prefix)).unwrap();
        assert!(pos("CREATE FUNCTION b(t text)") < pos("CREATE FUNCTION a()"), "{ordered:#?}");
        assert!(pos("CREATE FUNCTION y") < pos("CREATE FUNCTION c()"), "{ordered:#?}");
    }

    #[test]
    fn unmanaged_statements_are_named_with_their_location() {
        let err = split(
            Path::new("f.sql"),
            "\n  CREATE OPERATOR === (FUNCTION = int4eq, LEFTARG = int, RIGHTARG = int);",
            &PostgreSqlDialect {},
        )
        .unwrap_err();
        assert_eq!(err.to_string().split(" is not managed").next(), Some("f.sql:2:3: CREATE OPERATOR"));
    }

    #[test]
    fn conversion_annotations_before_a_column_or_at_the_end_of_its_line() {
        let sql = "CREATE TABLE app.events (\n\
                   \x20   id int,\n\
                   \x20   -- schema:using to_timestamp(started)\n\
                   \x20   -- schema:down-using extract(epoch FROM started)::integer\n\
                   \x20   started timestamptz,\n\
                   \x20   \"Ended\" timestamp, -- schema:using to_timestamp(\"Ended\") AT TIME ZONE 'UTC';\n\
                   \x20   CONSTRAINT c CHECK (id > 0) -- schema:using ignored, not a column\n\
                   );\n\
                   CREATE TABLE plain (x int);";
        let found = conversions(&statements(sql), &PostgreSqlDialect {}).unwrap();
        let found: Vec<(&str, &str, Option<&str>, Option<&str>)> = found
            .iter()
            .map(|c| (c.table.as_str(), c.column.as_str(), c.using.as_deref(), c.down_using.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("events", "started", Some("to_timestamp(started)"), Some("extract(epoch FROM started)::integer")),
                ("events", "Ended", Some("to_timestamp(\"Ended\") AT TIME ZONE 'UTC'"), None),
            ]
        );
        let twice = "CREATE TABLE t (\n  -- schema:using a\n  -- schema:using b\n  a text\n);";
        let err = conversions(&statements(twice), &PostgreSqlDialect {}).unwrap_err().to_string();
        assert!(err.starts_with("schema/app.sql:3:3: column a has a second `-- schema:using` annotation"), "{err}");
    }

    #[test]
    fn unterminated_string_is_a_located_syntax_error() {
        let err = split(
            Path::new("f.sql"),
            "CREATE TABLE t (a text);\nCREATE TABLE u (b text DEFAULT 'x);",
            &PostgreSqlDialect {},
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("f.sql:2:"), "{err}");
    }

    /// The lines pg_dump 13–18 writes around the schema, with and without `--no-owner --no-privileges`.
    const DUMP_PREAMBLE: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict aB3dE5fG7\n\n\
        SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET idle_in_transaction_session_timeout = 0;\n\
        SET transaction_timeout = 0;\nSET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n\
        SELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\n\
        SET xmloption = content;\nSET client_min_messages = warning;\nSET row_security = off;\n\
        SET default_with_oids = false;\nSET default_tablespace = '';\nSET default_table_access_method = heap;\n";

    #[test]
    fn psql_meta_commands_are_statements_of_their_own_that_are_not_schema() {
        let sql = format!(
            "{DUMP_PREAMBLE}\nCREATE TABLE public.t (a int);\n\n\\unrestrict aB3dE5fG7\n\\connect -reuse-previous=on \"dbname='x'\"\nCREATE TABLE public.u (b int)"
        );
        let parts = statements(&sql);
        let meta: Vec<String> = parts
            .iter()
            .filter(|s| s.not_schema == Some(NotSchema::MetaCommand))
            .map(|s| format!("{}|{}", s.location, s.sql))
            .collect();
        assert_eq!(
            meta,
            [
                "schema/app.sql:5:1|\\restrict aB3dE5fG7",
                "schema/app.sql:24:1|\\unrestrict aB3dE5fG7",
                "schema/app.sql:25:1|\\connect -reuse-previous=on \"dbname='x'\""
            ]
        );
        let schema: Vec<String> =
            parts.iter().filter(|s| s.not_schema.is_none()).map(|s| format!("{}|{}", s.location, s.sql)).collect();
        assert_eq!(
            schema,
            ["schema/app.sql:22:1|CREATE TABLE public.t (a int)", "schema/app.sql:26:1|CREATE TABLE public.u (b int)"]
        );
    }

    #[test]
    fn pg_dump_session_settings_are_not_schema_and_settings_that_change_meaning_are_kept() {
        let parts = statements(DUMP_PREAMBLE);
        assert_eq!(parts.len(), 15);
        let kept: Vec<&str> = parts.iter().filter(|s| s.not_schema.is_none()).map(|s| s.sql.as_str()).collect();
        assert_eq!(kept, Vec::<&str>::new());
        // Settings that change how what follows is read are loaded as written, and set_config is not an
        // unmanaged SELECT.
        for sql in [
            "SET search_path = app, public",
            "SELECT pg_catalog.set_config('search_path', 'app', false)",
            "SET standard_conforming_strings = off",
            "SET TIME ZONE 'Europe/Paris'",
            "SET default_table_access_method = columnar",
        ] {
            let parsed = statements(sql);
            assert_eq!(parsed.len(), 1, "{sql}");
            assert_eq!(parsed[0].not_schema, None, "{sql}");
        }
    }

    #[test]
    fn owners_are_set_apart_with_one_warning_while_they_are_not_managed() {
        let sql = "CREATE SCHEMA app AUTHORIZATION app_owner;\nCREATE TABLE app.t (a int);\n\
                   ALTER TABLE app.t OWNER TO app_owner;\nALTER FUNCTION app.f(integer, text) OWNER TO app_owner;\n\
                   ALTER TYPE app.mood OWNER TO app_owner;\nSET SESSION AUTHORIZATION app_owner;\n\
                   ALTER TABLE app.t OWNER TO app_owner, ADD COLUMN b int;\nSET lock_timeout = 0;";
        let dialect = PostgreSqlDialect {};
        let prepared = prepare(statements(sql), false, &dialect);
        let kept: Vec<&str> = prepared.statements.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            kept,
            [
                "CREATE SCHEMA app AUTHORIZATION app_owner",
                "CREATE TABLE app.t (a int)",
                "ALTER TABLE app.t OWNER TO app_owner, ADD COLUMN b int"
            ]
        );
        assert_eq!(prepared.notes.len(), 2, "{:?}", prepared.notes);
        assert!(prepared.notes[0].contains("skipped 1 ") && prepared.notes[0].contains("schema/app.sql:8:1"));
        assert!(
            prepared.notes[1]
                .starts_with("warning: ignored the owners set by 6 statement(s) (the first at schema/app.sql:1:1)")
        );
        assert!(prepared.notes[1].contains("`[ownership]`"), "{}", prepared.notes[1]);
        // Managed owners load as written.
        let prepared = prepare(statements(sql), true, &dialect);
        assert_eq!(prepared.statements.len(), 7);
        assert_eq!(prepared.notes.len(), 1);
    }

    #[test]
    fn a_statement_the_parser_cannot_read_still_comes_before_what_uses_it() {
        // pg_dump writes START WITH first, which the parser does not read; the table's default needs the
        // sequence, and the function (ordered late) comes before the sequence in file order.
        let sql = "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'select 1';\n\
                   CREATE SEQUENCE public.s START WITH 1 INCREMENT BY 1;\n\
                   CREATE TABLE public.t (id integer NOT NULL DEFAULT nextval('public.s'));\n\
                   CREATE MATERIALIZED VIEW public.m AS SELECT id FROM public.t WITH NO DATA;\n\
                   CREATE INDEX m_id ON public.m (id);";
        let parsed = statements(sql);
        assert!(!parsed[1].parsed && !parsed[3].parsed, "the fixture must hold statements the parser cannot read");
        let ordered: Vec<String> = order(parsed).into_iter().map(|s| s.sql).collect();
        let pos = |prefix: &str| ordered.iter().position(|s| s.starts_with(prefix)).unwrap();
        assert!(pos("CREATE SEQUENCE") < pos("CREATE TABLE"), "{ordered:#?}");
        assert!(pos("CREATE MATERIALIZED VIEW") < pos("CREATE INDEX"), "{ordered:#?}");
        assert!(pos("CREATE FUNCTION") < pos("CREATE SEQUENCE"), "{ordered:#?}");
    }

    #[test]
    fn ordering_takes_a_number_of_edges_linear_in_the_statements() {
        // Statements the parser cannot read wait for every earlier one; a GRANT on every table of a schema
        // waits for each of them; default privileges come before every object.
        let mut sql = String::from("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;\n");
        for i in 0..2_000 {
            sql.push_str(&format!(
                "CREATE SEQUENCE public.s{i} START WITH 1 INCREMENT BY 1;\nCREATE TABLE public.t{i} (a int);\n\
                 GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;\n"
            ));
        }
        let parsed = statements(&sql);
        assert_eq!(parsed.iter().filter(|s| !s.parsed).count(), 2_000, "the sequences are not read by the parser");
        let (nodes, edges) = graph(&parsed, true);
        assert!(nodes < 3 * parsed.len(), "{nodes} nodes for {} statements", parsed.len());
        assert!(edges.len() < 6 * parsed.len(), "{} edges for {} statements", edges.len(), parsed.len());
        let ordered = order(parsed);
        let pos = |sql: &str| ordered.iter().position(|s| s.sql == sql).unwrap();
        assert!(
            pos("CREATE TABLE public.t1999 (a int)") < pos("GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC")
        );
        assert_eq!(pos("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC"), 0);
        assert!(pos("CREATE TABLE public.t5 (a int)") < pos("CREATE SEQUENCE public.s6 START WITH 1 INCREMENT BY 1"));
    }

    #[test]
    fn a_round_of_retries_orders_unread_statements_by_what_they_name() {
        // m0 reads m1, m1 reads m2, …: written backwards, and the parser reads none of them.
        let sql: String = (0..50)
            .map(|i| format!("CREATE MATERIALIZED VIEW public.m{i} AS SELECT * FROM public.m{} WITH NO DATA;\n", i + 1))
            .collect();
        let parsed = statements(&sql);
        assert!(parsed.iter().all(|s| !s.parsed), "the parser must not read the fixture");
        let name = |s: &DeclaredStatement| s.sql.split_whitespace().nth(3).unwrap_or_default().to_string();
        // The first round keeps them in file order (each waits for those written before it) …
        let first: Vec<String> = order(parsed.clone()).iter().map(name).collect();
        assert_eq!(first[..2], ["public.m0", "public.m1"]);
        // … and once they have failed, the next round takes them in the order of what they name.
        let retried: Vec<String> = retry_order(&parsed.iter().collect::<Vec<_>>()).into_iter().map(name).collect();
        let expected: Vec<String> = (0..50).rev().map(|i| format!("public.m{i}")).collect();
        assert_eq!(retried, expected);
    }

    #[test]
    fn an_inheriting_table_references_its_parents_and_is_refused_for_sqlite() {
        let parsed =
            split(Path::new("f.sql"), "CREATE TABLE c (b int) INHERITS (p, s.q);", &PostgreSqlDialect {}).unwrap();
        let references = &parsed[0].references;
        for parent in [ObjectKey::Relation("public".into(), "p".into()), ObjectKey::Relation("s".into(), "q".into())] {
            assert!(references.contains(&parent), "{references:?}");
        }
        let sqlite = sqlparser::dialect::SQLiteDialect {};
        if let Err(err) = split(Path::new("f.sql"), "CREATE TABLE c (b int) INHERITS (p);", &sqlite) {
            assert!(err.to_string().contains("table inheritance (CREATE TABLE … INHERITS) is not managed"), "{err}");
        }
    }

    #[test]
    fn rename_annotations_in_every_documented_place() {
        let sql = "-- schema:renamed-from tickets\nCREATE TABLE issues (\n  id int,\n  -- schema:renamed-from summary\n  title text,\n  \
                   CONSTRAINT pk PRIMARY KEY (id),\n  body text, -- schema:renamed-from description\n  n int\n);\n\
                   CREATE TABLE people -- schema:renamed-from persons\n(id int);";
        let found = renames(&statements(sql), &PostgreSqlDialect {}).unwrap();
        let table = |a: &str, b: &str| (("public".to_string(), a.to_string()), ("public".to_string(), b.to_string()));
        assert_eq!(found.tables, vec![table("tickets", "issues"), table("persons", "people")]);
        let column = |a: &str, b: &str| ("public".to_string(), "issues".to_string(), a.to_string(), b.to_string());
        assert_eq!(found.columns, vec![column("summary", "title"), column("description", "body")]);
    }

    /// SQLite: a hint on a table the parser cannot read (NOT GLOB, STRICT ANY) is still read (it was
    /// dropped, and the rename became a drop and a create that lost every row), and unquoted names keep
    /// their case, as SQLite stores them.
    #[test]
    fn sqlite_rename_annotations_on_statements_the_parser_cannot_read() {
        let dialect = sqlparser::dialect::SQLiteDialect {};
        let sql = "CREATE TABLE IF NOT EXISTS main.Issues -- schema:renamed-from Tickets\n(\n  \"id;x\" INTEGER PRIMARY KEY,\n                     -- schema:renamed-from Summary\n  Title TEXT CHECK (Title NOT GLOB '*x*'),\n                     CONSTRAINT u UNIQUE (Title),\n  Body ANY -- schema:renamed-from Description\n) STRICT;\n\
                   CREATE TABLE People -- schema:renamed-from Persons\n(id INTEGER, name TEXT);";
        assert!(Parser::parse_sql(&dialect, sql).is_err(), "the test needs a statement the parser rejects");
        let statements = split(Path::new("schema/app.sql"), sql, &dialect).unwrap();
        let found = renames(&statements, &dialect).unwrap();
        let table = |a: &str, b: &str| (("main".to_string(), a.to_string()), ("main".to_string(), b.to_string()));
        assert_eq!(found.tables, vec![table("Tickets", "Issues"), table("Persons", "People")]);
        let column = |a: &str, b: &str| ("main".to_string(), "Issues".to_string(), a.to_string(), b.to_string());
        assert_eq!(found.columns, vec![column("Summary", "Title"), column("Description", "Body")]);
    }
}
