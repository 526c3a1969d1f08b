//! The round-trip property on a real PostgreSQL for domains, composite and range types, partitioned
//! tables, table storage options, collations and extension versions: up converges to desired, a second
//! plan is empty, down converges back to current. Rows are present where a change must keep or check
//! them; changes that cannot be planned are errors that name the object.

use schema::dialect::postgres::connect;
use schema::pipeline;
use schema::testkit::{TestDatabase, pg_server, roundtrip};
use sqlx::Row;

async fn check(label: &str, current: &str, desired: &str) -> roundtrip::Outcome {
    roundtrip::check(label, current, desired).await
}

macro_rules! round_trip {
    ($name:ident, $current:expr, $desired:expr) => {
        #[tokio::test]
        async fn $name() {
            check(stringify!($name), $current, $desired).await;
        }
    };
}

/// Loads `current` into a fresh database and plans towards `desired` declared in a schema directory.
async fn plan(label: &str, current: &str, desired: &str) -> (TestDatabase, anyhow::Result<pipeline::Migration>) {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database(label).await.expect("fresh database");
    roundtrip::load_sql(&db.url, current).await.expect("load current");
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("schema.sql"), desired).expect("write schema");
    let settings = roundtrip::settings_for(&db, dir.path());
    let migration = pipeline::migration(&settings).await;
    (db, migration)
}

async fn query_strings(db: &TestDatabase, sql: &str) -> Vec<String> {
    let mut conn = connect::connect(&db.url).await.expect("connect");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(&mut conn).await.expect("query");
    rows.iter().map(|r| r.try_get::<String, _>(0).expect("text column")).collect()
}

round_trip!(
    domain_with_default_not_null_checks_and_collation_created_before_its_users,
    "",
    r#"CREATE DOMAIN positive AS integer DEFAULT 1 NOT NULL CONSTRAINT positive_check CHECK (VALUE > 0) CONSTRAINT below_max CHECK (VALUE < 1000);
       CREATE DOMAIN code AS text COLLATE "C" CHECK (VALUE ~ '^[A-Z]+$');
       CREATE DOMAIN codes AS code[];
       COMMENT ON DOMAIN positive IS 'strictly positive';
       CREATE TABLE items (id int PRIMARY KEY, qty positive, c code, many codes, CONSTRAINT qty_small CHECK (qty::int < 500));
       CREATE VIEW small AS SELECT id, qty FROM items WHERE qty::int < 10;"#
);

round_trip!(
    domain_default_not_null_and_constraints_change_with_rows,
    "CREATE DOMAIN amount AS numeric(10,2) DEFAULT 0 CONSTRAINT amount_nonneg CHECK (VALUE >= 0) CONSTRAINT old_rule CHECK (VALUE < 1e6);
     CREATE TABLE t (id int, a amount);
     INSERT INTO t VALUES (1, 5), (2, 10);",
    "CREATE DOMAIN amount AS numeric(10,2) NOT NULL CONSTRAINT amount_nonneg CHECK (VALUE > 0) CONSTRAINT new_rule CHECK (VALUE < 100);
     CREATE TABLE t (id int, a amount);"
);

round_trip!(
    domain_constraint_added_not_valid_then_validated,
    "CREATE DOMAIN d AS int; ALTER DOMAIN d ADD CONSTRAINT d_pos CHECK (VALUE > 0) NOT VALID;
     CREATE TABLE t (x d); INSERT INTO t VALUES (3);",
    "CREATE DOMAIN d AS int CONSTRAINT d_pos CHECK (VALUE > 0); CREATE TABLE t (x d);"
);

round_trip!(
    unused_domain_with_a_new_base_type_is_dropped_and_created,
    "CREATE DOMAIN d AS int CHECK (VALUE > 0); COMMENT ON DOMAIN d IS 'old';",
    "CREATE DOMAIN d AS bigint CHECK (VALUE > 0); COMMENT ON DOMAIN d IS 'old';"
);

round_trip!(
    domain_dropped_with_the_column_that_uses_it_and_another_added,
    "CREATE DOMAIN old_d AS text; CREATE TABLE t (id int, o old_d);",
    "CREATE DOMAIN new_d AS int CHECK (VALUE <> 0); CREATE TABLE t (id int, n new_d DEFAULT 4);"
);

