//! The round-trip property, as a reusable check: load `current` into a fresh database, plan the
//! migration to `desired` through the same pipeline the CLI uses, apply up and compare with `desired`
//! loaded on its own, plan again and expect nothing, apply down and compare with `current`. The
//! comparison uses an independent catalog fingerprint (`fingerprint.sql`), not the tool's model.

use super::{PgServer, TestDatabase};
use crate::dialect::postgres::connect;
use crate::pipeline;
use crate::settings::Settings;
use anyhow::{Context, Result, bail};
use sqlx::Row;

/// What happened at each stage. A stage that was not reached is `false`.
#[derive(Debug, Default)]
pub struct Outcome {
    pub up: bool,
    pub noop: bool,
    pub down: bool,
    pub up_sql: Vec<String>,
    pub down_sql: Vec<String>,
    /// The migration files written, ups then downs in the order they run (round trips through files).
    pub files: Vec<(String, String)>,
    /// Why the first failing stage failed.
    pub failure: Option<String>,
}

impl Outcome {
    /// Panics with the failure and both scripts unless every stage passed (for tests).
    pub fn assert_passed(&self, label: &str) {
        assert!(
            self.failure.is_none(),
            "{label}: {}\n--- up:\n{}\n--- down:\n{}",
            self.failure.as_deref().unwrap_or(""),
            self.up_sql.join("\n"),
            self.down_sql.join("\n")
        );
    }
}

/// The sorted fingerprint lines of a database.
pub async fn fingerprint(url: &str) -> Result<Vec<String>> {
    let mut conn = connect::connect(url).await?;
    sqlx::raw_sql("SET search_path TO pg_catalog").execute(&mut conn).await?;
    let rows = sqlx::query(include_str!("fingerprint.sql")).fetch_all(&mut conn).await?;
    rows.iter().map(|r| r.try_get::<String, _>("line").map_err(Into::into)).collect()
}

/// Runs SQL text (several statements) against a database, one statement at a time, so that
/// statements that refuse to run in a transaction block (CREATE INDEX CONCURRENTLY) work too.
pub async fn load_sql(url: &str, sql: &str) -> Result<()> {
    let mut conn = connect::connect(url).await?;
    let dialect = crate::dialect::postgres::sql_dialect();
    for statement in crate::declared::split_statements(std::path::Path::new("<sql>"), sql, &dialect)? {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.sql.clone()))
            .execute(&mut conn)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}", statement.location, connect::describe(&e)))?;
    }
    Ok(())
}

/// A human diff of two fingerprints.
pub fn fingerprint_diff(expected: &[String], actual: &[String]) -> String {
    let mut out = String::new();
    for line in expected.iter().filter(|l| !actual.contains(l)) {
        out.push_str(&format!("- {line}\n"));
    }
    for line in actual.iter().filter(|l| !expected.contains(l)) {
        out.push_str(&format!("+ {line}\n"));
    }
    out
}

/// `schema inspect` writes what it reads: loads `sql` into a fresh database, inspects it with the
/// settings `configure` makes, and panics unless (1) the output, loaded into another fresh database as it
/// is, gives the same fingerprint, and (2) the output, used as the declared schema files, plans no change
/// in either direction against the database it was read from (for tests).
pub async fn check_inspect(server: &PgServer, label: &str, sql: &str, configure: impl Fn(&mut Settings)) {
    let source = server.fresh_database(&format!("{label}_source")).await.expect("database");
    let copy = server.fresh_database(&format!("{label}_copy")).await.expect("database");
    load_sql(&source.url, sql).await.expect("load source");
    let mut settings = Settings { url: Some(source.url.clone()), ..Settings::default() };
    configure(&mut settings);
    let (ddl, unmanaged) = pipeline::inspect(&settings).await.expect("inspect");
    assert!(unmanaged.is_empty(), "{unmanaged:?}");
    load_sql(&copy.url, &ddl).await.unwrap_or_else(|e| panic!("load inspect output: {e:#}\n{ddl}"));
    let expected = fingerprint(&source.url).await.expect("fingerprint");
    let actual = fingerprint(&copy.url).await.expect("fingerprint");
    assert!(expected == actual, "{}\n{ddl}", fingerprint_diff(&expected, &actual));
    let changes = inspect_replanned(&settings, &ddl).await.unwrap_or_else(|e| panic!("plan: {e:#}\n{ddl}"));
    assert!(changes.is_empty(), "inspect output planned against its own database: {changes:#?}\n{ddl}");
    let _ = server.drop_database(&source.name).await;
    let _ = server.drop_database(&copy.name).await;
}

