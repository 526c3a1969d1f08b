//! `schema fleet` on a real PostgreSQL with many databases: every target migrated, the broken, the
//! unreachable, the locked and the dirty one named and isolated, canaries and `--max-failures` stopping new
//! starts, two runs at once applying nothing twice, and `fleet status` reporting it all.

use crate::support::schema_in;
use schema::runner::Database;
use schema::testkit::pg_server;
use std::path::Path;

const ONE: &str = "CREATE TABLE a (id int PRIMARY KEY);\n";
const TWO: &str = "CREATE TABLE b (id int PRIMARY KEY);\n";

/// A project whose out dir holds two migrations, and `n` fresh databases.
async fn fleet(label: &str, n: usize) -> (tempfile::TempDir, Vec<String>) {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let mut urls = Vec::new();
    for i in 0..n {
        urls.push(server.fresh_database(&format!("{label}_{i}")).await.expect("fresh database").url);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("20240101000000_one.up.sql"), ONE).unwrap();
    std::fs::write(out.join("20240101000000_one.down.sql"), "DROP TABLE a;\n").unwrap();
    std::fs::write(out.join("20240102000000_two.up.sql"), TWO).unwrap();
    std::fs::write(out.join("20240102000000_two.down.sql"), "DROP TABLE b;\n").unwrap();
    let hashed = schema_in(dir.path(), &["migrate", "hash"], &[]);
    assert_eq!(Some(hashed.code), Some(0), "{}", hashed.stderr);
    (dir, urls)
}

