//! The hazard policy at the command line: `plan` and `generate` print hazards, `generate` refuses a
//! denied one (exit 2, nothing written) unless `--allow-hazard` is given, thresholds allow small
//! rewrites; and `schema lint` on migration files (exit 0 / 1 / 2, JSON).

use crate::support::schema_in;
use std::path::Path;

fn written(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir.join("generated")) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    }
}

async fn project(label: &str, current: &str, declared: &str, config: &str) -> (tempfile::TempDir, String) {
    crate::support::pg_project(label, current, declared, config).await
}

#[tokio::test]
async fn generate_refuses_denied_hazards_unless_allowed() {
    let (dir, url) = project(
        "hz_cli_deny",
        "CREATE TABLE t (a int); INSERT INTO t VALUES (1);",
        "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);",
        // The one-step plan, which builds the index with a blocking lock (the default is online).
        "[hazards]\nblocking-index-build = \"deny\"\nsafe_rewrites = false\n",
    )
    .await;
    let plan = schema_in(dir.path(), &["plan", "--url", &url], &[]);
    assert_eq!(Some(plan.code), Some(0), "{}", plan.stderr);
    let stderr = plan.stderr;
    assert!(stderr.contains("[deny] blocking-index-build (medium): builds index public.t_a"), "{stderr}");
    assert!(stderr.contains("SHARE on public.t"), "{stderr}");
    assert!(stderr.contains("help: Create the index CONCURRENTLY"), "{stderr}");

    let json = schema_in(dir.path(), &["plan", "--url", &url, "--format", "json"], &[]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let hazard = &value["up"][0]["hazards"][0];
    assert_eq!(hazard["id"], "blocking-index-build", "{value}");
    assert_eq!(hazard["lock"], "SHARE on public.t");
    assert_eq!(hazard["scans"], true);
    assert_eq!(hazard["level"], "deny", "{value}");
    // The step lists the lock its statement states: writes wait for the build.
    assert_eq!(
        value["up"][0]["locks"],
        serde_json::json!([{"mode": "SHARE", "blocks": "writes", "table": {"schema": "public", "name": "t"}}]),
        "{value}"
    );

    let refused = schema_in(dir.path(), &["generate", "--url", &url], &[]);
    assert_eq!(Some(refused.code), Some(2), "{}", refused.stderr);
    assert!(refused.stderr.contains("--allow-hazard"), "{}", refused.stderr);
    assert!(written(dir.path()).is_empty(), "nothing written: {:?}", written(dir.path()));

    let allowed = schema_in(dir.path(), &["generate", "--url", &url, "--allow-hazard", "blocking-index-build"], &[]);
    assert_eq!(Some(allowed.code), Some(0), "{}", allowed.stderr);
    assert_eq!(written(dir.path()).len(), 3, "up, down and schema.sum: {:?}", written(dir.path()));
    let up = written(dir.path()).into_iter().find(|f| f.ends_with(".up.sql")).unwrap();
    let up = std::fs::read_to_string(dir.path().join("generated").join(up)).unwrap();
    assert!(
        up.contains("-- hazards:\n--   create index public.t_a: [blocking-index-build] builds index public.t_a"),
        "the header lists the hazards: {up}"
    );
    assert!(up.contains("; SHARE on public.t\n"), "without live sizes: {up}");

    let unknown = schema_in(dir.path(), &["generate", "--url", &url, "--allow-hazard", "index-build"], &[]);
    assert_eq!(Some(unknown.code), Some(2));
    assert!(unknown.stderr.contains("unknown hazard id"), "{}", unknown.stderr);
}

#[tokio::test]
async fn thresholds_allow_rewrites_of_small_tables() {
    let config = "[hazards]\ntable-rewrite = \"deny\"\nallow_rewrite_below_rows = 1000\n";
    let (dir, url) = project("hz_cli_threshold", "CREATE TABLE t (a int);", "CREATE TABLE t (a bigint);", config).await;
    let small = schema_in(dir.path(), &["generate", "--url", &url], &[]);
    assert_eq!(Some(small.code), Some(0), "{}", small.stderr);
    assert!(small.stderr.contains("[allow] table-rewrite (low)"), "{}", small.stderr);

    let (dir, url) = project(
        "hz_cli_threshold_big",
        "CREATE TABLE t (a int); INSERT INTO t SELECT generate_series(1, 5000); ANALYZE t;",
        "CREATE TABLE t (a bigint);",
        config,
    )
    .await;
    let big = schema_in(dir.path(), &["generate", "--url", &url], &[]);
    assert_eq!(Some(big.code), Some(2), "{}", big.stderr);
    assert!(big.stderr.contains("(≈5k rows"), "{}", big.stderr);
    assert!(written(dir.path()).is_empty());
}

#[tokio::test]
async fn apply_allow_destructive_maps_to_data_loss_ids() {
    let (dir, url) = project(
        "hz_cli_apply",
        "CREATE TABLE t (a int, b int);",
        "CREATE TABLE t (a int);",
        "[hazards]\nrename-visible = \"deny\"\n",
    )
    .await;
    let refused = schema_in(dir.path(), &["apply", "--url", &url, "--yes"], &[]);
    assert_eq!(Some(refused.code), Some(2));
    assert!(refused.stderr.contains("[deny] data-loss-column"), "{}", refused.stderr);
    let applied = schema_in(dir.path(), &["apply", "--url", &url, "--yes", "--allow-destructive"], &[]);
    assert_eq!(Some(applied.code), Some(0), "{}", applied.stderr);
}

/// The default plan writes online forms for changes on existing tables: a transactional migration and a
/// no-transaction one, in dependency order, the hazards those of the rewrite (nothing write-blocking),
/// `plan --format json` shows the parts, `lint --strict` passes the written files, and `--plain` gives
/// back the one-step plan.
#[tokio::test]
async fn default_plan_is_online_and_generate_writes_ordered_pairs() {
    let (dir, url) = project(
        "hz_cli_online",
        "CREATE TABLE t (id int, a int); INSERT INTO t SELECT g, g FROM generate_series(1, 100) g;",
        // A new table with a foreign key that needs the new unique constraint on t: it must come after.
        "CREATE TABLE t (id int NOT NULL, a int CHECK (a > 0), CONSTRAINT t_id_key UNIQUE (id));
         CREATE INDEX t_a ON t (a);
         CREATE TABLE c (id int PRIMARY KEY, t_id int REFERENCES t (id));",
        "[hazards]\nblocking-index-build = \"deny\"\naccess-exclusive-scan = \"deny\"\nlock_timeout = \"2s\"\n",
    )
    .await;
    let json = schema_in(dir.path(), &["plan", "--url", &url, "--format", "json"], &[]);
    assert_eq!(Some(json.code), Some(0), "{}", json.stderr);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let parts = value["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 2, "{value:#}");
    assert_eq!(parts[0]["transactional"], true);
    assert_eq!(parts[1]["transactional"], false);
    let statements = |part: &serde_json::Value| -> Vec<String> {
        part["up"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["statements"].as_array().unwrap().clone())
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let first = statements(&parts[0]);
    let second = statements(&parts[1]);
    assert_eq!(first[0], "SET LOCAL lock_timeout = '2000ms';", "{first:#?}");
    assert!(first.iter().any(|s| s.starts_with("CREATE TABLE \"public\".\"c\"")), "{first:#?}");
    assert!(second.iter().any(|s| s.contains("CREATE INDEX CONCURRENTLY \"t_a\"")), "{second:#?}");
    assert!(second.iter().any(|s| s.contains("UNIQUE USING INDEX \"t_id_key\"")), "{second:#?}");
    let validate = second.iter().position(|s| s.contains("VALIDATE CONSTRAINT")).expect("a validation");
    let fk = second.iter().position(|s| s.contains("FOREIGN KEY")).expect("the foreign key after the unique index");
    let unique = second.iter().position(|s| s.contains("USING INDEX")).unwrap();
    assert!(unique < fk, "{second:#?}");
    assert!(validate > 0 && second.iter().any(|s| s == "SET lock_timeout = '2000ms';"), "{second:#?}");
    let hazards: Vec<&serde_json::Value> =
        value["up"].as_array().unwrap().iter().flat_map(|s| s["hazards"].as_array().unwrap()).collect();
    assert!(hazards.is_empty(), "no blocking hazard remains: {hazards:#?}");

    let generated = schema_in(dir.path(), &["generate", "--url", &url, "--name", "online"], &[]);
    assert_eq!(Some(generated.code), Some(0), "{}", generated.stderr);
    let mut files = written(dir.path());
    files.sort();
    assert_eq!(files.len(), 5, "two pairs and schema.sum: {files:?}");
    assert!(files[2].ends_with("_online_online.down.sql") || files[2].contains("_online_online"), "{files:?}");
    let online = files.iter().find(|f| f.ends_with("_online_online.up.sql")).expect("the online migration");
    let text_online = std::fs::read_to_string(dir.path().join("generated").join(online)).unwrap();
    assert!(text_online.starts_with("-- schema:no-transaction\n"), "{text_online}");
    let ups: Vec<String> = files.iter().filter(|f| f.ends_with(".up.sql")).map(|f| format!("generated/{f}")).collect();
    let mut args = vec!["lint", "--strict"];
    args.extend(ups.iter().map(String::as_str));
    let lint = schema_in(dir.path(), &args, &[]);
    assert_eq!(Some(lint.code), Some(0), "{}{}", lint.stdout, lint.stderr);

    let migrate = schema_in(dir.path(), &["migrate", "up", "--url", &url], &[]);
    assert_eq!(Some(migrate.code), Some(0), "{}{}", migrate.stdout, migrate.stderr);
    let again = schema_in(dir.path(), &["plan", "--url", &url], &[]);
    assert!(again.stdout.contains("no changes"), "{}", again.stdout);
    let down = schema_in(dir.path(), &["migrate", "down", "--all", "--url", &url], &[]);
    assert_eq!(Some(down.code), Some(0), "{}{}", down.stdout, down.stderr);

    let plain = schema_in(dir.path(), &["plan", "--url", &url, "--plain"], &[]);
    assert!(plain.stderr.contains("[deny] blocking-index-build"), "{}", plain.stderr);
    assert!(!plain.stdout.contains("CONCURRENTLY"), "{}", plain.stdout);
}

const MIGRATION: &str = "\
CREATE TABLE fresh (id int);
CREATE INDEX fresh_id ON fresh (id);
CREATE INDEX users_email ON users (email);
ALTER TABLE users ADD COLUMN team int NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_team_fk FOREIGN KEY (team) REFERENCES teams (id) NOT VALID;
";

#[test]
fn lint_reports_hazards_with_locations_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.sql"), MIGRATION).unwrap();
    std::fs::write(dir.path().join("safe.sql"), "CREATE INDEX CONCURRENTLY users_name ON users (name);\n").unwrap();

    let warned = schema_in(dir.path(), &["lint", "m.sql"], &[]);
    assert_eq!(Some(warned.code), Some(0), "warnings only: {}", warned.stderr);
    let out = warned.stdout;
    assert!(out.contains("m.sql:3:1: [warn] blocking-index-build"), "{out}");
    assert!(out.contains("m.sql:4:1: [warn] not-null-without-default"), "{out}");
    assert!(out.contains("1 file(s), 2 hazard(s), 0 denied"), "{out}");

    std::fs::write(dir.path().join("diff.toml"), "[hazards]\nnot-null-without-default = \"deny\"\n").unwrap();
    let denied = schema_in(dir.path(), &["lint", "m.sql", "safe.sql"], &[]);
    assert_eq!(Some(denied.code), Some(1), "{}", denied.stdout);
    let allowed = schema_in(dir.path(), &["lint", "m.sql", "--allow-hazard", "not-null-without-default"], &[]);
    assert_eq!(Some(allowed.code), Some(0));
    let strict = schema_in(dir.path(), &["lint", "safe.sql", "--strict"], &[]);
    assert_eq!(Some(strict.code), Some(0), "{}", strict.stdout);

    let json = schema_in(dir.path(), &["lint", "m.sql", "--format", "json"], &[]);
    assert_eq!(Some(json.code), Some(1));
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["denied"], 1);
    assert_eq!(value["findings"][1]["id"], "not-null-without-default");
    assert_eq!(value["findings"][1]["level"], "deny");
    assert_eq!(value["findings"][1]["line"], 4);
    assert_eq!(value["findings"][1]["lock"], "ACCESS EXCLUSIVE on public.users");

    let missing = schema_in(dir.path(), &["lint", "nope.sql"], &[]);
    assert_eq!(Some(missing.code), Some(2));
}

#[test]
fn lint_passes_generated_migrations_of_new_tables() {
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/postgres/generated");
    let mut files: Vec<String> = std::fs::read_dir(&example)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".up.sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut args = vec!["lint", "--strict"];
    args.extend(files.iter().map(String::as_str));
    let run = schema_in(dir.path(), &args, &[]);
    assert_eq!(Some(run.code), Some(0), "{}{}", run.stdout, run.stderr);
}

/// `lint` reads every file `generate` writes, online and phased, up and down: nothing is left unparsed;
/// the `DO` blocks are listed under `blocks`, and the statements of the atomic contract blocks are checked
/// at their own lines.
#[tokio::test]
async fn lint_understands_every_generated_online_and_phased_file() {
    let (dir, url) = project(
        "hz_cli_lint_generated",
        "CREATE TABLE ledger (id int PRIMARY KEY, amount int NOT NULL);
         CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL DEFAULT 'x');
         CREATE TABLE tickets (id int PRIMARY KEY, n int);
         CREATE TABLE accounts (id int PRIMARY KEY);
         CREATE TABLE t (id int NOT NULL, a int, b int); CREATE INDEX t_a ON t (a); CREATE INDEX t_b ON t (b);
         CREATE TABLE r (id int, v int);
         CREATE TABLE base (id int); CREATE TABLE kid (k int) INHERITS (base); CREATE TABLE joiner (id int);",
        "CREATE TABLE ledger (id int PRIMARY KEY, amount bigint NOT NULL);
         CREATE TABLE users (
             id int PRIMARY KEY,
             -- schema:renamed-from name
             full_name text NOT NULL DEFAULT 'x'
         );
         CREATE TABLE issues -- schema:renamed-from tickets
         (id int CONSTRAINT tickets_pkey PRIMARY KEY, n int);
         CREATE TABLE accounts (id int PRIMARY KEY, tier text NOT NULL);
         CREATE TABLE t (id int NOT NULL CONSTRAINT t_pkey PRIMARY KEY, a int NOT NULL CHECK (a > 0), b int UNIQUE);
         CREATE INDEX t_a ON t (a, b);
         CREATE TABLE r (id int, v bigint); ALTER TABLE r REPLICA IDENTITY FULL;
         CREATE TABLE base (id int); CREATE TABLE kid (id int, k int); CREATE TABLE joiner () INHERITS (base);",
        "[[backfill]]\ntable = \"public.accounts\"\ncolumn = \"tier\"\nvalue = \"'free'\"\n",
    )
    .await;
    let generated = schema_in(dir.path(), &["generate", "--url", &url, "--phased", "--name", "all"], &[]);
    assert_eq!(Some(generated.code), Some(0), "{}", generated.stderr);
    let mut files: Vec<String> =
        written(dir.path()).into_iter().filter(|f| f.ends_with(".sql")).map(|f| format!("generated/{f}")).collect();
    files.sort();
    assert_eq!(files.len(), 10, "expand, expand_online, backfill, contract, contract_online: {files:?}");

    let mut args = vec!["lint", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let lint = schema_in(dir.path(), &args, &[]);
    assert!(!lint.stderr.contains("not understood"), "{}", lint.stderr);
    let value: serde_json::Value = serde_json::from_str(&lint.stdout).expect("JSON");
    assert_eq!(value["unparsed"], serde_json::json!([]), "{value:#}");
    let blocks = value["blocks"].as_array().unwrap();
    for kind in ["backfill", "atomic", "guard", "grants"] {
        assert!(blocks.iter().any(|b| b["kind"] == kind), "no {kind} block: {value:#}");
    }
    assert!(blocks.iter().filter(|b| b["kind"] == "atomic").all(|b| b["checked"].as_u64().unwrap() > 0), "{value:#}");

    // The contract's atomic block drops the old column: reported at that statement's line.
    let findings = value["findings"].as_array().unwrap();
    let drop = findings
        .iter()
        .find(|f| f["id"] == "data-loss-column" && f["file"].as_str().unwrap().contains("contract_online.up"))
        .expect("the contract drops the renamed column's old name");
    let file = std::fs::read_to_string(dir.path().join(drop["file"].as_str().unwrap())).unwrap();
    let line = file.lines().nth(drop["line"].as_u64().unwrap() as usize - 1).unwrap();
    assert!(line.trim_start().starts_with("ALTER TABLE") && line.contains("DROP COLUMN"), "{line}");
    // The table rename keeps its old name through the compatibility view: not a visible rename.
    assert!(
        !findings.iter().any(|f| f["id"] == "rename-visible" && f["message"].as_str().unwrap().contains("tickets")),
        "{value:#}"
    );
}

/// A changed index is built again under a temporary name and swapped in by one step; its drop leaves no
/// empty step in the JSON plan.
#[tokio::test]
async fn a_changed_index_is_one_online_step() {
    let (dir, url) = project(
        "hz_cli_changed_index",
        "CREATE TABLE t (id int PRIMARY KEY, v int); CREATE INDEX t_v ON t (v);",
        "CREATE TABLE t (id int PRIMARY KEY, v int); CREATE INDEX t_v ON t (v, id);",
        "",
    )
    .await;
    let json = schema_in(dir.path(), &["plan", "--url", &url, "--format", "json"], &[]);
    assert_eq!(Some(json.code), Some(0), "{}", json.stderr);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let steps: Vec<&serde_json::Value> =
        value["parts"].as_array().unwrap().iter().flat_map(|p| p["up"].as_array().unwrap()).collect();
    assert_eq!(steps.len(), 1, "{value:#}");
    assert_eq!(steps[0]["description"], "create index public.t_v (online)");
    assert!(!steps[0]["statements"].as_array().unwrap().is_empty());
}
