//! The round-trip property on real SQLite databases (files in a temporary directory), with rows in
//! every table: up converges to the desired schema, a second plan is empty, down converges back, and
//! every row and value of the columns both sides share survives both directions. Schemas are
//! compared with a fingerprint written for these tests from `sqlite_schema` and the pragmas, not with
//! the tool's model.

use schema::pipeline;
use schema::settings::Settings;
use schema::testkit::quote_ident;
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

/// Writes `sql` as the schema file `file` under `dir/schema` and returns the URL of the SQLite database at
/// `db` with the settings that plan it against that schema.
fn declare(dir: &Path, db: &Path, file: &str, sql: &str) -> (String, Settings) {
    let schema_dir = dir.join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(schema_dir.join(file), sql).unwrap();
    let url = format!("sqlite:{}", db.display());
    (url.clone(), Settings { url: Some(url), schema_dir, ..Settings::default() })
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
    let (url, settings) = declare(dir.path(), &db, "schema.sql", desired);

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
    let config: schema::settings::Config = toml::from_str(
        "[[rename.table]]\nfrom = \"tickets\"\nto = \"issues\"\n\n[[rename.column]]\ntable = \"issues\"\nfrom = \"summary\"\nto = \"title\"\n",
    )
    .unwrap();
    let mut settings = Settings::from_config(&config, dir.path()).unwrap();
    settings.url = Some(format!("sqlite:{}", db.display()));
    settings.schema_dir = schema_dir;
    let migration = pipeline::migration(&settings).await.expect("plan up");
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    // In place or by a rebuild that copies the old column into the new one (see the test above), after
    // the table is renamed in place.
    let renamed = up.iter().any(|s| s.contains("RENAME COLUMN \"summary\" TO \"title\""))
        || up.iter().any(|s| s.contains("SELECT \"id\", \"summary\" FROM \"issues\""));
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

/// SQLite rewrites the views and triggers that name a renamed table or column, quoting the new name;
/// they are created again from the declared text, so the next plan is empty. Checks and indexes keep
/// SQLite's rewrite: a quoted name of one of the table's own columns reads as the unquoted one.
#[tokio::test]
async fn views_and_triggers_over_renamed_tables_and_columns_end_as_declared() {
    let (up, _) = round_trip(
        "CREATE TABLE log (m text);
         CREATE TABLE tickets (id integer CONSTRAINT pk PRIMARY KEY, summary text CONSTRAINT ck CHECK (length(summary) > 0));
         CREATE INDEX tickets_summary ON tickets (lower(summary)) WHERE summary <> '';
         CREATE VIEW ticket_count AS SELECT count(*) AS n FROM tickets WHERE summary IS NOT NULL;
         CREATE TRIGGER tickets_log AFTER INSERT ON tickets BEGIN INSERT INTO log VALUES (NEW.summary); END;",
        "INSERT INTO tickets VALUES (1, 'a');",
        "CREATE TABLE log (m text);
         -- schema:renamed-from tickets
         CREATE TABLE issues (
             id integer CONSTRAINT pk PRIMARY KEY,
             title text CONSTRAINT ck CHECK (length(title) > 0) -- schema:renamed-from summary
         );
         CREATE INDEX tickets_summary ON issues (lower(title)) WHERE title <> '';
         CREATE VIEW ticket_count AS SELECT count(*) AS n FROM issues WHERE title IS NOT NULL;
         CREATE TRIGGER tickets_log AFTER INSERT ON issues BEGIN INSERT INTO log VALUES (NEW.title); END;",
    )
    .await;
    assert!(up.iter().any(|s| s.starts_with("ALTER TABLE \"tickets\" RENAME TO")), "renamed in place: {up:?}");
}

/// A double-quoted word that names no column is a string to SQLite, which rewrites it to single quotes
/// everywhere when a column is dropped or renamed: the declared text is read that way, so dropping a
/// column of one table leaves nothing to do in another table's check.
#[tokio::test]
async fn double_quoted_strings_read_as_sqlite_leaves_them_after_a_dropped_column() {
    round_trip(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text, b text); CREATE TABLE u (x text CHECK (x <> \"zz\"));",
        "INSERT INTO t VALUES (1, 'a', 'b'); INSERT INTO u VALUES ('y');",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text); CREATE TABLE u (x text CHECK (x <> \"zz\"));",
    )
    .await;
}

/// UNIQUE and PRIMARY KEY constraints compare with the collation and order written on their keys. A
/// descending key of one INTEGER column is not the rowid when written on its column (SQLite's
/// documented quirk) but is when written as a table constraint: it stays on its column.
#[tokio::test]
async fn key_collations_and_order_are_kept() {
    round_trip(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, e text); CREATE TABLE q (id INTEGER, v text);",
        "INSERT INTO t VALUES (1, 'A'), (2, 'b'); INSERT INTO q VALUES (5, 'five');",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, e text, UNIQUE (e COLLATE NOCASE DESC));
         CREATE TABLE k (name text, n int, PRIMARY KEY (name COLLATE RTRIM, n DESC)) WITHOUT ROWID;
         CREATE TABLE q (id INTEGER PRIMARY KEY DESC, v text);",
    )
    .await;
}

/// A view over a table that was dropped no longer prepares; the database stays readable, and the view
/// is dropped, and created again by the down migration, as it is.
#[tokio::test]
async fn a_view_over_a_dropped_table_does_not_make_the_database_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let stale = "CREATE VIEW stale AS SELECT a FROM gone";
    run(&db, &format!("CREATE TABLE gone (a); {stale}; DROP TABLE gone; CREATE TABLE keep (id integer PRIMARY KEY);"))
        .await;
    let (url, settings) = declare(dir.path(), &db, "app.sql", "CREATE TABLE keep (id integer PRIMARY KEY);");
    let migration = pipeline::migration(&settings).await.expect("plan");
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    let down: Vec<String> = migration.down.statements().map(String::from).collect();
    assert_eq!(up, ["DROP VIEW \"stale\";"]);
    schema::dialect::execute(&url, &up, true).await.expect("apply up");
    assert!(pipeline::migration(&settings).await.unwrap().up.is_empty());
    schema::dialect::execute(&url, &down, true).await.expect("apply down");
    let mut conn = open(&db).await;
    let sql = strings(&mut conn, "SELECT sql FROM sqlite_schema WHERE name = 'stale'").await;
    assert_eq!(sql, ["CREATE VIEW \"stale\" AS\nSELECT a FROM gone"]);
}

