//! The migration runner: applies and reverts the migrations of the generated directory and keeps the
//! tracking table. The algorithm is generic and lives here; each database implements the few primitives
//! of [`Database`] (`dialect::postgres::runner`, `dialect::sqlite::runner`).
//!
//! `up`: take the lock (bounded wait) → create the tracking table if needed → refuse if a migration is
//! dirty, an applied file changed or went missing, or a pending version is older than the latest applied
//! one → apply each pending migration in its own transaction together with its tracking row → unlock.
//! `down` mirrors it with the `.down.sql` files, newest first, deleting the rows in the same transaction.
//!
//! A migration whose first line is `-- schema:no-transaction` cannot be atomic. Its tracking row is
//! written first with `dirty = true` and a note saying how far it got, updated before each statement;
//! the row is marked clean only when every statement succeeded. A failure (or a killed process) thus
//! leaves a dirty row, and every later run refuses until a person has looked at the database and run
//! `schema migrate resolve VERSION --applied` or `--rolled-back`. A database whose every statement is
//! transactional and whose runner holds one transaction for the whole run (SQLite) runs such a file
//! like any other ([`Database::always_transactional`]).
//!
//! While a statement runs long, its progress is shown on stderr ([`progress`]).

pub mod progress;

use crate::declared::{RawStatement, SourceLocation};
use crate::migrations::{self, Direction, LocalMigration, Script, SumProblem};
use crate::model::QualifiedName;
use progress::{Label, Progress};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// How migrations run, from `[migrate]` in diff.toml, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The tracking table.
    pub table: QualifiedName,
    pub lock_timeout: Option<Duration>,
    pub statement_timeout: Option<Duration>,
    /// How long to wait for another runner's lock.
    pub lock_wait: Duration,
    /// Retries of a migration (or, outside a transaction, a statement) that hit the lock timeout.
    pub retries: u32,
    /// The first retry's delay; each further retry waits twice as long (at most 10 s).
    pub backoff: Duration,
    /// The schemas unqualified names resolve to while migrations run, in order (PostgreSQL; a tenant's
    /// schema, then the shared ones). Empty: the role's own `search_path`.
    pub search_path: Vec<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            table: QualifiedName::new("public", "schema_migrations"),
            lock_timeout: None,
            statement_timeout: None,
            lock_wait: Duration::from_secs(300),
            retries: 3,
            backoff: Duration::from_millis(500),
            search_path: Vec::new(),
        }
    }
}

impl Options {
    fn backoff(&self, attempt: u32) -> Duration {
        self.backoff.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1))).min(Duration::from_secs(10))
    }
}

/// One row of the tracking table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: String,
    pub name: String,
    /// SHA-256 of the up file as it was applied.
    pub checksum: String,
    /// When it was applied, as text in UTC (filled in by the database).
    pub applied_at: String,
    pub execution_ms: i64,
    /// True while a migration that runs outside a transaction is in progress, or after it failed.
    pub dirty: bool,
    /// For a dirty row: how far it got.
    pub note: Option<String>,
}

impl Applied {
    fn id(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }
}