fn write_config(dir: &Path, urls: &[String], extra: &str) {
    let list: Vec<String> = urls.iter().map(|u| format!("{u:?}")).collect();
    std::fs::write(dir.join("diff.toml"), format!("{extra}\n[fleet]\nurls = [{}]\n", list.join(", "))).unwrap();
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn statuses(value: &serde_json::Value) -> Vec<String> {
    value["targets"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap().to_string()).collect()
}

async fn applied_versions(url: &str) -> Vec<String> {
    let mut conn = schema::dialect::postgres::connect::connect(url).await.unwrap();
    sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default()
}

async fn execute(url: &str, sql: &str) {
    let mut conn = schema::dialect::postgres::connect::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap();
}

#[tokio::test]
async fn up_migrates_every_target_and_isolates_the_broken_unreachable_locked_and_dirty_ones() {
    let (dir, mut urls) = fleet("fleet_up", 8).await;
    // Broken: the second migration's table already exists.
    execute(&urls[2], "CREATE TABLE b (x int)").await;
    // Dirty: a migration that failed outside a transaction and awaits `migrate resolve`.
    execute(
        &urls[4],
        "CREATE TABLE schema_migrations (version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, \
         applied_at timestamptz NOT NULL DEFAULT now(), execution_ms bigint NOT NULL DEFAULT 0, \
         dirty boolean NOT NULL DEFAULT false, note text); \
         INSERT INTO schema_migrations (version, name, checksum, dirty) VALUES ('20240101000000', 'one', 'x', true)",
    )
    .await;
    // Locked: another runner holds the lock for the whole run.
    let options = schema::runner::Options { lock_wait: std::time::Duration::from_millis(300), ..Default::default() };
    let mut holder = schema::dialect::Runner::connect(&urls[6], &options).await.unwrap();
    assert!(holder.try_lock().await.unwrap());
    // Unreachable: nothing listens there.
    urls.push("postgres://app:secret-password@127.0.0.1:1/nowhere".to_string());
    write_config(dir.path(), &urls, "[migrate]\nlock_wait = \"300ms\"");

    let up = schema_in(dir.path(), &["fleet", "up", "--parallel", "4", "--format", "json"], &[]);
    assert_eq!(Some(up.code), Some(2), "{}\n{}", up.stdout, up.stderr);
    let value = json(&up.stdout);
    let expected = ["applied", "applied", "failed", "applied", "failed", "applied", "failed", "applied", "unreachable"];
    assert_eq!(statuses(&value), expected, "{value:#}");
    let targets = value["targets"].as_array().unwrap();
    assert!(targets[2]["error"].as_str().unwrap().contains("relation \"b\" already exists"), "{value:#}");
    assert_eq!(targets[2]["applied"], 1, "the broken target kept its first migration: {value:#}");
    assert!(targets[4]["error"].as_str().unwrap().contains("dirty"), "{value:#}");
    assert!(targets[6]["error"].as_str().unwrap().contains("lock"), "{value:#}");
    assert_eq!(targets[8]["target"], "postgres://app:***@127.0.0.1:1/nowhere");
    assert!(!up.stdout.contains("secret-password") && !up.stderr.contains("secret-password"));
    assert_eq!(value["summary"]["applied"], 5);
    for i in [0, 1, 3, 5, 7] {
        assert_eq!(applied_versions(&urls[i]).await, ["20240101000000", "20240102000000"], "target {i}");
    }
    assert_eq!(applied_versions(&urls[2]).await, ["20240101000000"], "left where its last migration left it");
    drop(holder);

    // Status names the stragglers; once fixed, running again continues where it stopped.
    let status = schema_in(dir.path(), &["fleet", "status", "--format", "json"], &[]);
    assert_eq!(Some(status.code), Some(2), "{}", status.stderr);
    let expected = [
        "up_to_date",
        "up_to_date",
        "pending",
        "up_to_date",
        "dirty",
        "up_to_date",
        "pending",
        "up_to_date",
        "unreachable",
    ];
    assert_eq!(statuses(&json(&status.stdout)), expected);
    execute(&urls[2], "DROP TABLE b").await;
    urls.pop();
    write_config(dir.path(), &urls[..4], "");
    let again = schema_in(dir.path(), &["fleet", "up"], &[]);
    assert_eq!(Some(again.code), Some(0), "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("4 target(s): 1 applied, 3 up to date"), "{}", again.stdout);
}

#[tokio::test]
async fn a_failed_canary_or_too_many_failures_stop_new_starts() {
    let (dir, urls) = fleet("fleet_canary", 5).await;
    execute(&urls[0], "CREATE TABLE a (x int)").await;
    write_config(dir.path(), &urls, "");
    let up = schema_in(dir.path(), &["fleet", "up", "--canary", "1", "--format", "json"], &[]);
    assert_eq!(Some(up.code), Some(2), "{}", up.stderr);
    let value = json(&up.stdout);
    assert_eq!(statuses(&value), ["failed", "skipped", "skipped", "skipped", "skipped"], "{value:#}");
    assert!(value["targets"][1]["error"].as_str().unwrap().contains("a canary failed"));
    for url in &urls[1..] {
        assert!(applied_versions(url).await.is_empty(), "nothing started after the canary failed");
    }

    // One at a time, stopping at the first failure: the broken target runs second.
    execute(&urls[0], "DROP TABLE a").await;
    execute(&urls[1], "CREATE TABLE a (x int)").await;
    let up = schema_in(dir.path(), &["fleet", "up", "--parallel", "1", "--max-failures", "1", "--format", "json"], &[]);
    let value = json(&up.stdout);
    assert_eq!(statuses(&value), ["applied", "failed", "skipped", "skipped", "skipped"], "{value:#}");
    assert!(value["targets"][2]["error"].as_str().unwrap().contains("max_failures"));
}

#[tokio::test]
async fn two_runs_at_once_apply_each_migration_once() {
    let (dir, urls) = fleet("fleet_twice", 6).await;
    write_config(dir.path(), &urls, "[migrate]\nlock_wait = \"30s\"");
    let path = dir.path().to_path_buf();
    let first = std::thread::spawn({
        let path = path.clone();
        move || schema_in(&path, &["fleet", "up", "--parallel", "3"], &[])
    });
    let second = schema_in(&path, &["fleet", "up", "--parallel", "3"], &[]);
    let first = first.join().unwrap();
    assert_eq!(Some(first.code), Some(0), "{}\n{}", first.stdout, first.stderr);
    assert_eq!(Some(second.code), Some(0), "{}\n{}", second.stdout, second.stderr);
    for url in &urls {
        assert_eq!(applied_versions(url).await, ["20240101000000", "20240102000000"]);
    }
    let applied = |out: &str| out.lines().filter(|l| l.starts_with("applied ")).count();
    assert_eq!(applied(&first.stdout) + applied(&second.stdout), urls.len(), "{}\n{}", first.stdout, second.stdout);
}

#[test]
fn targets_come_from_a_file_and_a_missing_source_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("diff.toml"), "[fleet]\nurls_file = \"targets.txt\"\n").unwrap();
    std::fs::write(dir.path().join("targets.txt"), "# one a line\n\npostgres://u@127.0.0.1:1/a\n").unwrap();
    std::fs::create_dir(dir.path().join("generated")).unwrap();
    let status = schema_in(dir.path(), &["fleet", "status", "--format", "json"], &[]);
    let value = json(&status.stdout);
    assert_eq!(statuses(&value), ["unreachable"], "{value:#}");
    // A schema per tenant needs PostgreSQL, and its template is not a tenant.
    std::fs::write(dir.path().join("diff.toml"), "[fleet]\nurls = [\"sqlite:a.db\"]\nschemas = \"tenant_*\"\n")
        .unwrap();
    let refused = schema_in(dir.path(), &["fleet", "status"], &[]);
    assert_eq!(Some(refused.code), Some(2));
    assert!(refused.stderr.contains("a schema per tenant needs PostgreSQL"), "{}", refused.stderr);
    std::fs::write(dir.path().join("diff.toml"), "[fleet]\nurls = []\nschemas = \"*\"\n").unwrap();
    let refused = schema_in(dir.path(), &["fleet", "status"], &[]);
    assert!(refused.stderr.contains("matches the template schema \"public\""), "{}", refused.stderr);
}

