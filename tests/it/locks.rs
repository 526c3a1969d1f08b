//! The locks every planned statement states ([`schema::plan::Statement::locks`]) against the locks PostgreSQL
//! takes: each migration part is run statement by statement on a real database, and after each statement
//! `pg_locks` is read for the transaction's own relation locks.
//! * Nothing understated: every lock the statement newly takes, from SHARE UPDATE EXCLUSIVE up, on a relation
//!   that existed before it ran is stated, in that mode or a stronger one (what is locked along with a
//!   stated table excepted: its inheritance children, partitions and owned sequences).
//! * Nothing invented: every stated lock is held after the statement, on the relation of that name.
//!
//! Statements that cannot run in a transaction block (concurrent builds, batched backfills) release their
//! locks when they end and are run without being checked.

use schema::pipeline;
use schema::plan::{Plan, Statement};
use schema::testkit::{pg_server, random, roundtrip};
use sqlx::{Connection, Executor, PgConnection, Row};
use std::collections::{BTreeMap, BTreeSet};

/// (label, current, desired): one or more of each change that locks a table.
const CASES: &[(&str, &str, &str)] = &[
    (
        "columns",
        "CREATE TABLE t (id int PRIMARY KEY, a int, b text, c int DEFAULT 1, d int); INSERT INTO t VALUES (1, 1, 'x', 1, 1);",
        "CREATE TABLE t (id int PRIMARY KEY, a bigint NOT NULL, bb text, c int DEFAULT 2, e int, f int GENERATED ALWAYS AS IDENTITY);",
    ),
    (
        "constraints",
        "CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE t (id int PRIMARY KEY, r_id int, a int, \
         CONSTRAINT old_fk FOREIGN KEY (r_id) REFERENCES r (id), CONSTRAINT old_check CHECK (a > 0), \
         CONSTRAINT renamed_from CHECK (a < 100), CONSTRAINT later CHECK (a <> 5) NOT VALID);",
        "CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE t (id int PRIMARY KEY, r_id int, a int, \
         CONSTRAINT new_fk FOREIGN KEY (r_id) REFERENCES r (id), CONSTRAINT self_fk FOREIGN KEY (a) REFERENCES t (id), \
         CONSTRAINT new_check CHECK (a > 1), CONSTRAINT renamed_to CHECK (a < 100), CONSTRAINT later CHECK (a <> 5), \
         CONSTRAINT u UNIQUE (a), CONSTRAINT x EXCLUDE USING btree (r_id WITH =));",
    ),
    (
        "tables",
        "CREATE SCHEMA other; CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE gone (r_id int REFERENCES r (id)); \
         CREATE TABLE moved (id int); CREATE TABLE renamed (id int); \
         CREATE TABLE params (id int) WITH (fillfactor = 70); CREATE TABLE logged (id int); \
         CREATE TABLE ident (id int NOT NULL, CONSTRAINT ident_key UNIQUE (id));",
        "CREATE SCHEMA other; CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE other.moved (id int); \
         CREATE TABLE renamed_now (id int); \
         CREATE TABLE params (id int) WITH (autovacuum_enabled = false); CREATE UNLOGGED TABLE logged (id int); \
         CREATE TABLE ident (id int NOT NULL, CONSTRAINT ident_key UNIQUE (id)); ALTER TABLE ident REPLICA IDENTITY FULL; \
         CREATE TABLE child (c int REFERENCES r (id)) ;",
    ),
    (
        "indexes",
        "CREATE TABLE t (a int, b int, c int); CREATE INDEX t_a ON t (a); CREATE INDEX t_b ON t (b); CREATE INDEX t_old ON t (c);",
        "CREATE TABLE t (a int, b int, c int); CREATE INDEX t_a ON t (a, b); CREATE INDEX t_c ON t (c); CREATE UNIQUE INDEX t_new ON t (b);",
    ),
    (
        "partitions",
        "CREATE TABLE p (id int, k int) PARTITION BY RANGE (k); CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10); \
         CREATE TABLE p2 (id int, k int); CREATE TABLE p3 PARTITION OF p FOR VALUES FROM (20) TO (30);",
        "CREATE TABLE p (id int, k int) PARTITION BY RANGE (k); CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10); \
         CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20); CREATE TABLE p3 (id int, k int); \
         CREATE TABLE p4 PARTITION OF p FOR VALUES FROM (30) TO (40); CREATE INDEX p_id ON p (id);",
    ),
    (
        "rebuilt_and_dropped_partitions",
        "CREATE TABLE r (id int GENERATED ALWAYS AS IDENTITY, k int); INSERT INTO r (k) VALUES (1), (5); \
         ALTER TABLE r ENABLE ROW LEVEL SECURITY; \
         CREATE TABLE q (id int, k int) PARTITION BY LIST (k); CREATE TABLE q1 PARTITION OF q FOR VALUES IN (1); \
         CREATE TABLE q2 PARTITION OF q FOR VALUES IN (2);",
        "CREATE TABLE r (id int GENERATED ALWAYS AS IDENTITY, k int) PARTITION BY RANGE (k); \
         CREATE TABLE r_all PARTITION OF r FOR VALUES FROM (MINVALUE) TO (MAXVALUE); ALTER TABLE r ENABLE ROW LEVEL SECURITY; \
         CREATE TABLE q (id int, k int) PARTITION BY LIST (k); CREATE TABLE q1 PARTITION OF q FOR VALUES IN (1);",
    ),
    (
        "domains",
        "CREATE DOMAIN d AS int; CREATE DOMAIN e AS text; ALTER DOMAIN e ADD CONSTRAINT short CHECK (length(VALUE) < 9) NOT VALID; \
         CREATE TABLE t (a d, b e); INSERT INTO t VALUES (1, 'x');",
        "CREATE DOMAIN d AS int NOT NULL CONSTRAINT positive CHECK (VALUE > 0); \
         CREATE DOMAIN e AS text CONSTRAINT short CHECK (length(VALUE) < 9); CREATE TABLE t (a d, b e);",
    ),
    (
        "inheritance",
        "CREATE TABLE parent (id int, CONSTRAINT positive CHECK (id > 0)); CREATE TABLE kid (id int); \
         CREATE TABLE leaving (x int) INHERITS (parent);",
        "CREATE TABLE parent (id int, CONSTRAINT positive CHECK (id > 0)); CREATE TABLE kid (id int) INHERITS (parent); \
         CREATE TABLE leaving (id int, x int); CREATE TABLE born (y int) INHERITS (parent);",
    ),
    (
        "triggers_and_policies",
        "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'; \
         CREATE TABLE t (id int, owner text); CREATE TRIGGER gone BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f(); \
         CREATE TRIGGER switched BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f(); \
         CREATE POLICY old ON t USING (true); CREATE POLICY changed ON t USING (true);",
        "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'; \
         CREATE TABLE t (id int, owner text); CREATE TRIGGER added AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f(); \
         CREATE TRIGGER switched BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f(); ALTER TABLE t DISABLE TRIGGER switched; \
         CREATE POLICY new ON t USING (owner = current_user); CREATE POLICY changed ON t USING (false); \
         ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY;",
    ),
    (
        "views_sequences_comments_owners",
        "CREATE TABLE t (id int, a int); CREATE VIEW v AS SELECT id FROM t; CREATE VIEW gone AS SELECT a FROM t; \
         CREATE MATERIALIZED VIEW m AS SELECT id FROM t; CREATE SEQUENCE s; CREATE SEQUENCE s_gone; CREATE SEQUENCE s_owned; \
         CREATE TYPE mood AS ENUM ('a', 'b', 'c'); CREATE TABLE uses (m mood DEFAULT 'a');",
        "CREATE TABLE t (id int, a int); CREATE VIEW v AS SELECT id, a FROM t; \
         CREATE MATERIALIZED VIEW m AS SELECT id FROM t; CREATE SEQUENCE s INCREMENT 2; CREATE SEQUENCE s_owned OWNED BY t.a; \
         COMMENT ON TABLE t IS 'table'; COMMENT ON COLUMN t.a IS 'column'; COMMENT ON VIEW v IS 'view'; \
         COMMENT ON SEQUENCE s IS 'sequence'; COMMENT ON MATERIALIZED VIEW m IS 'matview'; \
         GRANT SELECT ON t TO PUBLIC; CREATE TYPE mood AS ENUM ('c', 'a', 'd'); CREATE TABLE uses (m mood DEFAULT 'a');",
    ),
];

