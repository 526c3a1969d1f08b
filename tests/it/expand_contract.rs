//! Expand/contract on a real PostgreSQL, driven through the binary as a user would: `generate --phased`
//! writes expand / backfill / contract migrations; `migrate up` stops before the contract; an "old
//! application" (old name, old column, or unaware of a new column) and a "new application" write against
//! the expanded schema and see each other's writes; the backfill commits batch by batch (a batch blocked by
//! a locked row leaves the earlier ones committed) and fills every row when run again; `migrate up
//! --contract` removes the old shape and the schema equals the desired one with the data where it expects
//! it; `migrate down` goes back through every phase to the start with the data intact.

use crate::support::{Run, schema_command};
use schema::dialect::postgres::connect;
use schema::testkit::roundtrip::{fingerprint, fingerprint_diff, load_sql};
use schema::testkit::{TestDatabase, pg_server};
use sqlx::{AssertSqlSafe, Row};
use std::path::{Path, PathBuf};

fn schema(db: &TestDatabase, dir: &Path, args: &[&str]) -> Run {
    let mut command = schema_command(dir, args);
    command.args(["--url", &db.url, "--schema-dir", "schema", "--out-dir", "generated"]);
    Run::of(command.spawn().expect("start the schema binary"))
}

fn ok(run: Run, what: &str) -> Run {
    assert_eq!(run.code, 0, "{what}\n--- stdout:\n{}\n--- stderr:\n{}", run.stdout, run.stderr);
    run
}

async fn rows(url: &str, sql: &str) -> Vec<String> {
    let mut conn = connect::connect(url).await.unwrap();
    let rows = sqlx::query(AssertSqlSafe(sql.to_string())).fetch_all(&mut conn).await.unwrap();
    rows.iter().map(|r| r.try_get::<String, _>(0).unwrap()).collect()
}

async fn exec(url: &str, sql: &str) {
    let mut conn = connect::connect(url).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".up.sql"))
        .collect();
    names.sort();
    names
}

struct Pattern {
    label: &'static str,
    /// diff.toml of the project.
    config: &'static str,
    current: &'static str,
    desired: &'static str,
    /// The phases `generate --phased` writes, in order.
    phases: &'static [&'static str],
    /// Text the backfill block must contain (how it walks the table).
    backfill_walk: &'static str,
    /// A row the test locks in another session while the backfill runs: (table, id). The batches before it
    /// commit; the backfill stops at its batch (lock_timeout).
    blocked_row: Option<(&'static str, i32)>,
    /// Counts the rows the backfill has done (after the blocked run: exactly the batches before the row).
    done_rows: &'static str,
    /// Whether the contract's down copies values back (a column rename or type change).
    copies_back: bool,
    /// Whether the expanded database matches the declared schema (a table rename: the compatibility view
    /// is the tool's, not drift).
    in_sync_after_expand: bool,
    /// Writes of the old application (old column) and of the new one (new column) after expand.
    old_app: &'static str,
    new_app: &'static str,
    /// (query, expected rows) after expand and the writes: each application sees the other's write.
    both_see: &'static [(&'static str, &'static [&'static str])],
    /// (query, expected rows) once contracted.
    after_contract: &'static [(&'static str, &'static [&'static str])],
    /// (query, expected rows) back at the start.
    after_down: &'static [(&'static str, &'static [&'static str])],
    /// Plain indexes of a renamed or retyped column: the backfill builds each on the new or shadow column
    /// concurrently, under `schema_tmp_<name>`, and the contract gives it the index's name.
    rebuilt_indexes: &'static [&'static str],
}

