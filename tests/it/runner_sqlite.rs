//! `schema migrate` against SQLite: the same generic runner over SQLite's primitives (an immediate
//! transaction as the lock, a savepoint per migration).

use crate::support::{Run, schema_command};
use schema::migrations;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;
use std::path::PathBuf;
use std::process::Command;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let project = Project { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir_all(project.generated()).unwrap();
        project
    }

    fn generated(&self) -> PathBuf {
        self.dir.path().join("generated")
    }

    fn url(&self) -> String {
        format!("sqlite:{}", self.dir.path().join("app.db").display())
    }

    fn add(&self, id: &str, up: &str, down: &str) {
        std::fs::write(self.generated().join(format!("{id}.up.sql")), up).unwrap();
        std::fs::write(self.generated().join(format!("{id}.down.sql")), down).unwrap();
        migrations::write_sum(&self.generated()).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = schema_command(self.dir.path(), &["--url", &self.url()]);
        command.args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::of(self.command(args).spawn().expect("start the schema binary"))
    }

    /// `sqlite_master` without the tracking table, and the tracking table's versions.
    async fn state(&self) -> (Vec<String>, Vec<String>) {
        let mut conn = SqliteConnection::connect(&format!("{}?mode=rwc", self.url())).await.unwrap();
        let schema: Vec<String> = sqlx::query_scalar(
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master \
             WHERE name NOT LIKE 'schema_migrations%' AND name NOT LIKE 'sqlite_%' ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let has_table: bool =
            sqlx::query_scalar("SELECT count(*) > 0 FROM sqlite_master WHERE name = 'schema_migrations'")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        let versions = if has_table {
            sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
                .fetch_all(&mut conn)
                .await
                .unwrap()
        } else {
            Vec::new()
        };
        (schema, versions)
    }
}

#[tokio::test]
async fn sqlite_up_down_up_and_a_failing_migration_changes_nothing() {
    let project = Project::new();
    project.add(
        "20240101000000_users",
        "CREATE TABLE users (id integer PRIMARY KEY, name text);\nINSERT INTO users VALUES (1, 'a;b');\n",
        "DROP TABLE users;\n",
    );
    project.add(
        "20240102000000_posts",
        "CREATE TABLE posts (id integer PRIMARY KEY, author integer REFERENCES users (id));\nCREATE INDEX posts_author ON posts (author);\n",
        "DROP TABLE posts;\n",
    );
    let (empty, _) = project.state().await;
    project.run(&["migrate", "status"]).expect_code(1, "pending");
    project.run(&["migrate", "up"]).expect_code(0, "up all");
    let (all, versions) = project.state().await;
    assert_eq!(versions, ["20240101000000", "20240102000000"]);
    project.run(&["migrate", "status"]).expect_code(0, "up to date");
    project.run(&["migrate", "down", "--all"]).expect_code(0, "down all");
    assert_eq!(project.state().await, (empty, vec![]));
    project.run(&["migrate", "up"]).expect_code(0, "up again");
    assert_eq!(project.state().await.0, all);

    project.add(
        "20240103000000_broken",
        "CREATE TABLE tags (id integer);\nINSERT INTO nope VALUES (1);\n",
        "DROP TABLE tags;\n",
    );
    let run = project.run(&["migrate", "up"]);
    run.expect_code(2, "failing migration");
    assert!(run.stderr.contains("failed at statement 2 of 2") && run.stderr.contains("no such table: nope"), "{run:?}");
    assert_eq!(project.state().await, (all, vec!["20240101000000".into(), "20240102000000".into()]));
}

#[tokio::test]
async fn sqlite_concurrent_runners_apply_each_migration_once() {
    let project = Project::new();
    project.add(
        "20240101000000_runs",
        "CREATE TABLE runs (n integer);\nINSERT INTO runs VALUES (1);\n",
        "DROP TABLE runs;\n",
    );
    project.add("20240102000000_more", "INSERT INTO runs VALUES (2);\n", "DELETE FROM runs WHERE n = 2;\n");
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut command = project.command(&["migrate", "up"]);
            command.spawn().unwrap()
        })
        .collect();
    let mut applied = 0;
    for child in children {
        let run = Run::of(child);
        run.expect_code(0, "runner");
        applied += run.stdout.matches("applied 2024").count();
    }
    assert_eq!(applied, 2, "each migration applied by one runner");
    let mut conn = SqliteConnection::connect(&project.url()).await.unwrap();
    let runs: Vec<i64> = sqlx::query_scalar("SELECT n FROM runs ORDER BY n").fetch_all(&mut conn).await.unwrap();
    assert_eq!(runs, [1, 2]);
}