/// A statement's failure, as the database reported it.
#[derive(Debug, Clone)]
pub struct DbError {
    pub message: String,
    /// The statement waited longer than `lock_timeout` for a lock (PostgreSQL SQLSTATE 55P03).
    pub lock_timeout: bool,
    /// 1-based character offset of the error in the statement, when the database gives one.
    pub position: Option<usize>,
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a database has to provide to run migrations. Everything else is [`up`], [`down`], [`status`].
// The runner runs on one thread, so the futures need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait Database {
    /// The SQL dialect, for splitting migration files into statements.
    fn statement_dialect(&self) -> Box<dyn sqlparser::dialect::Dialect>;
    /// The tracking table as the database's introspection names it (SQLite has one schema, `main`).
    fn tracking_table(&self, options: &Options) -> QualifiedName {
        options.table.clone()
    }
    /// Whether every migration runs in a transaction, `-- schema:no-transaction` or not: true where the
    /// runner's lock is itself a transaction, so that statements cannot commit on their own (SQLite).
    fn always_transactional(&self) -> bool {
        false
    }
    /// Takes the lock that makes runners take turns, without waiting: false if another holds it.
    async fn try_lock(&mut self) -> Result<bool, DbError>;
    /// Who holds the lock, for the message when waiting for it times out.
    async fn lock_holder(&mut self) -> Result<Option<String>, DbError>;
    async fn unlock(&mut self) -> Result<(), DbError>;
    /// Creates the tracking table unless it exists (called with the lock held).
    async fn ensure_table(&mut self) -> Result<(), DbError>;
    /// The tracking table's rows in version order; none if the table does not exist.
    async fn applied(&mut self) -> Result<Vec<Applied>, DbError>;
    async fn begin(&mut self) -> Result<(), DbError>;
    /// Commits; on failure no transaction is left open (the migration is rolled back).
    async fn commit(&mut self) -> Result<(), DbError>;
    async fn rollback(&mut self) -> Result<(), DbError>;
    /// Runs one statement of a migration.
    async fn execute(&mut self, sql: &str) -> Result<(), DbError>;
    /// Inserts a row (`applied_at` is set by the database).
    async fn insert(&mut self, row: &Applied) -> Result<(), DbError>;
    /// Sets a row's dirty flag, note and execution time.
    async fn mark(&mut self, version: &str, dirty: bool, note: Option<&str>, execution_ms: i64) -> Result<(), DbError>;
    async fn delete(&mut self, version: &str) -> Result<(), DbError>;
    /// What reads a statement's progress from outside while this connection runs it.
    type Watch: progress::Watch;
    /// A watch on `sql`, which this connection is about to run; asked only when progress is shown. It
    /// opens nothing until it is first polled. None where the database cannot tell (the elapsed time is
    /// shown instead).
    async fn watch(&mut self, _sql: &str) -> Option<Self::Watch> {
        None
    }
}

/// Something that stops `up` or `down` before it changes anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Integrity(SumProblem),
    Dirty {
        id: String,
        note: Option<String>,
    },
    ChecksumMismatch {
        id: String,
        file: String,
    },
    MissingFile {
        id: String,
    },
    OutOfOrder {
        id: String,
        latest: String,
    },
    /// A statement that would break the migration's own transaction (BEGIN, COMMIT, ...).
    TransactionControl {
        location: String,
        keyword: String,
        /// Whether `-- schema:no-transaction` would let it run (not on SQLite).
        header_helps: bool,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Integrity(problem) => write!(f, "{problem}"),
            Problem::Dirty { id, note } => write!(
                f,
                "{id} is dirty: it ran outside a transaction and did not finish ({}); check the database, finish or \
                 undo its statements by hand, then run `schema migrate resolve {} --applied` or `--rolled-back`",
                note.as_deref().unwrap_or("no details recorded"),
                &id[..id.len().min(14)]
            ),
            Problem::ChecksumMismatch { id, file } => write!(
                f,
                "{id} was applied, but {file} has changed since (its checksum differs from the tracking table's); \
                 revert the edit and write a new migration instead"
            ),
            Problem::MissingFile { id } => {
                write!(f, "{id} is applied but its file is missing from the migrations directory; restore it")
            }
            Problem::OutOfOrder { id, latest } => write!(
                f,
                "{id} is not applied but is older than the latest applied migration {latest} (added on another \
                 branch?); give it a version later than {latest} (rename both files, then `schema migrate hash`)"
            ),
            Problem::TransactionControl { location, keyword, header_helps: true } => write!(
                f,
                "{location}: {keyword} in a migration that runs in a transaction; remove it (each migration runs in \
                 its own transaction), or make `-- schema:no-transaction` the file's first line"
            ),
            Problem::TransactionControl { location, keyword, header_helps: false } => write!(
                f,
                "{location}: {keyword} in a migration; remove it (with SQLite, each migration runs in its own \
                 transaction, `-- schema:no-transaction` or not)"
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Dir(#[from] migrations::DirError),
    #[error("refusing to run, nothing was changed:{}", problems.iter().map(|p| format!("\n  - {p}")).collect::<String>())]
    Refused { problems: Vec<Problem> },
    #[error(
        "another `schema migrate` has held the lock on {table} for {waited:?}{}; gave up (raise [migrate] lock_wait \
         in diff.toml to wait longer)",
        holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    LockTimeout { table: String, waited: Duration, holder: Option<String> },
    #[error("{context}: {error}")]
    Db { context: String, error: DbError },
    #[error("{0}")]
    Failed(String),
    #[error("{0}")]
    Usage(String),
}

fn db(context: impl Into<String>) -> impl FnOnce(DbError) -> RunnerError {
    let context = context.into();
    move |error| RunnerError::Db { context, error }
}

/// Reads the migrations directory and checks it against its integrity file.
pub fn local(dir: &Path) -> Result<(Vec<LocalMigration>, Vec<SumProblem>), RunnerError> {
    let migrations = migrations::read_dir(dir)?;
    let problems = migrations::check_sum(dir, &migrations)?;
    Ok((migrations, problems))
}

/// One line of `schema migrate status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Applied {
        applied_at: String,
        execution_ms: i64,
    },
    Pending,
    /// Pending contract migration: applied only by `migrate up --contract`.
    Waiting,
    Dirty,
    /// Applied, but the file changed.
    Changed,
    /// Applied, but the file is gone.
    Missing,
    /// Pending, but older than the latest applied migration.
    OutOfOrder,
}

