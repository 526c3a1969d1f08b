//! The `schema` binary's commands and flags, driven as a subprocess against a real PostgreSQL: file
//! names and contents of `generate`, `plan` output formats and exit codes, the `inspect` bootstrap round
//! trip, `--config` / `DATABASE_URL` / `--url` precedence, and unmanaged objects.

use crate::support::{Project, Run, fresh, list_files, schema_in, scratch_databases_of};
use schema::testkit::roundtrip::{fingerprint, load_sql};
use sqlx::Connection;
use std::path::PathBuf;

/// Migration file names in the project's out dir, sorted; the integrity file `schema.sum` that
/// `generate` keeps beside them is left out.
fn out_files(project: &Project) -> Vec<String> {
    project.out_dir_files().into_iter().filter(|f| f != schema::migrations::SUM_FILE).collect()
}

/// The version of a migration file name `<14 digits>_<name>.<up|down>.sql`, checking its shape.
fn version_of(file: &str, name: &str) -> String {
    let (version, rest) = file.split_once('_').unwrap_or_else(|| panic!("no `_` in {file}"));
    assert!(version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit()), "version of {file}");
    assert!(rest == format!("{name}.up.sql") || rest == format!("{name}.down.sql"), "name of {file}: expected {name}");
    version.to_string()
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[tokio::test]
async fn generate_writes_a_named_pair_and_then_reports_no_changes() {
    let db = fresh("cli_generate_named", "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);").await;
    let project =
        Project::new(&[("users.sql", "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, bio text);")]);

    let before = chrono::Utc::now();
    let run = project.run(&db, &["generate", "--name", "add_bio"]);
    let after = chrono::Utc::now();
    run.expect_code(0, "generate --name add_bio");

    let files = out_files(&project);
    assert_eq!(files.len(), 2, "exactly one pair: {files:?}");
    let version = version_of(&files[0], "add_bio");
    assert_eq!(files, vec![format!("{version}_add_bio.down.sql"), format!("{version}_add_bio.up.sql")]);
    // The version is the current UTC time.
    let parsed = chrono::NaiveDateTime::parse_from_str(&version, "%Y%m%d%H%M%S").expect("version is a timestamp");
    let (low, high) = (before.naive_utc() - chrono::Duration::seconds(1), after.naive_utc());
    assert!(low <= parsed && parsed <= high, "version {version} is not between {low} and {high} (UTC)");

    let up_path = project.out_dir().join(format!("{version}_add_bio.up.sql"));
    let down_path = project.out_dir().join(format!("{version}_add_bio.down.sql"));
    let wrote: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("wrote ")).collect();
    assert_eq!(wrote.len(), 2, "two `wrote` lines: {}", run.stdout);
    assert!(wrote.iter().any(|l| l.ends_with(&format!("{version}_add_bio.up.sql"))), "{}", run.stdout);
    assert!(wrote.iter().any(|l| l.ends_with(&format!("{version}_add_bio.down.sql"))), "{}", run.stdout);

    let up = read(up_path);
    let header: Vec<&str> = up.lines().take_while(|l| l.starts_with("--")).collect();
    assert!(header[0].starts_with(&format!("-- {version}_add_bio (up)")), "header: {header:?}");
    assert!(header.contains(&"-- changes:"), "header: {header:?}");
    assert!(header.iter().any(|l| l.contains("add column public.users.bio")), "header lists the change: {header:?}");
    assert!(!up.contains("BEGIN") && !up.contains("COMMIT"), "no transaction control in the file:\n{up}");
    let down = read(down_path);
    assert!(down.contains("drop column public.users.bio"), "down file:\n{down}");

    load_sql(&db.url, &up).await.expect("apply the up file");
    let again = project.run(&db, &["generate", "--name", "add_bio"]);
    again.expect_code(0, "second generate");
    assert_eq!(again.stdout.trim(), "no changes");
    assert_eq!(out_files(&project).len(), 2, "nothing new written: {:?}", out_files(&project));
}