/// The tables a virtual table keeps its data in are its own; a table whose name merely starts with the
/// virtual table's name is managed like any other.
#[tokio::test]
async fn a_table_named_like_a_virtual_tables_shadow_tables_is_managed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let url = format!("sqlite:{}", db.display());
    let archive = "CREATE TABLE docs_archive (id integer PRIMARY KEY);";
    run(&db, &format!("CREATE VIRTUAL TABLE docs USING fts5(body); {archive}")).await;
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(schema_dir.join("app.sql"), archive).unwrap();
    let settings = Settings { url: Some(url), schema_dir, ..Settings::default() };
    let migration = pipeline::migration(&settings).await.expect("plan");
    let steps: Vec<&String> = migration.up.steps.iter().map(|s| &s.description).collect();
    assert!(migration.up.is_empty(), "{steps:?}");
}

/// What conflicting inserts do to `t` and `a` (see the test below), as rows or errors.
async fn conflict_behaviour(path: &Path) -> Vec<String> {
    let mut conn = open(path).await;
    let mut out = Vec::new();
    for insert in [
        "INSERT INTO t VALUES (1, 'a', 'first')",
        "INSERT INTO t VALUES (1, 'b', 'same id')",
        "INSERT INTO t VALUES (2, 'b', 'same email')",
        "INSERT INTO a (id, k) VALUES (1, 'x')",
        "INSERT INTO a (id, k) VALUES (1, 'y')",
        "INSERT INTO a (id, k) VALUES (2, 'y')",
    ] {
        let result = sqlx::raw_sql(insert).execute(&mut conn).await;
        out.push(format!("{insert}: {}", result.map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string())));
    }
    out.extend(strings(&mut conn, "SELECT id || ',' || email || ',' || v FROM t ORDER BY id").await);
    out.extend(strings(&mut conn, "SELECT id || ',' || k FROM a ORDER BY id").await);
    out
}