#[derive(Debug, Clone)]
pub struct Status {
    /// (version_name, state), in version order.
    pub rows: Vec<(String, State)>,
    pub problems: Vec<Problem>,
    pub pending: usize,
}

/// Compares the directory with the tracking table. Takes no lock and writes nothing.
pub async fn status<D: Database>(
    db: &mut D,
    local: &[LocalMigration],
    sum: &[SumProblem],
) -> Result<Status, RunnerError> {
    let applied = db.applied().await.map_err(self::db("cannot read the tracking table"))?;
    let mut problems: Vec<Problem> = sum.iter().cloned().map(Problem::Integrity).collect();
    problems.extend(check(local, &applied));
    let mut rows: Vec<(String, String, State)> = Vec::new();
    let latest = applied.iter().map(|a| a.version.as_str()).max().unwrap_or("");
    for row in &applied {
        let state = match local.iter().find(|m| m.version == row.version) {
            _ if row.dirty => State::Dirty,
            None => State::Missing,
            Some(m) if m.up.checksum != row.checksum => State::Changed,
            Some(_) => State::Applied { applied_at: row.applied_at.clone(), execution_ms: row.execution_ms },
        };
        rows.push((row.version.clone(), row.id(), state));
    }
    let mut pending = 0;
    for m in local.iter().filter(|m| !applied.iter().any(|a| a.version == m.version)) {
        pending += 1;
        let state = if m.version.as_str() < latest {
            State::OutOfOrder
        } else if m.is_contract() {
            State::Waiting
        } else {
            State::Pending
        };
        rows.push((m.version.clone(), m.id(), state));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Status { rows: rows.into_iter().map(|(_, id, state)| (id, state)).collect(), problems, pending })
}

/// The problems between the directory and the tracking table that stop a run.
fn check(local: &[LocalMigration], applied: &[Applied]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for row in applied {
        if row.dirty {
            problems.push(Problem::Dirty { id: row.id(), note: row.note.clone() });
            continue;
        }
        match local.iter().find(|m| m.version == row.version) {
            None => problems.push(Problem::MissingFile { id: row.id() }),
            Some(m) if m.up.checksum != row.checksum => {
                problems.push(Problem::ChecksumMismatch { id: row.id(), file: m.up.path.display().to_string() })
            }
            Some(_) => {}
        }
    }
    if let Some(latest) = applied.iter().max_by(|a, b| a.version.cmp(&b.version)) {
        for m in local.iter().filter(|m| m.version < latest.version) {
            if !applied.iter().any(|a| a.version == m.version) {
                problems.push(Problem::OutOfOrder { id: m.id(), latest: latest.id() });
            }
        }
    }
    problems
}

/// Where `up` stops.
#[derive(Debug, Clone, Default)]
pub struct UpTarget {
    /// The last version to apply (inclusive); all pending ones if `None`.
    pub to: Option<String>,
    /// Apply contract migrations (`-- schema:phase contract`) too. Without it, `up` stops before the first
    /// pending one: it removes the old shape, which only the person who knows that no running application
    /// uses it any more should ask for.
    pub contract: bool,
}

/// Which applied migrations `down` reverts, newest first.
#[derive(Debug, Clone)]
pub enum DownTarget {
    Steps(usize),
    /// Every applied migration later than this version.
    To(String),
    All,
}

