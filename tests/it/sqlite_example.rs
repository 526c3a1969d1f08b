//! The out-of-the-box example: `diff.toml` at the repository root points at a SQLite file, the
//! example in `schema/` is accepted by SQLite, `generated/` holds exactly what it produces against an
//! empty database, and the README's first command works on a fresh copy with no server.

use schema::migrations;
use schema::pipeline;
use schema::settings::Settings;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn committed_up() -> PathBuf {
    std::fs::read_dir(root().join("generated"))
        .expect("generated/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with("_initial.up.sql"))
        .expect("generated/*_initial.up.sql exists")
}

#[tokio::test]
async fn generated_directory_matches_the_sqlite_example_schema() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let settings = Settings { url: Some(url.clone()), schema_dir: root().join("schema"), ..Settings::default() };
    let migration = pipeline::migration(&settings).await.expect("plan the example");

    let up_file = committed_up();
    let file_name = up_file.file_name().unwrap().to_string_lossy().into_owned();
    let version = &file_name[..14];
    let down_file = up_file.with_file_name(file_name.replace(".up.", ".down."));
    let expected_up = migrations::render_file(version, "initial", "up", &migration.up);
    let expected_down = migrations::render_file(version, "initial", "down", &migration.down);
    let hint = "generated/ is out of date: regenerate it with `cargo run --release -- generate --name initial` \
                from the repository root (after removing generated/ and app.db)";
    assert_eq!(std::fs::read_to_string(&up_file).unwrap(), expected_up, "{hint}");
    assert_eq!(std::fs::read_to_string(&down_file).unwrap(), expected_down, "{hint}");

    // Applying it yields the declared schema; a second plan is empty; down empties the database.
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    schema::dialect::execute(&url, &up, true).await.expect("apply up");
    let again = pipeline::migration(&settings).await.expect("plan again");
    assert!(again.up.is_empty(), "{:?}", again.up.steps.iter().map(|s| &s.description).collect::<Vec<_>>());
    let down: Vec<String> = migration.down.statements().map(String::from).collect();
    schema::dialect::execute(&url, &down, true).await.expect("apply down");
    let live = pipeline::live_catalog(&url, &settings).await.expect("introspect");
    assert!(live.is_empty(), "down leaves objects behind");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// `schema generate` in `dir` with no DATABASE_URL; its standard output, once it succeeded.
fn generate_in(dir: &Path) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_schema"))
        .arg("generate")
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}: {stderr}", output.status.code());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The README's first command, `cargo run --release -- generate`, on a fresh copy of the project
/// (schema/ and diff.toml, no database file, no DATABASE_URL): it creates the SQLite database and
/// writes the migration pair, and nothing else.
#[test]
fn readme_first_command_works_on_a_fresh_copy_without_a_server() {
    let project = tempfile::tempdir().unwrap();
    copy_dir(&root().join("schema"), &project.path().join("schema"));
    std::fs::copy(root().join("diff.toml"), project.path().join("diff.toml")).unwrap();
    generate_in(project.path());
    assert_eq!(names(project.path()), ["app.db", "diff.toml", "generated", "schema"]);
    let written: Vec<String> =
        names(&project.path().join("generated")).into_iter().filter(|n| n.ends_with(".sql")).collect();
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(written[0].ends_with(".down.sql") && written[1].ends_with(".up.sql"), "{written:?}");
    // The same statements as the committed example.
    let body = |text: &str| text.lines().skip_while(|l| l.starts_with("--")).collect::<Vec<_>>().join("\n");
    let up = std::fs::read_to_string(project.path().join("generated").join(&written[1])).unwrap();
    assert_eq!(body(&up), body(&std::fs::read_to_string(committed_up()).unwrap()));
}

/// The same command on a fresh clone, with `generated/` in it: the new database has applied none of
/// the committed migrations, so the plan starts from them and there is nothing to write; after an edit,
/// only the edit is written.
#[test]
fn readme_first_command_on_a_fresh_clone_writes_only_new_edits() {
    let project = tempfile::tempdir().unwrap();
    for dir in ["schema", "generated"] {
        copy_dir(&root().join(dir), &project.path().join(dir));
    }
    std::fs::copy(root().join("diff.toml"), project.path().join("diff.toml")).unwrap();
    let generate = || generate_in(project.path());
    assert_eq!(generate(), "no changes\n");
    let committed = names(&project.path().join("generated"));
    let schema_file = std::fs::read_dir(project.path().join("schema")).unwrap().next().unwrap().unwrap().path();
    let mut text = std::fs::read_to_string(&schema_file).unwrap();
    text.push_str("\nCREATE TABLE release_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n");
    std::fs::write(&schema_file, text).unwrap();
    let wrote = generate();
    assert_eq!(wrote.lines().filter(|l| l.starts_with("wrote ")).count(), 2, "{wrote}");
    assert!(wrote.contains("\nverified: "), "{wrote}");
    let up =
        names(&project.path().join("generated")).into_iter().find(|n| !committed.contains(n) && n.ends_with(".up.sql"));
    let up = std::fs::read_to_string(project.path().join("generated").join(up.expect("a new up file"))).unwrap();
    let statements: Vec<&str> =
        up.lines().filter(|l| !l.starts_with("--") && l.starts_with(char::is_uppercase)).collect();
    assert_eq!(statements, ["CREATE TABLE \"release_notes\" ("], "{up}");
}
