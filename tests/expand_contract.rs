//! Expand/contract on a real PostgreSQL, driven through the binary as a user would: `generate --phased`
//! writes expand / backfill / contract migrations; `migrate up` stops before the contract; an "old
//! application" (old column) and a "new application" (new column) write against the expanded schema and
//! see each other's writes; the backfill fills every row; `migrate up --contract` removes the old shape
//! and the schema equals the desired one with the data where it expects it; `migrate down` goes back
//! through every phase to the start with the data intact.

use schema::dialect::postgres::connect;
use schema::testkit::roundtrip::{fingerprint, fingerprint_diff, load_sql};
use schema::testkit::{TestDatabase, pg_server};
use sqlx::{AssertSqlSafe, Row};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn schema(db: &TestDatabase, dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_schema"))
        .current_dir(dir)
        .args(args)
        .args(["--url", &db.url, "--schema-dir", "schema", "--out-dir", "generated"])
        .env_remove("DATABASE_URL")
        .output()
        .expect("run schema");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn ok(run: Run, what: &str) -> Run {
    assert_eq!(run.code, 0, "{what}\n--- stdout:\n{}\n--- stderr:\n{}", run.stdout, run.stderr);
    run
}

async fn rows(url: &str, sql: &str) -> Vec<String> {
    let mut conn = connect::connect(url).await.unwrap();
    let rows = sqlx::query(AssertSqlSafe(sql.to_string())).fetch_all(&mut conn).await.unwrap();
    rows.iter().map(|r| r.try_get::<String, _>(0).unwrap()).collect()
}

async fn exec(url: &str, sql: &str) {
    let mut conn = connect::connect(url).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".up.sql"))
        .collect();
    names.sort();
    names
}

struct Pattern {
    label: &'static str,
    current: &'static str,
    desired: &'static str,
    /// Writes of the old application (old column) and of the new one (new column) after expand.
    old_app: &'static str,
    new_app: &'static str,
    /// (query, expected rows) after expand and the writes: each application sees the other's write.
    both_see: &'static [(&'static str, &'static [&'static str])],
    /// (query, expected rows) once contracted.
    after_contract: &'static [(&'static str, &'static [&'static str])],
    /// (query, expected rows) back at the start.
    after_down: &'static [(&'static str, &'static [&'static str])],
}

const PATTERNS: &[Pattern] = &[
    Pattern {
        label: "ec_rename",
        current: "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL DEFAULT 'anonymous');
            INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 5000) g;",
        desired: "CREATE TABLE users (\n    id int PRIMARY KEY,\n    -- schema:renamed-from name\n    full_name text NOT NULL DEFAULT 'anonymous'\n);",
        old_app: "INSERT INTO users (id, name) VALUES (10001, 'old app'); UPDATE users SET name = 'old update' WHERE id = 1;",
        new_app: "INSERT INTO users (id, full_name) VALUES (10002, 'new app'); UPDATE users SET full_name = 'new update' WHERE id = 2;",
        both_see: &[
            ("SELECT full_name FROM users WHERE id IN (10001, 1) ORDER BY id", &["old update", "old app"]),
            ("SELECT name FROM users WHERE id IN (10002, 2) ORDER BY id", &["new update", "new app"]),
        ],
        after_contract: &[
            ("SELECT count(*)::text FROM users WHERE full_name = 'user ' || id", &["4998"]),
            (
                "SELECT full_name FROM users WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["old update", "new update", "old app", "new app"],
            ),
        ],
        after_down: &[
            ("SELECT count(*)::text FROM users WHERE name = 'user ' || id", &["4998"]),
            (
                "SELECT name FROM users WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["old update", "new update", "old app", "new app"],
            ),
        ],
    },
    Pattern {
        label: "ec_type",
        current: "CREATE TABLE ledger (id int PRIMARY KEY, amount int NOT NULL);
            INSERT INTO ledger SELECT g, g * 10 FROM generate_series(1, 5000) g;",
        desired: "CREATE TABLE ledger (id int PRIMARY KEY, amount bigint NOT NULL);",
        old_app: "INSERT INTO ledger (id, amount) VALUES (10001, 7); UPDATE ledger SET amount = 8 WHERE id = 1;",
        new_app: "INSERT INTO ledger (id, schema_new_amount) VALUES (10002, 3000000000 - 2999999991); \
                  UPDATE ledger SET schema_new_amount = 9 WHERE id = 2;",
        both_see: &[
            ("SELECT schema_new_amount::text FROM ledger WHERE id IN (1, 10001) ORDER BY id", &["8", "7"]),
            ("SELECT amount::text FROM ledger WHERE id IN (2, 10002) ORDER BY id", &["9", "9"]),
        ],
        after_contract: &[
            ("SELECT count(*)::text FROM ledger WHERE amount = id * 10", &["4998"]),
            (
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ledger'::regclass AND attname = 'amount'",
                &["bigint"],
            ),
            ("SELECT amount::text FROM ledger WHERE id IN (1, 2, 10001, 10002) ORDER BY id", &["8", "9", "7", "9"]),
        ],
        after_down: &[
            ("SELECT count(*)::text FROM ledger WHERE amount = id * 10", &["4998"]),
            (
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ledger'::regclass AND attname = 'amount'",
                &["integer"],
            ),
            ("SELECT amount::text FROM ledger WHERE id IN (1, 2, 10001, 10002) ORDER BY id", &["8", "9", "7", "9"]),
        ],
    },
];