/// Applies pending migrations; returns how many were applied. What was done goes to `out`, the progress of
/// long statements to `progress`.
pub async fn up<D: Database>(
    db: &mut D,
    options: &Options,
    local: &[LocalMigration],
    sum: &[SumProblem],
    target: &UpTarget,
    out: &mut dyn Write,
    progress: &mut Progress,
) -> Result<usize, RunnerError> {
    if let Some(to) = &target.to
        && !local.iter().any(|m| &m.version == to)
    {
        return Err(RunnerError::Usage(format!("--to {to}: no migration with this version in the directory")));
    }
    let mut problems: Vec<Problem> = sum.iter().cloned().map(Problem::Integrity).collect();
    // Split every file before taking the lock: a file that does not even tokenize stops the run here.
    let mut split = Vec::new();
    for m in local {
        split.push(statements(db.statement_dialect().as_ref(), db.always_transactional(), &m.up, &mut problems)?);
    }
    with_lock(db, options, out, async |db, out| {
        let applied = db.applied().await.map_err(self::db("cannot read the tracking table"))?;
        problems.extend(check(local, &applied));
        if !problems.is_empty() {
            return Err(RunnerError::Refused { problems });
        }
        let mut count = 0;
        for (m, statements) in local.iter().zip(&split) {
            if applied.iter().any(|a| a.version == m.version) {
                continue;
            }
            if target.to.as_ref().is_some_and(|to| &m.version > to) {
                break;
            }
            if m.is_contract() && !target.contract {
                let _ = writeln!(
                    out,
                    "waiting: {} is a contract migration (it removes the old shape); run `schema migrate up \
                     --contract` once no running application uses it",
                    m.id()
                );
                break;
            }
            let elapsed = run_script(db, options, m, Direction::Up, &m.up, statements, out, progress).await?;
            let _ = writeln!(out, "applied {} ({} ms)", m.id(), elapsed.as_millis());
            count += 1;
        }
        if count == 0 {
            let latest = applied.last().map(Applied::id).unwrap_or_else(|| "none".into());
            let _ = writeln!(out, "nothing to apply (latest applied: {latest})");
        }
        Ok(count)
    })
    .await
}

/// Reverts applied migrations with their down files, newest first; returns how many were reverted.
pub async fn down<D: Database>(
    db: &mut D,
    options: &Options,
    local: &[LocalMigration],
    sum: &[SumProblem],
    target: &DownTarget,
    out: &mut dyn Write,
    progress: &mut Progress,
) -> Result<usize, RunnerError> {
    let mut problems: Vec<Problem> = sum.iter().cloned().map(Problem::Integrity).collect();
    let mut split = Vec::new();
    for m in local {
        split.push(match &m.down {
            Some(script) => {
                Some(statements(db.statement_dialect().as_ref(), db.always_transactional(), script, &mut problems)?)
            }
            None => None,
        });
    }
    with_lock(db, options, out, async |db, out| {
        let applied = db.applied().await.map_err(self::db("cannot read the tracking table"))?;
        problems.extend(check(local, &applied));
        if !problems.is_empty() {
            return Err(RunnerError::Refused { problems });
        }
        let chosen: Vec<&Applied> = match target {
            DownTarget::Steps(n) => applied.iter().rev().take(*n).collect(),
            DownTarget::All => applied.iter().rev().collect(),
            DownTarget::To(version) => {
                if !applied.iter().any(|a| &a.version == version) {
                    return Err(RunnerError::Usage(format!(
                        "--to {version}: this version is not applied (use --all to revert every migration)"
                    )));
                }
                applied.iter().rev().take_while(|a| &a.version > version).collect()
            }
        };
        // Every chosen migration must be reversible before the first one is reverted.
        let mut plan = Vec::new();
        for row in &chosen {
            let index = local.iter().position(|m| m.version == row.version).expect("checked: no applied file missing");
            match (&local[index].down, &split[index]) {
                (Some(script), Some(statements)) => plan.push((&local[index], script, statements)),
                _ => {
                    return Err(RunnerError::Usage(format!(
                        "{} has no .down.sql file, so it cannot be reverted; nothing was reverted",
                        local[index].id()
                    )));
                }
            }
        }
        for (m, script, statements) in &plan {
            let elapsed = run_script(db, options, m, Direction::Down, script, statements, out, progress).await?;
            let _ = writeln!(out, "reverted {} ({} ms)", m.id(), elapsed.as_millis());
        }
        if plan.is_empty() {
            let _ = writeln!(out, "nothing to revert");
        }
        Ok(plan.len())
    })
    .await
}

