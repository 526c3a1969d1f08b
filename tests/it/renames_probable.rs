//! Probable renames on real databases holding rows, through the binary as a user meets them: a column
//! or a table dropped while one like it is added is reported as `probable-rename` on the drop, and
//! `generate` refuses it (exit 2, nothing written); `--allow-hazard probable-rename` writes the drop and
//! the add; the hint the help gives, pasted into diff.toml or the schema files as it is, turns the pair
//! into a RENAME that keeps every value. PostgreSQL and SQLite (whose column changes are mostly table
//! rebuilds), and `apply`, which refuses it unless `--allow-destructive`.

use crate::support::{Project, Run, fresh};
use sqlx::Connection;

/// The `probable-rename` hazards of the up plan `plan --format json` shows.
fn probable_renames(project: &Project, url: &str) -> Vec<serde_json::Value> {
    let run = project.run_url(url, &["plan", "--format", "json"]);
    run.expect_code(0, "plan --format json");
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("plan JSON");
    let steps = plan["up"].as_array().expect("up steps").iter();
    steps
        .flat_map(|s| s["hazards"].as_array().cloned().unwrap_or_default())
        .filter(|h| h["id"] == "probable-rename")
        .collect()
}

/// The help of the hazard whose message starts with `dropped` (`public.users.name dropped…`).
fn help_for<'a>(hazards: &'a [serde_json::Value], dropped: &str) -> &'a str {
    let hazard =
        hazards.iter().find(|h| h["message"].as_str().is_some_and(|m| m.starts_with(&format!("{dropped} dropped"))));
    hazard.and_then(|h| h["help"].as_str()).unwrap_or_else(|| panic!("no probable-rename for {dropped}: {hazards:#?}"))
}

/// The diff.toml entry a help names (`[[rename.column]] with table = "…", from = "…", to = "…" in
/// diff.toml`), pasted: the header, then its keys one per line.
fn pasted_entry(help: &str) -> String {
    let start = help.find("[[rename.").unwrap_or_else(|| panic!("no diff.toml entry in {help}"));
    let entry = &help[start..start + help[start..].find(" in diff.toml").expect("the entry ends")];
    let (header, keys) = entry.split_once(" with ").expect("header, then keys");
    format!("{header}\n{}\n", keys.split(", ").collect::<Vec<_>>().join("\n"))
}

/// The annotation line a help names (`the line -- schema:renamed-from name right before …`).
fn pasted_annotation(help: &str) -> &str {
    let start = help.find("-- schema:renamed-from ").unwrap_or_else(|| panic!("no annotation in {help}"));
    &help[start..start + help[start..].find(" right before").expect("the annotation ends")]
}

/// The written files whose names end with `suffix` (the parts of the migration, in order), as one text.
fn written(project: &Project, suffix: &str) -> String {
    let files: Vec<String> = project.out_dir_files().into_iter().filter(|f| f.ends_with(suffix)).collect();
    assert!(!files.is_empty(), "no {suffix} file: {:?}", project.out_dir_files());
    files.iter().map(|f| std::fs::read_to_string(project.out_dir().join(f)).expect("read a written file")).collect()
}

fn refused(run: &Run, messages: &[&str]) {
    run.expect_code(2, "generate refuses a probable rename");
    let denied: Vec<String> = messages.iter().map(|m| format!("[deny] probable-rename (high): {m}")).collect();
    run.stderr_has(&denied.iter().map(String::as_str).collect::<Vec<_>>());
    run.stderr_has(&["refusing to write the migration", "probable-rename", "--allow-hazard"]);
}

