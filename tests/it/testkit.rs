//! Tests of the test kit itself: every test gets a real, private PostgreSQL database.

use schema::testkit::{PgServer, pg_server, quote_ident};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

async fn table_exists(conn: &mut PgConnection, table: &str) -> bool {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(table)
        .fetch_one(conn)
        .await
        .expect("to_regclass query")
}

#[tokio::test]
async fn fresh_databases_are_distinct_and_usable() {
    let server = pg_server().await.expect("a PostgreSQL server for tests");
    let a = server.fresh_database("Distinct A!").await.expect("first database");
    let b = server.fresh_database("distinct b").await.expect("second database");
    assert_ne!(a.name, b.name);
    assert_ne!(a.url, b.url);
    assert!(a.name.starts_with(&format!("t_{}_", std::process::id())), "{}", a.name);
    assert!(a.name.ends_with("_distinct_a_"), "label is sanitized: {}", a.name);

    let mut conn_a = a.connect().await.expect("connect to a");
    let mut conn_b = PgConnection::connect(&b.url).await.expect("connect to b");

    let current: String =
        sqlx::query_scalar("SELECT current_database()").fetch_one(&mut conn_a).await.expect("current_database");
    assert_eq!(current, a.name);

    sqlx::raw_sql("CREATE TABLE only_in_a (id int PRIMARY KEY); INSERT INTO only_in_a VALUES (1)")
        .execute(&mut conn_a)
        .await
        .expect("create a table in a");
    assert!(table_exists(&mut conn_a, "only_in_a").await);
    assert!(!table_exists(&mut conn_b, "only_in_a").await);

    // The server was started with the C locale and UTF8, for deterministic sorting.
    let (collate, encoding): (String, String) = sqlx::query_as(
        "SELECT datcollate::text, pg_encoding_to_char(encoding)::text FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&mut conn_b)
    .await
    .expect("database settings");
    if std::env::var_os("DATABASE_URL").is_none() {
        assert_eq!((collate.as_str(), encoding.as_str()), ("C", "UTF8"));
    }

    // Dropping works even with open connections (WITH (FORCE)), and is idempotent.
    conn_b.close().await.expect("close b");
    server.drop_database(&a.name).await.expect("drop a");
    server.drop_database(&a.name).await.expect("drop a again");
    server.drop_database(&b.name).await.expect("drop b");
    drop(conn_a);
    assert!(PgConnection::connect(&a.url).await.is_err(), "a is gone");
}

#[tokio::test]
async fn ensure_roles_is_idempotent_under_concurrency() {
    let server = pg_server().await.expect("a PostgreSQL server for tests");
    let pid = std::process::id();
    let names: Vec<String> = (0..8).map(|i| format!("testkit_role_{pid}_{i}")).collect();
    let mut roles: Vec<&str> = names.iter().map(String::as_str).collect();
    roles.push("testkit \"odd\" Role");

    let (r1, r2, r3) =
        tokio::join!(server.ensure_roles(&roles), server.ensure_roles(&roles), server.ensure_roles(&roles),);
    r1.expect("first concurrent ensure_roles");
    r2.expect("second concurrent ensure_roles");
    r3.expect("third concurrent ensure_roles");
    server.ensure_roles(&roles).await.expect("ensure_roles again");
    server.ensure_roles(&[]).await.expect("no roles");

    let mut conn = PgConnection::connect(server.admin_url()).await.expect("admin connection");
    let role_names: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_roles WHERE rolname = ANY($1)")
        .bind(&role_names)
        .fetch_one(&mut conn)
        .await
        .expect("count roles");
    assert_eq!(count, roles.len() as i64);

    // Roles are cluster-wide: clean up, in case this is a shared DATABASE_URL server.
    for role in &roles {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {}", quote_ident(role))))
            .execute(&mut conn)
            .await
            .expect("drop role");
    }
}

#[tokio::test]
async fn url_for_keeps_query_parameters() {
    let offline = PgServer::from_admin_url(
        "postgres://admin:p%40ss@db.example:6543/postgres?sslmode=disable&application_name=ci#x",
    );
    assert_eq!(
        offline.url_for("t_1_2_x"),
        "postgres://admin:p%40ss@db.example:6543/t_1_2_x?sslmode=disable&application_name=ci#x"
    );
    assert_eq!(
        PgServer::from_admin_url("postgres://h?dbname=postgres&user=u").url_for("other db"),
        "postgres://h/other%20db?dbname=other%20db&user=u"
    );

    // End to end: query parameters of the admin URL reach the fresh database's connections.
    let server = pg_server().await.expect("a PostgreSQL server for tests");
    let admin = server.admin_url();
    let separator = if admin.contains('?') { '&' } else { '?' };
    let with_params = PgServer::from_admin_url(&format!("{admin}{separator}application_name=testkit_probe"));
    let db = with_params.fresh_database("params").await.expect("fresh database");
    assert!(db.url.ends_with("application_name=testkit_probe"), "{}", db.url);

    let mut conn = db.connect().await.expect("connect");
    let (database, app): (String, String) =
        sqlx::query_as("SELECT current_database()::text, current_setting('application_name')")
            .fetch_one(&mut conn)
            .await
            .expect("query");
    assert_eq!(database, db.name);
    assert_eq!(app, "testkit_probe");
    conn.close().await.expect("close");
    server.drop_database(&db.name).await.expect("drop");
}

/// Servers that require TLS are reached: `sslmode=require` in the URL negotiates TLS (the throwaway
/// cluster has a self-signed certificate, which `require` accepts without verifying it).
#[tokio::test]
async fn sslmode_require_connects_over_tls() {
    let server = schema::testkit::pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database("tls_require").await.expect("database");
    // The throwaway cluster's URLs say sslmode=disable (cheaper connections for the other tests).
    let url = match db.url.contains("sslmode=disable") {
        true => db.url.replace("sslmode=disable", "sslmode=require"),
        false => format!("{}{}sslmode=require", db.url, if db.url.contains('?') { '&' } else { '?' }),
    };
    let mut conn = match schema::dialect::postgres::connect::connect(&url).await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "could not connect with sslmode=require: {e:#}\nThe test server must accept TLS: the throwaway \
             cluster gets a self-signed certificate when `openssl` is installed; with DATABASE_URL, enable ssl \
             on that server"
        ),
    };
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .expect("pg_stat_ssl");
    assert!(ssl, "the connection is encrypted");
    drop(conn);
    let _ = server.drop_database(&db.name).await;
}