/// The relation locks of this backend, by relation oid: the mode names `pg_locks` gives (`AccessExclusiveLock`).
async fn held(conn: &mut PgConnection) -> BTreeSet<(u32, String)> {
    let rows = conn
        .fetch_all(
            "SELECT relation::oid::int8 AS oid, mode FROM pg_catalog.pg_locks \
             WHERE pid = pg_catalog.pg_backend_pid() AND locktype = 'relation' AND granted",
        )
        .await
        .expect("pg_locks");
    rows.iter().map(|r| (r.get::<i64, _>("oid") as u32, r.get::<String, _>("mode"))).collect()
}

/// The user relations that can be locked (tables, views, sequences, not indexes or TOAST), by name, with
/// what they are locked along with: their inheritance parents (partitions included), and for a sequence
/// the table whose column owns it.
async fn relations(conn: &mut PgConnection) -> (BTreeMap<String, u32>, BTreeMap<u32, Vec<u32>>) {
    let rows = conn
        .fetch_all(
            "SELECT c.oid::int8 AS oid, pg_catalog.format('%s.%s', n.nspname, c.relname) AS name, \
                    coalesce((SELECT array_agg(i.inhparent::int8) FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid), '{}') \
                    || coalesce((SELECT array_agg(d.refobjid::int8) FROM pg_catalog.pg_depend d \
                                 WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid \
                                   AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') \
                                   AND c.relkind = 'S'), '{}') AS parents \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'",
        )
        .await
        .expect("relations");
    let mut names = BTreeMap::new();
    let mut parents = BTreeMap::new();
    for row in rows {
        let oid = row.get::<i64, _>("oid") as u32;
        names.insert(row.get::<String, _>("name"), oid);
        parents.insert(oid, row.get::<Vec<i64>, _>("parents").into_iter().map(|p| p as u32).collect());
    }
    (names, parents)
}