/// The changes (up, then down) that planning with `ddl` as the only declared file finds against the
/// database of `settings`: none when `inspect` wrote everything the database holds.
pub async fn inspect_replanned(settings: &Settings, ddl: &str) -> Result<Vec<String>> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("initial.sql"), ddl)?;
    let settings = Settings { schema_dir: dir.path().to_path_buf(), ..settings.clone() };
    let migration = pipeline::migration(&settings).await?;
    let up = migration.up.steps.iter().map(|s| format!("up: {}", s.description));
    let down = migration.down.steps.iter().map(|s| format!("down: {}", s.description));
    Ok(up.chain(down).collect())
}

/// The error of planning a migration that must fail, with its causes (for tests).
pub async fn planning_error(settings: &Settings, why: &str) -> String {
    match pipeline::migration(settings).await {
        Ok(_) => panic!("planning must fail: {why}"),
        Err(e) => format!("{e:#}"),
    }
}

/// Settings for a round trip: the database and a schema directory holding `desired`.
pub fn settings_for(db: &TestDatabase, schema_dir: &std::path::Path) -> Settings {
    Settings { url: Some(db.url.clone()), schema_dir: schema_dir.to_path_buf(), ..Settings::default() }
}

/// The round trip on the shared test server, panicking with the failure and both scripts unless every
/// stage passed (for tests).
pub async fn check(label: &str, current: &str, desired: &str) -> Outcome {
    let server = super::pg_server().await.expect("PostgreSQL for tests");
    let outcome = run(server, label, current, desired).await.expect("round trip setup");
    outcome.assert_passed(label);
    outcome
}

/// Runs the whole round trip; never panics, reports the first failure in the outcome.
pub async fn run(server: &PgServer, label: &str, current: &str, desired: &str) -> Result<Outcome> {
    run_with(server, label, current, desired, |_| {}).await
}

pub async fn run_with(
    server: &PgServer,
    label: &str,
    current: &str,
    desired: &str,
    configure: impl Fn(&mut Settings),
) -> Result<Outcome> {
    run_declared(server, label, current, desired, desired, configure).await
}

/// The round trip with declared files (`declared`, in any order) apart from the SQL that builds the
/// reference database (`desired`, in an order PostgreSQL accepts as it is).
pub async fn run_declared(
    server: &PgServer,
    label: &str,
    current: &str,
    desired: &str,
    declared: &str,
    configure: impl Fn(&mut Settings),
) -> Result<Outcome> {
    run_by(server, label, None, Sides { current, desired, declared, rows: &[] }, configure).await
}

/// The round trip of [`run`], and every row of `tables` (in `current`, which inserts them) read the same
/// after up and after down: their count and content ([`rows_of`]).
pub async fn run_keeping_rows(
    server: &PgServer,
    label: &str,
    current: &str,
    desired: &str,
    tables: &[&str],
) -> Result<Outcome> {
    run_by(server, label, None, Sides { current, desired, declared: desired, rows: tables }, |_| {}).await
}

/// [`run_parts`] (the files `generate` writes, run by `migrate`), and every row of `tables` read the same
/// after up and after down, as [`run_keeping_rows`] checks them.
pub async fn run_parts_keeping_rows(
    server: &PgServer,
    label: &str,
    current: &str,
    desired: &str,
    tables: &[&str],
    configure: impl Fn(&mut Settings),
) -> Result<Outcome> {
    generated_with(server, label, Sides { current, desired, declared: desired, rows: tables }, configure).await
}

/// The count and an md5 of the rows of each table (`schema.table` or `table`; its rows as text, in their
/// text's order), one line a table: equal lines mean every row is there with the same values.
pub async fn rows_of(url: &str, tables: &[&str]) -> Result<Vec<String>> {
    // No table to read: no connection either (the stages run on SQLite URLs too).
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = connect::connect(url).await?;
    let mut lines = Vec::with_capacity(tables.len());
    for table in tables {
        // `schema.table` or a table of the search path; names without quotes of their own.
        let name: Vec<String> = table.split('.').map(super::quote_ident).collect();
        let sql = format!(
            "SELECT count(*)::text || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '-') FROM {} t",
            name.join(".")
        );
        let line: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .with_context(|| format!("reading the rows of {table}"))?;
        lines.push(format!("{table}: {line}"));
    }
    Ok(lines)
}

/// Fails unless the rows of `tables` read as `before` did.
async fn check_rows(url: &str, tables: &[&str], before: &[String], when: &str) -> Result<()> {
    let after = rows_of(url, tables).await?;
    if after != before {
        bail!("{when}, the rows differ: before {before:?}, now {after:?}");
    }
    Ok(())
}

