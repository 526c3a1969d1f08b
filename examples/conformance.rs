//! Runs sqldef's PostgreSQL test cases (../shared/conformance/sqldef/cases.jsonl) through the round
//! trip: load `current`, generate, apply up and compare with `desired` loaded on its own, generate
//! again and expect no changes, apply down and compare with `current`.
//!
//! cargo run --release --example conformance -- ../shared/conformance/sqldef/cases.jsonl [--jobs N]
//!     [--filter TEXT] [--out FILE] [--option-cases] [--online]
//!
//! `--online` runs each case as a user does with `generate`: the files it writes (online forms, each
//! part in its own transaction or none), applied by `migrate up --contract` and `migrate down --all`.
//! Without it the one-step plan runs as `apply` would.
//!
//! Cases with a `skip_reason`, cases that must run as another role, cases whose SQL PostgreSQL 15
//! rejects, and cases whose declared side uses object kinds not managed yet are counted separately.
//!
//! `--option-cases` also runs, and counts apart, the skipped cases whose only reason is a sqldef option
//! that changes what sqldef leaves alone (`enable_drop`, `managed_roles`, `manage`, `config`): as plain
//! convergence tests, with `[privileges] roles` set to every role the case uses (and `[ownership] manage`
//! when the case sets owners), so that the database must end up exactly as declared (sqldef itself would
//! leave some of it alone).
//!
//! Cases that must run as another role (`requires.run_as`, a non-superuser whose search_path starts with
//! a schema of its own) run as that role, counted apart too: the role gets LOGIN, CREATEDB (for the
//! scratch database) and the case's search_path, owns both databases, and both sides start with the
//! search_path's schemas, which sqldef's harness creates before a case (`CREATE SCHEMA foo`).

use schema::dialect::postgres::render::ident;
use schema::testkit::{pg_server, roundtrip};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    file: String,
    current: String,
    desired: String,
    skip_reason: Option<String>,
    requires: Requires,
    pg15_loads: bool,
    #[serde(default)]
    options: serde_json::Map<String, serde_json::Value>,
    expected_error: Option<String>,
}

impl Case {
    /// Skipped only for sqldef options that narrow what sqldef manages: still a convergence test here.
    fn option_case(&self) -> bool {
        const NARROWING: &[&str] = &["enable_drop", "managed_roles", "manage", "config", "legacy_ignore_quotes"];
        self.skip_reason.is_some()
            && self.expected_error.is_none()
            && self.requires.run_as.is_none()
            && self.pg15_loads
            && !self.options.is_empty()
            && self.options.keys().all(|k| NARROWING.contains(&k.as_str()) || k == "min_version")
            && self.options.keys().any(|k| k != "legacy_ignore_quotes" && k != "min_version")
    }
}

#[derive(Debug, Deserialize, Default)]
struct Requires {
    #[serde(default)]
    roles: Vec<String>,
    run_as: Option<String>,
    search_path: Option<Vec<String>>,
}

impl Requires {
    /// The schemas of the search path that each side starts with, as SQL.
    fn environment(&self) -> String {
        let schemas = self.search_path.iter().flatten().filter(|s| s.as_str() != "public");
        schemas.map(|s| format!("CREATE SCHEMA {};\n", ident(s))).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    Skipped,
    RunAs,
    NotLoadable,
    Unmanaged,
    Ran,
    /// An option case (`--option-cases`) that ran.
    OptionRan,
    /// A case run as another role.
    RunAsRan,
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut jobs = 4usize;
    let mut filter = None;
    let mut out = None;
    let mut option_cases = false;
    let mut online = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--option-cases" => option_cases = true,
            "--online" => online = true,
            "--jobs" => jobs = args.next().and_then(|v| v.parse().ok()).unwrap_or(4),
            "--filter" => filter = args.next(),
            "--out" => out = args.next(),
            _ => path = Some(arg),
        }
    }
    let path = path.unwrap_or_else(|| "../shared/conformance/sqldef/cases.jsonl".to_string());
    let text = std::fs::read_to_string(&path)?;
    let mut cases: Vec<Case> =
        text.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str).collect::<Result<_, _>>()?;
    if let Some(f) = &filter {
        cases.retain(|c| c.name.contains(f.as_str()) || c.file.contains(f.as_str()));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(cases, jobs, out, option_cases, online))
}

