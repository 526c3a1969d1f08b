//! `schema lint`: the hazard rules applied to migration files, hand-written or generated. Statements
//! are parsed with sqlparser; this walk is the only place outside [`crate::declared`] that reads its
//! AST, and it reads only the DDL statements the rules are about. The rules are PostgreSQL's (the
//! database whose locks they describe); a table created earlier in the linted files is new, so changes
//! to it carry no lock hazards.
//!
//! `DO` blocks are recognised (the parser does not read them) and listed as [`Block`]s, not as unparsed
//! statements. The atomic blocks `generate` writes (`DO $schema_contract$ BEGIN …; …; END`) hold plain
//! statements, which are checked like the others; other bodies are procedural code and are not checked.
//! `DROP INDEX CONCURRENTLY`, which the parser does not read either, is read without the keyword.

use super::{Hazard, HazardId, Severity};
use crate::declared::{self, DeclaredError, SourceLocation};
use crate::model::QualifiedName;
use indexmap::{IndexMap, IndexSet};
use serde::Serialize;
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, DataType, ObjectName, ObjectType, Statement,
    TableConstraint,
};
use sqlparser::dialect::Dialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};
use std::path::Path;

/// The lock most `ALTER TABLE` forms take, as the findings name it.
const AX: &str = "ACCESS EXCLUSIVE";

/// One hazard found in a file.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub file: String,
    pub line: u64,
    pub column: u64,
    /// The statement's first line, for the report.
    pub statement: String,
    #[serde(flatten)]
    pub hazard: Hazard,
}

/// A `DO` block found in a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Block {
    pub file: String,
    pub line: u64,
    pub column: u64,
    /// The dollar-quote tag of the body (`schema_backfill`), empty for `$$` or a quoted string.
    pub tag: String,
    /// What the block is: for the blocks `generate` writes, `backfill` (batched updates, each batch
    /// committed), `atomic` (statements run as one), `guard` (a statement run only if needed) and `grants`
    /// (privileges copied to a compatibility view); `other` for the rest.
    pub kind: &'static str,
    /// How many statements inside the block were checked (those of an `atomic` block); 0 when its body is
    /// procedural code, which is not checked.
    pub checked: usize,
}

/// What linting a set of files found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Statements the parser could not read, which were not checked (`file:line:column`).
    pub unparsed: Vec<String>,
    /// `DO` blocks (recognised, so not in `unparsed`).
    pub blocks: Vec<Block>,
}

#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("cannot read {path}")]
    Read { path: String, source: std::io::Error },
    #[error(transparent)]
    Split(#[from] DeclaredError),
}

/// What earlier statements (of any earlier file) did that changes the verdict on later ones.
#[derive(Debug, Default)]
struct Seen {
    /// Tables created: new, so locking them costs nothing.
    created: IndexSet<QualifiedName>,
    /// `CHECK (column IS NOT NULL)` constraints added: (table, constraint) → column.
    not_null_checks: IndexMap<(QualifiedName, String), String>,
    /// Columns with a validated `CHECK (column IS NOT NULL)`: `SET NOT NULL` on them scans nothing.
    proven_not_null: IndexSet<(QualifiedName, String)>,
}

/// Lints files in order; tables created in an earlier statement (of any earlier file) count as new.
pub fn lint_files(files: &[&Path], dialect: &dyn Dialect) -> Result<Report, LintError> {
    let mut report = Report::default();
    let mut created = Seen::default();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|source| LintError::Read { path: file.display().to_string(), source })?;
        lint_text(file, &text, dialect, &mut created, &mut report)?;
    }
    Ok(report)
}

fn lint_text(
    file: &Path,
    text: &str,
    dialect: &dyn Dialect,
    created: &mut Seen,
    report: &mut Report,
) -> Result<(), LintError> {
    for raw in declared::split_statements(file, text, dialect)? {
        if let Some(block) = do_block(&raw.sql, dialect) {
            lint_block(file, &raw, &block, dialect, created, report)?;
            continue;
        }
        lint_statement(&raw.location, &raw.sql, dialect, created, report);
    }
    Ok(())
}

