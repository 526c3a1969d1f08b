//! `schema fleet up` against a shell-style loop of `schema migrate up --url` per target: N databases on
//! one server (one of them broken: its third migration fails), three migrations, each way timed from a
//! fresh set of databases. Then `fleet status` and a loop of `migrate status`.
//!
//! With TENANTS, the same for a schema per tenant: TENANTS schemas in one database (one broken), `fleet up`
//! with `[fleet] schemas` against a loop of `migrate up` per schema (each with the schema in the URL's
//! `search_path` and its own tracking table), then the two statuses.
//!
//! `cargo build --release && DATABASE_URL=postgres://…/postgres cargo run --release --example fleet_bench [N] [PARALLEL] [TENANTS]`
//! (N defaults to 60, PARALLEL to 8, TENANTS to 0; uses `target/release/schema`).

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn database_url(server: &str, name: &str) -> String {
    let (base, _) = server.rsplit_once('/').expect("a URL with a database name");
    format!("{base}/{name}")
}

async fn exec(url: &str, sql: &str) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// N fresh databases; the one in the middle already has the table the third migration creates.
async fn databases(server: &str, n: usize) -> Vec<String> {
    let mut urls = Vec::new();
    for i in 0..n {
        let name = format!("fleet_bench_{i}");
        exec(server, &format!("DROP DATABASE IF EXISTS {name}")).await;
        exec(server, &format!("CREATE DATABASE {name}")).await;
        urls.push(database_url(server, &name));
    }
    exec(&urls[n / 2], "CREATE TABLE c (x int)").await;
    urls
}

fn schema(binary: &Path, dir: &Path, args: &[&str]) -> i32 {
    let status = Command::new(binary)
        .current_dir(dir)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run schema");
    status.code().unwrap_or(-1)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let server = std::env::var("DATABASE_URL").expect("DATABASE_URL of a server where databases can be created");
    let n: usize = std::env::args().nth(1).map(|a| a.parse().expect("a count")).unwrap_or(60);
    let parallel = std::env::args().nth(2).unwrap_or_else(|| "8".into());
    let binary = std::env::current_dir().unwrap().join("target/release/schema");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated");
    std::fs::create_dir(&out).unwrap();
    for (version, name, table) in
        [("20240101000000", "one", "a"), ("20240102000000", "two", "b"), ("20240103000000", "three", "c")]
    {
        std::fs::write(
            out.join(format!("{version}_{name}.up.sql")),
            format!("CREATE TABLE {table} (id int PRIMARY KEY, v text);\n"),
        )
        .unwrap();
        std::fs::write(out.join(format!("{version}_{name}.down.sql")), format!("DROP TABLE {table};\n")).unwrap();
    }
    assert_eq!(schema(&binary, dir.path(), &["migrate", "hash"]), 0);

    let urls = databases(&server, n).await;
    let started = Instant::now();
    let mut failed = 0;
    for url in &urls {
        if schema(&binary, dir.path(), &["migrate", "up", "--url", url]) != 0 {
            failed += 1;
        }
    }
    let looped = started.elapsed();
    let started = Instant::now();
    for url in &urls {
        schema(&binary, dir.path(), &["migrate", "status", "--url", url]);
    }
    let looped_status = started.elapsed();
    println!("loop of `migrate up`:      {n} targets, {failed} failed, {:.2} s", looped.as_secs_f64());
    println!("loop of `migrate status`:  {:.2} s", looped_status.as_secs_f64());

    let urls = databases(&server, n).await;
    let list: Vec<String> = urls.iter().map(|u| format!("{u:?}")).collect();
    std::fs::write(dir.path().join("diff.toml"), format!("[fleet]\nurls = [{}]\n", list.join(", "))).unwrap();
    let started = Instant::now();
    let code = schema(&binary, dir.path(), &["fleet", "up", "--parallel", &parallel]);
    let fleet = started.elapsed();
    let started = Instant::now();
    let status_code = schema(&binary, dir.path(), &["fleet", "status", "--parallel", &parallel]);
    let fleet_status = started.elapsed();
    println!(
        "`fleet up --parallel {parallel}`: exit {code}, {:.2} s ({:.1}x faster)",
        fleet.as_secs_f64(),
        looped.as_secs_f64() / fleet.as_secs_f64()
    );
    println!(
        "`fleet status`:            exit {status_code}, {:.2} s ({:.1}x faster)",
        fleet_status.as_secs_f64(),
        looped_status.as_secs_f64() / fleet_status.as_secs_f64()
    );
    for i in 0..n {
        exec(&server, &format!("DROP DATABASE IF EXISTS fleet_bench_{i}")).await;
    }
    let tenants: usize = std::env::args().nth(3).map(|a| a.parse().expect("a count")).unwrap_or(0);
    if tenants > 0 {
        tenant_schemas(&server, &binary, dir.path(), tenants, &parallel).await;
    }
}

