//! Functions, procedures, triggers, row-level security and policies on PostgreSQL: the round-trip
//! property (up converges to desired, a second plan is empty, down converges back) for each kind and
//! for changes of each attribute, and ordering across kinds.

use schema::testkit::{pg_server, roundtrip};

async fn check(label: &str, current: &str, desired: &str) -> roundtrip::Outcome {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(&["app_reader", "app_writer"]).await.expect("roles");
    roundtrip::check(label, current, desired).await
}

/// A round trip whose declared files are written out of dependency order: the tool must order them.
async fn check_out_of_order(label: &str, current: &str, desired: &str, declared: &str) {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let outcome =
        roundtrip::run_declared(server, label, current, desired, declared, |_| {}).await.expect("round trip setup");
    outcome.assert_passed(label);
}

macro_rules! round_trip {
    ($name:ident, $current:expr, $desired:expr) => {
        #[tokio::test]
        async fn $name() {
            check(stringify!($name), $current, $desired).await;
        }
    };
}

const TOUCH: &str = "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;";

round_trip!(
    function_created_and_dropped,
    "CREATE FUNCTION old_one(a int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + 1 $$;",
    "CREATE FUNCTION add(a integer, b integer DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT a + b $$;
     CREATE PROCEDURE noop(x text) LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE '%', x; END $$;
     COMMENT ON FUNCTION add(integer, integer) IS 'adds';"
);

// A procedure is not a function to COMMENT ON FUNCTION: its comment is set, changed and removed in both
// directions.
round_trip!(
    procedure_comments_change_both_ways,
    "CREATE PROCEDURE p(x int) LANGUAGE sql AS $$ SELECT x $$; COMMENT ON PROCEDURE p(int) IS 'old';
     CREATE PROCEDURE q(x int) LANGUAGE sql AS $$ SELECT x $$;",
    "CREATE PROCEDURE p(x int) LANGUAGE sql AS $$ SELECT x $$;
     CREATE PROCEDURE q(x int) LANGUAGE sql AS $$ SELECT x $$; COMMENT ON PROCEDURE q(int) IS 'new';"
);

round_trip!(
    function_body_replaced_in_place,
    "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$; CREATE VIEW v AS SELECT f(1) AS x;",
    "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql STABLE AS $$ SELECT a * 2 $$; CREATE VIEW v AS SELECT f(1) AS x;"
);

round_trip!(
    function_result_type_change_recreates_its_users,
    "CREATE TABLE t (id int PRIMARY KEY, n int);
     CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;
     CREATE VIEW v AS SELECT id, f(n) AS x FROM t;",
    "CREATE TABLE t (id int PRIMARY KEY, n int);
     CREATE FUNCTION f(a int) RETURNS bigint LANGUAGE sql AS $$ SELECT a::bigint $$;
     CREATE VIEW v AS SELECT id, f(n) AS x FROM t;"
);

#[tokio::test]
async fn sql_function_reading_a_new_table_comes_after_it() {
    let function =
        "CREATE FUNCTION user_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM accounts';";
    let table = "CREATE TABLE accounts (id int PRIMARY KEY, n bigint DEFAULT 0);";
    let label = "sql_function_reading_a_new_table_comes_after_it";
    check_out_of_order(label, "", &format!("{table}\n{function}"), &format!("{function}\n{table}")).await;
}

