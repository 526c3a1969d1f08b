//! `drift`, `diff` and `apply` against a real PostgreSQL: exit codes, report shapes, and that apply
//! refuses to lose data unless told to.

use crate::support::schema_in;
use schema::testkit::{pg_server, roundtrip};

struct Setup {
    dir: tempfile::TempDir,
    url: String,
}

async fn setup(label: &str, current: &str, declared: &str) -> Setup {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database(label).await.expect("fresh database");
    roundtrip::load_sql(&db.url, current).await.expect("load current");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::write(dir.path().join("schema/app.sql"), declared).unwrap();
    Setup { dir, url: db.url }
}

#[tokio::test]
async fn drift_exit_codes_and_report() {
    let s = setup(
        "drift_report",
        "CREATE TABLE t (id int PRIMARY KEY, a text);",
        "CREATE TABLE t (id int PRIMARY KEY, a text);",
    )
    .await;
    let same = schema_in(s.dir.path(), &["drift", "--url", &s.url], &[]);
    assert_eq!(Some(same.code), Some(0), "{}", same.stderr);
    assert!(same.stdout.contains("in sync"));

    std::fs::write(s.dir.path().join("schema/app.sql"), "CREATE TABLE t (id int PRIMARY KEY, a text NOT NULL, b int);")
        .unwrap();
    let drifted = schema_in(s.dir.path(), &["drift", "--url", &s.url], &[]);
    assert_eq!(Some(drifted.code), Some(1), "{}", drifted.stderr);
    let out = drifted.stdout;
    assert!(out.contains("table public.t: differs"), "{out}");
    assert!(out.contains("add column public.t.b"), "{out}");
    assert!(out.contains("-    \"a\" text,") && out.contains("+    \"a\" text NOT NULL,"), "{out}");

    let json = schema_in(s.dir.path(), &["drift", "--url", &s.url, "--format", "json"], &[]);
    assert_eq!(Some(json.code), Some(1));
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("valid JSON");
    assert_eq!(value["in_sync"], false);
    assert_eq!(value["objects"][0]["kind"], "table");
    assert_eq!(value["objects"][0]["name"], "public.t");
    assert!(value["objects"][0]["diff"].as_str().unwrap().contains("@@"));
    assert!(value["plan"]["steps"].as_array().unwrap().len() >= 2);

    let bad = schema_in(s.dir.path(), &["drift", "--url", "postgres://u:pw@127.0.0.1:1/x"], &[]);
    assert_eq!(Some(bad.code), Some(2));
}

#[tokio::test]
async fn drift_from_migrations_catches_a_forgotten_generate() {
    let s = setup("drift_migrations", "", "CREATE TABLE t (id int PRIMARY KEY);").await;
    let generated = schema_in(s.dir.path(), &["generate", "--url", &s.url, "--name", "first"], &[]);
    assert_eq!(Some(generated.code), Some(0), "{}", generated.stderr);
    let ok = schema_in(s.dir.path(), &["drift", "--from-migrations", "--url", &s.url], &[]);
    assert_eq!(Some(ok.code), Some(0), "{}{}", ok.stdout, ok.stderr);

    std::fs::write(s.dir.path().join("schema/app.sql"), "CREATE TABLE t (id int PRIMARY KEY, note text);").unwrap();
    let forgot = schema_in(s.dir.path(), &["drift", "--from-migrations", "--url", &s.url], &[]);
    assert_eq!(Some(forgot.code), Some(1), "{}", forgot.stderr);
    assert!(forgot.stdout.contains("add column public.t.note"));
}