#[tokio::test]
async fn drift_and_plan_group_identical_targets_and_name_the_drifted_one() {
    let (dir, urls) = fleet("fleet_drift", 6).await;
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::write(dir.path().join("schema/app.sql"), format!("{ONE}{TWO}")).unwrap();
    write_config(dir.path(), &urls, "");
    let up = schema_in(dir.path(), &["fleet", "up"], &[]);
    assert_eq!(Some(up.code), Some(0), "{}\n{}", up.stdout, up.stderr);
    let drift = schema_in(dir.path(), &["fleet", "drift", "--format", "json"], &[]);
    assert_eq!(Some(drift.code), Some(0), "{}\n{}", drift.stdout, drift.stderr);
    let value = json(&drift.stdout);
    assert_eq!(value["groups"].as_array().unwrap().len(), 1, "identical targets are one group: {value:#}");
    assert_eq!(value["summary"]["in_sync"], 6);

    execute(&urls[3], "ALTER TABLE a ADD COLUMN extra int").await;
    let drift = schema_in(dir.path(), &["fleet", "drift", "--format", "json"], &[]);
    assert_eq!(Some(drift.code), Some(1), "{}\n{}", drift.stdout, drift.stderr);
    let value = json(&drift.stdout);
    let groups = value["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{value:#}");
    assert_eq!(groups[0]["targets"].as_array().unwrap().len(), 5);
    assert_eq!(groups[1]["targets"][0].as_str(), Some(urls[3].as_str()));
    assert_eq!(groups[1]["changes"][0], "drop column public.a.extra");
    let plan = schema_in(dir.path(), &["fleet", "plan"], &[]);
    assert_eq!(Some(plan.code), Some(0), "{}", plan.stderr);
    assert!(plan.stdout.contains("ALTER TABLE \"public\".\"a\" DROP COLUMN \"extra\";"), "{}", plan.stdout);
    assert!(plan.stdout.contains("6 target(s) in 2 group(s): 5 in sync, 1 drifted, 0 unreachable"), "{}", plan.stdout);
}

