//! The round-trip property on real SQLite databases (files in a temporary directory), with rows in
//! every table: up converges to the desired schema, a second plan is empty, down converges back, and
//! every row and value of the columns both sides share survives both directions. Schemas are
//! compared with a fingerprint written for these tests from `sqlite_schema` and the pragmas, not with
//! the tool's model.

use schema::pipeline::{self, Settings};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};
use std::path::Path;
use std::str::FromStr;

async fn open(path: &Path) -> SqliteConnection {
    let options =
        SqliteConnectOptions::from_str(&format!("sqlite:{}", path.display())).unwrap().create_if_missing(true);
    options.connect().await.unwrap()
}

async fn run(path: &Path, sql: &str) {
    let mut conn = open(path).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{sql}"));
    conn.close().await.unwrap();
}

async fn strings(conn: &mut SqliteConnection, sql: &str) -> Vec<String> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{sql}"));
    rows.iter().map(|r| r.get::<String, _>(0)).collect()
}

/// Tables, columns, keys, indexes, views and triggers as SQLite reports them, independent of the
/// text they were written with.
async fn fingerprint(path: &Path) -> Vec<String> {
    let mut conn = open(path).await;
    let queries = [
        "SELECT 'object ' || type || ' ' || name || ' on ' || tbl_name FROM sqlite_schema \
         WHERE name NOT LIKE 'sqlite_%' AND type <> 'index'",
        "SELECT 'table ' || name || ' wr=' || wr || ' strict=' || strict FROM pragma_table_list WHERE schema = 'main' \
         AND name NOT LIKE 'sqlite_%'",
        "SELECT 'column ' || s.name || '.' || c.name || ' ' || c.type || ' nn=' || c.\"notnull\" || ' dflt=' || \
         coalesce(c.dflt_value, '-') || ' pk=' || c.pk || ' hidden=' || c.hidden || ' cid=' || c.cid \
         FROM sqlite_schema s, pragma_table_xinfo(s.name) c WHERE s.type IN ('table', 'view') AND s.name NOT LIKE 'sqlite_%'",
        "SELECT 'index ' || s.name || ' ' || coalesce(i.sql, l.origin) || ' unique=' || l.\"unique\" || ' partial=' || l.partial \
         || ' ' || (SELECT group_concat(coalesce(x.name, 'expr') || ':' || x.\"desc\" || ':' || x.coll, ',') \
         FROM pragma_index_xinfo(l.name) x WHERE x.key) \
         FROM sqlite_schema s, pragma_index_list(s.name) l LEFT JOIN sqlite_schema i ON i.name = l.name \
         WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite_%'",
        "SELECT 'fk ' || s.name || '.' || f.\"from\" || ' -> ' || f.\"table\" || '.' || coalesce(f.\"to\", '(pk)') || \
         ' ' || f.on_update || ' ' || f.on_delete FROM sqlite_schema s, pragma_foreign_key_list(s.name) f \
         WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite_%'",
    ];
    let mut lines = Vec::new();
    for q in queries {
        lines.extend(strings(&mut conn, q).await);
    }
    // Index SQL differs in spelling only: compare it without quotes, case and spacing.
    let mut lines: Vec<String> = lines
        .into_iter()
        .map(|l| {
            if l.starts_with("index ") {
                l.replace('"', "").to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
            } else {
                l
            }
        })
        .collect();
    lines.sort();
    lines
}

/// Every row of `table`, projected on `columns`, sorted. Numbers compare by value: a column whose
/// type changes from int to real keeps 5 as 5.0.
async fn rows(path: &Path, table: &str, columns: &[String]) -> Vec<String> {
    if columns.is_empty() {
        return Vec::new();
    }
    let mut conn = open(path).await;
    let select: Vec<String> = columns
        .iter()
        .map(|c| format!("CASE WHEN typeof(\"{c}\") IN ('integer', 'real') THEN quote(CAST(\"{c}\" AS REAL)) ELSE quote(\"{c}\") END"))
        .collect();
    let mut out = strings(&mut conn, &format!("SELECT {} FROM \"{table}\"", select.join(" || ',' || "))).await;
    out.sort();
    out
}

