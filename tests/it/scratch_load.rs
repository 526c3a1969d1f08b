//! Loading declared files into the scratch database in groups of statements (one round trip each): a
//! statement the server rejects in the middle of a group is still named by file, line and column, and a
//! schema loaded in groups is the same as one loaded a statement at a time.

use schema::diff::{self, RenameHints};
use schema::model::Catalog;
use schema::pipeline;
use schema::settings::Settings;
use schema::testkit::{generate, pg_server, roundtrip};
use std::fmt::Write;

/// A file of `count` one-line tables in which table `bad` spans three lines and has `error` on its third
/// line, indented by four spaces. Returns the text and the line of the error.
fn tables_with_one_bad(count: usize, bad: usize, error: &str) -> (String, usize) {
    let mut text = String::new();
    let mut bad_line = 0;
    for i in 0..count {
        if i == bad {
            bad_line = text.lines().count() + 3;
            writeln!(text, "CREATE TABLE t{i} (\n    id int,\n    {error}\n);").unwrap();
        } else {
            writeln!(text, "CREATE TABLE t{i} (id int PRIMARY KEY, note text);").unwrap();
        }
    }
    (text, bad_line)
}

fn schema_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write schema file");
    }
    dir
}

#[tokio::test]
async fn a_rejected_statement_in_the_middle_of_a_group_is_named_by_file_line_and_column() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let target = server.fresh_database("scratch_load_error").await.expect("fresh database");
    let dev = server.fresh_database("scratch_load_error_dev").await.expect("fresh database");
    // An error PostgreSQL finds running the statement, and one it finds parsing the group's text
    // (before it runs any statement of the group).
    for (error, column, message) in [
        ("v no_such_type", 7, "type \"no_such_type\" does not exist"),
        ("v int,, w int", 11, "syntax error at or near \",\""),
    ] {
        let (text, line) = tables_with_one_bad(300, 150, error);
        let dir = schema_dir(&[("tables.sql", &text)]);
        let expected = format!("tables.sql:{line}:{column}: {message}");
        // A temporary scratch database (committed in batches) and a dev database (one transaction).
        for dev_url in [None, Some(dev.url.clone())] {
            let settings = Settings { dev_url: dev_url.clone(), ..roundtrip::settings_for(&target, dir.path()) };
            let error = match pipeline::declared_catalog(&settings).await {
                Ok(_) => panic!("loading {error:?} must fail (dev database: {dev_url:?})"),
                Err(e) => format!("{e:#}"),
            };
            assert!(error.contains(&expected), "expected {expected:?} (dev database: {dev_url:?}) in:\n{error}");
        }
    }
    // The dev database was left as it was: the groups before the error were rolled back with it.
    let left = pipeline::live_catalog(&dev.url, &Settings::default()).await.expect("introspect the dev database");
    assert!(left.tables.is_empty(), "the dev database keeps {} tables", left.tables.len());

    let _ = server.drop_database(&target.name).await;
    let _ = server.drop_database(&dev.name).await;
}