fn lint_statement(location: &SourceLocation, sql: &str, dialect: &dyn Dialect, seen: &mut Seen, report: &mut Report) {
    // Which the parser does not know: NO INHERIT takes a brief lock and changes nothing a query sees.
    if let Some((table, parent)) = inherit(sql, dialect) {
        if let Some(parent) = parent.filter(|_| !seen.created.contains(&table)) {
            // A linted file has no planned statements to state the locks: they are read from its text.
            let mut hazard = super::inherit_parent(&table, &parent, &[]).lock(AX, &table);
            hazard.lock = Some(format!("{AX} on {table}, SHARE UPDATE EXCLUSIVE on {parent}"));
            report.findings.push(finding(location, sql, hazard));
        }
        return;
    }
    let Ok(parsed) = parse(sql, dialect) else {
        report.unparsed.push(location.to_string());
        return;
    };
    for statement in &parsed {
        for hazard in statement_hazards(statement, sql, seen) {
            report.findings.push(finding(location, sql, hazard));
        }
        // A view created under a renamed table's old name keeps that name working (the compatibility view
        // of a phased rename): the rename is no longer visible.
        if let Statement::CreateView(view) = statement {
            let name = qualified(&view.name);
            report.findings.retain(|f| {
                !(f.hazard.id == HazardId::RenameVisible
                    && f.hazard.table.as_ref() == Some(&name)
                    && f.hazard.message.starts_with("renames table"))
            });
        }
    }
}

/// Parses a statement; `DROP INDEX CONCURRENTLY`, which the parser does not know, is read without the
/// keyword (the rules look at the text for it).
fn parse(sql: &str, dialect: &dyn Dialect) -> Result<Vec<Statement>, ParserError> {
    Parser::parse_sql(dialect, sql).or_else(|error| {
        let words: Vec<(usize, &str)> =
            sql.split_ascii_whitespace().take(3).map(|w| (w.as_ptr() as usize - sql.as_ptr() as usize, w)).collect();
        match words.as_slice() {
            [(_, drop), (_, index), (at, concurrently)]
                if drop.eq_ignore_ascii_case("DROP")
                    && index.eq_ignore_ascii_case("INDEX")
                    && concurrently.eq_ignore_ascii_case("CONCURRENTLY") =>
            {
                let without = format!("{}{}", &sql[..*at], &sql[at + concurrently.len()..]);
                Parser::parse_sql(dialect, &without)
            }
            _ => Err(error),
        }
    })
}

/// Whether `sql` is `ALTER TABLE name [NO] INHERIT parent` (names plain, quoted or qualified).
#[cfg(test)]
fn is_inherit(sql: &str, dialect: &dyn Dialect) -> bool {
    inherit(sql, dialect).is_some()
}

/// `ALTER TABLE name INHERIT parent`: the table and `Some(parent)`; `NO INHERIT`: the table and `None`.
fn inherit(sql: &str, dialect: &dyn Dialect) -> Option<(QualifiedName, Option<QualifiedName>)> {
    let Ok(tokens) = Tokenizer::new(dialect, sql).tokenize() else { return None };
    let tokens: Vec<Token> = tokens.into_iter().filter(|t| !matches!(t, Token::Whitespace(_))).collect();
    let keyword = |t: &Token, word: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word));
    // `name` or `schema.name`: words separated by single periods.
    let name = |ts: &[Token]| {
        ts.len() % 2 == 1
            && ts
                .iter()
                .enumerate()
                .all(|(i, t)| if i % 2 == 0 { matches!(t, Token::Word(_)) } else { *t == Token::Period })
    };
    let tokens = tokens.strip_suffix(&[Token::SemiColon]).unwrap_or(&tokens);
    let at = tokens.iter().position(|t| keyword(t, "INHERIT"))?;
    let no = at > 0 && keyword(&tokens[at - 1], "NO");
    let table_end = if no { at - 1 } else { at };
    let matched = tokens.len() > 2
        && keyword(&tokens[0], "ALTER")
        && keyword(&tokens[1], "TABLE")
        && name(&tokens[2..table_end])
        && name(&tokens[at + 1..]);
    // Words as PostgreSQL folds them, in `public` when unqualified.
    let qualified = |ts: &[Token]| {
        let parts: Vec<String> = ts
            .iter()
            .filter_map(|t| match t {
                Token::Word(w) if w.quote_style.is_some() => Some(w.value.clone()),
                Token::Word(w) => Some(w.value.to_lowercase()),
                _ => None,
            })
            .collect();
        match parts.as_slice() {
            [.., schema, name] => QualifiedName::new(schema.clone(), name.clone()),
            [name] => QualifiedName::new("public", name.clone()),
            [] => QualifiedName::new("public", ""),
        }
    };
    matched.then(|| (qualified(&tokens[2..table_end]), (!no).then(|| qualified(&tokens[at + 1..]))))
}