const PATTERNS: &[Pattern] = &[
    Pattern {
        label: "ec_rename",
        config: "",
        phases: &["expand", "backfill", "contract"],
        backfill_walk: "primary key order",
        blocked_row: Some(("users", 3000)),
        done_rows: "SELECT count(full_name)::text FROM users",
        in_sync_after_expand: false,
        copies_back: true,
        current: "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL DEFAULT 'anonymous');
            INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 5000) g;",
        desired: "CREATE TABLE users (\n    id int PRIMARY KEY,\n    -- schema:renamed-from name\n    full_name text NOT NULL DEFAULT 'anonymous'\n);",
        old_app: "INSERT INTO users (id, name) VALUES (10001, 'old app'); UPDATE users SET name = 'old update' WHERE id = 1;",
        new_app: "INSERT INTO users (id, full_name) VALUES (10002, 'new app'); UPDATE users SET full_name = 'new update' WHERE id = 2;",
        both_see: &[
            ("SELECT full_name FROM users WHERE id IN (10001, 1) ORDER BY id", &["old update", "old app"]),
            ("SELECT name FROM users WHERE id IN (10002, 2) ORDER BY id", &["new update", "new app"]),
        ],
        after_contract: &[
            ("SELECT count(*)::text FROM users WHERE full_name = 'user ' || id", &["4998"]),
            (
                "SELECT full_name FROM users WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["old update", "new update", "old app", "new app"],
            ),
        ],
        after_down: &[
            ("SELECT count(*)::text FROM users WHERE name = 'user ' || id", &["4998"]),
            (
                "SELECT name FROM users WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["old update", "new update", "old app", "new app"],
            ),
        ],
        rebuilt_indexes: &[],
    },
    Pattern {
        label: "ec_type",
        config: "",
        phases: &["expand", "backfill", "contract"],
        backfill_walk: "primary key order",
        blocked_row: Some(("ledger", 3000)),
        done_rows: "SELECT count(schema_new_amount)::text FROM ledger",
        in_sync_after_expand: false,
        copies_back: true,
        current: "CREATE TABLE ledger (id int PRIMARY KEY, amount int NOT NULL);
            INSERT INTO ledger SELECT g, g * 10 FROM generate_series(1, 5000) g;",
        desired: "CREATE TABLE ledger (id int PRIMARY KEY, amount bigint NOT NULL);",
        old_app: "INSERT INTO ledger (id, amount) VALUES (10001, 7); UPDATE ledger SET amount = 8 WHERE id = 1;",
        new_app: "INSERT INTO ledger (id, schema_new_amount) VALUES (10002, 3000000000 - 2999999991); \
                  UPDATE ledger SET schema_new_amount = 9 WHERE id = 2;",
        both_see: &[
            ("SELECT schema_new_amount::text FROM ledger WHERE id IN (1, 10001) ORDER BY id", &["8", "7"]),
            ("SELECT amount::text FROM ledger WHERE id IN (2, 10002) ORDER BY id", &["9", "9"]),
        ],
        after_contract: &[
            ("SELECT count(*)::text FROM ledger WHERE amount = id * 10", &["4998"]),
            (
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ledger'::regclass AND attname = 'amount'",
                &["bigint"],
            ),
            ("SELECT amount::text FROM ledger WHERE id IN (1, 2, 10001, 10002) ORDER BY id", &["8", "9", "7", "9"]),
        ],
        after_down: &[
            ("SELECT count(*)::text FROM ledger WHERE amount = id * 10", &["4998"]),
            (
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ledger'::regclass AND attname = 'amount'",
                &["integer"],
            ),
            ("SELECT amount::text FROM ledger WHERE id IN (1, 2, 10001, 10002) ORDER BY id", &["8", "9", "7", "9"]),
        ],
        rebuilt_indexes: &[],
    },
    Pattern {
        // No primary key: the backfill and the copy back find their rows by ctid.
        label: "ec_type_no_key",
        config: "",
        phases: &["expand", "backfill", "contract"],
        backfill_walk: "found by ctid",
        blocked_row: Some(("readings", 3000)),
        done_rows: "SELECT count(schema_new_value)::text FROM readings",
        in_sync_after_expand: false,
        copies_back: true,
        current: "CREATE TABLE readings (id int NOT NULL, value int DEFAULT 0);
            INSERT INTO readings SELECT g, g * 10 FROM generate_series(1, 5000) g;",
        desired: "CREATE TABLE readings (id int NOT NULL, value bigint DEFAULT 0);",
        old_app: "INSERT INTO readings (id, value) VALUES (10001, 7); UPDATE readings SET value = 8 WHERE id = 1;",
        new_app: "INSERT INTO readings (id, schema_new_value) VALUES (10002, 9); \
                  UPDATE readings SET schema_new_value = 9 WHERE id = 2;",
        both_see: &[
            ("SELECT schema_new_value::text FROM readings WHERE id IN (1, 10001) ORDER BY id", &["8", "7"]),
            ("SELECT value::text FROM readings WHERE id IN (2, 10002) ORDER BY id", &["9", "9"]),
        ],
        after_contract: &[
            ("SELECT count(*)::text FROM readings WHERE value = id * 10", &["4998"]),
            ("SELECT value::text FROM readings WHERE id IN (1, 2, 10001, 10002) ORDER BY id", &["8", "9", "7", "9"]),
        ],
        after_down: &[
            ("SELECT count(*)::text FROM readings WHERE value = id * 10", &["4998"]),
            (
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'readings'::regclass AND attname = 'value'",
                &["integer"],
            ),
            ("SELECT value::text FROM readings WHERE id IN (1, 2, 10001, 10002) ORDER BY id", &["8", "9", "7", "9"]),
        ],
        rebuilt_indexes: &[],
    },
    Pattern {
        // The old application uses the old name (as a role granted the table), the new one the new name.
        label: "ec_table_rename",
        config: "",
        phases: &["expand", "contract"],
        backfill_walk: "",
        blocked_row: None,
        done_rows: "",
        in_sync_after_expand: true,
        copies_back: false,
        current: "DO $$ BEGIN CREATE ROLE ec_old_app; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
            DO $$ BEGIN CREATE ROLE ec_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
            CREATE TABLE tickets (id int PRIMARY KEY, title text NOT NULL DEFAULT 'untitled', n int);
            GRANT SELECT, INSERT, UPDATE, DELETE ON tickets TO ec_old_app;
            GRANT SELECT (id, title) ON tickets TO ec_reader;
            INSERT INTO tickets SELECT g, 'ticket ' || g, g FROM generate_series(1, 5000) g;",
        // The primary key keeps its name (a renamed key would be rebuilt).
        desired: "CREATE TABLE issues -- schema:renamed-from tickets\n(\n    id int CONSTRAINT tickets_pkey PRIMARY KEY,\n    title text NOT NULL DEFAULT 'untitled',\n    n int\n);\nGRANT SELECT, INSERT, UPDATE, DELETE ON issues TO ec_old_app;\nGRANT SELECT (id, title) ON issues TO ec_reader;",
        old_app: "SET ROLE ec_old_app; INSERT INTO tickets (id, n) VALUES (10001, 1); \
                  UPDATE tickets SET title = 'old update' WHERE id = 1; DELETE FROM tickets WHERE id = 3; RESET ROLE;",
        new_app: "INSERT INTO issues (id, title, n) VALUES (10002, 'new app', 2); \
                  UPDATE issues SET title = 'new update' WHERE id = 2;",
        both_see: &[
            ("SELECT title FROM issues WHERE id IN (1, 10001) ORDER BY id", &["old update", "untitled"]),
            ("SELECT title FROM tickets WHERE id IN (2, 10002) ORDER BY id", &["new update", "new app"]),
            ("SELECT count(*)::text FROM tickets", &["5001"]),
            ("SELECT count(*)::text FROM issues WHERE id = 3", &["0"]),
            // The view is granted what the table is, column privileges included.
            (
                "SELECT format('%s %s', has_column_privilege('ec_reader', 'public.tickets', 'title', 'SELECT'), \
                 has_column_privilege('ec_reader', 'public.tickets', 'n', 'SELECT'))",
                &["t f"],
            ),
        ],
        after_contract: &[
            ("SELECT coalesce(to_regclass('public.tickets')::text, 'gone')", &["gone"]),
            ("SELECT count(*)::text FROM issues WHERE title = 'ticket ' || id", &["4997"]),
            (
                "SELECT title FROM issues WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["old update", "new update", "untitled", "new app"],
            ),
        ],
        after_down: &[
            ("SELECT coalesce(to_regclass('public.issues')::text, 'gone')", &["gone"]),
            ("SELECT relkind::text FROM pg_class WHERE oid = 'public.tickets'::regclass", &["r"]),
            ("SELECT count(*)::text FROM tickets WHERE title = 'ticket ' || id", &["4997"]),
            (
                "SELECT title FROM tickets WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["old update", "new update", "untitled", "new app"],
            ),
        ],
        rebuilt_indexes: &[],
    },
    Pattern {
        // A NOT NULL column without a default, with a [[backfill]] value computed from the row; the old
        // application inserts rows without it.
        label: "ec_not_null",
        config: "[[backfill]]\ntable = \"public.accounts\"\ncolumn = \"tier\"\nvalue = \"'tier-' || (id % 3)\"\n",
        phases: &["expand", "backfill", "contract"],
        backfill_walk: "primary key order",
        blocked_row: Some(("accounts", 3000)),
        done_rows: "SELECT count(tier)::text FROM accounts",
        in_sync_after_expand: false,
        copies_back: false,
        current: "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL);
            INSERT INTO accounts SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 5000) g;",
        desired: "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, tier text NOT NULL);",
        old_app: "INSERT INTO accounts (id, email) VALUES (10001, 'old@app'); UPDATE accounts SET email = 'old update' WHERE id = 1;",
        new_app: "INSERT INTO accounts (id, email, tier) VALUES (10002, 'new@app', 'gold'); \
                  UPDATE accounts SET tier = 'silver' WHERE id = 2;",
        both_see: &[
            (
                "SELECT tier FROM accounts WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["tier-1", "silver", "tier-2", "gold"],
            ),
            ("SELECT email FROM accounts WHERE id IN (1, 10002) ORDER BY id", &["old update", "new@app"]),
            ("SELECT count(*)::text FROM accounts WHERE tier IS NULL", &["0"]),
        ],
        after_contract: &[
            ("SELECT count(*)::text FROM accounts WHERE tier = 'tier-' || (id % 3)", &["5000"]),
            (
                "SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'tier'",
                &["true"],
            ),
        ],
        after_down: &[
            (
                "SELECT count(*)::text FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'tier' AND NOT attisdropped",
                &["0"],
            ),
            ("SELECT count(*)::text FROM accounts", &["5002"]),
            (
                "SELECT email FROM accounts WHERE id IN (1, 10001, 10002) ORDER BY id",
                &["old update", "old@app", "new@app"],
            ),
        ],
        rebuilt_indexes: &[],
    },
    Pattern {
        // A retyped column with a plain index and a unique partial index (with a comment) on it: the indexes
        // are built on the shadow column concurrently and swapped in under their names at contract.
        label: "ec_type_indexed",
        config: "",
        phases: &["expand", "backfill", "contract"],
        backfill_walk: "primary key order",
        blocked_row: Some(("orders", 3000)),
        done_rows: "SELECT count(schema_new_ref)::text FROM orders",
        in_sync_after_expand: false,
        copies_back: true,
        current: "CREATE TABLE orders (id int PRIMARY KEY, ref int NOT NULL, note text);
            CREATE INDEX orders_ref ON orders (ref);
            CREATE UNIQUE INDEX orders_ref_key ON orders (ref) WHERE ref > 0;
            COMMENT ON INDEX orders_ref_key IS 'one order per reference';
            INSERT INTO orders SELECT g, g * 10, 'order ' || g FROM generate_series(1, 5000) g;",
        desired: "CREATE TABLE orders (id int PRIMARY KEY, ref bigint NOT NULL, note text);
            CREATE INDEX orders_ref ON orders (ref);
            CREATE UNIQUE INDEX orders_ref_key ON orders (ref) WHERE ref > 0;
            COMMENT ON INDEX orders_ref_key IS 'one order per reference';",
        old_app: "INSERT INTO orders (id, ref) VALUES (10001, 70001); UPDATE orders SET ref = 80001 WHERE id = 1;",
        new_app: "INSERT INTO orders (id, schema_new_ref) VALUES (10002, 3000000000 - 2999909998); \
                  UPDATE orders SET schema_new_ref = 90001 WHERE id = 2;",
        both_see: &[
            ("SELECT schema_new_ref::text FROM orders WHERE id IN (1, 10001) ORDER BY id", &["80001", "70001"]),
            ("SELECT ref::text FROM orders WHERE id IN (2, 10002) ORDER BY id", &["90001", "90002"]),
            // Expanded: each index on the old column, and its copy on the shadow column, valid.
            (
                INDEXES_OF_ORDERS,
                &[
                    "orders_ref ref integer valid",
                    "orders_ref_key ref integer unique valid",
                    "schema_tmp_orders_ref schema_new_ref bigint valid",
                    "schema_tmp_orders_ref_key schema_new_ref bigint unique valid",
                ],
            ),
            // The unique copy has the index's definition (predicate included) on the shadow column.
            (
                "SELECT pg_get_indexdef('schema_tmp_orders_ref_key'::regclass)",
                &[
                    "CREATE UNIQUE INDEX schema_tmp_orders_ref_key ON public.orders USING btree (schema_new_ref) WHERE (schema_new_ref > 0)",
                ],
            ),
        ],
        after_contract: &[
            ("SELECT count(*)::text FROM orders WHERE ref = id * 10", &["4998"]),
            (
                "SELECT ref::text FROM orders WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["80001", "90001", "70001", "90002"],
            ),
            (INDEXES_OF_ORDERS, &["orders_ref ref bigint valid", "orders_ref_key ref bigint unique valid"]),
            ("SELECT obj_description('orders_ref_key'::regclass, 'pg_class')", &["one order per reference"]),
        ],
        after_down: &[
            ("SELECT count(*)::text FROM orders WHERE ref = id * 10", &["4998"]),
            (
                "SELECT ref::text FROM orders WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["80001", "90001", "70001", "90002"],
            ),
            (INDEXES_OF_ORDERS, &["orders_ref ref integer valid", "orders_ref_key ref integer unique valid"]),
            ("SELECT obj_description('orders_ref_key'::regclass, 'pg_class')", &["one order per reference"]),
        ],
        rebuilt_indexes: &["orders_ref", "orders_ref_key"],
    },
    Pattern {
        // A renamed column with a plain index and a unique partial expression index (with a comment) on it:
        // the indexes are built on the new column concurrently and swapped in under their names at contract.
        label: "ec_rename_indexed",
        config: "",
        phases: &["expand", "backfill", "contract"],
        backfill_walk: "primary key order",
        blocked_row: Some(("accounts", 3000)),
        done_rows: "SELECT count(login)::text FROM accounts",
        in_sync_after_expand: false,
        copies_back: true,
        current: "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, note text);
            CREATE INDEX accounts_email ON accounts (email);
            CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email)) WHERE email <> '';
            COMMENT ON INDEX accounts_email_key IS 'one account per address';
            INSERT INTO accounts SELECT g, 'user' || g || '@example.com', 'account ' || g FROM generate_series(1, 5000) g;",
        desired: "CREATE TABLE accounts (
                id int PRIMARY KEY,
                -- schema:renamed-from email
                login text NOT NULL,
                note text
            );
            CREATE INDEX accounts_email ON accounts (login);
            CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(login)) WHERE login <> '';
            COMMENT ON INDEX accounts_email_key IS 'one account per address';",
        old_app: "INSERT INTO accounts (id, email) VALUES (10001, 'old@app'); \
                  UPDATE accounts SET email = 'old@update' WHERE id = 1;",
        new_app: "INSERT INTO accounts (id, login) VALUES (10002, 'new@app'); \
                  UPDATE accounts SET login = 'new@update' WHERE id = 2;",
        both_see: &[
            ("SELECT login FROM accounts WHERE id IN (1, 10001) ORDER BY id", &["old@update", "old@app"]),
            ("SELECT email FROM accounts WHERE id IN (2, 10002) ORDER BY id", &["new@update", "new@app"]),
            // Expanded: each index on the old column, and its copy on the new column, valid.
            (
                INDEXES_OF_ACCOUNTS,
                &[
                    "CREATE INDEX accounts_email ON public.accounts USING btree (email) valid",
                    "CREATE UNIQUE INDEX accounts_email_key ON public.accounts USING btree (lower(email)) \
                     WHERE (email <> ''::text) valid",
                    "CREATE INDEX schema_tmp_accounts_email ON public.accounts USING btree (login) valid",
                    "CREATE UNIQUE INDEX schema_tmp_accounts_email_key ON public.accounts USING btree (lower(login)) \
                     WHERE (login <> ''::text) valid",
                ],
            ),
        ],
        after_contract: &[
            ("SELECT count(*)::text FROM accounts WHERE login = 'user' || id || '@example.com'", &["4998"]),
            (
                "SELECT login FROM accounts WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["old@update", "new@update", "old@app", "new@app"],
            ),
            (
                INDEXES_OF_ACCOUNTS,
                &[
                    "CREATE INDEX accounts_email ON public.accounts USING btree (login) valid",
                    "CREATE UNIQUE INDEX accounts_email_key ON public.accounts USING btree (lower(login)) \
                     WHERE (login <> ''::text) valid",
                ],
            ),
            ("SELECT obj_description('accounts_email_key'::regclass, 'pg_class')", &["one account per address"]),
        ],
        after_down: &[
            ("SELECT count(*)::text FROM accounts WHERE email = 'user' || id || '@example.com'", &["4998"]),
            (
                "SELECT email FROM accounts WHERE id IN (1, 2, 10001, 10002) ORDER BY id",
                &["old@update", "new@update", "old@app", "new@app"],
            ),
            (
                INDEXES_OF_ACCOUNTS,
                &[
                    "CREATE INDEX accounts_email ON public.accounts USING btree (email) valid",
                    "CREATE UNIQUE INDEX accounts_email_key ON public.accounts USING btree (lower(email)) \
                     WHERE (email <> ''::text) valid",
                ],
            ),
            ("SELECT obj_description('accounts_email_key'::regclass, 'pg_class')", &["one account per address"]),
        ],
        rebuilt_indexes: &["accounts_email", "accounts_email_key"],
    },
];