/// The round trip through the files `generate` writes (every part, online parts outside a transaction,
/// with `[hazards]` as `configure` sets it), run by `schema migrate up --contract` and `migrate down --all`:
/// [`run_generated`] with the desired schema as the declared files.
pub async fn run_parts(
    server: &PgServer,
    label: &str,
    current: &str,
    desired: &str,
    configure: impl Fn(&mut Settings),
) -> Result<Outcome> {
    run_generated(server, label, current, desired, desired, configure).await
}

/// [`run_parts`] on the shared test server, panicking unless every stage passed (for tests).
pub async fn check_parts(label: &str, current: &str, desired: &str) -> Outcome {
    let server = super::pg_server().await.expect("PostgreSQL for tests");
    let outcome = run_parts(server, label, current, desired, |_| {}).await.expect("round trip setup");
    outcome.assert_passed(label);
    outcome
}

/// The round trip run by `role`, a login role that is given both databases, instead of the server's
/// admin role: loading, planning and applying all see what that role sees (its search_path, for
/// example). The role needs no password on the test server, and CREATEDB for the scratch database.
pub async fn run_as(
    server: &PgServer,
    label: &str,
    role: &str,
    current: &str,
    desired: &str,
    configure: impl Fn(&mut Settings),
) -> Result<Outcome> {
    run_by(server, label, Some(role), Sides { current, desired, declared: desired, rows: &[] }, configure).await
}

/// [`run_as`] with the rows of `tables` checked as [`run_keeping_rows`] checks them (read by the admin).
pub async fn run_as_keeping_rows(
    server: &PgServer,
    label: &str,
    role: &str,
    current: &str,
    desired: &str,
    tables: &[&str],
) -> Result<Outcome> {
    run_by(server, label, Some(role), Sides { current, desired, declared: desired, rows: tables }, |_| {}).await
}

async fn run_by(
    server: &PgServer,
    label: &str,
    role: Option<&str>,
    sides: Sides<'_>,
    configure: impl Fn(&mut Settings),
) -> Result<Outcome> {
    let target = server.fresh_database(label).await?;
    let reference = server.fresh_database(&format!("{label}_ref")).await?;
    let mut outcome = Outcome::default();
    let result = match role {
        None => stages(&target, &reference, sides, &target.url, &configure, &mut outcome).await,
        Some(role) => match (handed_to(server, &target, role).await, handed_to(server, &reference, role).await) {
            // Rows are read by the admin: a role may see only those its policies allow.
            (Ok(target), Ok(reference)) => {
                let admin = server.url_for(&target.name);
                stages(&target, &reference, sides, &admin, &configure, &mut outcome).await
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
    };
    let _ = server.drop_database(&target.name).await;
    let _ = server.drop_database(&reference.name).await;
    if let Err(e) = result {
        outcome.failure = Some(format!("{e:#}"));
    }
    Ok(outcome)
}

/// The database owned by `role`, with a URL that logs in as `role`.
async fn handed_to(server: &PgServer, db: &TestDatabase, role: &str) -> Result<TestDatabase> {
    use crate::dialect::postgres::render::ident;
    load_sql(server.admin_url(), &format!("ALTER DATABASE {} OWNER TO {}", ident(&db.name), ident(role))).await?;
    let mut url = url::Url::parse(&db.url).context("test database URL")?;
    url.set_username(role).map_err(|()| anyhow::anyhow!("cannot set the user of {}", db.name))?;
    url.set_password(None).map_err(|()| anyhow::anyhow!("cannot set the password of {}", db.name))?;
    Ok(TestDatabase { name: db.name.clone(), url: url.to_string() })
}

struct Sides<'a> {
    current: &'a str,
    desired: &'a str,
    declared: &'a str,
    /// Tables whose rows must read the same after up and after down.
    rows: &'a [&'a str],
}

