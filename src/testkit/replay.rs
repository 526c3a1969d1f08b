//! History replay: a folder of a project's real migrations (ups, and downs where it has them) becomes a
//! series of round trips. State k is the database that running ups 1..k builds. For every step k and
//! every route (the raw `pg_dump --schema-only` of state k, and `schema inspect` of it), the declared
//! schema is that dump; `schema` plans from a copy of state k-1, the files it writes are applied by the
//! tool's own runner, and the result must equal state k (an independent catalog fingerprint), a second
//! plan must be empty, and the down files must bring the copy back to state k-1.
//!
//! Layouts read ([`read_history`]): diesel (`<dir>/<version>_<name>/up.sql`, `down.sql`), golang-migrate
//! and sqlx reversible (`<version>_<name>.up.sql`, `.down.sql`), and plain ordered `*.sql` files (sqlx
//! simple, Flyway `V1__x.sql`). Versions that are all numbers are ordered as numbers.

use super::roundtrip;
use super::{PgServer, TestDatabase};
use crate::dialect::postgres::connect;
use crate::pipeline;
use crate::settings::Settings;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// One migration of a history.
#[derive(Debug, Clone)]
pub struct HistoryStep {
    /// The migration's name: its folder or file name without the direction suffix.
    pub name: String,
    pub up: String,
    pub down: Option<String>,
}

/// The declared schema a step is planned towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `pg_dump --schema-only` of state k, unedited.
    Dump,
    /// `schema inspect` of state k.
    Inspect,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Dump => "pg_dump",
            Route::Inspect => "inspect",
        }
    }
}

/// What happened to one step on one route. A stage not reached is `false`.
#[derive(Debug)]
pub struct StepOutcome {
    pub index: usize,
    pub name: String,
    pub route: Route,
    pub up: bool,
    pub noop: bool,
    pub down: bool,
    /// The migration files `schema` wrote for the step, up and down, in the order they run.
    pub files: Vec<(String, String)>,
    pub failure: Option<String>,
}

impl StepOutcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Reads a history folder (see the module docs for the layouts).
pub fn read_history(dir: &Path) -> Result<Vec<HistoryStep>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut steps = Vec::new();
    let diesel: Vec<&PathBuf> = entries.iter().filter(|p| p.is_dir() && p.join("up.sql").is_file()).collect();
    let is_diesel = !diesel.is_empty();
    if is_diesel {
        for path in diesel {
            let down = path.join("down.sql");
            steps.push(HistoryStep {
                name: file_name(path),
                up: read(&path.join("up.sql"))?,
                down: if down.is_file() { Some(read(&down)?) } else { None },
            });
        }
    } else {
        entries.retain(|p| p.is_file() && file_name(p).ends_with(".sql"));
        for path in &entries {
            let name = file_name(path);
            if name.ends_with(".down.sql") || name.ends_with(".undo.sql") {
                continue;
            }
            let stem = name.strip_suffix(".up.sql").unwrap_or_else(|| name.strip_suffix(".sql").unwrap_or(&name));
            let down = path.with_file_name(format!("{stem}.down.sql"));
            steps.push(HistoryStep {
                name: stem.to_string(),
                up: read(path)?,
                down: if down.is_file() { Some(read(&down)?) } else { None },
            });
        }
    }
    if steps.is_empty() {
        bail!("no migrations found in {} (expected <version>/up.sql folders, *.up.sql or *.sql files)", dir.display());
    }
    if is_diesel {
        steps.sort_by_key(|a| diesel_version(&a.name));
    } else {
        steps.sort_by_key(|a| version_key(&a.name));
    }
    Ok(steps)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Diesel's version of a migration folder: the name up to its first `_`, dashes left out, compared as
/// text as diesel compares it (`2024-03-13_170000_x`, version 20240313, runs after
/// `2024-03-06-170000_y`, version 20240306170000).
fn diesel_version(name: &str) -> (String, String) {
    let version = name.split('_').next().unwrap_or(name).replace('-', "");
    (version, name.to_string())
}

