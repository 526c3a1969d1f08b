//! Replays a project's migration history step by step (see `schema::testkit::replay`): for every step,
//! `schema` plans from the state before it to the `pg_dump` and the `inspect` of the state after it,
//! and the migration it writes must apply, converge, be a no-op after, and its down must return.
//!
//! cargo run --example replay -- DIR [--route pg_dump|inspect] [--from K] [--to K] [--plain] [--verbose]
//!     [--roles a,b] [--sqlite]
//!
//! DIR holds the history: diesel folders (`<version>/up.sql`, `down.sql`), `*.up.sql`/`*.down.sql`, or
//! ordered `*.sql` files. The server is `DATABASE_URL` or a throwaway cluster; with `--sqlite`, the states
//! are SQLite files and the dump route declares what `sqlite3 .schema` prints. Exit code 0 when every
//! checked step passed on every route, 1 otherwise.

use schema::testkit::{pg_server, replay};
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut options = replay::ReplayOptions::default();
    let (mut verbose, mut roles, mut sqlite) = (false, Vec::new(), false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--route" => {
                options.routes = match args.next().as_deref() {
                    Some("pg_dump" | "dump" | "schema") => vec![replay::Route::Dump],
                    Some("inspect") => vec![replay::Route::Inspect],
                    other => anyhow::bail!("--route: expected pg_dump or inspect, got {other:?}"),
                }
            }
            "--from" => options.first = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--to" => options.last = args.next().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX),
            "--plain" => options.plain = true,
            "--verbose" => verbose = true,
            "--sqlite" => sqlite = true,
            "--roles" => roles = args.next().map(|r| r.split(',').map(String::from).collect()).unwrap_or_default(),
            _ => dir = Some(PathBuf::from(arg)),
        }
    }
    let Some(dir) = dir else {
        anyhow::bail!("usage: replay DIR [--route pg_dump|inspect] [--from K] [--to K] [--plain] [--verbose]")
    };
    let steps = replay::read_history(&dir)?;
    println!("{} migrations in {}", steps.len(), dir.display());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let label = |route: replay::Route| match route {
        replay::Route::Dump if sqlite => ".schema",
        route => route.as_str(),
    };
    let report = |outcome: &replay::StepOutcome| {
        let stage = |ok: bool| if ok { "ok" } else { "FAIL" };
        println!(
            "{:>4} {:<8} {}: up {} noop {} down {}",
            outcome.index,
            label(outcome.route),
            outcome.name,
            stage(outcome.up),
            stage(outcome.noop),
            stage(outcome.down)
        );
        if let Some(failure) = &outcome.failure {
            let limit = if verbose { usize::MAX } else { 12 };
            for line in failure.lines().take(limit) {
                println!("       {line}");
            }
            if verbose {
                for (file, text) in &outcome.files {
                    println!("       --- {file}\n{text}");
                }
            }
        }
    };
    let outcomes = runtime.block_on(async {
        if sqlite {
            return replay::replay_sqlite(&steps, &options, report).await;
        }
        let server = pg_server().await?;
        let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
        server.ensure_roles(&role_refs).await?;
        replay::replay(server, &steps, &options, report).await
    })?;
    let mut exit = 0;
    for route in &options.routes {
        let on_route: Vec<_> = outcomes.iter().filter(|o| o.route == *route).collect();
        let count = |f: fn(&&&replay::StepOutcome) -> bool| on_route.iter().filter(f).count();
        let (up, noop, down) = (count(|o| o.up), count(|o| o.noop), count(|o| o.down));
        println!(
            "{}: {} steps, up {up}, noop {noop}, down {down}, passed {}",
            label(*route),
            on_route.len(),
            count(|o| o.passed())
        );
        if count(|o| o.passed()) != on_route.len() {
            exit = 1;
        }
    }
    std::process::exit(exit)
}
