//! Default privileges (`ALTER DEFAULT PRIVILEGES`) and ownership on PostgreSQL: the round-trip property
//! (up converges to desired, a second plan is empty, down converges back) and the rules around them.

use schema::testkit::{pg_server, roundtrip};

const ROLES: &[&str] = &["app_reader", "app_writer", "app_owner"];

async fn check_with(label: &str, current: &str, desired: &str, manage_owners: bool) {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(ROLES).await.expect("roles");
    let outcome = roundtrip::run_with(server, label, current, desired, |s| s.manage_owners = manage_owners)
        .await
        .expect("round trip setup");
    outcome.assert_passed(label);
}

macro_rules! round_trip {
    ($name:ident, $current:expr, $desired:expr) => {
        #[tokio::test]
        async fn $name() {
            check_with(stringify!($name), $current, $desired, false).await;
        }
    };
}

round_trip!(
    default_privileges_created,
    "CREATE SCHEMA app;",
    "CREATE SCHEMA app;
     ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT, INSERT ON TABLES TO app_reader;
     ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO app_writer WITH GRANT OPTION;
     ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
     ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO app_reader;
     ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC;"
);

// Default privileges apply to every declared object, as the declared files are loaded after them:
// a default privilege on schemas is also granted on the declared schemas that exist already.
round_trip!(
    default_privileges_apply_to_declared_objects_that_exist,
    "CREATE SCHEMA app; CREATE TABLE app.t (id int);",
    "ALTER DEFAULT PRIVILEGES GRANT CREATE ON SCHEMAS TO app_writer; CREATE SCHEMA app;
     ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO app_reader; CREATE TABLE app.t (id int);"
);

round_trip!(
    default_privileges_changed,
    "CREATE SCHEMA app;
     ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO app_reader WITH GRANT OPTION;
     ALTER DEFAULT PRIVILEGES GRANT UPDATE ON TABLES TO app_writer;
     ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
    "CREATE SCHEMA app;
     ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT, DELETE ON TABLES TO app_reader;
     ALTER DEFAULT PRIVILEGES GRANT INSERT ON TABLES TO app_writer;"
);

// Objects the migration creates get the default privileges in force: where the declared schema
// revoked one of them on an object, the revoke follows the creation.
round_trip!(
    new_objects_keep_only_the_declared_privileges,
    "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO app_reader;
     ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO app_reader;",
    "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO app_reader;
     ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO app_reader;
     ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO app_writer;
     CREATE TABLE t (id int); CREATE TABLE secret (id int); REVOKE SELECT ON secret FROM app_reader;
     CREATE VIEW v AS SELECT id FROM t; REVOKE SELECT ON v FROM app_reader;
     CREATE SEQUENCE s; REVOKE USAGE ON SEQUENCE s FROM app_reader;
     CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; REVOKE EXECUTE ON FUNCTION f() FROM app_writer;"
);

/// Default privileges apply to objects created after them: the declared files may write them anywhere.
#[tokio::test]
async fn default_privileges_load_before_the_objects_they_apply_to() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(ROLES).await.expect("roles");
    let privileges = "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO app_reader;";
    let objects = "CREATE TABLE app.a (id int); CREATE VIEW app.v AS SELECT id FROM app.a;";
    let desired = format!("CREATE SCHEMA app; {privileges} {objects}");
    let declared = format!("{objects}\n{privileges}\nCREATE SCHEMA app;");
    let label = "default_privileges_load_before_the_objects";
    let outcome = roundtrip::run_declared(server, label, "", &desired, &declared, |_| {}).await.expect("setup");
    outcome.assert_passed(label);
}

round_trip!(
    default_privileges_of_a_dropped_schema_go_with_it,
    "CREATE SCHEMA old; ALTER DEFAULT PRIVILEGES IN SCHEMA old GRANT SELECT ON TABLES TO app_reader;",
    "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO app_reader;"
);

const OWNED: &str = "CREATE SCHEMA app AUTHORIZATION app_owner;
     CREATE TABLE app.t (id int GENERATED ALWAYS AS IDENTITY, n serial); ALTER TABLE app.t OWNER TO app_owner;
     CREATE VIEW app.v AS SELECT id FROM app.t; ALTER VIEW app.v OWNER TO app_owner;
     CREATE MATERIALIZED VIEW app.m AS SELECT 1 AS x; ALTER MATERIALIZED VIEW app.m OWNER TO app_owner;
     CREATE SEQUENCE app.s; ALTER SEQUENCE app.s OWNER TO app_owner;
     CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; ALTER FUNCTION app.f() OWNER TO app_owner;
     CREATE PROCEDURE app.p() LANGUAGE sql AS $$ SELECT 1 $$; ALTER PROCEDURE app.p() OWNER TO app_owner;
     CREATE AGGREGATE app.counted(*) (SFUNC = int8inc, STYPE = bigint, INITCOND = '0');
     ALTER AGGREGATE app.counted(*) OWNER TO app_owner;
     CREATE AGGREGATE app.firsts(float8 ORDER BY float8) (SFUNC = array_append, STYPE = float8[], INITCOND = '{}');
     ALTER AGGREGATE app.firsts(float8 ORDER BY float8) OWNER TO app_owner;
     CREATE TYPE app.mood AS ENUM ('a'); ALTER TYPE app.mood OWNER TO app_owner;
     CREATE TYPE app.pair AS (a int, b int); ALTER TYPE app.pair OWNER TO app_owner;
     CREATE DOMAIN app.positive AS int CHECK (VALUE > 0); ALTER DOMAIN app.positive OWNER TO app_owner;";