#[tokio::test]
async fn retyping_a_domain_that_array_columns_use_is_an_error_naming_both() {
    let (_db, migration) = plan(
        "domain_retyped_in_use",
        "CREATE DOMAIN d AS int; CREATE TABLE t (x d[]);",
        "CREATE DOMAIN d AS text; CREATE TABLE t (x d[]);",
    )
    .await;
    let err = format!("{:#}", migration.expect_err("a domain in use cannot be retyped silently"));
    assert!(err.contains("domain public.d") && err.contains("public.t.x"), "{err}");
}

// Columns of a domain whose base type changes move to the new base type while the domain is dropped
// and created again, and back; their values are converted, and the view reading them is recreated.
round_trip!(
    domain_base_type_change_converts_its_columns,
    "CREATE DOMAIN code AS varchar(5) DEFAULT 'x' CHECK (VALUE <> '');
     CREATE TABLE t (id int, c code DEFAULT 'y', n code NOT NULL); CREATE VIEW v AS SELECT c FROM t;
     INSERT INTO t VALUES (1, 'ab', 'cd');",
    "CREATE DOMAIN code AS text DEFAULT 'x' CHECK (VALUE <> '');
     CREATE TABLE t (id int, c code DEFAULT 'y', n code NOT NULL); CREATE VIEW v AS SELECT c FROM t;"
);

round_trip!(
    composite_types_created_and_used_with_collation_and_nested_types,
    "",
    r#"CREATE TYPE mood AS ENUM ('ok', 'bad');
       CREATE TYPE address AS (street text COLLATE "C", zip varchar(10), m mood);
       CREATE TYPE person AS (name text, home address, tags text[]);
       COMMENT ON TYPE person IS 'a person';
       CREATE TABLE people (id int, p person);"#
);

round_trip!(
    composite_attributes_added_dropped_and_retyped,
    "CREATE TYPE pair AS (a int, b text, c int); CREATE TYPE unused AS (x int, y text);
     CREATE TABLE t (p pair); INSERT INTO t VALUES (ROW(1, 'x', 2));",
    "CREATE TYPE pair AS (a int, b text, d date); CREATE TYPE unused AS (x bigint, y text, z int);
     CREATE TABLE t (p pair);"
);

round_trip!(
    composite_attributes_reordered_when_unused_recreate_the_type,
    "CREATE TYPE pair AS (a int, b text);",
    "CREATE TYPE pair AS (b text, a int);"
);

round_trip!(
    range_types_created_changed_and_dropped,
    "CREATE TYPE old_range AS RANGE (subtype = int4); CREATE TYPE changing AS RANGE (subtype = float8);",
    r#"CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
       CREATE TYPE textrange AS RANGE (subtype = text, collation = "C");
       CREATE TYPE changing AS RANGE (subtype = numeric);
       CREATE TABLE spans (id int, f floatrange, t textrange);"#
);

round_trip!(
    partitioned_tables_with_default_and_sub_partitions_indexes_and_foreign_keys,
    "",
    "CREATE TABLE customers (id int, region text NOT NULL, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
     CREATE TABLE customers_eu PARTITION OF customers FOR VALUES IN ('eu');
     CREATE TABLE customers_other PARTITION OF customers DEFAULT;
     CREATE TABLE orders (id bigint, customer_id int, region text, placed date NOT NULL, total numeric,
                          FOREIGN KEY (customer_id, region) REFERENCES customers,
                          PRIMARY KEY (id, placed), CONSTRAINT total_positive CHECK (total > 0))
       PARTITION BY RANGE (placed);
     CREATE TABLE orders_2024 PARTITION OF orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
     CREATE TABLE orders_2025 PARTITION OF orders (CONSTRAINT only_2025 CHECK (total < 1000000))
       FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY HASH (id);
     CREATE TABLE orders_2025_a PARTITION OF orders_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
     CREATE TABLE orders_2025_b PARTITION OF orders_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
     CREATE INDEX orders_customer ON orders (customer_id);
     CREATE TABLE refunds (order_id bigint, placed date, FOREIGN KEY (order_id, placed) REFERENCES orders);
     CREATE VIEW eu_customers AS SELECT id FROM customers_eu;"
);

round_trip!(
    partitions_added_and_removed_and_columns_changed_through_the_parent,
    "CREATE TABLE m (id int, at date NOT NULL, note text) PARTITION BY RANGE (at);
     CREATE TABLE m_2023 PARTITION OF m FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
     CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
     INSERT INTO m VALUES (1, '2024-05-01', 'x');",
    "CREATE TABLE m (id int, at date NOT NULL, note varchar(20), extra int DEFAULT 0) PARTITION BY RANGE (at);
     CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
     CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
     CREATE INDEX m_id ON m (id);"
);