#[tokio::test]
async fn a_schema_loaded_in_groups_equals_the_same_schema_loaded_one_statement_at_a_time() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let target = server.fresh_database("scratch_load_groups").await.expect("fresh database");
    let reference = server.fresh_database("scratch_load_groups_ref").await.expect("fresh database");
    let dev = server.fresh_database("scratch_load_groups_dev").await.expect("fresh database");
    // Hundreds of statements of every kind the generator makes, then statements that end in a line
    // comment before their semicolon (the group must not swallow the next statement into the comment).
    let mut text = generate::sql(&generate::catalog(120, 7));
    for i in 0..100 {
        writeln!(text, "CREATE TABLE public.commented_{i} (id int) -- no semicolon on this line\n;").unwrap();
    }
    let dir = schema_dir(&[("all.sql", &text)]);

    let settings = roundtrip::settings_for(&target, dir.path());
    roundtrip::load_sql(&reference.url, &text).await.expect("load one statement at a time");
    let mut one_by_one = pipeline::live_catalog(&reference.url, &settings).await.expect("introspect the reference");
    one_by_one.extensions.values_mut().for_each(|x| x.version = None);

    // A temporary scratch database (committed in batches) and a dev database (one transaction, rolled back).
    for dev_url in [None, Some(dev.url.clone())] {
        let settings = Settings { dev_url: dev_url.clone(), ..settings.clone() };
        let (mut grouped, _) = pipeline::declared_catalog(&settings).await.expect("load the declared files");
        // The declared side forgets the versions of extensions that pin none.
        grouped.extensions.values_mut().for_each(|x| x.version = None);
        assert!(grouped.tables.len() > 200, "{} tables", grouped.tables.len());
        assert_eq!(differences(&one_by_one, &grouped), Vec::<String>::new(), "dev database: {dev_url:?}");
        assert!(grouped == one_by_one, "the catalogs differ in something the diff does not compare ({dev_url:?})");
    }
    let left = pipeline::live_catalog(&dev.url, &Settings::default()).await.expect("introspect the dev database");
    assert!(left.tables.is_empty(), "the dev database keeps {} tables", left.tables.len());

    for db in [&target, &reference, &dev] {
        let _ = server.drop_database(&db.name).await;
    }
}

fn differences(from: &Catalog, to: &Catalog) -> Vec<String> {
    diff::diff(from, to, &RenameHints::default()).changes.iter().map(|c| c.describe()).collect()
}

/// `pg_dump` of the installed PostgreSQL: on PATH, else where the server programs are.
fn pg_dump() -> std::path::PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("pg_dump"))
        .find(|path| path.is_file());
    let mut installed: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin/pg_dump")))
        .filter(|path| path.is_file())
        .collect();
    installed.sort();
    on_path.or_else(|| installed.pop()).expect("pg_dump (PostgreSQL client programs) on PATH or in /usr/lib/postgresql")
}

fn dump(url: &str, extra: &[&str]) -> String {
    let output = std::process::Command::new(pg_dump())
        .args(["--schema-only", "--dbname", url])
        .args(extra)
        .output()
        .expect("run pg_dump");
    assert!(output.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("pg_dump writes UTF-8")
}

/// A database with most of what pg_dump writes: schemas, an extension in a schema, enum and domain types,
/// sequences (standalone, serial, identity), SQL functions that read tables (dumped before them), a
/// partitioned table with partitions and an index on the parent, a view, a materialized view with an index,
/// triggers, a policy, comments, grants and default privileges (set before the tables: the declared side
/// applies default privileges to every declared object, wherever they are written).
const VARIED: &str = "
CREATE ROLE loader_dump_reader NOLOGIN;
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'the application';
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO loader_dump_reader;
CREATE SCHEMA ext;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA ext;
CREATE TYPE app.mood AS ENUM ('happy', 'sad');
CREATE DOMAIN app.email AS text CHECK (VALUE LIKE '%@%');
CREATE SEQUENCE app.ticket_seq START WITH 100 INCREMENT BY 5;
CREATE TABLE app.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email app.email NOT NULL UNIQUE,
    mood app.mood DEFAULT 'happy',
    ticket integer DEFAULT nextval('app.ticket_seq')
);
CREATE TABLE app.posts (id serial PRIMARY KEY, author bigint REFERENCES app.users (id), body text);
CREATE INDEX posts_body_trgm ON app.posts USING gin (body ext.gin_trgm_ops);
CREATE FUNCTION app.post_count(u bigint) RETURNS bigint LANGUAGE sql STABLE
    AS 'SELECT count(*) FROM app.posts WHERE author = u';
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.body := trim(NEW.body); RETURN NEW; END$$;
CREATE TRIGGER posts_touch BEFORE INSERT ON app.posts FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TABLE app.events (id bigint NOT NULL, at date NOT NULL, note text) PARTITION BY RANGE (at);
CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE app.events_old PARTITION OF app.events DEFAULT;
CREATE INDEX events_at ON app.events (at);
ALTER TABLE app.events ADD PRIMARY KEY (id, at);
CREATE VIEW app.user_posts AS SELECT u.id, app.post_count(u.id) AS posts FROM app.users u;
CREATE MATERIALIZED VIEW app.moods AS SELECT mood, count(*) AS n FROM app.users GROUP BY mood WITH NO DATA;
CREATE UNIQUE INDEX moods_mood ON app.moods (mood);
ALTER TABLE app.posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_posts ON app.posts USING (author = 1);
COMMENT ON TABLE app.users IS 'people';
COMMENT ON COLUMN app.users.email IS 'where to write';
COMMENT ON FUNCTION app.post_count(bigint) IS 'posts by one author';
GRANT USAGE ON SCHEMA app TO loader_dump_reader;
GRANT INSERT ON app.users TO loader_dump_reader;
";