async fn stages(
    target: &TestDatabase,
    reference: &TestDatabase,
    Sides { current, desired, declared, rows }: Sides<'_>,
    rows_url: &str,
    configure: &impl Fn(&mut Settings),
    outcome: &mut Outcome,
) -> Result<()> {
    load_sql(&target.url, current).await.context("loading current")?;
    let current_print = fingerprint(&target.url).await?;
    let current_rows = rows_of(rows_url, rows).await?;
    load_sql(&reference.url, desired).await.context("loading desired into the reference database")?;
    let desired_print = fingerprint(&reference.url).await?;

    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("schema.sql"), declared)?;
    let mut settings = settings_for(target, dir.path());
    configure(&mut settings);

    let migration = pipeline::migration(&settings).await.context("planning up")?;
    outcome.up_sql = migration.up.statements().map(String::from).collect();
    outcome.down_sql = migration.down.statements().map(String::from).collect();
    let mut conn = connect::connect(&target.url).await?;
    connect::execute_script(&mut conn, &outcome.up_sql, migration.up.transactional).await.context("applying up")?;
    let after_up = fingerprint(&target.url).await?;
    if after_up != desired_print {
        bail!("after up, the database differs from desired:\n{}", fingerprint_diff(&desired_print, &after_up));
    }
    check_rows(rows_url, rows, &current_rows, "after up").await?;
    outcome.up = true;

    let again = pipeline::migration(&settings).await.context("planning again after up")?;
    if !again.up.is_empty() {
        let steps: Vec<String> = again.up.steps.iter().map(|s| s.description.clone()).collect();
        bail!("after up, a second plan is not empty: {}", steps.join("; "));
    }
    outcome.noop = true;

    crate::dialect::execute(&target.url, &outcome.down_sql, migration.down.transactional)
        .await
        .context("applying down")?;
    let after_down = fingerprint(&target.url).await?;
    if after_down != current_print {
        bail!("after down, the database differs from current:\n{}", fingerprint_diff(&current_print, &after_down));
    }
    check_rows(rows_url, rows, &current_rows, "after down").await?;
    outcome.down = true;
    Ok(())
}

/// The tracking table of round trips run through the tool's runner ([`run_generated`], the history
/// replay); its lines are left out of the fingerprints it compares.
pub const TRACKING: &str = "schema_roundtrip_migrations";

/// The fingerprint without the tracking table of [`TRACKING`] (PostgreSQL's, or SQLite's for a
/// `sqlite:` URL).
pub async fn fingerprint_untracked(url: &str) -> Result<Vec<String>> {
    if crate::dialect::Kind::from_url(url)? == crate::dialect::Kind::Sqlite {
        return super::sqlite::fingerprint(url, Some(TRACKING)).await;
    }
    let mut lines = fingerprint(url).await?;
    lines.retain(|line| !line.contains(TRACKING));
    Ok(lines)
}

/// Settings for a round trip through written files: `url`, an empty schema directory and out dir in
/// `dir`, and the runner's tracking table named [`TRACKING`].
pub fn file_settings(url: &str, dir: &std::path::Path) -> Result<Settings> {
    let (schema_dir, out_dir) = (dir.join("schema"), dir.join("generated"));
    std::fs::create_dir_all(&schema_dir)?;
    std::fs::create_dir_all(&out_dir)?;
    let mut settings = Settings { url: Some(url.to_string()), schema_dir, out_dir, ..Settings::default() };
    // SQLite has one schema, `main`.
    let schema = if url.starts_with("sqlite:") { "main" } else { "public" };
    settings.migrate.table = crate::model::QualifiedName::new(schema, TRACKING);
    Ok(settings)
}

/// What `schema generate` does once it has a migration: writes its parts to the out dir and records
/// them in `schema.sum`. Returns the files' paths and texts, ups then downs, in the order they run.
pub fn write_generated(settings: &Settings, migration: &pipeline::Migration) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    if migration.up.is_empty() {
        return Ok(files);
    }
    let out_dir = &settings.out_dir;
    let version = crate::migrations::next_version(out_dir, chrono::Utc::now());
    let pairs = crate::migrations::write_parts(out_dir, &version, "step", &migration.parts)?;
    let written: Vec<&std::path::Path> = pairs.iter().flat_map(|p| [p.up.as_path(), p.down.as_path()]).collect();
    crate::migrations::record_in_sum(out_dir, &written)?;
    for path in pairs.iter().map(|p| &p.up).chain(pairs.iter().rev().map(|p| &p.down)) {
        files.push((path.display().to_string(), std::fs::read_to_string(path)?));
    }
    Ok(files)
}

/// `schema migrate up --contract` (`up`) or `schema migrate down --all`, with the tool's own runner.
pub async fn run_migrations(settings: &Settings, up: bool) -> Result<()> {
    let url = settings.url()?;
    let mut db = crate::dialect::Runner::connect(url, &settings.migrate).await?;
    run_migrations_on(&mut db, settings, up).await
}

