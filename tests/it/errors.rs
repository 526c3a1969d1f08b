//! Bad input gets a clear error (exit 2) that points at the cause, and changes nothing: no files, no
//! change to the target database, no leftover scratch database, no password in the output.

use crate::support::{Project, Run, fresh, schema_in, scratch_databases_of};
use schema::testkit::pg_server;
use schema::testkit::roundtrip::fingerprint;
use sqlx::Connection;
use std::process::Command;

/// Nothing was written to the project's out dir.
fn assert_out_dir_empty(project: &Project) {
    let files = project.out_dir_files();
    assert!(files.is_empty(), "files were written to the out dir: {files:?}");
}

#[tokio::test]
async fn syntax_error_in_the_second_file_names_file_line_and_column_and_changes_nothing() {
    let db = fresh("err_syntax", "CREATE TABLE existing (id int PRIMARY KEY);").await;
    let before = fingerprint(&db.url).await.expect("fingerprint");
    let project = Project::new(&[
        ("a.sql", "CREATE TABLE existing (id int PRIMARY KEY);\nCREATE TABLE also (id int);\n"),
        ("b.sql", "-- second file\nCREATE TABLE fine (id int);\nCREATE TABLE t (a int,, b int);\n"),
    ]);
    let run = project.run(&db, &["generate", "--name", "broken"]);
    run.expect_code(2, "generate with a syntax error");
    // `CREATE TABLE t (a int,` is 22 characters: the stray comma is in column 23.
    run.stderr_has(&["b.sql:3:23: syntax error at or near \",\""]);
    assert!(!run.stdout.contains("wrote"), "{}", run.stdout);
    assert_out_dir_empty(&project);

    assert_eq!(scratch_databases_of(run.pid).await, Vec::<String>::new(), "the scratch database was dropped");
    assert_eq!(fingerprint(&db.url).await.expect("fingerprint"), before, "the target database is unchanged");
}

#[tokio::test]
async fn semantic_error_names_the_location_and_the_servers_message() {
    let db = fresh("err_semantic", "").await;
    let project = Project::new(&[(
        "child.sql",
        "CREATE TABLE parent (id int PRIMARY KEY);\n\nCREATE TABLE child (\n    id int PRIMARY KEY,\n    parent_id int REFERENCES missing_parent (id)\n);\n",
    )]);
    let run = project.run(&db, &["plan"]);
    run.expect_code(2, "plan with a reference to a missing table");
    // PostgreSQL reports no position for this error, so the column is the start of the statement.
    run.stderr_has(&["child.sql:3:1: relation \"missing_parent\" does not exist"]);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_out_dir_empty(&project);

    // When PostgreSQL reports a position, the column points into the statement, on its own line
    // (counted in characters: `é` is one).
    let project = Project::new(&[(
        "multi.sql",
        "-- comment before\nCREATE TABLE t (\n    id int,\n    é_name text DEFAULT no_such_fn()\n);\n",
    )]);
    let run = project.run(&db, &["plan"]);
    run.expect_code(2, "plan with a call to a missing function");
    run.stderr_has(&["multi.sql:4:25: function no_such_fn() does not exist"]);
}

#[tokio::test]
async fn unmanaged_statement_kinds_are_rejected_with_kind_and_location() {
    let db = fresh("err_unmanaged_kinds", "").await;
    let before = fingerprint(&db.url).await.expect("fingerprint");
    let cases = [
        (
            "CREATE OPERATOR",
            "CREATE TABLE t (id int);\n\nCREATE OPERATOR === (FUNCTION = int4eq, LEFTARG = int, RIGHTARG = int);\n",
            "f.sql:3:1",
        ),
        (
            "CREATE PUBLICATION",
            "CREATE TABLE t (id int);\nCREATE PUBLICATION everything FOR ALL TABLES;\n",
            "f.sql:2:1",
        ),
        (
            "CREATE RULE",
            "CREATE TABLE t (id int);\nCREATE RULE t_keep AS ON DELETE TO t\n    DO INSTEAD NOTHING;\n",
            "f.sql:2:1",
        ),
    ];
    for (kind, sql, location) in cases {
        let project = Project::new(&[("f.sql", sql)]);
        let run = project.run(&db, &["generate"]);
        run.expect_code(2, kind);
        run.stderr_has(&[&format!("{location}: {kind} is not managed")]);
        assert_out_dir_empty(&project);
    }
    assert_eq!(fingerprint(&db.url).await.expect("fingerprint"), before, "the target database is unchanged");
}

