//! Existing rows that would make a change fail, counted on the live database before anything is written:
//! exact counts for every kind of change on PostgreSQL and SQLite, no hazard on clean rows, `generate`
//! refusing until the rows are fixed or the id is allowed, and the limits that keep the count bounded.

use crate::support::schema_in;
use schema::pipeline;
use schema::safety::Hazard;
use schema::settings::Settings;

/// Tables holding rows that break each change of [`DESIRED`]; comments say which rows and how many.
const CURRENT: &str = "
CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh');
CREATE TABLE parent (id int PRIMARY KEY);
INSERT INTO parent VALUES (1), (2);
CREATE TABLE t (
    id int PRIMARY KEY,
    email text,            -- NOT NULL: id 4 is NULL; UNIQUE: ids 1, 2 and 5 share a@x (3 rows)
    code text,             -- to integer: 'x7' (id 3) and '1e' (id 5) do not convert; '007' does
    name varchar(100),     -- to varchar(5): 'much too long' (id 2) is truncated
    amount numeric(10,4),  -- to numeric(10,2): 4.12345 (id 4) is rounded; 1.5 is not
    ref int,               -- FOREIGN KEY to parent: 3 (id 2) and 9 (id 4) are missing; NULL (id 3) passes
    price int,             -- CHECK (price > 0): -1 (id 2) and 0 (id 3); NULL (id 5) passes
    feeling mood,          -- 'meh' is removed: ids 1 and 3
    tag text               -- unique index on lower(tag) WHERE price > 0: 'A' (id 1) and 'a' (id 4)
);
INSERT INTO t VALUES
    (1, 'a@x', '12',  'short',         1.5,     1,    5,    'meh',   'A'),
    (2, 'a@x', '007', 'much too long', 2.25,    3,    -1,   'happy', 'A'),
    (3, 'b@x', 'x7',  NULL,            3,       NULL, 0,    'meh',   'b'),
    (4, NULL,  NULL,  'z',             4.12345, 9,    2,    'sad',   'a'),
    (5, 'a@x', '1e',  'ok',            5,       2,    NULL, NULL,    'c');
-- A key added to a table without a primary key: samples name the row by ctid.
CREATE TABLE k (a int, b int);
INSERT INTO k VALUES (1, 1), (1, 1), (1, NULL), (1, NULL), (2, 1);
-- Constraints declared NOT VALID now and valid in the schema files: VALIDATE reads the rows.
CREATE TABLE v (id int PRIMARY KEY, p int, n int);
INSERT INTO v VALUES (1, 1, 1), (2, 7, -5), (3, 8, 2);
ALTER TABLE v ADD CONSTRAINT v_p_fkey FOREIGN KEY (p) REFERENCES parent (id) NOT VALID;
ALTER TABLE v ADD CONSTRAINT v_n_check CHECK (n > 0) NOT VALID;
";

const DESIRED: &str = "
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE t (
    id int PRIMARY KEY,
    email text NOT NULL CONSTRAINT t_email_key UNIQUE,
    code integer,
    name varchar(5),
    amount numeric(10,2),
    ref int CONSTRAINT t_ref_fkey REFERENCES parent (id),
    price int CONSTRAINT t_price_check CHECK (price > 0),
    feeling mood,
    tag text
);
CREATE UNIQUE INDEX t_tag ON t (lower(tag)) WHERE price > 0;
CREATE TABLE k (a int, b int, CONSTRAINT k_pkey PRIMARY KEY (a, b));
CREATE TABLE v (id int PRIMARY KEY, p int CONSTRAINT v_p_fkey REFERENCES parent (id), n int CONSTRAINT v_n_check CHECK (n > 0));
";

