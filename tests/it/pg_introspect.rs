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
            server.ensure_roles(&["inspect_reader"]).await.expect("roles");
            roundtrip::check_inspect(server, stringify!($name), $sql, |_| {}).await;
        }
    };
}

inspect_plans_nothing!(
    inspect_writes_inheritance_and_replica_identity,
    concat!(
        include_str!("../fixtures/inheritance_desired.sql"),
        include_str!("../fixtures/replica_identity_desired.sql")
    )
);

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

// NOT VALID inside CREATE TABLE is ignored by PostgreSQL: the constraint is added apart.
inspect_plans_nothing!(
    inspect_keeps_constraints_not_valid,
    "CREATE TABLE p (id int PRIMARY KEY);
     CREATE TABLE c (id int, p_id int, n int);
     ALTER TABLE c ADD CONSTRAINT c_n_check CHECK (n > 0) NOT VALID;
     ALTER TABLE c ADD CONSTRAINT c_p_fk FOREIGN KEY (p_id) REFERENCES p NOT VALID;
     CREATE TABLE d (x int CHECK (x > 1) NO INHERIT);"
);

inspect_plans_nothing!(
    inspect_of_quoted_names_types_sequences_partitions_and_comments,
    r#"CREATE SCHEMA "My Schema";
    CREATE EXTENSION pg_trgm;
    CREATE EXTENSION citext WITH SCHEMA "My Schema";
    CREATE TYPE "My Schema"."Mood ""x""" AS ENUM ('it''s', 'a"b', 'plain');
    CREATE DOMAIN "My Schema".pos AS integer DEFAULT 1 NOT NULL CONSTRAINT pos_check CHECK (VALUE > 0);
    CREATE TYPE pair AS (a int, "B c" text);
    CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
    CREATE SEQUENCE "odd seq" START 5 INCREMENT 2;
    CREATE COLLATION "My Schema".mycoll (provider = libc, locale = 'C');
    CREATE TABLE "My Schema"."Order Items" (
      "Id" bigserial PRIMARY KEY,
      "a""b" text DEFAULT 'x''y' NOT NULL,
      mood "My Schema"."Mood ""x""" DEFAULT 'it''s',
      p "My Schema".pos,
      email "My Schema".citext,
      n int DEFAULT nextval('"odd seq"'),
      g int GENERATED ALWAYS AS (n * 2) STORED,
      idn int GENERATED BY DEFAULT AS IDENTITY (START WITH 10 INCREMENT BY 5),
      pr pair,
      r floatrange,
      t text COLLATE "My Schema".mycoll,
      CONSTRAINT "check me" CHECK (length("a""b") > 0)
    );
    ALTER TABLE "My Schema"."Order Items" ADD CONSTRAINT "uniq ""email""" UNIQUE (email);
    CREATE INDEX "trgm idx" ON "My Schema"."Order Items" USING gin ("a""b" gin_trgm_ops);
    CREATE UNLOGGED TABLE scratchpad (x int) WITH (fillfactor = 50);
    COMMENT ON TABLE "My Schema"."Order Items" IS 'it''s a table';
    COMMENT ON COLUMN "My Schema"."Order Items"."a""b" IS 'col';
    COMMENT ON CONSTRAINT "check me" ON "My Schema"."Order Items" IS 'c';
    COMMENT ON INDEX "My Schema"."trgm idx" IS 'i';
    COMMENT ON SEQUENCE "odd seq" IS 's';
    COMMENT ON TYPE pair IS 'p';
    COMMENT ON DOMAIN "My Schema".pos IS 'd';
    CREATE VIEW "My Schema"."Items View" AS SELECT "Id", "a""b" FROM "My Schema"."Order Items" WHERE mood <> 'plain';
    COMMENT ON VIEW "My Schema"."Items View" IS 'v';
    COMMENT ON COLUMN "My Schema"."Items View"."Id" IS 'vc';
    CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM "My Schema"."Items View";
    CREATE INDEX mv_n ON mv (n);
    CREATE VIEW vv AS SELECT * FROM mv;
    CREATE TABLE parent (id int, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE parent_2026 PARTITION OF parent FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
        PARTITION BY LIST (id);
    CREATE TABLE parent_2026_1 PARTITION OF parent_2026 FOR VALUES IN (1);
    CREATE TABLE parent_def PARTITION OF parent DEFAULT;"#
);

// Functions created before `ALTER DEFAULT PRIVILEGES … REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC` keep
// EXECUTE for PUBLIC: the output, which sets the default privileges first, grants it back explicitly.
// A function with a `BEGIN ATOMIC` body and a procedure, which the parser cannot read, still come before
// the view and the privileges that name them.
inspect_plans_nothing!(
    inspect_of_routines_triggers_policies_and_privileges_made_before_default_privileges,
    "CREATE SCHEMA app;
     CREATE TABLE app.accounts (id int PRIMARY KEY, owner text, balance numeric(12,2) DEFAULT 0, updated timestamptz);
     CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := now(); RETURN NEW; END $$;
     CREATE TRIGGER \"touch me\" BEFORE UPDATE ON app.accounts FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
         EXECUTE FUNCTION app.touch();
     CREATE CONSTRAINT TRIGGER ct AFTER INSERT ON app.accounts DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
         EXECUTE FUNCTION app.touch();
     ALTER TABLE app.accounts DISABLE TRIGGER ct;
     COMMENT ON TRIGGER \"touch me\" ON app.accounts IS 'trg';
     ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;
     ALTER TABLE app.accounts FORCE ROW LEVEL SECURITY;
     CREATE POLICY \"own rows\" ON app.accounts AS RESTRICTIVE FOR UPDATE TO inspect_reader
         USING (owner = current_user) WITH CHECK (balance >= 0);
     COMMENT ON POLICY \"own rows\" ON app.accounts IS 'pol';
     CREATE FUNCTION app.total(p_owner text DEFAULT 'x') RETURNS numeric LANGUAGE sql STABLE
         BEGIN ATOMIC SELECT sum(balance) FROM app.accounts WHERE owner = p_owner; END;
     CREATE FUNCTION app.setof_accounts() RETURNS SETOF app.accounts LANGUAGE sql AS 'SELECT * FROM app.accounts';
     CREATE FUNCTION app.tbl(x int) RETURNS TABLE(a int, b text) LANGUAGE sql AS $$ SELECT x, 'b' $$;
     CREATE PROCEDURE app.proc(INOUT x int) LANGUAGE plpgsql AS $$ BEGIN x := x + 1; END $$;
     CREATE FUNCTION app.vari(VARIADIC xs int[]) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
         AS 'SELECT array_length(xs, 1)';
     CREATE FUNCTION app.secdef() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = app, pg_temp COST 10
         AS 'SELECT 1';
     CREATE VIEW app.summary WITH (security_barrier) AS
         SELECT owner, app.total(owner) AS t FROM app.accounts GROUP BY owner;
     CREATE VIEW app.checked AS SELECT * FROM app.accounts WHERE balance > 0 WITH CASCADED CHECK OPTION;
     CREATE RECURSIVE VIEW app.nums (n) AS SELECT 1 UNION ALL SELECT n + 1 FROM nums WHERE n < 5;
     GRANT USAGE ON SCHEMA app TO inspect_reader;
     GRANT SELECT ON app.summary TO inspect_reader WITH GRANT OPTION;
     GRANT SELECT (id, owner), UPDATE (owner) ON app.accounts TO inspect_reader;
     REVOKE EXECUTE ON FUNCTION app.secdef() FROM PUBLIC;
     GRANT EXECUTE ON FUNCTION app.secdef() TO inspect_reader;
     GRANT EXECUTE ON PROCEDURE app.proc(int) TO inspect_reader;
     ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO inspect_reader;
     ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
     CREATE SEQUENCE app.s OWNED BY app.accounts.id;
     GRANT USAGE ON SEQUENCE app.s TO inspect_reader;"
);

// Aggregates (ordinary, ordered-set, without arguments, moving, with a sort operator) that a view
// uses, with their comments and privileges: managed, so the output creates them before the view.
inspect_plans_nothing!(
    inspect_of_aggregates_used_by_a_view,
    r#"CREATE SCHEMA stats;
    CREATE TABLE t (id int PRIMARY KEY, v numeric, w float8);
    CREATE FUNCTION stats.add2(numeric, numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
    CREATE FUNCTION stats.fin(numeric) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT $1::text || ''!''';
    CREATE AGGREGATE stats."My Sum"(numeric) (SFUNC = stats.add2, STYPE = numeric, INITCOND = '0');
    CREATE AGGREGATE stats.sumtext(numeric) (SFUNC = stats.add2, STYPE = numeric, FINALFUNC = stats.fin,
        INITCOND = '1', PARALLEL = SAFE);
    CREATE AGGREGATE counted(*) (SFUNC = int8inc, STYPE = bigint, INITCOND = '0');
    CREATE FUNCTION arr_app(float8[], float8) RETURNS float8[] LANGUAGE sql IMMUTABLE AS 'SELECT $1 || $2';
    CREATE FUNCTION arr_first(float8[], float8, float8) RETURNS float8 LANGUAGE sql IMMUTABLE AS 'SELECT $1[1] * $2';
    CREATE AGGREGATE first_times(float8 ORDER BY float8) (SFUNC = arr_app, STYPE = float8[], FINALFUNC = arr_first,
        FINALFUNC_EXTRA, INITCOND = '{}');
    CREATE FUNCTION minus(numeric, numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT $1 - $2';
    CREATE AGGREGATE moving(numeric) (SFUNC = stats.add2, STYPE = numeric, INITCOND = '0', MSFUNC = stats.add2,
        MINVFUNC = minus, MSTYPE = numeric, MINITCOND = '0');
    CREATE FUNCTION bigger(float8, float8) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT AS 'SELECT greatest($1, $2)';
    CREATE AGGREGATE biggest(float8) (SFUNC = bigger, STYPE = float8, SORTOP = >, COMBINEFUNC = bigger);
    CREATE VIEW v AS SELECT stats."My Sum"(v) AS s, stats.sumtext(v) AS st, counted(*) AS c,
        first_times(2.0) WITHIN GROUP (ORDER BY w) AS ft, moving(v) OVER (ORDER BY id ROWS 2 PRECEDING) AS m,
        biggest(w) AS b FROM t GROUP BY id, v, w;
    COMMENT ON AGGREGATE counted(*) IS 'counts';
    COMMENT ON AGGREGATE first_times(float8 ORDER BY float8) IS 'ordered';
    REVOKE EXECUTE ON FUNCTION first_times(float8, float8) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION first_times(float8, float8) TO inspect_reader;
    REVOKE EXECUTE ON FUNCTION counted() FROM PUBLIC;"#
);

/// Kinds the tool does not manage that views, indexes and checks can use are reported, never ignored
/// silently (a view over an unreported operator makes `inspect` output that does not load back);
/// what extensions and managed types bring with them is not.
#[tokio::test]
async fn unmanaged_kinds_that_views_and_indexes_can_use_are_reported() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database("unmanaged_usable_kinds").await.expect("fresh database");
    let setup = "
        CREATE EXTENSION citext; CREATE EXTENSION btree_gist; CREATE EXTENSION unaccent;
        CREATE TYPE floats AS RANGE (subtype = float8);
        CREATE TYPE mood AS ENUM ('a', 'b');
        CREATE FUNCTION close_to(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT abs($1 - $2) < 3';
        CREATE OPERATOR === (FUNCTION = close_to, LEFTARG = int, RIGHTARG = int);
        CREATE OPERATOR CLASS close_ops FOR TYPE int USING hash AS OPERATOR 1 ===, FUNCTION 1 hashint4(int);
        CREATE TEXT SEARCH CONFIGURATION plain_cfg (COPY = simple);
        CREATE TEXT SEARCH DICTIONARY plain_dict (TEMPLATE = simple);
        CREATE FUNCTION mood_rank(mood) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
        CREATE CAST (mood AS int) WITH FUNCTION mood_rank(mood);
        CREATE TYPE later;
        CREATE TABLE t (id int PRIMARY KEY, a int, b text);
        CREATE VIEW near AS SELECT id, to_tsvector('plain_cfg', b) AS words FROM t WHERE a === 5;";
    roundtrip::load_sql(&db.url, setup).await.expect("load schema");
    let mut conn = connect::connect(&db.url).await.expect("connect");
    let catalog = introspect::introspect_live(&mut conn, &[]).await.expect("introspect");
    let unmanaged: Vec<String> = catalog.unmanaged.iter().map(|o| format!("{} {}", o.kind, o.name)).collect();
    assert_eq!(
        unmanaged,
        [
            "cast (public.mood AS integer)",
            "operator public.===(integer, integer)",
            "operator class public.close_ops USING hash",
            "operator family public.close_ops USING hash",
            "text search configuration public.plain_cfg",
            "text search dictionary public.plain_dict",
            "type public.later",
        ]
    );
    // Declared, such an object is an error that names it and where it is.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("s.sql"), "CREATE TEXT SEARCH CONFIGURATION plain_cfg (COPY = simple);")
        .expect("write");
    let error =
        roundtrip::planning_error(&roundtrip::settings_for(&db, dir.path()), "a text search configuration").await;
    assert!(error.contains("s.sql:1:1: CREATE TEXT is not managed"), "{error}");
}