/// Table and column settings the model does not hold are named, on the declared side (an error) and in
/// the database (a warning, left alone), never dropped silently.
#[tokio::test]
async fn unmanaged_table_and_column_settings_are_named() {
    let settings = "CREATE TABLE t (id int PRIMARY KEY, v text COMPRESSION pglz, w int);
        ALTER TABLE t ALTER COLUMN w SET STATISTICS 500; ALTER TABLE t ALTER COLUMN v SET STORAGE EXTERNAL;
        CREATE VIEW tv AS SELECT id, v FROM t; ALTER VIEW tv ALTER COLUMN v SET DEFAULT 'x';";
    let named = [
        "column compression public.t.v",
        "column statistics target public.t.w",
        "column storage public.t.v",
        "view column default public.tv.v",
    ];
    let db = fresh("err_unmanaged_settings", "").await;
    let project = Project::new(&[("f.sql", settings)]);
    let run = project.run(&db, &["generate"]);
    run.expect_code(2, "declared settings");
    for name in named {
        run.stderr_has(&[name]);
    }
    assert_out_dir_empty(&project);

    let db = fresh("err_unmanaged_settings_live", settings).await;
    let project = Project::new(&[(
        "f.sql",
        "CREATE TABLE t (id int PRIMARY KEY, v text, w int); CREATE VIEW tv AS SELECT id, v FROM t;",
    )]);
    let run = project.run(&db, &["plan"]);
    run.expect_code(0, "live settings are warned about");
    for name in named {
        run.stderr_has(&[name]);
    }
}

#[tokio::test]
async fn unreachable_server_is_reported_without_the_password() {
    let project = Project::new(&[("t.sql", "CREATE TABLE t (id int);")]);
    for command in ["plan", "generate", "inspect"] {
        let run = project.run_url("postgres://u:secretpw@127.0.0.1:1/db", &[command]);
        run.expect_code(2, command).stderr_has(&["cannot connect"]).hides("secretpw");
    }
    // A password given as a query parameter is hidden too.
    let run = project.run_url("postgres://u@127.0.0.1:1/db?password=secretpw", &["plan"]);
    run.expect_code(2, "password in the query").stderr_has(&["cannot connect"]).hides("secretpw");
    assert_out_dir_empty(&project);
}

#[tokio::test]
async fn wrong_credentials_are_reported_without_the_password() {
    let db = fresh("err_wrong_role", "").await;
    let mut url = url::Url::parse(&db.url).expect("test database URL");
    url.set_username("nobody_here").expect("set user");
    url.set_password(Some("hunter2secret")).expect("set password");
    let url = url.to_string();
    assert!(url.contains("hunter2secret") && url.contains(&db.name), "{url}");
    let project = Project::new(&[("t.sql", "CREATE TABLE t (id int);")]);
    for command in ["plan", "generate"] {
        let run = project.run_url(&url, &[command]);
        run.expect_code(2, command).stderr_has(&["cannot connect"]).hides("hunter2secret");
    }
    // The same through --dev-url, with a good target URL.
    let run = project.run_url(&db.url, &["plan", "--dev-url", &url]);
    run.expect_code(2, "bad --dev-url").stderr_has(&["cannot connect"]).hides("hunter2secret");
    assert_out_dir_empty(&project);
}

