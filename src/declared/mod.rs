//! The declared side: reads `*.sql` under the schema directory, splits it into statements with
//! sqlparser's tokenizer (so dollar quotes, comments and quoted identifiers are handled), learns from
//! each statement's AST which object it defines and which it references, and orders the statements so
//! that each one comes after what it needs. Statements the parser cannot analyse are kept, in file
//! order. This module is the only one that sees sqlparser's AST.

use indexmap::IndexMap;
use petgraph::graph::DiGraph;
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
            let mut statement = analyse(raw.location, &raw.sql, dialect)?;
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

fn analyse(location: SourceLocation, sql: &str, dialect: &dyn Dialect) -> Result<DeclaredStatement, DeclaredError> {
    let mut statement = DeclaredStatement {
        location: location.clone(),
        sql: sql.to_string(),
        defines: Vec::new(),
        references: Vec::new(),
        parsed: false,
        leading_comments: String::new(),
        outside_transaction: false,
    };
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
        if let Some((defined, references, complete)) = routine_by_keywords(sql, dialect) {
            statement.defines = vec![defined];
            statement.references = references;
            statement.parsed = complete;
            return Ok(statement);
        }
        // The database will judge it; without an AST it loads in file order.
        if let Some(kind) = unmanaged_by_keywords(sql, dialect) {
            return Err(DeclaredError::Unmanaged { location, kind });
        }
        return Ok(statement);
    };
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
        // Table inheritance (INHERITS) is not managed; partitioning is.
        Statement::CreateTable(t) => t.inherits.is_none(),
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
        // Owners (compared only when ownership is managed: see `owner_statements`).
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