/// Settles a dirty migration after a person has fixed the database: `applied` keeps the row (clean),
/// otherwise the row is deleted and the migration counts as not applied.
pub async fn resolve<D: Database>(
    db: &mut D,
    options: &Options,
    version: &str,
    applied: bool,
    out: &mut dyn Write,
) -> Result<(), RunnerError> {
    with_lock(db, options, out, async |db, out| {
        let rows = db.applied().await.map_err(self::db("cannot read the tracking table"))?;
        let Some(row) = rows.iter().find(|r| r.version == version) else {
            return Err(RunnerError::Usage(format!("{version} is not in the tracking table")));
        };
        if !row.dirty {
            return Err(RunnerError::Usage(format!("{} is not dirty; there is nothing to resolve", row.id())));
        }
        if applied {
            db.mark(version, false, None, row.execution_ms)
                .await
                .map_err(self::db("cannot update the tracking table"))?;
            let _ = writeln!(out, "marked {} as applied", row.id());
        } else {
            db.delete(version).await.map_err(self::db("cannot update the tracking table"))?;
            let _ = writeln!(out, "marked {} as not applied", row.id());
        }
        Ok(())
    })
    .await
}

/// Takes the lock (waiting at most `lock_wait`), creates the tracking table, runs `body`, and unlocks
/// whatever `body` returned.
async fn with_lock<D: Database, T>(
    db: &mut D,
    options: &Options,
    out: &mut dyn Write,
    body: impl AsyncFnOnce(&mut D, &mut dyn Write) -> Result<T, RunnerError>,
) -> Result<T, RunnerError> {
    let started = Instant::now();
    let mut told = false;
    while !db.try_lock().await.map_err(self::db("cannot take the migration lock"))? {
        if started.elapsed() >= options.lock_wait {
            let holder = db.lock_holder().await.ok().flatten();
            return Err(RunnerError::LockTimeout {
                table: db.tracking_table(options).to_string(),
                waited: options.lock_wait,
                holder,
            });
        }
        if !told {
            eprintln!("waiting for another `schema migrate` to finish (at most {:?})", options.lock_wait);
            told = true;
        }
        tokio::time::sleep(Duration::from_millis(100).min(options.lock_wait)).await;
    }
    let result = match db.ensure_table().await {
        Ok(()) => body(db, out).await,
        Err(error) => {
            let table = db.tracking_table(options);
            Err(RunnerError::Db { context: format!("cannot create the tracking table {table}"), error })
        }
    };
    let unlocked = db.unlock().await;
    match (result, unlocked) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(error)) => Err(RunnerError::Db { context: "cannot release the migration lock".into(), error }),
        (Err(e), _) => Err(e),
    }
}

/// Whether a file's statements run in one transaction.
fn transactional<D: Database>(db: &D, script: &Script) -> bool {
    script.transactional || db.always_transactional()
}

/// A file's statements; transaction control in a transactional file is recorded as a problem.
/// `always_transactional`: [`Database::always_transactional`].
fn statements(
    dialect: &dyn sqlparser::dialect::Dialect,
    always_transactional: bool,
    script: &Script,
    problems: &mut Vec<Problem>,
) -> Result<Vec<RawStatement>, RunnerError> {
    let statements = crate::declared::split_statements(&script.path, &script.text, dialect)
        .map_err(|e| RunnerError::Failed(format!("cannot split {} into statements: {e}", script.path.display())))?;
    if script.transactional || always_transactional {
        for statement in &statements {
            if let Some(keyword) = transaction_control(&statement.sql) {
                let location = statement.location.to_string();
                let header_helps = !always_transactional;
                problems.push(Problem::TransactionControl { location, keyword, header_helps });
            }
        }
    }
    Ok(statements)
}