/// `ON CONFLICT` clauses of PRIMARY KEY and UNIQUE constraints decide what a conflicting INSERT does:
/// they are read, compared (a table without them is rebuilt) and written back, on an AUTOINCREMENT key
/// too; the down migration takes them away again.
#[tokio::test]
async fn conflict_clauses_of_keys_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let plain = "CREATE TABLE t (id integer PRIMARY KEY, email text UNIQUE, v text);
                 CREATE TABLE a (id integer PRIMARY KEY AUTOINCREMENT, k text UNIQUE);";
    let declared = "CREATE TABLE t (id integer PRIMARY KEY ON CONFLICT REPLACE, email text UNIQUE ON CONFLICT IGNORE, v text);
                    CREATE TABLE a (id integer PRIMARY KEY ON CONFLICT REPLACE AUTOINCREMENT, k text, UNIQUE (k) ON CONFLICT FAIL);";
    run(&db, plain).await;
    let (before, reference_plain, reference) =
        (dir.path().join("before.db"), dir.path().join("plain.db"), dir.path().join("declared.db"));
    run(&reference_plain, plain).await;
    run(&reference, declared).await;
    let (url, settings) = declare(dir.path(), &db, "app.sql", declared);
    let migration = pipeline::migration(&settings).await.expect("plan");
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    let down: Vec<String> = migration.down.statements().map(String::from).collect();
    assert!(up.iter().any(|s| s.starts_with("CREATE TABLE \"t__schema_new\"")), "{up:?}");
    schema::dialect::execute(&url, &up, true).await.expect("apply up");
    assert!(pipeline::migration(&settings).await.unwrap().up.is_empty());
    std::fs::copy(&db, &before).unwrap();
    assert_eq!(conflict_behaviour(&before).await, conflict_behaviour(&reference).await);
    schema::dialect::execute(&url, &down, true).await.expect("apply down");
    assert_eq!(conflict_behaviour(&db).await, conflict_behaviour(&reference_plain).await);
}

/// SQLite cannot add a NOT NULL column without a default in place; the rebuild that adds it copies no
/// value into it, so it fails on a table with rows. The plan reports `not-null-without-default` for
/// that table (not for a new one), and applying it fails and changes nothing.
#[tokio::test]
async fn a_not_null_column_without_a_default_is_a_hazard_of_the_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    run(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a text); INSERT INTO t VALUES (1, 'x');").await;
    let before = fingerprint(&db).await;
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(
        schema_dir.join("app.sql"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text, b text NOT NULL); CREATE TABLE n (c text NOT NULL);",
    )
    .unwrap();
    let url = format!("sqlite:{}", db.display());
    let settings = Settings { url: Some(url.clone()), schema_dir, ..Settings::default() };
    let migration = pipeline::migration(&settings).await.expect("plan");
    let hazards: Vec<(&str, String)> =
        migration.up.hazards().map(|(_, h)| (h.id.as_str(), h.message.clone())).collect();
    let not_null: Vec<&String> =
        hazards.iter().filter(|(id, _)| *id == "not-null-without-default").map(|(_, m)| m).collect();
    assert_eq!(not_null, ["adds NOT NULL column main.t.b without a default, which fails if the table has rows"]);
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    let error = schema::dialect::execute(&url, &up, true).await.expect_err("the copy fails");
    assert!(format!("{error:#}").contains("NOT NULL constraint failed"), "{error:#}");
    assert_eq!(fingerprint(&db).await, before);
}

/// A column made NOT NULL by a rebuild without a usable default keeps its NULLs, and the copy fails
/// on a row that holds one; `DEFAULT NULL` is no default (it was taken for one, and neither this nor a
/// new `NOT NULL DEFAULT NULL` column was reported).
#[tokio::test]
async fn a_column_made_not_null_without_a_default_is_a_hazard_of_the_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    run(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a text, k text NOT NULL); INSERT INTO t VALUES (1, NULL, 'k');")
        .await;
    let before = fingerprint(&db).await;
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(
        schema_dir.join("app.sql"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text DEFAULT NULL NOT NULL, k text NOT NULL, b int NOT NULL DEFAULT NULL);",
    )
    .unwrap();
    let url = format!("sqlite:{}", db.display());
    let settings = Settings { url: Some(url.clone()), schema_dir, ..Settings::default() };
    let migration = pipeline::migration(&settings).await.expect("plan");
    let mut not_null: Vec<String> = migration
        .up
        .hazards()
        .filter(|(_, h)| h.id.as_str() == "not-null-without-default")
        .map(|(_, h)| h.message.clone())
        .collect();
    not_null.sort();
    assert_eq!(
        not_null,
        [
            "adds NOT NULL column main.t.b without a default, which fails if the table has rows",
            "makes column main.t.a NOT NULL without a default, which fails if a row holds NULL",
        ]
    );
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    let error = schema::dialect::execute(&url, &up, true).await.expect_err("the copy fails");
    assert!(format!("{error:#}").contains("NOT NULL constraint failed"), "{error:#}");
    assert_eq!(fingerprint(&db).await, before);
}

