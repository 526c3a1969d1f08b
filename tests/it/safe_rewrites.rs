//! Safe rewrites on a real PostgreSQL, with rows in the tables: for every online form, a concurrent
//! session keeps inserting and updating the table while the migration runs and is never blocked beyond
//! a small bound; the writes really overlap the long statements (concurrent builds, validations); the
//! final schema equals the desired one; no row is lost. A control case runs the plain plan and shows the
//! same writer blocked, so the check can fail. Plus the hazard table of the default (rewritten) plan.

use schema::dialect::postgres::connect;
use schema::pipeline;
use schema::rewrite::Part;
use schema::testkit::{TestDatabase, pg_server, roundtrip};
use sqlx::{AssertSqlSafe, Connection, Row};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// How long a concurrent write may wait (its `lock_timeout`): beyond it, the write fails.
const BOUND: Duration = Duration::from_millis(1000);
/// How long the competing transaction stays open, when a case uses one.
const HOLD: Duration = Duration::from_millis(2000);
const ROWS: i64 = 20_000;

const TABLE: &str = "CREATE TABLE p (id int PRIMARY KEY);
    CREATE TABLE t (id bigint NOT NULL, a int, b text);";
const FILL: &str = "INSERT INTO p SELECT generate_series(1, 1000);
    INSERT INTO t SELECT g, g % 1000 + 1, 'row ' || g FROM generate_series(1, 20000) g;
    ANALYZE p; ANALYZE t;";

struct Case {
    label: &'static str,
    current_extra: &'static str,
    desired: &'static str,
    /// Statements of the rewritten plan must contain these.
    expect: &'static [&'static str],
    /// How the long statement is made to last, so that the writer certainly overlaps it.
    blocker: Blocker,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Blocker {
    /// A competing writing transaction stays open while the migration runs: a concurrent index build
    /// waits for it.
    Writer,
    /// Right before the first VALIDATE, another session takes SHARE UPDATE EXCLUSIVE on the table for a
    /// while (as a running VACUUM or ANALYZE would): the validation waits, then scans.
    BeforeValidate,
}

const CASES: &[Case] = &[
    Case {
        label: "sr_create_index",
        current_extra: "",
        desired: "CREATE INDEX t_a ON t (a);",
        expect: &["CREATE INDEX CONCURRENTLY \"t_a\""],
        blocker: Blocker::Writer,
    },
    Case {
        label: "sr_change_index",
        current_extra: "CREATE INDEX t_a ON t (a);",
        desired: "CREATE INDEX t_a ON t (a, id);",
        expect: &["CREATE INDEX CONCURRENTLY \"schema_tmp_t_a\"", "RENAME TO \"t_a\""],
        blocker: Blocker::Writer,
    },
    Case {
        label: "sr_drop_index",
        current_extra: "CREATE INDEX t_a ON t (a);",
        desired: "",
        expect: &["DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"t_a\""],
        blocker: Blocker::Writer,
    },
    Case {
        label: "sr_unique",
        current_extra: "",
        desired: "ALTER TABLE t ADD CONSTRAINT t_id_key UNIQUE (id);",
        expect: &["CREATE UNIQUE INDEX CONCURRENTLY \"t_id_key\"", "UNIQUE USING INDEX \"t_id_key\""],
        blocker: Blocker::Writer,
    },
    Case {
        label: "sr_primary_key",
        current_extra: "",
        desired: "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (id);",
        expect: &["CREATE UNIQUE INDEX CONCURRENTLY \"t_pkey\"", "PRIMARY KEY USING INDEX \"t_pkey\""],
        blocker: Blocker::Writer,
    },
    Case {
        label: "sr_check",
        current_extra: "",
        desired: "ALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0 AND length(b) < 100);",
        expect: &["NOT VALID;", "VALIDATE CONSTRAINT \"t_a_positive\""],
        blocker: Blocker::BeforeValidate,
    },
    Case {
        label: "sr_foreign_key",
        current_extra: "",
        desired: "ALTER TABLE t ADD CONSTRAINT t_a_fkey FOREIGN KEY (a) REFERENCES p (id);",
        expect: &["NOT VALID;", "VALIDATE CONSTRAINT \"t_a_fkey\""],
        blocker: Blocker::BeforeValidate,
    },
    Case {
        label: "sr_set_not_null",
        current_extra: "",
        desired: "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
        expect: &["CHECK (\"a\" IS NOT NULL) NOT VALID", "VALIDATE CONSTRAINT \"schema_nn_a\"", "SET NOT NULL"],
        blocker: Blocker::BeforeValidate,
    },
];

/// One statement the migration ran, and when.
struct Timed {
    sql: String,
    long: bool,
    start: Instant,
    end: Instant,
}

#[derive(Default)]
struct WriterReport {
    inserted: i64,
    /// When each write finished, and how long it took.
    writes: Vec<(Instant, Duration)>,
    errors: Vec<String>,
}

fn is_long(sql: &str) -> bool {
    sql.contains(" CONCURRENTLY ") || sql.contains(" VALIDATE CONSTRAINT ")
}

/// Runs the parts as `schema migrate` does: transactional parts in one transaction, the others
/// statement by statement. Every statement is timed.
async fn run_parts(url: &str, parts: &[Part], hold_validate: bool) -> anyhow::Result<Vec<Timed>> {
    let mut conn = connect::connect(url).await?;
    let mut timed = Vec::new();
    let mut held = !hold_validate;
    for part in parts {
        if part.up.transactional {
            let start = Instant::now();
            let statements: Vec<String> = part.up.statements().map(String::from).collect();
            connect::execute_script(&mut conn, &statements, true).await?;
            timed.push(Timed { sql: statements.join("\n"), long: false, start, end: Instant::now() });
        } else {
            for sql in part.up.statements() {
                if !held && sql.contains(" VALIDATE CONSTRAINT ") {
                    held = true;
                    let mut other = connect::connect(url).await?;
                    sqlx::raw_sql("BEGIN; LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE").execute(&mut other).await?;
                    tokio::spawn(async move {
                        tokio::time::sleep(HOLD).await;
                        let _ = sqlx::raw_sql("COMMIT").execute(&mut other).await;
                    });
                }
                let start = Instant::now();
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| anyhow::anyhow!("{sql}: {}", connect::describe(&e)))?;
                timed.push(Timed { sql: sql.to_string(), long: is_long(sql), start, end: Instant::now() });
            }
        }
    }
    Ok(timed)
}