/// The schema's fingerprint without the runner's tracking table.
async fn print(url: &str) -> Vec<String> {
    fingerprint(url).await.unwrap().into_iter().filter(|l| !l.contains("public.schema_migrations")).collect()
}

async fn expect_rows(url: &str, checks: &[(&str, &[&str])], stage: &str) {
    for (query, expected) in checks {
        let got = rows(url, query).await;
        assert_eq!(got, *expected, "{stage}: {query}");
    }
}

async fn run_pattern(p: &Pattern) {
    let server = pg_server().await.unwrap();
    let db = server.fresh_database(p.label).await.unwrap();
    let reference_desired = server.fresh_database(&format!("{}_want", p.label)).await.unwrap();
    let reference_current = server.fresh_database(&format!("{}_have", p.label)).await.unwrap();
    load_sql(&db.url, p.current).await.unwrap();
    load_sql(&reference_current.url, p.current).await.unwrap();
    load_sql(&reference_desired.url, p.desired).await.unwrap();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir(dir.join("schema")).unwrap();
    std::fs::write(dir.join("schema/app.sql"), p.desired).unwrap();
    let generated: PathBuf = dir.join("generated");

    // The one-step plan breaks running code (rename) or rewrites under a lock (type change); the phased
    // plan carries neither hazard.
    let hazard_ids = |args: &[&str]| -> Vec<String> {
        let run = ok(schema(&db, dir, args), "plan --format json");
        let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
        value["up"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["hazards"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()))
            .collect()
    };
    let plain = hazard_ids(&["plan", "--plain", "--format", "json"]);
    assert!(plain.iter().any(|id| id == "rename-visible" || id == "table-rewrite"), "{plain:?}");
    let phased = hazard_ids(&["plan", "--phased", "--format", "json"]);
    assert!(phased.is_empty(), "{phased:?}");

    let run = ok(schema(&db, dir, &["generate", "--phased", "--name", "change"]), "generate --phased");
    assert!(run.stdout.contains("migrate up --contract"), "{}", run.stdout);
    let names = files(&generated);
    assert_eq!(names.len(), 3, "{names:?}");
    for (name, phase) in names.iter().zip(["expand", "backfill", "contract"]) {
        assert!(name.contains(phase), "{name} should be the {phase} migration");
        let text = std::fs::read_to_string(generated.join(name)).unwrap();
        assert!(text.contains(&format!("-- schema:phase {phase}")), "{name}:\n{text}");
        let down = std::fs::read_to_string(generated.join(name.replace(".up.sql", ".down.sql"))).unwrap();
        assert!(down.contains(&format!("-- schema:phase {phase}")), "{name} down:\n{down}");
    }

    // Expand and backfill; the contract waits.
    let up = ok(schema(&db, dir, &["migrate", "up"]), "migrate up");
    assert!(up.stdout.contains("waiting:") && up.stdout.contains("contract"), "{}", up.stdout);
    let status = schema(&db, dir, &["migrate", "status"]);
    assert_eq!(status.code, 1, "{}", status.stdout);
    assert!(status.stdout.contains("waiting") && status.stdout.contains("2 applied, 1 pending"), "{}", status.stdout);

    // The dual-write function and trigger belong to the migrations: drift and plan leave them alone.
    let plan = ok(schema(&db, dir, &["plan"]), "plan after expand");
    assert!(!plan.stdout.contains("schema_sync"), "{}", plan.stdout);

    // Both applications write against the expanded schema and see each other's writes.
    exec(&db.url, p.old_app).await;
    exec(&db.url, p.new_app).await;
    expect_rows(&db.url, p.both_see, "after expand").await;

    // The backfill is safe to run again (it ran once already in `migrate up`): a second run copies nothing
    // new and breaks nothing.
    let backfill = std::fs::read_to_string(generated.join(&names[1])).unwrap();
    let start = backfill.find("DO $schema_backfill$").expect("backfill block");
    exec(&db.url, &backfill[start..]).await;

    ok(schema(&db, dir, &["migrate", "up", "--contract"]), "migrate up --contract");
    let want = print(&reference_desired.url).await;
    let have = print(&db.url).await;
    assert_eq!(fingerprint_diff(&want, &have), "", "after contract, the schema differs from the desired one");
    expect_rows(&db.url, p.after_contract, "after contract").await;
    let again = ok(schema(&db, dir, &["plan"]), "plan after contract");
    assert!(again.stdout.contains("no changes"), "{}", again.stdout);

    // Down through every phase, one at a time, back to the start.
    ok(schema(&db, dir, &["migrate", "down"]), "revert contract");
    expect_rows(&db.url, p.both_see, "after reverting the contract").await;
    ok(schema(&db, dir, &["migrate", "down", "--steps", "2"]), "revert backfill and expand");
    let want = print(&reference_current.url).await;
    let have = print(&db.url).await;
    assert_eq!(fingerprint_diff(&want, &have), "", "after down, the schema differs from the start");
    expect_rows(&db.url, p.after_down, "after down").await;
}