/// `BEGIN`, `COMMIT`, ... when the statement ends or starts a transaction.
pub(crate) fn transaction_control(sql: &str) -> Option<String> {
    let mut words = sql.split_whitespace().map(|w| w.trim_end_matches(';').to_ascii_uppercase());
    let first = words.next()?;
    let second = words.next();
    let control = match first.as_str() {
        "BEGIN" | "COMMIT" | "END" | "ABORT" => true,
        "START" => second.as_deref() == Some("TRANSACTION"),
        "ROLLBACK" => second.as_deref() != Some("TO"),
        _ => false,
    };
    control.then_some(first)
}

/// Runs one migration file with its bookkeeping; returns how long the statements took.
#[allow(clippy::too_many_arguments)]
async fn run_script<D: Database>(
    db: &mut D,
    options: &Options,
    m: &LocalMigration,
    direction: Direction,
    script: &Script,
    statements: &[RawStatement],
    out: &mut dyn Write,
    progress: &mut Progress,
) -> Result<Duration, RunnerError> {
    if transactional(db, script) {
        run_in_transaction(db, options, m, direction, statements, out, progress).await
    } else {
        run_outside_transaction(db, options, m, direction, script, statements, out, progress).await
    }
}

/// Runs statement `i` of a migration (or `sql` in its place: a retried statement's guard), showing its
/// progress while it runs long.
async fn execute<D: Database>(
    db: &mut D,
    progress: &mut Progress,
    migration: &str,
    statements: &[RawStatement],
    i: usize,
    sql: &str,
) -> Result<(), DbError> {
    if progress.is_off() {
        return db.execute(sql).await;
    }
    let label = Label { migration, statement: i + 1, statements: statements.len(), sql };
    let watch = if progress.wants_watch() { db.watch(sql).await } else { None };
    progress.during(label, watch, db.execute(sql)).await
}

/// The migration as progress names it.
fn shown(m: &LocalMigration, direction: Direction) -> String {
    match direction {
        Direction::Up => m.id(),
        Direction::Down => format!("{} (down)", m.id()),
    }
}