/// The indexes of `accounts` besides its primary key: definition, valid.
const INDEXES_OF_ACCOUNTS: &str = "SELECT pg_get_indexdef(i.indexrelid) || \
     CASE WHEN i.indisvalid THEN ' valid' ELSE ' invalid' END \
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
     WHERE i.indrelid = 'public.accounts'::regclass AND NOT i.indisprimary ORDER BY c.relname COLLATE \"C\"";

/// The indexes of `orders` besides its primary key: name, column, its type, unique, valid.
const INDEXES_OF_ORDERS: &str = "SELECT concat_ws(' ', c.relname, a.attname, format_type(a.atttypid, a.atttypmod), \
     CASE WHEN i.indisunique THEN 'unique' END, CASE WHEN i.indisvalid THEN 'valid' ELSE 'invalid' END) \
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
     WHERE i.indrelid = 'public.orders'::regclass AND NOT i.indisprimary ORDER BY c.relname";

/// The schema's fingerprint without the runner's tracking table.
async fn print(url: &str) -> Vec<String> {
    fingerprint(url).await.unwrap().into_iter().filter(|l| !l.contains("public.schema_migrations")).collect()
}

async fn expect_rows(url: &str, checks: &[(&str, &[&str])], stage: &str) {
    for (query, expected) in checks {
        let got = rows(url, query).await;
        assert_eq!(got, *expected, "{stage}: {query}");
    }
}