/// `generate` plans from the database: with a generated migration not applied yet, a second `generate`
/// would repeat it, so it refuses; `--from-migrations` plans from the migrations instead.
#[test]
fn sqlite_generate_refuses_to_repeat_pending_migrations() {
    let project = Project::new();
    let schema_dir = project.dir.path().join("schema");
    std::fs::create_dir_all(&schema_dir).unwrap();
    std::fs::write(schema_dir.join("app.sql"), "CREATE TABLE notes (id integer PRIMARY KEY, body text);\n").unwrap();
    project.run(&["generate", "--name", "notes"]).expect_code(0, "first generate");
    project.run(&["migrate", "up"]).expect_code(0, "apply it");
    std::fs::write(schema_dir.join("app.sql"), "CREATE TABLE notes (id integer PRIMARY KEY, body text, at text);\n")
        .unwrap();
    project.run(&["generate", "--name", "at"]).expect_code(0, "second generate");
    let again = project.run(&["generate", "--name", "again"]);
    again.expect_code(2, "a pending migration");
    assert!(again.stderr.contains("not applied to this database") && again.stderr.contains("_at"), "{}", again.stderr);
    let replanned = project.run(&["generate", "--from-migrations"]);
    assert_eq!(replanned.expect_code(0, "plan from the migrations").stdout, "no changes\n");
    project.run(&["migrate", "up"]).expect_code(0, "apply the second");
    assert_eq!(project.run(&["generate"]).expect_code(0, "nothing pending").stdout, "no changes\n");
}

/// After a table rebuild, SQLite lists the table's foreign keys in another order than the declared
/// one; order is not a difference, and drift says so.
#[test]
fn sqlite_drift_after_a_rebuild_of_a_table_with_foreign_keys() {
    let project = Project::new();
    let schema_dir = project.dir.path().join("schema");
    std::fs::create_dir_all(&schema_dir).unwrap();
    let tables = "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE projects (id INTEGER PRIMARY KEY);\n";
    let write = |limit: u32| {
        let t = format!(
            "CREATE TABLE tasks (id INTEGER PRIMARY KEY, owner INTEGER REFERENCES users (id), \
             project INTEGER REFERENCES projects (id) ON DELETE CASCADE, note TEXT CHECK (length(note) < {limit}));\n"
        );
        std::fs::write(schema_dir.join("app.sql"), format!("{tables}{t}")).unwrap();
    };
    write(5);
    project.run(&["generate", "--name", "first"]).expect_code(0, "first generate");
    project.run(&["migrate", "up"]).expect_code(0, "apply it");
    write(10);
    project.run(&["generate", "--name", "wider_note"]).expect_code(0, "the check changes: a rebuild");
    project.run(&["migrate", "up"]).expect_code(0, "apply the rebuild");
    let drift = project.run(&["drift"]);
    drift.expect_code(0, "in sync after the rebuild");
    assert!(!drift.stdout.contains("error"), "{}", drift.stdout);
}

/// With SQLite, `-- schema:no-transaction` changes nothing (as the README says): such a file runs in
/// its savepoint like any other, so a failure leaves nothing behind and no dirty row; BEGIN and COMMIT
/// are refused in it as in any other file. Messages name SQLite's tracking table, `main.schema_migrations`,
/// and say nothing of PostgreSQL's concurrent index builds.
#[tokio::test]
async fn sqlite_no_transaction_migrations_run_in_their_savepoint() {
    let project = Project::new();
    project.add("20240101000000_base", "CREATE TABLE base (id integer PRIMARY KEY);\n", "DROP TABLE base;\n");
    project.add(
        "20240102000000_half",
        "-- schema:no-transaction\nCREATE TABLE first (x integer);\nINSERT INTO nope VALUES (1);\n",
        "DROP TABLE first;\n",
    );
    let (empty, _) = project.state().await;
    let failed = project.run(&["migrate", "up"]);
    failed.expect_code(2, "the second statement fails");
    assert!(failed.stderr.contains("no such table: nope"), "{failed:?}");
    assert!(failed.stderr.contains("was rolled back"), "{failed:?}");
    for text in [&failed.stdout, &failed.stderr] {
        assert!(!text.contains("public.") && !text.contains("CONCURRENTLY") && !text.contains("dirty"), "{failed:?}");
    }
    let (schema, versions) = project.state().await;
    assert_eq!(versions, ["20240101000000"], "the failed migration is not recorded, dirty or not");
    assert!(schema.iter().all(|s| !s.contains("first")), "nothing of the failed migration remains: {schema:?}");
    assert_ne!(schema, empty);
    let status = project.run(&["migrate", "status"]);
    status.expect_code(1, "one pending, nothing dirty");
    assert!(status.stdout.contains("tracking table main.schema_migrations"), "{status:?}");

    project.add(
        "20240102000000_half",
        "-- schema:no-transaction\nCREATE TABLE first (x integer);\nCOMMIT;\n",
        "DROP TABLE first;\n",
    );
    let refused = project.run(&["migrate", "up"]);
    refused.expect_code(2, "COMMIT would end the run's transaction");
    assert!(refused.stderr.contains(":3:1: COMMIT in a migration; remove it (with SQLite"), "{refused:?}");
    assert_eq!(project.state().await.1, ["20240101000000"]);
}