#[tokio::test]
async fn a_terminal_gets_a_status_line_and_a_pipe_only_the_target_lines() {
    let (dir, urls) = fleet("fleet_tty", 2).await;
    write_config(dir.path(), &urls, "");
    let piped = schema_in(dir.path(), &["fleet", "up"], &[]);
    assert_eq!(Some(piped.code), Some(0), "{}", piped.stderr);
    assert!(!piped.stderr.contains("[fleet]") && !piped.stdout.contains("[fleet]"), "{}", piped.stderr);
    // A pseudo-terminal through script(1): the status line is drawn on stderr.
    let binary = env!("CARGO_BIN_EXE_schema");
    let terminal = std::process::Command::new("script")
        .current_dir(dir.path())
        .env("TERM", "xterm")
        .args(["-qec", &format!("{binary} fleet status && {binary} fleet up"), "/dev/null"])
        .output()
        .expect("script(1) runs");
    let text = String::from_utf8_lossy(&terminal.stdout);
    assert!(text.contains("2 target(s): 2 up to date"), "{text}");
    assert!(text.contains("[fleet] 1 done,") || text.contains("[fleet] 2 done,"), "{text}");
}

/// The declared schema of the tenant tests: qualified names in a default, a foreign key, a function body,
/// a trigger, a view and an expression index.
const TENANT_V1: &str = "CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE orgs (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE users (id serial PRIMARY KEY, org int REFERENCES orgs (id), mood mood DEFAULT 'ok', email text);
CREATE TABLE log (user_id int, at timestamptz DEFAULT now());
CREATE FUNCTION note_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.log (user_id) VALUES (NEW.id); RETURN NEW; END $$;
CREATE TRIGGER users_note AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION note_user();
CREATE VIEW active AS SELECT u.id, o.name FROM users u JOIN orgs o ON o.id = u.org;
CREATE INDEX users_email ON users (lower(email));
";

/// A database's catalog of one schema's objects (not the schema itself, made when the tenant was), with
/// that schema's name written as `public`.
async fn catalog_as_public(url: &str, schema: &str) -> String {
    let mut catalog = schema::dialect::introspect(url, &[schema.to_string()]).await.expect("introspect");
    catalog.schemas.clear();
    catalog.grants.retain(|key, _| !matches!(key.target, schema::model::PrivilegeTarget::Schema(_)));
    catalog.owners = Default::default();
    format!("{catalog:#?}").replace(schema, "public")
}

