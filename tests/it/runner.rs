//! `schema migrate` against a real PostgreSQL, driven as a subprocess: atomic migrations, up/down round
//! trips, concurrent runners, integrity errors that change nothing, dirty no-transaction migrations, a
//! runner killed mid-migration, lock-timeout retries, and the integrity file that `generate` maintains.

use crate::support::{Run, fresh, schema_command};
use schema::migrations;
use schema::testkit::quote_ident;
use schema::testkit::roundtrip::fingerprint;
use schema::testkit::{TestDatabase, pg_server};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A project directory with a `generated/` migrations directory and optionally a diff.toml.
pub(crate) struct Project {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) url: String,
}

impl Project {
    pub(crate) fn new(db: &TestDatabase) -> Project {
        let project = Project { dir: tempfile::tempdir().expect("temporary directory"), url: db.url.clone() };
        std::fs::create_dir_all(project.generated()).unwrap();
        project
    }

    pub(crate) fn generated(&self) -> PathBuf {
        self.dir.path().join("generated")
    }

    pub(crate) fn config(&self, text: &str) {
        std::fs::write(self.dir.path().join("diff.toml"), text).unwrap();
    }

    /// Writes an up (and, if given, a down) file without touching schema.sum.
    pub(crate) fn write(&self, id: &str, up: &str, down: Option<&str>) {
        std::fs::write(self.generated().join(format!("{id}.up.sql")), up).unwrap();
        if let Some(down) = down {
            std::fs::write(self.generated().join(format!("{id}.down.sql")), down).unwrap();
        }
    }

    /// Writes a pair and records it in schema.sum, as `schema generate` would.
    pub(crate) fn add(&self, id: &str, up: &str, down: &str) {
        self.write(id, up, Some(down));
        migrations::write_sum(&self.generated()).expect("write schema.sum");
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = schema_command(self.dir.path(), &["--url", &self.url]);
        command.args(args);
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::of(self.command(args).spawn().expect("start the schema binary"))
    }

    pub(crate) fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).spawn().expect("spawn the schema binary")
    }
}

/// The schema's fingerprint without the tracking table, which exists only once `migrate` has run.
async fn schema_of(db: &TestDatabase) -> Vec<String> {
    fingerprint(&db.url).await.expect("fingerprint").into_iter().filter(|l| !l.contains("schema_migrations")).collect()
}