#[tokio::test]
async fn functions_used_by_default_check_and_index_are_created_first() {
    let functions =
        "CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql AS $$ SELECT 'c' || floor(random() * 1000)::text $$;
     CREATE FUNCTION valid_code(c text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT c LIKE 'c%' $$;
     CREATE FUNCTION norm(c text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(c) $$;";
    let table = "CREATE TABLE items (id int PRIMARY KEY, code text DEFAULT gen_code() CHECK (valid_code(code)));
     CREATE INDEX items_norm ON items (norm(code));";
    let label = "functions_used_by_default_check_and_index_are_created_first";
    check_out_of_order(label, "", &format!("{functions}\n{table}"), &format!("{table}\n{functions}")).await;
}

round_trip!(
    sql_standard_body_depends_on_table,
    "",
    "CREATE TABLE accounts (id int PRIMARY KEY, balance numeric NOT NULL DEFAULT 0);
     CREATE FUNCTION total() RETURNS numeric LANGUAGE sql STABLE BEGIN ATOMIC SELECT sum(balance) FROM accounts; END;"
);

round_trip!(
    trigger_created_changed_disabled_and_commented,
    &format!(
        "CREATE TABLE t (id int PRIMARY KEY, updated_at timestamptz); {TOUCH}
         CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();
         CREATE TABLE u (id int PRIMARY KEY, updated_at timestamptz);
         CREATE TRIGGER t_touch BEFORE UPDATE ON u FOR EACH ROW EXECUTE FUNCTION touch();"
    ),
    &format!(
        "CREATE TABLE t (id int PRIMARY KEY, updated_at timestamptz); {TOUCH}
         CREATE TRIGGER t_touch BEFORE INSERT OR UPDATE ON t FOR EACH ROW WHEN (NEW.id > 0) EXECUTE FUNCTION touch();
         COMMENT ON TRIGGER t_touch ON t IS 'keeps updated_at';
         CREATE TABLE u (id int PRIMARY KEY, updated_at timestamptz);
         CREATE TRIGGER t_touch BEFORE UPDATE ON u FOR EACH ROW EXECUTE FUNCTION touch();
         ALTER TABLE u DISABLE TRIGGER t_touch;"
    )
);

#[tokio::test]
async fn trigger_and_its_function_created_with_the_table() {
    let trigger = "CREATE TRIGGER t_touch BEFORE UPDATE OF updated_at ON t FOR EACH ROW EXECUTE FUNCTION touch();
        ALTER TABLE t DISABLE TRIGGER t_touch;";
    let table = "CREATE TABLE t (id int PRIMARY KEY, updated_at timestamptz);";
    let label = "trigger_and_its_function_created_with_the_table";
    let desired = format!("{table}\n{TOUCH}\n{trigger}");
    check_out_of_order(label, "", &desired, &format!("{trigger}\n{table}\n{TOUCH}")).await;
}

round_trip!(
    table_with_trigger_and_function_dropped,
    &format!(
        "CREATE TABLE t (id int PRIMARY KEY, updated_at timestamptz); {TOUCH}
         CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();"
    ),
    ""
);

round_trip!(
    constraint_trigger,
    "CREATE TABLE t (id int PRIMARY KEY);",
    "CREATE TABLE t (id int PRIMARY KEY);
     CREATE FUNCTION check_t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
     CREATE CONSTRAINT TRIGGER t_check AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_t();"
);

round_trip!(
    trigger_on_column_whose_type_changes,
    &format!(
        "CREATE TABLE t (id int PRIMARY KEY, n int, updated_at timestamptz); {TOUCH}
         CREATE TRIGGER t_touch BEFORE UPDATE OF n ON t FOR EACH ROW WHEN (NEW.n > 0) EXECUTE FUNCTION touch();"
    ),
    &format!(
        "CREATE TABLE t (id int PRIMARY KEY, n bigint, updated_at timestamptz); {TOUCH}
         CREATE TRIGGER t_touch BEFORE UPDATE OF n ON t FOR EACH ROW WHEN (NEW.n > 0) EXECUTE FUNCTION touch();"
    )
);

round_trip!(
    row_level_security_and_policies,
    "CREATE TABLE docs (id int PRIMARY KEY, owner text NOT NULL);
     ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
     CREATE POLICY old_policy ON docs USING (true);",
    "CREATE TABLE docs (id int PRIMARY KEY, owner text NOT NULL);
     ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
     ALTER TABLE docs FORCE ROW LEVEL SECURITY;
     CREATE FUNCTION is_owner(o text) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT o = current_user $$;
     CREATE POLICY read_own ON docs FOR SELECT TO app_reader, app_writer USING (is_owner(owner));
     CREATE POLICY write_own ON docs AS RESTRICTIVE FOR UPDATE TO app_writer USING (is_owner(owner)) WITH CHECK (owner <> '');
     COMMENT ON POLICY read_own ON docs IS 'owners read their documents';"
);

/// New roles or expressions are set with ALTER POLICY (the policy never goes missing); a new command or
/// kind, or a clause taken away, needs a drop and a create.
#[tokio::test]
async fn policy_changes_roles_and_expressions() {
    let table =
        "CREATE TABLE docs (id int PRIMARY KEY, owner text NOT NULL); ALTER TABLE docs ENABLE ROW LEVEL SECURITY;";
    let outcome = check(
        "policy_altered",
        &format!("{table} CREATE POLICY p ON docs FOR UPDATE TO app_reader USING (owner = current_user);"),
        &format!(
            "{table} CREATE POLICY p ON docs FOR UPDATE TO app_reader, app_writer USING (owner = session_user)
             WITH CHECK (owner <> '');"
        ),
    )
    .await;
    let up = outcome.up_sql.join("\n");
    assert!(up.contains(r#"ALTER POLICY "p" ON "public"."docs" TO "app_reader", "app_writer" USING"#), "{up}");
    assert!(!up.contains("DROP POLICY"), "{up}");
    // Down takes the WITH CHECK away, which ALTER POLICY cannot do.
    assert!(outcome.down_sql.join("\n").contains("DROP POLICY"), "{:?}", outcome.down_sql);
    let outcome = check(
        "policy_command_changed",
        &format!("{table} CREATE POLICY p ON docs FOR SELECT USING (true);"),
        &format!("{table} CREATE POLICY p ON docs AS RESTRICTIVE FOR ALL USING (true);"),
    )
    .await;
    assert!(outcome.up_sql.join("\n").contains("DROP POLICY"), "{:?}", outcome.up_sql);
}

round_trip!(
    view_calls_function_that_reads_a_table_whose_column_type_changes,
    "CREATE TABLE t (id int PRIMARY KEY, n int);
     CREATE FUNCTION total() RETURNS bigint LANGUAGE sql STABLE BEGIN ATOMIC SELECT sum(n) FROM t; END;
     CREATE VIEW v AS SELECT total() AS total;",
    "CREATE TABLE t (id int PRIMARY KEY, n bigint);
     CREATE FUNCTION total() RETURNS numeric LANGUAGE sql STABLE BEGIN ATOMIC SELECT sum(n) FROM t; END;
     CREATE VIEW v AS SELECT total() AS total;"
);

round_trip!(
    privileges_on_tables_columns_sequences_schemas_and_functions,
    "CREATE SCHEMA app; CREATE TABLE app.t (id serial PRIMARY KEY, secret text, note text);
     CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
     GRANT SELECT ON app.t TO app_writer;",
    "CREATE SCHEMA app; CREATE TABLE app.t (id serial PRIMARY KEY, secret text, note text);
     CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
     GRANT USAGE ON SCHEMA app TO app_reader, app_writer;
     GRANT SELECT (id, note) ON app.t TO app_reader;
     GRANT INSERT, UPDATE ON app.t TO app_writer WITH GRANT OPTION;
     GRANT USAGE ON SEQUENCE app.t_id_seq TO app_writer;
     REVOKE EXECUTE ON FUNCTION app.f() FROM PUBLIC;
     GRANT EXECUTE ON FUNCTION app.f() TO app_reader;"
);

round_trip!(
    privileges_survive_a_view_and_function_that_are_recreated,
    "CREATE TABLE t (id int PRIMARY KEY, n int);
     CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;
     CREATE VIEW v AS SELECT id, n FROM t;
     GRANT SELECT ON v TO app_reader; GRANT EXECUTE ON FUNCTION f(int) TO app_reader;",
    "CREATE TABLE t (id int PRIMARY KEY, n bigint);
     CREATE FUNCTION f(a int) RETURNS bigint LANGUAGE sql AS $$ SELECT a::bigint $$;
     CREATE VIEW v AS SELECT id, n FROM t;
     GRANT SELECT ON v TO app_reader; GRANT EXECUTE ON FUNCTION f(int) TO app_reader;"
);

#[tokio::test]
async fn grant_on_all_tables_in_schema_waits_for_the_tables() {
    let grant = "GRANT SELECT ON ALL TABLES IN SCHEMA app TO app_reader;";
    let tables = "CREATE TABLE app.a (id int); CREATE TABLE app.b (id int);";
    let desired = format!("CREATE SCHEMA app; {tables} {grant}");
    let declared = format!("CREATE SCHEMA app; {grant} {tables}");
    check_out_of_order("grant_on_all_tables_in_schema_waits_for_the_tables", "", &desired, &declared).await;
}

/// Privileges of roles that the declared files never grant anything are not managed: they are not
/// revoked (unless the role is listed in `[privileges] roles`).
#[tokio::test]
async fn privileges_of_unmanaged_roles_are_left_alone() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(&["app_reader", "app_writer"]).await.expect("roles");
    let db = server.fresh_database("privileges_of_unmanaged_roles").await.expect("database");
    roundtrip::load_sql(&db.url, "CREATE TABLE t (id int); GRANT SELECT ON t TO app_writer;").await.expect("load");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("s.sql"), "CREATE TABLE t (id int); GRANT SELECT ON t TO app_reader;")
        .expect("write");
    let mut settings = roundtrip::settings_for(&db, dir.path());
    let migration = schema::pipeline::migration(&settings).await.expect("plan");
    let up: Vec<&str> = migration.up.statements().collect();
    assert_eq!(up, vec![r#"GRANT SELECT ON TABLE "public"."t" TO "app_reader";"#], "{up:?}");

    settings.privilege_roles = vec!["app_writer".to_string()];
    let migration = schema::pipeline::migration(&settings).await.expect("plan");
    let up: Vec<&str> = migration.up.statements().collect();
    assert!(up.contains(&r#"REVOKE SELECT ON TABLE "public"."t" FROM "app_writer";"#), "{up:?}");
    let _ = server.drop_database(&db.name).await;
}

/// The privileges of a role the declared files never mention stay as the database has them: a view and
/// a function the up drops and creates again get them back, and the down gives a dropped table its
/// privileges back with it.
#[tokio::test]
async fn privileges_of_unmanaged_roles_survive_recreation_and_down() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(&["app_reader", "app_writer"]).await.expect("roles");
    let current = "CREATE TABLE t (id int PRIMARY KEY, n int); CREATE VIEW v AS SELECT id, n FROM t;
        CREATE TABLE gone (id int, x text); GRANT SELECT, INSERT ON gone TO app_writer;
        GRANT UPDATE (x) ON gone TO app_writer; CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;
        GRANT SELECT ON v TO app_writer; GRANT EXECUTE ON FUNCTION f(int) TO app_writer;";
    let declared = "CREATE TABLE t (id int PRIMARY KEY, n bigint); CREATE VIEW v AS SELECT id, n FROM t;
        CREATE FUNCTION f(a int) RETURNS bigint LANGUAGE sql AS $$ SELECT a::bigint $$;";
    let desired =
        format!("{declared} GRANT SELECT ON v TO app_writer; GRANT EXECUTE ON FUNCTION f(int) TO app_writer;");
    let label = "unmanaged_privileges_survive";
    let outcome =
        roundtrip::run_declared(server, label, current, &desired, declared, |_| {}).await.expect("round trip setup");
    outcome.assert_passed(label);
}

/// `schema inspect` writes what it reads: its output, loaded into an empty database, gives back the
/// same functions, triggers, policies and privileges.
#[tokio::test]
async fn inspect_output_recreates_functions_triggers_policies_and_privileges() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(&["app_reader", "app_writer"]).await.expect("roles");
    let sql = format!(
        "CREATE TABLE t (id int PRIMARY KEY, owner text, updated_at timestamptz); {TOUCH}
         CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();
         ALTER TABLE t ENABLE ROW LEVEL SECURITY;
         CREATE POLICY mine ON t TO app_reader USING (owner = current_user);
         CREATE FUNCTION total() RETURNS bigint LANGUAGE sql STABLE BEGIN ATOMIC SELECT count(*) FROM t; END;
         CREATE VIEW v AS SELECT total() AS n;
         REVOKE EXECUTE ON FUNCTION total() FROM PUBLIC;
         GRANT EXECUTE ON FUNCTION total() TO app_reader;
         GRANT SELECT ON v TO app_reader; GRANT UPDATE (owner) ON t TO app_writer;
         COMMENT ON FUNCTION total() IS 'rows in t';"
    );
    roundtrip::check_inspect(server, "inspect_program", &sql, |_| {}).await;
}

/// A GRANT to a role that does not exist is an error that names the file and line; nothing is written.
#[tokio::test]
async fn grant_to_a_missing_role_is_a_located_error() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database("grant_missing_role").await.expect("database");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("s.sql"), "CREATE TABLE t (id int);\nGRANT SELECT ON t TO no_such_role;\n")
        .expect("write");
    let settings = roundtrip::settings_for(&db, dir.path());
    let error = roundtrip::planning_error(&settings, "a grant to a missing role").await;
    assert!(error.contains("s.sql:2:"), "{error}");
    assert!(error.contains("role \"no_such_role\" does not exist"), "{error}");
    let _ = server.drop_database(&db.name).await;
}

round_trip!(
    function_recreated_under_a_default_a_check_and_an_index,
    "CREATE FUNCTION norm(c text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(c) $$;
     CREATE TABLE items (id int PRIMARY KEY, code text DEFAULT norm('X') CHECK (norm(code) <> ''));
     CREATE INDEX items_norm ON items (norm(code));
     INSERT INTO items VALUES (1, 'a');",
    "CREATE FUNCTION norm(c text) RETURNS character varying LANGUAGE sql IMMUTABLE AS $$ SELECT lower(c) $$;
     CREATE TABLE items (id int PRIMARY KEY, code text DEFAULT norm('X') CHECK (norm(code) <> ''));
     CREATE INDEX items_norm ON items (norm(code));"
);

// A stored generated column that calls a function being dropped and created again is dropped and
// added again around it (computed anew), with its index, its check and a view that reads it.
round_trip!(
    function_recreated_under_a_generated_column,
    "CREATE FUNCTION norm(c text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(c) $$;
     CREATE TABLE items (id int PRIMARY KEY, code text,
                         key text GENERATED ALWAYS AS (norm(code)) STORED CONSTRAINT key_set CHECK (key <> ''));
     CREATE INDEX items_key ON items (key);
     CREATE VIEW item_keys AS SELECT id, key FROM items;
     INSERT INTO items VALUES (1, 'A');",
    "CREATE FUNCTION norm(c text) RETURNS character varying LANGUAGE sql IMMUTABLE AS $$ SELECT lower(c) $$;
     CREATE TABLE items (id int PRIMARY KEY, code text,
                         key text GENERATED ALWAYS AS (norm(code)) STORED CONSTRAINT key_set CHECK (key <> ''));
     CREATE INDEX items_key ON items (key);
     CREATE VIEW item_keys AS SELECT id, key FROM items;"
);

// A changed generation expression drops and adds the column: its unchanged index comes back.
round_trip!(
    generation_expression_change_keeps_the_index,
    "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED); CREATE INDEX t_b ON t (b);
     INSERT INTO t (a) VALUES (1);",
    "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 3) STORED); CREATE INDEX t_b ON t (b);"
);

// A function depends on a table's row type when it returns `SETOF t`, takes `t` or `t[]`, or returns
// `TABLE (… t …)`; likewise for a view's row type. It is dropped before the table or view (each function
// has a table or view of its own, so that no other dependency orders it by chance).
round_trip!(
    functions_over_row_types_are_dropped_before_their_table_and_view,
    "CREATE TABLE t1 (id int PRIMARY KEY, n int); INSERT INTO t1 VALUES (1, 2);
     CREATE TABLE t2 (n int); CREATE TABLE t3 (n int); CREATE TABLE t4 (n int); CREATE TABLE t5 (n int);
     CREATE VIEW v AS SELECT n FROM t5;
     CREATE FUNCTION all_t() RETURNS SETOF t1 LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY SELECT * FROM t1; END $$;
     CREATE FUNCTION n_of(r t2) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN r.n; END $$;
     CREATE FUNCTION count_of(rs t3[]) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN cardinality(rs); END $$;
     CREATE FUNCTION rows_of() RETURNS TABLE (a t4, b int) LANGUAGE plpgsql AS $$ BEGIN RETURN; END $$;
     CREATE FUNCTION all_v() RETURNS SETOF v LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY SELECT * FROM v; END $$;",
    "CREATE TABLE kept (id int);"
);

// A table replaced by a composite type of the same name: the function returning it is dropped with
// the table and created again over the type (its text is the same, the type it means is not).
round_trip!(
    function_over_a_table_replaced_by_a_type_of_its_name_is_recreated,
    "CREATE TABLE t (id int PRIMARY KEY, n int); INSERT INTO t VALUES (1, 2);
     CREATE FUNCTION f() RETURNS SETOF t LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY SELECT * FROM t; END $$;",
    "CREATE TYPE t AS (id int, n int);
     CREATE FUNCTION f() RETURNS SETOF t LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY SELECT 1, 2; END $$;"
);

// An enum type rebuilt (a value removed) and a domain created again (its base type changes): the
// functions and views that use them are dropped first and created again after.
round_trip!(
    functions_and_views_using_a_rebuilt_enum_or_recreated_domain_are_recreated,
    "CREATE TYPE e AS ENUM ('a', 'b', 'c'); CREATE TABLE t (x e); INSERT INTO t VALUES ('a'), ('c');
     CREATE FUNCTION echo(v e) RETURNS e LANGUAGE sql AS $$ SELECT v $$; CREATE VIEW w AS SELECT 'a'::e AS k;
     CREATE DOMAIN d AS int CHECK (VALUE > 0);
     CREATE FUNCTION plus(v d) RETURNS int LANGUAGE sql AS $$ SELECT v + 1 $$;",
    "CREATE TYPE e AS ENUM ('c', 'a'); CREATE TABLE t (x e);
     CREATE FUNCTION echo(v e) RETURNS e LANGUAGE sql AS $$ SELECT v $$; CREATE VIEW w AS SELECT 'a'::e AS k;
     CREATE DOMAIN d AS bigint CHECK (VALUE > 0);
     CREATE FUNCTION plus(v d) RETURNS bigint LANGUAGE sql AS $$ SELECT v + 1 $$;"
);

// A SQL-standard body records what it reads: a view it reads that is created again, or a table it
// reads that becomes a view, takes the function with it; so does a policy whose subquery reads one.
round_trip!(
    functions_and_policies_over_recreated_relations_are_recreated,
    "CREATE TABLE x (id int); CREATE VIEW v AS SELECT id FROM x; CREATE TABLE u (id int);
     INSERT INTO x VALUES (1); INSERT INTO u VALUES (1);
     CREATE FUNCTION count_v() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM v; END;
     CREATE FUNCTION count_u() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(id) FROM u; END;
     CREATE TABLE t (id int); ALTER TABLE t ENABLE ROW LEVEL SECURITY;
     CREATE POLICY p ON t USING (id IN (SELECT id FROM u));",
    "CREATE TABLE x (id int, n int); CREATE VIEW v AS SELECT id, n FROM x; CREATE VIEW u AS SELECT id FROM x;
     CREATE FUNCTION count_v() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM v; END;
     CREATE FUNCTION count_u() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(id) FROM u; END;
     CREATE TABLE t (id int); ALTER TABLE t ENABLE ROW LEVEL SECURITY;
     CREATE POLICY p ON t USING (id IN (SELECT id FROM u));"
);

/// A `LANGUAGE sql` body in a string is checked when the function is created, but PostgreSQL records
/// nothing of what it calls: the callee comes first, found in the body among the overloads created before
/// the caller (an overload created later may call the caller back), or, for a body the parser cannot read
/// (`ROWS FROM`), among the earlier functions whose names it contains; a set-returning function in FROM
/// is a call too. Both ways: up creates the declared
/// functions (written callers first), down creates them again from the live database.
#[tokio::test]
async fn sql_functions_are_created_after_the_functions_their_bodies_call() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let callees = "CREATE FUNCTION b(t text) RETURNS int LANGUAGE sql AS $$ SELECT length(t) $$;
        CREATE FUNCTION z(i int) RETURNS SETOF int LANGUAGE sql AS $$ SELECT i $$;";
    let caller = "CREATE FUNCTION a(i int) RETURNS int LANGUAGE sql AS $$ SELECT public.b(i::text) $$;";
    let calls_back = "CREATE FUNCTION b(i int) RETURNS int LANGUAGE sql AS $$ SELECT a(i) $$;";
    // The parser reads neither this body nor CREATE PROCEDURE: declared after what they call.
    let unparsed =
        "CREATE FUNCTION a_rows() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM ROWS FROM (z(1)) $$;
        CREATE PROCEDURE a_proc() LANGUAGE sql AS $$ SELECT count(*) FROM z(b(1)) $$;";
    let desired = format!("{callees}\n{caller}\n{calls_back}\n{unparsed}");
    let declared = format!("{caller}\n{callees}\n{calls_back}\n{unparsed}");
    for (label, current, desired, declared) in
        [("sql_calls_up", "", desired.as_str(), declared.as_str()), ("sql_calls_down", desired.as_str(), "", "")]
    {
        let outcome =
            roundtrip::run_declared(server, label, current, desired, declared, |_| {}).await.expect("round trip setup");
        outcome.assert_passed(label);
    }
}

// What PostgreSQL records as depending on a function, besides views, triggers, policies and column
// expressions: a domain's default, a range type's subtype_diff, an exclusion constraint's expression (a
// dependency of its index). Dropped before the function, created after it.
round_trip!(
    domains_ranges_and_exclusion_constraints_follow_their_functions,
    "",
    "CREATE EXTENSION btree_gist;
     CREATE FUNCTION one() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;
     CREATE DOMAIN d AS int DEFAULT one();
     CREATE FUNCTION fdiff(a float8, b float8) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$ SELECT a - b $$;
     CREATE TYPE fr AS RANGE (subtype = float8, subtype_diff = fdiff);
     CREATE FUNCTION slot(i int) RETURNS int4range LANGUAGE sql IMMUTABLE AS $$ SELECT int4range(i, i + 1) $$;
     CREATE TABLE t (id int, EXCLUDE USING gist (slot(id) WITH &&));"
);

// A trigger's WHEN condition that calls a function being dropped and created again (its argument is
// renamed) takes the trigger along: dropped before the function, created again after.
round_trip!(
    trigger_whose_condition_calls_a_recreated_function_is_recreated,
    &format!(
        "CREATE TABLE t (id int, updated_at timestamptz); {TOUCH}
         CREATE FUNCTION ok(i int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT i > 0 $$;
         CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW WHEN (ok(NEW.id)) EXECUTE FUNCTION touch();"
    ),
    &format!(
        "CREATE TABLE t (id int, updated_at timestamptz); {TOUCH}
         CREATE FUNCTION ok(j int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT j > 0 $$;
         CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW WHEN (ok(NEW.id)) EXECUTE FUNCTION touch();"
    )
);

// A function whose argument is renamed is dropped and created again (PostgreSQL cannot rename it in
// place), and the new one takes the old one's place among overloads: the old one goes first. What calls
// it lets go of it and takes up the new one: a column default, a check, an index, an exclusion
// constraint, a stored generated column, a domain's check and default.
round_trip!(
    users_of_a_function_whose_argument_is_renamed_move_to_the_new_one,
    "CREATE EXTENSION btree_gist;
     CREATE FUNCTION norm(c text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(c) $$;
     CREATE DOMAIN code AS text DEFAULT norm('X') CONSTRAINT code_norm CHECK (norm(VALUE) <> '');
     CREATE TABLE items (id int PRIMARY KEY, c code, t text DEFAULT norm('Y') CHECK (norm(t) <> ''),
                         k text GENERATED ALWAYS AS (norm(t)) STORED,
                         EXCLUDE USING gist (norm(t) WITH =));
     CREATE INDEX items_norm ON items (norm(t));
     INSERT INTO items (id, c, t) VALUES (1, 'a', 'b');",
    "CREATE EXTENSION btree_gist;
     CREATE FUNCTION norm(input text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(input) $$;
     CREATE DOMAIN code AS text DEFAULT norm('X') CONSTRAINT code_norm CHECK (norm(VALUE) <> '');
     CREATE TABLE items (id int PRIMARY KEY, c code, t text DEFAULT norm('Y') CHECK (norm(t) <> ''),
                         k text GENERATED ALWAYS AS (norm(t)) STORED,
                         EXCLUDE USING gist (norm(t) WITH =));
     CREATE INDEX items_norm ON items (norm(t));"
);

// A policy reads columns, of its table and of others (PostgreSQL then refuses to change their type): a
// type change takes the policy along, dropped before and created again after.
round_trip!(
    policies_over_columns_whose_type_changes_are_recreated,
    "CREATE TABLE u (id int, n int); INSERT INTO u VALUES (1, 1);
     CREATE TABLE t (id int, owner varchar(10)); ALTER TABLE t ENABLE ROW LEVEL SECURITY;
     CREATE POLICY mine ON t USING (owner = current_user);
     CREATE POLICY listed ON t USING (id IN (SELECT n FROM u));",
    "CREATE TABLE u (id int, n bigint);
     CREATE TABLE t (id int, owner text); ALTER TABLE t ENABLE ROW LEVEL SECURITY;
     CREATE POLICY mine ON t USING (owner = current_user);
     CREATE POLICY listed ON t USING (id IN (SELECT n FROM u));"
);

const AGGREGATE_SUPPORT: &str = "CREATE TABLE m (id int PRIMARY KEY, v numeric, w float8);
     CREATE FUNCTION add2(numeric, numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
     CREATE FUNCTION arr_app(float8[], float8) RETURNS float8[] LANGUAGE sql IMMUTABLE AS 'SELECT $1 || $2';
     CREATE FUNCTION arr_first(float8[], float8, float8) RETURNS float8 LANGUAGE sql IMMUTABLE AS 'SELECT $1[1] * $2';";

// Aggregates are managed: created after their support functions and before the views that use them,
// and dropped the other way round (the down drops the view, then the aggregate, then the functions).
#[tokio::test]
async fn aggregates_created_and_dropped_with_the_views_that_use_them() {
    let desired = format!(
        "{AGGREGATE_SUPPORT}
         CREATE SCHEMA stats;
         CREATE AGGREGATE stats.\"Total\"(numeric) (SFUNC = add2, STYPE = numeric, INITCOND = '0', PARALLEL = SAFE);
         CREATE AGGREGATE first_times(float8 ORDER BY float8) (SFUNC = arr_app, STYPE = float8[], FINALFUNC = arr_first,
             FINALFUNC_EXTRA, INITCOND = '{{}}');
         CREATE AGGREGATE counted(*) (SFUNC = int8inc, STYPE = bigint, INITCOND = '0');
         CREATE VIEW totals AS SELECT stats.\"Total\"(v) AS total, first_times(2) WITHIN GROUP (ORDER BY w) AS ft,
             counted(*) AS n FROM m;
         COMMENT ON AGGREGATE counted(*) IS 'rows';
         REVOKE EXECUTE ON FUNCTION first_times(float8, float8) FROM PUBLIC;
         GRANT EXECUTE ON FUNCTION first_times(float8, float8) TO app_reader;"
    );
    let current =
        "CREATE TABLE m (id int PRIMARY KEY, v numeric, w float8); INSERT INTO m VALUES (1, 2, 3), (2, 5, 7);";
    check("aggregates_created_and_dropped", current, &desired).await;
}

// A changed option of an aggregate is CREATE OR REPLACE AGGREGATE: the view that uses it stays.
#[tokio::test]
async fn aggregate_options_replaced_in_place() {
    let current = format!(
        "{AGGREGATE_SUPPORT}
         CREATE AGGREGATE total(numeric) (SFUNC = add2, STYPE = numeric, INITCOND = '0');
         CREATE VIEW totals AS SELECT total(v) FROM m;
         INSERT INTO m VALUES (1, 2, 3), (2, 5, 7);"
    );
    let desired = format!(
        "{AGGREGATE_SUPPORT}
         CREATE AGGREGATE total(numeric) (SFUNC = add2, STYPE = numeric, INITCOND = '100', PARALLEL = SAFE);
         CREATE VIEW totals AS SELECT total(v) FROM m;"
    );
    let outcome = check("aggregate_options_replaced", &current, &desired).await;
    assert!(outcome.up_sql.iter().all(|s| !s.starts_with("DROP")), "{:?}", outcome.up_sql);
}

// A new result type cannot be replaced in place: the aggregate and the view that uses it are dropped and
// created again; so is an aggregate whose support function is dropped and created again.
#[tokio::test]
async fn aggregate_result_type_change_recreates_it_and_its_views() {
    let current = format!(
        "{AGGREGATE_SUPPORT}
         CREATE AGGREGATE total(numeric) (SFUNC = add2, STYPE = numeric, INITCOND = '0');
         CREATE FUNCTION bump(bigint, numeric) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 1';
         CREATE AGGREGATE tally(numeric) (SFUNC = bump, STYPE = bigint, INITCOND = '0');
         CREATE VIEW totals AS SELECT total(v), tally(v) FROM m;
         INSERT INTO m VALUES (1, 2, 3), (2, 5, 7);"
    );
    let desired = format!(
        "{AGGREGATE_SUPPORT}
         CREATE FUNCTION as_text(numeric) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT $1::text';
         CREATE AGGREGATE total(numeric) (SFUNC = add2, STYPE = numeric, FINALFUNC = as_text, INITCOND = '0');
         CREATE FUNCTION bump(state bigint, value numeric) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 2';
         CREATE AGGREGATE tally(numeric) (SFUNC = bump, STYPE = bigint, INITCOND = '0');
         CREATE VIEW totals AS SELECT total(v), tally(v) FROM m;"
    );
    check("aggregate_result_type_change", &current, &desired).await;
}

// PostgreSQL refuses to retype or drop a column that a policy reads: the policy is dropped first and
// created again after the change.
round_trip!(
    policy_over_a_retyped_or_dropped_column_is_recreated_around_it,
    "CREATE TABLE t (id int, owner varchar(20), team int, tenant int);
     ALTER TABLE t ENABLE ROW LEVEL SECURITY;
     CREATE POLICY mine ON t USING (owner = current_user);
     CREATE POLICY team ON t FOR SELECT USING (team > 0 AND tenant = 1);
     INSERT INTO t VALUES (1, 'ada', 1, 1);",
    "CREATE TABLE t (id int, owner text, team int);
     ALTER TABLE t ENABLE ROW LEVEL SECURITY;
     CREATE POLICY mine ON t USING (owner = current_user);
     CREATE POLICY team ON t FOR SELECT USING (team > 0);"
);