/// (what the message names, violating rows, sample keys the message shows)
const EXPECTED: &[(&str, u64, &[&str])] = &[
    ("NOT NULL on email", 1, &["id=4"]),
    ("UNIQUE t_email_key (email)", 3, &["email=a@x ×3"]),
    ("converting code from text to integer", 2, &["id=3", "id=5"]),
    ("converting name from character varying(100) to character varying(5)", 1, &["id=2"]),
    ("converting amount from numeric(10,4) to numeric(10,2)", 1, &["id=4"]),
    ("FOREIGN KEY t_ref_fkey (ref) → public.parent (id)", 2, &["id=2", "id=4"]),
    ("CHECK t_price_check ((price > 0))", 2, &["id=2", "id=3"]),
    ("enum label(s) meh used by feeling", 2, &["id=1", "id=3"]),
    ("unique index t_tag", 2, &["×2"]),
    ("NOT NULL on b", 2, &["ctid="]),
    ("PRIMARY KEY k_pkey (a, b)", 2, &["a=1, b=1 ×2"]),
    ("FOREIGN KEY v_p_fkey (p) → public.parent (id)", 2, &["id=2", "id=3"]),
    ("CHECK v_n_check ((n > 0))", 1, &["id=2"]),
];

fn violations(hazards: &[&Hazard]) -> Vec<(String, u64)> {
    hazards
        .iter()
        .filter(|h| h.id.as_str() == "existing-rows-violate")
        .map(|h| (h.message.clone(), h.rows.unwrap_or(u64::MAX)))
        .collect()
}

fn assert_found(found: &[(String, u64)], expected: &[(&str, u64, &[&str])]) {
    for (what, rows, samples) in expected {
        let matching: Vec<&(String, u64)> = found.iter().filter(|(m, _)| m.contains(what)).collect();
        assert_eq!(matching.len(), 1, "one hazard for {what:?} in {found:#?}");
        let (message, counted) = matching[0];
        assert_eq!(counted, rows, "rows breaking {what:?}: {message}");
        for sample in *samples {
            assert!(message.contains(sample), "{what:?} names {sample:?}: {message}");
        }
    }
    assert_eq!(found.len(), expected.len(), "no other hazard: {found:#?}");
}

async fn project(label: &str, current: &str, declared: &str, config: &str) -> (tempfile::TempDir, String) {
    crate::support::pg_project(label, current, declared, config).await
}