/// `AccessExclusiveLock` → `ACCESS EXCLUSIVE`, and its strength in PostgreSQL's order.
fn mode(pg: &str) -> (String, u8) {
    let order = [
        "AccessShareLock",
        "RowShareLock",
        "RowExclusiveLock",
        "ShareUpdateExclusiveLock",
        "ShareLock",
        "ShareRowExclusiveLock",
        "ExclusiveLock",
        "AccessExclusiveLock",
    ];
    let strength = order.iter().position(|m| *m == pg).expect("a table lock mode") as u8 + 1;
    let words = pg.trim_end_matches("Lock");
    let mut name = String::new();
    for (i, c) in words.char_indices() {
        if c.is_uppercase() && i > 0 {
            name.push(' ');
        }
        name.push(c.to_ascii_uppercase());
    }
    (name, strength)
}

/// Whether `oid` descends from `ancestor` through inheritance or partitioning.
fn descends(oid: u32, ancestor: u32, parents: &BTreeMap<u32, Vec<u32>>) -> bool {
    let mut stack = parents.get(&oid).cloned().unwrap_or_default();
    while let Some(p) = stack.pop() {
        if p == ancestor {
            return true;
        }
        stack.extend(parents.get(&p).cloned().unwrap_or_default());
    }
    false
}

/// What the checks saw: statements checked, and the stated locks found held, by mode.
#[derive(Default)]
struct Seen {
    statements: usize,
    held: BTreeMap<&'static str, usize>,
    wrong: Vec<String>,
}

/// Runs one statement and records what its stated locks got wrong.
async fn check(conn: &mut PgConnection, statement: &Statement, seen: &mut Seen) -> Vec<String> {
    seen.statements += 1;
    let (names, parents) = relations(conn).await;
    let before = held(conn).await;
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.sql.clone())).execute(&mut *conn).await {
        return vec![format!("failed: {e}\n    {}", statement.sql)];
    }
    let after = held(conn).await;
    let by_oid: BTreeMap<u32, &String> = names.iter().map(|(n, o)| (*o, n)).collect();
    let mut wrong = Vec::new();
    let stated: Vec<(u32, &str, u8)> = statement
        .locks
        .iter()
        .filter_map(|l| {
            let name = format!("{}.{}", l.table.schema, l.table.name);
            match names.get(&name) {
                Some(oid) => Some((*oid, l.mode.name, l.mode.strength)),
                None => {
                    wrong.push(format!("states {} on {name}, which does not exist", l.mode.name));
                    None
                }
            }
        })
        .collect();
    for &(oid, name, _) in &stated {
        if after.iter().any(|(o, m)| *o == oid && mode(m).0 == name) {
            *seen.held.entry(name).or_default() += 1;
        } else {
            wrong.push(format!("states {name} on {}, which it does not hold", by_oid[&oid]));
        }
    }
    for (oid, pg_mode) in after.difference(&before) {
        let (name, strength) = mode(pg_mode);
        let Some(relation) = by_oid.get(oid) else { continue };
        if strength < 4 {
            continue;
        }
        let covered = stated.iter().any(|&(o, _, s)| (o == *oid || descends(*oid, o, &parents)) && s >= strength);
        if !covered {
            wrong.push(format!("takes {name} on {relation}, which it does not state"));
        }
    }
    wrong.into_iter().map(|w| format!("{w}\n    {}", statement.sql)).collect()
}