async fn run(
    cases: Vec<Case>,
    jobs: usize,
    out: Option<String>,
    option_cases: bool,
    online: bool,
) -> anyhow::Result<()> {
    let server = pg_server().await?;
    let mut roles: Vec<String> = cases.iter().flat_map(|c| c.requires.roles.clone()).collect();
    roles.sort();
    roles.dedup();
    let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
    server.ensure_roles(&role_refs).await?;
    let mut setup = String::new();
    for case in &cases {
        if let Some(role) = &case.requires.run_as {
            let path: Vec<String> = case.requires.search_path.iter().flatten().map(|s| ident(s)).collect();
            setup.push_str(&format!("ALTER ROLE {} LOGIN CREATEDB NOSUPERUSER;\n", ident(role)));
            if !path.is_empty() {
                setup.push_str(&format!("ALTER ROLE {} SET search_path = {};\n", ident(role), path.join(", ")));
            }
        }
    }
    roundtrip::load_sql(server.admin_url(), &setup).await?;

    let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let mut results: Vec<(String, String, Category, Option<roundtrip::Outcome>)> = Vec::new();
    for (i, case) in cases.into_iter().enumerate() {
        let category = if option_cases && case.option_case() {
            Category::OptionRan
        } else if case.skip_reason.is_some() {
            Category::Skipped
        } else if case.requires.run_as.is_some() && !case.pg15_loads {
            Category::RunAs
        } else if case.requires.run_as.is_some() {
            Category::RunAsRan
        } else if !case.pg15_loads {
            Category::NotLoadable
        } else {
            Category::Ran
        };
        if !matches!(category, Category::Ran | Category::OptionRan | Category::RunAsRan) {
            results.push((case.file, case.name, category, None));
            continue;
        }
        let permit = semaphore.clone().acquire_owned().await?;
        // Runs on a blocking thread: the runner's futures (used by `--online`) are not `Send`.
        let handle = tokio::runtime::Handle::current();
        tasks.spawn_blocking(move || {
            handle.block_on(async move {
                let label = format!("c{i}");
                let roles = case.requires.roles.clone();
                let outcome = match &case.requires.run_as {
                    Some(role) if category == Category::RunAsRan => {
                        let environment = case.requires.environment();
                        let (current, desired) =
                            (format!("{environment}{}", case.current), format!("{environment}{}", case.desired));
                        roundtrip::run_as(server, &label, role, &current, &desired, |_| {}).await
                    }
                    _ => {
                        // Owners are compared only when managed; sqldef's cases that set them manage them.
                        let owners =
                            [&case.current, &case.desired].iter().any(|sql| sql.to_uppercase().contains("OWNER TO"));
                        let configure = |settings: &mut schema::settings::Settings| {
                            if category == Category::OptionRan {
                                settings.privilege_roles = roles.clone();
                                settings.manage_owners = owners;
                            }
                        };
                        if online {
                            roundtrip::run_parts(server, &label, &case.current, &case.desired, configure).await
                        } else {
                            roundtrip::run_with(server, &label, &case.current, &case.desired, configure).await
                        }
                    }
                };
                drop(permit);
                (case.file, case.name, category, outcome)
            })
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (file, name, ran_as, outcome) = joined?;
        let outcome = outcome
            .unwrap_or_else(|e| roundtrip::Outcome { failure: Some(format!("setup: {e:#}")), ..Default::default() });
        let unmanaged = outcome
            .failure
            .as_deref()
            .is_some_and(|f| f.contains("not managed by this version") || f.contains("is not managed by this version"));
        let category = if unmanaged && !outcome.up { Category::Unmanaged } else { ran_as };
        results.push((file, name, category, Some(outcome)));
    }
    results.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));

    let mut log = String::new();
    let mut by_file: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let (mut ran, mut up, mut noop, mut down, mut all) = (0, 0, 0, 0, 0);
    // Option cases and run-as cases: ran, up, noop, down, all three.
    let mut extra: BTreeMap<Category, [usize; 5]> = BTreeMap::new();
    let mut counts: BTreeMap<Category, usize> = BTreeMap::new();
    for (file, name, category, outcome) in &results {
        *counts.entry(*category).or_default() += 1;
        if let Some(o) = outcome.as_ref().filter(|_| matches!(category, Category::OptionRan | Category::RunAsRan)) {
            let passed = o.up && o.noop && o.down;
            let counts = extra.entry(*category).or_default();
            for (slot, ok) in counts.iter_mut().zip([true, o.up, o.noop, o.down, passed]) {
                *slot += ok as usize;
            }
            let status =
                if passed { "PASS".to_string() } else { format!("FAIL {}", o.failure.as_deref().unwrap_or("")) };
            log.push_str(&format!("{file} {name}: {category:?} {status}\n"));
            continue;
        }
        let Some(o) = outcome.as_ref().filter(|_| *category == Category::Ran) else {
            log.push_str(&format!("{file} {name}: {category:?}\n"));
            continue;
        };
        ran += 1;
        up += o.up as usize;
        noop += o.noop as usize;
        down += o.down as usize;
        let passed = o.up && o.noop && o.down;
        all += passed as usize;
        let entry = by_file.entry(file.clone()).or_default();
        entry[0] += 1;
        entry[1] += passed as usize;
        let status = if passed { "PASS".to_string() } else { format!("FAIL {}", o.failure.as_deref().unwrap_or("")) };
        log.push_str(&format!("{file} {name}: {status}\n"));
    }
    if let Some(out) = out {
        std::fs::write(out, &log)?;
    } else {
        print!("{log}");
    }
    println!("\nper file (ran / passed all three):");
    for (file, [n, p, ..]) in &by_file {
        println!("  {file:<36} {n:>4} {p:>4}");
    }
    println!("\ncases: {}", results.len());
    for (category, n) in &counts {
        println!("  {category:?}: {n}");
    }
    let pct = |n: usize| if ran == 0 { 0.0 } else { 100.0 * n as f64 / ran as f64 };
    println!(
        "ran {ran}: up {up} ({:.1}%), noop {noop} ({:.1}%), down {down} ({:.1}%), all three {all} ({:.1}%)",
        pct(up),
        pct(noop),
        pct(down),
        pct(all)
    );
    for (category, [n, up, noop, down, all]) in &extra {
        println!("{category:?} (counted apart): ran {n}: up {up}, noop {noop}, down {down}, all three {all}");
    }
    Ok(())
}
