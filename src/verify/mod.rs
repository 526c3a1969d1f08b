//! Verification: a migration runs in a scratch database before it is written or applied, and must
//! converge both ways. The scratch database holds the current schema without rows (rebuilt from the
//! live catalog, or replayed from the migrations directory); the up files run there as `schema migrate
//! up` runs them, and the plan from the result to the declared schema must be empty; then the down
//! files run, last part first, and the plan from the result to the current schema must be empty.
//!
//! The algorithm is generic: files run through the runner's primitives ([`runner::Database`]) and
//! catalogs are compared with the tool's own diff. Each dialect provides a [`Scratch`]
//! (`dialect::postgres::verify`, `dialect::sqlite::verify`); the pipeline decides what the current
//! schema is and how catalogs are filtered before they are compared.

use crate::declared::RawStatement;
use crate::diff::{self, RenameHints};
use crate::migrations::{self, Direction, LocalMigration, RenderedPair};
use crate::model::Catalog;
use crate::plan::SqlRenderer;
use crate::runner::{self, Database};
use serde::Serialize;

/// A scratch database to verify migrations in, with the runner's primitives on it.
// Used on one thread, like the runner, so the futures need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait Scratch {
    type Db: Database;
    /// The session migration files run in, set up as `schema migrate` sets up its own. The scratch
    /// database may be created on first use (by any of these methods).
    async fn session(&mut self) -> anyhow::Result<&mut Self::Db>;
    /// Creates the current schema's objects from `statements` (in order, committed). The inner error
    /// is the statement the database refused.
    async fn load(&mut self, statements: &[String]) -> anyhow::Result<Result<(), Rejected>>;
    /// The scratch database's managed objects as they are now.
    async fn catalog(&mut self) -> anyhow::Result<Catalog>;
    /// Empties the scratch database (a new one, for a second attempt at loading).
    async fn reset(&mut self) -> anyhow::Result<()>;
}

/// A statement of the current schema that the scratch database refused ([`Scratch::load`]).
#[derive(Debug, Clone)]
pub struct Rejected {
    pub statement: String,
    pub error: String,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n    {}", self.error, excerpt(&self.statement))
    }
}

/// What verifying a migration found. `plan --format json` prints it as `verification`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    /// The up files reach the declared schema and the down files return to the current one.
    Passed,
    /// A file failed, or a direction did not converge: the migration is not written.
    Failed { failure: Failure },
    /// The current schema could not be reproduced in a scratch database, so the migration could not be
    /// run there; it is not written.
    Unverifiable { reason: String },
    /// `--no-verify`.
    Skipped,
    /// No changes, nothing to run.
    NoChanges,
}

impl Verification {
    /// Whether the migration may be written (or applied).
    pub fn allows_writing(&self) -> bool {
        match self {
            Verification::Passed | Verification::Skipped | Verification::NoChanges => true,
            Verification::Failed { .. } | Verification::Unverifiable { .. } => false,
        }
    }

    /// The error to print when [`Self::allows_writing`] is false.
    pub fn refusal(&self) -> Option<String> {
        match self {
            Verification::Failed { failure } => Some(format!(
                "verification failed: {failure}\n(the migration was run in a scratch database that holds the current \
                 schema without its rows)"
            )),
            Verification::Unverifiable { reason } => {
                Some(format!("cannot verify the migration: {reason}\npass --no-verify to skip the verification"))
            }
            Verification::Passed | Verification::Skipped | Verification::NoChanges => None,
        }
    }
}

/// Why a verified migration is refused.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    /// A statement of a file failed.
    Statement(StatementFailure),
    /// Every file ran, but the result is not what it should be: after the up files, the declared
    /// schema; after the down files, the current schema.
    Differs {
        /// `up` or `down`: the files that ran.
        direction: Direction,
        differences: Differences,
    },
    /// Every file ran, but the database cannot be read any more (SQLite leaves a view over a dropped
    /// table in place, and fails when it is read).
    Unreadable { direction: Direction, error: String },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Statement(statement) => write!(f, "{statement}"),
            Failure::Differs { direction, differences } => {
                let (after, expected) = match direction {
                    Direction::Up => ("the up files", "the declared schema"),
                    Direction::Down => ("the down files", "the schema before the migration"),
                };
                write!(f, "after {after}, the database differs from {expected}:{differences}")
            }
            Failure::Unreadable { direction, error } => {
                write!(f, "after the {direction} files, the database cannot be read: {error}")
            }
        }
    }
}

/// A statement of a migration file that the database refused.
#[derive(Debug, Clone, Serialize)]
pub struct StatementFailure {
    /// The file name as written (`20240101120000_add_bio.up.sql`).
    pub file: String,
    pub direction: Direction,
    /// 1-based: the migration's part (pair of files) and how many there are.
    pub part: usize,
    pub parts: usize,
    /// 1-based: the statement in its file and how many the file has.
    pub statement: usize,
    pub statements: usize,
    /// `file:line:column`, at the error's position when the database gives one.
    pub location: String,
    pub sql: String,
    /// The database's message.
    pub error: String,
}