#[tokio::test]
async fn column_rename_in_phases() {
    run_pattern(&PATTERNS[0]).await;
}

#[tokio::test]
async fn column_type_change_in_phases() {
    run_pattern(&PATTERNS[1]).await;
}

/// With phases on, dropping a column of an existing table is a contract migration: `migrate up` leaves
/// the column in place for the old application until `--contract`.
#[tokio::test]
async fn dropped_column_waits_for_the_contract() {
    let server = pg_server().await.unwrap();
    let db = server.fresh_database("ec_drop").await.unwrap();
    load_sql(&db.url, "CREATE TABLE t (id int PRIMARY KEY, legacy text); INSERT INTO t VALUES (1, 'x');")
        .await
        .unwrap();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir(dir.join("schema")).unwrap();
    std::fs::write(dir.join("schema/app.sql"), "CREATE TABLE t (id int PRIMARY KEY, note text);").unwrap();
    ok(schema(&db, dir, &["generate", "--phased", "--name", "cleanup"]), "generate --phased");
    let names = files(&dir.join("generated"));
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].ends_with("_cleanup_expand.up.sql"), "{names:?}");
    assert!(names[1].ends_with("_cleanup_contract.up.sql"), "{names:?}");
    let contract = std::fs::read_to_string(dir.join("generated").join(&names[1])).unwrap();
    assert!(contract.contains("-- schema:phase contract") && contract.contains("DROP COLUMN \"legacy\""), "{contract}");

    ok(schema(&db, dir, &["migrate", "up"]), "migrate up");
    let columns = "SELECT attname::text FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 \
                   AND NOT attisdropped ORDER BY attnum";
    assert_eq!(rows(&db.url, columns).await, ["id", "legacy", "note"], "the old column stays until the contract");
    assert_eq!(schema(&db, dir, &["migrate", "status"]).code, 1);
    ok(schema(&db, dir, &["migrate", "up", "--contract"]), "migrate up --contract");
    assert_eq!(rows(&db.url, columns).await, ["id", "note"]);
    assert_eq!(schema(&db, dir, &["migrate", "status"]).code, 0);
}
