//! Hazard detection on a real PostgreSQL: a table of (current DDL, desired DDL, expected hazard ids) run
//! through the whole pipeline, including the changes that must report no hazard; and live statistics
//! (row estimate and size) attached to a hazard after ANALYZE.

use schema::pipeline;
use schema::safety::{Hazard, Severity};
use schema::testkit::{pg_server, roundtrip};

/// (label, current, desired, expected hazard ids in plan order)
const CASES: &[(&str, &str, &str, &[&str])] = &[
    // No hazard: new objects are empty, and these changes touch no row.
    ("new_table_with_index", "", "CREATE TABLE t (id int PRIMARY KEY, a text); CREATE INDEX t_a ON t (a);", &[]),
    ("varchar_widening", "CREATE TABLE t (a varchar(10));", "CREATE TABLE t (a varchar(20));", &[]),
    ("varchar_to_text", "CREATE TABLE t (a varchar(10));", "CREATE TABLE t (a text);", &[]),
    ("add_nullable_column", "CREATE TABLE t (a int);", "CREATE TABLE t (a int, b text);", &[]),
    ("add_constant_default", "CREATE TABLE t (a int);", "CREATE TABLE t (a int, b int NOT NULL DEFAULT 0);", &[]),
    ("add_stable_default", "CREATE TABLE t (a int);", "CREATE TABLE t (a int, b timestamptz DEFAULT now());", &[]),
    (
        "fk_on_new_table",
        "CREATE TABLE p (id int PRIMARY KEY);",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (id int, p int REFERENCES p (id));",
        &[],
    ),
    ("drop_not_null", "CREATE TABLE t (a int NOT NULL);", "CREATE TABLE t (a int);", &[]),
    // Rewrites and scans under locks.
    ("int_to_bigint", "CREATE TABLE t (a int);", "CREATE TABLE t (a bigint);", &["table-rewrite"]),
    (
        "varchar_narrowing",
        "CREATE TABLE t (a varchar(20));",
        "CREATE TABLE t (a varchar(10));",
        &["table-rewrite", "type-narrowing"],
    ),
    (
        "volatile_default",
        "CREATE TABLE t (a int);",
        "CREATE TABLE t (a int, b uuid DEFAULT gen_random_uuid());",
        &["table-rewrite"],
    ),
    (
        "stored_generated_column",
        "CREATE TABLE t (a int);",
        "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED);",
        &["table-rewrite"],
    ),
    (
        "not_null_without_default",
        "CREATE TABLE t (a int);",
        "CREATE TABLE t (a int, b int NOT NULL);",
        &["not-null-without-default"],
    ),
    ("set_not_null", "CREATE TABLE t (a int);", "CREATE TABLE t (a int NOT NULL);", &["access-exclusive-scan"]),
    (
        "check_added_valid",
        "CREATE TABLE t (a int);",
        "CREATE TABLE t (a int CONSTRAINT a_pos CHECK (a > 0));",
        &["access-exclusive-scan"],
    ),
    (
        "fk_added_valid",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (id int, p int);",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (id int, p int REFERENCES p (id));",
        &["access-exclusive-scan"],
    ),
    (
        "index_on_existing_table",
        "CREATE TABLE t (a int);",
        "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);",
        &["blocking-index-build"],
    ),
    ("unique_added", "CREATE TABLE t (a int);", "CREATE TABLE t (a int UNIQUE);", &["blocking-index-build"]),
    (
        "index_dropped",
        "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);",
        "CREATE TABLE t (a int);",
        &["index-dropped"],
    ),
    // Data loss.
    ("drop_table", "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);", "", &["data-loss-table"]),
    ("drop_column", "CREATE TABLE t (a int, b int);", "CREATE TABLE t (a int);", &["data-loss-column"]),
    ("drop_sequence", "CREATE SEQUENCE s;", "", &["data-loss-sequence"]),
    (
        "enum_value_removed",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');",
        "CREATE TYPE mood AS ENUM ('sad', 'happy');",
        &["data-loss-enum-value"],
    ),
    (
        "enum_value_removed_from_used_type",
        "CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE TABLE t (m mood);",
        "CREATE TYPE mood AS ENUM ('sad'); CREATE TABLE t (m mood);",
        &["data-loss-enum-value", "table-rewrite"],
    ),
    ("drop_type", "CREATE TYPE mood AS ENUM ('a');", "", &["data-loss-type"]),
    ("drop_schema", "CREATE SCHEMA app;", "", &["data-loss-schema"]),
    ("drop_extension", "CREATE EXTENSION pg_trgm;", "", &["data-loss-extension"]),
    // Functions and authorization.
    ("function_dropped", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;", "", &["function-dropped"]),
    (
        "function_body_replaced",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;",
        &[],
    ),
    (
        "new_function_without_public_execute",
        "",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;",
        &[],
    ),
    ("grant_added", "CREATE TABLE t (a int);", "CREATE TABLE t (a int); GRANT SELECT ON t TO PUBLIC;", &[]),
    (
        "grant_revoked",
        "CREATE TABLE t (a int); GRANT SELECT ON t TO PUBLIC;",
        "CREATE TABLE t (a int);",
        &["authorization-change"],
    ),
    (
        "row_security_enabled_on_existing_table",
        "CREATE TABLE t (a int);",
        "CREATE TABLE t (a int); ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        &["authorization-change"],
    ),
    ("row_security_on_new_table", "", "CREATE TABLE t (a int); ALTER TABLE t ENABLE ROW LEVEL SECURITY;", &[]),
    (
        "policy_dropped",
        "CREATE TABLE t (a int); ALTER TABLE t ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON t USING (true);",
        "CREATE TABLE t (a int); ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        &["authorization-change"],
    ),
    // Renames are visible to running code.
    (
        "column_renamed",
        "CREATE TABLE t (a int);",
        "CREATE TABLE t (\n  -- schema:renamed-from a\n  b int\n);",
        &["rename-visible"],
    ),
    // A drop and an add alike are probably an undeclared rename; not when the type or the columns differ,
    // nor for a column dropped and added under its own name.
    (
        "probable_column_rename",
        "CREATE TABLE t (a int, b text);",
        "CREATE TABLE t (a int, c text);",
        &["data-loss-column", "probable-rename"],
    ),
    (
        "column_dropped_and_one_of_another_type_added",
        "CREATE TABLE t (a int, b text);",
        "CREATE TABLE t (a int, c varchar(10));",
        &["data-loss-column"],
    ),
    (
        "generated_column_replaced",
        "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED);",
        "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 3) STORED);",
        &["data-loss-column", "table-rewrite"],
    ),
    (
        "probable_table_rename",
        "CREATE TABLE t (a int, b text);",
        "CREATE TABLE s (b text, a int);",
        &["data-loss-table", "probable-rename"],
    ),
    (
        "table_dropped_and_one_with_other_columns_created",
        "CREATE TABLE t (a int, b text);",
        "CREATE TABLE s (a int, b text, c int);",
        &["data-loss-table"],
    ),
    // A table rebuilt (its partitioning changes) keeps its rows: the copy is the hazard, not the rename
    // aside, the detach or the drop of the old table.
    // REPLICA IDENTITY on an existing table (a new one reports nothing), NOTHING apart; INHERIT, with the
    // parent's check that the child gets first.
    (
        "replica_identity_full",
        "CREATE TABLE t (id int PRIMARY KEY);",
        "CREATE TABLE t (id int PRIMARY KEY); ALTER TABLE t REPLICA IDENTITY FULL;",
        &["replica-identity-change"],
    ),
    (
        "replica_identity_nothing",
        "CREATE TABLE t (id int PRIMARY KEY); ALTER TABLE t REPLICA IDENTITY FULL;",
        "CREATE TABLE t (id int PRIMARY KEY); ALTER TABLE t REPLICA IDENTITY NOTHING;
         CREATE TABLE n (id int); ALTER TABLE n REPLICA IDENTITY NOTHING;",
        &["replica-identity-nothing"],
    ),
    (
        "inherit_parent",
        "CREATE TABLE pa (a int CONSTRAINT pa_a CHECK (a > 0)); CREATE TABLE ch (a int, b int);",
        "CREATE TABLE pa (a int CONSTRAINT pa_a CHECK (a > 0)); CREATE TABLE ch (a int, b int) INHERITS (pa);",
        &["inherit-parent"],
    ),
    (
        "partition_key_changed",
        "CREATE TABLE t (a int, k text) PARTITION BY LIST (k); CREATE TABLE t1 PARTITION OF t FOR VALUES IN ('x');",
        "CREATE TABLE t (a int, k text) PARTITION BY RANGE (k); CREATE TABLE t1 PARTITION OF t FOR VALUES FROM ('a') TO ('z');",
        &["table-rebuild"],
    ),
    (
        "partition_becomes_partitioned",
        "CREATE TABLE t (a int, k text) PARTITION BY LIST (k); CREATE TABLE t1 PARTITION OF t FOR VALUES IN ('x');
         CREATE VIEW v AS SELECT a FROM t1;",
        "CREATE TABLE t (a int, k text) PARTITION BY LIST (k);
         CREATE TABLE t1 PARTITION OF t FOR VALUES IN ('x') PARTITION BY RANGE (a);
         CREATE TABLE t1_low PARTITION OF t1 FOR VALUES FROM (0) TO (10);
         CREATE VIEW v AS SELECT a FROM t1;",
        &["table-rebuild"],
    ),
];

async fn plan_hazards(label: &str, current: &str, desired: &str) -> anyhow::Result<Vec<Hazard>> {
    let server = pg_server().await?;
    let db = server.fresh_database(label).await?;
    roundtrip::load_sql(&db.url, current).await?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("app.sql"), desired)?;
    let settings = roundtrip::settings_for(&db, dir.path());
    let migration = pipeline::migration(&settings).await?;
    Ok(migration.up.steps.into_iter().flat_map(|s| s.hazards).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hazard_table_cases() {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, &(label, current, desired, expected)) in CASES.iter().enumerate() {
        tasks.spawn(async move { (i, label, expected, plan_hazards(&format!("hz_{label}"), current, desired).await) });
    }
    let mut failures = Vec::new();
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        results.push(joined.expect("case task"));
    }
    results.sort_by_key(|r| r.0);
    for (_, label, expected, outcome) in results {
        match outcome {
            Err(e) => failures.push(format!("{label}: error: {e:#}")),
            Ok(hazards) => {
                let ids: Vec<&str> = hazards.iter().map(|h| h.id.as_str()).collect();
                if ids != expected {
                    let detail: Vec<String> = hazards.iter().map(|h| format!("    {h}")).collect();
                    failures.push(format!("{label}: expected {expected:?}, got {ids:?}\n{}", detail.join("\n")));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn lock_hazards_name_the_lock_and_table() {
    let hazards =
        plan_hazards("hz_lock_text", "CREATE TABLE t (a int);", "CREATE TABLE t (a int NOT NULL);").await.unwrap();
    let hazard = &hazards[0];
    assert_eq!(hazard.lock.as_deref(), Some("ACCESS EXCLUSIVE on public.t"));
    assert!(hazard.scans && !hazard.rewrites);
    assert!(!hazard.help.is_empty() && !hazard.help.contains('\n'));
    // Never analysed, but the heap is empty: known to have no rows, so the scan is cheap.
    assert_eq!(hazard.rows, Some(0));
    assert_eq!(hazard.severity, Severity::Low);
}

#[tokio::test]
async fn statistics_grade_hazards_by_table_size() {
    let current = "CREATE TABLE big (id int, payload text);
        INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;
        ANALYZE big;";
    let desired = "CREATE TABLE big (id bigint, payload text);";
    let hazards = plan_hazards("hz_stats", current, desired).await.unwrap();
    let rewrite = hazards.iter().find(|h| h.id.as_str() == "table-rewrite").expect("table-rewrite hazard");
    let rows = rewrite.rows.expect("row estimate from reltuples");
    assert!((19_000..=21_000).contains(&rows), "rows {rows}");
    assert!(rewrite.bytes.unwrap() > 2_000_000, "bytes {:?}", rewrite.bytes);
    assert_eq!(rewrite.severity, Severity::Medium);
    let text = rewrite.lock_text().unwrap();
    assert!(text.starts_with("ACCESS EXCLUSIVE on public.big (≈20k rows, "), "{text}");
}

#[tokio::test]
async fn sqlite_rebuilds_are_table_rebuild_hazards_except_for_new_tables() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let current = ["CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER);".to_string()];
    schema::dialect::execute(&url, &current, true).await.unwrap();
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    // Dropping a column with a type change forces a rebuild of the existing table; `n` is new.
    std::fs::write(
        schema_dir.join("app.sql"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER); CREATE TABLE n (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    let settings = schema::settings::Settings { url: Some(url), schema_dir, ..Default::default() };
    let migration = pipeline::migration(&settings).await.unwrap();
    let ids: Vec<&str> = migration.up.hazards().map(|(_, h)| h.id.as_str()).collect();
    assert_eq!(ids, ["data-loss-column", "table-rebuild"], "{:#?}", migration.up.steps);
    let rebuild = migration.up.hazards().find(|(_, h)| h.id.as_str() == "table-rebuild").unwrap().1;
    assert!(rebuild.rewrites && rebuild.lock.as_deref().is_some_and(|l| l.ends_with("on main.t")));
}

async fn relfilenode(url: &str) -> i64 {
    let mut conn = schema::dialect::postgres::connect::connect(url).await.unwrap();
    let row: (i64,) =
        sqlx::query_as("SELECT pg_relation_filenode('public.t')::int8").fetch_one(&mut conn).await.unwrap();
    row.0
}

/// The `rewrites` claim checked against PostgreSQL itself: a table is rewritten exactly when its file
/// node changes, which happens for the changes reported as `table-rewrite` and for no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rewrite_claims_match_the_table_file_node() {
    const CASES: &[(&str, &str, &str)] = &[
        ("rw_int_bigint", "CREATE TABLE t (a int);", "CREATE TABLE t (a bigint);"),
        ("rw_varchar_wider", "CREATE TABLE t (a varchar(10));", "CREATE TABLE t (a varchar(20));"),
        ("rw_varchar_text", "CREATE TABLE t (a varchar(10));", "CREATE TABLE t (a text);"),
        ("rw_numeric_wider", "CREATE TABLE t (a numeric(10,2));", "CREATE TABLE t (a numeric(12,2));"),
        ("rw_const_default", "CREATE TABLE t (a int);", "CREATE TABLE t (a int, b int NOT NULL DEFAULT 7);"),
        ("rw_volatile_default", "CREATE TABLE t (a int);", "CREATE TABLE t (a int, b float8 DEFAULT random());"),
        (
            "rw_generated",
            "CREATE TABLE t (a int);",
            "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a + 1) STORED);",
        ),
        ("rw_set_not_null", "CREATE TABLE t (a int);", "CREATE TABLE t (a int NOT NULL);"),
        ("rw_identity", "CREATE TABLE t (a int);", "CREATE TABLE t (a int, id bigint GENERATED ALWAYS AS IDENTITY);"),
        ("rw_serial", "CREATE TABLE t (a int);", "CREATE TABLE t (a int, id serial);"),
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for &(label, current, desired) in CASES {
        tasks.spawn(async move {
            let server = pg_server().await?;
            let db = server.fresh_database(label).await?;
            roundtrip::load_sql(&db.url, current).await?;
            roundtrip::load_sql(&db.url, "INSERT INTO t (a) SELECT generate_series(1, 100)").await?;
            let dir = tempfile::tempdir()?;
            std::fs::write(dir.path().join("app.sql"), desired)?;
            let migration = pipeline::migration(&roundtrip::settings_for(&db, dir.path())).await?;
            let claimed = migration.up.hazards().any(|(_, h)| h.rewrites);
            let before = relfilenode(&db.url).await;
            let statements: Vec<String> = migration.up.statements().map(String::from).collect();
            schema::dialect::execute(&db.url, &statements, true).await?;
            let rewritten = relfilenode(&db.url).await != before;
            anyhow::Ok((label, claimed, rewritten))
        });
    }
    let mut wrong = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (label, claimed, rewritten) = joined.expect("task").expect("case");
        if claimed != rewritten {
            wrong.push(format!("{label}: hazard says rewrites={claimed}, PostgreSQL rewrote={rewritten}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The `lock` claim checked against `pg_locks`: with the step's statements run in an open transaction,
/// the session holds the named lock mode on the named table.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lock_claims_match_pg_locks() {
    const CASES: &[(&str, &str, &str)] = &[
        ("lk_index", "CREATE TABLE t (a int);", "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);"),
        ("lk_not_null", "CREATE TABLE t (a int);", "CREATE TABLE t (a int NOT NULL);"),
        ("lk_check", "CREATE TABLE t (a int);", "CREATE TABLE t (a int CHECK (a > 0));"),
        ("lk_unique", "CREATE TABLE t (a int);", "CREATE TABLE t (a int UNIQUE);"),
        ("lk_drop_index", "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);", "CREATE TABLE t (a int);"),
        ("lk_bigint", "CREATE TABLE t (a int);", "CREATE TABLE t (a bigint);"),
        (
            "lk_fk",
            "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (p int);",
            "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (p int REFERENCES p (id));",
        ),
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for &(label, current, desired) in CASES {
        tasks.spawn(async move {
            let server = pg_server().await?;
            let db = server.fresh_database(label).await?;
            roundtrip::load_sql(&db.url, current).await?;
            let dir = tempfile::tempdir()?;
            std::fs::write(dir.path().join("app.sql"), desired)?;
            let migration = pipeline::migration(&roundtrip::settings_for(&db, dir.path())).await?;
            let hazard = migration.up.hazards().find_map(|(_, h)| h.lock.clone()).expect("a lock hazard");
            let (mode, table) = hazard.split_once(" on ").unwrap();
            let table = table.split(" and ").next().unwrap().to_string();
            let expected =
                mode.split(' ').map(|w| w[..1].to_string() + &w[1..].to_lowercase()).collect::<String>() + "Lock";
            let mut session = schema::dialect::postgres::connect::connect(&db.url).await?;
            sqlx::raw_sql("BEGIN").execute(&mut session).await?;
            for statement in migration.up.statements() {
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string())).execute(&mut session).await?;
            }
            let pid: (i32,) = sqlx::query_as("SELECT pg_backend_pid()").fetch_one(&mut session).await?;
            let mut observer = schema::dialect::postgres::connect::connect(&db.url).await?;
            let held: Vec<(String,)> = sqlx::query_as(
                "SELECT mode FROM pg_locks WHERE pid = $1 AND granted AND relation = $2::regclass ORDER BY 1",
            )
            .bind(pid.0)
            .bind(&table)
            .fetch_all(&mut observer)
            .await?;
            let held: Vec<String> = held.into_iter().map(|r| r.0).collect();
            anyhow::Ok((label, hazard.clone(), held.contains(&expected), held))
        });
    }
    let mut wrong = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (label, claimed, ok, held) = joined.expect("task").expect("case");
        if !ok {
            wrong.push(format!("{label}: hazard says {claimed}, the session holds {held:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
