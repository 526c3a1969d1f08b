//! `estimate_ms` on a real PostgreSQL: set on the steps that read, rewrite or index a live table,
//! null on the steps that only change the catalog, summed up in `plan`'s text, and left out (not
//! refused) where the server cannot be probed. How close the estimates come is measured by the
//! `estimate_accuracy` example, not here: tests do not time things.

use crate::support::schema_in;
use schema::testkit::pg_server;

const CURRENT: &str = "CREATE TABLE t (id int PRIMARY KEY, a int, b text);
INSERT INTO t SELECT g, g, md5(g::text) FROM generate_series(1, 20000) g;
ANALYZE t;";

const DESIRED: &str = "CREATE TABLE t (id int PRIMARY KEY, a bigint, b text NOT NULL, c text);
CREATE INDEX t_b ON t (b);";

async fn project(label: &str) -> (tempfile::TempDir, String) {
    crate::support::pg_project(label, CURRENT, DESIRED, "").await
}

fn up_steps(json: &str) -> Vec<(String, serde_json::Value)> {
    let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
    value["up"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["description"].as_str().unwrap().to_string(), s["estimate_ms"].clone()))
        .collect()
}

#[tokio::test]
async fn steps_that_read_or_write_a_live_table_carry_an_estimate_and_catalog_changes_none() {
    let (dir, url) = project("estimates").await;
    for plain in [false, true] {
        let mut args = vec!["plan", "--url", &url, "--format", "json", "--no-verify"];
        if plain {
            args.push("--plain");
        }
        let json = schema_in(dir.path(), &args, &[]);
        assert_eq!(Some(json.code), Some(0), "{}", json.stderr);
        let steps = up_steps(&json.stdout);
        for (description, estimate) in &steps {
            let works =
                description.contains("public.t.a") || description.contains("public.t.b") || description.contains("t_b");
            if works {
                assert!(estimate.as_u64().is_some(), "{description} is estimated: {steps:?}");
            } else {
                assert!(estimate.is_null(), "{description} only changes the catalog: {steps:?}");
            }
        }
        assert!(steps.iter().any(|(d, _)| d.contains("add column public.t.c")), "{steps:?}");
    }
    let text = schema_in(dir.path(), &["plan", "--url", &url, "--no-verify"], &[]);
    assert!(text.stdout.contains("-- estimated: ≈"), "{}", text.stdout);
    assert!(text.stdout.contains("alter column public.t.a (type integer -> bigint)"), "{}", text.stdout);
    assert!(text.stdout.contains("(ACCESS EXCLUSIVE on public.t)"), "the rewrite's lock is named: {}", text.stdout);
}

#[tokio::test]
async fn a_server_that_cannot_be_probed_gives_no_estimates_but_still_plans() {
    let (dir, url) = project("estimates_ro").await;
    let name = url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let mut conn = schema::dialect::postgres::connect::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ALTER DATABASE \"{name}\" SET default_transaction_read_only = on")))
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    // The declared schema loads elsewhere: only the live database is read-only.
    let server = pg_server().await.expect("PostgreSQL for tests");
    let dev = server.fresh_database("estimates_ro_dev").await.expect("fresh database");
    let args = ["plan", "--url", &url, "--dev-url", &dev.url, "--format", "json", "--no-verify"];
    let json = schema_in(dir.path(), &args, &[]);
    assert_eq!(Some(json.code), Some(0), "{}", json.stderr);
    let steps = up_steps(&json.stdout);
    assert!(!steps.is_empty() && steps.iter().all(|(_, e)| e.is_null()), "{steps:?}");
}