#[tokio::test]
async fn pg_dump_output_loads_as_the_declared_schema_and_plans_no_changes_against_its_source() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(&["loader_dump_reader"]).await.expect("role");
    let varied = VARIED.replace("CREATE ROLE loader_dump_reader NOLOGIN;", "");
    let source = server.fresh_database("pg_dump_source").await.expect("fresh database");
    roundtrip::load_sql(&source.url, &varied).await.expect("load the source database");
    for extra in [&[][..], &["--no-owner", "--no-privileges"][..]] {
        let text = dump(&source.url, extra);
        assert!(text.contains("SET check_function_bodies = false;"), "not a pg_dump script:\n{text}");
        let dir = schema_dir(&[("dump.sql", &text)]);
        // Against the very database it was dumped from: no changes, owners managed or not.
        for manage_owners in [false, true] {
            let settings = Settings { manage_owners, ..roundtrip::settings_for(&source, dir.path()) };
            let migration = pipeline::migration(&settings).await.unwrap_or_else(|e| panic!("{extra:?}: {e:#}"));
            let changes: Vec<String> = migration.up.steps.iter().map(|s| s.description.clone()).collect();
            assert_eq!(changes, Vec::<String>::new(), "pg_dump {extra:?}, manage_owners = {manage_owners}");
        }
        // From an empty database: the up migration builds it, a second plan is empty, down empties it.
        let desired = match extra {
            [] => varied.clone(),
            _ => varied
                .lines()
                .filter(|l| !l.starts_with("GRANT") && !l.starts_with("ALTER DEFAULT"))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        let outcome = roundtrip::run_declared(server, "pg_dump_roundtrip", "", &desired, &text, |_| {})
            .await
            .expect("round trip setup");
        outcome.assert_passed(&format!("pg_dump {extra:?}"));
    }
    let _ = server.drop_database(&source.name).await;
}

/// Every statement is written before what it needs, some of them statements the parser cannot read (a
/// sequence with START WITH first, materialized views WITH NO DATA, ALTER SEQUENCE … OWNED BY, a schema
/// created with AUTHORIZATION CURRENT_USER), and more than a batch of statements apart.
fn backwards() -> String {
    let mut text = String::from(
        "CREATE INDEX m_id ON app.m (id);\n\
         CREATE MATERIALIZED VIEW app.m2 AS SELECT id FROM app.m WITH NO DATA;\n\
         CREATE MATERIALIZED VIEW app.m AS SELECT id, k FROM app.t WITH NO DATA;\n\
         COMMENT ON CONSTRAINT t_pkey ON app.t IS 'the key';\n",
    );
    for i in 0..600 {
        writeln!(text, "CREATE TABLE public.filler_{i} (id int);").unwrap();
    }
    text.push_str(
        "ALTER SEQUENCE app.s OWNED BY app.t.id;\n\
         CREATE TABLE app.t (id integer NOT NULL DEFAULT nextval('app.s') PRIMARY KEY, k app.kind, n int DEFAULT app.f());\n\
         CREATE SEQUENCE app.s START WITH 1 INCREMENT BY 1;\n\
         CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'select 1';\n\
         CREATE TYPE app.kind AS ENUM ('a');\n\
         CREATE SCHEMA app AUTHORIZATION CURRENT_USER;\n",
    );
    text
}

