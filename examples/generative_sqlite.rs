//! Random (current, desired) SQLite pairs with rows through the round trip as a user runs it (see
//! `schema::testkit::random_sqlite`): prints each failing seed with its first failure.
//!
//! cargo run --example generative_sqlite -- [--seed S] [--count N] [--jobs J] [--print] [--validate] [--verbose]
//!
//! `--print` writes the pair of `--seed` (current, its rows, then the declared side) and runs nothing.
//! `--validate` only loads both sides of each pair into SQLite as they are (a check of the grammar, not of
//! the tool).

use schema::testkit::random_sqlite;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut seed, mut count, mut jobs) = (0u64, 100u64, 2usize);
    let (mut print, mut verbose, mut validate) = (false, false, false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--count" => count = args.next().and_then(|v| v.parse().ok()).unwrap_or(100),
            "--jobs" => jobs = args.next().and_then(|v| v.parse().ok()).unwrap_or(2),
            "--print" => print = true,
            "--verbose" => verbose = true,
            "--validate" => validate = true,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    if print {
        let pair = random_sqlite::pair(seed);
        println!(
            "-- seed {seed}: current\n{}\n-- rows\n{}\n-- declared\n{}\n-- must fail: {:?}",
            pair.current, pair.rows, pair.declared, pair.must_fail
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    if validate {
        let bad = runtime.block_on(async {
            let mut bad = 0;
            for seed in seed..seed + count {
                if let Err(e) = random_sqlite::validate(seed).await {
                    bad += 1;
                    println!("seed {seed}: {e:#}");
                }
            }
            bad
        });
        println!("{count} pairs, {bad} do not load");
        std::process::exit(i32::from(bad > 0));
    }
    let outcomes = runtime.block_on(random_sqlite::check_pairs(seed..seed + count, jobs))?;
    let mut failed = 0;
    for o in &outcomes {
        if let (true, Some(note)) = (verbose, &o.note) {
            println!("seed {} refused as expected: {}", o.seed, note.lines().next().unwrap_or_default());
        }
        if let Some(failure) = &o.failure {
            failed += 1;
            let limit = if verbose { usize::MAX } else { 8 };
            println!("seed {}: {}", o.seed, failure.lines().take(limit).collect::<Vec<_>>().join("\n    "));
            if verbose {
                for (file, text) in &o.files {
                    println!("--- {file}\n{text}");
                }
            }
        }
    }
    let stage = |f: fn(&random_sqlite::PairOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    println!(
        "{} pairs: up {}, noop {}, down {}, refused as they must be {}, down failed whole after reported data loss {}, failed {failed}",
        outcomes.len(),
        stage(|o| o.up),
        stage(|o| o.noop),
        stage(|o| o.down),
        stage(|o| o.refused),
        stage(|o| o.down_refused)
    );
    std::process::exit(i32::from(failed > 0))
}