async fn tables(path: &Path) -> Vec<(String, Vec<String>)> {
    let mut conn = open(path).await;
    let names = strings(
        &mut conn,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .await;
    let mut out = Vec::new();
    for name in names {
        let columns =
            strings(&mut conn, &format!("SELECT name FROM pragma_table_xinfo('{name}') WHERE hidden < 2")).await;
        out.push((name, columns));
    }
    out
}

/// Tables with the columns present in both databases.
async fn shared(a: &Path, b: &Path) -> Vec<(String, Vec<String>)> {
    let theirs = tables(b).await;
    tables(a)
        .await
        .into_iter()
        .filter_map(|(t, cols)| {
            let other = theirs.iter().find(|(u, _)| *u == t)?;
            Some((t, cols.into_iter().filter(|c| other.1.contains(c)).collect()))
        })
        .collect()
}

async fn assert_clean(path: &Path) {
    let mut conn = open(path).await;
    let fk = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut conn).await.unwrap();
    assert!(fk.is_empty(), "foreign_key_check reports {} rows", fk.len());
    assert_eq!(strings(&mut conn, "PRAGMA integrity_check").await, vec!["ok".to_string()]);
}

/// Runs the round trip. `data` inserts rows into the current database before the migration.
async fn round_trip(current: &str, data: &str, desired: &str) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let reference = dir.path().join("desired.db");
    let original = dir.path().join("current.db");
    run(&db, current).await;
    run(&original, current).await;
    run(&reference, desired).await;
    run(&db, data).await;
    run(&original, data).await;
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(schema_dir.join("schema.sql"), desired).unwrap();
    let url = format!("sqlite:{}", db.display());
    let settings = Settings { url: Some(url.clone()), schema_dir, ..Settings::default() };

    let migration = pipeline::migration(&settings).await.expect("plan up");
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    let down: Vec<String> = migration.down.statements().map(String::from).collect();
    let context = format!("--- up:\n{}\n--- down:\n{}", up.join("\n"), down.join("\n"));
    schema::dialect::execute(&url, &up, true).await.unwrap_or_else(|e| panic!("applying up: {e:#}\n{context}"));
    assert_eq!(fingerprint(&db).await, fingerprint(&reference).await, "after up\n{context}");
    assert_clean(&db).await;
    for (table, columns) in shared(&original, &db).await {
        assert_eq!(
            rows(&db, &table, &columns).await,
            rows(&original, &table, &columns).await,
            "rows of {table} after up\n{context}"
        );
    }
    let again = pipeline::migration(&settings).await.expect("plan again");
    let steps: Vec<&String> = again.up.steps.iter().map(|s| &s.description).collect();
    assert!(again.up.is_empty(), "second plan is not empty: {steps:?}\n{context}");

    schema::dialect::execute(&url, &down, true).await.unwrap_or_else(|e| panic!("applying down: {e:#}\n{context}"));
    assert_eq!(fingerprint(&db).await, fingerprint(&original).await, "after down\n{context}");
    assert_clean(&db).await;
    for (table, columns) in shared(&original, &reference).await {
        assert_eq!(
            rows(&db, &table, &columns).await,
            rows(&original, &table, &columns).await,
            "rows of {table} after down\n{context}"
        );
    }
    (up, down)
}

