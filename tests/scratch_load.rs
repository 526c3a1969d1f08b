//! Loading declared files into the scratch database in groups of statements (one round trip each): a
//! statement the server rejects in the middle of a group is still named by file, line and column, and a
//! schema loaded in groups is the same as one loaded a statement at a time.

use schema::diff::{self, RenameHints};
use schema::model::Catalog;
use schema::pipeline::{self, Settings};
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