/// Runs a plan as its migration file would (one transaction, or statement by statement) and checks the
/// locks of each statement that runs in a transaction block.
async fn run_plan(conn: &mut PgConnection, plan: &Plan, seen: &mut Seen) -> Vec<String> {
    let mut wrong = Vec::new();
    if plan.transactional {
        conn.execute("BEGIN").await.expect("begin");
    }
    for step in &plan.steps {
        for statement in &step.statements {
            if !statement.transactional {
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement.sql.clone()))
                    .execute(&mut *conn)
                    .await
                    .expect("statement outside a transaction block");
                continue;
            }
            if !plan.transactional {
                conn.execute("BEGIN").await.expect("begin");
            }
            wrong.extend(check(conn, statement, seen).await.into_iter().map(|w| format!("{}: {w}", step.description)));
            if !plan.transactional {
                conn.execute("COMMIT").await.expect("commit");
            }
        }
    }
    if plan.transactional {
        conn.execute("COMMIT").await.expect("commit");
    }
    wrong
}

/// Plans `current` → `desired` on a fresh database, runs every part up and then down, and returns what
/// the stated locks got wrong.
async fn stated_locks(label: &str, current: &str, desired: &str, phased: bool) -> anyhow::Result<Seen> {
    let server = pg_server().await?;
    let db = server.fresh_database(label).await?;
    roundtrip::load_sql(&db.url, current).await?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("app.sql"), desired)?;
    let mut settings = roundtrip::settings_for(&db, dir.path());
    settings.hazards.rewrite.phased = phased;
    let migration = pipeline::migration(&settings).await?;
    let mut conn = PgConnection::connect(&db.url).await?;
    let mut seen = Seen::default();
    for part in &migration.parts {
        let wrong = run_plan(&mut conn, &part.up, &mut seen).await;
        seen.wrong.extend(wrong);
    }
    for part in migration.parts.iter().rev() {
        let wrong = run_plan(&mut conn, &part.down, &mut seen).await;
        seen.wrong.extend(wrong.into_iter().map(|w| format!("down: {w}")));
    }
    Ok(seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_statement_states_the_locks_postgresql_takes() {
    let server = pg_server().await.expect("PostgreSQL for tests");
    server.ensure_roles(&random::ROLES).await.expect("roles");
    // A few cases at a time: each holds connections to its database and to the scratch databases.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(6));
    let mut tasks = tokio::task::JoinSet::new();
    let mut cases: Vec<(String, String, String, bool)> = Vec::new();
    for &(label, current, desired) in CASES {
        for phased in [false, true] {
            cases.push((format!("lk_{label}_{phased}"), current.into(), desired.into(), phased));
        }
    }
    for seed in 0..24 {
        let pair = random::pair(seed);
        cases.push((format!("lk_random_{seed}"), pair.current, pair.declared, false));
    }
    for (label, current, desired, phased) in cases {
        let slots = slots.clone();
        tasks.spawn(async move {
            let _slot = slots.acquire().await.expect("semaphore");
            let outcome = stated_locks(&label, &current, &desired, phased).await;
            (label, outcome)
        });
    }
    let mut failures = Vec::new();
    let mut total = Seen::default();
    while let Some(joined) = tasks.join_next().await {
        let (label, outcome) = joined.expect("case task");
        match outcome {
            Err(e) => failures.push(format!("{label}: error: {e:#}")),
            Ok(seen) => {
                failures.extend(seen.wrong.into_iter().map(|w| format!("{label}: {w}")));
                total.statements += seen.statements;
                for (mode, n) in seen.held {
                    *total.held.entry(mode).or_default() += n;
                }
            }
        }
    }
    failures.sort();
    assert!(failures.is_empty(), "{} wrong lock(s):\n{}", failures.len(), failures.join("\n"));
    // The cases reach every mode PostgreSQL's renderers state, each seen held.
    let modes: Vec<&str> = total.held.keys().copied().collect();
    assert_eq!(
        modes,
        ["ACCESS EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE"],
        "{:?}",
        total.held
    );
    assert!(total.statements > 300, "only {} statements checked", total.statements);
    eprintln!("{} statements checked; stated locks held: {:?}", total.statements, total.held);
}