#[tokio::test]
async fn every_object_kind_from_nothing_and_back() {
    round_trip(
        "CREATE TABLE keep (id INTEGER PRIMARY KEY, note text);",
        "INSERT INTO keep VALUES (1, 'kept'), (2, NULL);",
        "CREATE TABLE keep (id INTEGER PRIMARY KEY, note text);
         CREATE TABLE users (
             id integer PRIMARY KEY AUTOINCREMENT,
             email text NOT NULL COLLATE NOCASE UNIQUE CHECK (email LIKE '%@%'),
             name text DEFAULT 'anon',
             created text NOT NULL DEFAULT CURRENT_TIMESTAMP,
             score real DEFAULT (1.5 * 2),
             email_lower text GENERATED ALWAYS AS (lower(email)) VIRTUAL,
             name_len int AS (length(name)) STORED,
             manager_id integer REFERENCES users (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
             CONSTRAINT users_name_check CHECK (name <> '')
         );
         CREATE TABLE tags (name text PRIMARY KEY, user_id int NOT NULL, FOREIGN KEY (user_id) REFERENCES users ON UPDATE CASCADE) WITHOUT ROWID, STRICT;
         CREATE UNIQUE INDEX users_lower_email ON users (lower(email)) WHERE email IS NOT NULL;
         CREATE INDEX tags_user ON tags (user_id DESC);
         CREATE VIEW named_users AS SELECT id, email AS address FROM users WHERE name IS NOT NULL;
         CREATE TRIGGER users_touch AFTER UPDATE OF email ON users FOR EACH ROW
         BEGIN UPDATE users SET name = 'changed' WHERE id = NEW.id; END;",
    )
    .await;
}

#[tokio::test]
async fn rebuild_for_a_type_change_keeps_indexes_triggers_views_and_referencing_rows() {
    let (up, _) = round_trip(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, sku text NOT NULL, qty int);
         CREATE INDEX items_sku ON items (sku);
         CREATE TABLE audit (item_id int, qty int);
         CREATE TRIGGER items_audit AFTER UPDATE ON items BEGIN INSERT INTO audit VALUES (NEW.id, NEW.qty); END;
         CREATE VIEW stock AS SELECT sku, qty FROM items;
         CREATE TABLE lines (id INTEGER PRIMARY KEY, item_id int NOT NULL REFERENCES items (id) ON DELETE CASCADE);",
        "INSERT INTO items VALUES (1, 'a', 5), (2, 'b', NULL), (3, 'c', 7);
         INSERT INTO lines VALUES (10, 1), (11, 1), (12, 3);
         INSERT INTO audit VALUES (1, 4);",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, sku text NOT NULL, qty real);
         CREATE INDEX items_sku ON items (sku);
         CREATE TABLE audit (item_id int, qty int);
         CREATE TRIGGER items_audit AFTER UPDATE ON items BEGIN INSERT INTO audit VALUES (NEW.id, NEW.qty); END;
         CREATE VIEW stock AS SELECT sku, qty FROM items;
         CREATE TABLE lines (id INTEGER PRIMARY KEY, item_id int NOT NULL REFERENCES items (id) ON DELETE CASCADE);",
    )
    .await;
    assert!(up.iter().any(|s| s.starts_with("CREATE TABLE \"items__schema_new\"")), "{up:?}");
}

#[tokio::test]
async fn not_null_column_with_a_default_is_added() {
    round_trip(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text);",
        "INSERT INTO t VALUES (1, 'x'), (2, NULL);",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text, b int NOT NULL DEFAULT 7, c text NOT NULL DEFAULT CURRENT_TIMESTAMP);",
    )
    .await;
}

#[tokio::test]
async fn column_used_by_an_index_is_dropped() {
    round_trip(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text, b text); CREATE INDEX t_ab ON t (a, b);
         CREATE INDEX t_lower_b ON t (lower(b)) WHERE b IS NOT NULL;",
        "INSERT INTO t VALUES (1, 'x', 'y'), (2, NULL, 'z');",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text); CREATE INDEX t_a ON t (a);",
    )
    .await;
}

#[tokio::test]
async fn constraints_options_and_keys_change_by_rebuild() {
    round_trip(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, code text);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id int, n int CHECK (n > 0));",
        "INSERT INTO parent VALUES (1, 'a'), (5, 'b'); DELETE FROM parent WHERE id = 5; INSERT INTO parent (code) VALUES ('c');
         INSERT INTO child VALUES (1, 1, 3), (2, 6, 4), (3, NULL, 9);",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, code text UNIQUE);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id), n int CHECK (n >= 0), parent_code text) WITHOUT ROWID;",
    )
    .await;
}

#[tokio::test]
async fn renamed_and_dropped_tables_and_views_on_views() {
    round_trip(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v text); CREATE TABLE gone (id int);
         CREATE VIEW va AS SELECT id, v FROM a; CREATE VIEW vva AS SELECT v FROM va;",
        "INSERT INTO a VALUES (1, 'one'); INSERT INTO gone VALUES (3);",
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v text NOT NULL DEFAULT '');
         CREATE VIEW va AS SELECT id, v FROM a; CREATE VIEW vva AS SELECT v FROM va;",
    )
    .await;
}

