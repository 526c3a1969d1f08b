//! How close `estimate_ms` comes to the time a step really takes: for tables of 10^4 to 10^7 rows, each
//! kind of work (a rewrite, a scan, an index build, a concurrent one, a validated CHECK) is planned by the
//! pipeline (which probes the server and reads the table's size), then run statement by statement and
//! timed. Prints estimate, actual and their ratio per case.
//!
//! `DATABASE_URL=postgres://…/postgres cargo run --release --example estimate_accuracy [MAX_POWER]`
//! (MAX_POWER defaults to 7: tables up to 10^7 rows, about 1 GB).

use schema::pipeline;
use schema::settings::Settings;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::time::Instant;

const TABLE: &str = "CREATE TABLE t (id int PRIMARY KEY, a int, b text)";

/// (label, declared schema, online plan)
const CASES: &[(&str, &str, bool)] = &[
    ("rewrite (int -> bigint)", "CREATE TABLE t (id int PRIMARY KEY, a bigint, b text);", false),
    ("scan (SET NOT NULL)", "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL, b text);", false),
    ("index build", "CREATE TABLE t (id int PRIMARY KEY, a int, b text); CREATE INDEX t_b ON t (b);", false),
    ("concurrent index build", "CREATE TABLE t (id int PRIMARY KEY, a int, b text); CREATE INDEX t_b ON t (b);", true),
    ("CHECK validated", "CREATE TABLE t (id int PRIMARY KEY, a int CONSTRAINT a_pos CHECK (a > 0), b text);", false),
];

fn database_url(server: &str, name: &str) -> String {
    let (base, _) = server.rsplit_once('/').expect("a URL with a database name");
    format!("{base}/{name}")
}

async fn exec(url: &str, sql: &str) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let server = std::env::var("DATABASE_URL").expect("DATABASE_URL of a server where databases can be created");
    let max_power: u32 = std::env::args().nth(1).map(|a| a.parse().expect("a power of ten")).unwrap_or(7);
    println!("| rows | case | estimate | actual | estimate / actual |");
    println!("| --- | --- | --- | --- | --- |");
    for power in 4..=max_power {
        let rows = 10u64.pow(power);
        let template = format!("estimate_template_{power}");
        exec(&server, &format!("DROP DATABASE IF EXISTS {template}")).await;
        exec(&server, &format!("CREATE DATABASE {template}")).await;
        exec(
            &database_url(&server, &template),
            &format!("{TABLE}; INSERT INTO t SELECT g, g, md5(g::text) FROM generate_series(1, {rows}) g;"),
        )
        .await;
        exec(&database_url(&server, &template), "VACUUM ANALYZE t").await;
        for (i, (label, declared, online)) in CASES.iter().enumerate() {
            let name = format!("estimate_case_{power}_{i}");
            exec(&server, &format!("DROP DATABASE IF EXISTS {name}")).await;
            exec(&server, &format!("CREATE DATABASE {name} TEMPLATE {template}")).await;
            let url = database_url(&server, &name);
            // Warm the table as a live one would be, then plan.
            exec(&url, "SELECT count(*) FROM t").await;
            let dir = tempfile::tempdir().expect("temp dir");
            std::fs::write(dir.path().join("app.sql"), declared).expect("schema file");
            let mut settings =
                Settings { url: Some(url.clone()), schema_dir: dir.path().to_path_buf(), ..Default::default() };
            settings.hazards.rewrite.online = *online;
            let migration = pipeline::migration(&settings).await.expect("plan");
            let mut conn = PgConnection::connect(&url).await.expect("connect");
            let mut estimate = 0;
            let mut actual = 0.0;
            for part in &migration.parts {
                for step in &part.up.steps {
                    estimate += step.estimate_ms.unwrap_or(0);
                    let started = Instant::now();
                    for statement in &step.statements {
                        sqlx::raw_sql(AssertSqlSafe(statement.sql.clone()))
                            .execute(&mut conn)
                            .await
                            .unwrap_or_else(|e| panic!("{}: {e}", statement.sql));
                    }
                    actual += started.elapsed().as_secs_f64() * 1000.0;
                }
            }
            drop(conn);
            println!(
                "| {rows} | {label} | {estimate} ms | {actual:.0} ms | {:.2} |",
                estimate as f64 / actual.max(1.0)
            );
            exec(&server, &format!("DROP DATABASE {name}")).await;
        }
        exec(&server, &format!("DROP DATABASE {template}")).await;
    }
}