/// The tracking table's (version, dirty) rows.
pub(crate) async fn tracked(db: &TestDatabase) -> Vec<(String, bool)> {
    let mut conn = db.connect().await.unwrap();
    let exists: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('public.schema_migrations')::text").fetch_one(&mut conn).await.unwrap();
    if exists.is_none() {
        return Vec::new();
    }
    sqlx::query_as("SELECT version, dirty FROM public.schema_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

fn versions(rows: &[(String, bool)]) -> Vec<&str> {
    rows.iter().map(|(v, _)| v.as_str()).collect()
}

async fn table_exists(db: &TestDatabase, name: &str) -> bool {
    let mut conn = db.connect().await.unwrap();
    let found: Option<String> =
        sqlx::query_scalar("SELECT to_regclass($1)::text").bind(name).fetch_one(&mut conn).await.unwrap();
    found.is_some()
}

const V1: &str = "20240101000000_create_users";
const V2: &str = "20240102000000_add_posts";
const V3: &str = "20240103000000_index_posts";

/// Three migrations covering a table, a foreign key, an enum, a view and a no-transaction index.
fn three_migrations(project: &Project) {
    project.add(
        V1,
        "-- 20240101000000_create_users (up)\nCREATE TYPE mood AS ENUM ('ok', 'sad');\n\
         CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, mood mood);\n",
        "DROP TABLE users;\nDROP TYPE mood;\n",
    );
    project.add(
        V2,
        "CREATE TABLE posts (id bigint PRIMARY KEY, author bigint NOT NULL REFERENCES users (id), body text);\n\
         CREATE VIEW post_authors AS SELECT p.id, u.name FROM posts p JOIN users u ON u.id = p.author;\n\
         INSERT INTO users VALUES (1, 'a;b', 'ok');\n",
        "DROP VIEW post_authors;\nDROP TABLE posts;\nDELETE FROM users WHERE id = 1;\n",
    );
    project.add(
        V3,
        "-- schema:no-transaction\nCREATE INDEX CONCURRENTLY posts_author_idx ON posts (author);\n\
         COMMENT ON TABLE posts IS 'has an index';\n",
        "-- schema:no-transaction\nCOMMENT ON TABLE posts IS NULL;\nDROP INDEX CONCURRENTLY posts_author_idx;\n",
    );
}

#[tokio::test]
async fn up_all_down_all_up_all_gives_the_same_schema_at_each_point() {
    let db = fresh("runner_round_trip", "").await;
    let project = Project::new(&db);
    three_migrations(&project);
    let empty = schema_of(&db).await;

    project
        .run(&["migrate", "status"])
        .expect_code(1, "status before")
        .stdout_has(&["pending       ", "0 applied, 3 pending"]);
    project.run(&["migrate", "up", "--to", "20240102000000"]).expect_code(0, "up to V2").stdout_has(&[V1, V2]);
    let after_two = schema_of(&db).await;
    assert_eq!(versions(&tracked(&db).await), ["20240101000000", "20240102000000"]);

    project.run(&["migrate", "up"]).expect_code(0, "up all").stdout_has(&[&format!("applied {V3}")]);
    let all = schema_of(&db).await;
    assert!(all.iter().any(|l| l.contains("posts_author_idx")), "{all:#?}");
    project.run(&["migrate", "status"]).expect_code(0, "status when up to date").stdout_has(&["3 applied, 0 pending"]);
    project.run(&["migrate", "up"]).expect_code(0, "up again").stdout_has(&["nothing to apply"]);

    project.run(&["migrate", "down"]).expect_code(0, "down one step").stdout_has(&[&format!("reverted {V3}")]);
    assert_eq!(schema_of(&db).await, after_two, "down --steps 1 undoes V3 exactly");
    project.run(&["migrate", "down", "--all"]).expect_code(0, "down all");
    assert_eq!(schema_of(&db).await, empty, "down all restores the empty schema");
    assert_eq!(tracked(&db).await, vec![]);

    project.run(&["migrate", "up"]).expect_code(0, "up all again");
    assert_eq!(schema_of(&db).await, all, "up all after down all gives the same schema");
    project.run(&["migrate", "down", "--to", "20240101000000"]).expect_code(0, "down to V1");
    assert_eq!(versions(&tracked(&db).await), ["20240101000000"]);
    project.run(&["migrate", "down", "--steps", "5"]).expect_code(0, "down more steps than applied");
    assert_eq!(schema_of(&db).await, empty);
}

#[tokio::test]
async fn a_failing_statement_leaves_the_database_as_before_and_records_nothing() {
    let db = fresh("runner_atomic", "").await;
    let project = Project::new(&db);
    project.add(V1, "CREATE TABLE users (id int);\n", "DROP TABLE users;\n");
    project.run(&["migrate", "up"]).expect_code(0, "up V1");
    let before = fingerprint(&db.url).await.unwrap();

    project.add(
        V2,
        "CREATE TABLE posts (id int);\nALTER TABLE users ADD COLUMN email text;\n\nINSERT INTO users (id, missing)\n  VALUES (1, 2);\nCREATE TABLE never (id int);\n",
        "DROP TABLE never;\n",
    );
    project.run(&["migrate", "up"]).expect_code(2, "up with a failing V2").stderr_has(&[
        &format!("{V2} (up) failed at statement 3 of 4"),
        "20240102000000_add_posts.up.sql:4:",
        "column \"missing\" of relation \"users\" does not exist",
        "rolled back",
    ]);
    assert_eq!(fingerprint(&db.url).await.unwrap(), before, "the database, tracking table included, is unchanged");
    assert_eq!(versions(&tracked(&db).await), ["20240101000000"]);
    project
        .run(&["migrate", "status"])
        .expect_code(1, "status: V2 still pending")
        .stdout_has(&["pending       20240102"]);
}

#[tokio::test]
async fn four_concurrent_runners_apply_each_migration_exactly_once() {
    let db = fresh("runner_concurrent", "").await;
    let project = Project::new(&db);
    project.add(V1, "CREATE TABLE runs (migration int);\nINSERT INTO runs VALUES (1);\n", "DROP TABLE runs;\n");
    project.add(V2, "SELECT pg_sleep(0.5);\nINSERT INTO runs VALUES (2);\n", "DELETE FROM runs WHERE migration = 2;\n");
    project.add(V3, "INSERT INTO runs VALUES (3);\nCREATE TABLE done (id int);\n", "DROP TABLE done;\n");

    let children: Vec<Child> = (0..4).map(|_| project.spawn(&["migrate", "up"])).collect();
    let runs: Vec<Run> = children.into_iter().map(Run::of).collect();
    for run in &runs {
        run.expect_code(0, "each concurrent runner succeeds");
    }
    let applied: usize = runs.iter().map(|r| r.stdout.matches("applied 2024").count()).sum();
    assert_eq!(applied, 3, "three migrations applied in total: {runs:#?}");
    assert_eq!(runs.iter().filter(|r| r.stdout.contains("nothing to apply")).count(), 3, "{runs:#?}");

    let mut conn = db.connect().await.unwrap();
    let rows: Vec<i32> =
        sqlx::query_scalar("SELECT migration FROM runs ORDER BY migration").fetch_all(&mut conn).await.unwrap();
    assert_eq!(rows, [1, 2, 3], "every migration's statements ran once");
    assert_eq!(tracked(&db).await.len(), 3);
    assert!(table_exists(&db, "done").await);
}

#[tokio::test]
async fn integrity_problems_are_clear_errors_and_apply_nothing() {
    // A checksum mismatch: V1 was applied, then edited (and re-hashed, so only the database notices).
    let db = fresh("runner_checksum", "").await;
    let project = Project::new(&db);
    project.add(V1, "CREATE TABLE users (id int);\n", "DROP TABLE users;\n");
    project.run(&["migrate", "up"]).expect_code(0, "up V1");
    project.add(V1, "CREATE TABLE users (id bigint);\n", "DROP TABLE users;\n");
    project.add(V2, "CREATE TABLE posts (id int);\n", "DROP TABLE posts;\n");
    project.run(&["migrate", "up"]).expect_code(2, "up after editing V1").stderr_has(&[
        V1,
        "checksum differs",
        "nothing was changed",
    ]);
    project.run(&["migrate", "status"]).expect_code(2, "status").stdout_has(&["CHANGED       20240101000000"]);
    assert!(!table_exists(&db, "posts").await, "V2 was not applied");

    // An applied migration whose file is gone.
    let db = fresh("runner_missing", "").await;
    let project = Project::new(&db);
    project.add(V1, "CREATE TABLE users (id int);\n", "DROP TABLE users;\n");
    project.run(&["migrate", "up"]).expect_code(0, "up V1");
    std::fs::remove_file(project.generated().join(format!("{V1}.up.sql"))).unwrap();
    std::fs::remove_file(project.generated().join(format!("{V1}.down.sql"))).unwrap();
    project.add(V2, "CREATE TABLE posts (id int);\n", "DROP TABLE posts;\n");
    project.run(&["migrate", "up"]).expect_code(2, "up with V1 missing").stderr_has(&[V1, "file is missing"]);
    project.run(&["migrate", "status"]).expect_code(2, "status").stdout_has(&["MISSING       20240101000000"]);
    assert!(!table_exists(&db, "posts").await, "V2 was not applied");

    // A migration older than the latest applied one (merged from another branch).
    let db = fresh("runner_out_of_order", "").await;
    let project = Project::new(&db);
    project.add(V1, "CREATE TABLE users (id int);\n", "DROP TABLE users;\n");
    project.add(V3, "CREATE TABLE tags (id int);\n", "DROP TABLE tags;\n");
    project.run(&["migrate", "up"]).expect_code(0, "up V1 and V3");
    project.add(V2, "CREATE TABLE posts (id int);\n", "DROP TABLE posts;\n");
    project
        .run(&["migrate", "up"])
        .expect_code(2, "up with an out-of-order V2")
        .stderr_has(&[&format!("{V2} is not applied but is older than the latest applied migration {V3}")]);
    project.run(&["migrate", "status"]).expect_code(2, "status").stdout_has(&["OUT OF ORDER  20240102000000"]);
    assert!(!table_exists(&db, "posts").await, "V2 was not applied");

    // A malformed file name, a file edited after schema.sum recorded it, a hand-written file not in it.
    let db = fresh("runner_files", "").await;
    let project = Project::new(&db);
    project.add(V1, "CREATE TABLE users (id int);\n", "DROP TABLE users;\n");
    std::fs::write(project.generated().join("add_posts.up.sql"), "CREATE TABLE posts (id int);\n").unwrap();
    project
        .run(&["migrate", "up"])
        .expect_code(2, "up with a malformed name")
        .stderr_has(&["add_posts.up.sql: not a migration file name", "14-digit version"]);
    project.run(&["migrate", "status"]).expect_code(2, "status with a malformed name");
    std::fs::remove_file(project.generated().join("add_posts.up.sql")).unwrap();

    project.write(V1, "CREATE TABLE users (id int, edited int);\n", None);
    project.write(V2, "UPDATE users SET id = id;\n", None);
    project.run(&["migrate", "up"]).expect_code(2, "up with an edited and an unlisted file").stderr_has(&[
        &format!("{V1}.up.sql was edited after schema.sum recorded it"),
        &format!("{V2}.up.sql is not in schema.sum"),
    ]);
    let status = project.run(&["migrate", "status"]);
    status.expect_code(2, "status with schema.sum problems").stderr_has(&["schema migrate hash"]);
    assert_eq!(tracked(&db).await, vec![], "nothing applied, not even the tracking table's rows");
    assert!(!table_exists(&db, "users").await);

    project.run(&["migrate", "hash"]).expect_code(0, "hash").stdout_has(&["schema.sum (3 files)"]);
    project.run(&["migrate", "up"]).expect_code(0, "up after reviewing and hashing");
    assert!(project.run(&["migrate", "down"]).stderr.contains("has no .down.sql file"), "V2 is irreversible");
}

#[tokio::test]
async fn a_failing_no_transaction_migration_names_the_statement_and_stays_dirty_until_resolved() {
    let db = fresh("runner_no_transaction", "").await;
    let project = Project::new(&db);
    project.add(V1, "CREATE TABLE users (id int);\n", "DROP TABLE users;\n");
    let failing = "-- schema:no-transaction\nCREATE INDEX CONCURRENTLY users_id_idx ON users (id);\n\
                   CREATE INDEX CONCURRENTLY posts_id_idx ON posts (id);\nCREATE TABLE later (id int);\n";
    project.add(V2, failing, "-- schema:no-transaction\nDROP INDEX CONCURRENTLY users_id_idx;\n");
    project.add(V3, "CREATE TABLE tags (id int);\n", "DROP TABLE tags;\n");

    project.run(&["migrate", "up"]).expect_code(2, "up with a failing no-transaction V2").stderr_has(&[
        &format!("{V2} (up) failed at statement 2 of 3 (generated/{V2}.up.sql:3:1)"),
        "relation \"posts\" does not exist",
        "statement 1 was committed and remains in effect; statement 2 failed",
        "statement 3 was not run",
        "marked dirty",
        "schema migrate resolve 20240102000000 --applied",
    ]);
    assert!(table_exists(&db, "users_id_idx").await, "statement 1 stays in effect");
    assert!(!table_exists(&db, "later").await && !table_exists(&db, "tags").await);
    assert_eq!(tracked(&db).await, vec![("20240101000000".into(), false), ("20240102000000".into(), true)]);

    project
        .run(&["migrate", "status"])
        .expect_code(2, "status")
        .stdout_has(&["DIRTY         20240102000000"])
        .stderr_has(&["1 of 3 statements done, statement 2 failed: relation \"posts\" does not exist"]);
    project.run(&["migrate", "up"]).expect_code(2, "up while dirty").stderr_has(&[&format!("{V2} is dirty")]);
    project.run(&["migrate", "down"]).expect_code(2, "down while dirty").stderr_has(&["is dirty"]);

    // Undo by hand, settle, fix the file (never applied anywhere, so re-hashing is fine), and go on.
    project.run(&["migrate", "resolve", "20240101000000", "--applied"]).expect_code(2, "resolve a clean row");
    schema::testkit::roundtrip::load_sql(&db.url, "DROP INDEX users_id_idx;").await.unwrap();
    project.run(&["migrate", "resolve", "20240102000000", "--rolled-back"]).expect_code(0, "resolve");
    project.add(V2, &failing.replace("ON posts", "ON users"), "DROP INDEX users_id_idx;\nDROP INDEX posts_id_idx;\n");
    project.run(&["migrate", "up"]).expect_code(0, "up after fixing V2").stdout_has(&[V2, V3]);
    assert_eq!(tracked(&db).await.len(), 3);
    assert!(tracked(&db).await.iter().all(|(_, dirty)| !dirty));
}

#[tokio::test]
async fn a_runner_killed_during_a_long_migration_leaves_a_correct_status_and_up_completes() {
    let db = fresh("runner_killed", "").await;
    let project = Project::new(&db);
    project.add(V1, "CREATE TABLE users (id int);\n", "DROP TABLE users;\n");
    project.add(V2, "CREATE TABLE slow (id int);\nSELECT pg_sleep(3);\n", "DROP TABLE slow;\n");

    let mut child = project.spawn(&["migrate", "up"]);
    let started = Instant::now();
    while tracked(&db).await.is_empty() && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    child.kill().expect("SIGKILL the runner");
    child.wait().unwrap();

    project
        .run(&["migrate", "status"])
        .expect_code(1, "status after the kill")
        .stdout_has(&["applied       20240101000000", "pending       20240102000000"]);
    assert!(!table_exists(&db, "slow").await, "the killed migration's transaction did not commit");
    project.run(&["migrate", "up"]).expect_code(0, "up after the kill").stdout_has(&[&format!("applied {V2}")]);
    assert!(table_exists(&db, "slow").await);
    project.run(&["migrate", "status"]).expect_code(0, "status at the end");
}

#[tokio::test]
async fn a_lock_timeout_is_retried_with_backoff_and_the_runner_lock_wait_is_bounded() {
    let db = fresh("runner_lock_timeout", "").await;
    let project = Project::new(&db);
    project.config("[migrate]\nlock_timeout = \"200ms\"\nretries = 5\nlock_wait = \"300ms\"\n");
    project.add(V1, "CREATE TABLE users (id int);\n", "DROP TABLE users;\n");
    project.run(&["migrate", "up"]).expect_code(0, "up V1");
    project.add(V2, "ALTER TABLE users ADD COLUMN email text;\n", "ALTER TABLE users DROP COLUMN email;\n");

    // Another session holds a lock on `users` for a while: V2 times out, is rolled back, and is retried.
    let mut blocker = db.connect().await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE users IN ACCESS SHARE MODE").execute(&mut blocker).await.unwrap();
    let child = project.spawn(&["migrate", "up"]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    sqlx::raw_sql("COMMIT").execute(&mut blocker).await.unwrap();
    let run = Run::of(child);
    run.expect_code(0, "up with retries").stdout_has(&["lock timeout at statement 1 of 1; rolled back, retry 1 of 5"]);
    run.stdout_has(&[&format!("applied {V2}")]);

    // A second runner gives up after lock_wait while the first one is busy.
    project.add(V3, "SELECT pg_sleep(2);\n", "SELECT 1;\n");
    let busy = project.spawn(&["migrate", "up"]);
    let started = Instant::now();
    while tracked(&db).await.len() < 2 || started.elapsed() < Duration::from_millis(300) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    project.run(&["migrate", "up"]).expect_code(2, "second runner").stderr_has(&[
        "another `schema migrate` has held the lock",
        "schema migrate",
        "lock_wait",
    ]);
    Run::of(busy).expect_code(0, "first runner");
}

#[tokio::test]
async fn generate_keeps_schema_sum_current_and_never_touches_the_tracking_table() {
    let db = fresh("runner_generate", "").await;
    let project = Project::new(&db);
    let schema_dir = project.dir.path().join("schema");
    std::fs::create_dir_all(&schema_dir).unwrap();
    std::fs::write(schema_dir.join("users.sql"), "CREATE TABLE users (id bigint PRIMARY KEY);\n").unwrap();
    project.run(&["generate", "--name", "users"]).expect_code(0, "generate");
    assert!(project.generated().join(migrations::SUM_FILE).exists());
    project.run(&["migrate", "status"]).expect_code(1, "status: one pending, schema.sum in order");
    project.run(&["migrate", "up"]).expect_code(0, "up");

    // The tracking table is not part of the declared schema, and generate does not drop it.
    project.run(&["generate"]).expect_code(0, "generate again").stdout_has(&["no changes"]);
    std::fs::write(schema_dir.join("users.sql"), "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n").unwrap();
    // A hand-written backfill in between stays reported until it is hashed: generate vouches only for its own files.
    project.write("20991231000000_backfill", "UPDATE users SET id = id;\n", None);
    // It is not applied: planning from the database would repeat it, so generate plans from the migrations.
    project
        .run(&["generate", "--name", "name"])
        .expect_code(2, "pending migration")
        .stderr_has(&["not applied to this database", "20991231000000_backfill"]);
    project.run(&["generate", "--name", "name", "--from-migrations"]).expect_code(0, "generate a second pair");
    project
        .run(&["migrate", "status"])
        .expect_code(2, "hand-written file")
        .stderr_has(&["20991231000000_backfill.up.sql is not in schema.sum"]);
    std::fs::remove_file(project.generated().join("20991231000000_backfill.up.sql")).unwrap();
    project.run(&["migrate", "up"]).expect_code(0, "up the second pair");
    assert!(table_exists(&db, "schema_migrations").await);
    assert_eq!(tracked(&db).await.len(), 2);
}

#[test]
fn the_example_generated_directory_has_a_current_schema_sum() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated");
    let local = migrations::read_dir(&dir).expect("read generated/");
    let problems = migrations::check_sum(&dir, &local).expect("check generated/schema.sum");
    assert_eq!(problems, vec![], "run `cargo run -- migrate hash` after updating the example");
}

/// Waits for a spawned runner, at most `limit` (a runner that should have failed fast but waits on a lock
/// is killed, and the test fails instead of hanging).
fn finish_within(mut child: Child, limit: Duration) -> (Run, Duration) {
    let started = Instant::now();
    loop {
        if child.try_wait().expect("poll the runner").is_some() {
            return (Run::of(child), started.elapsed());
        }
        if started.elapsed() > limit {
            child.kill().expect("kill the runner");
            let run = Run::of(child);
            panic!("the runner was still waiting after {limit:?}:\n{}\n{}", run.stdout, run.stderr);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A project whose table `users` exists (applied by V1) and whose schema files ask for `desired`; with
/// `[hazards]` timeouts from `hazards` and no retries. Generates the migration and returns the new
/// files' up text.
async fn timeout_project(db: &TestDatabase, hazards: &str, desired: &str) -> (Project, Vec<String>) {
    let project = Project::new(db);
    project.config(&format!("[hazards]\n{hazards}\n[migrate]\nretries = 0\n"));
    project.add(V1, "CREATE TABLE users (id int PRIMARY KEY, name text);\n", "DROP TABLE users;\n");
    project.run(&["migrate", "up"]).expect_code(0, "up V1");
    let mut conn = db.connect().await.unwrap();
    sqlx::raw_sql("INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 1000) g")
        .execute(&mut conn)
        .await
        .unwrap();
    let schema_dir = project.dir.path().join("schema");
    std::fs::create_dir_all(&schema_dir).unwrap();
    std::fs::write(schema_dir.join("users.sql"), desired).unwrap();
    project.run(&["generate", "--name", "change"]).expect_code(0, "generate");
    let mut ups: Vec<PathBuf> = std::fs::read_dir(project.generated())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("_change") && p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    ups.sort();
    let texts = ups.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    (project, texts)
}

/// Another session that holds `mode` on `users` until it is released.
async fn hold_lock(db: &TestDatabase, mode: &str) -> sqlx::PgConnection {
    let mut blocker = db.connect().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("BEGIN; LOCK TABLE users IN {mode} MODE")))
        .execute(&mut blocker)
        .await
        .unwrap();
    blocker
}

async fn release(mut blocker: sqlx::PgConnection) {
    sqlx::raw_sql("COMMIT").execute(&mut blocker).await.unwrap();
}

async fn column_exists(db: &TestDatabase, column: &str) -> bool {
    let mut conn = db.connect().await.unwrap();
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'public.users'::regclass AND attname = $1 \
         AND NOT attisdropped)",
    )
    .bind(column)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

/// `[hazards] lock_timeout` is set in the generated file and takes effect: with another session holding a
/// lock on the table, the migration gives up after it (instead of queueing, and making everyone else
/// queue behind it), rolls back and records nothing; once the lock is gone it applies.
#[tokio::test]
async fn hazards_lock_timeout_in_the_file_makes_a_blocked_migration_fail_fast_and_leave_nothing() {
    let db = fresh("runner_hazards_lock_timeout", "").await;
    let (project, ups) = timeout_project(
        &db,
        "lock_timeout = \"200ms\"",
        "CREATE TABLE users (id int PRIMARY KEY, name text, email text);\n",
    )
    .await;
    assert_eq!(ups.len(), 1);
    let set = ups[0].find("SET LOCAL lock_timeout = '200ms';").expect("SET LOCAL lock_timeout in the file");
    assert!(set < ups[0].find("ADD COLUMN \"email\"").unwrap(), "{}", ups[0]);
    let before = schema_of(&db).await;

    let blocker = hold_lock(&db, "ACCESS SHARE").await;
    let (run, took) = finish_within(project.spawn(&["migrate", "up"]), Duration::from_secs(20));
    release(blocker).await;
    run.expect_code(2, "up while the table is locked").stderr_has(&["lock timeout", "rolled back"]);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(versions(&tracked(&db).await), ["20240101000000"], "no tracking row for the failed migration");
    assert_eq!(schema_of(&db).await, before, "no partial change");
    assert!(!column_exists(&db, "email").await);

    project.run(&["migrate", "up"]).expect_code(0, "up once the lock is gone");
    assert!(column_exists(&db, "email").await);
}

/// `[hazards] statement_timeout` bounds the statements that hold a blocking lock (here, waiting for it
/// counts too), in a transactional file; the online limit does not apply to them.
#[tokio::test]
async fn hazards_statement_timeout_in_the_file_bounds_a_blocking_statement() {
    let db = fresh("runner_hazards_statement_timeout", "").await;
    let (project, ups) = timeout_project(
        &db,
        "statement_timeout = \"300ms\"\nonline_statement_timeout = \"1h\"",
        "CREATE TABLE users (id int PRIMARY KEY, name text, email text);\n",
    )
    .await;
    assert_eq!(ups.len(), 1);
    assert!(ups[0].contains("SET LOCAL statement_timeout = '300ms';"), "{}", ups[0]);
    assert!(!ups[0].contains("lock_timeout"), "{}", ups[0]);
    let before = schema_of(&db).await;

    let blocker = hold_lock(&db, "ACCESS SHARE").await;
    let (run, took) = finish_within(project.spawn(&["migrate", "up"]), Duration::from_secs(20));
    release(blocker).await;
    run.expect_code(2, "up while the table is locked").stderr_has(&["statement timeout", "rolled back"]);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(versions(&tracked(&db).await), ["20240101000000"]);
    assert_eq!(schema_of(&db).await, before);
    project.run(&["migrate", "up"]).expect_code(0, "up once the lock is gone");
    assert!(column_exists(&db, "email").await);
}

/// `[hazards] online_statement_timeout` is what bounds the long online statements of a no-transaction
/// file (a concurrent index build), not `statement_timeout`: the build fails after it, and the runner
/// marks the migration dirty with nothing built.
#[tokio::test]
async fn hazards_online_statement_timeout_in_the_file_bounds_a_concurrent_build() {
    let db = fresh("runner_hazards_online_timeout", "").await;
    let (project, ups) = timeout_project(
        &db,
        "statement_timeout = \"1h\"\nonline_statement_timeout = \"300ms\"",
        "CREATE TABLE users (id int PRIMARY KEY, name text);\nCREATE INDEX users_name ON users (name);\n",
    )
    .await;
    assert_eq!(ups.len(), 1);
    let text = &ups[0];
    assert!(text.starts_with("-- schema:no-transaction"), "{text}");
    let set = text.find("SET statement_timeout = '300ms';").expect("the online timeout in the file");
    assert!(set < text.find("CREATE INDEX CONCURRENTLY").unwrap(), "{text}");
    assert!(!text.contains("'3600000ms'"), "no blocking statement here: {text}");

    // A long-running maintenance (SHARE UPDATE EXCLUSIVE, as VACUUM takes) makes the build wait.
    let blocker = hold_lock(&db, "SHARE UPDATE EXCLUSIVE").await;
    let (run, took) = finish_within(project.spawn(&["migrate", "up"]), Duration::from_secs(20));
    release(blocker).await;
    run.expect_code(2, "up while the build must wait").stderr_has(&["statement timeout"]);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let rows = tracked(&db).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[1].1, "the no-transaction migration stays dirty: {rows:?}");
    let mut conn = db.connect().await.unwrap();
    let index: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('public.users_name')::text").fetch_one(&mut conn).await.unwrap();
    assert_eq!(index, None, "nothing was built");

    let version = rows[1].0.clone();
    project.run(&["migrate", "resolve", &version, "--rolled-back"]).expect_code(0, "resolve");
    project.run(&["migrate", "up"]).expect_code(0, "up once the lock is gone");
    let valid: bool =
        sqlx::query_scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.users_name'::regclass")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(valid);
}

/// Names with every character that quoting must survive: both quotes, `;`, comment starters,
/// backticks, brackets, non-ASCII letters and spaces (each under PostgreSQL's 63 bytes).
const HOSTILE_TABLE: &str = "tbl \"q\" 'a'; --c /*d*/ `e` [f] ü";
const HOSTILE_COLUMN: &str = "col \"q\" 'a'; -- /*x*/ `b` [c] ✓";
const HOSTILE_VIEW: &str = "view \"v\"; -- /*";
const HOSTILE_INDEX: &str = "idx 'i' /* [x] */ \"j\"";
const HOSTILE_TRIGGER: &str = "trg \"t\" `b` ; --";
const HOSTILE_FUNCTION: &str = "fn \"f\"; -- 'g'";

/// The hostile schema for PostgreSQL: every construct whose text the database keeps and the tool writes
/// back (default, check, generated column, view, partial and expression index, trigger with its
/// condition and function, comment), with literals that end the statement early if a doubled quote is
/// lost. `version` changes every literal and adds a column.
fn pg_hostile_schema(version: u32) -> String {
    let (t, c) = (quote_ident(HOSTILE_TABLE), quote_ident(HOSTILE_COLUMN));
    let extra = if version == 2 { "\n    extra text NOT NULL DEFAULT 'e''; DROP TABLE canary; --'," } else { "" };
    format!(
        "CREATE TABLE canary (id int PRIMARY KEY, note text);
CREATE TABLE log (entry text);
CREATE TABLE {t} (
    id int PRIMARY KEY,
    {c} text COLLATE \"C\" NOT NULL DEFAULT 'x''; DROP TABLE canary; --' CONSTRAINT {k} CHECK ({c} <> 'it''s /* no */ -- no{version}'),
    s text GENERATED ALWAYS AS ('x''y{version}' || {c}) STORED,{extra}
    CONSTRAINT {u} UNIQUE ({c})
);
CREATE TABLE child (id int PRIMARY KEY, ref int REFERENCES {t} (id) ON DELETE CASCADE);
CREATE INDEX {i} ON {t} (lower({c}), ('z''z' || {c})) WHERE {c} <> 'w''; DROP TABLE canary; --{version}';
CREATE VIEW {v} AS SELECT id, {c}, 'it''s'::text AS its, 'v''; DROP TABLE canary; --{version}'::text AS lit, 'line1
line2 ''{version}'::text AS ml, $q$d'; DROP TABLE canary; --{version}$q$::text AS dq FROM {t} WHERE {c} <> '/*';
CREATE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO log VALUES ('t''; DROP TABLE canary; --{version}' || NEW.{c});
    RETURN NEW;
END
$body$;
CREATE TRIGGER {tr} AFTER INSERT ON {t} FOR EACH ROW WHEN (NEW.{c} <> 'n''o{version}') EXECUTE FUNCTION {f}();
COMMENT ON TABLE {t} IS 'c''; DROP TABLE canary; --{version}';
",
        k = quote_ident("chk \"k\"; --"),
        u = quote_ident("uq 'u' [x]"),
        i = quote_ident(HOSTILE_INDEX),
        v = quote_ident(HOSTILE_VIEW),
        f = quote_ident(HOSTILE_FUNCTION),
        tr = quote_ident(HOSTILE_TRIGGER),
    )
}

/// What the hostile objects do (defaults, generated values, the check, the trigger, the view), seen
/// through rows. Empties the tables first, then inserts rows.
async fn pg_hostile_behaviour(db: &TestDatabase, version: u32) -> Vec<String> {
    let id = i64::from(version) * 100;
    let (t, c) = (quote_ident(HOSTILE_TABLE), quote_ident(HOSTILE_COLUMN));
    let mut conn = db.connect().await.unwrap();
    let mut out = Vec::new();
    for statement in [
        format!("DELETE FROM child; DELETE FROM {t}; DELETE FROM log"),
        format!("INSERT INTO {t} (id) VALUES ({id})"),
        format!("INSERT INTO {t} (id, {c}) VALUES ({}, 'hello ''world'' {id}')", id + 1),
        format!("INSERT INTO child VALUES ({id}, {})", id + 1),
        // The check refuses the first, not the second.
        format!("INSERT INTO {t} (id, {c}) VALUES ({}, 'it''s /* no */ -- no{version}')", id + 2),
        format!("INSERT INTO {t} (id, {c}) VALUES ({}, 'it''s /* no */ -- no{}')", id + 3, version + 10),
    ] {
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone())).execute(&mut conn).await;
        out.push(format!("{statement}: {}", if result.is_ok() { "accepted" } else { "rejected" }));
    }
    for select in [
        format!("SELECT format('%s,%L,%L', id, {c}, s) FROM {t} ORDER BY id"),
        "SELECT quote_literal(entry) FROM log ORDER BY 1".to_string(),
        format!(
            "SELECT format('%s,%L,%L,%L,%L,%L', id, {c}, its, lit, ml, dq) FROM {} ORDER BY id",
            quote_ident(HOSTILE_VIEW)
        ),
        format!("SELECT obj_description('{}'::regclass, 'pg_class')", t.replace('\'', "''")),
    ] {
        let rows: Vec<Option<String>> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(select.clone())).fetch_all(&mut conn).await.unwrap();
        out.extend(rows.into_iter().map(|r| r.unwrap_or_default()));
    }
    out
}