impl std::fmt::Display for StatementFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, part {} of {}) failed at statement {} of {} ({}): {}\n    {}",
            self.file,
            self.direction,
            self.part,
            self.parts,
            self.statement,
            self.statements,
            self.location,
            self.error,
            excerpt(&self.sql)
        )
    }
}

/// A statement's first lines, indented, for messages.
fn excerpt(sql: &str) -> String {
    let mut lines: Vec<&str> = sql.lines().take(4).collect();
    if sql.lines().count() > 4 {
        lines.push("...");
    }
    lines.join("\n    ")
}

/// What still differs between two catalogs: the objects whose definitions differ, and the changes
/// the tool's plan would still make.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Differences {
    pub objects: Vec<DifferingObject>,
    /// The plan's change descriptions (`alter column public.t.c (type integer → text)`).
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DifferingObject {
    pub kind: &'static str,
    pub name: String,
}

impl std::fmt::Display for Differences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for object in &self.objects {
            write!(f, "\n  {} {}", object.kind, object.name)?;
        }
        if !self.changes.is_empty() {
            f.write_str("\n  changes still needed:")?;
            for change in &self.changes {
                write!(f, "\n    - {change}")?;
            }
        }
        Ok(())
    }
}

/// How catalogs read from the scratch database are compared.
pub struct Comparison<'a> {
    pub renderer: &'a dyn SqlRenderer,
    /// What the pipeline leaves out of every comparison of a database with the declared schema
    /// (ignored names, the tracking table, expand/contract helpers, unmanaged grantees, owners
    /// unless managed); applied to each catalog read from the scratch database.
    pub normalize: &'a dyn Fn(&mut Catalog),
}

impl Comparison<'_> {
    /// What the plan from `actual` to `expected` would still change; `None` when it would change
    /// nothing, which is what "the same" means here (column order, for example, is not compared).
    pub fn differences(&self, actual: &Catalog, expected: &Catalog) -> Option<Differences> {
        let mut changes = self.renderer.adapt(diff::diff(actual, expected, &RenameHints::default()), actual, expected);
        // An extension version no update path reaches is kept by the plan itself, which says so (hazard
        // `extension-version-kept`): not a difference the migration failed to close.
        changes.changes.retain(|c| {
            !matches!(c, diff::Change::Extension(diff::ExtensionChange::AlterVersion { reachable: false, .. }))
        });
        if changes.is_empty() {
            return None;
        }
        let objects = match crate::drift::report(actual, expected, self.renderer, ("scratch", "expected")) {
            Ok(report) => report.objects.into_iter().map(|o| DifferingObject { kind: o.kind, name: o.name }).collect(),
            Err(_) => Vec::new(),
        };
        Some(Differences { objects, changes: changes.changes.iter().map(diff::Change::describe).collect() })
    }
}

/// Runs the up files of `pairs` in order, then their down files in reverse, in `scratch`, which holds
/// the current schema; compares the result of each direction (see the module's documentation).
pub async fn run<S: Scratch>(
    scratch: &mut S,
    pairs: &[RenderedPair],
    current: &Catalog,
    desired: &Catalog,
    comparison: &Comparison<'_>,
) -> anyhow::Result<Verification> {
    let parts = pairs.len();
    let ups: Vec<File<'_>> =
        pairs.iter().enumerate().map(|(i, pair)| File::of(pair, Direction::Up, i + 1, parts)).collect();
    if let Err(failure) = run_files(scratch.session().await?, &ups).await? {
        return Ok(Verification::Failed { failure: Failure::Statement(failure) });
    }
    let mut after_up = match scratch.catalog().await {
        Ok(catalog) => catalog,
        Err(e) => return Ok(unreadable(Direction::Up, &e)),
    };
    (comparison.normalize)(&mut after_up);
    if let Some(differences) = comparison.differences(&after_up, desired) {
        return Ok(Verification::Failed { failure: Failure::Differs { direction: Direction::Up, differences } });
    }
    drop(after_up);
    let downs: Vec<File<'_>> =
        pairs.iter().enumerate().rev().map(|(i, pair)| File::of(pair, Direction::Down, i + 1, parts)).collect();
    if let Err(failure) = run_files(scratch.session().await?, &downs).await? {
        return Ok(Verification::Failed { failure: Failure::Statement(failure) });
    }
    let mut after_down = match scratch.catalog().await {
        Ok(catalog) => catalog,
        Err(e) => return Ok(unreadable(Direction::Down, &e)),
    };
    (comparison.normalize)(&mut after_down);
    if let Some(differences) = comparison.differences(&after_down, current) {
        return Ok(Verification::Failed { failure: Failure::Differs { direction: Direction::Down, differences } });
    }
    Ok(Verification::Passed)
}