#[tokio::test]
async fn a_second_generate_in_the_same_second_gets_a_later_version() {
    let db = fresh("cli_generate_later", "").await;
    let project = Project::new(&[("a.sql", "CREATE TABLE a (id int);")]);
    project.run(&db, &["generate", "--name", "first"]).expect_code(0, "first generate");
    let first = out_files(&project);
    assert_eq!(first.len(), 2, "{first:?}");
    let first_up = read(project.out_dir().join(&first[1]));

    project.write_schema(&[("a.sql", "CREATE TABLE a (id int);"), ("b.sql", "CREATE TABLE b (id int);")]);
    project.run(&db, &["generate", "--name", "second"]).expect_code(0, "second generate");
    let files = out_files(&project);
    assert_eq!(files.len(), 4, "{files:?}");
    let v1 = version_of(&first[0], "first");
    let second: Vec<&String> = files.iter().filter(|f| f.contains("_second.")).collect();
    assert_eq!(second.len(), 2, "{files:?}");
    let v2 = version_of(second[0], "second");
    assert!(v2 > v1, "second version {v2} must be later than the first {v1}");
    assert_eq!(read(project.out_dir().join(&first[1])), first_up, "the first migration is untouched");
}

#[tokio::test]
async fn generate_without_name_derives_one_from_the_changes() {
    let db = fresh("cli_generate_unnamed", "").await;
    let project = Project::new(&[("w.sql", "CREATE TABLE widgets (id int);")]);
    project.run(&db, &["generate"]).expect_code(0, "generate");
    let files = out_files(&project);
    assert_eq!(files.len(), 2, "{files:?}");
    let (_, name) = files[0].split_once('_').expect("version_name");
    assert!(name.starts_with("create_widgets"), "derived name: {}", files[0]);
}

#[tokio::test]
async fn plan_prints_text_and_json_and_writes_nothing() {
    let db = fresh("cli_plan", "CREATE TABLE t (id int PRIMARY KEY);").await;
    let project = Project::new(&[("t.sql", "CREATE TABLE t (id int PRIMARY KEY, note text);")]);
    let before = fingerprint(&db.url).await.expect("fingerprint");

    let text = project.run(&db, &["plan"]);
    text.expect_code(0, "plan");
    assert!(text.stdout.contains("add column public.t.note"), "{}", text.stdout);
    assert!(text.stdout.contains("ALTER TABLE"), "the up SQL is shown: {}", text.stdout);

    let json = project.run(&db, &["plan", "--format", "json"]);
    json.expect_code(0, "plan --format json");
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan --format json prints JSON");
    let object = value.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["changes", "down", "parts", "transactional", "up", "verification"]);
    assert_eq!(value["transactional"], serde_json::Value::Bool(true));
    assert_eq!(value["verification"]["status"], "passed", "{value}");
    let up = value["up"].as_array().expect("up is a list");
    assert_eq!(value["changes"].as_u64(), Some(up.len() as u64));
    assert!(!up.is_empty());
    for step in up.iter().chain(value["down"].as_array().expect("down is a list")) {
        assert!(step["description"].is_string(), "step: {step}");
        let statements = step["statements"].as_array().expect("statements is a list");
        assert!(statements.iter().all(serde_json::Value::is_string), "step: {step}");
    }
    assert!(up.iter().any(|s| s["description"] == "add column public.t.note"), "{value}");

    project.run(&db, &["plan", "--exit-code"]).expect_code(1, "plan --exit-code with changes");

    assert!(out_files(&project).is_empty(), "plan wrote {:?}", out_files(&project));
    assert_eq!(list_files(project.path()), ["schema"], "plan wrote nothing in the project directory");
    assert_eq!(fingerprint(&db.url).await.expect("fingerprint"), before, "plan changed the database");

    load_sql(&db.url, "ALTER TABLE t ADD COLUMN note text;").await.expect("apply the change");
    let none = project.run(&db, &["plan", "--exit-code"]);
    none.expect_code(0, "plan --exit-code without changes");
    assert_eq!(none.stdout.trim(), "no changes");
    let json = project.run(&db, &["plan", "--format", "json"]);
    json.expect_code(0, "plan --format json without changes");
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["changes"].as_u64(), Some(0));
    assert_eq!(value["verification"]["status"], "no_changes", "{value}");
}

