//! Progress of long statements in `schema migrate up`, on a real PostgreSQL, with stderr not a terminal
//! (quiet lines): an index build names the index and a percentage, a backfill counts the batches it
//! committed, quick statements print nothing, the monitor session leaves with its statement, and a
//! monitor that cannot connect changes nothing but the progress shown.
//!
//! The long statements are made long on purpose, with a lower bound the test controls (a function that
//! sleeps per row, or a row lock held by the test), so that they outlast the first line (3 s) on any
//! machine.

use crate::runner::{Project, tracked};
use crate::support::{Run, fresh};
use schema::testkit::pg_server;
use schema::testkit::roundtrip::load_sql;
use std::time::{Duration, Instant};

const V1: &str = "20240101000000_setup";
const V2: &str = "20240102000000_add_index";
const V3: &str = "20240103000000_after";

/// Every row costs at least 5 ms to index, so 700 rows take at least 3.5 s.
const SLOW_TABLE: &str = "\
CREATE FUNCTION slow(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN i; END $$;
CREATE TABLE t AS SELECT g AS a FROM generate_series(1, 700) g;
";

/// Waits (at most 1 s) until no monitor session is left, then records how many there are.
const MONITORS_LEFT: &str = "\
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'schema migrate progress');
        PERFORM pg_sleep(0.01);
    END LOOP;
END $$;
CREATE TABLE monitors_left AS
    SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'schema migrate progress';
";

/// The progress lines of a run's stderr.
fn progress_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("  [")).collect()
}

/// The whole percentage in `line` right after `after`.
fn percent_after(line: &str, after: &str) -> Option<u32> {
    let rest = &line[line.find(after)? + after.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    rest[digits.len()..].starts_with('%').then(|| digits.parse().ok()).flatten()
}

#[tokio::test]
async fn a_long_index_build_prints_lines_naming_the_index_with_a_percentage_and_its_monitor_leaves_with_it() {
    let db = fresh("progress_index", "").await;
    let project = Project::new(&db);
    // V1 is quick (half a second): no line for it.
    project.add(V1, &format!("{SLOW_TABLE}SELECT pg_sleep(0.5);\n"), "DROP TABLE t;\n");
    project.add(V2, &format!("CREATE INDEX t_slow ON t (slow(a));\n{MONITORS_LEFT}"), "DROP TABLE monitors_left;\n");
    let started = Instant::now();
    let run = project.run(&["migrate", "up"]);
    let took = started.elapsed();
    run.expect_code(0, "up").stdout_has(&[&format!("applied {V1}"), &format!("applied {V2}")]);

    let lines = progress_lines(&run.stderr);
    assert!(!lines.is_empty(), "no progress line for a build of more than 3.5 s:\n{}", run.stderr);
    assert!(lines.iter().all(|l| l.contains(&format!("] {V2}: "))), "a line for the quick V1:\n{}", run.stderr);
    let build = "building index public.t_slow (scanning table): ";
    assert!(
        lines.iter().any(|l| l.contains(build) && percent_after(l, build).is_some() && l.contains("(blocks ")),
        "no line names the index with a percentage of its blocks:\n{}",
        run.stderr
    );
    // Lines come at 3 s and then every 10 s.
    let most = 1 + took.as_secs().saturating_sub(3) / 10;
    assert!(lines.len() as u64 <= most, "{} lines in {took:?}:\n{}", lines.len(), run.stderr);
    assert!(!run.stdout.contains("building index"), "progress went to stdout:\n{}", run.stdout);

    // The monitor session was closed when the build ended, before the next statement ran.
    let mut conn = db.connect().await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT n FROM monitors_left").fetch_one(&mut conn).await.unwrap();
    assert_eq!(left, 0, "the monitor session outlived the statement it watched");
}

#[tokio::test]
async fn a_backfill_reports_the_batches_it_committed_and_the_lock_it_waits_for() {
    let db = fresh(
        "progress_backfill",
        "CREATE TABLE accounts (id bigint PRIMARY KEY, name text);
         INSERT INTO accounts SELECT g, 'account ' || g FROM generate_series(1, 1000) g;
         ANALYZE accounts;",
    )
    .await;
    let project = Project::new(&db);
    project.config(
        "[hazards]\nbackfill_batch_size = 50\n\n[[backfill]]\ntable = \"public.accounts\"\ncolumn = \"tier\"\n\
         value = \"'tier-' || (id % 3)\"\n",
    );
    let schema_dir = project.dir.path().join("schema");
    std::fs::create_dir_all(&schema_dir).unwrap();
    std::fs::write(
        schema_dir.join("accounts.sql"),
        "CREATE TABLE accounts (id bigint PRIMARY KEY, name text, tier text NOT NULL);\n",
    )
    .unwrap();
    project.run(&["generate", "--phased", "--name", "tier"]).expect_code(0, "generate");
    let mut ups: Vec<String> = std::fs::read_dir(project.generated())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".up.sql"))
        .collect();
    ups.sort();
    assert!(ups[0].ends_with("_tier_expand.up.sql") && ups[1].ends_with("_tier_backfill.up.sql"), "{ups:?}");
    project.run(&["migrate", "up", "--to", &ups[0][..14]]).expect_code(0, "up: expand");

    // Another session holds row 476 (in the 10th batch of 50): nine batches commit, the tenth waits.
    let mut blocker = db.connect().await.unwrap();
    sqlx::raw_sql("BEGIN; SELECT FROM accounts WHERE id = 476 FOR UPDATE").execute(&mut blocker).await.unwrap();
    let blocker_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut blocker).await.unwrap();
    let child = project.spawn(&["migrate", "up"]);
    // The first line comes with the monitor's first poll (at 3 s): wait for its session, and a little more.
    let mut conn = db.connect().await.unwrap();
    let started = Instant::now();
    loop {
        let monitors: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'schema migrate progress'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if monitors > 0 || started.elapsed() > Duration::from_secs(30) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    sqlx::raw_sql("COMMIT").execute(&mut blocker).await.unwrap();
    let run = Run::of(child);
    run.expect_code(0, "up: backfill").stdout_has(&[&format!("applied {}", &ups[1][..ups[1].len() - 7])]);
    run.stderr_has(&[&format!(
        "backfilling public.accounts: ~45% (9 batches of 50 rows committed, of about 1000 rows; waiting for a lock \
         held by server process {blocker_pid})"
    )]);
    let filled: i64 = sqlx::query_scalar("SELECT count(tier) FROM accounts").fetch_one(&mut conn).await.unwrap();
    assert_eq!(filled, 1000, "the backfill went on to the end");
}