/// Orders `12_x` after `9_y`, `V10__x` after `V9__y`, and diesel's `2017-08-31-230457_x` after
/// `20140924113530_y` (its version is the digits without the dashes); otherwise by name.
fn version_key(name: &str) -> (u128, String) {
    let version = name.trim_start_matches(['V', 'v']).chars().take_while(|c| c.is_ascii_digit() || *c == '-');
    let digits: String = version.filter(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(0), name.to_string())
}

/// Options of a replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub routes: Vec<Route>,
    /// Steps to check, 1-based and inclusive; earlier steps are still applied to build the states.
    pub first: usize,
    pub last: usize,
    /// Plan with `--plain` (one transaction, no online rewrites) instead of the default online forms.
    pub plain: bool,
    /// The `pg_dump` program for the dump route.
    pub pg_dump: Option<PathBuf>,
}

impl Default for ReplayOptions {
    fn default() -> ReplayOptions {
        ReplayOptions {
            routes: vec![Route::Dump, Route::Inspect],
            first: 1,
            last: usize::MAX,
            plain: false,
            pg_dump: None,
        }
    }
}

/// Replays `steps` on `server`, calling `report` after each checked step and route. Fails only when a
/// history's own migration cannot be applied (the states cannot be built); every other problem is a
/// failed step.
pub async fn replay(
    server: &PgServer,
    steps: &[HistoryStep],
    options: &ReplayOptions,
    mut report: impl FnMut(&StepOutcome),
) -> Result<Vec<StepOutcome>> {
    let mut outcomes = Vec::new();
    let mut previous = server.fresh_database("replay_state_0").await?;
    let result = async {
        for (i, step) in steps.iter().enumerate() {
            let index = i + 1;
            if index > options.last {
                break;
            }
            let next = server.copy_database(&previous.name, &format!("replay_state_{index}")).await?;
            if let Err(e) = apply_history_file(&next.url, &step.up).await {
                let _ = server.drop_database(&next.name).await;
                bail!("step {index} ({}): the history's own up migration does not apply: {e:#}", step.name);
            }
            if index >= options.first {
                for &route in &options.routes {
                    let outcome = check_step(server, &previous, &next, index, &step.name, route, options).await;
                    report(&outcome);
                    outcomes.push(outcome);
                }
            }
            let _ = server.drop_database(&previous.name).await;
            previous = next;
        }
        Ok(())
    }
    .await;
    let _ = server.drop_database(&previous.name).await;
    result.map(|()| outcomes)
}

/// Applies one of the history's files as its own runner would: in one transaction, or statement by
/// statement when it holds a statement that cannot run in one (`CREATE INDEX CONCURRENTLY`).
pub async fn apply_history_file(url: &str, sql: &str) -> Result<()> {
    let mut conn = connect::connect(url).await?;
    let whole = format!("BEGIN;\n{sql}\n;COMMIT;");
    match sqlx::raw_sql(sqlx::AssertSqlSafe(whole)).execute(&mut conn).await {
        Ok(_) => Ok(()),
        Err(e) if db_code(&e).as_deref() == Some("25001") => {
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
            super::roundtrip::load_sql(url, sql).await
        }
        Err(e) => Err(anyhow::anyhow!("{}", connect::describe(&e))),
    }
}

fn db_code(e: &sqlx::Error) -> Option<String> {
    e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned())
}

async fn check_step(
    server: &PgServer,
    previous: &TestDatabase,
    next: &TestDatabase,
    index: usize,
    name: &str,
    route: Route,
    options: &ReplayOptions,
) -> StepOutcome {
    let mut outcome = StepOutcome {
        index,
        name: name.to_string(),
        route,
        up: false,
        noop: false,
        down: false,
        files: Vec::new(),
        failure: None,
    };
    let work = match server.copy_database(&previous.name, &format!("replay_work_{index}")).await {
        Ok(work) => work,
        Err(e) => {
            outcome.failure = Some(format!("cannot copy state {}: {e:#}", index - 1));
            return outcome;
        }
    };
    if let Err(e) = stages(previous, next, &work, route, options, &mut outcome).await {
        outcome.failure = Some(format!("{e:#}"));
    }
    let _ = server.drop_database(&work.name).await;
    outcome
}