#[tokio::test]
async fn inspect_output_round_trips_to_no_changes() {
    let db = fresh(
        "cli_inspect",
        "CREATE TYPE status AS ENUM ('open', 'closed');
         CREATE TABLE owners (id int PRIMARY KEY, name text NOT NULL);
         CREATE TABLE items (
             id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
             owner_id int NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
             status status NOT NULL DEFAULT 'open',
             title text NOT NULL CHECK (title <> '')
         );
         CREATE INDEX items_owner_idx ON items (owner_id) WHERE status = 'open';
         CREATE VIEW open_items AS SELECT i.id, o.name FROM items i JOIN owners o ON o.id = i.owner_id WHERE i.status = 'open';
         COMMENT ON TABLE items IS 'Things owners have';
         COMMENT ON COLUMN items.title IS 'Shown in lists';
         COMMENT ON TYPE status IS 'Where an item is';
         COMMENT ON VIEW open_items IS 'Open items with their owner';",
    )
    .await;
    let project = Project::new(&[]);
    let inspect = schema_in(project.path(), &["inspect", "--url", &db.url], &[]);
    inspect.expect_code(0, "inspect");
    for needle in ["CREATE TYPE", "REFERENCES", "CREATE INDEX", "CREATE VIEW", "COMMENT ON"] {
        assert!(inspect.stdout.contains(needle), "inspect output lacks {needle}:\n{}", inspect.stdout);
    }
    project.write_schema(&[("initial.sql", &inspect.stdout)]);

    let plan = project.run(&db, &["plan", "--exit-code"]);
    plan.expect_code(0, &format!("plan against the inspected schema\n--- schema:\n{}", inspect.stdout));
    assert_eq!(plan.stdout.trim(), "no changes");
    let generate = project.run(&db, &["generate"]);
    generate.expect_code(0, "generate against the inspected schema");
    assert_eq!(generate.stdout.trim(), "no changes");
    assert!(out_files(&project).is_empty(), "{:?}", out_files(&project));
}

#[tokio::test]
async fn config_file_sets_url_and_paths_relative_to_itself() {
    let db = fresh("cli_config_paths", "").await;
    let project = Project::new(&[]);
    let conf = project.path().join("conf");
    std::fs::create_dir_all(conf.join("decl")).expect("mkdir");
    std::fs::write(conf.join("decl/t.sql"), "CREATE TABLE configured (id int);").expect("write");
    std::fs::write(
        conf.join("diff.toml"),
        format!("url = \"{}\"\nschema_dir = \"decl\"\nout_dir = \"migs\"\n", db.url),
    )
    .expect("write diff.toml");

    let run = schema_in(project.path(), &["--config", "conf/diff.toml", "generate", "--name", "cfg"], &[]);
    run.expect_code(0, "generate with --config");
    let files = list_files(&conf.join("migs"));
    assert_eq!(files.len(), 3, "migrations and schema.sum land in out_dir next to diff.toml: {files:?}");
    assert!(read(conf.join("migs").join(&files[1])).contains("create table public.configured"));
    assert!(!project.path().join("migs").exists() && !project.path().join("generated").exists());
}

#[tokio::test]
async fn config_url_expands_environment_variables() {
    let db = fresh("cli_config_env", "").await;
    let project = Project::new(&[("t.sql", "CREATE TABLE from_env (id int);")]);
    std::fs::write(project.path().join("diff.toml"), "url = \"${SCHEMA_CLI_TEST_URL}\"\nout_dir = \"out\"\n")
        .expect("write diff.toml");
    let run = schema_in(project.path(), &["plan"], &[("SCHEMA_CLI_TEST_URL", &db.url)]);
    run.expect_code(0, "plan with ${VAR} in url");
    assert!(run.stdout.contains("create table public.from_env"), "{}", run.stdout);
}