// An enum or domain rebuilt under a partitioned table converts the parent's columns only: PostgreSQL
// carries the change (and the defaults) down to the partitions, and refuses it on a partition.
round_trip!(
    types_rebuilt_under_a_partitioned_table_convert_through_the_parent,
    "CREATE TYPE mood AS ENUM ('ok', 'sad', 'bad'); CREATE DOMAIN pos AS integer CHECK (VALUE > 0);
     CREATE TABLE m (id int, at date NOT NULL, feel mood DEFAULT 'ok', n pos) PARTITION BY RANGE (at);
     CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
     INSERT INTO m VALUES (1, '2024-05-01', 'sad', 3);",
    "CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE DOMAIN pos AS bigint CHECK (VALUE > 0);
     CREATE TABLE m (id int, at date NOT NULL, feel mood DEFAULT 'ok', n pos) PARTITION BY RANGE (at);
     CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
);

round_trip!(
    a_plain_table_becomes_a_partition_and_back,
    "CREATE TABLE m (id int, at date NOT NULL) PARTITION BY RANGE (at);
     CREATE TABLE loose (id int, at date NOT NULL); INSERT INTO loose VALUES (1, '2020-06-01');",
    "CREATE TABLE m (id int, at date NOT NULL) PARTITION BY RANGE (at);
     CREATE TABLE loose PARTITION OF m FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');"
);