/// SQLite syntax that sqlparser cannot parse or print faithfully (`<<`, `IS NOT expr`, `->>`, `0x` integers,
/// `RAISE`, `INSERT OR REPLACE`, window functions, recursive CTEs, STRICT with ANY) goes through as written:
/// definitions are cut from the stored text, not printed from sqlparser's AST.
#[tokio::test]
async fn sqlite_syntax_goes_through_as_written() {
    round_trip(
        "CREATE TABLE audit (at text, msg text);",
        "INSERT INTO audit VALUES ('then', 'kept');",
        "CREATE TABLE doc (
             id integer PRIMARY KEY, data text CHECK (json_valid(data)), kind any,
             n int CHECK (typeof(n) = 'integer' AND n BETWEEN 0x0 AND 0xFF),
             code text CHECK (code GLOB '[A-Z]*' AND code NOT LIKE '%\\_%' ESCAPE '\\'),
             title text AS (data ->> '$.title') VIRTUAL,
             total real GENERATED ALWAYS AS (CAST(json_extract(data, '$.total') AS real)) STORED
         ) STRICT;
         CREATE TABLE audit (at text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), msg text);
         CREATE INDEX doc_title ON doc (data ->> '$.title' COLLATE NOCASE DESC) WHERE json_type(data, '$.title') = 'text';
         CREATE VIEW doc_stats AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3)
             SELECT d.id, iif(d.n > 10, 'big', 'small') AS size, row_number() OVER (PARTITION BY d.kind ORDER BY d.id DESC) AS rn,
                    (SELECT group_concat(x, ',') FROM c) AS xs, d.n << 2 | 1 AS bits, ~d.n AS inv, d.code IS NOT d.title AS differs
             FROM doc AS d LEFT JOIN audit a ON a.msg = d.code WHERE d.n NOT NULL AND d.code ISNULL = 0 LIMIT 10 OFFSET 0;
         CREATE TRIGGER doc_guard BEFORE UPDATE OF n ON doc FOR EACH ROW WHEN NEW.n < OLD.n
         BEGIN
             SELECT RAISE(ABORT, 'n can''t decrease');
             INSERT OR REPLACE INTO audit (msg) VALUES ('n ' || OLD.n || ' -> ' || NEW.n);
         END;",
    )
    .await;
}

/// Runs the binary in `dir`; returns the exit code and both outputs.
fn cli(dir: &Path, url: &str, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_schema"))
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .args(["--url", url])
        .args(args)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.code().unwrap(), text(&output.stdout), text(&output.stderr))
}

fn cli_ok(dir: &Path, url: &str, args: &[&str]) -> String {
    let (code, stdout, stderr) = cli(dir, url, args);
    assert_eq!(code, 0, "{args:?}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}");
    stdout
}

/// Names with every character that quoting must survive: both quotes, `;`, comment starters,
/// backticks, brackets, non-ASCII letters and spaces.
const TABLE: &str = "tbl \"q\" 'a'; --c /*d*/ `e` [f] ü";
const COLUMN: &str = "col \"q\" 'a'; -- /*x*/ `b` [c] ✓";
const VIEW: &str = "view \"v\"; -- /*";
const INDEX: &str = "idx 'i' /* [x] */ \"j\"";
const TRIGGER: &str = "trg \"t\" `b` ; --";
const CHECK: &str = "chk \"k\"; --";
const UNIQUE: &str = "uq 'u' [x]";