/// A `DO [LANGUAGE l] body [LANGUAGE l]` statement, as the tokenizer reads it.
struct DoBlock {
    tag: Option<String>,
    body: String,
}

fn do_block(sql: &str, dialect: &dyn Dialect) -> Option<DoBlock> {
    let tokens = Tokenizer::new(dialect, sql).tokenize().ok()?;
    let mut tokens = tokens.into_iter().filter(|t| !matches!(t, Token::Whitespace(_)));
    let is_word = |t: &Token, word: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word));
    if !is_word(&tokens.next()?, "DO") {
        return None;
    }
    let mut block = None;
    while let Some(token) = tokens.next() {
        match token {
            Token::Word(_) if is_word(&token, "LANGUAGE") => {
                tokens.next().filter(|t| matches!(t, Token::Word(_)))?;
            }
            Token::DollarQuotedString(s) if block.is_none() => block = Some(DoBlock { tag: s.tag, body: s.value }),
            Token::SingleQuotedString(body) if block.is_none() => block = Some(DoBlock { tag: None, body }),
            Token::SemiColon => break,
            _ => return None,
        }
    }
    tokens.next().is_none().then_some(block).flatten()
}

/// Lists a `DO` block; the statements of an atomic block are checked where they stand in the file.
fn lint_block(
    file: &Path,
    raw: &declared::RawStatement,
    block: &DoBlock,
    dialect: &dyn Dialect,
    seen: &mut Seen,
    report: &mut Report,
) -> Result<(), LintError> {
    let tag = block.tag.clone().unwrap_or_default();
    let kind = match tag.as_str() {
        "schema_backfill" => "backfill",
        "schema_contract" => "atomic",
        "schema_guard" => "guard",
        "schema_compat" => "grants",
        _ => "other",
    };
    let mut checked = 0;
    if kind == "atomic" {
        let body = block.body.trim_end();
        let inner = body
            .strip_prefix(|c: char| c.is_whitespace())
            .unwrap_or(body)
            .trim_start()
            .strip_prefix("BEGIN")
            .and_then(|rest| rest.strip_suffix("END"));
        if let Some(inner) = inner {
            // Lines before the statements: up to the body in the statement, and up to BEGIN's end in the body.
            let opening = format!("${tag}$");
            let body_at = raw.sql.find(&opening).map(|i| i + opening.len()).unwrap_or(0);
            let inner_at = block.body.find(inner).unwrap_or(0);
            let lines_before =
                raw.sql[..body_at].matches('\n').count() as u64 + block.body[..inner_at].matches('\n').count() as u64;
            for statement in declared::split_statements(file, inner, dialect)? {
                let mut location = statement.location.clone();
                location.line = raw.location.line + lines_before + location.line - 1;
                let unparsed = report.unparsed.len();
                lint_statement(&location, &statement.sql, dialect, seen, report);
                if report.unparsed.len() == unparsed {
                    checked += 1;
                }
            }
        }
    }
    report.blocks.push(Block {
        file: raw.location.file.display().to_string(),
        line: raw.location.line,
        column: raw.location.column,
        tag,
        kind,
        checked,
    });
    Ok(())
}