/// Inserts and updates `t` until told to stop, each write with `lock_timeout` = [`BOUND`].
async fn writer(url: String, stop: Arc<AtomicBool>, next_id: Arc<AtomicI64>) -> anyhow::Result<WriterReport> {
    let mut conn = connect::connect(&url).await?;
    sqlx::raw_sql(AssertSqlSafe(format!("SET lock_timeout = '{}ms'", BOUND.as_millis()))).execute(&mut conn).await?;
    let mut report = WriterReport::default();
    let mut i = 0i64;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let id = next_id.fetch_add(1, Ordering::SeqCst);
        let started = Instant::now();
        let insert = sqlx::query("INSERT INTO t (id, a, b) VALUES ($1, $2, 'writer')")
            .bind(id)
            .bind((id % 1000 + 1) as i32)
            .execute(&mut conn)
            .await;
        match insert {
            Ok(_) => {
                report.inserted += 1;
                report.writes.push((Instant::now(), started.elapsed()));
            }
            Err(e) => report.errors.push(format!("insert: {}", connect::describe(&e))),
        }
        let started = Instant::now();
        let update = sqlx::query("UPDATE t SET b = 'updated' WHERE id = $1")
            .bind(1 + (i * 7919) % ROWS)
            .execute(&mut conn)
            .await;
        match update {
            Ok(_) => report.writes.push((Instant::now(), started.elapsed())),
            Err(e) => report.errors.push(format!("update: {}", connect::describe(&e))),
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(report)
}

async fn count(url: &str) -> anyhow::Result<i64> {
    let mut conn = connect::connect(url).await?;
    Ok(sqlx::query("SELECT count(*) FROM t").fetch_one(&mut conn).await?.try_get(0)?)
}

struct Outcome {
    statements: Vec<String>,
    timed: Vec<Timed>,
    writer: WriterReport,
    rows_before: i64,
    rows_after: i64,
    blocker_rows: i64,
    fingerprint_diff: String,
    /// Whether the migration was still running when the competing transaction ended.
    overlapped_blocker: bool,
}

async fn run_case(db: &TestDatabase, reference: &TestDatabase, case: &Case, online: bool) -> anyhow::Result<Outcome> {
    roundtrip::load_sql(&db.url, &format!("{TABLE}{}", case.current_extra)).await?;
    roundtrip::load_sql(&db.url, FILL).await?;
    let desired = format!("{TABLE}{}", case.desired);
    roundtrip::load_sql(&reference.url, &desired).await?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("app.sql"), &desired)?;
    let mut settings = roundtrip::settings_for(db, dir.path());
    settings.hazards.rewrite.online = online;
    let migration = pipeline::migration(&settings).await?;
    let statements: Vec<String> =
        migration.parts.iter().flat_map(|p| p.up.statements().map(String::from).collect::<Vec<_>>()).collect();
    let rows_before = count(&db.url).await?;

    let mut blocker = None;
    if case.blocker == Blocker::Writer {
        let mut conn = connect::connect(&db.url).await?;
        sqlx::raw_sql("BEGIN; INSERT INTO t VALUES (-1, 1, 'blocker')").execute(&mut conn).await?;
        blocker = Some(conn);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let next_id = Arc::new(AtomicI64::new(10_000_000));
    let writer_task = tokio::spawn(writer(db.url.clone(), stop.clone(), next_id));
    // Let the writer get going before the migration starts.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let url = db.url.clone();
    let parts = migration.parts.clone();
    let hold_validate = case.blocker == Blocker::BeforeValidate;
    let migration_task = tokio::spawn(async move { run_parts(&url, &parts, hold_validate).await });
    let mut overlapped_blocker = false;
    let mut blocker_rows = 0;
    if let Some(mut conn) = blocker {
        tokio::time::sleep(HOLD).await;
        overlapped_blocker = !migration_task.is_finished();
        sqlx::raw_sql("COMMIT").execute(&mut conn).await?;
        conn.close().await?;
        blocker_rows = 1;
    }
    let timed = migration_task.await??;
    if hold_validate {
        overlapped_blocker =
            timed.iter().any(|t| t.sql.contains(" VALIDATE CONSTRAINT ") && t.end - t.start >= HOLD / 2);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::SeqCst);
    let writer = writer_task.await??;
    let rows_after = count(&db.url).await?;
    let expected = roundtrip::fingerprint(&reference.url).await?;
    let actual = roundtrip::fingerprint(&db.url).await?;
    Ok(Outcome {
        statements,
        timed,
        writer,
        rows_before,
        rows_after,
        blocker_rows,
        fingerprint_diff: roundtrip::fingerprint_diff(&expected, &actual),
        overlapped_blocker,
    })
}

/// Writes that finished while a long statement ran (a write blocked by it would finish after it).
fn writes_during_long_statements(outcome: &Outcome) -> usize {
    outcome
        .writer
        .writes
        .iter()
        .filter(|(at, took)| outcome.timed.iter().any(|t| t.long && t.start < *at - *took && *at < t.end))
        .count()
}

fn check(case: &Case, outcome: &Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    let text = outcome.statements.join("\n");
    for expected in case.expect {
        if !text.contains(expected) {
            problems.push(format!("the plan does not contain {expected:?}:\n{text}"));
        }
    }
    if !outcome.writer.errors.is_empty() {
        problems.push(format!(
            "the concurrent writer was blocked: {:?}",
            &outcome.writer.errors[..outcome.writer.errors.len().min(3)]
        ));
    }
    let slowest = outcome.writer.writes.iter().map(|w| w.1).max().unwrap_or_default();
    if slowest >= BOUND {
        problems.push(format!("a write took {slowest:?}"));
    }
    let during = writes_during_long_statements(outcome);
    if during == 0 {
        let long: Vec<String> = outcome
            .timed
            .iter()
            .filter(|t| t.long)
            .map(|t| format!("{:?} {}", t.end - t.start, t.sql.lines().next().unwrap_or_default()))
            .collect();
        problems.push(format!("no write finished while a long statement ran: {long:?}"));
    }
    if !outcome.overlapped_blocker {
        problems.push("the migration did not wait for the competing session, so nothing overlapped for sure".into());
    }
    let expected_rows = outcome.rows_before + outcome.writer.inserted + outcome.blocker_rows;
    if outcome.rows_after != expected_rows {
        problems.push(format!("rows: expected {expected_rows}, found {}", outcome.rows_after));
    }
    if !outcome.fingerprint_diff.is_empty() {
        problems.push(format!("the schema differs from the desired one:\n{}", outcome.fingerprint_diff));
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn online_rewrites_never_block_a_concurrent_writer() {
    let server = pg_server().await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, case) in CASES.iter().enumerate() {
        tasks.spawn(async move {
            let db = server.fresh_database(case.label).await?;
            let reference = server.fresh_database(&format!("{}_ref", case.label)).await?;
            let outcome = run_case(&db, &reference, case, true).await;
            let _ = server.drop_database(&db.name).await;
            let _ = server.drop_database(&reference.name).await;
            anyhow::Ok((i, outcome?))
        });
    }
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("task") {
            Err(e) => failures.push(format!("error: {e:#}")),
            Ok((i, outcome)) => {
                let case = &CASES[i];
                let problems = check(case, &outcome);
                if !problems.is_empty() {
                    failures.push(format!("{}: {}", case.label, problems.join("\n  ")));
                }
                eprintln!(
                    "{}: {} writes, {} during long statements, slowest {:?}",
                    case.label,
                    outcome.writer.writes.len(),
                    writes_during_long_statements(&outcome),
                    outcome.writer.writes.iter().map(|w| w.1).max().unwrap_or_default()
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same harness with the plain plan: the index build queues behind the competing transaction and the
/// writer queues behind the build, so the writer fails its lock timeout. Proves the check can fail.
#[tokio::test]
async fn control_the_plain_plan_blocks_the_writer() {
    let server = pg_server().await.unwrap();
    let case = &CASES[0];
    let db = server.fresh_database("sr_control").await.unwrap();
    let reference = server.fresh_database("sr_control_ref").await.unwrap();
    let outcome = run_case(&db, &reference, case, false).await.unwrap();
    assert!(!outcome.statements.iter().any(|s| s.contains("CONCURRENTLY")), "{:?}", outcome.statements);
    assert!(
        !outcome.writer.errors.is_empty(),
        "the plain CREATE INDEX should have blocked the writer beyond {BOUND:?}"
    );
    assert!(outcome.writer.errors.iter().all(|e| e.contains("lock timeout")), "{:?}", outcome.writer.errors);
}

/// (current, desired, expected hazard ids of the default, rewritten plan): the online forms carry no
/// write-blocking hazard; what remains is what the rewrite cannot remove.
const HAZARD_CASES: &[(&str, &str, &str, &[&str])] = &[
    ("srh_index", "CREATE TABLE t (a int);", "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);", &[]),
    ("srh_unique", "CREATE TABLE t (a int);", "CREATE TABLE t (a int UNIQUE);", &[]),
    ("srh_check", "CREATE TABLE t (a int);", "CREATE TABLE t (a int CHECK (a > 0));", &[]),
    ("srh_not_null", "CREATE TABLE t (a int);", "CREATE TABLE t (a int NOT NULL);", &[]),
    (
        "srh_fk",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p int);",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p int REFERENCES p (id));",
        &[],
    ),
    (
        "srh_drop_index",
        "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);",
        "CREATE TABLE t (a int);",
        &["index-dropped"],
    ),
    // A type change still rewrites: no online form in one step (expand/contract has one).
    ("srh_bigint", "CREATE TABLE t (a int);", "CREATE TABLE t (a bigint);", &["table-rewrite"]),
    ("srh_not_null_and_type", "CREATE TABLE t (a int);", "CREATE TABLE t (a bigint NOT NULL);", &["table-rewrite"]),
    // Exclusion constraints have no online form: the plain hazard stays.
    (
        "srh_exclusion",
        "CREATE TABLE t (a int4range);",
        "CREATE TABLE t (a int4range, EXCLUDE USING gist (a WITH &&));",
        &["blocking-index-build"],
    ),
    // New tables stay plain and carry nothing.
    ("srh_new_table", "", "CREATE TABLE t (a int NOT NULL UNIQUE CHECK (a > 0)); CREATE INDEX t_a ON t (a);", &[]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rewritten_plan_hazard_table() {
    let server = pg_server().await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for &(label, current, desired, expected) in HAZARD_CASES {
        tasks.spawn(async move {
            let db = server.fresh_database(label).await?;
            roundtrip::load_sql(&db.url, current).await?;
            let dir = tempfile::tempdir()?;
            std::fs::write(dir.path().join("app.sql"), desired)?;
            let migration = pipeline::migration(&roundtrip::settings_for(&db, dir.path())).await?;
            let ids: Vec<String> = migration
                .parts
                .iter()
                .flat_map(|p| p.up.hazards().map(|(_, h)| h.id.as_str().to_string()).collect::<Vec<_>>())
                .collect();
            let _ = server.drop_database(&db.name).await;
            anyhow::Ok((label, expected, ids))
        });
    }
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (label, expected, ids) = joined.expect("task").expect("case");
        if ids != expected {
            failures.push(format!("{label}: expected {expected:?}, got {ids:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every online statement can run again: running the rewritten plan's non-transactional parts twice
/// leaves the same schema as once (a failed run is finished by running the file again).
#[tokio::test]
async fn online_parts_are_rerunnable() {
    let server = pg_server().await.unwrap();
    let db = server.fresh_database("sr_rerun").await.unwrap();
    let reference = server.fresh_database("sr_rerun_ref").await.unwrap();
    let current = "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (id int, a int, b int);
        CREATE INDEX t_b ON t (b); INSERT INTO p VALUES (1); INSERT INTO t SELECT g, 1, g FROM generate_series(1, 100) g;";
    let desired = "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL
        REFERENCES p (id) CHECK (a > 0), b int); CREATE INDEX t_b ON t (b DESC); CREATE INDEX t_a ON t (a);";
    roundtrip::load_sql(&db.url, current).await.unwrap();
    roundtrip::load_sql(&reference.url, desired).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.sql"), desired).unwrap();
    let migration = pipeline::migration(&roundtrip::settings_for(&db, dir.path())).await.unwrap();
    assert!(migration.parts.iter().any(|p| !p.up.transactional), "{:#?}", migration.parts);
    run_parts(&db.url, &migration.parts, false).await.unwrap();
    for part in migration.parts.iter().filter(|p| !p.up.transactional) {
        run_parts(&db.url, std::slice::from_ref(part), false).await.unwrap();
    }
    let expected = roundtrip::fingerprint(&reference.url).await.unwrap();
    let actual = roundtrip::fingerprint(&db.url).await.unwrap();
    assert_eq!(roundtrip::fingerprint_diff(&expected, &actual), "");
    // And the down parts bring the schema back.
    let mut conn = connect::connect(&db.url).await.unwrap();
    for part in migration.parts.iter().rev() {
        let statements: Vec<String> = part.down.statements().map(String::from).collect();
        connect::execute_script(&mut conn, &statements, part.down.transactional).await.unwrap();
    }
    let reference_current = server.fresh_database("sr_rerun_cur").await.unwrap();
    roundtrip::load_sql(&reference_current.url, current).await.unwrap();
    let expected = roundtrip::fingerprint(&reference_current.url).await.unwrap();
    let actual = roundtrip::fingerprint(&db.url).await.unwrap();
    assert_eq!(roundtrip::fingerprint_diff(&expected, &actual), "");
}

/// Through `schema migrate` with a short `lock_timeout`: a concurrent build that times out behind a long
/// transaction leaves an INVALID index; the runner retries it after re-running its `DROP INDEX
/// CONCURRENTLY IF EXISTS` guard, and the index ends up valid.
#[tokio::test]
async fn migrate_retries_a_timed_out_concurrent_build() {
    let server = pg_server().await.unwrap();
    let db = server.fresh_database("sr_retry").await.unwrap();
    roundtrip::load_sql(
        &db.url,
        "CREATE TABLE t (id int, a int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;",
    )
    .await
    .unwrap();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir(dir.join("schema")).unwrap();
    std::fs::write(dir.join("schema/app.sql"), "CREATE TABLE t (id int, a int); CREATE INDEX t_a ON t (a);").unwrap();
    std::fs::write(dir.join("diff.toml"), "[migrate]\nlock_timeout = \"300ms\"\nretries = 5\n").unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_schema"))
            .current_dir(dir)
            .args(args)
            .args(["--url", &db.url])
            .env_remove("DATABASE_URL")
            .output()
            .expect("run schema")
    };
    let generated = run(&["generate", "--name", "index"]);
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));

    let mut blocker = connect::connect(&db.url).await.unwrap();
    sqlx::raw_sql("BEGIN; INSERT INTO t VALUES (0, 0)").execute(&mut blocker).await.unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        sqlx::raw_sql("COMMIT").execute(&mut blocker).await.unwrap();
    });
    let url = db.url.clone();
    let dir_path = dir.to_path_buf();
    let migrated = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_schema"))
            .current_dir(dir_path)
            .args(["migrate", "up", "--url", &url])
            .env_remove("DATABASE_URL")
            .output()
            .expect("run schema")
    })
    .await
    .unwrap();
    release.await.unwrap();
    let stdout = String::from_utf8_lossy(&migrated.stdout);
    assert!(migrated.status.success(), "{stdout}{}", String::from_utf8_lossy(&migrated.stderr));
    assert!(stdout.contains("lock timeout at statement") && stdout.contains("retry 1 of 5"), "{stdout}");
    let mut conn = connect::connect(&db.url).await.unwrap();
    let valid: Vec<(String, bool)> =
        sqlx::query_as("SELECT indexrelid::regclass::text, indisvalid FROM pg_index WHERE indrelid = 't'::regclass")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(valid, [("t_a".to_string(), true)]);
}

/// The online plan of changes on a partitioned table with a sub-partitioned partition runs, rows in every
/// partition, and reaches the declared schema (names of the partitions' indexes and constraints included):
/// PostgreSQL has no concurrent build of a partitioned index, no `NOT VALID` foreign key on a partitioned
/// table and no key `USING INDEX` there, so each is made on every partition and then on the parent, which
/// attaches them; an index a partition has already is attached, not built again. A foreign key to a
/// partitioned table stays plain: added `NOT VALID`, its copies for the partitions stay NOT VALID after
/// `VALIDATE` (PostgreSQL 15), which the round trip would show.
#[tokio::test]
async fn online_plans_on_partitioned_tables_run() {
    let server = pg_server().await.unwrap();
    let current = "CREATE TABLE r (id int PRIMARY KEY); INSERT INTO r VALUES (1), (2);
        CREATE TABLE m (id int NOT NULL, at date NOT NULL, rid int, n int) PARTITION BY RANGE (at);
        CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (id);
        CREATE TABLE m_2025_a PARTITION OF m_2025 FOR VALUES IN (1, 2, 3);
        CREATE INDEX m_n ON m (n); CREATE INDEX m_2024_rid_mine ON m_2024 (rid);
        CREATE TABLE x (id int, at date);
        INSERT INTO m VALUES (1, '2024-05-01', 1, 5), (2, '2025-05-01', 2, 1); INSERT INTO x VALUES (1, '2024-05-01');";
    let desired = "CREATE TABLE r (id int PRIMARY KEY);
        CREATE TABLE m (id int NOT NULL, at date NOT NULL, rid int REFERENCES r, n int CHECK (n > 0),
                        UNIQUE (id, at)) PARTITION BY RANGE (at);
        CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (id);
        CREATE TABLE m_2025_a PARTITION OF m_2025 FOR VALUES IN (1, 2, 3);
        CREATE INDEX m_2024_rid_mine ON m_2024 (rid); CREATE INDEX m_rid ON m (rid);
        CREATE TABLE x (id int, at date, FOREIGN KEY (id, at) REFERENCES m (id, at));";
    let outcome = roundtrip::run_generated(server, "online_partitioned", current, desired, desired, |_| {})
        .await
        .expect("round trip setup");
    let files: String = outcome.files.iter().map(|(f, t)| format!("--- {f}\n{t}\n")).collect();
    assert!(outcome.failure.is_none(), "{}\n{files}", outcome.failure.as_deref().unwrap_or(""));
    for expected in [
        // The index: on the parent alone, on each partition concurrently (or ON ONLY on the sub-partitioned
        // one), attached from the deepest level up; the partition's own index of the same definition and
        // name is attached, not built.
        "CREATE INDEX \"m_rid\" ON ONLY \"public\".\"m\" USING btree (rid);",
        "CREATE INDEX \"m_2025_rid_idx\" ON ONLY \"public\".\"m_2025\" USING btree (rid);",
        "CREATE INDEX CONCURRENTLY \"m_2025_a_rid_idx\" ON \"public\".\"m_2025_a\" USING btree (rid);",
        "ALTER INDEX \"public\".\"m_2025_rid_idx\" ATTACH PARTITION \"public\".\"m_2025_a_rid_idx\";",
        "ALTER INDEX \"public\".\"m_rid\" ATTACH PARTITION \"public\".\"m_2024_rid_mine\";",
        // The foreign key: NOT VALID and validated on each partition that holds rows, then on the parent.
        "ALTER TABLE \"public\".\"m_2024\" ADD CONSTRAINT \"m_rid_fkey\" FOREIGN KEY (rid) REFERENCES public.r(id) NOT VALID;",
        "ALTER TABLE \"public\".\"m_2025_a\" VALIDATE CONSTRAINT \"m_rid_fkey\";",
        // The unique key: an index built concurrently on each partition that holds rows, made its key.
        "CREATE UNIQUE INDEX CONCURRENTLY \"m_2025_a_id_at_key\" ON \"public\".\"m_2025_a\" (id, at);",
        "ALTER TABLE \"public\".\"m_2024\" ADD CONSTRAINT \"m_2024_id_at_key\" UNIQUE USING INDEX \"m_2024_id_at_key\";",
        "ALTER TABLE \"public\".\"m\" ADD CONSTRAINT \"m_id_at_key\" UNIQUE (id, at);",
        "VALIDATE CONSTRAINT \"m_n_check\"",
    ] {
        assert!(files.contains(expected), "expected {expected}\n{files}");
    }
    let ups: String = outcome.files.iter().filter(|(f, _)| f.ends_with(".up.sql")).map(|(_, t)| t.as_str()).collect();
    assert!(!ups.contains("CREATE INDEX CONCURRENTLY \"m_2024_rid_mine\""), "{files}");
    assert!(!files.contains("\"x_id_at_fkey\" FOREIGN KEY (id, at) REFERENCES public.m(id, at) NOT VALID"), "{files}");
}

/// (label, current with rows, desired, phased): shapes whose online or phased parts and their downs must
/// run in order. NOT NULL is added through a validated check, so a down that drops it again must wait
/// until the primary key that holds the column is gone, whichever part that key's change is in; a phased
/// table rename is reverted (the table renamed back) before the down renames its key back.
const PARTS_ROUND_TRIPS: &[(&str, &str, &str, bool)] = &[
    (
        "sr_parts_replica_identity",
        include_str!("../fixtures/replica_identity_current.sql"),
        include_str!("../fixtures/replica_identity_desired.sql"),
        false,
    ),
    (
        "sr_parts_replica_identity_phased",
        include_str!("../fixtures/replica_identity_current.sql"),
        include_str!("../fixtures/replica_identity_desired.sql"),
        true,
    ),
    (
        "sr_parts_inheritance",
        include_str!("../fixtures/inheritance_current.sql"),
        include_str!("../fixtures/inheritance_desired.sql"),
        false,
    ),
    (
        "sr_parts_inheritance_phased",
        include_str!("../fixtures/inheritance_current.sql"),
        include_str!("../fixtures/inheritance_desired.sql"),
        true,
    ),
    (
        "sr_parts_not_null_into_a_wider_primary_key",
        "CREATE TABLE t (id int PRIMARY KEY, b int); INSERT INTO t VALUES (1, 1), (2, 1);",
        "CREATE TABLE t (id int, b int, PRIMARY KEY (id, b));",
        false,
    ),
    (
        "sr_parts_primary_key_moves_to_a_nullable_column",
        "CREATE TABLE t (id int PRIMARY KEY, b int); INSERT INTO t VALUES (1, 1), (2, 2);",
        "CREATE TABLE t (id int NOT NULL, b int PRIMARY KEY);",
        false,
    ),
    (
        "sr_parts_new_primary_key_referenced_by_a_new_table",
        "CREATE TABLE t (id int, b int); INSERT INTO t VALUES (1, 1);",
        "CREATE TABLE t (id int PRIMARY KEY, b int); CREATE TABLE u (t_id int REFERENCES t);",
        false,
    ),
    (
        "sr_parts_partitioned_table_gets_not_null_key_and_index",
        "CREATE TABLE p (id int, d date) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE r (id int PRIMARY KEY); INSERT INTO r VALUES (1); INSERT INTO p VALUES (1, '2020-02-02');",
        "CREATE TABLE r (id int PRIMARY KEY);
         CREATE TABLE p (id int NOT NULL REFERENCES r, d date NOT NULL, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01'); CREATE INDEX p_id ON p (id);",
        false,
    ),
    (
        "sr_parts_partition_keeps_not_null_of_its_dropped_key",
        "CREATE TABLE p (id int, d date) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p (PRIMARY KEY (id)) FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE p2 PARTITION OF p FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
         INSERT INTO p VALUES (1, '2020-02-02'), (2, '2021-02-02');",
        "CREATE TABLE p (id int, d date) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE p2 PARTITION OF p (PRIMARY KEY (id)) FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');",
        false,
    ),
    (
        "sr_parts_invalid_partitioned_index_gets_its_partitions_index",
        "CREATE TABLE p (id int, d date) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE p2 PARTITION OF p FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
         CREATE INDEX p_id ON ONLY p (id); CREATE INDEX p1_id ON p1 (id); ALTER INDEX p_id ATTACH PARTITION p1_id;
         CREATE INDEX p2_id ON p2 (id); INSERT INTO p VALUES (1, '2020-02-02'), (2, '2021-02-02');",
        "CREATE TABLE p (id int, d date) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE p2 PARTITION OF p FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
         CREATE INDEX p1_id ON p1 (id); CREATE INDEX p2_id ON p2 (id); CREATE INDEX p_id ON p (id);",
        false,
    ),
    (
        "sr_parts_partition_referenced_through_its_parent_is_dropped",
        "CREATE TABLE p (id int, d date, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE p2 PARTITION OF p FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
         CREATE TABLE q (id int, d date, FOREIGN KEY (id, d) REFERENCES p);
         INSERT INTO p VALUES (1, '2020-02-02'); INSERT INTO q VALUES (1, '2020-02-02');",
        "CREATE TABLE p (id int, d date, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE q (id int, d date, FOREIGN KEY (id, d) REFERENCES p);",
        false,
    ),
    (
        "sr_parts_partition_index_goes_before_its_parents_column",
        "CREATE TABLE p (id int, d date) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE UNIQUE INDEX p1_d_id ON p1 (d, id); INSERT INTO p VALUES (1, '2020-02-02');",
        "CREATE TABLE p (d date) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');",
        false,
    ),
    (
        "sr_parts_partition_keys_on_an_index_of_the_parent_go_with_it",
        include_str!("../fixtures/partition_keys_on_parent_index_current.sql"),
        include_str!("../fixtures/partition_keys_on_parent_index_desired.sql"),
        false,
    ),
    (
        "sr_parts_detached_partitions_keep_or_drop_their_copies",
        include_str!("../fixtures/partition_detached_current.sql"),
        include_str!("../fixtures/partition_detached_desired.sql"),
        false,
    ),
    (
        "sr_parts_attached_partition_index_adopted_by_the_parent",
        "CREATE TABLE w (id int, d date, k int) PARTITION BY RANGE (d); CREATE INDEX w_k ON w (k);
         CREATE TABLE w1 (id int, d date, k int); CREATE INDEX w1_mine ON w1 (k);
         CREATE TABLE w2 (id int, d date, k int); CREATE INDEX w2_k_idx ON w2 (k);
         INSERT INTO w1 VALUES (1, '2020-02-02', 1); INSERT INTO w2 VALUES (2, '2021-02-02', 2);",
        "CREATE TABLE w (id int, d date, k int) PARTITION BY RANGE (d);
         CREATE TABLE w1 PARTITION OF w FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE w2 PARTITION OF w FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
         CREATE INDEX w_k ON w (k); CREATE INDEX w1_mine ON w1 (k);",
        false,
    ),
    (
        "sr_parts_partition_copies_of_a_not_valid_check_keep_their_validity",
        crate::roundtrip::NOT_VALID_CHECK_COPIES_CURRENT,
        crate::roundtrip::NOT_VALID_CHECK_COPIES_DESIRED,
        false,
    ),
    (
        "sr_parts_partition_moved_to_a_new_parent",
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);
         CREATE TABLE p (id int, d date, tid int REFERENCES t) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         INSERT INTO p VALUES (1, '2020-02-02', NULL), (2, '2020-03-03', NULL);",
        "CREATE TABLE p_new (id int, d date, tid int) PARTITION BY RANGE (d);
         CREATE TABLE p1 PARTITION OF p_new FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');",
        false,
    ),
    (
        "sr_parts_new_partition_whose_own_key_is_the_parent_index_on_it",
        "CREATE TABLE m (id int, d date, CHECK (id > 0)) PARTITION BY RANGE (d);
         CREATE UNIQUE INDEX m_u ON m (d, id);
         CREATE TABLE m1 PARTITION OF m FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         INSERT INTO m VALUES (1, '2020-02-02'), (2, '2020-03-03');",
        "CREATE TABLE m (id int, d date, CHECK (id > 0)) PARTITION BY RANGE (d);
         CREATE TABLE m1 PARTITION OF m FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE m2 PARTITION OF m (PRIMARY KEY (d, id)) FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
         CREATE UNIQUE INDEX m_u ON m (d, id);",
        false,
    ),
    (
        "sr_parts_phased_table_rename_with_its_key",
        "CREATE TABLE t (id int PRIMARY KEY, a int); INSERT INTO t VALUES (1, 1);",
        "CREATE TABLE u -- schema:renamed-from t
         (id int PRIMARY KEY, a int);",
        true,
    ),
];

/// The files `generate` writes run: every part's up in order, then every part's down, last part first,
/// back to the current schema.
#[tokio::test]
async fn online_parts_and_their_downs_run() {
    let server = pg_server().await.unwrap();
    // The tool's runner writes its progress to a `dyn Write`: the round trips run on this thread.
    let local = tokio::task::LocalSet::new();
    let failures = local
        .run_until(async {
            let mut tasks = tokio::task::JoinSet::new();
            for &(label, current, desired, phased) in PARTS_ROUND_TRIPS {
                tasks.spawn_local(async move {
                    let outcome = roundtrip::run_parts(server, label, current, desired, |settings| {
                        settings.hazards.rewrite.phased = phased;
                    });
                    (label, outcome.await)
                });
            }
            let mut failures = Vec::new();
            while let Some(joined) = tasks.join_next().await {
                let (label, outcome) = joined.expect("task");
                let outcome = outcome.expect("round trip setup");
                if let Some(failure) = &outcome.failure {
                    let files: String = outcome.files.iter().map(|(f, t)| format!("--- {f}\n{t}\n")).collect();
                    failures.push(format!("{label}: {failure}\n{files}"));
                }
            }
            failures
        })
        .await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// (label, current with rows, desired, tables whose rows must survive): tables that PostgreSQL cannot
/// change in place, rebuilt with their rows.
const REBUILDS: &[(&str, &str, &str, &[&str])] = &[
    (
        "sr_rebuild_rekeyed_with_a_foreign_key_to_it",
        "CREATE TABLE e (id int GENERATED ALWAYS AS IDENTITY, kind text NOT NULL, n serial, PRIMARY KEY (id, kind))
             PARTITION BY LIST (kind);
         CREATE TABLE e_a PARTITION OF e FOR VALUES IN ('a');
         CREATE TABLE e_b PARTITION OF e FOR VALUES IN ('b');
         CREATE TABLE r (id int PRIMARY KEY, e_id int, kind text, FOREIGN KEY (e_id, kind) REFERENCES e);
         CREATE VIEW v AS SELECT kind, count(*) FROM e GROUP BY kind;
         INSERT INTO e (kind) SELECT CASE WHEN i % 3 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 30) i;
         INSERT INTO r SELECT i, i, CASE WHEN i % 3 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 30) i;",
        "CREATE TABLE e (id int GENERATED ALWAYS AS IDENTITY, kind text NOT NULL, n serial, PRIMARY KEY (id, kind))
             PARTITION BY HASH (kind);
         CREATE TABLE e_0 PARTITION OF e FOR VALUES WITH (MODULUS 2, REMAINDER 0);
         CREATE TABLE e_1 PARTITION OF e FOR VALUES WITH (MODULUS 2, REMAINDER 1);
         CREATE TABLE r (id int PRIMARY KEY, e_id int, kind text, FOREIGN KEY (e_id, kind) REFERENCES e);
         CREATE VIEW v AS SELECT kind, count(*) FROM e GROUP BY kind;",
        &["e", "r"],
    ),
    (
        "sr_rebuild_plain_to_partitioned",
        "CREATE TABLE o (id int PRIMARY KEY, at date NOT NULL, note text);
         CREATE INDEX o_at ON o (at);
         CREATE MATERIALIZED VIEW o_count AS SELECT count(*) FROM o;
         INSERT INTO o SELECT i, DATE '2024-01-01' + i, 'n' || i FROM generate_series(1, 40) i;
         REFRESH MATERIALIZED VIEW o_count;",
        "CREATE TABLE o (id int, at date NOT NULL, note text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE TABLE o_2024 PARTITION OF o FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE o_later PARTITION OF o DEFAULT;
         CREATE INDEX o_at ON o (at);
         CREATE MATERIALIZED VIEW o_count AS SELECT count(*) FROM o;",
        &["o", "o_count"],
    ),
    (
        "sr_rebuild_partition_gets_partitions",
        "CREATE TABLE m (id int NOT NULL, at date NOT NULL, kind text) PARTITION BY RANGE (at);
         CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         INSERT INTO m SELECT i, DATE '2024-01-01' + i, CASE WHEN i % 2 = 0 THEN 'x' END FROM generate_series(1, 20) i;",
        "CREATE TABLE m (id int NOT NULL, at date NOT NULL, kind text) PARTITION BY RANGE (at);
         CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (kind);
         CREATE TABLE m_2024_x PARTITION OF m_2024 FOR VALUES IN ('x');
         CREATE TABLE m_2024_other PARTITION OF m_2024 DEFAULT;",
        &["m"],
    ),
];

/// A table rebuild runs in the files `generate` writes, in the online plan and with phases: in one
/// transactional part (it is not online), every row read back the same after up and after down. The
/// foreign key of another table that points at it comes back valid (PostgreSQL 15 leaves its copy per
/// partition NOT VALID after `VALIDATE`).
#[tokio::test]
async fn table_rebuilds_run_in_the_online_and_phased_plans_keeping_every_row() {
    let server = pg_server().await.unwrap();
    let local = tokio::task::LocalSet::new();
    let failures = local
        .run_until(async {
            let mut tasks = tokio::task::JoinSet::new();
            for &(label, current, desired, tables) in REBUILDS {
                for phased in [false, true] {
                    tasks.spawn_local(async move {
                        let label = format!("{label}{}", if phased { "_phased" } else { "" });
                        let outcome =
                            roundtrip::run_parts_keeping_rows(server, &label, current, desired, tables, |s| {
                                s.hazards.rewrite.phased = phased;
                            })
                            .await;
                        (label, outcome)
                    });
                }
            }
            let mut failures = Vec::new();
            while let Some(joined) = tasks.join_next().await {
                let (label, outcome) = joined.expect("task");
                let outcome = outcome.expect("round trip setup");
                let files: String = outcome.files.iter().map(|(f, t)| format!("--- {f}\n{t}\n")).collect();
                if let Some(failure) = &outcome.failure {
                    failures.push(format!("{label}: {failure}\n{files}"));
                    continue;
                }
                // The copy and the drop of the old table are in one transactional file.
                let (_, copy_file) = outcome.files.iter().find(|(_, t)| t.contains("INSERT INTO")).expect("a copy");
                if copy_file.starts_with("-- schema:no-transaction")
                    || !copy_file.contains("DROP TABLE \"public\".\"schema_old_")
                {
                    failures.push(format!("{label}: the rebuild is not in one transactional file\n{files}"));
                }
                if label.starts_with("sr_rebuild_rekeyed") && files.contains("VALIDATE CONSTRAINT \"r_e_id_kind_fkey\"")
                {
                    failures
                        .push(format!("{label}: the foreign key to a partitioned table is added NOT VALID\n{files}"));
                }
            }
            failures
        })
        .await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// In the online plan too, a row that fits none of the new partitions fails the rebuild's transaction:
/// `migrate up` stops, and the database is as it was, every row in place.
#[tokio::test]
async fn an_online_rebuild_with_a_row_that_fits_no_partition_changes_nothing() {
    let server = pg_server().await.unwrap();
    let db = server.fresh_database("sr_rebuild_no_partition").await.unwrap();
    let current = "CREATE TABLE e (id int, kind text NOT NULL) PARTITION BY LIST (kind);
        CREATE TABLE e_a PARTITION OF e FOR VALUES IN ('a');
        CREATE TABLE e_rest PARTITION OF e DEFAULT;
        INSERT INTO e VALUES (1, 'a'), (2, 'b'), (3, 'c');";
    // The new key has a partition for 'a' and 'b', none for 'c'.
    let desired = "CREATE TABLE e (id int, kind text NOT NULL) PARTITION BY RANGE (kind);
        CREATE TABLE e_a_b PARTITION OF e FOR VALUES FROM ('a') TO ('c');";
    let tables = ["e"];
    roundtrip::load_sql(&db.url, current).await.unwrap();
    let before = roundtrip::fingerprint_untracked(&db.url).await.unwrap();
    let rows = roundtrip::rows_of(&db.url, &tables).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = roundtrip::file_settings(&db.url, dir.path()).unwrap();
    std::fs::write(settings.schema_dir.join("schema.sql"), desired).unwrap();
    let migration = pipeline::migration(&settings).await.unwrap();
    roundtrip::write_generated(&settings, &migration).unwrap();
    let error = roundtrip::run_migrations(&settings, true).await.expect_err("the copy fails");
    let error = format!("{error:#}");
    assert!(error.contains("no partition of relation \"e\" found for row"), "{error}");
    assert_eq!(roundtrip::fingerprint_untracked(&db.url).await.unwrap(), before);
    assert_eq!(roundtrip::rows_of(&db.url, &tables).await.unwrap(), rows);
    let _ = server.drop_database(&db.name).await;
}

/// A statement's timeout follows what the statement is, not words in its text: the rename that ends an
/// index swap takes a blocking lock, so it runs under `statement_timeout` even when the index's name
/// contains " CONCURRENTLY " (the text of a concurrent build), and the build itself under the online one.
#[tokio::test]
async fn a_statements_timeout_follows_what_it_is_not_words_in_a_name() {
    let server = pg_server().await.unwrap();
    let db = server.fresh_database("sr_timeout_by_fact").await.unwrap();
    let index = "ix CONCURRENTLY VALIDATE CONSTRAINT a";
    let table = "CREATE TABLE users (id int PRIMARY KEY, name text);";
    roundtrip::load_sql(&db.url, &format!("{table} CREATE INDEX \"{index}\" ON users (name);")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = roundtrip::file_settings(&db.url, dir.path()).unwrap();
    let desired = format!("{table} CREATE INDEX \"{index}\" ON users (name, id);");
    std::fs::write(settings.schema_dir.join("schema.sql"), desired).unwrap();
    settings.hazards.rewrite.statement_timeout = Some(Duration::from_millis(300));
    settings.hazards.rewrite.online_statement_timeout = Some(Duration::from_secs(3600));
    let migration = pipeline::migration(&settings).await.unwrap();
    let online: Vec<&str> =
        migration.parts.iter().filter(|p| !p.up.transactional).flat_map(|p| p.up.statements()).collect();
    let timeout_before = |needle: &str| {
        let at = online.iter().position(|s| s.starts_with(needle)).unwrap_or_else(|| panic!("{needle}: {online:#?}"));
        online[..at].iter().rev().find(|s| s.starts_with("SET statement_timeout")).copied().unwrap_or("none")
    };
    assert_eq!(timeout_before("CREATE INDEX CONCURRENTLY"), "SET statement_timeout = '3600000ms';", "{online:#?}");
    assert_eq!(timeout_before("ALTER INDEX"), "SET statement_timeout = '300ms';", "{online:#?}");
    let _ = server.drop_database(&db.name).await;
}