async fn run_migrations_on(db: &mut impl crate::runner::Database, settings: &Settings, up: bool) -> Result<()> {
    use crate::runner::progress::Progress;
    let (local, sum) = crate::runner::local(&settings.out_dir)?;
    let mut out = Vec::new();
    if up {
        let target = crate::runner::UpTarget { to: None, contract: true };
        crate::runner::up(db, &settings.migrate, &local, &sum, &target, &mut out, &mut Progress::off()).await?;
    } else {
        let target = crate::runner::DownTarget::All;
        crate::runner::down(db, &settings.migrate, &local, &sum, &target, &mut out, &mut Progress::off()).await?;
    }
    Ok(())
}

/// The stages of a round trip as a user runs them, on `settings` whose schema directory already holds
/// the declared files: plan, write the files, `migrate up --contract`, compare with `expected_up`, plan
/// again and expect nothing, `migrate down --all`, compare with `expected_down`.
pub async fn generated_stages(
    settings: &Settings,
    expected_up: &[String],
    expected_down: &[String],
    outcome: &mut Outcome,
) -> Result<()> {
    generated_stages_with(settings, Expected { up: expected_up, down: expected_down, rows: &[] }, outcome).await
}

/// What [`generated_stages_with`] compares with: the fingerprints after up and after down, and the tables
/// whose rows must read after each as they did before.
struct Expected<'a> {
    up: &'a [String],
    down: &'a [String],
    rows: &'a [&'a str],
}

async fn generated_stages_with(settings: &Settings, expected: Expected<'_>, outcome: &mut Outcome) -> Result<()> {
    let Expected { up: expected_up, down: expected_down, rows } = expected;
    let url = settings.url()?.to_string();
    let rows_before = rows_of(&url, rows).await?;
    let migration = pipeline::migration_from(settings, pipeline::Baseline::Live).await.context("planning")?;
    outcome.up_sql = migration.up.statements().map(String::from).collect();
    outcome.down_sql = migration.down.statements().map(String::from).collect();
    outcome.files = write_generated(settings, &migration)?;
    run_migrations(settings, true).await.context("schema migrate up")?;
    let after_up = fingerprint_untracked(&url).await?;
    if after_up != expected_up {
        bail!("after up, the database differs from desired:\n{}", fingerprint_diff(expected_up, &after_up));
    }
    check_rows(&url, rows, &rows_before, "after up").await?;
    outcome.up = true;
    let again = pipeline::migration_from(settings, pipeline::Baseline::Live).await.context("planning again")?;
    if !again.up.is_empty() {
        let steps: Vec<String> = again.up.steps.iter().map(|s| s.description.clone()).collect();
        bail!("after up, a second plan is not empty: {}", steps.join("; "));
    }
    outcome.noop = true;
    run_migrations(settings, false).await.context("schema migrate down")?;
    let after_down = fingerprint_untracked(&url).await?;
    if after_down != expected_down {
        bail!("after down, the database differs from current:\n{}", fingerprint_diff(expected_down, &after_down));
    }
    check_rows(&url, rows, &rows_before, "after down").await?;
    outcome.down = true;
    Ok(())
}

/// The round trip as a user runs it (see [`generated_stages`]): `declared` is written to the schema
/// directory, `desired` builds the reference database.
pub async fn run_generated(
    server: &PgServer,
    label: &str,
    current: &str,
    desired: &str,
    declared: &str,
    configure: impl Fn(&mut Settings),
) -> Result<Outcome> {
    generated_with(server, label, Sides { current, desired, declared, rows: &[] }, configure).await
}

/// [`run_generated`], and the rows of `sides.rows` read after up and after down as before.
async fn generated_with(
    server: &PgServer,
    label: &str,
    Sides { current, desired, declared, rows }: Sides<'_>,
    configure: impl Fn(&mut Settings),
) -> Result<Outcome> {
    let target = server.fresh_database(label).await?;
    let reference = server.fresh_database(&format!("{label}_ref")).await?;
    let mut outcome = Outcome::default();
    let result = async {
        load_sql(&target.url, current).await.context("loading current")?;
        let expected_down = fingerprint(&target.url).await?;
        load_sql(&reference.url, desired).await.context("loading desired into the reference database")?;
        let expected_up = fingerprint(&reference.url).await?;
        let dir = tempfile::tempdir()?;
        let mut settings = file_settings(&target.url, dir.path())?;
        configure(&mut settings);
        std::fs::write(settings.schema_dir.join("schema.sql"), declared)?;
        let stages = Expected { up: &expected_up, down: &expected_down, rows };
        generated_stages_with(&settings, stages, &mut outcome).await
    }
    .await;
    let _ = server.drop_database(&target.name).await;
    let _ = server.drop_database(&reference.name).await;
    if let Err(e) = result {
        outcome.failure = Some(format!("{e:#}"));
    }
    Ok(outcome)
}