fn finding(location: &SourceLocation, sql: &str, hazard: Hazard) -> Finding {
    Finding {
        file: location.file.display().to_string(),
        line: location.line,
        column: location.column,
        statement: sql.lines().next().unwrap_or_default().trim().to_string(),
        hazard,
    }
}

/// `a.b` or `b` (in `public`), identifiers as written (unquoted ones folded to lower case, as
/// PostgreSQL does).
fn qualified(name: &ObjectName) -> QualifiedName {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(|i| if i.quote_style.is_some() { i.value.clone() } else { i.value.to_lowercase() })
        .collect();
    match parts.as_slice() {
        [.., schema, name] => QualifiedName::new(schema.clone(), name.clone()),
        [name] => QualifiedName::new("public", name.clone()),
        [] => QualifiedName::new("public", ""),
    }
}

fn statement_hazards(statement: &Statement, sql: &str, seen: &mut Seen) -> Vec<Hazard> {
    let created = &mut seen.created;
    let mut out = Vec::new();
    match statement {
        Statement::CreateTable(t) => {
            created.insert(qualified(&t.name));
        }
        Statement::CreateIndex(index) => {
            let table = qualified(&index.table_name);
            if !index.concurrently && !created.contains(&table) {
                let name = index.name.as_ref().map(|n| format!("index {n}")).unwrap_or_else(|| "an index".into());
                out.push(
                    Hazard::new(
                        HazardId::BlockingIndexBuild,
                        Severity::High,
                        format!("builds {name} without CONCURRENTLY, blocking writes to {table} for the whole build"),
                        "Use CREATE INDEX CONCURRENTLY, outside a transaction",
                    )
                    .lock("SHARE", &table)
                    .scans(),
                );
            }
        }
        Statement::Drop { object_type, names, .. } => {
            for name in names {
                let target = qualified(name);
                let hazard = match object_type {
                    ObjectType::Table => Hazard::new(
                        HazardId::DataLossTable,
                        Severity::High,
                        format!("drops table {target} and its rows"),
                        "Stop using the table in the application first, and back up its rows if they may be needed",
                    )
                    .lock("ACCESS EXCLUSIVE", &target),
                    ObjectType::Sequence => Hazard::new(
                        HazardId::DataLossSequence,
                        Severity::Medium,
                        format!("drops sequence {target} and its current value"),
                        "Make sure nothing calls nextval on the sequence any more",
                    ),
                    ObjectType::Type => Hazard::new(
                        HazardId::DataLossType,
                        Severity::Medium,
                        format!("drops type {target}"),
                        "Make sure no column, function or application query uses the type any more",
                    ),
                    ObjectType::Schema => Hazard::new(
                        HazardId::DataLossSchema,
                        Severity::Medium,
                        format!("drops schema {}", target.name),
                        "Check that the schema holds nothing that should be kept",
                    ),
                    ObjectType::Index if !sql.to_ascii_uppercase().contains("CONCURRENTLY") => Hazard::new(
                        HazardId::IndexDropped,
                        Severity::Medium,
                        format!(
                            "drops index {target} without CONCURRENTLY; the table is locked and queries that relied on the index become slower"
                        ),
                        "Check that no query needs the index, and use DROP INDEX CONCURRENTLY",
                    ),
                    _ => continue,
                };
                out.push(hazard);
                if *object_type == ObjectType::Table {
                    created.swap_remove(&target);
                }
            }
        }
        Statement::AlterTable(alter) => {
            let table = qualified(&alter.name);
            let new = created.contains(&table);
            for op in &alter.operations {
                track_not_null_checks(&table, op, &mut seen.not_null_checks, &mut seen.proven_not_null);
                if let AlterTableOperation::AlterColumn { column_name, op: AlterColumnOperation::SetNotNull } = op
                    && seen.proven_not_null.contains(&(table.clone(), column_name.value.clone()))
                {
                    continue;
                }
                alter_table_hazards(&table, new, op, &mut out);
                if let AlterTableOperation::RenameTable { table_name } = op
                    && new
                {
                    let to = match table_name {
                        sqlparser::ast::RenameTableNameKind::As(n) | sqlparser::ast::RenameTableNameKind::To(n) => n,
                    };
                    let mut renamed = qualified(to);
                    if to.0.len() == 1 {
                        renamed.schema = table.schema.clone();
                    }
                    seen.created.insert(renamed);
                }
            }
        }
        _ => {}
    }
    out
}