/// The hostile schema: every construct whose text SQLite stores, with literals that end the statement
/// early if a doubled quote is lost, a type name that does if it loses its quotes, a default whose
/// comment swallows the closing parenthesis if it is written back bare, and a hexadecimal integer
/// (sqlparser reads it as a blob). `version` changes every literal and adds a column (a rebuild).
fn hostile_schema(version: u32) -> String {
    let (t, c) = (quote_ident(TABLE), quote_ident(COLUMN));
    let extra = if version == 2 { "\n    extra text NOT NULL DEFAULT 'e''; DROP TABLE canary; --'," } else { "" };
    format!(
        "CREATE TABLE canary (id integer PRIMARY KEY, note text);
CREATE TABLE log (entry text);
CREATE TABLE {t} (
    id integer PRIMARY KEY,
    {c} text NOT NULL DEFAULT 'x''; DROP TABLE canary; --' COLLATE NOCASE CONSTRAINT {k} CHECK ({c} <> 'it''s /* no */ -- no{version}'),
    g text GENERATED ALWAYS AS ({c} || 'a\"b; --{version}') VIRTUAL,
    s text AS ('x''y{version}' || {c}) STORED,
    h \"int); DROP TABLE canary; --\" DEFAULT (0x1{version} -- ); DROP TABLE canary;
    ),{extra}
    CONSTRAINT {u} UNIQUE ({c})
);
CREATE TABLE child (id integer PRIMARY KEY, ref integer REFERENCES {t} (id) ON DELETE CASCADE);
CREATE INDEX {i} ON {t} (lower({c}), 'z''z' || {c}) WHERE {c} <> 'w''; DROP TABLE canary; --{version}';
CREATE VIEW {v} AS SELECT id, {c}, 0x1F AS hex, 'it''s' AS its, 'v''; DROP TABLE canary; --{version}' AS lit, 'line1
line2 ''{version}' AS ml FROM {t} WHERE {c} <> '/*';
CREATE TRIGGER {tr} AFTER INSERT ON {t} WHEN NEW.{c} <> 'n''o' BEGIN INSERT INTO log VALUES ('t''; DROP TABLE canary; --{version}' || NEW.{c}); END;
",
        k = quote_ident(CHECK),
        u = quote_ident(UNIQUE),
        i = quote_ident(INDEX),
        v = quote_ident(VIEW),
        tr = quote_ident(TRIGGER),
    )
}

/// What the hostile objects do: defaults, generated values, the check, the trigger and the view, seen
/// through rows. Empties the tables first, then inserts rows.
async fn hostile_behaviour(path: &Path, version: u32) -> Vec<String> {
    let id = i64::from(version) * 100;
    let (t, c) = (quote_ident(TABLE), quote_ident(COLUMN));
    let mut conn = open(path).await;
    let mut out = Vec::new();
    for insert in [
        "DELETE FROM child".to_string(),
        format!("DELETE FROM {t}"),
        "DELETE FROM log".to_string(),
        format!("INSERT INTO {t} (id) VALUES ({id})"),
        format!("INSERT INTO {t} (id, {c}) VALUES ({}, 'hello ''world'' {id}')", id + 1),
        format!("INSERT INTO child VALUES ({id}, {})", id + 1),
        // The check refuses the first, not the second.
        format!("INSERT INTO {t} (id, {c}) VALUES ({}, 'it''s /* no */ -- no{version}')", id + 2),
        format!("INSERT INTO {t} (id, {c}) VALUES ({}, 'it''s /* no */ -- no{}')", id + 3, version + 10),
    ] {
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(insert.clone())).execute(&mut conn).await;
        out.push(format!("{insert}: {}", if result.is_ok() { "accepted" } else { "rejected" }));
    }
    for select in [
        format!(
            "SELECT quote(id) || ',' || quote({c}) || ',' || quote(g) || ',' || quote(s) || ',' || quote(h) FROM {t} ORDER BY id"
        ),
        "SELECT quote(entry) FROM log ORDER BY 1".to_string(),
        format!(
            "SELECT quote(id) || ',' || quote({c}) || ',' || quote(hex) || ',' || quote(its) || ',' || quote(lit) || ',' || quote(ml) \
             FROM {} ORDER BY id",
            quote_ident(VIEW)
        ),
    ] {
        out.extend(strings(&mut conn, &select).await);
    }
    out
}

async fn schema_without_tracking(path: &Path) -> Vec<String> {
    fingerprint(path).await.into_iter().filter(|l| !l.contains("schema_migrations")).collect()
}

/// Literals and names that end a statement early when a quote is lost, in every construct whose text
/// SQLite keeps (default, check, generated columns, view, partial and expression index, trigger), go
/// through `generate` and `migrate up` (creation, then a rebuild of the table and new views, index and
/// trigger) and `migrate down` unchanged: the canary keeps its row, the database matches the declared
/// schema and behaves like it, and a second plan is empty.
#[tokio::test]
async fn hostile_literals_and_names_survive_generate_migrate_up_and_down() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let url = format!("sqlite:{}", db.display());
    run(&db, "CREATE TABLE canary (id integer PRIMARY KEY, note text); INSERT INTO canary VALUES (1, 'alive');").await;
    let original = schema_without_tracking(&db).await;
    let canary = vec!["1,'alive'".to_string()];
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    let mut after = Vec::new();
    for version in [1, 2] {
        // The second round rebuilds the table with the rows the first one left (and the hostile values
        // of its default, generated columns and trigger) in it.
        let declared = hostile_schema(version);
        std::fs::write(schema_dir.join("app.sql"), &declared).unwrap();
        cli_ok(dir.path(), &url, &["generate", "--name", &format!("hostile{version}")]);
        cli_ok(dir.path(), &url, &["migrate", "up"]);
        let mut conn = open(&db).await;
        assert_eq!(strings(&mut conn, "SELECT quote(id) || ',' || quote(note) FROM canary").await, canary);
        let reference = dir.path().join(format!("desired{version}.db"));
        run(&reference, &declared).await;
        let schema = schema_without_tracking(&db).await;
        assert_eq!(schema, fingerprint(&reference).await, "version {version}");
        let behaviour = hostile_behaviour(&db, version).await;
        assert_eq!(behaviour, hostile_behaviour(&reference, version).await, "version {version}");
        assert_eq!(cli_ok(dir.path(), &url, &["plan", "--exit-code"]), "no changes\n", "version {version}");
        after.push(schema);
    }
    cli_ok(dir.path(), &url, &["migrate", "down"]);
    assert_eq!(schema_without_tracking(&db).await, after[0]);
    cli_ok(dir.path(), &url, &["migrate", "down"]);
    assert_eq!(schema_without_tracking(&db).await, original);
    let mut conn = open(&db).await;
    assert_eq!(strings(&mut conn, "SELECT quote(id) || ',' || quote(note) FROM canary").await, canary);
}