async fn run_in_transaction<D: Database>(
    db: &mut D,
    options: &Options,
    m: &LocalMigration,
    direction: Direction,
    statements: &[RawStatement],
    out: &mut dyn Write,
    progress: &mut Progress,
) -> Result<Duration, RunnerError> {
    let id = m.id();
    let shown = shown(m, direction);
    let mut attempt = 0;
    'attempt: loop {
        attempt += 1;
        db.begin().await.map_err(self::db(format!("{id}: cannot begin a transaction")))?;
        let started = Instant::now();
        for (i, statement) in statements.iter().enumerate() {
            if let Err(error) = execute(db, progress, &shown, statements, i, &statement.sql).await {
                let _ = db.rollback().await;
                if error.lock_timeout && attempt <= options.retries {
                    let delay = options.backoff(attempt);
                    let _ = writeln!(
                        out,
                        "{id} ({direction}): lock timeout at statement {} of {}; rolled back, retry {attempt} of {} \
                         in {delay:?}",
                        i + 1,
                        statements.len(),
                        options.retries
                    );
                    tokio::time::sleep(delay).await;
                    continue 'attempt;
                }
                return Err(RunnerError::Failed(format!(
                    "{}\nthe migration's transaction was rolled back: the database is as it was before {id} ran, and \
                     {id} is not recorded as {}",
                    statement_failure(&id, direction, i, statements, &error, attempt - 1),
                    if direction == Direction::Up { "applied" } else { "reverted" },
                )));
            }
        }
        let elapsed = started.elapsed();
        let bookkeeping = match direction {
            Direction::Up => db.insert(&row(m, elapsed, false, None)).await,
            Direction::Down => db.delete(&m.version).await,
        };
        if let Err(error) = bookkeeping {
            let _ = db.rollback().await;
            return Err(RunnerError::Db {
                context: format!("{id}: cannot update the tracking table; the migration was rolled back"),
                error,
            });
        }
        db.commit().await.map_err(|error| RunnerError::Db {
            context: format!(
                "{id} ({direction}): COMMIT failed (for example a deferred constraint); the migration was rolled back"
            ),
            error,
        })?;
        return Ok(elapsed);
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_outside_transaction<D: Database>(
    db: &mut D,
    options: &Options,
    m: &LocalMigration,
    direction: Direction,
    script: &Script,
    statements: &[RawStatement],
    out: &mut dyn Write,
    progress: &mut Progress,
) -> Result<Duration, RunnerError> {
    let id = m.id();
    let shown = shown(m, direction);
    let total = statements.len();
    let note = |done: usize| {
        format!(
            "{direction} outside a transaction: {done} of {total} statements done, statement {} started (it may or \
             may not have taken effect)",
            done + 1
        )
    };
    let context = format!("{id}: cannot write the dirty marker to the tracking table; nothing was run");
    match direction {
        Direction::Up => db.insert(&row(m, Duration::ZERO, true, Some(&note(0)))).await,
        Direction::Down => db.mark(&m.version, true, Some(&note(0)), 0).await,
    }
    .map_err(self::db(context))?;
    let started = Instant::now();
    for (i, statement) in statements.iter().enumerate() {
        if i > 0 {
            db.mark(&m.version, true, Some(&note(i)), 0)
                .await
                .map_err(self::db(format!("{id}: cannot update the dirty marker; statements 1-{i} of {total} ran")))?;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            // A retried statement first re-runs its guard (see [`guard_of`]): a concurrent index build that
            // timed out left an INVALID index under the name it builds.
            let guard = if attempt > 1 { guard_of(statements, i) } else { None };
            let result = match guard {
                Some(guard) => match execute(db, progress, &shown, statements, i, &guard.sql).await {
                    Ok(()) => execute(db, progress, &shown, statements, i, &statement.sql).await,
                    Err(e) => Err(e),
                },
                None => execute(db, progress, &shown, statements, i, &statement.sql).await,
            };
            let Err(error) = result else { break };
            if error.lock_timeout && attempt <= options.retries {
                let delay = options.backoff(attempt);
                let _ = writeln!(
                    out,
                    "{id} ({direction}): lock timeout at statement {} of {total}; retry {attempt} of {} in {delay:?}",
                    i + 1,
                    options.retries
                );
                tokio::time::sleep(delay).await;
                continue;
            }
            let note = format!(
                "{direction} outside a transaction: {i} of {total} statements done, statement {} failed: {}",
                i + 1,
                error.message.lines().next().unwrap_or_default()
            );
            let marked = db.mark(&m.version, true, Some(&note), 0).await;
            let committed = match i {
                0 => "no statement before it had run".to_string(),
                1 => "statement 1 was committed and remains in effect".to_string(),
                _ => format!("statements 1-{i} were committed and remain in effect"),
            };
            let not_run = match total - i - 1 {
                0 => String::new(),
                1 => format!("; statement {total} was not run"),
                _ => format!("; statements {}-{total} were not run", i + 2),
            };
            let mut message = format!(
                "{}\n{id} runs outside a transaction (-- schema:no-transaction in {}): {committed}; statement {} failed \
                 and did not take effect (a failed CREATE INDEX CONCURRENTLY leaves an INVALID index to drop){not_run}.\n",
                statement_failure(&id, direction, i, statements, &error, attempt - 1),
                script.path.display(),
                i + 1,
            );
            message.push_str(&match marked {
                Ok(()) => format!(
                    "{id} is marked dirty in the tracking table {}, and `schema migrate` refuses to run until you finish \
                     or undo the migration by hand and run `schema migrate resolve {} --applied` or `--rolled-back`",
                    db.tracking_table(options),
                    m.version
                ),
                Err(e) => format!("the dirty marker could not be updated ({e}); it still says where the run got to"),
            });
            return Err(RunnerError::Failed(message));
        }
    }
    let elapsed = started.elapsed();
    let ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
    match direction {
        Direction::Up => db.mark(&m.version, false, None, ms).await,
        Direction::Down => db.delete(&m.version).await,
    }
    .map_err(self::db(format!(
        "{id}: every statement ran, but the tracking table could not be updated; the row stays dirty: run `schema \
         migrate resolve {} --{}`",
        m.version,
        if direction == Direction::Up { "applied" } else { "rolled-back" }
    )))?;
    Ok(elapsed)
}

/// The statement that makes statement `i` of a no-transaction file re-runnable, if the file has one
/// right before it: `DROP INDEX CONCURRENTLY IF EXISTS` before a `CREATE [UNIQUE] INDEX CONCURRENTLY`
/// (session `SET`s in between are skipped). Generated online migrations are written that way.
fn guard_of(statements: &[RawStatement], i: usize) -> Option<&RawStatement> {
    let words = |sql: &str| sql.split_whitespace().map(str::to_ascii_uppercase).collect::<Vec<_>>();
    let build = words(&statements[i].sql);
    let is_build = matches!(build.as_slice(), [c, i, x, ..] | [c, _, i, x, ..] if c == "CREATE" && i == "INDEX" && x == "CONCURRENTLY");
    if !is_build {
        return None;
    }
    statements[..i]
        .iter()
        .rev()
        .find(|s| words(&s.sql).first().is_none_or(|w| w != "SET"))
        .filter(|s| words(&s.sql).starts_with(&["DROP", "INDEX", "CONCURRENTLY", "IF", "EXISTS"].map(String::from)))
}

fn row(m: &LocalMigration, elapsed: Duration, dirty: bool, note: Option<&str>) -> Applied {
    Applied {
        version: m.version.clone(),
        name: m.name.clone(),
        checksum: m.up.checksum.clone(),
        applied_at: String::new(),
        execution_ms: i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX),
        dirty,
        note: note.map(str::to_string),
    }
}