#[test]
fn invalid_url_is_a_clear_error() {
    let project = Project::new(&[("t.sql", "CREATE TABLE t (id int);")]);
    let run = project.run_url("not a url", &["plan"]);
    run.expect_code(2, "invalid URL").stderr_has(&["invalid database URL"]);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[tokio::test]
async fn missing_or_empty_schema_dir_is_an_error() {
    let db = fresh("err_schema_dir", "").await;
    let project = Project::new(&[]);
    let missing = schema_in(project.path(), &["plan", "--url", &db.url, "--schema-dir", "no_such_dir"], &[]);
    missing.expect_code(2, "missing schema dir").stderr_has(&["no_such_dir"]);
    let empty =
        schema_in(project.path(), &["generate", "--url", &db.url, "--schema-dir", "schema", "--out-dir", "out"], &[]);
    empty.expect_code(2, "empty schema dir").stderr_has(&["no .sql files"]);
    assert_out_dir_empty(&project);
}

#[tokio::test]
async fn dev_url_must_be_empty_and_is_left_empty() {
    let db = fresh("err_dev_target", "CREATE TABLE t (id int PRIMARY KEY);").await;
    let busy = fresh("err_dev_busy", "CREATE TABLE leftover (id int);").await;
    let empty = fresh("err_dev_empty", "").await;
    let pristine = fingerprint(&empty.url).await.expect("fingerprint of the dev database");
    let project = Project::new(&[(
        "t.sql",
        "CREATE TYPE kind AS ENUM ('x', 'y');\nCREATE TABLE t (id int PRIMARY KEY, k kind);\nCREATE INDEX t_k ON t (k);\n",
    )]);

    let run = project.run(&db, &["generate", "--dev-url", &busy.url]);
    run.expect_code(2, "non-empty --dev-url").stderr_has(&["not empty"]);
    assert_out_dir_empty(&project);

    let run = project.run(&db, &["generate", "--name", "via_dev", "--dev-url", &empty.url]);
    run.expect_code(0, "empty --dev-url");
    // The index on the existing table is built CONCURRENTLY in a pair of its own (safe rewrites).
    assert_eq!(std::fs::read_dir(project.out_dir()).expect("out dir").count(), 5, "two pairs and schema.sum");
    let print = fingerprint(&empty.url).await.expect("fingerprint of the dev database");
    assert_eq!(print, pristine, "the dev database was left changed");
    let objects = ["type ", "relation ", "sequence ", "column ", "constraint "];
    assert!(!print.iter().any(|l| objects.iter().any(|o| l.starts_with(o))), "{print:?}");
}

/// The scratch database of the `schema` process `pid`, once it exists.
async fn wait_for_scratch_database(pid: u32) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        // The declared files' scratch database (verification's is named schema_verify_…).
        let loader = format!("schema_scratch_{pid}_");
        if let Some(name) = scratch_databases_of(pid).await.into_iter().find(|n| n.starts_with(&loader)) {
            return name;
        }
        assert!(std::time::Instant::now() < deadline, "no scratch database appeared for process {pid}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigterm_sighup_and_sigint_during_the_load_drop_the_scratch_database() {
    let db = fresh("err_signals", "").await;
    // The load takes 30 seconds unless interrupted.
    let project = Project::new(&[(
        "slow.sql",
        "CREATE TABLE t (id int);\nCREATE MATERIALIZED VIEW slow AS SELECT 1 AS x FROM pg_sleep(30);\n",
    )]);
    for signal in ["TERM", "HUP", "INT"] {
        let started = std::time::Instant::now();
        let child = project.command(&db.url, &["plan"]).spawn().expect("start the schema binary");
        wait_for_scratch_database(child.id()).await;
        let sent = Command::new("kill").args(["-s", signal, &child.id().to_string()]).status().expect("run kill");
        assert!(sent.success(), "kill -s {signal}");
        let run = Run::of(child);
        run.expect_code(2, signal).stderr_has(&[&format!("interrupted by SIG{signal}")]);
        assert!(started.elapsed() < std::time::Duration::from_secs(25), "SIG{signal} did not stop the load");
        assert_eq!(scratch_databases_of(run.pid).await, Vec::<String>::new(), "SIG{signal}: scratch database left");
    }
}

#[tokio::test]
async fn a_scratch_database_that_cannot_be_dropped_is_named_and_never_hidden() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = fresh("err_not_dropped", "").await;
    // A role that may create databases but not end a superuser's session, which DROP DATABASE … WITH
    // (FORCE) must do while the test's superuser session is connected to the scratch database.
    let mut admin = sqlx::PgConnection::connect(server.admin_url()).await.expect("admin connection");
    let created = sqlx::raw_sql("CREATE ROLE loader_creator LOGIN CREATEDB").execute(&mut admin).await;
    if let Err(e) = created {
        assert_eq!(e.as_database_error().and_then(|d| d.code()).as_deref(), Some("42710"), "{e}");
    }
    let mut url = url::Url::parse(&db.url).expect("test database URL");
    url.set_username("loader_creator").expect("set user");
    url.set_password(None).expect("no password");
    let slow = "CREATE MATERIALIZED VIEW slow AS SELECT 1 AS x FROM pg_sleep(2);\n";
    for (label, text, load_error) in [
        ("loaded", slow.to_string(), None),
        ("failed", format!("{slow}CREATE TABLE t (a int,, b int);\n"), Some("syntax error at or near \",\"")),
    ] {
        let project = Project::new(&[("slow.sql", &text)]);
        let child = project.command(url.as_str(), &["plan"]).spawn().expect("start the schema binary");
        let name = wait_for_scratch_database(child.id()).await;
        let holder = sqlx::PgConnection::connect(&server.url_for(&name)).await.expect("connect to the scratch db");
        let run = Run::of(child);
        run.expect_code(2, label).stderr_has(&[&format!("could not drop the scratch database \"{name}\"")]);
        if let Some(load_error) = load_error {
            run.stderr_has(&[load_error]);
        }
        let _ = holder.close().await;
        assert_eq!(scratch_databases_of(run.pid).await, vec![name.clone()], "{label}: the named database is left");
        server.drop_database(&name).await.expect("drop the scratch database");
    }
    let _ = admin.close().await;
}