/// Literals and names that end a statement early when a quote is lost go through `generate`, `migrate up`
/// (creation, then changes to every object, online where the table exists) and `migrate down` on
/// PostgreSQL unchanged: the canary keeps its row, the database matches the declared schema and behaves
/// like it, and a second plan is empty.
#[tokio::test]
async fn hostile_literals_and_names_survive_generate_migrate_up_and_down() {
    let db = fresh("runner_hostile", "").await;
    let server = pg_server().await.unwrap();
    let project = Project::new(&db);
    let load =
        |url: String, sql: String| async move { schema::testkit::roundtrip::load_sql(&url, &sql).await.unwrap() };
    load(
        db.url.clone(),
        "CREATE TABLE canary (id int PRIMARY KEY, note text); INSERT INTO canary VALUES (1, 'alive');".into(),
    )
    .await;
    let canary = || async {
        let mut conn = db.connect().await.unwrap();
        sqlx::query_scalar::<_, String>("SELECT format('%s,%L', id, note) FROM canary")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    };
    let original = schema_of(&db).await;
    let schema_dir = project.dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    let mut after = Vec::new();
    for version in [1, 2] {
        let declared = pg_hostile_schema(version);
        std::fs::write(schema_dir.join("app.sql"), &declared).unwrap();
        project.run(&["generate", "--name", &format!("hostile{version}")]).expect_code(0, "generate");
        project.run(&["migrate", "up"]).expect_code(0, "migrate up");
        assert_eq!(canary().await, ["1,'alive'"], "version {version}");
        let reference = server.fresh_database(&format!("runner_hostile_ref{version}")).await.unwrap();
        load(reference.url.clone(), declared).await;
        let schema = schema_of(&db).await;
        assert_eq!(schema, schema_of(&reference).await, "version {version}");
        let behaviour = pg_hostile_behaviour(&db, version).await;
        assert_eq!(behaviour, pg_hostile_behaviour(&reference, version).await, "version {version}");
        let again = project.run(&["plan", "--exit-code"]);
        assert_eq!(again.expect_code(0, "second plan").stdout, "no changes\n", "version {version}");
        after.push((schema, tracked(&db).await));
        let _ = server.drop_database(&reference.name).await;
    }
    let first = after[0].1.last().unwrap().0.clone();
    project.run(&["migrate", "down", "--to", &first]).expect_code(0, "down to the first round");
    assert_eq!(schema_of(&db).await, after[0].0);
    project.run(&["migrate", "down", "--all"]).expect_code(0, "down all");
    assert_eq!(schema_of(&db).await, original);
    assert_eq!(canary().await, ["1,'alive'"]);
}

/// A PostgreSQL database holding the hostile objects is readable when `ignore` matches them: `plan` sees
/// nothing to do for a declared schema without them.
#[tokio::test]
async fn a_database_with_hostile_objects_is_readable_when_they_are_ignored() {
    let db = fresh("runner_hostile_ignored", "").await;
    let project = Project::new(&db);
    schema::testkit::roundtrip::load_sql(&db.url, &pg_hostile_schema(1)).await.unwrap();
    let schema_dir = project.dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(
        schema_dir.join("app.sql"),
        "CREATE TABLE canary (id int PRIMARY KEY, note text);\nCREATE TABLE log (entry text);\n",
    )
    .unwrap();
    project.config("ignore = [\"public.tbl *\", \"public.view *\", \"public.fn *\", \"public.child\"]\n");
    let plan = project.run(&["plan", "--exit-code"]);
    assert_eq!(plan.expect_code(0, "nothing to do").stdout, "no changes\n");
}