#[tokio::test]
async fn config_rejects_unknown_keys() {
    let project = Project::new(&[("t.sql", "CREATE TABLE t (id int);")]);
    std::fs::write(project.path().join("diff.toml"), "url = \"postgres://localhost/x\"\nschema_dri = \"schema\"\n")
        .expect("write diff.toml");
    let run = schema_in(project.path(), &["plan"], &[]);
    run.expect_code(2, "unknown key in diff.toml");
    assert!(run.stderr.contains("schema_dri"), "the message names the key: {}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[tokio::test]
async fn url_precedence_is_flag_then_database_url_then_config() {
    let from_config = fresh("cli_prec_config", "CREATE TABLE marker_config (id int);").await;
    let from_env = fresh("cli_prec_env", "CREATE TABLE marker_env (id int);").await;
    let from_flag = fresh("cli_prec_flag", "CREATE TABLE marker_flag (id int);").await;
    let project = Project::new(&[]);
    std::fs::write(project.path().join("diff.toml"), format!("url = \"{}\"\n", from_config.url)).expect("write");

    let which = |run: Run| {
        run.expect_code(0, "inspect");
        let markers: Vec<&str> =
            ["marker_config", "marker_env", "marker_flag"].into_iter().filter(|m| run.stdout.contains(m)).collect();
        assert_eq!(markers.len(), 1, "{}", run.stdout);
        markers[0]
    };
    assert_eq!(which(schema_in(project.path(), &["inspect"], &[])), "marker_config");
    assert_eq!(which(schema_in(project.path(), &["inspect"], &[("DATABASE_URL", &from_env.url)])), "marker_env");
    assert_eq!(
        which(schema_in(project.path(), &["inspect", "--url", &from_flag.url], &[("DATABASE_URL", &from_env.url)])),
        "marker_flag"
    );
    // Global flags work before the command name too.
    assert_eq!(which(schema_in(project.path(), &["--url", &from_flag.url, "inspect"], &[])), "marker_flag");
}

#[test]
fn help_mentions_exit_codes_and_unknown_flags_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let help = schema_in(dir.path(), &["--help"], &[]);
    help.expect_code(0, "--help");
    assert!(help.stdout.contains("Exit codes"), "{}", help.stdout);
    for needle in ["generate", "plan", "inspect", "--url", "--config", "--dev-url", "--schema-dir", "--out-dir"] {
        assert!(help.stdout.contains(needle), "--help lacks {needle}: {}", help.stdout);
    }
    let unknown = schema_in(dir.path(), &["plan", "--no-such-flag"], &[]);
    unknown.expect_code(2, "unknown flag");
    assert!(unknown.stderr.contains("--no-such-flag"), "{}", unknown.stderr);
    schema_in(dir.path(), &["--no-such-flag"], &[]).expect_code(2, "unknown global flag");
    schema_in(dir.path(), &["frobnicate"], &[]).expect_code(2, "unknown command");
    assert!(list_files(dir.path()).is_empty());
}

#[tokio::test]
async fn unmanaged_objects_are_warned_about_and_left_alone() {
    let db = fresh(
        "cli_unmanaged",
        "CREATE TABLE accounts (id int PRIMARY KEY, balance numeric NOT NULL DEFAULT 0);
         CREATE FOREIGN DATA WRAPPER cli_fdw; CREATE SERVER cli_server FOREIGN DATA WRAPPER cli_fdw;
         CREATE FOREIGN TABLE remote_sums (n int) SERVER cli_server;
         CREATE RULE accounts_keep AS ON DELETE TO accounts DO INSTEAD NOTHING;
         CREATE STATISTICS accounts_stats ON id, balance FROM accounts;",
    )
    .await;
    let project = Project::new(&[(
        "accounts.sql",
        "CREATE TABLE accounts (id int PRIMARY KEY, balance numeric NOT NULL DEFAULT 0, owner text);",
    )]);
    let run = project.run(&db, &["generate", "--name", "add_owner"]);
    run.expect_code(0, "generate with unmanaged objects in the database");
    assert!(run.stderr.contains("warning"), "{}", run.stderr);
    for name in ["remote_sums", "accounts_keep", "accounts_stats"] {
        assert!(run.stderr.contains(name), "the warning lists {name}: {}", run.stderr);
    }
    let files = out_files(&project);
    assert_eq!(files.len(), 2, "{files:?}");
    for file in &files {
        let text = read(project.out_dir().join(file));
        for name in ["remote_sums", "accounts_keep", "accounts_stats", "FOREIGN", "RULE", "STATISTICS"] {
            assert!(!text.contains(name), "{file} mentions {name}:\n{text}");
        }
        assert!(text.contains("owner"), "{file}:\n{text}");
    }

    let up = read(project.out_dir().join(files.iter().find(|f| f.ends_with(".up.sql")).expect("up file")));
    load_sql(&db.url, &up).await.expect("apply up");
    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let survivors: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM pg_class WHERE relname = 'remote_sums' AND relkind = 'f')
              + (SELECT count(*) FROM pg_rewrite WHERE rulename = 'accounts_keep')
              + (SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'accounts_stats')",
    )
    .fetch_one(&mut conn)
    .await
    .expect("count unmanaged objects");
    assert_eq!(survivors, 3, "unmanaged objects survive the migration");
    let _ = conn.close().await;

    let again = project.run(&db, &["plan"]);
    again.expect_code(0, "plan after applying");
    assert_eq!(again.stdout.trim(), "no changes");
    assert!(again.stderr.contains("accounts_keep"), "plan warns too: {}", again.stderr);
}