async fn stages(
    previous: &TestDatabase,
    next: &TestDatabase,
    work: &TestDatabase,
    route: Route,
    options: &ReplayOptions,
    outcome: &mut StepOutcome,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut settings = roundtrip::file_settings(&work.url, dir.path())?;
    if options.plain {
        settings.hazards.rewrite.online = false;
        settings.hazards.rewrite.phased = false;
    }
    let declared = match route {
        Route::Dump => dump(options.pg_dump.as_deref(), &next.url)?,
        Route::Inspect => {
            let source = Settings { url: Some(next.url.clone()), ..Settings::default() };
            pipeline::inspect(&source).await.context("inspect of the next state")?.0
        }
    };
    std::fs::write(settings.schema_dir.join("schema.sql"), &declared)?;
    let expected_up = roundtrip::fingerprint_untracked(&next.url).await?;
    let expected_down = roundtrip::fingerprint_untracked(&previous.url).await?;
    let mut stages = roundtrip::Outcome::default();
    let result = roundtrip::generated_stages(&settings, &expected_up, &expected_down, &mut stages).await;
    (outcome.up, outcome.noop, outcome.down) = (stages.up, stages.noop, stages.down);
    outcome.files = stages.files;
    result
}

/// Replays `steps` with SQLite: each state is a file, state k a copy of state k-1 with the up of step
/// k applied. The dump route declares what `sqlite3 DB .schema` prints (the stored `CREATE` text, the
/// text a user would copy into `schema/`); the inspect route, `schema inspect`. Schemas compare with
/// the test kit's independent SQLite fingerprint. Fails only when the history's own up migration
/// cannot be applied.
pub async fn replay_sqlite(
    steps: &[HistoryStep],
    options: &ReplayOptions,
    mut report: impl FnMut(&StepOutcome),
) -> Result<Vec<StepOutcome>> {
    let dir = tempfile::tempdir()?;
    let state = |k: usize| dir.path().join(format!("state_{k}.db"));
    super::sqlite::open(&super::sqlite::url(&state(0))).await?;
    let mut outcomes = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let index = i + 1;
        if index > options.last {
            break;
        }
        std::fs::copy(state(index - 1), state(index))?;
        if let Err(e) = apply_sqlite_history_file(&super::sqlite::url(&state(index)), &step.up).await {
            bail!("step {index} ({}): the history's own up migration does not apply: {e:#}", step.name);
        }
        if index >= options.first {
            for &route in &options.routes {
                let mut outcome = StepOutcome {
                    index,
                    name: step.name.clone(),
                    route,
                    up: false,
                    noop: false,
                    down: false,
                    files: Vec::new(),
                    failure: None,
                };
                let work = dir.path().join(format!("work_{index}_{}", route.as_str()));
                std::fs::create_dir_all(&work)?;
                std::fs::copy(state(index - 1), work.join("app.db"))?;
                let (previous, next) = (state(index - 1), state(index));
                if let Err(e) = sqlite_stages(&previous, &next, &work, route, options, &mut outcome).await {
                    outcome.failure = Some(format!("{e:#}"));
                }
                let _ = std::fs::remove_dir_all(&work);
                report(&outcome);
                outcomes.push(outcome);
            }
        }
        let _ = std::fs::remove_file(state(index - 1));
    }
    Ok(outcomes)
}