/// A database whose objects hold doubled quotes in defaults, checks, views, indexes and triggers, and
/// a table named `a"b`, is readable: with `ignore` matching them, `plan` sees nothing to do.
#[tokio::test]
async fn a_database_with_hostile_objects_is_readable_when_they_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let url = format!("sqlite:{}", db.display());
    run(
        &db,
        "CREATE TABLE canary (id integer PRIMARY KEY);
         CREATE TABLE \"a\"\"b\" (v text DEFAULT 'it''s' CHECK (v <> 'a''b'), w text AS ('x''y') VIRTUAL);
         CREATE INDEX \"a\"\"b_v\" ON \"a\"\"b\" (v) WHERE v <> 'c''d';
         CREATE VIEW \"a\"\"b_view\" AS SELECT 'it''s' AS v;
         CREATE TRIGGER \"a\"\"b_trigger\" AFTER INSERT ON \"a\"\"b\" BEGIN SELECT 'e''f'; END;",
    )
    .await;
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(schema_dir.join("app.sql"), "CREATE TABLE canary (id integer PRIMARY KEY);").unwrap();
    std::fs::write(dir.path().join("diff.toml"), "ignore = [\"main.a\\\"b*\"]\n").unwrap();
    assert_eq!(cli_ok(dir.path(), &url, &["plan", "--exit-code"]), "no changes\n");
}

/// A table renamed and rebuilt in the same plan is renamed in place first, so SQLite rewrites the
/// foreign keys of the tables that reference it; a rebuild copying from the old name left them
/// pointing at a table that no longer exists, and the migration failed at COMMIT.
#[tokio::test]
async fn a_renamed_and_rebuilt_table_keeps_the_foreign_keys_that_reference_it() {
    round_trip(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);",
        "INSERT INTO parent VALUES (1, 'a'), (2, 'b'); INSERT INTO child VALUES (10, 1), (11, 2);",
        "CREATE TABLE owner -- schema:renamed-from parent
         (id INTEGER PRIMARY KEY, code VARCHAR(10));
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES owner (id) DEFERRABLE INITIALLY DEFERRED);",
    )
    .await;
}

/// Random (current, desired) SQLite pairs (`schema::testkit::random_sqlite`), rows in every table of
/// current, through the round trip as a user runs it: plan, write the files, `migrate up --contract`
/// with the tool's runner, compare with desired loaded alone and every kept row, plan again (nothing),
/// `migrate down --all`, compare with current and the rows again. A pair whose rows cannot take the
/// desired side must be flagged `not-null-without-default` and refused by `migrate up`, changing
/// nothing. `SCHEMA_SQLITE_PAIRS` (default 300) and `SCHEMA_SQLITE_SEED` (the first seed, default 0)
/// run more or other pairs; a failing seed is printed with the command that runs it alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_sqlite_pairs_round_trip_with_their_rows() {
    let env = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (first, count) = (env("SCHEMA_SQLITE_SEED", 0), env("SCHEMA_SQLITE_PAIRS", 300));
    let outcomes = schema::testkit::random_sqlite::check_pairs(first..first + count, 2).await.expect("pairs");
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            let failure = o.failure.as_ref()?;
            let files: String = o.files.iter().map(|(file, text)| format!("--- {file}\n{text}\n")).collect();
            Some(format!(
                "seed {}: {failure}\n{files}rerun: SCHEMA_SQLITE_SEED={} SCHEMA_SQLITE_PAIRS=1 cargo test --test \
                 sqlite_roundtrip generated_sqlite_pairs (the pair: cargo run --example generative_sqlite -- --seed {} --print)",
                o.seed, o.seed, o.seed
            ))
        })
        .collect();
    assert!(failures.is_empty(), "{} of {count} pairs failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// A column renamed on a table that is rebuilt is renamed in place first, so the foreign keys of
/// other tables that name it follow (they kept the old name, and the migration failed at COMMIT:
/// foreign key mismatch).
#[tokio::test]
async fn a_renamed_column_of_a_rebuilt_table_keeps_the_foreign_keys_that_name_it() {
    round_trip(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT UNIQUE);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_code TEXT REFERENCES parent (code));",
        "INSERT INTO parent VALUES (1, 'x'), (2, 'y'); INSERT INTO child VALUES (10, 'x'), (11, 'y');",
        "CREATE TABLE parent (
             id INTEGER PRIMARY KEY,
             -- schema:renamed-from code
             label VARCHAR(10) UNIQUE
         );
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_code TEXT REFERENCES parent (label));",
    )
    .await;
}