const UNOWNED: &str = "CREATE SCHEMA app;
     CREATE TABLE app.t (id int GENERATED ALWAYS AS IDENTITY, n serial);
     CREATE VIEW app.v AS SELECT id FROM app.t;
     CREATE MATERIALIZED VIEW app.m AS SELECT 1 AS x;
     CREATE SEQUENCE app.s;
     CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
     CREATE PROCEDURE app.p() LANGUAGE sql AS $$ SELECT 1 $$;
     CREATE AGGREGATE app.counted(*) (SFUNC = int8inc, STYPE = bigint, INITCOND = '0');
     CREATE AGGREGATE app.firsts(float8 ORDER BY float8) (SFUNC = array_append, STYPE = float8[], INITCOND = '{}');
     CREATE TYPE app.mood AS ENUM ('a');
     CREATE TYPE app.pair AS (a int, b int);
     CREATE DOMAIN app.positive AS int CHECK (VALUE > 0);";

#[tokio::test]
async fn owners_of_every_kind_change_when_managed() {
    check_with("owners_of_every_kind_change_when_managed", UNOWNED, OWNED, true).await;
}

#[tokio::test]
async fn objects_created_with_a_declared_owner() {
    check_with("objects_created_with_a_declared_owner", "", OWNED, true).await;
}

/// A view that is dropped and created again (its column changed type) is owned by the migration's
/// role until it is given back to its declared owner.
#[tokio::test]
async fn recreated_view_gets_its_owner_back() {
    let view = "CREATE VIEW v AS SELECT n FROM t; ALTER VIEW v OWNER TO app_owner;";
    check_with(
        "recreated_view_gets_its_owner_back",
        &format!("CREATE TABLE t (n int); {view}"),
        &format!("CREATE TABLE t (n bigint); {view}"),
        true,
    )
    .await;
}

/// Without `[ownership] manage = true`, owners are neither compared nor changed, and the owners that declared
/// files set are ignored (with a warning on stderr: see tests/errors.rs), never an error.
#[tokio::test]
async fn owners_are_left_alone_unless_managed() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(ROLES).await.expect("roles");
    let db = server.fresh_database("owners_left_alone").await.expect("database");
    roundtrip::load_sql(&db.url, "CREATE TABLE t (id int); ALTER TABLE t OWNER TO app_owner;").await.expect("load");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("s.sql"), "CREATE TABLE t (id int);\n").expect("write");
    let mut settings = roundtrip::settings_for(&db, dir.path());
    let migration = schema::pipeline::migration(&settings).await.expect("plan");
    assert!(migration.up.is_empty(), "{:?}", migration.up.statements().collect::<Vec<_>>());

    settings.manage_owners = true;
    let migration = schema::pipeline::migration(&settings).await.expect("plan");
    let up: Vec<&str> = migration.up.statements().collect();
    assert!(up.iter().any(|s| s.starts_with(r#"ALTER TABLE "public"."t" OWNER TO "#)), "{up:?}");
    let hazards: Vec<&str> = migration.up.steps.iter().flat_map(|s| &s.hazards).map(|h| h.id.as_str()).collect();
    assert!(hazards.contains(&"authorization-change"), "{hazards:?}");

    std::fs::write(dir.path().join("s.sql"), "CREATE TABLE t (id int);\nALTER TABLE t OWNER TO app_owner;\n")
        .expect("write");
    settings.manage_owners = false;
    let migration = schema::pipeline::migration(&settings).await.expect("an owner declared while not managed");
    assert!(migration.up.is_empty(), "{:?}", migration.up.statements().collect::<Vec<_>>());
    let _ = server.drop_database(&db.name).await;
}

/// `schema inspect` writes default privileges, and owners when they are managed, so that its output
/// loaded elsewhere gives the same database.
#[tokio::test]
async fn inspect_output_recreates_default_privileges_and_owners() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(ROLES).await.expect("roles");
    let sql = format!(
        "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO app_reader;
         ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC; {OWNED}"
    );
    roundtrip::check_inspect(server, "inspect_access", &sql, |s| s.manage_owners = true).await;
}