/// Records `CHECK (col IS NOT NULL)` constraints and their validation: PostgreSQL 12+ skips the scan of
/// `SET NOT NULL` when such a check is valid (the online form of `SET NOT NULL`).
fn track_not_null_checks(
    table: &QualifiedName,
    op: &AlterTableOperation,
    checks: &mut IndexMap<(QualifiedName, String), String>,
    proven: &mut IndexSet<(QualifiedName, String)>,
) {
    match op {
        AlterTableOperation::AddConstraint { constraint: TableConstraint::Check(check), not_valid } => {
            let sqlparser::ast::Expr::IsNotNull(inner) = check.expr.as_ref() else { return };
            let sqlparser::ast::Expr::Identifier(column) = inner.as_ref() else { return };
            if !not_valid {
                proven.insert((table.clone(), column.value.clone()));
            } else if let Some(name) = &check.name {
                checks.insert((table.clone(), name.value.clone()), column.value.clone());
            }
        }
        AlterTableOperation::ValidateConstraint { name } => {
            if let Some(column) = checks.get(&(table.clone(), name.value.clone())) {
                proven.insert((table.clone(), column.clone()));
            }
        }
        // The contract of a type change validates the check on the shadow column, then renames it.
        AlterTableOperation::RenameColumn { old_column_name, new_column_name }
            if proven.contains(&(table.clone(), old_column_name.value.clone())) =>
        {
            proven.insert((table.clone(), new_column_name.value.clone()));
        }
        _ => {}
    }
}