/// A trigger on one rebuilt table that writes to another rebuilt table is dropped before the rebuilds:
/// renaming the other table's copy into place checks every trigger that names it, and the trigger,
/// left to go away with its own table's rebuild, failed it with "no such table".
#[tokio::test]
async fn a_trigger_reading_another_rebuilt_table_is_dropped_before_the_rebuilds() {
    let tables = |ty: &str| {
        format!(
            "CREATE TABLE a (id INTEGER PRIMARY KEY, c {ty});
             CREATE TABLE b (id INTEGER PRIMARY KEY, d {ty});
             CREATE TRIGGER b_touches_a AFTER DELETE ON b FOR EACH ROW BEGIN UPDATE a SET c = c WHERE 0; END;
             CREATE TRIGGER a_touches_b AFTER DELETE ON a FOR EACH ROW BEGIN UPDATE b SET d = d WHERE 0; END;"
        )
    };
    round_trip(&tables("TEXT"), "INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (2, 'y');", &tables("VARCHAR(5)"))
        .await;
}

/// A trigger on a renamed and rebuilt table that reads a table the plan drops is dropped before the
/// rebuild: it was left to go away with its table, and the rename failed on it ("no such table").
#[tokio::test]
async fn a_trigger_reading_a_dropped_table_is_dropped_before_its_table_is_renamed_and_rebuilt() {
    round_trip(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, c TEXT); CREATE TABLE gone (id INTEGER PRIMARY KEY);
         CREATE TRIGGER a_clears_gone AFTER DELETE ON a FOR EACH ROW BEGIN DELETE FROM gone WHERE id = OLD.id; END;",
        "INSERT INTO a VALUES (1, 'x'); INSERT INTO gone VALUES (1);",
        "CREATE TABLE b -- schema:renamed-from a\n(id INTEGER PRIMARY KEY, c VARCHAR(5));",
    )
    .await;
}

/// A schema copied from `sqlite3 app.db .schema` declares `CREATE TABLE sqlite_sequence(name,seq)`
/// (and `sqlite_stat1` after ANALYZE), which SQLite creates itself and refuses to anyone else: they are
/// left out of the load instead of failing it with "object name reserved for internal use".
#[tokio::test]
async fn a_schema_copied_from_sqlite3_dot_schema_loads_with_its_internal_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    run(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT); INSERT INTO t (v) VALUES ('a'); ANALYZE;")
        .await;
    let mut conn = open(&db).await;
    let dot_schema: String =
        strings(&mut conn, "SELECT sql || ';' FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid")
            .await
            .join("\n");
    conn.close().await.unwrap();
    assert!(dot_schema.contains("CREATE TABLE sqlite_sequence(name,seq);"), "{dot_schema}");
    assert!(dot_schema.contains("CREATE TABLE sqlite_stat1"), "{dot_schema}");
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(schema_dir.join("schema.sql"), &dot_schema).unwrap();
    // Against the database it came from: nothing to do.
    let url = format!("sqlite:{}", db.display());
    let settings = Settings { url: Some(url), schema_dir: schema_dir.clone(), ..Settings::default() };
    let migration = pipeline::migration(&settings).await.expect("plan against its own database");
    assert!(migration.up.is_empty(), "{:?}", migration.up.statements().collect::<Vec<_>>());
    // Against an empty database: the table is created, with its AUTOINCREMENT.
    let empty = dir.path().join("empty.db");
    run(&empty, "").await;
    let settings = Settings { url: Some(format!("sqlite:{}", empty.display())), schema_dir, ..Settings::default() };
    let migration = pipeline::migration(&settings).await.expect("plan against an empty database");
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    schema::dialect::execute(settings.url.as_deref().unwrap(), &up, true).await.expect("apply");
    let mut conn = open(&empty).await;
    let sql = strings(&mut conn, "SELECT sql FROM sqlite_schema WHERE name = 't'").await;
    assert!(sql[0].contains("AUTOINCREMENT"), "{sql:?}");
}

