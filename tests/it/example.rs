//! The PostgreSQL example project stays honest: `examples/postgres/generated/` holds exactly what
//! the example in `examples/postgres/schema/` produces against an empty database, and applying it
//! gives the declared schema. (The SQLite example at the repository root: `tests/sqlite_example.rs`.)

use schema::migrations;
use schema::pipeline;
use schema::settings::Settings;
use schema::testkit::{pg_server, roundtrip};
use std::path::Path;

#[tokio::test]
async fn generated_directory_matches_the_example_schema() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database("example").await.expect("fresh database");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/postgres");
    let settings = Settings { url: Some(db.url.clone()), schema_dir: root.join("schema"), ..Settings::default() };
    let migration = pipeline::migration(&settings).await.expect("plan the example");

    let up_file = std::fs::read_dir(root.join("generated"))
        .expect("generated/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with("_initial.up.sql"))
        .expect("generated/*_initial.up.sql exists");
    let file_name = up_file.file_name().unwrap().to_string_lossy().into_owned();
    let version = &file_name[..14];
    let committed_up = std::fs::read_to_string(&up_file).unwrap();
    let committed_down = std::fs::read_to_string(up_file.with_file_name(file_name.replace(".up.", ".down."))).unwrap();
    let expected_up = migrations::render_file(version, "initial", "up", &migration.up);
    let expected_down = migrations::render_file(version, "initial", "down", &migration.down);
    if std::env::var_os("SCHEMA_UPDATE_EXAMPLE").is_some() {
        std::fs::write(&up_file, &expected_up).unwrap();
        std::fs::write(up_file.with_file_name(file_name.replace(".up.", ".down.")), &expected_down).unwrap();
        return;
    }
    let hint = "examples/postgres/generated/ is out of date; run SCHEMA_UPDATE_EXAMPLE=1 cargo test --test example";
    assert_eq!(committed_up, expected_up, "{hint}");
    assert_eq!(committed_down, expected_down, "{hint}");

    // Applying it yields the declared schema; a second plan is empty.
    roundtrip::load_sql(&db.url, &committed_up).await.expect("apply the committed up file");
    let again = pipeline::migration(&settings).await.expect("plan again");
    assert!(again.up.is_empty(), "{:?}", again.up.steps.iter().map(|s| &s.description).collect::<Vec<_>>());
}