fn alter_table_hazards(table: &QualifiedName, new: bool, op: &AlterTableOperation, out: &mut Vec<Hazard>) {
    match op {
        AlterTableOperation::AddColumn { column_def, .. } if !new => {
            let name = format!("{table}.{}", column_def.name.value);
            let options: Vec<&ColumnOption> = column_def.options.iter().map(|o| &o.option).collect();
            let not_null = options.iter().any(|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)));
            let default = options.iter().find_map(|o| match o {
                ColumnOption::Default(e) => Some(e.to_string()),
                _ => None,
            });
            let generated = options.iter().any(|o| matches!(o, ColumnOption::Generated { .. }));
            let serial = matches!(&column_def.data_type, DataType::Custom(n, _) if {
                let t = n.to_string().to_ascii_lowercase();
                matches!(t.as_str(), "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2")
            });
            let volatile = default.as_deref().is_some_and(super::is_volatile_default);
            if generated || serial || volatile {
                out.push(
                    Hazard::new(
                        HazardId::TableRewrite,
                        Severity::High,
                        format!("adds column {name} with a generated, serial or volatile value, which rewrites the table while reads and writes are blocked"),
                        "Add the column without it (nullable, constant default), backfill in batches, then set the default",
                    )
                    .lock(AX, table)
                    .rewrites(),
                );
            }
            if not_null && default.is_none() && !generated && !serial {
                out.push(
                    Hazard::new(
                        HazardId::NotNullWithoutDefault,
                        Severity::High,
                        format!("adds NOT NULL column {name} without a default, which fails if the table has rows"),
                        "Give the column a default, or add it nullable, backfill it, then set NOT NULL",
                    )
                    .lock(AX, table),
                );
            }
            if options.iter().any(|o| matches!(o, ColumnOption::PrimaryKey(_) | ColumnOption::Unique(_))) {
                out.push(index_build(table, &format!("a unique index on {name}")));
            }
        }
        AlterTableOperation::AlterColumn { column_name, op } if !new => {
            let name = format!("{table}.{}", column_name.value);
            match op {
                AlterColumnOperation::SetDataType { data_type, .. } => out.push(
                    Hazard::new(
                        HazardId::TableRewrite,
                        Severity::Medium,
                        format!("changes the type of {name} to {data_type}; unless the change is binary coercible (such as widening a varchar) it rewrites the table and its indexes while reads and writes are blocked"),
                        "Add a column of the new type, backfill it in batches and switch over, instead of altering in place",
                    )
                    .lock(AX, table)
                    .rewrites(),
                ),
                AlterColumnOperation::SetNotNull => out.push(
                    Hazard::new(
                        HazardId::AccessExclusiveScan,
                        Severity::High,
                        format!("sets {name} NOT NULL, reading every row while reads and writes are blocked"),
                        "Add CHECK (column IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL",
                    )
                    .lock(AX, table)
                    .scans(),
                ),
                _ => {}
            }
        }
        AlterTableOperation::AddConstraint { constraint, not_valid } if !new => match constraint {
            TableConstraint::Check(_) if !not_valid => out.push(
                Hazard::new(
                    HazardId::AccessExclusiveScan,
                    Severity::High,
                    format!("adds a CHECK constraint to {table} and validates it by reading every row while reads and writes are blocked"),
                    "Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a separate step",
                )
                .lock(AX, table)
                .scans(),
            ),
            TableConstraint::ForeignKey(fk) if !not_valid => out.push(
                Hazard::new(
                    HazardId::AccessExclusiveScan,
                    Severity::High,
                    format!(
                        "adds a FOREIGN KEY to {table} and validates it by reading every row while writes to {table} and {} are blocked",
                        qualified(&fk.foreign_table)
                    ),
                    "Add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a separate step",
                )
                .lock("SHARE ROW EXCLUSIVE", table)
                .scans(),
            ),
            TableConstraint::PrimaryKey(_) | TableConstraint::Unique(_) => {
                out.push(index_build(table, "the constraint's index"));
            }
            _ => {}
        },
        AlterTableOperation::DropColumn { column_names, .. } => {
            for column in column_names {
                out.push(
                    Hazard::new(
                        HazardId::DataLossColumn,
                        Severity::High,
                        format!("drops column {table}.{} and its values", column.value),
                        "Stop reading and writing the column in the application first, and back up its values if needed",
                    )
                    .lock(AX, table),
                );
            }
        }
        AlterTableOperation::RenameColumn { old_column_name, new_column_name } if !new => out.push(
            Hazard::new(
                HazardId::RenameVisible,
                Severity::High,
                format!(
                    "renames column {table}.{} to {}; running application code that uses the old name fails",
                    old_column_name.value, new_column_name.value
                ),
                "Deploy application code that works with both names first",
            )
            .lock(AX, table),
        ),
        AlterTableOperation::ReplicaIdentity { identity } if !new => {
            let nothing = matches!(identity, sqlparser::ast::ReplicaIdentity::Nothing);
            out.push(super::replica_identity(table, nothing).lock(AX, table))
        }
        AlterTableOperation::RenameTable { .. } if !new => out.push(
            Hazard::new(
                HazardId::RenameVisible,
                Severity::High,
                format!("renames table {table}; running application code that uses the old name fails"),
                "Deploy application code that works with both names first, or keep a view under the old name",
            )
            .lock(AX, table),
        ),
        _ => {}
    }
}