/// A rebuild whose new table shares no column with the old one (every column renamed away, dropped
/// or replaced) keeps the rows, each new column at its default: nothing was copied, and the table was
/// emptied without a word beyond the dropped columns' data loss.
#[tokio::test]
async fn a_rebuild_sharing_no_column_keeps_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    run(&db, "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a); INSERT INTO t VALUES (1), (2), (NULL);").await;
    let (url, settings) =
        declare(dir.path(), &db, "schema.sql", "CREATE TABLE t (b text DEFAULT 'new', CHECK (b <> ''));");
    let migration = pipeline::migration(&settings).await.expect("plan up");
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    schema::dialect::execute(&url, &up, true).await.expect("apply up");
    assert_eq!(rows(&db, "t", &["b".to_string()]).await, vec!["'new'", "'new'", "'new'"], "{up:?}");
    let down: Vec<String> = migration.down.statements().map(String::from).collect();
    schema::dialect::execute(&url, &down, true).await.expect("apply down");
    assert_eq!(rows(&db, "t", &["a".to_string()]).await, vec!["NULL", "NULL", "NULL"], "{down:?}");
}

/// New columns that make up a whole UNIQUE constraint with one constant default give every row the
/// same value: the rebuild's copy fails on the second row. The plan reports
/// `unique-constant-default` (it reported nothing); a constraint that also covers an existing column,
/// or a default that is NULL, is not reported.
#[tokio::test]
async fn a_new_unique_column_with_a_constant_default_is_a_hazard_of_the_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    run(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a text); INSERT INTO t VALUES (1, 'x'), (2, 'y');").await;
    let before = fingerprint(&db).await;
    let schema_dir = dir.path().join("schema");
    std::fs::create_dir(&schema_dir).unwrap();
    std::fs::write(
        schema_dir.join("app.sql"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text, b int DEFAULT 5 UNIQUE, c int DEFAULT 1, \
         d text DEFAULT NULL UNIQUE, UNIQUE (a, c));",
    )
    .unwrap();
    let url = format!("sqlite:{}", db.display());
    let settings = Settings { url: Some(url.clone()), schema_dir, ..Settings::default() };
    let migration = pipeline::migration(&settings).await.expect("plan");
    let unique: Vec<String> = migration
        .up
        .hazards()
        .filter(|(_, h)| h.id.as_str() == "unique-constant-default")
        .map(|(_, h)| h.message.clone())
        .collect();
    assert_eq!(
        unique,
        [
            "adds UNIQUE column (b) to main.t with one constant default for every row, which fails if the table has two rows or more"
        ]
    );
    let up: Vec<String> = migration.up.statements().map(String::from).collect();
    let error = schema::dialect::execute(&url, &up, true).await.expect_err("the copy fails");
    assert!(format!("{error:#}").contains("UNIQUE constraint failed"), "{error:#}");
    assert_eq!(fingerprint(&db).await, before);
}

/// The history replay with SQLite (`schema::testkit::replay::replay_sqlite`) on a history of our own
/// (tests/fixtures/history_sqlite: tables with AUTOINCREMENT, a hand-written table rebuild, renames,
/// a WITHOUT ROWID and a STRICT table): for every step, planning from the state before it to the
/// `sqlite3 .schema` text and to the `inspect` of the state after it converges, plans nothing more,
/// and its down returns.
#[tokio::test]
async fn our_sqlite_history_replays_step_by_step_from_dot_schema_and_inspect() {
    use schema::testkit::replay;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/history_sqlite");
    let steps = replay::read_history(&dir).expect("history");
    assert_eq!(steps.len(), 5);
    let outcomes = replay::replay_sqlite(&steps, &replay::ReplayOptions::default(), |_| {}).await.expect("replay");
    assert_eq!(outcomes.len(), 10, "every step on both routes");
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            let files: String = o.files.iter().map(|(file, text)| format!("--- {file}\n{text}\n")).collect();
            o.failure.as_ref().map(|f| format!("step {} {} ({}): {f}\n{files}", o.index, o.name, o.route.as_str()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