/// Where the declared files give an object its owner (`ALTER … OWNER TO`, `CREATE SCHEMA …
/// AUTHORIZATION`): allowed only when ownership is managed, else the owner would be silently ignored.
pub fn owner_statements(statements: &[DeclaredStatement], dialect: &dyn Dialect) -> Vec<SourceLocation> {
    statements
        .iter()
        .filter(|s| {
            !words_after(&s.sql, dialect, &["OWNER", "TO"]).is_empty()
                || (leading_keywords(&s.sql, dialect) == "CREATE SCHEMA"
                    && !words_after(&s.sql, dialect, &["AUTHORIZATION"]).is_empty())
        })
        .map(|s| s.location.clone())
        .collect()
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

/// The relations (schema, name) a `LANGUAGE sql` function body in a string reads or writes, or `None`
/// where the parser cannot read it; unqualified names resolve to `public`. Used to order functions after the
/// tables they need, which PostgreSQL does not record for such bodies.
pub fn sql_body_relations(body: &str) -> Option<Vec<(String, String)>> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    Parser::parse_sql(&dialect, body).ok()?;
    let mut out: Vec<(String, String)> = body_references(body)
        .into_iter()
        .filter_map(|k| match k {
            ObjectKey::Relation(s, n) => Some((s, n)),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// Orders statements so that each comes after the statements defining what it references. Schemas
/// and extensions go first; otherwise file order is kept. A dependency cycle is broken at the
/// earliest statement in file order (the database then reports the real problem, if any).
pub fn order(statements: Vec<DeclaredStatement>) -> Vec<DeclaredStatement> {
    let mut definers: IndexMap<&ObjectKey, usize> = IndexMap::new();
    for (i, s) in statements.iter().enumerate() {
        for key in &s.defines {
            definers.entry(key).or_insert(i);
        }
    }
    let mut graph: DiGraph<usize, ()> = DiGraph::new();
    let nodes: Vec<_> = (0..statements.len()).map(|i| graph.add_node(i)).collect();
    // `ALL … IN SCHEMA s` waits for every relation and function defined in `s`.
    let mut in_schema: IndexMap<&str, Vec<usize>> = IndexMap::new();
    for (i, s) in statements.iter().enumerate() {
        for key in &s.defines {
            if let ObjectKey::Relation(schema, _) | ObjectKey::Function(schema, _) = key {
                in_schema.entry(schema.as_str()).or_default().push(i);
            }
        }
    }
    for (i, s) in statements.iter().enumerate() {
        for key in &s.references {
            if let ObjectKey::AllIn(schema) = key {
                for &d in in_schema.get(schema.as_str()).into_iter().flatten() {
                    if d != i {
                        graph.add_edge(nodes[d], nodes[i], ());
                    }
                }
            }
        }
    }
    for (i, s) in statements.iter().enumerate() {
        for key in &s.references {
            if let Some(&d) = definers.get(key)
                && d != i
            {
                graph.update_edge(nodes[d], nodes[i], ());
            }
        }
    }
    // Default privileges apply to objects created after them: they go before every object (before
    // every schema, too, unless they name one).
    for (i, s) in statements.iter().enumerate() {
        if !s.defines.contains(&ObjectKey::DefaultPrivileges) {
            continue;
        }
        let global = !s.references.iter().any(|r| matches!(r, ObjectKey::Schema(_)));
        for (j, other) in statements.iter().enumerate() {
            let creates = other.defines.iter().any(|d| match d {
                ObjectKey::Schema(_) => global,
                ObjectKey::Relation(..) | ObjectKey::Type(..) | ObjectKey::Function(..) => true,
                _ => false,
            });
            if j != i && creates {
                graph.update_edge(nodes[i], nodes[j], ());
            }
        }
    }
    // A statement the parser could not read may need anything written before it (a comment on a
    // trigger, say): it waits for every earlier statement of its file list.
    for (i, s) in statements.iter().enumerate() {
        if !s.parsed {
            for &earlier in &nodes[..i] {
                graph.add_edge(earlier, nodes[i], ());
            }
        }
    }
    let rank = |i: usize| -> u8 {
        match statements[i].defines.first() {
            Some(ObjectKey::Schema(_)) => 0,
            Some(ObjectKey::Extension(_)) => 1,
            // Functions wait for everything that does not need them: a body is checked on creation.
            Some(ObjectKey::Function(..)) => 3,
            _ => 2,
        }
    };
    let mut indegree: Vec<usize> =
        nodes.iter().map(|&n| graph.neighbors_directed(n, petgraph::Incoming).count()).collect();
    let mut done = vec![false; statements.len()];
    let mut ready: BinaryHeap<Reverse<(u8, usize)>> =
        (0..statements.len()).filter(|&i| indegree[i] == 0).map(|i| Reverse((rank(i), i))).collect();
    let mut order = Vec::with_capacity(statements.len());
    while order.len() < statements.len() {
        let next = match ready.pop() {
            Some(Reverse((_, i))) if !done[i] => i,
            Some(_) => continue,
            // A cycle: take the earliest statement not yet placed.
            None => match done.iter().position(|d| !d) {
                Some(i) => i,
                None => break,
            },
        };
        done[next] = true;
        order.push(next);
        for n in graph.neighbors_directed(nodes[next], petgraph::Outgoing) {
            let j = graph[n];
            indegree[j] = indegree[j].saturating_sub(1);
            if indegree[j] == 0 && !done[j] {
                ready.push(Reverse((rank(j), j)));
            }
        }
    }
    let mut slots: Vec<Option<DeclaredStatement>> = statements.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
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
        let (mut depth, mut columns_seen, mut last_code_line) = (0usize, 0usize, 0u64);
        let mut column_index: Option<usize> = None;
        let mut expecting_column = false;
        // Annotations read on their own lines, waiting for the column definition that follows them.
        let mut pending: Vec<(bool, String, SourceLocation)> = Vec::new();
        let mut attach =
            |index: usize, down: bool, text: String, location: SourceLocation| -> Result<(), DeclaredError> {
                let Some(column) = table.columns.get(index) else { return Ok(()) };
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
                let slot = if down { &mut entry.down_using } else { &mut entry.using };
                if slot.is_some() {
                    let mark = if down { DOWN_USING } else { USING };
                    return Err(DeclaredError::Syntax {
                        location,
                        message: format!("column {column} has a second `-- {mark}` annotation; give one expression"),
                    });
                }
                *slot = Some(text);
                Ok(())
            };
        for token in &tokens {
            match &token.token {
                Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                    let comment = comment.trim();
                    let (down, text) = match (comment.strip_prefix(DOWN_USING), comment.strip_prefix(USING)) {
                        (Some(text), _) => (true, text),
                        (None, Some(text)) => (false, text),
                        (None, None) => continue,
                    };
                    let byte = offsets.byte(token.span.start.line, token.span.start.column);
                    let location =
                        statement.location.advance(&statement.sql, statement.sql[..byte].chars().count() + 1);
                    let text = text.trim().trim_end_matches(';').trim().to_string();
                    if text.is_empty() {
                        return Err(DeclaredError::Syntax {
                            location,
                            message: "`-- schema:using` and `-- schema:down-using` need a SQL expression".into(),
                        });
                    }
                    match column_index {
                        Some(i) if depth == 1 && token.span.start.line == last_code_line => {
                            attach(i, down, text, location)?
                        }
                        _ if depth == 1 => pending.push((down, text, location)),
                        _ => {}
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
                        if !starts_constraint && columns_seen < table.columns.len() {
                            column_index = Some(columns_seen);
                            for (down, text, location) in pending.drain(..) {
                                attach(columns_seen, down, text, location)?;
                            }
                            columns_seen += 1;
                        }
                    }
                    last_code_line = token.span.end.line;
                }
            }
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
        let Ok(parsed) = Parser::parse_sql(dialect, &statement.sql) else { continue };
        let [Statement::CreateTable(table)] = parsed.as_slice() else { continue };
        let Some((schema, name)) = qualify(&table.name) else { continue };
        let schema = if name_parts(&table.name).len() < 2 { default_schema(dialect).to_string() } else { schema };
        let new_table = (schema.clone(), name.clone());
        for line in statement.leading_comments.lines() {
            if let Some(old) = line.trim().strip_prefix(MARK) {
                out.tables.push(((schema.clone(), old.trim().to_string()), new_table.clone()));
            }
        }
        let tokens = Tokenizer::new(dialect, &statement.sql).tokenize_with_location().unwrap_or_default();
        let mut depth = 0usize;
        // Index of the column being read (or last read) at depth 1, and the line its text last touched.
        let mut column_index: Option<usize> = None;
        let mut columns_seen = 0usize;
        let mut last_code_line = 0u64;
        let mut expecting_column = false;
        let mut pending: Option<String> = None;
        for token in &tokens {
            match &token.token {
                Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                    let Some(old) = comment.trim().strip_prefix(MARK) else { continue };
                    let old = old.trim().to_string();
                    let same_line_as_column = token.span.start.line == last_code_line;
                    match (depth, column_index) {
                        (0, _) => out.tables.push(((schema.clone(), old), new_table.clone())),
                        (_, Some(i)) if same_line_as_column => {
                            if let Some(column) = table.columns.get(i) {
                                out.columns.push((schema.clone(), name.clone(), old, fold(&column.name)));
                            }
                        }
                        _ => pending = Some(old),
                    }
                }
                Token::Whitespace(_) => {}
                Token::LParen => {
                    depth += 1;
                    if depth == 1 {
                        expecting_column = true;
                    }
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
                        let next = columns_seen;
                        if starts_constraint {
                            column_index = None;
                        } else if next < table.columns.len() {
                            columns_seen += 1;
                            column_index = Some(next);
                            if let Some(old) = pending.take() {
                                out.columns.push((schema.clone(), name.clone(), old, fold(&table.columns[next].name)));
                            }
                        } else {
                            column_index = None;
                        }
                    }
                    last_code_line = token.span.end.line;
                }
            }
        }
    }
    Ok(out)
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
}