#[tokio::test]
async fn a_monitor_that_cannot_connect_only_turns_progress_off() {
    // A role allowed one session: the runner's. The monitor's connection is refused.
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(&["progress_single_session"]).await.expect("role");
    let db = server.fresh_database("progress_refused").await.expect("fresh database");
    load_sql(
        server.admin_url(),
        &format!(
            "ALTER ROLE progress_single_session LOGIN NOSUPERUSER CONNECTION LIMIT 1 PASSWORD 'single-pw';
             ALTER DATABASE \"{}\" OWNER TO progress_single_session;",
            db.name
        ),
    )
    .await
    .expect("set up the role");
    let mut url = url::Url::parse(&db.url).expect("test URL");
    url.set_username("progress_single_session").and_then(|_| url.set_password(Some("single-pw"))).expect("user");
    let mut project = Project::new(&db);
    project.url = url.to_string();
    project.add(V1, SLOW_TABLE, "DROP TABLE t;\nDROP FUNCTION slow(int);\n");
    project.add(V2, "CREATE INDEX t_slow ON t (slow(a));\n", "DROP INDEX t_slow;\n");
    project.add(V3, "CREATE TABLE after_it (id int);\n", "DROP TABLE after_it;\n");

    let run = project.run(&["migrate", "up"]);
    run.expect_code(0, "up").stdout_has(&[&format!("applied {V2}"), &format!("applied {V3}")]);
    run.stderr_has(&[
        &format!("{V2}: progress not available (cannot open a second connection: too many connections for role"),
        &format!("{V2}: statement 1 of 1 running (CREATE INDEX t_slow ON t (slow(a)))"),
    ]);
    assert_eq!(tracked(&db).await.iter().filter(|(_, dirty)| !dirty).count(), 3);
}

/// Runs the binary on a pseudo-terminal with `TERM` set to `term` (or unset): `script` (util-linux) copies
/// what it draws to its own stdout.
fn on_a_terminal(project: &Project, args: &str, term: Option<&str>) -> String {
    let command = format!("'{}' --url '{}' {args}", env!("CARGO_BIN_EXE_schema"), project.url);
    let mut script = std::process::Command::new("script");
    script
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .current_dir(project.dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("TERM")
        .stdin(std::process::Stdio::null());
    if let Some(term) = term {
        script.env("TERM", term);
    }
    let output = script.output().expect("run `script` (util-linux) to give the binary a terminal");
    let screen = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{args} on a terminal failed:\n{screen}");
    screen
}

#[tokio::test]
async fn on_a_terminal_the_progress_is_one_line_redrawn_in_place_then_cleared() {
    let db = fresh("progress_terminal", "").await;
    let project = Project::new(&db);
    project.add(V1, SLOW_TABLE, "DROP TABLE t;\nDROP FUNCTION slow(int);\n");
    project.add(V2, "CREATE INDEX t_slow ON t (slow(a));\n", "DROP INDEX t_slow;\n");
    project.add(V3, "CREATE INDEX t_slow_too ON t (slow(a));\n", "DROP INDEX t_slow_too;\n");

    let screen = on_a_terminal(&project, &format!("migrate up --to {}", &V2[..14]), Some("xterm"));
    assert!(screen.contains(&format!("applied {V2}")), "{screen}");
    let build = "building index public.t_slow (scanning table)";
    let redrawn = screen.split("\r\x1b[2K").filter(|part| part.contains(build)).count();
    assert!(redrawn >= 2, "the line is not redrawn in place once a second:\n{screen:?}");
    assert!(screen.contains("% building index public.t_slow"), "no percentage:\n{screen:?}");
    assert!(!screen.contains(&format!("] {V2}: ")), "log lines on a terminal:\n{screen:?}");
    // Cleared before the next output: the `applied` line starts on a cleared line.
    assert!(screen.contains(&format!("\r\x1b[2Kapplied {V2}")), "the line was not cleared:\n{screen:?}");

    // A terminal without TERM cannot be drawn on: lines instead of nothing.
    let screen = on_a_terminal(&project, "migrate up", None);
    assert!(screen.contains(&format!("] {V3}: building index public.t_slow_too (scanning table): ")), "{screen:?}");
    assert!(!screen.contains("\x1b[2K"), "{screen:?}");
}