#[tokio::test]
async fn postgres_column_drop_and_add_alike_is_refused_until_allowed_or_declared_and_the_hint_keeps_the_values() {
    let db = fresh(
        "probable_rename_column",
        "CREATE TABLE users (id bigint PRIMARY KEY, name text, email text CONSTRAINT users_email_key UNIQUE);
         INSERT INTO users VALUES (1, 'Ann', 'ann@example.com'), (2, 'Bob', 'bob@example.com');",
    )
    .await;
    // Two text columns each: `name` pairs with `full_name` and `email` with `contact`, by their keys.
    let declared = "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    full_name text,\n    contact text CONSTRAINT \
                    users_contact_key UNIQUE\n);\n";
    let project = Project::new(&[("app.sql", declared)]);
    refused(
        &project.run(&db, &["generate"]),
        &[
            "public.users.name dropped and public.users.full_name added with the same type text: probably a rename",
            "public.users.email dropped and public.users.contact added with the same type text: probably a rename",
        ],
    );
    assert_eq!(project.out_dir_files(), Vec::<String>::new(), "nothing written");

    let hazards = probable_renames(&project, &db.url);
    assert_eq!(hazards.len(), 2, "{hazards:#?}");
    for hazard in &hazards {
        let table = serde_json::json!({"schema": "public", "name": "users"});
        assert_eq!((&hazard["severity"], &hazard["table"], &hazard["level"]), (&"high".into(), &table, &"deny".into()));
    }
    let (name_help, email_help) = (help_for(&hazards, "public.users.name"), help_for(&hazards, "public.users.email"));

    // Allowed, the drop and the add are written; the down, their reverse, does not report it again.
    project.run(&db, &["generate", "--allow-hazard", "probable-rename"]).expect_code(0, "generate, allowed");
    let up = written(&project, ".up.sql");
    assert!(up.contains("DROP COLUMN \"name\"") && up.contains("ADD COLUMN \"full_name\" text"), "{up}");
    assert!(up.contains("-- WARNING: data loss possible:") && up.contains("[probable-rename]"), "{up}");
    let down = written(&project, ".down.sql");
    assert!(down.contains("DROP COLUMN \"full_name\"") && !down.contains("probable-rename"), "{down}");
    std::fs::remove_dir_all(project.out_dir()).expect("forget the drop and add");

    // The hints as the help gives them: the diff.toml entry for one, the annotation for the other.
    std::fs::write(project.path().join("diff.toml"), pasted_entry(name_help)).expect("write diff.toml");
    let annotated = declared.replace("    contact", &format!("    {}\n    contact", pasted_annotation(email_help)));
    project.write_schema(&[("app.sql", &annotated)]);
    let run = project.run(&db, &["generate"]);
    run.expect_code(0, "generate with the hints");
    assert!(!run.stderr.contains("probable-rename"), "{}", run.stderr);
    let up = written(&project, ".up.sql");
    assert!(up.contains("RENAME COLUMN \"name\" TO \"full_name\""), "{up}");
    assert!(up.contains("RENAME COLUMN \"email\" TO \"contact\""), "{up}");
    assert!(!up.contains("DROP COLUMN"), "{up}");
    project.run(&db, &["migrate", "up"]).expect_code(0, "migrate up");
    let mut conn = schema::dialect::postgres::connect::connect(&db.url).await.expect("connect");
    let rows: Vec<(i64, String, String)> = sqlx::query_as("SELECT id, full_name, contact FROM users ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .expect("rows");
    assert_eq!(
        rows,
        [(1, "Ann".into(), "ann@example.com".into()), (2, "Bob".into(), "bob@example.com".into())],
        "every value kept"
    );
    let _ = conn.close().await;
}

#[tokio::test]
async fn postgres_table_dropped_and_created_alike_is_refused_until_allowed_or_declared_and_the_hint_keeps_the_rows() {
    let db = fresh(
        "probable_rename_table",
        "CREATE TABLE tickets (id int PRIMARY KEY, summary text NOT NULL, opened timestamptz DEFAULT now());
         INSERT INTO tickets (id, summary) VALUES (1, 'first'), (2, 'second');",
    )
    .await;
    // The same columns in another order.
    let declared =
        "CREATE TABLE issues (opened timestamptz DEFAULT now(), id int PRIMARY KEY, summary text NOT NULL);\n";
    let project = Project::new(&[("app.sql", declared)]);
    refused(
        &project.run(&db, &["generate"]),
        &["public.tickets dropped and public.issues created with the same 3 column(s) and types: probably a rename"],
    );
    assert_eq!(project.out_dir_files(), Vec::<String>::new(), "nothing written");
    let hazards = probable_renames(&project, &db.url);
    let help = help_for(&hazards, "public.tickets");

    project.run(&db, &["generate", "--allow-hazard", "probable-rename"]).expect_code(0, "generate, allowed");
    let up = written(&project, ".up.sql");
    assert!(
        up.contains("DROP TABLE \"public\".\"tickets\"") && up.contains("CREATE TABLE \"public\".\"issues\""),
        "{up}"
    );
    std::fs::remove_dir_all(project.out_dir()).expect("forget the drop and create");

    // `apply` refuses it too: it loses the rows, which takes --allow-destructive.
    let apply = project.run(&db, &["apply", "--yes"]);
    apply.expect_code(2, "apply refuses");
    apply.stderr_has(&[
        "[deny] probable-rename",
        "refusing to apply 1 change(s) that can lose data (drop table public.tickets)",
    ]);

    project.write_schema(&[("app.sql", &format!("{}\n{declared}", pasted_annotation(help)))]);
    let run = project.run(&db, &["generate"]);
    run.expect_code(0, "generate with the annotation");
    assert!(!run.stderr.contains("probable-rename"), "{}", run.stderr);
    let up = written(&project, ".up.sql");
    assert!(
        up.contains("ALTER TABLE \"public\".\"tickets\" RENAME TO \"issues\";") && !up.contains("DROP TABLE"),
        "{up}"
    );
    project.run(&db, &["migrate", "up"]).expect_code(0, "migrate up");
    let mut conn = schema::dialect::postgres::connect::connect(&db.url).await.expect("connect");
    let rows: Vec<(i32, String)> =
        sqlx::query_as("SELECT id, summary FROM issues ORDER BY id").fetch_all(&mut conn).await.expect("rows");
    assert_eq!(rows, [(1, "first".into()), (2, "second".into())], "every row kept");
    let _ = conn.close().await;
}

/// SQLite: a column renamed by hand on a table that must be rebuilt (the old column is in a UNIQUE
/// constraint), one on a table that can drop and add it in place, and a table renamed by hand.
#[tokio::test]
async fn sqlite_columns_rebuilt_or_in_place_and_tables_alike_are_refused_until_declared_and_the_hints_keep_the_rows() {
    let current = [
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE)",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
        "CREATE TABLE tickets (id INTEGER PRIMARY KEY, summary TEXT NOT NULL)",
        "INSERT INTO users VALUES (1, 'ann'), (2, 'bob')",
        "INSERT INTO notes VALUES (1, 'remember')",
        "INSERT INTO tickets VALUES (7, 'broken')",
    ]
    .map(String::from);
    let declared = "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT UNIQUE);\n\
                    CREATE TABLE notes (\n    id INTEGER PRIMARY KEY,\n    text TEXT\n);\n\
                    CREATE TABLE issues (id INTEGER PRIMARY KEY, summary TEXT NOT NULL);\n";
    let project = Project::new(&[("app.sql", declared)]);
    let url = format!("sqlite:{}", project.path().join("app.db").display());
    schema::dialect::execute(&url, &current, true).await.expect("the current schema and rows");
    let spare = format!("sqlite:{}", project.path().join("spare.db").display());
    schema::dialect::execute(&spare, &current, true).await.expect("the same in a spare database");

    refused(
        &project.run_url(&url, &["generate"]),
        &[
            "main.users.name dropped and main.users.full_name added with the same type TEXT: probably a rename",
            "main.notes.body dropped and main.notes.text added with the same type TEXT: probably a rename",
            "main.tickets dropped and main.issues created with the same 2 column(s) and types: probably a rename",
        ],
    );
    assert_eq!(project.out_dir_files(), Vec::<String>::new(), "nothing written");
    let hazards = probable_renames(&project, &url);
    assert_eq!(hazards.len(), 3, "{hazards:#?}");

    project.run_url(&url, &["generate", "--allow-hazard", "probable-rename"]).expect_code(0, "generate, allowed");
    let up = written(&project, ".up.sql");
    assert!(up.contains("rebuild table main.users") && up.contains("DROP COLUMN \"body\""), "{up}");
    assert!(up.contains("DROP TABLE \"tickets\""), "{up}");
    std::fs::remove_dir_all(project.out_dir()).expect("forget the drops");

    // `apply` on the spare copy: refused, then, with --allow-destructive, the drop and add lose the values.
    let apply = project.run_url(&spare, &["apply", "--yes"]);
    apply.expect_code(2, "apply refuses").stderr_has(&["[deny] probable-rename"]);
    project.run_url(&spare, &["apply", "--yes", "--allow-destructive"]).expect_code(0, "apply --allow-destructive");
    let mut conn = sqlx::SqliteConnection::connect(&spare).await.expect("connect");
    let lost: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, full_name FROM users ORDER BY id").fetch_all(&mut conn).await.expect("rows");
    assert_eq!(lost, [(1, None), (2, None)], "what the drop and add does");
    let _ = conn.close().await;

    let entries =
        [help_for(&hazards, "main.users.name"), help_for(&hazards, "main.tickets")].map(pasted_entry).concat();
    std::fs::write(project.path().join("diff.toml"), entries).expect("write diff.toml");
    let annotation = pasted_annotation(help_for(&hazards, "main.notes.body"));
    project
        .write_schema(&[("app.sql", &declared.replace("    text TEXT", &format!("    {annotation}\n    text TEXT")))]);
    let run = project.run_url(&url, &["generate"]);
    run.expect_code(0, "generate with the hints");
    assert!(!run.stderr.contains("probable-rename"), "{}", run.stderr);
    let up = written(&project, ".up.sql");
    for rename in
        ["RENAME COLUMN \"name\" TO \"full_name\"", "RENAME COLUMN \"body\" TO \"text\"", "RENAME TO \"issues\""]
    {
        assert!(up.contains(rename), "{rename}: {up}");
    }
    project.run_url(&url, &["migrate", "up"]).expect_code(0, "migrate up");
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    let users: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, full_name FROM users ORDER BY id").fetch_all(&mut conn).await.expect("users");
    let notes: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, text FROM notes").fetch_all(&mut conn).await.expect("notes");
    let issues: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, summary FROM issues").fetch_all(&mut conn).await.expect("issues");
    assert_eq!(users, [(1, "ann".into()), (2, "bob".into())]);
    assert_eq!(notes, [(1, "remember".into())]);
    assert_eq!(issues, [(7, "broken".into())]);
    let _ = conn.close().await;
}
