//! Random (current, desired) pairs through the round trip as a user runs it (see
//! `schema::testkit::random`): prints each failing seed with its first failure.
//!
//! cargo run --example generative -- [--seed S] [--count N] [--jobs J] [--print] [--verbose]
//!
//! `--print` writes the pair of `--seed` (current, then desired) and runs nothing. `--validate` only loads
//! both sides of each pair into PostgreSQL as they are (a check of the grammar, not of the tool).

use schema::testkit::{pg_server, random};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut seed, mut count, mut jobs, mut print, mut verbose) = (0u64, 100u64, 3usize, false, false);
    let mut validate = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--count" => count = args.next().and_then(|v| v.parse().ok()).unwrap_or(100),
            "--jobs" => jobs = args.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--print" => print = true,
            "--verbose" => verbose = true,
            "--validate" => validate = true,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    if print {
        let pair = random::pair(seed);
        println!(
            "-- seed {seed}: current\n{}\n-- desired\n{}\n-- declared\n{}",
            pair.current, pair.desired, pair.declared
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    if validate {
        return runtime.block_on(async {
            let server = pg_server().await?;
            server.ensure_roles(&random::ROLES).await?;
            let mut bad = 0;
            for seed in seed..seed + count {
                let pair = random::pair(seed);
                for (side, sql) in [("current", &pair.current), ("desired", &pair.desired)] {
                    let db = server.fresh_database("validate").await?;
                    if let Err(e) = schema::testkit::roundtrip::load_sql(&db.url, sql).await {
                        bad += 1;
                        println!("seed {seed} {side}: {e:#}");
                    }
                    server.drop_database(&db.name).await?;
                }
            }
            println!("{count} pairs, {bad} sides do not load");
            std::process::exit(i32::from(bad > 0))
        });
    }
    let outcomes = runtime.block_on(async {
        let server = pg_server().await?;
        random::check_pairs(server, seed..seed + count, jobs).await
    })?;
    let mut failed = 0;
    for o in &outcomes {
        if let Some(failure) = &o.outcome.failure {
            failed += 1;
            let limit = if verbose { usize::MAX } else { 8 };
            println!("seed {}: {}", o.seed, failure.lines().take(limit).collect::<Vec<_>>().join("\n    "));
            if verbose {
                for (file, text) in &o.outcome.files {
                    println!("--- {file}\n{text}");
                }
            }
        }
    }
    let stage = |f: fn(&random::PairOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    println!(
        "{} pairs: up {}, noop {}, down {}, failed {failed}",
        outcomes.len(),
        stage(|o| o.outcome.up),
        stage(|o| o.outcome.noop),
        stage(|o| o.outcome.down)
    );
    std::process::exit(i32::from(failed > 0))
}