#[tokio::test]
async fn statements_in_any_order_load_and_a_real_error_is_reported_at_its_own_statement() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let target = server.fresh_database("scratch_any_order").await.expect("fresh database");
    let reference = server.fresh_database("scratch_any_order_ref").await.expect("fresh database");
    let dev = server.fresh_database("scratch_any_order_dev").await.expect("fresh database");
    let text = backwards();
    // The same statements in an order PostgreSQL accepts as it is.
    let mut forwards: Vec<&str> = text.lines().collect();
    forwards.reverse();
    roundtrip::load_sql(&reference.url, &forwards.join("\n")).await.expect("load the reference");
    let dir = schema_dir(&[("backwards.sql", &text)]);
    let settings = roundtrip::settings_for(&target, dir.path());
    let expected = pipeline::live_catalog(&reference.url, &settings).await.expect("introspect the reference");
    for dev_url in [None, Some(dev.url.clone())] {
        let settings = Settings { dev_url: dev_url.clone(), ..settings.clone() };
        let (loaded, _) = pipeline::declared_catalog(&settings)
            .await
            .unwrap_or_else(|e| panic!("loading (dev database: {dev_url:?}): {e:#}"));
        assert_eq!(differences(&expected, &loaded), Vec::<String>::new(), "dev database: {dev_url:?}");
    }

    // A statement that still fails is reported, not the statements that fail because of it: m2 (first in
    // the file) fails because m fails, and m because the table it reads does not exist.
    let broken = text.replace("SELECT id, k FROM app.t WITH NO DATA", "SELECT id, k FROM app.nosuch WITH NO DATA");
    let dir = schema_dir(&[("backwards.sql", &broken)]);
    for dev_url in [None, Some(dev.url.clone())] {
        let settings = Settings { dev_url: dev_url.clone(), ..roundtrip::settings_for(&target, dir.path()) };
        let error = match pipeline::declared_catalog(&settings).await {
            Ok(_) => panic!("a view of a missing table must fail (dev database: {dev_url:?})"),
            Err(e) => format!("{e:#}"),
        };
        assert!(
            error.contains("backwards.sql:3:53: relation \"app.nosuch\" does not exist"),
            "dev database: {dev_url:?}:\n{error}"
        );
    }
    let left = pipeline::live_catalog(&dev.url, &Settings::default()).await.expect("introspect the dev database");
    assert!(left.tables.is_empty(), "the dev database keeps {} tables", left.tables.len());
    for db in [&target, &reference, &dev] {
        let _ = server.drop_database(&db.name).await;
    }
}

#[tokio::test]
async fn sqlite_statements_before_what_they_need_load() {
    // The trigger (which the parser cannot read: RAISE) is written before its table, and the index on a
    // table declared in a later file.
    let dir = schema_dir(&[
        (
            "a.sql",
            "CREATE TRIGGER IF NOT EXISTS t_guard BEFORE INSERT ON t BEGIN SELECT RAISE(ABORT, 'no'); END;\n\
             CREATE INDEX u_b ON u (b);\n",
        ),
        ("b.sql", "CREATE TABLE t (a integer PRIMARY KEY);\nCREATE TABLE u (b text);\n"),
    ]);
    let settings =
        Settings { url: Some("sqlite::memory:".into()), schema_dir: dir.path().to_path_buf(), ..Settings::default() };
    let (catalog, _) = pipeline::declared_catalog(&settings).await.expect("load the declared files");
    assert_eq!(catalog.tables.len(), 2);
    assert_eq!(catalog.indexes.len(), 1);
    assert_eq!(catalog.triggers.len(), 1);

    // A statement that still fails is reported at its own location.
    let dir = schema_dir(&[("a.sql", "CREATE TABLE t (a integer);\nCREATE INDEX v_b ON v (b);\n")]);
    let settings = Settings { schema_dir: dir.path().to_path_buf(), ..settings };
    let error = format!("{:#}", pipeline::declared_catalog(&settings).await.expect_err("an index on a missing table"));
    assert!(error.contains("a.sql:2:1: no such table: main.v"), "{error}");
}