/// A partition whose bound changes is detached and attached again: its rows stay.
#[tokio::test]
async fn partition_bound_change_detaches_and_attaches_keeping_rows() {
    let current = "CREATE TABLE m (id int, at date NOT NULL) PARTITION BY RANGE (at);
                   CREATE TABLE m_a PARTITION OF m FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
                   CREATE TABLE m_b PARTITION OF m FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
                   INSERT INTO m VALUES (1, '2020-03-01'), (2, '2021-03-01');";
    let desired = "CREATE TABLE m (id int, at date NOT NULL) PARTITION BY RANGE (at);
                   CREATE TABLE m_a PARTITION OF m FOR VALUES FROM ('2020-01-01') TO ('2021-02-01');
                   CREATE TABLE m_b PARTITION OF m FOR VALUES FROM ('2021-02-01') TO ('2022-01-01');";
    let outcome = check("partition_bounds_change", current, desired).await;
    let up = outcome.up_sql.join("\n");
    assert!(up.contains(r#"ALTER TABLE "public"."m" DETACH PARTITION "public"."m_a";"#), "{up}");
    assert!(!up.contains("DROP TABLE"), "{up}");
    // Rows after up: applied by hand to a database of our own to read them back.
    let (db, migration) = plan("partition_bounds_rows", current, desired).await;
    let migration = migration.expect("plan");
    let mut conn = connect::connect(&db.url).await.expect("connect");
    let statements: Vec<String> = migration.up.statements().map(String::from).collect();
    connect::execute_script(&mut conn, &statements, migration.up.transactional).await.expect("apply up");
    let rows = query_strings(&db, "SELECT tableoid::regclass::text || ':' || id FROM m ORDER BY id").await;
    assert_eq!(rows, vec!["m_a:1", "m_b:2"]);
}

/// Detaching a partition for good takes its rows out of the partitioned table: a data-loss hazard. A
/// detach followed by an attach (a changed bound) is not one.
#[tokio::test]
async fn detaching_a_partition_for_good_is_a_data_loss_hazard() {
    let parent = "CREATE TABLE m (id int, at date NOT NULL) PARTITION BY RANGE (at);";
    let partition = "CREATE TABLE m_a PARTITION OF m FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');";
    let hazard_ids = |migration: &pipeline::Migration| -> Vec<String> {
        migration.up.steps.iter().flat_map(|s| &s.hazards).map(|h| h.id.as_str().to_string()).collect()
    };
    let (_db, migration) = plan(
        "partition_detached_for_good",
        &format!("{parent} {partition}"),
        &format!("{parent} CREATE TABLE m_a (id int, at date NOT NULL);"),
    )
    .await;
    let ids = hazard_ids(&migration.expect("plan"));
    assert_eq!(ids, vec!["data-loss-partition"]);
    let (_db, migration) = plan(
        "partition_detached_and_attached",
        &format!("{parent} {partition}"),
        &format!("{parent} CREATE TABLE m_a PARTITION OF m FOR VALUES FROM ('2020-01-01') TO ('2021-02-01');"),
    )
    .await;
    let ids = hazard_ids(&migration.expect("plan"));
    assert!(!ids.contains(&"data-loss-partition".to_string()), "{ids:?}");
}

/// A changed partition key, and partitioning an existing table, are planned as rebuilds (round trips with
/// rows in tests/roundtrip.rs); retyping a column of the key in place stays an error naming it.
#[tokio::test]
async fn changing_a_partition_key_is_a_rebuild_and_retyping_its_column_an_error() {
    for (label, current, desired) in [
        (
            "partition_key_change",
            "CREATE TABLE events (id int, at date, kind text) PARTITION BY RANGE (at);",
            "CREATE TABLE events (id int, at date, kind text) PARTITION BY LIST (kind);",
        ),
        (
            "partitioning_added",
            "CREATE TABLE events (id int, at date);",
            "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);",
        ),
    ] {
        let (_db, migration) = plan(label, current, desired).await;
        let migration = migration.expect("a partition key change is planned");
        let ids: Vec<&str> = migration.up.hazards().map(|(_, h)| h.id.as_str()).collect();
        assert_eq!(ids, ["table-rebuild"], "{label}");
    }
    // The key reads the same, but PostgreSQL cannot retype the column it names.
    let (_db, migration) = plan(
        "partition_key_column_retyped",
        "CREATE TABLE events (id int, at date NOT NULL, n int) PARTITION BY RANGE (at);",
        "CREATE TABLE events (id int, at timestamptz NOT NULL, n bigint) PARTITION BY RANGE (at);",
    )
    .await;
    let err = format!("{:#}", migration.expect_err("a partition key's column cannot be retyped"));
    assert!(
        err.contains(
            "column public.events.at from date to timestamp with time zone: cannot alter column \"at\" because it \
             is part of the partition key of relation \"events\"; PostgreSQL cannot change it in place"
        ),
        "{err}"
    );
    assert!(!err.contains("public.events.n") && !err.contains("[[conversion]]"), "{err}");
}

round_trip!(
    storage_parameters_set_changed_and_reset,
    "CREATE TABLE a (id int) WITH (fillfactor = 70, autovacuum_enabled = false);
     CREATE TABLE b (id int); INSERT INTO a VALUES (1);",
    "CREATE TABLE a (id int) WITH (fillfactor = 80);
     CREATE TABLE b (id int) WITH (autovacuum_vacuum_scale_factor = 0.05);
     CREATE TABLE c (id int) WITH (fillfactor = 50);"
);

round_trip!(
    unlogged_tables_created_and_switched,
    "CREATE TABLE cache (k text PRIMARY KEY, v text); CREATE UNLOGGED TABLE scratch (id int);
     INSERT INTO cache VALUES ('a', 'b');",
    "CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v text); CREATE TABLE scratch (id int);
     CREATE UNLOGGED TABLE fresh (id int);"
);

round_trip!(
    collations_created_used_by_columns_and_dropped,
    "CREATE COLLATION old_coll (provider = icu, locale = 'de-DE');",
    r#"CREATE SCHEMA text_rules;
       CREATE COLLATION text_rules.nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
       CREATE COLLATION plain (locale = 'C');
       CREATE TABLE users (id int, email text COLLATE text_rules.nocase, name text COLLATE plain);
       CREATE DOMAIN ci_text AS text COLLATE text_rules.nocase;"#
);

/// A pinned extension version is updated in place; without a pin the version is not compared.
#[tokio::test]
async fn extension_version_updated_when_declared() {
    let (db, migration) =
        plan("extension_version", "CREATE EXTENSION hstore VERSION '1.7';", "CREATE EXTENSION hstore VERSION '1.8';")
            .await;
    let migration = migration.expect("plan");
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    assert_eq!(up, vec![r#"ALTER EXTENSION "hstore" UPDATE TO '1.8';"#.to_string()]);
    let mut conn = connect::connect(&db.url).await.expect("connect");
    connect::execute_script(&mut conn, &up, migration.up.transactional).await.expect("apply up");
    assert_eq!(query_strings(&db, "SELECT extversion FROM pg_extension WHERE extname = 'hstore'").await, vec!["1.8"]);

    let (_db, unpinned) =
        plan("extension_unpinned", "CREATE EXTENSION hstore VERSION '1.7';", "CREATE EXTENSION hstore;").await;
    assert!(unpinned.expect("plan").up.is_empty(), "an unpinned version must not be compared");
}

/// PostgreSQL updates an extension only along the scripts it ships, which never go back (pg_trgm 1.6 has
/// no path to 1.5). The down migration of an update keeps the newer version instead of asking for a
/// downgrade that cannot run, and flags it (`extension-version-kept`); an up that would need one is refused.
#[tokio::test]
async fn extension_downgrade_without_an_update_path_is_never_planned() {
    let (db, migration) = plan(
        "extension_no_downgrade",
        "CREATE EXTENSION pg_trgm VERSION '1.5'; COMMENT ON EXTENSION pg_trgm IS 'ours';",
        "CREATE EXTENSION pg_trgm VERSION '1.6'; COMMENT ON EXTENSION pg_trgm IS 'ours';",
    )
    .await;
    let migration = migration.expect("plan");
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    assert_eq!(up, vec![r#"ALTER EXTENSION "pg_trgm" UPDATE TO '1.6';"#.to_string()]);
    let down: Vec<String> = migration.down.statements().map(String::from).collect();
    assert!(down.is_empty(), "no downgrade is written: {down:?}");
    let kept: Vec<(&str, &str)> =
        migration.down.hazards().map(|(step, h)| (step.description.as_str(), h.id.as_str())).collect();
    assert_eq!(
        kept,
        [("keep extension pg_trgm at version 1.6 (no update path to version 1.5)", "extension-version-kept")]
    );
    let mut conn = connect::connect(&db.url).await.expect("connect");
    connect::execute_script(&mut conn, &up, migration.up.transactional).await.expect("apply up");
    connect::execute_script(&mut conn, &down, migration.down.transactional).await.expect("apply down");
    assert_eq!(query_strings(&db, "SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm'").await, ["1.6"]);

    let (_db, refused) = plan(
        "extension_no_downgrade_up",
        "CREATE EXTENSION pg_trgm VERSION '1.6';",
        "CREATE EXTENSION pg_trgm VERSION '1.5';",
    )
    .await;
    let error = format!("{:#}", refused.expect_err("a downgrade without a path is refused"));
    assert!(
        error.contains(
            "extension pg_trgm: the schema files pin version 1.5, which ALTER EXTENSION cannot reach from the \
             installed version 1.6 on this server"
        ),
        "{error}"
    );
}

/// An extension whose schema changes is moved (`ALTER EXTENSION … SET SCHEMA`), not dropped and created
/// again (which the columns of its types would block, or lose): its types move with it, so the columns
/// that use them are not altered.
#[tokio::test]
async fn relocatable_extension_moves_to_its_new_schema_with_the_columns_that_use_it() {
    let current = "CREATE EXTENSION citext; CREATE EXTENSION pg_trgm;
        CREATE TABLE u (id int PRIMARY KEY, email citext, emails citext[], name text);
        CREATE INDEX u_name ON u USING gin (name gin_trgm_ops);
        INSERT INTO u VALUES (1, 'Ada@Example.com', '{A@b}', 'ada');";
    let desired =
        "CREATE SCHEMA ext; CREATE EXTENSION citext WITH SCHEMA ext; CREATE EXTENSION pg_trgm WITH SCHEMA ext;
        CREATE TABLE u (id int PRIMARY KEY, email ext.citext, emails ext.citext[], name text);
        CREATE INDEX u_name ON u USING gin (name ext.gin_trgm_ops);";
    let outcome = check("extension_moves", current, desired).await;
    for sql in [&outcome.up_sql, &outcome.down_sql] {
        let text = sql.join("\n");
        assert!(text.contains(r#"ALTER EXTENSION "citext" SET SCHEMA"#), "{text}");
        assert!(!text.contains("DROP EXTENSION") && !text.contains(" TYPE "), "{text}");
    }
}

// Extension comments are compared (when they differ from the one the extension comes with).
round_trip!(
    extension_comment_set_and_removed,
    "CREATE EXTENSION hstore; CREATE EXTENSION pg_trgm; COMMENT ON EXTENSION pg_trgm IS 'trigrams, ours';",
    "CREATE EXTENSION hstore; COMMENT ON EXTENSION hstore IS 'key/value'; CREATE EXTENSION pg_trgm;"
);

/// Declared in dependency order (the reference database loads it as written)…
const ACROSS_KINDS: &str = "CREATE SCHEMA app;
     CREATE DOMAIN app.money_amount AS numeric(12,2) CONSTRAINT amount_positive CHECK (VALUE > 0);
     CREATE TYPE app.kind AS (label text, weight app.money_amount);
     CREATE TABLE app.orders (id int, placed date NOT NULL, amount app.money_amount, kind app.kind) PARTITION BY RANGE (placed);
     CREATE TABLE app.orders_2024 PARTITION OF app.orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
     CREATE VIEW app.big_orders AS SELECT id, amount FROM app.orders WHERE amount::numeric > 100;
     CREATE INDEX orders_amount ON app.orders (amount);";

round_trip!(domain_with_check_used_by_a_column_of_a_partitioned_table_and_a_view, "", ACROSS_KINDS);

/// …and in reverse order in the schema files: the declared statements are ordered by what they use.
#[tokio::test]
async fn declared_statements_across_kinds_are_ordered_by_dependency() {
    let mut reversed: Vec<&str> = ACROSS_KINDS.split(';').map(str::trim).filter(|s| !s.is_empty()).collect();
    reversed.reverse();
    let reversed = reversed.join(";\n") + ";";
    let (db, migration) = plan("across_kinds_reversed", "", &reversed).await;
    let migration = migration.expect("plan");
    let statements: Vec<String> = migration.up.statements().map(String::from).collect();
    let mut conn = connect::connect(&db.url).await.expect("connect");
    connect::execute_script(&mut conn, &statements, migration.up.transactional).await.expect("apply up");
    let server = pg_server().await.expect("PostgreSQL for tests");
    let reference = server.fresh_database("across_kinds_reference").await.expect("fresh database");
    roundtrip::load_sql(&reference.url, ACROSS_KINDS).await.expect("load reference");
    let expected = roundtrip::fingerprint(&reference.url).await.expect("fingerprint");
    let actual = roundtrip::fingerprint(&db.url).await.expect("fingerprint");
    assert!(expected == actual, "{}", roundtrip::fingerprint_diff(&expected, &actual));
}

round_trip!(
    everything_dropped_in_dependency_order,
    "CREATE SCHEMA app;
     CREATE DOMAIN app.money_amount AS numeric(12,2) CONSTRAINT amount_positive CHECK (VALUE > 0);
     CREATE TYPE app.kind AS (label text, weight app.money_amount);
     CREATE TYPE app.span AS RANGE (subtype = app.money_amount);
     CREATE TABLE app.orders (id int, placed date NOT NULL, amount app.money_amount, kind app.kind, s app.span)
       PARTITION BY RANGE (placed);
     CREATE TABLE app.orders_2024 PARTITION OF app.orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
     CREATE VIEW app.big AS SELECT id FROM app.orders WHERE amount::numeric > 100;",
    "CREATE SCHEMA app;"
);

#[tokio::test]
async fn an_inheriting_table_is_managed_and_dropped_before_its_parent() {
    let (_db, migration) = plan(
        "inheritance_managed",
        "CREATE TABLE parent (id int); CREATE TABLE child (extra int) INHERITS (parent);",
        "",
    )
    .await;
    let migration = migration.expect("plan");
    assert!(migration.unmanaged.is_empty(), "{:?}", migration.unmanaged);
    let up: Vec<&str> = migration.up.statements().collect();
    assert_eq!(up, ["DROP TABLE \"public\".\"child\";", "DROP TABLE \"public\".\"parent\";"]);
}

/// A declared rename of a partitioned table renames it in place: its partitions stay attached.
#[tokio::test]
async fn renaming_a_partitioned_table_keeps_its_partitions_attached() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let current = "CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);
                   CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
                   INSERT INTO events VALUES (1, '2024-02-02');";
    let desired = "CREATE TABLE happenings (id int, at date NOT NULL) PARTITION BY RANGE (at);
                   CREATE TABLE events_2024 PARTITION OF happenings FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');";
    let outcome = roundtrip::run_with(server, "rename_partitioned", current, desired, |settings| {
        settings.renames.tables.push((
            schema::model::QualifiedName::parse("public.events"),
            schema::model::QualifiedName::parse("public.happenings"),
        ));
    })
    .await
    .expect("round trip setup");
    outcome.assert_passed("rename_partitioned");
    let up = outcome.up_sql.join("\n");
    assert!(up.contains(r#"ALTER TABLE "public"."events" RENAME TO "happenings";"#), "{up}");
    assert!(!up.contains("DETACH") && !up.contains("DROP TABLE"), "{up}");
}