/// The batched copy of a backfill migration (the statements after it build indexes concurrently, which
/// cannot run in one multi-statement query).
fn backfill_block(text: &str) -> &str {
    let start = text.find("DO $schema_backfill$").expect("backfill block");
    let end = "$schema_backfill$;";
    let len = text[start + 1..].find(end).expect("end of the backfill block") + 1 + end.len();
    &text[start..start + len]
}

fn contract_down_text(generated: &Path, names: &[String]) -> String {
    std::fs::read_to_string(generated.join(names.last().unwrap().replace(".up.sql", ".down.sql"))).unwrap()
}

async fn run_pattern(p: &Pattern) {
    let server = pg_server().await.unwrap();
    let db = server.fresh_database(p.label).await.unwrap();
    let reference_desired = server.fresh_database(&format!("{}_want", p.label)).await.unwrap();
    let reference_current = server.fresh_database(&format!("{}_have", p.label)).await.unwrap();
    load_sql(&db.url, p.current).await.unwrap();
    load_sql(&reference_current.url, p.current).await.unwrap();
    load_sql(&reference_desired.url, p.desired).await.unwrap();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir(dir.join("schema")).unwrap();
    std::fs::write(dir.join("schema/app.sql"), p.desired).unwrap();
    let generated: PathBuf = dir.join("generated");

    if !p.config.is_empty() {
        std::fs::write(dir.join("diff.toml"), p.config).unwrap();
    }

    // The one-step plan breaks running code (rename), rewrites under a lock (type change) or fails on a
    // filled table (NOT NULL without default); the phased plan carries none of these hazards.
    let hazard_ids = |args: &[&str]| -> Vec<String> {
        let run = ok(schema(&db, dir, args), "plan --format json");
        let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
        value["up"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["hazards"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()))
            .collect()
    };
    let plain = hazard_ids(&["plan", "--plain", "--format", "json"]);
    assert!(
        plain.iter().any(|id| ["rename-visible", "table-rewrite", "not-null-without-default"].contains(&id.as_str())),
        "{plain:?}"
    );
    let phased = hazard_ids(&["plan", "--phased", "--format", "json"]);
    assert!(phased.is_empty(), "{phased:?}");

    let run = ok(schema(&db, dir, &["generate", "--phased", "--name", "change"]), "generate --phased");
    assert!(run.stdout.contains("migrate up --contract"), "{}", run.stdout);
    let names = files(&generated);
    assert_eq!(names.len(), p.phases.len(), "{names:?}");
    for (name, phase) in names.iter().zip(p.phases) {
        assert!(name.contains(phase), "{name} should be the {phase} migration");
        let text = std::fs::read_to_string(generated.join(name)).unwrap();
        assert!(text.contains(&format!("-- schema:phase {phase}")), "{name}:\n{text}");
        let down = std::fs::read_to_string(generated.join(name.replace(".up.sql", ".down.sql"))).unwrap();
        assert!(down.contains(&format!("-- schema:phase {phase}")), "{name} down:\n{down}");
    }
    let backfill = p.phases.contains(&"backfill").then(|| std::fs::read_to_string(generated.join(&names[1])).unwrap());
    // No phase builds an index with a blocking lock on the live table, up or down.
    for name in &names {
        for file in [name.clone(), name.replace(".up.sql", ".down.sql")] {
            let text = std::fs::read_to_string(generated.join(&file)).unwrap();
            let words: Vec<String> = text.split_whitespace().map(str::to_ascii_uppercase).collect();
            for (i, _) in words.iter().enumerate().filter(|(_, w)| *w == "INDEX") {
                let create = words[..i].ends_with(&["CREATE".to_string()])
                    || words[..i].ends_with(&["CREATE".to_string(), "UNIQUE".to_string()]);
                assert!(!create || words.get(i + 1).is_some_and(|n| n == "CONCURRENTLY"), "{file}:\n{text}");
            }
        }
    }
    // The indexes of a renamed or retyped column: built on the new or shadow column by the backfill (after
    // the copy, re-runnable), renamed to their names by the contract, and built again on the old column by
    // its down.
    if !p.rebuilt_indexes.is_empty() {
        let backfill = backfill.as_deref().expect("a backfill migration");
        let contract = std::fs::read_to_string(generated.join(names.last().unwrap())).unwrap();
        for index in p.rebuilt_indexes {
            let tmp = format!("\"schema_tmp_{index}\"");
            let drop = backfill.find(&format!("DROP INDEX CONCURRENTLY IF EXISTS \"public\".{tmp};")).expect(backfill);
            let build = backfill.find(&format!("INDEX CONCURRENTLY {tmp} ON \"public\".")).expect(backfill);
            assert!(backfill.find("DO $schema_backfill$").unwrap() < drop && drop < build, "{backfill}");
            let rename = format!("ALTER INDEX \"public\".{tmp} RENAME TO \"{index}\";");
            assert!(contract.contains(&rename), "{contract}");
            assert!(contract_down_text(&generated, &names).contains(&format!("INDEX CONCURRENTLY \"{index}\" ON")));
        }
    }
    // A column's contract down copies the old values back like the backfill: in committed batches, outside a
    // transaction.
    let contract_down = contract_down_text(&generated, &names);
    if p.copies_back {
        assert!(contract_down.starts_with("-- schema:no-transaction"), "{contract_down}");
        assert!(
            contract_down.contains("DO $schema_backfill$") && contract_down.contains(p.backfill_walk),
            "{contract_down}"
        );
    } else {
        assert!(!contract_down.contains("DO $schema_backfill$"), "nothing to copy back:\n{contract_down}");
    }

    // Expand only; then a backfill run meets a row locked by another session: the batches before it are
    // committed (each batch commits on its own), the run stops there.
    let expand_version = names[0].split('_').next().unwrap();
    ok(schema(&db, dir, &["migrate", "up", "--to", expand_version]), "migrate up --to expand");
    if let (Some(text), Some((table, id))) = (&backfill, p.blocked_row) {
        assert!(text.contains(p.backfill_walk), "the backfill should walk the table by {:?}:\n{text}", p.backfill_walk);
        let block = backfill_block(text);
        let mut locker = connect::connect(&db.url).await.unwrap();
        let lock = format!("BEGIN; SELECT 1 FROM {table} WHERE id = {id} FOR UPDATE;");
        sqlx::raw_sql(AssertSqlSafe(lock)).execute(&mut locker).await.unwrap();
        let mut session = connect::connect(&db.url).await.unwrap();
        sqlx::raw_sql("SET lock_timeout = '300ms'").execute(&mut session).await.unwrap();
        let err = sqlx::raw_sql(AssertSqlSafe(block.to_string())).execute(&mut session).await.unwrap_err();
        assert!(err.to_string().contains("lock timeout"), "{err}");
        assert_eq!(rows(&db.url, p.done_rows).await, ["2000"], "the two batches before the locked row stay committed");
        sqlx::raw_sql("COMMIT").execute(&mut locker).await.unwrap();
    }

    // The rest: the backfill from where it stopped; the contract waits.
    let up = ok(schema(&db, dir, &["migrate", "up"]), "migrate up");
    assert!(up.stdout.contains("waiting:") && up.stdout.contains("contract"), "{}", up.stdout);
    let status = schema(&db, dir, &["migrate", "status"]);
    assert_eq!(status.code, 1, "{}", status.stdout);
    let counts = format!("{} applied, 1 pending", p.phases.len() - 1);
    assert!(status.stdout.contains("waiting") && status.stdout.contains(&counts), "{}", status.stdout);
    if backfill.is_some() {
        assert_eq!(rows(&db.url, p.done_rows).await, ["5000"], "the backfill completed every row");
    }

    // The dual-write function and trigger, and the compatibility view, belong to the migrations: drift
    // leaves them alone. A plan would repeat the waiting contract: refused until it is applied.
    let drift = schema(&db, dir, &["drift"]);
    assert!(!drift.stdout.contains("schema_sync") && !drift.stdout.contains("compat"), "{}", drift.stdout);
    if p.in_sync_after_expand {
        ok(drift, "drift after expand");
    }
    let plan = schema(&db, dir, &["plan"]);
    assert_eq!(plan.code, 2, "plan after expand\n{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stderr.contains("_contract") && plan.stderr.contains("--contract"), "{}", plan.stderr);

    // Both applications write against the expanded schema and see each other's writes.
    exec(&db.url, p.old_app).await;
    exec(&db.url, p.new_app).await;
    expect_rows(&db.url, p.both_see, "after expand").await;

    // The backfill is safe to run again (it ran already in `migrate up`): a second run copies nothing new
    // and breaks nothing.
    if let Some(text) = &backfill {
        exec(&db.url, backfill_block(text)).await;
    }

    ok(schema(&db, dir, &["migrate", "up", "--contract"]), "migrate up --contract");
    let want = print(&reference_desired.url).await;
    let have = print(&db.url).await;
    assert_eq!(fingerprint_diff(&want, &have), "", "after contract, the schema differs from the desired one");
    expect_rows(&db.url, p.after_contract, "after contract").await;
    let again = ok(schema(&db, dir, &["plan"]), "plan after contract");
    assert!(again.stdout.contains("no changes"), "{}", again.stdout);

    // Down through every phase, one at a time, back to the start.
    ok(schema(&db, dir, &["migrate", "down"]), "revert contract");
    expect_rows(&db.url, p.both_see, "after reverting the contract").await;
    let steps = (p.phases.len() - 1).to_string();
    ok(schema(&db, dir, &["migrate", "down", "--steps", &steps]), "revert the phases before the contract");
    let want = print(&reference_current.url).await;
    let have = print(&db.url).await;
    assert_eq!(fingerprint_diff(&want, &have), "", "after down, the schema differs from the start");
    expect_rows(&db.url, p.after_down, "after down").await;
}

#[tokio::test]
async fn column_rename_in_phases() {
    run_pattern(&PATTERNS[0]).await;
}

#[tokio::test]
async fn column_type_change_in_phases() {
    run_pattern(&PATTERNS[1]).await;
}

/// A retyped column's plain indexes (one unique and partial, with a comment) are built on the shadow
/// column and swapped in by the contract, instead of a one-step rewrite.
#[tokio::test]
async fn indexed_column_type_change_in_phases() {
    run_pattern(&PATTERNS[5]).await;
}

/// A renamed column's plain indexes (one unique, partial and on an expression, with a comment) are built
/// on the new column and swapped in by the contract, instead of a one-step rename.
#[tokio::test]
async fn indexed_column_rename_in_phases() {
    run_pattern(&PATTERNS[6]).await;
}

/// Without a primary key, the backfill and the contract's down find the rows to copy by ctid.
#[tokio::test]
async fn column_type_change_without_primary_key_in_phases() {
    run_pattern(&PATTERNS[2]).await;
}

/// A renamed table keeps an updatable view under its old name until the contract: the old application
/// (a role granted the table) reads and writes through it.
#[tokio::test]
async fn table_rename_in_phases() {
    run_pattern(&PATTERNS[3]).await;
}

/// A NOT NULL column without a default on a filled table, with a `[[backfill]]` value.
#[tokio::test]
async fn not_null_column_with_backfill_value_in_phases() {
    run_pattern(&PATTERNS[4]).await;
}

/// Without a `[[backfill]]` entry the NOT NULL column stays one step, and the hazard's help names the
/// entry to add.
#[tokio::test]
async fn not_null_column_without_backfill_value_names_the_entry() {
    let server = pg_server().await.unwrap();
    let db = server.fresh_database("ec_not_null_plain").await.unwrap();
    load_sql(&db.url, "CREATE TABLE accounts (id int PRIMARY KEY); INSERT INTO accounts VALUES (1);").await.unwrap();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir(dir.join("schema")).unwrap();
    std::fs::write(dir.join("schema/app.sql"), "CREATE TABLE accounts (id int PRIMARY KEY, tier text NOT NULL);")
        .unwrap();
    let run = ok(schema(&db, dir, &["plan", "--phased", "--format", "json"]), "plan --phased");
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(value["parts"].as_array().unwrap().len(), 1, "one step: {value}");
    let hazard = &value["up"][0]["hazards"][0];
    assert_eq!(hazard["id"], "not-null-without-default", "{value}");
    let help = hazard["help"].as_str().unwrap();
    assert!(help.contains("[[backfill]]") && help.contains("table = \"public.accounts\", column = \"tier\""), "{help}");
}

/// With phases on, dropping a column of an existing table is a contract migration: `migrate up` leaves
/// the column in place for the old application until `--contract`. (The new column is not the old one
/// renamed: the drop and add of two `text` columns is allowed as such.)
#[tokio::test]
async fn dropped_column_waits_for_the_contract() {
    let server = pg_server().await.unwrap();
    let db = server.fresh_database("ec_drop").await.unwrap();
    load_sql(&db.url, "CREATE TABLE t (id int PRIMARY KEY, legacy text); INSERT INTO t VALUES (1, 'x');")
        .await
        .unwrap();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir(dir.join("schema")).unwrap();
    std::fs::write(dir.join("schema/app.sql"), "CREATE TABLE t (id int PRIMARY KEY, note text);").unwrap();
    let generate = ["generate", "--phased", "--name", "cleanup", "--allow-hazard", "probable-rename"];
    ok(schema(&db, dir, &generate), "generate --phased");
    let names = files(&dir.join("generated"));
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].ends_with("_cleanup_expand.up.sql"), "{names:?}");
    assert!(names[1].ends_with("_cleanup_contract.up.sql"), "{names:?}");
    let contract = std::fs::read_to_string(dir.join("generated").join(&names[1])).unwrap();
    assert!(contract.contains("-- schema:phase contract") && contract.contains("DROP COLUMN \"legacy\""), "{contract}");

    ok(schema(&db, dir, &["migrate", "up"]), "migrate up");
    let columns = "SELECT attname::text FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 \
                   AND NOT attisdropped ORDER BY attnum";
    assert_eq!(rows(&db.url, columns).await, ["id", "legacy", "note"], "the old column stays until the contract");
    assert_eq!(schema(&db, dir, &["migrate", "status"]).code, 1);
    ok(schema(&db, dir, &["migrate", "up", "--contract"]), "migrate up --contract");
    assert_eq!(rows(&db.url, columns).await, ["id", "note"]);
    assert_eq!(schema(&db, dir, &["migrate", "status"]).code, 0);
}