#[tokio::test]
async fn rename_annotations_rename_in_place_and_keep_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    run(&db, "CREATE TABLE tickets (id INTEGER PRIMARY KEY, summary TEXT); INSERT INTO tickets VALUES (7, 'broken');")
        .await;
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    let desired = "-- schema:renamed-from tickets\nCREATE TABLE issues (\n  id INTEGER PRIMARY KEY,\n  \
                   title TEXT -- schema:renamed-from summary\n);";
    std::fs::write(schema_dir.join("schema.sql"), desired).unwrap();
    let url = format!("sqlite:{}", db.display());
    let settings = Settings { url: Some(url.clone()), schema_dir, ..Settings::default() };
    let migration = pipeline::migration(&settings).await.expect("plan up");
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    // The rename may come as a rebuild (the synthesized key name follows the table name); either way
    // the old column's values must reach the new column.
    assert!(
        up.iter()
            .all(|s| !s.starts_with("DROP TABLE \"tickets\"") || up.iter().any(|u| u.contains("\"summary\" FROM")))
    );
    schema::dialect::execute(&url, &up, true).await.expect("apply up");
    let kept = rows(&db, "issues", &["id".to_string(), "title".to_string()]).await;
    assert_eq!(kept.len(), 1);
    assert!(kept[0].contains("broken"), "{kept:?}");
    assert!(pipeline::migration(&settings).await.unwrap().up.is_empty());
}

/// diff.toml rename hints written without a schema (`from = "tickets"`) work with SQLite, whose one
/// schema is `main`.
#[tokio::test]
async fn rename_hints_without_a_schema_rename_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    run(&db, "CREATE TABLE tickets (id INTEGER PRIMARY KEY, summary TEXT); INSERT INTO tickets VALUES (7, 'broken');")
        .await;
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(schema_dir.join("schema.sql"), "CREATE TABLE issues (id INTEGER PRIMARY KEY, title TEXT);").unwrap();
    let config: schema::config::Config = toml::from_str(
        "[[rename.table]]\nfrom = \"tickets\"\nto = \"issues\"\n\n[[rename.column]]\ntable = \"issues\"\nfrom = \"summary\"\nto = \"title\"\n",
    )
    .unwrap();
    let mut settings = Settings::from_config(&config, dir.path()).unwrap();
    settings.url = Some(format!("sqlite:{}", db.display()));
    settings.schema_dir = schema_dir;
    let migration = pipeline::migration(&settings).await.expect("plan up");
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    // In place or by a rebuild that copies the old column into the new one (see the test above).
    let renamed = up.iter().any(|s| s.contains("RENAME COLUMN \"summary\" TO \"title\""))
        || up.iter().any(|s| s.contains("SELECT \"id\", \"summary\" FROM \"tickets\""));
    assert!(renamed, "{up:?}");
    schema::dialect::execute(settings.url.as_deref().unwrap(), &up, true).await.expect("apply up");
    let kept = rows(&db, "issues", &["id".to_string(), "title".to_string()]).await;
    assert!(kept.len() == 1 && kept[0].contains("broken"), "{kept:?}");
}

/// A nullable column that becomes NOT NULL with a default: rows holding NULL take the default in the
/// rebuild's copy instead of failing it.
#[tokio::test]
async fn column_made_not_null_with_a_default_fills_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    run(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT); INSERT INTO t VALUES (1, 'x'), (2, NULL);").await;
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(
        schema_dir.join("schema.sql"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL DEFAULT 'none');",
    )
    .unwrap();
    let url = format!("sqlite:{}", db.display());
    let settings = Settings { url: Some(url.clone()), schema_dir, ..Settings::default() };
    let up: Vec<String> =
        pipeline::migration(&settings).await.expect("plan").up.statements().map(String::from).collect();
    schema::dialect::execute(&url, &up, true).await.unwrap_or_else(|e| panic!("apply: {e:#}\n{up:?}"));
    let kept = rows(&db, "t", &["id".to_string(), "a".to_string()]).await;
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.iter().any(|r| r.contains("none")) && kept.iter().any(|r| r.contains('x')), "{kept:?}");
    assert!(pipeline::migration(&settings).await.unwrap().up.is_empty());
}

/// SQLite cannot rename an index: one renamed in the schema files is dropped and created again.
#[tokio::test]
async fn renamed_index_is_dropped_and_created_under_its_new_name() {
    let (up, down) = round_trip(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v text); CREATE INDEX t_old ON t (v);",
        "INSERT INTO t VALUES (1, 'a');",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v text); CREATE INDEX t_new ON t (v);",
    )
    .await;
    assert!(up.iter().any(|s| s.starts_with("DROP INDEX \"t_old\"")), "{up:?}");
    assert!(up.iter().any(|s| s.starts_with("CREATE INDEX \"t_new\"")), "{up:?}");
    assert!(down.iter().any(|s| s.starts_with("CREATE INDEX \"t_old\"")), "{down:?}");
}