/// pg_dump's psql meta-commands and session settings, and owners while ownership is not managed, are not
/// schema: each kind gets one line on stderr, and the plan goes on.
#[tokio::test]
async fn dump_preamble_and_unmanaged_owners_get_one_line_each_on_stderr() {
    let db = fresh("err_dump_notes", "CREATE TABLE t (id int);").await;
    let project = Project::new(&[(
        "dump.sql",
        "\\restrict k3Y\nSET statement_timeout = 0;\nSET transaction_timeout = 0;\n\
         SELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\n\
         CREATE TABLE public.t (id integer);\nALTER TABLE public.t OWNER TO postgres;\n\
         CREATE SEQUENCE public.s START WITH 1 INCREMENT BY 1;\nALTER SEQUENCE public.s OWNER TO postgres;\n\
         \\unrestrict k3Y\n",
    )]);
    let run = project.run(&db, &["plan"]);
    run.expect_code(0, "plan of a pg_dump-shaped file");
    run.stderr_has(&[
        "note: skipped 6 psql meta-command(s) and session setting(s) that are not schema (the first at schema/dump.sql:1:1)",
    ]);
    run.stderr_has(&["warning: ignored the owners set by 2 statement(s) (the first at schema/dump.sql:7:1)"]);
    run.stderr_has(&["set `manage = true` under `[ownership]` in diff.toml"]);
    assert_eq!(run.stderr.matches("note: skipped").count(), 1, "{}", run.stderr);
    assert!(run.stdout.contains("create sequence public.s"), "{}", run.stdout);
}