/// A renamed or retyped column's indexes are built on the new or shadow column only when they are plain
/// indexes that the plan leaves alone and that read no other changed column: a unique constraint, an index
/// the plan changes, an index over two changed columns and a column both renamed and retyped keep their
/// one-step plan, for renames as for type changes.
#[tokio::test]
async fn indexes_the_phases_cannot_rebuild_keep_the_change_one_step() {
    let server = pg_server().await.unwrap();
    let db = server.fresh_database("ec_index_one_step").await.unwrap();
    load_sql(
        &db.url,
        "CREATE TABLE t_ok (id int PRIMARY KEY, v int); CREATE INDEX t_ok_v ON t_ok (v);
         CREATE TABLE t_con (id int PRIMARY KEY, v int CONSTRAINT t_con_v_key UNIQUE);
         CREATE TABLE t_changed (id int PRIMARY KEY, v int); CREATE INDEX t_changed_v ON t_changed (v);
         CREATE TABLE t_two (id int PRIMARY KEY, a int, b int); CREATE INDEX t_two_ab ON t_two (a, b);
         CREATE TABLE t_ren (id int PRIMARY KEY, v int); CREATE INDEX t_ren_v ON t_ren (v);
         CREATE TABLE r_con (id int PRIMARY KEY, v int CONSTRAINT r_con_v_key UNIQUE);
         CREATE TABLE r_changed (id int PRIMARY KEY, v int); CREATE INDEX r_changed_v ON r_changed (v);
         CREATE TABLE r_two (id int PRIMARY KEY, a int, b int); CREATE INDEX r_two_ab ON r_two (a, b);
         CREATE TABLE r_retyped (id int PRIMARY KEY, v int); CREATE INDEX r_retyped_v ON r_retyped (v);",
    )
    .await
    .unwrap();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir(dir.join("schema")).unwrap();
    std::fs::write(
        dir.join("schema/app.sql"),
        "CREATE TABLE t_ok (id int PRIMARY KEY, v bigint); CREATE INDEX t_ok_v ON t_ok (v);
         CREATE TABLE t_con (id int PRIMARY KEY, v bigint CONSTRAINT t_con_v_key UNIQUE);
         CREATE TABLE t_changed (id int PRIMARY KEY, v bigint); CREATE INDEX t_changed_v ON t_changed (v, id);
         CREATE TABLE t_two (id int PRIMARY KEY, a bigint, b bigint); CREATE INDEX t_two_ab ON t_two (a, b);
         CREATE TABLE t_ren (
             id int PRIMARY KEY,
             -- schema:renamed-from v
             w int
         );
         CREATE INDEX t_ren_v ON t_ren (w);
         CREATE TABLE r_con (
             id int PRIMARY KEY,
             -- schema:renamed-from v
             w int CONSTRAINT r_con_v_key UNIQUE
         );
         CREATE TABLE r_changed (
             id int PRIMARY KEY,
             -- schema:renamed-from v
             w int
         );
         CREATE INDEX r_changed_v ON r_changed (w, id);
         CREATE TABLE r_two (
             id int PRIMARY KEY,
             -- schema:renamed-from a
             c int,
             b bigint
         );
         CREATE INDEX r_two_ab ON r_two (c, b);
         CREATE TABLE r_retyped (
             id int PRIMARY KEY,
             -- schema:renamed-from v
             w bigint
         );
         CREATE INDEX r_retyped_v ON r_retyped (w);",
    )
    .unwrap();
    // With online rewrites off too: the changed index is then dropped in the same transaction as the
    // phases' expand, and only the context keeps its column one step.
    for config in ["", "[hazards]\nsafe_rewrites = false\n"] {
        std::fs::write(dir.join("diff.toml"), config).unwrap();
        let run = ok(schema(&db, dir, &["plan", "--phased", "--format", "json"]), "plan --phased");
        one_step_except_t_ok_and_t_ren(&serde_json::from_str(&run.stdout).expect("JSON"));
    }
}