#[tokio::test]
async fn diff_between_urls_and_directories() {
    let s =
        setup("diff_sources", "CREATE TABLE t (id int PRIMARY KEY);", "CREATE TABLE t (id int PRIMARY KEY, c text);")
            .await;
    let server = pg_server().await.unwrap();
    let other = server.fresh_database("diff_other").await.unwrap();
    roundtrip::load_sql(&other.url, "CREATE TABLE t (id int PRIMARY KEY);").await.unwrap();

    let same = schema_in(s.dir.path(), &["diff", "--from", &s.url, "--to", &other.url], &[]);
    assert_eq!(Some(same.code), Some(0), "{}", same.stderr);
    let to_dir = schema_in(s.dir.path(), &["diff", "--from", &s.url, "--to", "schema"], &[]);
    assert_eq!(Some(to_dir.code), Some(1), "{}", to_dir.stderr);
    assert!(to_dir.stdout.contains(r#"ALTER TABLE "public"."t" ADD COLUMN "c" text;"#));
    let from_dir = schema_in(s.dir.path(), &["diff", "--from", "schema", "--to", &other.url], &[]);
    assert_eq!(Some(from_dir.code), Some(1));
    assert!(from_dir.stdout.contains(r#"DROP COLUMN "c""#));
}

#[tokio::test]
async fn apply_refuses_data_loss_without_the_flag() {
    let s = setup(
        "apply_destructive",
        "CREATE TABLE t (id int PRIMARY KEY, old text); INSERT INTO t VALUES (1, 'x');",
        "CREATE TABLE t (id int PRIMARY KEY, new text);",
    )
    .await;
    let before = roundtrip::fingerprint(&s.url).await.unwrap();
    let dry = schema_in(s.dir.path(), &["apply", "--url", &s.url, "--dry-run"], &[]);
    assert_eq!(Some(dry.code), Some(0));
    assert!(dry.stdout.contains(r#"DROP COLUMN "old""#));
    let refused = schema_in(s.dir.path(), &["apply", "--url", &s.url, "--yes"], &[]);
    assert_eq!(Some(refused.code), Some(2));
    assert!(refused.stderr.contains("--allow-destructive"), "{}", refused.stderr);
    let unconfirmed = schema_in(s.dir.path(), &["apply", "--url", &s.url, "--allow-destructive"], &[]);
    assert_eq!(Some(unconfirmed.code), Some(2));
    assert!(unconfirmed.stderr.contains("--yes"));
    assert_eq!(roundtrip::fingerprint(&s.url).await.unwrap(), before, "nothing may change before confirmation");

    let applied = schema_in(s.dir.path(), &["apply", "--url", &s.url, "--yes", "--allow-destructive"], &[]);
    assert_eq!(Some(applied.code), Some(0), "{}", applied.stderr);
    let after = schema_in(s.dir.path(), &["drift", "--url", &s.url], &[]);
    assert_eq!(Some(after.code), Some(0), "{}", after.stdout);
}

#[tokio::test]
async fn apply_of_additive_changes_needs_no_flag() {
    let s = setup(
        "apply_additive",
        "CREATE TABLE t (id int PRIMARY KEY);",
        "CREATE TABLE t (id int PRIMARY KEY, c text DEFAULT 'x');",
    )
    .await;
    let applied = schema_in(s.dir.path(), &["apply", "--url", &s.url, "--yes"], &[]);
    assert_eq!(Some(applied.code), Some(0), "{}", applied.stderr);
    let again = schema_in(s.dir.path(), &["apply", "--url", &s.url, "--yes"], &[]);
    assert!(again.stdout.contains("no changes"));
}

#[tokio::test]
async fn generate_and_drift_follow_pending_online_and_phased_migrations() {
    let s = setup("drift_online", "", "CREATE TABLE t (id int PRIMARY KEY, a text, n int);").await;
    let run = |args: &[&str]| {
        let out = schema_in(s.dir.path(), args, &[]);
        assert_eq!(Some(out.code), Some(0), "{args:?}: {}{}", out.stdout, out.stderr);
        out.stdout
    };
    run(&["generate", "--url", &s.url, "--name", "first"]);
    // An empty database without a tracking table has applied none: planned from the migrations.
    let untracked = schema_in(s.dir.path(), &["generate", "--url", &s.url, "--name", "untracked"], &[]);
    assert_eq!(untracked.stdout, "no changes\n", "{}", untracked.stderr);
    assert!(untracked.stderr.contains("has applied none of the 1 migration(s)"), "{}", untracked.stderr);
    run(&["migrate", "up", "--url", &s.url]);
    // An index on an existing table is built CONCURRENTLY, in a migration outside a transaction.
    let app = s.dir.path().join("schema/app.sql");
    std::fs::write(&app, "CREATE TABLE t (id int PRIMARY KEY, b text, n int);\nCREATE INDEX t_b ON t (b);").unwrap();
    let written = run(&["generate", "--url", &s.url, "--name", "second"]);
    assert!(written.matches("wrote").count() >= 4, "{written}");
    // Generating again before `migrate up` would repeat the pending migration: refused, unless planned
    // from the migrations.
    for command in ["generate", "plan"] {
        let again = schema_in(s.dir.path(), &[command, "--url", &s.url], &[]);
        assert_eq!(Some(again.code), Some(2), "{}", again.stdout);
        assert!(again.stderr.contains("not applied to this database") && again.stderr.contains("_second"));
    }
    assert_eq!(run(&["generate", "--url", &s.url, "--from-migrations"]), "no changes\n");
    run(&["migrate", "up", "--url", &s.url]);
    run(&["drift", "--from-migrations", "--url", &s.url]);
    // A type change in phases: the backfill commits per batch, outside a transaction.
    std::fs::write(&app, "CREATE TABLE t (id int PRIMARY KEY, b text, n bigint);\nCREATE INDEX t_b ON t (b);").unwrap();
    let written = run(&["generate", "--url", &s.url, "--name", "third", "--phased"]);
    assert!(written.contains("backfill"), "{written}");
    run(&["migrate", "up", "--contract", "--url", &s.url]);
    run(&["drift", "--from-migrations", "--url", &s.url]);
    run(&["drift", "--url", &s.url]);
}

/// The role that deploys is usually not a superuser: it owns the database and may create databases
/// (for the scratch database). Every command of the workflow must work for it.
#[tokio::test]
async fn a_non_superuser_owner_runs_the_whole_workflow() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(&["schema_deployer", "app_reader"]).await.expect("roles");
    let db = server.fresh_database("non_superuser").await.expect("fresh database");
    roundtrip::load_sql(
        server.admin_url(),
        &format!(
            "ALTER ROLE schema_deployer LOGIN CREATEDB NOSUPERUSER PASSWORD 'deployer-pw';
             ALTER DATABASE \"{}\" OWNER TO schema_deployer;",
            db.name
        ),
    )
    .await
    .expect("make the deployer own the database");
    let mut url = url::Url::parse(&db.url).expect("test URL");
    url.set_username("schema_deployer").and_then(|_| url.set_password(Some("deployer-pw"))).expect("set user");
    let url = url.to_string();

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::write(
        dir.path().join("schema/app.sql"),
        "CREATE SCHEMA app;
         CREATE TYPE app.mood AS ENUM ('ok', 'meh');
         CREATE TABLE app.users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, mood app.mood);
         CREATE INDEX users_name ON app.users (lower(name));
         CREATE VIEW app.names AS SELECT id, name FROM app.users;
         CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch();
         ALTER TABLE app.users ENABLE ROW LEVEL SECURITY;
         CREATE POLICY own ON app.users USING (name = current_user);
         GRANT USAGE ON SCHEMA app TO app_reader;
         GRANT SELECT ON app.names TO app_reader;",
    )
    .unwrap();
    let run = |args: &[&str], code: i32| {
        let out = schema_in(dir.path(), args, &[]);
        let (stdout, stderr) = (out.stdout, out.stderr);
        assert_eq!(Some(out.code), Some(code), "{args:?}:\n{stdout}\n{stderr}");
        assert!(!stdout.contains("deployer-pw") && !stderr.contains("deployer-pw"), "password printed");
        stdout
    };
    run(&["generate", "--url", &url, "--name", "init"], 0);
    run(&["migrate", "up", "--url", &url], 0);
    run(&["drift", "--url", &url], 0);
    run(&["drift", "--from-migrations", "--url", &url], 0);
    assert_eq!(run(&["plan", "--url", &url], 0), "no changes\n");
    assert!(run(&["inspect", "--url", &url], 0).contains("CREATE POLICY"));
}