#[tokio::test]
async fn new_enum_value_used_in_the_same_migration_is_marked_no_transaction() {
    let db = fresh("cli_enum_notx", "CREATE TYPE mood AS ENUM ('a'); CREATE TABLE p (id int, m mood);").await;
    let project = Project::new(&[(
        "p.sql",
        "CREATE TYPE mood AS ENUM ('a', 'b');\nCREATE TABLE p (id int, m mood DEFAULT 'b');",
    )]);
    project.run(&db, &["generate", "--name", "mood_b"]).expect_code(0, "generate");
    let files = out_files(&project);
    assert_eq!(files.len(), 2, "{files:?}");
    let up_file = files.iter().find(|f| f.ends_with(".up.sql")).expect("up file");
    let up = read(project.out_dir().join(up_file));
    assert_eq!(up.lines().next(), Some("-- schema:no-transaction"), "{up}");

    // Statement by statement (each commits on its own), as the marker asks.
    load_sql(&db.url, &up).await.expect("apply up without a transaction");
    let plan = project.run(&db, &["plan"]);
    plan.expect_code(0, "plan after applying");
    assert_eq!(plan.stdout.trim(), "no changes");
}

#[tokio::test]
async fn generate_refuses_a_migration_whose_statement_fails_in_the_scratch_database() {
    // The backfill value of diff.toml is pasted into the backfill migration; a typo in it fails only
    // when the migration runs.
    let db = fresh("cli_verify_backfill", "CREATE TABLE accounts (id int PRIMARY KEY, email text);").await;
    let project =
        Project::new(&[("a.sql", "CREATE TABLE accounts (id int PRIMARY KEY, email text, tier text NOT NULL);")]);
    std::fs::write(
        project.path().join("diff.toml"),
        "[[backfill]]\ntable = \"public.accounts\"\ncolumn = \"tier\"\nvalue = \"lower(emial)\"\n",
    )
    .expect("write diff.toml");
    let before = fingerprint(&db.url).await.expect("fingerprint");

    let run = project.run(&db, &["generate", "--phased", "--name", "tier"]);
    run.expect_code(2, "generate with a backfill that cannot run");
    for needle in [
        "verification failed: ",
        "_tier_backfill.up.sql (up, part 2 of 3) failed at statement 1 of 1",
        "column \"emial\" does not exist",
        "DO $schema_backfill$",
        "nothing was written",
    ] {
        assert!(run.stderr.contains(needle), "{needle:?} in:\n{}", run.stderr);
    }
    assert!(out_files(&project).is_empty(), "{:?}", out_files(&project));
    assert!(!project.out_dir().join(schema::migrations::SUM_FILE).exists(), "no integrity file either");
    assert_eq!(scratch_databases_of(run.pid).await, Vec::<String>::new(), "scratch databases left behind");
    assert_eq!(fingerprint(&db.url).await.expect("fingerprint"), before, "the database was changed");

    let json = project.run(&db, &["plan", "--phased", "--format", "json"]);
    json.expect_code(2, "plan --format json of a migration that fails verification");
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let verification = &value["verification"];
    assert_eq!(verification["status"], "failed", "{verification}");
    let failure = &verification["failure"];
    assert_eq!(failure["kind"], "statement", "{failure}");
    assert!(failure["file"].as_str().is_some_and(|f| f.ends_with("_backfill.up.sql")), "{failure}");
    assert_eq!(
        (failure["direction"].as_str(), failure["part"].as_u64(), failure["parts"].as_u64()),
        (Some("up"), Some(2), Some(3))
    );
    assert!(failure["error"].as_str().is_some_and(|e| e.contains("emial")), "{failure}");
    assert!(failure["sql"].as_str().is_some_and(|s| s.starts_with("DO $schema_backfill$")), "{failure}");

    let unverified = project.run(&db, &["generate", "--phased", "--name", "tier", "--no-verify"]);
    unverified.expect_code(0, "generate --no-verify");
    assert_eq!(out_files(&project).len(), 6, "three pairs: {:?}", out_files(&project));
    assert!(!unverified.stdout.contains("verified"), "{}", unverified.stdout);
}

#[tokio::test]
async fn an_extension_version_the_down_cannot_reach_is_kept_and_the_migration_verifies() {
    // hstore has update scripts upward only: the down keeps 1.8 and says so, and verification accepts
    // that one difference after the down (the plan declared it), not others.
    let db = fresh("cli_verify_down", "CREATE EXTENSION hstore VERSION '1.7';").await;
    let project = Project::new(&[("e.sql", "CREATE EXTENSION hstore VERSION '1.8';")]);
    let run = project.run(&db, &["generate", "--name", "hstore"]);
    run.expect_code(0, "generate with a down that keeps the version");
    assert!(run.stdout.contains("verified: "), "{}", run.stdout);
    let files = out_files(&project);
    assert_eq!(files.len(), 2, "{files:?}");
    let down = files.iter().find(|f| f.ends_with(".down.sql")).expect("a down file");
    let down = std::fs::read_to_string(project.out_dir().join(down)).expect("read the down");
    assert!(!down.contains("UPDATE TO"), "{down}");
}