fn one_step_except_t_ok_and_t_ren(value: &serde_json::Value) {
    let steps = value["up"].as_array().unwrap();
    let mut expanded: Vec<&str> =
        steps.iter().filter_map(|s| s["description"].as_str()).filter(|d| d.starts_with("expand: ")).collect();
    expanded.sort_unstable();
    assert_eq!(
        expanded,
        [
            "expand: change the type of public.t_ok.v from integer to bigint",
            "expand: rename column public.t_ren.v to w"
        ],
        "{value:#}"
    );
    let hazards: Vec<String> = steps
        .iter()
        .flat_map(|s| s["hazards"].as_array().unwrap())
        .map(|h| format!("{} {}", h["id"].as_str().unwrap(), h["message"].as_str().unwrap()))
        .collect();
    for column in [
        "public.t_con.v",
        "public.t_changed.v",
        "public.t_two.a",
        "public.t_two.b",
        "public.r_two.b",
        "public.r_retyped.w",
    ] {
        assert!(
            hazards.iter().any(|h| h.starts_with("table-rewrite") && h.contains(&format!("{column} "))),
            "{column} should stay one step: {hazards:#?}"
        );
    }
    for table in ["r_con", "r_changed", "r_two", "r_retyped"] {
        assert!(
            hazards.iter().any(|h| h.starts_with("rename-visible") && h.contains(&format!("public.{table}."))),
            "the rename in {table} should stay one step: {hazards:#?}"
        );
    }
    assert!(!hazards.iter().any(|h| h.contains("t_ren") || h.contains("t_ok")), "{hazards:#?}");
}