/// `generate` runs every SQLite migration in an in-memory database first and says so; a database whose
/// current schema cannot be rebuilt there (a view over a virtual table, which the tool does not manage)
/// gets nothing written, and the reason.
#[tokio::test]
async fn sqlite_generate_verifies_in_memory_and_writes_nothing_it_cannot_verify() {
    let project = Project::new();
    let schema_dir = project.dir.path().join("schema");
    std::fs::create_dir_all(&schema_dir).unwrap();
    std::fs::write(schema_dir.join("app.sql"), "CREATE TABLE notes (id integer PRIMARY KEY, body text);\n").unwrap();
    let first = project.run(&["generate", "--name", "notes"]);
    assert!(first.expect_code(0, "first generate").stdout.contains("verified: "), "{}", first.stdout);
    project.run(&["migrate", "up"]).expect_code(0, "apply it");

    let mut conn = SqliteConnection::connect(&project.url()).await.unwrap();
    sqlx::raw_sql("CREATE VIRTUAL TABLE docs USING fts5(body); CREATE VIEW recent AS SELECT body FROM docs;")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let written = std::fs::read_dir(project.generated()).unwrap().count();
    std::fs::write(schema_dir.join("app.sql"), "CREATE TABLE notes (id integer PRIMARY KEY, body text, at text);\n")
        .unwrap();
    let run = project.run(&["generate", "--name", "at"]);
    run.expect_code(2, "a current schema that cannot be rebuilt");
    // SQLite accepts the view over the missing table when it is rebuilt; it reads back differently.
    for needle in [
        "cannot verify the migration",
        "rebuilt in a scratch database from what was read of it, differs from the database",
        "view main.recent",
        "not rebuilt: virtual table docs",
    ] {
        assert!(run.stderr.contains(needle), "{needle:?} in:\n{}", run.stderr);
    }
    assert_eq!(std::fs::read_dir(project.generated()).unwrap().count(), written, "nothing was written");
    let unverified = project.run(&["generate", "--name", "at", "--no-verify"]);
    unverified.expect_code(0, "generate --no-verify");
    assert_eq!(std::fs::read_dir(project.generated()).unwrap().count(), written + 2);
}

/// A migration that fails on the rebuilt current schema is checked against it: when the rebuilt schema
/// is not the live one (a trigger writing into a virtual table, which is not rebuilt, reads differently),
/// the migration is unverifiable, not wrong, and the message says both.
#[tokio::test]
async fn sqlite_a_failure_on_a_rebuild_that_differs_from_the_database_is_unverifiable() {
    let project = Project::new();
    let mut conn = SqliteConnection::connect(&format!("{}?mode=rwc", project.url())).await.unwrap();
    sqlx::raw_sql(
        "CREATE VIRTUAL TABLE docs USING fts5(body); CREATE TABLE t (id integer PRIMARY KEY);
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO docs VALUES ('x'); END;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let schema_dir = project.dir.path().join("schema");
    std::fs::create_dir_all(&schema_dir).unwrap();
    std::fs::write(schema_dir.join("app.sql"), "CREATE TABLE t (id integer PRIMARY KEY, n int);\n").unwrap();
    let run = project.run(&["generate", "--name", "n"]);
    run.expect_code(2, "a migration verified on a rebuild that differs");
    for needle in [
        "cannot verify the migration: the current schema, rebuilt in a scratch database from what was read of it, \
         differs from the database:",
        "create trigger tr on main.t",
        "not rebuilt: virtual table docs",
        "the migration failed in it: after the down files",
    ] {
        assert!(run.stderr.contains(needle), "{needle:?} in:\n{}", run.stderr);
    }
    assert_eq!(std::fs::read_dir(project.generated()).unwrap().count(), 0, "nothing was written");
}
