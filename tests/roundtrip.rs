//! The round-trip property on a real PostgreSQL, for (current, desired) pairs covering every managed
//! object kind: up converges to desired, a second plan is empty, down converges back to current.

use schema::testkit::{pg_server, roundtrip};

async fn check(label: &str, current: &str, desired: &str) -> roundtrip::Outcome {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let outcome = roundtrip::run(server, label, current, desired).await.expect("round trip setup");
    assert!(
        outcome.failure.is_none(),
        "{label}: {}\n--- up:\n{}\n--- down:\n{}",
        outcome.failure.as_deref().unwrap_or(""),
        outcome.up_sql.join("\n"),
        outcome.down_sql.join("\n")
    );
    outcome
}

macro_rules! round_trip {
    ($name:ident, $current:expr, $desired:expr) => {
        #[tokio::test]
        async fn $name() {
            check(stringify!($name), $current, $desired).await;
        }
    };
}

round_trip!(create_table_from_nothing, "", "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE);");

round_trip!(
    add_drop_and_alter_columns,
    "CREATE TABLE t (id int PRIMARY KEY, a text, b int DEFAULT 1, c varchar(10));",
    "CREATE TABLE t (id int PRIMARY KEY, a text NOT NULL DEFAULT 'x', c varchar(20), d timestamptz DEFAULT now());"
);

round_trip!(
    enum_values_added_and_used_by_default,
    "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE p (id int, m mood);",
    "CREATE TYPE mood AS ENUM ('angry', 'sad', 'ok', 'happy', 'ecstatic'); CREATE TABLE p (id int, m mood DEFAULT 'ok');"
);

round_trip!(
    foreign_key_cycle,
    "",
    "CREATE TABLE a (id int PRIMARY KEY, b_id int); CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);
     ALTER TABLE a ADD CONSTRAINT a_b_fk FOREIGN KEY (b_id) REFERENCES b;"
);

round_trip!(
    view_over_column_whose_type_changes,
    "CREATE TABLE t (id int PRIMARY KEY, n int); CREATE VIEW v AS SELECT id, n FROM t; CREATE VIEW w AS SELECT n FROM v;",
    "CREATE TABLE t (id int PRIMARY KEY, n bigint); CREATE VIEW v AS SELECT id, n FROM t; CREATE VIEW w AS SELECT n FROM v;"
);