/// "`id` (up) failed at statement 2 of 3 (file:line:column): error", with the statement's first lines.
fn statement_failure(
    id: &str,
    direction: Direction,
    index: usize,
    statements: &[RawStatement],
    error: &DbError,
    retries: u32,
) -> String {
    let statement = &statements[index];
    let location: SourceLocation = match error.position {
        Some(position) => statement.location.advance(&statement.sql, position),
        None => statement.location.clone(),
    };
    let mut excerpt: String = statement.sql.lines().take(3).map(|l| format!("\n    {l}")).collect();
    if statement.sql.lines().count() > 3 {
        excerpt.push_str("\n    ...");
    }
    let retried = if retries > 0 { format!(" after {retries} retries") } else { String::new() };
    format!(
        "{id} ({direction}) failed at statement {} of {} ({location}){retried}: {error}{excerpt}",
        index + 1,
        statements.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let options = Options::default();
        assert_eq!(options.backoff(1), Duration::from_millis(500));
        assert_eq!(options.backoff(3), Duration::from_secs(2));
        assert_eq!(options.backoff(30), Duration::from_secs(10));
    }

    #[test]
    fn a_last_statement_without_a_semicolon_is_kept() {
        let script = Script {
            path: "x.up.sql".into(),
            text: "SELECT 1;\nDROP INDEX x -- the end".into(),
            checksum: String::new(),
            transactional: true,
        };
        let found = statements(&sqlparser::dialect::PostgreSqlDialect {}, false, &script, &mut Vec::new()).unwrap();
        let sql: Vec<&str> = found.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(sql, ["SELECT 1", "DROP INDEX x -- the end"]);
    }

    #[test]
    fn a_concurrent_build_is_retried_after_its_guard() {
        let script = Script {
            path: "x.up.sql".into(),
            text: "DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"i\";\nSET lock_timeout = '1s';\n\
                   CREATE UNIQUE INDEX CONCURRENTLY \"i\" ON t (a);\nCREATE INDEX CONCURRENTLY j ON t (b);"
                .into(),
            checksum: String::new(),
            transactional: false,
        };
        let found = statements(&sqlparser::dialect::PostgreSqlDialect {}, false, &script, &mut Vec::new()).unwrap();
        assert_eq!(
            guard_of(&found, 2).map(|s| s.sql.as_str()),
            Some("DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"i\"")
        );
        assert!(guard_of(&found, 3).is_none(), "the statement before it is a build, not a guard");
        assert!(guard_of(&found, 1).is_none());
    }

    #[test]
    fn transaction_control_is_recognized() {
        assert_eq!(transaction_control("BEGIN"), Some("BEGIN".into()));
        assert_eq!(transaction_control("commit"), Some("COMMIT".into()));
        assert_eq!(transaction_control("START TRANSACTION ISOLATION LEVEL SERIALIZABLE"), Some("START".into()));
        assert_eq!(transaction_control("ROLLBACK TO SAVEPOINT a"), None);
        assert_eq!(transaction_control("CREATE TABLE begin (id int)"), None);
        assert_eq!(transaction_control("DO $$ BEGIN PERFORM 1; END $$"), None);
    }
}