/// One database of `n` tenant schemas; the one in the middle already has the third migration's table.
async fn tenant_database(server: &str, n: usize) -> String {
    exec(server, "DROP DATABASE IF EXISTS fleet_bench_tenants").await;
    exec(server, "CREATE DATABASE fleet_bench_tenants").await;
    let url = database_url(server, "fleet_bench_tenants");
    let create: Vec<String> = (0..n).map(|i| format!("CREATE SCHEMA tenant_{i:04};")).collect();
    exec(&url, &create.join("\n")).await;
    exec(&url, &format!("CREATE TABLE tenant_{:04}.c (x int)", n / 2)).await;
    url
}

async fn tenant_schemas(server: &str, binary: &Path, dir: &Path, n: usize, parallel: &str) {
    let url = tenant_database(server, n).await;
    let configs = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut failed = 0;
    for i in 0..n {
        let config = configs.path().join(format!("tenant_{i:04}.toml"));
        let out = dir.join("generated");
        std::fs::write(&config, format!("out_dir = {out:?}\n[migrate]\ntable = \"tenant_{i:04}.schema_migrations\"\n"))
            .unwrap();
        let target = format!("{url}?options=-csearch_path%3Dtenant_{i:04}");
        if schema(binary, dir, &["migrate", "up", "--url", &target, "--config", config.to_str().unwrap()]) != 0 {
            failed += 1;
        }
    }
    let looped = started.elapsed();
    println!("loop of `migrate up`:      {n} tenant schemas, {failed} failed, {:.2} s", looped.as_secs_f64());

    let url = tenant_database(server, n).await;
    std::fs::write(dir.join("diff.toml"), format!("[fleet]\nurls = [{url:?}]\nschemas = \"tenant_*\"\n")).unwrap();
    let started = Instant::now();
    let code = schema(binary, dir, &["fleet", "up", "--parallel", parallel]);
    let fleet = started.elapsed();
    let started = Instant::now();
    let status_code = schema(binary, dir, &["fleet", "status", "--parallel", parallel]);
    let status = started.elapsed();
    println!(
        "`fleet up --parallel {parallel}`: {n} tenant schemas, exit {code}, {:.2} s ({:.1}x faster)",
        fleet.as_secs_f64(),
        looped.as_secs_f64() / fleet.as_secs_f64()
    );
    println!("`fleet status`:            exit {status_code}, {:.2} s", status.as_secs_f64());
    // The declared schema the three migrations lead to: all tenants but the broken one are in sync.
    let declared = dir.join("schema");
    std::fs::create_dir_all(&declared).unwrap();
    let tables: Vec<String> =
        ["a", "b", "c"].iter().map(|t| format!("CREATE TABLE {t} (id int PRIMARY KEY, v text);")).collect();
    std::fs::write(declared.join("app.sql"), tables.join("\n")).unwrap();
    let started = Instant::now();
    let drift_code = schema(binary, dir, &["fleet", "drift", "--parallel", parallel]);
    println!("`fleet drift`:             exit {drift_code}, {:.2} s", started.elapsed().as_secs_f64());
    exec(server, "DROP DATABASE IF EXISTS fleet_bench_tenants").await;
}