#[tokio::test]
async fn apply_verifies_before_it_changes_the_database() {
    // The declared conversion calls a function of a schema the tool does not manage here: it is where the
    // declared schema is (the conversion check passes there) but not in the database, and no plan
    // creates it, so only running the plan finds it. Unverified, the first statement would be committed
    // before the conversion failed (a new enum value is used: the plan runs statement by statement).
    let db = fresh("cli_verify_apply", "CREATE TYPE k AS ENUM ('a');\nCREATE TABLE t (id int, started int);").await;
    let project = Project::new(&[(
        "t.sql",
        "CREATE SCHEMA util;\nCREATE FUNCTION util.stamp(i int) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS \
         'SELECT to_timestamp(i)';\nCREATE TYPE k AS ENUM ('a', 'b');\nCREATE TABLE t (id int, y k DEFAULT 'b',\n  \
         -- schema:using util.stamp(started)\n  -- schema:down-using extract(epoch FROM started)::int\n  \
         started timestamptz);",
    )]);
    std::fs::write(project.path().join("diff.toml"), "schemas = [\"public\"]\n").expect("write diff.toml");
    let before = fingerprint(&db.url).await.expect("fingerprint");
    let run = project.run(&db, &["apply", "--yes", "--allow-destructive"]);
    run.expect_code(2, "apply of a plan that fails");
    assert!(run.stderr.contains("verification failed: apply_plan.up.sql (up, part 1 of 1)"), "{}", run.stderr);
    assert!(run.stderr.contains("schema \"util\" does not exist"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(fingerprint(&db.url).await.expect("fingerprint"), before, "the database was changed");
}

#[tokio::test]
async fn a_current_schema_that_cannot_be_rebuilt_is_reported_as_unverifiable() {
    // The view uses a text search configuration, which the tool does not manage and so cannot rebuild.
    let db = fresh(
        "cli_verify_unverifiable",
        "CREATE TABLE parent (id int);\nCREATE TEXT SEARCH CONFIGURATION words (COPY = english);\n\
         CREATE VIEW v AS SELECT to_tsvector('public.words', 'a note') AS note;",
    )
    .await;
    let project = Project::new(&[("p.sql", "CREATE TABLE parent (id int);")]);
    let json = project.run(&db, &["plan", "--format", "json"]);
    json.expect_code(2, "plan of an unverifiable migration");
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["verification"]["status"], "unverifiable", "{value}");
    let run = project.run(&db, &["generate"]);
    run.expect_code(2, "generate of an unverifiable migration");
    for needle in [
        "cannot verify the migration: the current schema cannot be rebuilt",
        "text search configuration \"public.words\" does not exist",
        "CREATE VIEW \"public\".\"v\"",
        "not rebuilt: text search configuration public.words",
        "--no-verify",
    ] {
        assert!(run.stderr.contains(needle), "{needle:?} in:\n{}", run.stderr);
    }
    assert!(out_files(&project).is_empty(), "{:?}", out_files(&project));
    project.run(&db, &["generate", "--no-verify"]).expect_code(0, "generate --no-verify");
    assert_eq!(out_files(&project).len(), 2, "{:?}", out_files(&project));
}

#[tokio::test]
async fn a_managed_table_using_a_type_outside_the_managed_schemas_is_verified() {
    let db = fresh(
        "cli_verify_schemas",
        "CREATE SCHEMA other;\nCREATE TYPE other.mood AS ENUM ('ok');\nCREATE SCHEMA app;\n\
         CREATE TABLE app.t (id int, m other.mood);",
    )
    .await;
    let project = Project::new(&[(
        "a.sql",
        "CREATE SCHEMA other;\nCREATE TYPE other.mood AS ENUM ('ok');\nCREATE SCHEMA app;\n\
         CREATE TABLE app.t (id int, m other.mood, note text);",
    )]);
    std::fs::write(project.path().join("diff.toml"), "schemas = [\"app\"]\n").expect("write diff.toml");
    // The table is rebuilt with the type it uses, from every schema, after the managed one alone failed.
    let json = project.run(&db, &["plan", "--format", "json"]);
    json.expect_code(0, "plan");
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["verification"]["status"], "passed", "{value}\n{}", json.stderr);
}