/// Applies one of the history's files to a SQLite database in one transaction, foreign keys off (as
/// diesel and sqlx run SQLite migrations that rebuild tables).
pub async fn apply_sqlite_history_file(url: &str, sql: &str) -> Result<()> {
    use sqlx::Connection;
    let mut conn = super::sqlite::open(url).await?;
    sqlx::raw_sql("PRAGMA foreign_keys = OFF").execute(&mut conn).await?;
    let whole = format!("BEGIN;\n{sql}\n;COMMIT;");
    sqlx::raw_sql(sqlx::AssertSqlSafe(whole)).execute(&mut conn).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    conn.close().await?;
    Ok(())
}

async fn sqlite_stages(
    previous: &Path,
    next: &Path,
    work: &Path,
    route: Route,
    options: &ReplayOptions,
    outcome: &mut StepOutcome,
) -> Result<()> {
    let url = super::sqlite::url(&work.join("app.db"));
    let mut settings = roundtrip::file_settings(&url, work)?;
    if options.plain {
        settings.hazards.rewrite.online = false;
        settings.hazards.rewrite.phased = false;
    }
    let next_url = super::sqlite::url(next);
    let declared = match route {
        Route::Dump => sqlite_schema_text(next).await?,
        Route::Inspect => {
            let source = Settings { url: Some(next_url.clone()), ..Settings::default() };
            pipeline::inspect(&source).await.context("inspect of the next state")?.0
        }
    };
    std::fs::write(settings.schema_dir.join("schema.sql"), &declared)?;
    let expected_up = roundtrip::fingerprint_untracked(&next_url).await?;
    let expected_down = roundtrip::fingerprint_untracked(&super::sqlite::url(previous)).await?;
    let mut stages = roundtrip::Outcome::default();
    let result = roundtrip::generated_stages(&settings, &expected_up, &expected_down, &mut stages).await;
    (outcome.up, outcome.noop, outcome.down) = (stages.up, stages.noop, stages.down);
    outcome.files = stages.files;
    result
}

/// What `sqlite3 DB .schema` prints: the stored text of every object in the order it was stored, each
/// ended by `;`, `sqlite_sequence` included (read here with SQL, so the sqlite3 program is not needed).
async fn sqlite_schema_text(db: &Path) -> Result<String> {
    use sqlx::{Connection, Row};
    let mut conn = super::sqlite::open(&super::sqlite::url(db)).await?;
    let rows =
        sqlx::query("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid").fetch_all(&mut conn).await?;
    conn.close().await?;
    let mut out = String::new();
    for row in rows {
        out.push_str(&row.try_get::<String, _>(0)?);
        out.push_str(";\n");
    }
    Ok(out)
}

/// `pg_dump --schema-only` of a database, as its text.
fn dump(pg_dump: Option<&Path>, url: &str) -> Result<String> {
    let program = match pg_dump {
        Some(program) => program.to_path_buf(),
        None => super::client_program("pg_dump").map_err(|e| anyhow::anyhow!(e))?,
    };
    let output = std::process::Command::new(&program)
        .args(["--schema-only", "--dbname", url])
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", program.display()))?;
    if !output.status.success() {
        bail!("{} failed: {}", program.display(), String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8(output.stdout)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_order_as_their_tools_order_them() {
        let mut names = vec!["2017-08-31-230457_b", "20140924113530_a", "10_x", "9_y", "V10__z", "V9__w"];
        names.sort_by_key(|n| super::version_key(n));
        assert_eq!(names, vec!["9_y", "V9__w", "10_x", "V10__z", "20140924113530_a", "2017-08-31-230457_b"]);
    }

    /// Diesel compares versions as text: a short version that is a later date runs after a longer one.
    #[test]
    fn diesel_versions_order_as_text() {
        let mut names = vec!["2024-03-13_170000_b", "2024-03-06-170000_a", "2018-01-14-171611_c"];
        names.sort_by_key(|n| super::diesel_version(n));
        assert_eq!(names, vec!["2018-01-14-171611_c", "2024-03-06-170000_a", "2024-03-13_170000_b"]);
    }
}
