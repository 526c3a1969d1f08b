//! Runs a directory of (current, desired) schema pairs through the round trip: load `current` into a
//! fresh database, generate, apply up and compare with `desired` loaded on its own, generate again and
//! expect no changes, apply down and compare with `current` (see `schema::testkit::roundtrip`).
//!
//! cargo run --example pairs -- DIR [--jobs N] [--filter TEXT] [--roles a,b] [--verbose]
//!
//! Each subdirectory of DIR is one case: `a.sql` is the current schema, `b.sql` the desired one (the
//! layout of migra's and schemainspect's fixture folders). Prints up / noop / down counts and the first
//! failure of each case that did not pass every stage.

use schema::testkit::{pg_server, roundtrip};
use std::path::PathBuf;
use std::sync::Arc;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut dir, mut jobs, mut filter, mut roles, mut verbose) = (None, 2usize, None, Vec::new(), false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--jobs" => jobs = args.next().and_then(|v| v.parse().ok()).unwrap_or(2),
            "--filter" => filter = args.next(),
            "--roles" => roles = args.next().map(|r| r.split(',').map(String::from).collect()).unwrap_or_default(),
            "--verbose" => verbose = true,
            _ => dir = Some(PathBuf::from(arg)),
        }
    }
    let Some(dir) = dir else { anyhow::bail!("usage: pairs DIR [--jobs N] [--filter TEXT] [--roles a,b] [--verbose]") };
    let mut cases: Vec<(String, String, String)> = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let (a, b) = (path.join("a.sql"), path.join("b.sql"));
        if !(a.is_file() && b.is_file()) {
            continue;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        cases.push((name, std::fs::read_to_string(a)?, std::fs::read_to_string(b)?));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async move {
        let server = pg_server().await?;
        let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
        server.ensure_roles(&role_refs).await?;
        let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (name, current, desired)) in cases.into_iter().enumerate() {
            let permit = semaphore.clone().acquire_owned().await?;
            tasks.spawn(async move {
                let outcome = roundtrip::run(server, &format!("p{i}"), &current, &desired).await;
                drop(permit);
                (name, outcome)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            results.push(joined?);
        }
        results.sort_by(|a, b| a.0.cmp(&b.0));
        let (mut up, mut noop, mut down) = (0, 0, 0);
        let total = results.len();
        for (name, outcome) in results {
            let outcome = outcome.unwrap_or_else(|e| roundtrip::Outcome {
                failure: Some(format!("setup: {e:#}")),
                ..Default::default()
            });
            up += usize::from(outcome.up);
            noop += usize::from(outcome.noop);
            down += usize::from(outcome.down);
            let stages = format!(
                "up {} noop {} down {}",
                if outcome.up { "ok" } else { "FAIL" },
                if outcome.noop { "ok" } else { "FAIL" },
                if outcome.down { "ok" } else { "FAIL" }
            );
            println!("{name}: {stages}");
            if let Some(failure) = &outcome.failure {
                let shown: String = if verbose {
                    format!(
                        "{failure}\n--- up:\n{}\n--- down:\n{}",
                        outcome.up_sql.join("\n"),
                        outcome.down_sql.join("\n")
                    )
                } else {
                    failure.lines().take(6).collect::<Vec<_>>().join("\n    ")
                };
                println!("    {shown}");
            }
        }
        println!("{total} cases: up {up}/{total}, noop {noop}/{total}, down {down}/{total}");
        Ok(())
    })
}