#[tokio::test]
async fn each_tenant_schema_gets_the_migrations_written_for_the_template() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let template = server.fresh_database("fleet_tpl").await.expect("fresh database");
    let project = crate::support::Project::new(&[("app.sql", TENANT_V1)]);
    project.run(&template, &["generate", "--name", "v1"]).expect_code(0, "generate v1");
    project.run(&template, &["migrate", "up"]).expect_code(0, "migrate the template");
    let v2 = format!(
        "{TENANT_V1}CREATE TABLE teams (id int PRIMARY KEY, org int NOT NULL REFERENCES orgs (id));\n\
         ALTER TABLE users ADD COLUMN nickname text CHECK (nickname <> '');\n"
    );
    project.write_schema(&[("app.sql", &v2)]);
    project.run(&template, &["generate", "--name", "v2"]).expect_code(0, "generate v2");
    project.run(&template, &["migrate", "up"]).expect_code(0, "migrate the template");
    let up_files: Vec<String> = project.out_dir_files().into_iter().filter(|f| f.ends_with(".up.sql")).collect();
    // v2 adds its check NOT VALID, then validates it outside a transaction: a part of its own.
    assert_eq!(up_files.len(), 3, "{up_files:?}");
    let first = std::fs::read_to_string(project.out_dir().join(&up_files[0])).unwrap();
    assert!(first.contains("\"public\".\"users\"") && first.contains("public.log"), "{first}");

    // Two databases of tenants, one schema that is no tenant, and a tenant where v1 cannot run.
    let one = server.fresh_database("fleet_tenants_1").await.expect("fresh database");
    let two = server.fresh_database("fleet_tenants_2").await.expect("fresh database");
    execute(&one.url, "CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b; CREATE SCHEMA billing").await;
    execute(&two.url, "CREATE SCHEMA tenant_c; CREATE SCHEMA tenant_d; CREATE TABLE tenant_d.log (x int)").await;
    let config = format!("out_dir = \"out\"\n[fleet]\nurls = [{:?}, {:?}]\nschemas = \"tenant_*\"\n", one.url, two.url);
    std::fs::write(project.path().join("diff.toml"), config).unwrap();

    let status = schema_in(project.path(), &["fleet", "status", "--format", "json"], &[]);
    assert_eq!(Some(status.code), Some(1), "{}\n{}", status.stdout, status.stderr);
    let value = json(&status.stdout);
    assert_eq!(statuses(&value), ["pending"; 4], "{value:#}");
    let schemas: Vec<&str> =
        value["targets"].as_array().unwrap().iter().map(|t| t["schema"].as_str().unwrap()).collect();
    assert_eq!(schemas, ["tenant_a", "tenant_b", "tenant_c", "tenant_d"]);

    let up = schema_in(project.path(), &["fleet", "up", "--format", "json"], &[]);
    assert_eq!(Some(up.code), Some(2), "{}\n{}", up.stdout, up.stderr);
    let value = json(&up.stdout);
    assert_eq!(statuses(&value), ["applied", "applied", "applied", "failed"], "{value:#}");
    let error = value["targets"][3]["error"].as_str().unwrap();
    assert!(error.contains("relation \"log\" already exists"), "{error}");

    // Each tenant now holds exactly what the template holds (its own tracking table included), and its
    // trigger writes to its own log, not the template's.
    let expected = catalog_as_public(&template.url, "public").await;
    for (url, schema) in [(&one.url, "tenant_a"), (&one.url, "tenant_b"), (&two.url, "tenant_c")] {
        let actual = catalog_as_public(url, schema).await;
        if actual != expected {
            let diff = similar::TextDiff::from_lines(&expected, &actual);
            panic!("{schema} differs from the template:\n{}", diff.unified_diff());
        }
    }
    execute(&one.url, "INSERT INTO tenant_a.orgs (name) VALUES ('x'); INSERT INTO tenant_a.users (org) VALUES (1)")
        .await;
    let mut conn = schema::dialect::postgres::connect::connect(&one.url).await.unwrap();
    let logged: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM tenant_a.log), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(logged, (1, 0), "the trigger wrote to the tenant's own log; nothing went to public");
    let tracked: Vec<String> = sqlx::query_scalar("SELECT name FROM tenant_b.schema_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(tracked, ["v1", "v2", "v2_online"]);

    // Reading a database once and splitting it by schema gives what reading each schema alone gives.
    for (url, tenants) in [(&one.url, ["tenant_a", "tenant_b"]), (&two.url, ["tenant_c", "tenant_d"])] {
        let all: Vec<String> = tenants.iter().map(|t| t.to_string()).collect();
        let whole = schema::dialect::introspect(url, &all).await.expect("introspect");
        for tenant in tenants {
            let split = whole.in_schema(tenant);
            let mut retained = whole.clone();
            retained.retain_schema(tenant);
            assert!(split == retained, "in_schema copies what retain_schema keeps");
            let alone = schema::dialect::introspect(url, &[tenant.to_string()]).await.expect("introspect");
            if split != alone {
                let diff = similar::TextDiff::from_lines(&format!("{alone:#?}"), &format!("{split:#?}"))
                    .unified_diff()
                    .to_string();
                panic!("{tenant} split differs from {tenant} read alone:\n{diff}");
            }
        }
    }

    // Drift: the three migrated tenants are one group in sync; the broken one, and one changed by hand,
    // stand out, their changes written for the template.
    execute(&one.url, "ALTER TABLE tenant_b.users ADD COLUMN extra int").await;
    let drift = schema_in(project.path(), &["fleet", "drift", "--format", "json"], &[]);
    assert_eq!(Some(drift.code), Some(1), "{}\n{}", drift.stdout, drift.stderr);
    let value = json(&drift.stdout);
    let groups = value["groups"].as_array().unwrap();
    let members = |g: &serde_json::Value| -> Vec<String> {
        g["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().rsplit(' ').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        groups.iter().map(members).collect::<Vec<_>>(),
        [vec!["tenant_a", "tenant_c"], vec!["tenant_b"], vec!["tenant_d"]],
        "{value:#}"
    );
    assert_eq!(groups[0]["in_sync"], true, "{value:#}");
    assert_eq!(groups[1]["changes"], serde_json::json!(["drop column public.users.extra"]), "{value:#}");
    let plan = schema_in(project.path(), &["fleet", "plan"], &[]);
    assert!(plan.stdout.contains("ALTER TABLE \"public\".\"users\" DROP COLUMN \"extra\";"), "{}", plan.stdout);
    execute(&one.url, "ALTER TABLE tenant_b.users DROP COLUMN extra").await;

    let status = schema_in(project.path(), &["fleet", "status"], &[]);
    assert!(status.stdout.contains("schema tenant_d"), "{}", status.stdout);
    assert!(status.stdout.contains("4 target(s): 3 up to date, 1 pending"), "{}", status.stdout);

    // A migration no tenant's copy could run is refused on each target before anything runs there.
    std::fs::write(project.out_dir().join("29990101000000_ext.up.sql"), "CREATE EXTENSION IF NOT EXISTS citext;\n")
        .unwrap();
    let hashed = schema_in(project.path(), &["migrate", "hash"], &[]);
    assert_eq!(Some(hashed.code), Some(0), "{}", hashed.stderr);
    let refused = schema_in(project.path(), &["fleet", "up", "--format", "json"], &[]);
    assert_eq!(Some(refused.code), Some(2), "{}\n{}", refused.stdout, refused.stderr);
    let value = json(&refused.stdout);
    assert_eq!(statuses(&value), ["failed"; 4], "{value:#}");
    let error = value["targets"][0]["error"].as_str().unwrap();
    assert!(error.contains("29990101000000_ext.up.sql:1:1: CREATE EXTENSION changes an extension"), "{error}");
    // One that names another schema of the database is refused on each target before anything runs there.
    std::fs::write(
        project.out_dir().join("29990101000000_ext.up.sql"),
        "CREATE TABLE public.t (id int);\nINSERT INTO public.t SELECT count(*) FROM billing.invoices;\n",
    )
    .unwrap();
    let hashed = schema_in(project.path(), &["migrate", "hash"], &[]);
    assert_eq!(Some(hashed.code), Some(0), "{}", hashed.stderr);
    let refused = schema_in(project.path(), &["fleet", "up", "--format", "json"], &[]);
    let value = json(&refused.stdout);
    assert_eq!(statuses(&value), ["failed"; 4], "{value:#}");
    let error = value["targets"][0]["error"].as_str().unwrap();
    assert!(error.contains("29990101000000_ext.up.sql:2:43: names the schema \"billing\""), "{error}");
    execute(&two.url, "DROP TABLE tenant_d.log").await;
    let after = schema_in(project.path(), &["fleet", "status", "--format", "json"], &[]);
    let pending: Vec<u64> =
        json(&after.stdout)["targets"].as_array().unwrap().iter().map(|t| t["pending"].as_u64().unwrap()).collect();
    assert_eq!(pending, [1, 1, 1, 4], "nothing ran");

    // Without it, running again continues where each tenant stopped.
    std::fs::remove_file(project.out_dir().join("29990101000000_ext.up.sql")).unwrap();
    assert_eq!(Some(schema_in(project.path(), &["migrate", "hash"], &[]).code), Some(0));
    let again = schema_in(project.path(), &["fleet", "up", "--format", "json"], &[]);
    assert_eq!(Some(again.code), Some(0), "{}\n{}", again.stdout, again.stderr);
    let value = json(&again.stdout);
    assert_eq!(statuses(&value), ["up_to_date", "up_to_date", "up_to_date", "applied"], "{value:#}");
    assert_eq!(value["targets"][3]["applied"], 3);
}

#[tokio::test]
async fn tenants_of_one_database_share_a_connection_reset_between_them() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database("fleet_reuse").await.expect("fresh database");
    execute(&db.url, "CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b; CREATE SCHEMA tenant_c").await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated");
    std::fs::create_dir(&out).unwrap();
    // Session state a migration leaves behind: a temporary table and a setting.
    std::fs::write(
        out.join("20240101000000_runs.up.sql"),
        "CREATE TABLE public.runs (pid int, datestyle text);\n\
         INSERT INTO public.runs VALUES (pg_backend_pid(), current_setting('DateStyle'));\n\
         CREATE TEMP TABLE staging (x int);\nSET datestyle = 'SQL, DMY';\n",
    )
    .unwrap();
    assert_eq!(Some(schema_in(dir.path(), &["migrate", "hash"], &[]).code), Some(0));
    // A database whose schemas cannot be listed is one unreachable target.
    let nowhere = "postgres://app:secret-password@127.0.0.1:1/nowhere";
    let config = format!("[fleet]\nurls = [{:?}, {nowhere:?}]\nschemas = \"tenant_*\"\n", db.url);
    std::fs::write(dir.path().join("diff.toml"), config).unwrap();
    let up = schema_in(dir.path(), &["fleet", "up", "--parallel", "1", "--format", "json"], &[]);
    assert_eq!(Some(up.code), Some(2), "{}\n{}", up.stdout, up.stderr);
    let value = json(&up.stdout);
    assert_eq!(statuses(&value), ["applied", "applied", "applied", "unreachable"], "{value:#}");
    assert_eq!(value["targets"][3]["target"], "postgres://app:***@127.0.0.1:1/nowhere");
    assert!(value["targets"][3].get("schema").is_none(), "{value:#}");
    assert!(!up.stdout.contains("secret-password") && !up.stderr.contains("secret-password"));
    let mut conn = schema::dialect::postgres::connect::connect(&db.url).await.unwrap();
    let runs: Vec<(i32, String)> = sqlx::query_as(
        "SELECT pid, datestyle FROM tenant_a.runs UNION ALL SELECT pid, datestyle FROM tenant_b.runs \
         UNION ALL SELECT pid, datestyle FROM tenant_c.runs",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|(pid, _)| *pid == runs[0].0), "one server process for the three tenants: {runs:?}");
    assert!(runs.iter().all(|(_, style)| style == "ISO, MDY"), "each tenant starts from a fresh session: {runs:?}");

    // A migration no tenant's copy could run stops only the tenants where it is still to run: here it
    // was applied to tenant_a and tenant_b before they were tenants.
    std::fs::write(out.join("20240102000000_ext.up.sql"), "CREATE EXTENSION IF NOT EXISTS citext;\n").unwrap();
    std::fs::write(out.join("20240103000000_later.up.sql"), "CREATE TABLE public.later (x int);\n").unwrap();
    assert_eq!(Some(schema_in(dir.path(), &["migrate", "hash"], &[]).code), Some(0));
    let checksum = schema::migrations::checksum(b"CREATE EXTENSION IF NOT EXISTS citext;\n");
    for tenant in ["tenant_a", "tenant_b"] {
        let sql = format!(
            "INSERT INTO {tenant}.schema_migrations (version, name, checksum) VALUES ('20240102000000', 'ext', '{checksum}')"
        );
        execute(&db.url, &sql).await;
    }
    let up = schema_in(dir.path(), &["fleet", "up", "--format", "json"], &[]);
    let value = json(&up.stdout);
    assert_eq!(statuses(&value), ["applied", "applied", "failed", "unreachable"], "{value:#}");
    assert!(value["targets"][2]["error"].as_str().unwrap().contains("20240102000000_ext.up.sql:1:1"), "{value:#}");
}
