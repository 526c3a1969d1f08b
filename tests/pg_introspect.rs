//! The introspection builds the text of plain indexes, primary keys, unique constraints and foreign keys
//! itself instead of calling pg_get_indexdef / pg_get_constraintdef for each (those cost tens of
//! microseconds per object in catalog lookups). The text must be exactly PostgreSQL's: a schema with
//! every kind of index key, option and constraint clause is introspected and each definition compared
//! with what PostgreSQL writes for the same object.

use schema::dialect::postgres::{connect, introspect};
use schema::model::PrivilegeTarget;
use schema::testkit::{pg_server, roundtrip};
use sqlx::Row;

const SCHEMA: &str = r#"
CREATE SCHEMA "Odd Schema";
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE COLLATION german (provider = libc, locale = 'C');
CREATE TABLE "Odd Schema"."Parent Table" (
    "Id" integer PRIMARY KEY,
    code text NOT NULL,
    region integer NOT NULL,
    UNIQUE (code, region),
    UNIQUE NULLS NOT DISTINCT (region)
);
CREATE TABLE items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "select" text,
    "Mixed Case" varchar(20),
    name text COLLATE "C",
    title text,
    amount numeric(10, 2),
    tags text[],
    feeling mood,
    points positive,
    data jsonb,
    period tsrange,
    created timestamptz DEFAULT now(),
    parent_id integer,
    parent_code text,
    parent_region integer,
    CONSTRAINT items_parent_fk FOREIGN KEY (parent_id) REFERENCES "Odd Schema"."Parent Table" ("Id")
        ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT items_parent_code_fk FOREIGN KEY (parent_code, parent_region)
        REFERENCES "Odd Schema"."Parent Table" (code, region) MATCH FULL ON DELETE SET NULL (parent_code),
    CONSTRAINT items_restrict_fk FOREIGN KEY (parent_id) REFERENCES "Odd Schema"."Parent Table" ON DELETE RESTRICT
        NOT VALID,
    CONSTRAINT items_default_fk FOREIGN KEY (parent_region) REFERENCES "Odd Schema"."Parent Table" ("Id")
        ON UPDATE CASCADE ON DELETE SET DEFAULT,
    CONSTRAINT items_title_key UNIQUE (title) DEFERRABLE,
    CONSTRAINT items_name_key UNIQUE (name) INCLUDE (title),
    CONSTRAINT items_amount_check CHECK (amount > 0),
    CONSTRAINT items_period_excl EXCLUDE USING gist (period WITH &&),
    CONSTRAINT items_lower_excl EXCLUDE USING btree (lower(title) WITH =)
);
CREATE INDEX items_plain ON items (parent_id);
CREATE INDEX items_select ON items ("select");
CREATE INDEX items_keyword ON items ("select", title, parent_id);
CREATE INDEX items_desc ON items (amount DESC);
CREATE INDEX items_nulls_first ON items (amount NULLS FIRST);
CREATE INDEX items_desc_nulls_last ON items (amount DESC NULLS LAST);
CREATE INDEX items_collate ON items (title COLLATE "C");
CREATE INDEX items_same_collation ON items (name COLLATE "C");
CREATE INDEX items_german ON items (title COLLATE german);
CREATE INDEX items_opclass ON items (title text_pattern_ops);
CREATE INDEX items_varchar ON items ("Mixed Case");
CREATE INDEX items_varchar_opclass ON items ("Mixed Case" varchar_pattern_ops);
CREATE INDEX items_enum ON items (feeling);
CREATE INDEX items_domain ON items (points);
CREATE INDEX items_include ON items (parent_id) INCLUDE (title, amount);
CREATE INDEX items_with ON items (created) WITH (fillfactor = 70);
CREATE INDEX items_partial ON items (parent_id) WHERE amount > 10 AND "select" IS NOT NULL;
CREATE INDEX items_partial_expression ON items (lower(title)) WHERE feeling = 'ok';
CREATE INDEX items_expression ON items (lower(title), (amount * 2));
CREATE UNIQUE INDEX items_unique ON items ("Mixed Case", parent_id);
CREATE UNIQUE INDEX items_unique_nulls ON items (title) NULLS NOT DISTINCT;
CREATE INDEX items_nulls_not_distinct ON items (amount) NULLS NOT DISTINCT;
CREATE INDEX items_hash ON items USING hash (title);
CREATE INDEX items_gin ON items USING gin (tags);
CREATE INDEX items_gin_jsonb ON items USING gin (data jsonb_path_ops);
CREATE INDEX items_gist ON items USING gist (period);
CREATE INDEX items_brin ON items USING brin (created) WITH (pages_per_range = 16);
CREATE INDEX items_brin_opclass ON items USING brin (created timestamptz_minmax_multi_ops (values_per_range = 8));
CREATE TABLE events (id integer, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_at ON events (at);
CREATE MATERIALIZED VIEW item_names AS SELECT id, title FROM items;
CREATE INDEX item_names_title ON item_names (title);
"#;

#[tokio::test]
async fn built_index_and_constraint_definitions_are_postgresqls_own() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database("built_definitions").await.expect("fresh database");
    roundtrip::load_sql(&db.url, SCHEMA).await.expect("load schema");
    let mut conn = connect::connect(&db.url).await.expect("connect");
    let catalog = introspect::introspect_live(&mut conn, &[]).await.expect("introspect");
    // As the introspection reads them: every name outside pg_catalog schema-qualified.
    sqlx::raw_sql("SET search_path TO pg_catalog").execute(&mut conn).await.expect("search_path");

    let rows = sqlx::query(
        "SELECT n.nspname::text, c.relname::text, \
                substr(pg_get_indexdef(c.oid), strpos(pg_get_indexdef(c.oid), ' USING ') + 7) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
    )
    .fetch_all(&mut conn)
    .await
    .expect("index definitions");
    let mut compared = 0;
    for row in &rows {
        let (schema, name, expected): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        let key = schema::model::QualifiedName::new(schema, name);
        if let Some(index) = catalog.indexes.get(&key) {
            assert_eq!(index.definition, expected, "definition of index {key:?}");
            compared += 1;
        }
    }
    // Every index created above (not the partition's copy, nor the constraints' own indexes).
    assert_eq!(compared, 30, "indexes compared");

    let rows = sqlx::query(
        "SELECT n.nspname::text, c.relname::text, con.conname::text, pg_get_constraintdef(con.oid) \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND con.contype <> 'n'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("constraint definitions");
    let mut compared = 0;
    for row in &rows {
        let (schema, table, name, expected): (String, String, String, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let key = schema::model::QualifiedName::new(schema, table);
        if let Some(constraint) = catalog.tables.get(&key).and_then(|t| t.constraints.get(name.as_str())) {
            assert_eq!(&*constraint.definition, expected, "definition of constraint {name} on {key:?}");
            compared += 1;
        }
    }
    assert_eq!(compared, 14, "constraints compared");
}

/// Columns are read in the catalog's physical order, not sorted by the server: a column added after
/// space was freed in pg_attribute lands on an earlier page than the table's first columns. The
/// reader must still give every table and view its columns in position order, and take the
/// privileges on columns and the column settings it does not manage from the same rows.
#[tokio::test]
async fn columns_keep_their_order_privileges_and_settings_whatever_order_the_catalog_returns_them_in() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database("column_order").await.expect("fresh database");
    let setup = r#"
        DO $$ BEGIN CREATE ROLE intro_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        CREATE TABLE filler (f1 int, f2 int, f3 int, f4 int, f5 int, f6 int, f7 int, f8 int);
        CREATE TABLE early (x int, "Y" text);
        CREATE VIEW shown AS SELECT x FROM early;
        DROP TABLE filler;
    "#;
    roundtrip::load_sql(&db.url, setup).await.expect("load schema");
    let mut conn = connect::connect(&db.url).await.expect("connect");
    sqlx::raw_sql("VACUUM pg_attribute").execute(&mut conn).await.expect("vacuum");
    let later = r#"
        ALTER TABLE early ADD COLUMN z int;
        CREATE OR REPLACE VIEW shown AS SELECT x, "Y" FROM early;
        ALTER TABLE early ALTER COLUMN "Y" SET STATISTICS 200;
        ALTER TABLE early ALTER COLUMN "Y" SET STORAGE EXTERNAL;
        GRANT SELECT (x, z), UPDATE (z) ON early TO intro_reader;
        GRANT INSERT ("Y") ON early TO intro_reader WITH GRANT OPTION;
        GRANT SELECT (x) ON shown TO PUBLIC;
        CREATE FOREIGN DATA WRAPPER intro_fdw;
        CREATE SERVER intro_server FOREIGN DATA WRAPPER intro_fdw;
        CREATE FOREIGN TABLE remote (q int) SERVER intro_server;
        GRANT SELECT (q) ON remote TO intro_reader;
    "#;
    roundtrip::load_sql(&db.url, later).await.expect("alter schema");

    // The premise: in physical order, the added columns do not come last.
    for (relation, expected) in [("early", vec!["x", "Y", "z"]), ("shown", vec!["x", "Y"])] {
        let physical: Vec<String> = sqlx::query_scalar(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 ORDER BY ctid",
        )
        .bind(relation)
        .fetch_all(&mut conn)
        .await
        .expect("physical order");
        assert_ne!(physical, expected, "{relation}: the catalog holds its columns in position order already");
    }

    // On a catalog this small the planner would read pg_attribute through its index, in position
    // order; on a large one it scans it. Scans are forced here, as a large database gets them.
    sqlx::raw_sql("SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_mergejoin = off")
        .execute(&mut conn)
        .await
        .expect("planner settings");
    let catalog = introspect::introspect_live(&mut conn, &[]).await.expect("introspect");
    let early = &catalog.tables[&schema::model::QualifiedName::new("public", "early")];
    assert_eq!(early.columns.keys().collect::<Vec<_>>(), ["x", "Y", "z"]);
    let shown = &catalog.views[&schema::model::QualifiedName::new("public", "shown")];
    assert_eq!(shown.columns, ["x", "Y"]);

    let column_grants: Vec<String> = catalog
        .grants
        .values()
        .filter_map(|grant| match &grant.key.target {
            PrivilegeTarget::Column(column) => Some(format!(
                "{} {}({}) {}{}",
                grant.key.privilege,
                column.table.name,
                column.column,
                grant.key.grantee,
                if grant.grantable { " grantable" } else { "" }
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        column_grants,
        [
            "INSERT early(Y) intro_reader grantable",
            "SELECT early(x) intro_reader",
            "SELECT early(z) intro_reader",
            "UPDATE early(z) intro_reader",
            "SELECT remote(q) intro_reader",
            "SELECT shown(x) PUBLIC",
        ]
    );
    let unmanaged: Vec<String> = catalog.unmanaged.iter().map(|o| format!("{} {}", o.kind, o.name)).collect();
    assert_eq!(
        unmanaged,
        ["column statistics target public.early.Y", "column storage public.early.Y", "foreign table public.remote"]
    );
}

/// The inspect invariant, for a database with every kind of index key and constraint clause: `schema
/// inspect` output, loaded back, is the same database, and as the declared schema it plans no change.
#[tokio::test]
async fn inspect_output_of_every_index_and_constraint_kind_plans_no_changes() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    roundtrip::check_inspect(server, "inspect_index_kinds", SCHEMA, |_| {}).await;
}

/// `schema inspect` → the output as the declared schema → `plan` against the same database: no
/// change in either direction (and the output, loaded as it is, is the same database).
macro_rules! inspect_plans_nothing {
    ($name:ident, $sql:expr) => {
        #[tokio::test]
        async fn $name() {
            let server = pg_server().await.expect("PostgreSQL for tests");
            roundtrip::check_inspect(server, stringify!($name), $sql, |_| {}).await;
        }
    };
}

inspect_plans_nothing!(
    inspect_keeps_unique_constraints_over_primary_key_columns,
    "CREATE TABLE t (id int PRIMARY KEY, code text);
     ALTER TABLE t ADD CONSTRAINT t_id_key UNIQUE (id);
     ALTER TABLE t ADD CONSTRAINT t_code_key UNIQUE (code);
     ALTER TABLE t ADD CONSTRAINT t_code_again UNIQUE (code);
     CREATE TABLE pair (a int, b int, PRIMARY KEY (a, b));
     ALTER TABLE pair ADD CONSTRAINT \"pair same key\" UNIQUE (a, b);
     ALTER TABLE pair ADD CONSTRAINT pair_reversed UNIQUE (b, a);
     CREATE TABLE span (id int, during tsrange, CONSTRAINT span_a EXCLUDE USING gist (during WITH &&));
     ALTER TABLE span ADD CONSTRAINT span_b EXCLUDE USING gist (during WITH &&);
     CREATE TABLE r (t_id int REFERENCES t (id));"
);