fn index_build(table: &QualifiedName, what: &str) -> Hazard {
    Hazard::new(
        HazardId::BlockingIndexBuild,
        Severity::High,
        format!("builds {what} while reads and writes of {table} are blocked"),
        "Build a unique index CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX",
    )
    .lock("ACCESS EXCLUSIVE", table)
    .scans()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(sql: &str) -> Vec<&'static str> {
        let mut report = Report::default();
        let dialect = sqlparser::dialect::PostgreSqlDialect {};
        lint_text(Path::new("m.sql"), sql, &dialect, &mut Seen::default(), &mut report).unwrap();
        report.findings.iter().map(|f| f.hazard.id.as_str()).collect()
    }

    #[test]
    fn flags_blocking_statements_on_existing_tables() {
        assert_eq!(ids("CREATE INDEX i ON t (a);"), ["blocking-index-build"]);
        assert_eq!(ids("CREATE INDEX CONCURRENTLY i ON t (a);"), Vec::<&str>::new());
        assert_eq!(ids("ALTER TABLE t ADD COLUMN b int NOT NULL;"), ["not-null-without-default"]);
        assert_eq!(ids("ALTER TABLE t ADD COLUMN b int NOT NULL DEFAULT 0;"), Vec::<&str>::new());
        assert_eq!(ids("ALTER TABLE t ADD COLUMN b uuid DEFAULT gen_random_uuid();"), ["table-rewrite"]);
        assert_eq!(ids("ALTER TABLE t ALTER COLUMN a TYPE bigint;"), ["table-rewrite"]);
        assert_eq!(ids("ALTER TABLE t ALTER COLUMN a SET NOT NULL;"), ["access-exclusive-scan"]);
        assert_eq!(ids("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);"), ["access-exclusive-scan"]);
        assert_eq!(ids("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;"), Vec::<&str>::new());
        assert_eq!(ids("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id);"), ["access-exclusive-scan"]);
        assert_eq!(ids("DROP TABLE t; ALTER TABLE u DROP COLUMN a;"), ["data-loss-table", "data-loss-column"]);
        assert_eq!(
            ids("ALTER TABLE t RENAME COLUMN a TO b; ALTER TABLE t RENAME TO u;"),
            ["rename-visible", "rename-visible"]
        );
    }

    #[test]
    fn inherit_and_replica_identity_are_read_and_flagged() {
        let mut report = Report::default();
        let dialect = sqlparser::dialect::PostgreSqlDialect {};
        let sql = r#"ALTER TABLE "public"."c" NO INHERIT "public"."base"; ALTER TABLE c INHERIT s.p;
            ALTER TABLE ONLY "p" DROP COLUMN "e"; ALTER TABLE t REPLICA IDENTITY USING INDEX "t_k";"#;
        lint_text(Path::new("m.sql"), sql, &dialect, &mut Seen::default(), &mut report).unwrap();
        assert!(report.unparsed.is_empty(), "{:?}", report.unparsed);
        let found: Vec<&str> = report.findings.iter().map(|f| f.hazard.id.as_str()).collect();
        assert_eq!(found, ["inherit-parent", "data-loss-column", "replica-identity-change"]);
        assert_eq!(
            report.findings[0].hazard.lock.as_deref(),
            Some("ACCESS EXCLUSIVE on public.c, SHARE UPDATE EXCLUSIVE on s.p")
        );
        assert_eq!(ids("ALTER TABLE t REPLICA IDENTITY NOTHING;"), ["replica-identity-nothing"]);
        // On a table the same file creates, neither is reported.
        assert_eq!(
            ids("CREATE TABLE t (a int); ALTER TABLE t REPLICA IDENTITY NOTHING; ALTER TABLE t INHERIT p;"),
            Vec::<&str>::new()
        );
        assert!(!is_inherit("ALTER TABLE t INHERIT p, q;", &dialect));
        assert!(!is_inherit("ALTER TABLE t ADD COLUMN inherit int;", &dialect));
    }

    #[test]
    fn set_not_null_after_a_validated_check_scans_nothing() {
        let online = "ALTER TABLE t ADD CONSTRAINT nn CHECK (a IS NOT NULL) NOT VALID;
            ALTER TABLE t VALIDATE CONSTRAINT nn; ALTER TABLE t ALTER COLUMN a SET NOT NULL;";
        assert_eq!(ids(online), Vec::<&str>::new());
        let unvalidated = "ALTER TABLE t ADD CONSTRAINT nn CHECK (a IS NOT NULL) NOT VALID;
            ALTER TABLE t ALTER COLUMN a SET NOT NULL;";
        assert_eq!(ids(unvalidated), ["access-exclusive-scan"]);
    }

    fn report(sql: &str) -> Report {
        let mut report = Report::default();
        let dialect = sqlparser::dialect::PostgreSqlDialect {};
        lint_text(Path::new("m.sql"), sql, &dialect, &mut Seen::default(), &mut report).unwrap();
        report
    }

    #[test]
    fn do_blocks_are_listed_not_unparsed() {
        let sql = "DO $schema_backfill$\nBEGIN\n    LOOP\n        COMMIT;\n    END LOOP;\nEND\n$schema_backfill$;\n\
                   DO $$ BEGIN PERFORM 1; END $$;\nDO LANGUAGE plpgsql 'BEGIN NULL; END';\n\
                   DO $schema_guard$\nBEGIN\n    IF true THEN\n        ALTER TABLE t DROP CONSTRAINT c;\n    END IF;\nEND\n$schema_guard$;\n";
        let r = report(sql);
        assert_eq!(r.unparsed, Vec::<String>::new());
        let kinds: Vec<(&str, &str, u64)> = r.blocks.iter().map(|b| (b.kind, b.tag.as_str(), b.line)).collect();
        assert_eq!(
            kinds,
            [("backfill", "schema_backfill", 1), ("other", "", 8), ("other", "", 9), ("guard", "schema_guard", 10)]
        );
        assert!(r.findings.is_empty(), "procedural bodies are not checked");
        // Not a DO block: still unparsed.
        assert_eq!(report("DO SOMETHING ELSE;").unparsed, ["m.sql:1:1"]);
    }

    #[test]
    fn atomic_blocks_are_checked_where_their_statements_stand() {
        let sql = "ALTER TABLE t ADD CONSTRAINT nn CHECK (\"schema_new_a\" IS NOT NULL) NOT VALID;\n\
                   ALTER TABLE t VALIDATE CONSTRAINT nn;\n\
                   DO $schema_contract$\nBEGIN\n    DROP TRIGGER IF EXISTS s ON t;\n    ALTER TABLE t DROP COLUMN a;\n\
                   \x20   ALTER TABLE t RENAME COLUMN \"schema_new_a\" TO a;\n    ALTER TABLE t ALTER COLUMN a SET NOT NULL;\nEND\n$schema_contract$;\n";
        let r = report(sql);
        assert_eq!(r.unparsed, Vec::<String>::new());
        assert_eq!(r.blocks.len(), 1);
        assert_eq!((r.blocks[0].kind, r.blocks[0].checked), ("atomic", 4));
        let found: Vec<(&str, u64)> = r.findings.iter().map(|f| (f.hazard.id.as_str(), f.line)).collect();
        // SET NOT NULL of the renamed column uses the validated check: no scan.
        assert_eq!(found, [("data-loss-column", 6), ("rename-visible", 7)]);
    }

    #[test]
    fn online_forms_parse() {
        let sql = "DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"t_a\";\ndrop index concurrently t_b;\n\
                   ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;\n\
                   ALTER TABLE t ADD CONSTRAINT t_key UNIQUE USING INDEX t_key DEFERRABLE;\n\
                   ALTER INDEX \"public\".\"schema_tmp_a\" RENAME TO \"a\";\nSET LOCAL lock_timeout = '2000ms';\n";
        let r = report(sql);
        assert_eq!(r.unparsed, Vec::<String>::new());
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(ids("DROP INDEX t_a;"), ["index-dropped"]);
    }

    #[test]
    fn a_view_under_the_old_name_keeps_a_table_rename_working() {
        assert_eq!(ids("ALTER TABLE tickets RENAME TO issues;"), ["rename-visible"]);
        let phased = "ALTER TABLE \"public\".\"tickets\" RENAME TO \"issues\";\n\
                      CREATE VIEW \"public\".\"tickets\" AS SELECT * FROM \"public\".\"issues\";";
        assert_eq!(ids(phased), Vec::<&str>::new());
        let other_view = "ALTER TABLE tickets RENAME TO issues; CREATE VIEW v AS SELECT * FROM issues;";
        assert_eq!(ids(other_view), ["rename-visible"]);
    }

    #[test]
    fn new_tables_carry_no_lock_hazards() {
        let sql = "CREATE TABLE t (a int); CREATE INDEX i ON t (a); ALTER TABLE t ALTER COLUMN a SET NOT NULL;";
        assert_eq!(ids(sql), Vec::<&str>::new());
    }
}