fn unreadable(direction: Direction, error: &anyhow::Error) -> Verification {
    Verification::Failed { failure: Failure::Unreadable { direction, error: format!("{error:#}") } }
}

/// Replays the up files of the migrations directory in `scratch`, as `schema migrate up --contract`
/// would apply them to an empty database.
pub async fn replay<S: Scratch>(scratch: &mut S, migrations: &[LocalMigration]) -> anyhow::Result<()> {
    let parts = migrations.len();
    let files: Vec<File<'_>> = migrations
        .iter()
        .enumerate()
        .map(|(i, m)| File {
            name: m.up.path.display().to_string(),
            direction: Direction::Up,
            part: i + 1,
            parts,
            text: &m.up.text,
        })
        .collect();
    match run_files(scratch.session().await?, &files).await? {
        Ok(()) => Ok(()),
        Err(failure) => anyhow::bail!("replaying the migrations directory in a scratch database: {failure}"),
    }
}

/// One migration file as it runs.
struct File<'a> {
    name: String,
    direction: Direction,
    part: usize,
    parts: usize,
    text: &'a str,
}

impl<'a> File<'a> {
    fn of(pair: &'a RenderedPair, direction: Direction, part: usize, parts: usize) -> File<'a> {
        File { name: pair.file_name(direction), direction, part, parts, text: pair.text(direction) }
    }
}

/// Runs files in order under the runner's lock, each as the runner runs it: in one transaction, or
/// statement by statement for a `-- schema:no-transaction` file. The outer error is trouble with the
/// scratch database itself; the inner one a statement the database refused.
async fn run_files<D: Database>(db: &mut D, files: &[File<'_>]) -> anyhow::Result<Result<(), StatementFailure>> {
    // SQLite's runner holds one immediate transaction as its lock and runs each migration in a
    // savepoint of it; PostgreSQL's takes an advisory lock. Either way, as `schema migrate` does.
    let trouble = |e: runner::DbError| anyhow::anyhow!("scratch database: {e}");
    if !db.try_lock().await.map_err(trouble)? {
        anyhow::bail!("scratch database: the runner's lock is taken");
    }
    let mut result = Ok(());
    for file in files {
        result = run_file(db, file).await?;
        if result.is_err() {
            break;
        }
    }
    let unlocked = db.unlock().await;
    match (&result, unlocked) {
        (Ok(()), Err(e)) => Err(trouble(e)),
        _ => Ok(result),
    }
}

async fn run_file<D: Database>(db: &mut D, file: &File<'_>) -> anyhow::Result<Result<(), StatementFailure>> {
    let dialect = db.statement_dialect();
    let statements = crate::declared::split_statements(std::path::Path::new(&file.name), file.text, dialect.as_ref())
        .map_err(|e| anyhow::anyhow!("cannot split {} into statements: {e}", file.name))?;
    let failure = |i: usize, error: String, position: Option<usize>| {
        let statement: &RawStatement = &statements[i];
        let location = match position {
            Some(position) => statement.location.advance(&statement.sql, position),
            None => statement.location.clone(),
        };
        StatementFailure {
            file: file.name.clone(),
            direction: file.direction,
            part: file.part,
            parts: file.parts,
            statement: i + 1,
            statements: statements.len(),
            location: location.to_string(),
            sql: statement.sql.clone(),
            error,
        }
    };
    if !migrations::is_transactional(file.text) {
        for (i, statement) in statements.iter().enumerate() {
            if let Err(e) = db.execute(&statement.sql).await {
                return Ok(Err(failure(i, e.message, e.position)));
            }
        }
        return Ok(Ok(()));
    }
    // The runner refuses a transactional file that ends or starts a transaction of its own.
    if let Some((i, keyword)) =
        statements.iter().enumerate().find_map(|(i, s)| runner::transaction_control(&s.sql).map(|k| (i, k)))
    {
        let error = format!("{keyword} in a migration that runs in a transaction; the runner refuses to run it");
        return Ok(Err(failure(i, error, None)));
    }
    db.begin().await.map_err(|e| anyhow::anyhow!("scratch database: cannot begin a transaction: {e}"))?;
    for (i, statement) in statements.iter().enumerate() {
        if let Err(e) = db.execute(&statement.sql).await {
            let _ = db.rollback().await;
            return Ok(Err(failure(i, e.message, e.position)));
        }
    }
    if let Err(e) = db.commit().await {
        // A deferred constraint, or (SQLite) a foreign key left pointing nowhere: the file's last
        // statement is where the transaction ends.
        let Some(last) = statements.len().checked_sub(1) else {
            anyhow::bail!("scratch database: COMMIT failed: {e}");
        };
        return Ok(Err(failure(last, format!("COMMIT failed: {}", e.message), None)));
    }
    Ok(Ok(()))
}