fn written(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("generated")).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test]
async fn every_change_kind_counts_exactly_the_rows_that_break_it_and_generate_refuses() {
    let (dir, url) = project("rows_violate", CURRENT, DESIRED, "").await;
    let json = schema_in(dir.path(), &["plan", "--url", &url, "--format", "json", "--no-verify"], &[]);
    assert_eq!(Some(json.code), Some(0), "{}", json.stderr);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let found: Vec<(String, u64)> = value["up"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|step| step["hazards"].as_array().unwrap().iter())
        .filter(|h| h["id"] == "existing-rows-violate")
        .map(|h| {
            assert_eq!(h["level"], "deny", "denied by default: {h}");
            assert_eq!(h["severity"], "high");
            (h["message"].as_str().unwrap().to_string(), h["rows"].as_u64().unwrap())
        })
        .collect();
    assert_found(&found, EXPECTED);
    // Every file of the online plan carries them too, on the steps that would fail.
    let in_parts = value["parts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|part| part["up"].as_array().unwrap().iter())
        .flat_map(|step| step["hazards"].as_array().unwrap().iter())
        .filter(|h| h["id"] == "existing-rows-violate")
        .count();
    assert_eq!(in_parts, EXPECTED.len(), "{value}");

    let refused = schema_in(dir.path(), &["generate", "--url", &url], &[]);
    assert_eq!(Some(refused.code), Some(2), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("[deny] existing-rows-violate (high): 1 row of public.t breaks NOT NULL on email (id=4)"),
        "{}",
        refused.stderr
    );
    assert_eq!(written(dir.path()), 0, "nothing written");

    // `apply` refuses them too, changing nothing; `drift` reports them with its plan.
    let applied = schema_in(dir.path(), &["apply", "--url", &url, "--yes", "--no-verify"], &[]);
    assert_eq!(Some(applied.code), Some(2), "{}", applied.stderr);
    assert!(applied.stderr.contains("existing-rows-violate"), "{}", applied.stderr);
    let mut conn = schema::dialect::postgres::connect::connect(&url).await.unwrap();
    let email_nullable: bool = sqlx::query_scalar(
        "SELECT NOT attnotnull FROM pg_attribute WHERE attrelid = 'public.t'::regclass AND attname = 'email'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(email_nullable, "apply changed nothing");
    let drift = schema_in(dir.path(), &["drift", "--url", &url, "--format", "json"], &[]);
    assert_eq!(Some(drift.code), Some(1), "{}", drift.stderr);
    let report: serde_json::Value = serde_json::from_str(&drift.stdout).expect("JSON");
    let in_drift = report["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|step| step["hazards"].as_array().unwrap().iter())
        .filter(|h| h["id"] == "existing-rows-violate")
        .count();
    assert_eq!(in_drift, EXPECTED.len(), "{report}");
    let text = schema_in(dir.path(), &["drift", "--url", &url], &[]);
    assert!(
        text.stdout.contains("existing-rows-violate (high): 1 row of public.t breaks NOT NULL on email (id=4)"),
        "{}",
        text.stdout
    );

    // Allowed, the plan is written; the verification runs it on the (empty) scratch copy.
    let allowed = schema_in(dir.path(), &["generate", "--url", &url, "--allow-hazard", "existing-rows-violate"], &[]);
    assert_eq!(Some(allowed.code), Some(0), "{}", allowed.stderr);
    assert!(written(dir.path()) > 0);
}

#[tokio::test]
async fn clean_rows_raise_no_hazard_and_the_migration_runs() {
    // The same changes over rows that meet every one of them ('007' converts; NULLs pass the foreign key
    // and the check; 1.5 fits numeric(10,2)).
    let clean = "
CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh');
CREATE TABLE parent (id int PRIMARY KEY);
INSERT INTO parent VALUES (1), (2);
CREATE TABLE t (id int PRIMARY KEY, email text, code text, name varchar(100), amount numeric(10,4), ref int, price int, feeling mood, tag text);
INSERT INTO t VALUES (1, 'a@x', '007', 'short', 1.5, 1, 5, 'sad', 'A'), (2, 'b@x', NULL, NULL, NULL, NULL, NULL, NULL, 'a'),
                     (3, 'c@x', '-3', 'ok', 2.25, 2, 1, 'happy', 'b');
CREATE TABLE k (a int, b int);
INSERT INTO k VALUES (1, 1), (1, 2);
CREATE TABLE v (id int PRIMARY KEY, p int, n int);
INSERT INTO v VALUES (1, 1, 1), (2, NULL, NULL);
ALTER TABLE v ADD CONSTRAINT v_p_fkey FOREIGN KEY (p) REFERENCES parent (id) NOT VALID;
ALTER TABLE v ADD CONSTRAINT v_n_check CHECK (n > 0) NOT VALID;
";
    let (dir, url) = project("rows_clean", clean, DESIRED, "").await;
    let settings = Settings {
        url: Some(url.clone()),
        schema_dir: dir.path().join("schema"),
        out_dir: dir.path().join("generated"),
        ..Default::default()
    };
    let migration = pipeline::migration(&settings).await.expect("plan");
    let hazards: Vec<&Hazard> = migration.up.hazards().map(|(_, h)| h).collect();
    assert!(violations(&hazards).is_empty(), "{hazards:#?}");
    assert!(!hazards.iter().any(|h| h.id.as_str().starts_with("existing-rows")), "{hazards:#?}");
    let generated = schema_in(dir.path(), &["generate", "--url", &url], &[]);
    assert_eq!(Some(generated.code), Some(0), "{}", generated.stderr);
    let migrated = schema_in(dir.path(), &["migrate", "up", "--url", &url], &[]);
    assert_eq!(Some(migrated.code), Some(0), "{}", migrated.stderr);
    let mut conn = schema::dialect::postgres::connect::connect(&url).await.unwrap();
    let codes: String = sqlx::query_scalar("SELECT string_agg(coalesce(code::text, 'NULL'), ',' ORDER BY id) FROM t")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(codes, "7,NULL,-3");
}

#[tokio::test]
async fn limits_report_unchecked_tables_without_refusing() {
    // Above the row limit the table is not read: a low warning names it, nothing is denied.
    let (dir, url) = project(
        "rows_limit",
        "CREATE TABLE t (id int PRIMARY KEY, a int); INSERT INTO t SELECT g, NULL FROM generate_series(1, 50) g; ANALYZE t;",
        "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL);",
        "[hazards]\ncheck_rows_max_rows = 10\n",
    )
    .await;
    let plan = schema_in(dir.path(), &["plan", "--url", &url, "--no-verify"], &[]);
    assert_eq!(Some(plan.code), Some(0), "{}", plan.stderr);
    assert!(
        plan.stderr.contains("[warn] existing-rows-unchecked (low): the rows of public.t were not checked against NOT NULL on a: the table has about 50 rows, more than check_rows_max_rows (10)"),
        "{}",
        plan.stderr
    );
    assert!(!plan.stderr.contains("existing-rows-violate"), "{}", plan.stderr);

    // A count that takes longer than the timeout is abandoned and reported, and the others still run.
    let (dir, url) = project(
        "rows_timeout",
        "CREATE FUNCTION slow(x int) RETURNS boolean LANGUAGE sql AS 'SELECT pg_sleep(2) IS NOT NULL';
         CREATE TABLE t (id int PRIMARY KEY, a int, b int); INSERT INTO t VALUES (1, 1, NULL);",
        "CREATE FUNCTION slow(x int) RETURNS boolean LANGUAGE sql AS 'SELECT pg_sleep(2) IS NOT NULL';
         CREATE TABLE t (id int PRIMARY KEY, a int CONSTRAINT t_slow CHECK (slow(a)), b int NOT NULL);",
        "[hazards]\ncheck_rows_timeout = \"100ms\"\n",
    )
    .await;
    let plan = schema_in(dir.path(), &["plan", "--url", &url, "--no-verify"], &[]);
    assert!(plan.stderr.contains("counting took longer than check_rows_timeout (100 ms)"), "{}", plan.stderr);
    assert!(plan.stderr.contains("1 row of public.t breaks NOT NULL on b (id=1)"), "{}", plan.stderr);
}

#[tokio::test]
async fn sqlite_rebuilds_and_unique_indexes_count_the_rows_they_would_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let current = [
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);".to_string(),
        "INSERT INTO parent VALUES (1);".to_string(),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, p INTEGER, c TEXT, d TEXT);".to_string(),
        "INSERT INTO t VALUES (1, NULL, 5, 1, 'x', 'k'), (2, 'v', -1, 2, 'X', 'k'), (3, NULL, 0, NULL, 'y', 'K'), (4, 'w', 1, 1, NULL, NULL);"
            .to_string(),
        "CREATE TABLE ok (id INTEGER PRIMARY KEY, a TEXT);".to_string(),
        "INSERT INTO ok VALUES (1, 'a'), (2, 'b');".to_string(),
    ];
    schema::dialect::execute(&url, &current, true).await.unwrap();
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(
        schema_dir.join("app.sql"),
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b INTEGER CONSTRAINT b_pos CHECK (b > 0),
                         p INTEGER REFERENCES parent (id), c TEXT, d TEXT, CONSTRAINT t_c UNIQUE (c COLLATE NOCASE));
         CREATE UNIQUE INDEX t_d ON t (lower(d)) WHERE b <> 0;
         CREATE TABLE ok (id INTEGER PRIMARY KEY, a TEXT NOT NULL UNIQUE);",
    )
    .unwrap();
    let settings = Settings { url: Some(url), schema_dir, ..Default::default() };
    let migration = pipeline::migration(&settings).await.unwrap();
    let hazards: Vec<&Hazard> = migration.up.hazards().map(|(_, h)| h).collect();
    let found = violations(&hazards);
    assert_found(
        &found,
        &[
            ("NOT NULL on a", 2, &["id=1", "id=3"]),
            ("CHECK b_pos (b > 0)", 2, &["id=2", "id=3"]),
            ("FOREIGN KEY", 1, &["id=2"]),
            ("UNIQUE t_c (c)", 2, &["c=x ×2"]),
            ("unique index t_d", 2, &["×2"]),
        ],
    );
    assert!(found.iter().all(|(m, _)| !m.contains("main.ok")), "clean rows of `ok` raise nothing: {found:#?}");
}
