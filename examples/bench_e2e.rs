//! End-to-end benchmark against a real PostgreSQL server (issue 7): for each N, a generated schema of N
//! tables (`current`, seed 42) and a variant with 10% of its tables edited (`desired`) are loaded into two
//! fresh databases on the throwaway test cluster (or the `DATABASE_URL` server), then the harness times
//! and measures the peak memory (max RSS, via `/usr/bin/time`) of
//!
//! * `psql -1 -f` loading each side: the floor for loading declared files;
//! * `schema diff --from CURRENT --to DESIRED` (two live databases);
//! * `schema generate` (the desired SQL as the declared files, against the current database), and the
//!   same with `--no-verify`, alternately (which runs first changes from run to run);
//! * introspection alone: in-process (`schema::pipeline::live_catalog`) and `schema inspect > /dev/null`;
//! * the raw catalog SELECTs of the introspection (`src/dialect/postgres/queries/*.sql`, `$1` = `'{}'`)
//!   run by one psql session in one transaction, as the introspection runs them;
//! * diff + ordering + rendering of both directions in-process on the introspected catalogs;
//! * the number of statements one introspection sends, counted in the server log (`log_statement = all`
//!   on the database), next to `QUERY_COUNT`;
//! * `migra --unsafe CURRENT DESIRED` on the same pair, when migra is installed.
//!
//! Build the binary first; the harness runs `target/release/schema` as a child process:
//!
//! ```sh
//! cargo build --release && cargo run --release --example bench_e2e -- [--quick] [--sizes 100,1000,5000,10000]
//!     [--runs 3] [--migra PATH | --no-migra] [--migra-timeout 1800] [--schema-bin PATH] [--out FILE]
//! ```
//!
//! Times are medians of `--runs` runs (min–max in brackets); migra runs `--migra-runs` times (default 1
//! from N = 5,000 on, where one run takes minutes). Each measurement notes the 1-minute load average.

use schema::dialect::Kind;
use schema::dialect::postgres::introspect::QUERY_COUNT;
use schema::pipeline;
use schema::settings::Settings;
use schema::testkit::{PgServer, generate, pg_server};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const QUERY_FILES: &[&str] = &[
    "schemas",
    "extensions",
    "enums",
    "sequences",
    "tables",
    "columns",
    "constraints",
    "indexes",
    "views",
    "functions",
    "triggers",
    "policies",
    "row_security",
    "function_uses",
    "privileges",
    "default_privileges",
    "owners",
    "domains",
    "composite_types",
    "range_types",
    "collations",
    "unmanaged",
];

struct Options {
    sizes: Vec<usize>,
    runs: usize,
    migra_runs: Option<usize>,
    migra: Option<PathBuf>,
    migra_timeout: Duration,
    schema_bin: PathBuf,
    seed: u64,
    percent: u64,
    out: Option<PathBuf>,
    /// Only write `current_N.sql` and `desired_N.sql` into this directory.
    sql_only: Option<PathBuf>,
    /// `max_locks_per_transaction` to set (and restart the throwaway cluster with) when it is lower.
    max_locks: Option<u64>,
}

fn parse_options() -> anyhow::Result<Options> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let default_migra = ["/tmp/migra-venv/bin/migra"].iter().map(PathBuf::from).find(|p| p.exists()).or_else(|| {
        std::env::var_os("PATH")
            .and_then(|path| std::env::split_paths(&path).map(|d| d.join("migra")).find(|p| p.exists()))
    });
    let mut o = Options {
        sizes: vec![100, 1_000, 5_000, 10_000],
        runs: 3,
        migra_runs: None,
        migra: default_migra,
        migra_timeout: Duration::from_secs(1800),
        schema_bin: root.join("target/release/schema"),
        seed: 42,
        percent: 10,
        out: None,
        sql_only: None,
        max_locks: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| anyhow::anyhow!("{arg} needs a value"));
        match arg.as_str() {
            "--quick" => o.sizes = vec![100, 1_000],
            "--sizes" => o.sizes = value()?.split(',').map(|s| s.trim().parse()).collect::<Result<_, _>>()?,
            "--runs" => o.runs = value()?.parse::<usize>()?.max(1),
            "--migra-runs" => o.migra_runs = Some(value()?.parse::<usize>()?.max(1)),
            "--migra" => o.migra = Some(PathBuf::from(value()?)),
            "--no-migra" => o.migra = None,
            "--migra-timeout" => o.migra_timeout = Duration::from_secs(value()?.parse()?),
            "--schema-bin" => o.schema_bin = PathBuf::from(value()?),
            "--seed" => o.seed = value()?.parse()?,
            "--percent" => o.percent = value()?.parse()?,
            "--out" => o.out = Some(PathBuf::from(value()?)),
            "--sql-only" => o.sql_only = Some(PathBuf::from(value()?)),
            "--max-locks" => o.max_locks = Some(value()?.parse()?),
            "-h" | "--help" => {
                println!(
                    "bench_e2e [--quick] [--sizes 100,1000,5000,10000] [--runs 3] [--migra PATH | --no-migra] \
                     [--migra-runs N] [--migra-timeout SECS] [--schema-bin PATH] [--seed 42] [--percent 10] \
                     [--out FILE] [--sql-only DIR] [--max-locks N]"
                );
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument {other} (see --help)"),
        }
    }
    // `--sql-only` only writes the generated files.
    if o.sql_only.is_none() && !o.schema_bin.exists() {
        anyhow::bail!("{} does not exist: run `cargo build --release` first", o.schema_bin.display());
    }
    Ok(o)
}

/// One timed run of a child process.
#[derive(Debug, Clone)]
struct Run {
    secs: f64,
    /// Peak resident set size of the child, in MiB (None when /usr/bin/time is missing).
    rss_mb: Option<f64>,
    load: f64,
}

/// Several runs of one measurement.
#[derive(Debug, Clone, Default)]
struct Sample {
    runs: Vec<Run>,
    note: String,
}

impl Sample {
    fn median(&self) -> Option<f64> {
        let mut t: Vec<f64> = self.runs.iter().map(|r| r.secs).collect();
        t.sort_by(f64::total_cmp);
        (!t.is_empty()).then(|| t[t.len() / 2])
    }
    fn rss(&self) -> Option<f64> {
        self.runs.iter().filter_map(|r| r.rss_mb).reduce(f64::max)
    }
    fn load(&self) -> String {
        let loads: Vec<String> = self.runs.iter().map(|r| format!("{:.1}", r.load)).collect();
        loads.join("/")
    }
    fn time_cell(&self) -> String {
        match self.median() {
            None => format!("n/a {}", self.note).trim().to_string(),
            Some(m) if self.runs.len() == 1 => secs(m),
            Some(m) => {
                let min = self.runs.iter().map(|r| r.secs).reduce(f64::min).unwrap_or(m);
                let max = self.runs.iter().map(|r| r.secs).reduce(f64::max).unwrap_or(m);
                format!("{} [{}–{}]", secs(m), secs(min), secs(max))
            }
        }
    }
    fn rss_cell(&self) -> String {
        self.rss().map(|m| format!("{m:.0} MB")).unwrap_or_else(|| "–".into())
    }
}

fn secs(s: f64) -> String {
    if s < 1.0 { format!("{:.0} ms", s * 1000.0) } else { format!("{s:.2} s") }
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|l| l.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// Runs `argv` under `/usr/bin/time` (for the peak RSS), with stdout to `stdout` (or /dev/null), and returns
/// the run and the exit code. The elapsed time is measured here, around the whole child.
/// Exit codes up to `max_ok` count as success (`schema diff` exits 1 and migra 2 when there are differences).
fn timed(
    argv: &[String],
    cwd: &Path,
    stdout: Option<&Path>,
    timeout: Option<Duration>,
    max_ok: i32,
) -> anyhow::Result<(Run, i32)> {
    let rss_file = tempfile::NamedTempFile::new()?;
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M").arg("-o").arg(rss_file.path()).args(argv);
        c
    } else {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        c
    };
    cmd.current_dir(cwd).env_remove("DATABASE_URL").stdin(Stdio::null());
    cmd.stdout(match stdout {
        Some(path) => Stdio::from(std::fs::File::create(path)?),
        None => Stdio::null(),
    });
    let stderr_file = tempfile::NamedTempFile::new()?;
    cmd.stderr(Stdio::from(stderr_file.reopen()?));
    let load = load_average();
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| anyhow::anyhow!("could not run {}: {e}", argv[0]))?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if timeout.is_some_and(|t| start.elapsed() > t) {
            child.kill()?;
            child.wait()?;
            anyhow::bail!("{} timed out after {:?}", argv[0], timeout.unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let secs = start.elapsed().as_secs_f64();
    let code = status.code().unwrap_or(-1);
    let rss_mb = std::fs::read_to_string(rss_file.path())
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse::<f64>().ok()))
        .map(|kb| kb / 1024.0);
    let stderr = std::fs::read_to_string(stderr_file.path()).unwrap_or_default();
    if !(0..=max_ok).contains(&code) {
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        anyhow::bail!("{} exited with {code}:\n{}", argv.join(" "), tail.join("\n"));
    }
    Ok((Run { secs, rss_mb, load }, code))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn psql_load(url: &str, file: &Path, cwd: &Path) -> anyhow::Result<Run> {
    let argv = strings(&["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", &file.to_string_lossy(), url]);
    Ok(timed(&argv, cwd, None, None, 0)?.0)
}

/// The introspection's queries as one psql script: one read-only repeatable-read transaction with
/// `search_path = pg_catalog`, `$1` bound to the empty array (all schemas).
fn raw_queries_script(root: &Path) -> anyhow::Result<String> {
    let mut script =
        String::from("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSET LOCAL search_path TO pg_catalog;\n");
    for name in QUERY_FILES {
        let path = root.join("src/dialect/postgres/queries").join(format!("{name}.sql"));
        let sql = std::fs::read_to_string(&path)?;
        let sql = sql.trim().trim_end_matches(';').replace("$1", "'{}'");
        writeln!(script, "{sql};")?;
    }
    script.push_str("ROLLBACK;\n");
    Ok(script)
}

/// Lines the server logged for statements (`log_statement = all`) after byte `offset` of its log.
fn count_logged_statements(log: &Path, offset: u64) -> Option<(usize, Vec<String>)> {
    let bytes = std::fs::read(log).ok()?;
    let text = String::from_utf8_lossy(&bytes[usize::try_from(offset).ok()?.min(bytes.len())..]).into_owned();
    let mut firsts = Vec::new();
    for line in text.lines() {
        if let Some(at) = line.find("LOG:  statement: ").or_else(|| line.find("LOG:  execute ")) {
            firsts.push(line[at + 6..].chars().take(90).collect());
        }
    }
    Some((firsts.len(), firsts))
}

struct SizeResult {
    n: usize,
    objects: String,
    sql_bytes: (usize, usize),
    load_current: Sample,
    load_desired: Sample,
    raw_selects: Sample,
    /// Sum of the ten queries' own times (psql `\timing`), without psql's start and connection.
    raw_sum: Sample,
    raw_per_query: Vec<(String, f64)>,
    introspect: Sample,
    inspect: Sample,
    plan_inproc: Sample,
    diff: Sample,
    diff_statements: usize,
    generate: Sample,
    generate_unverified: Sample,
    parse: Sample,
    declared: Sample,
    scratch: Sample,
    migra: Sample,
    migra_statements: usize,
    queries_logged: String,
}

fn main() -> anyhow::Result<()> {
    anyhow::ensure!(QUERY_FILES.len() == QUERY_COUNT, "QUERY_FILES must list every catalog query of the introspection");
    let options = parse_options()?;
    if let Some(dir) = &options.sql_only {
        std::fs::create_dir_all(dir)?;
        for &n in &options.sizes {
            let current = generate::catalog(n, options.seed);
            let desired = generate::edited(&current, options.percent, options.seed);
            std::fs::write(dir.join(format!("current_{n}.sql")), generate::sql(&current))?;
            std::fs::write(dir.join(format!("desired_{n}.sql")), generate::sql(&desired))?;
        }
        return Ok(());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let server: &PgServer = rt.block_on(pg_server())?;
    let work = tempfile::tempdir()?;
    // The server log of the throwaway cluster is `<dir>/server.log` beside `<dir>/data`.
    let log_path = rt.block_on(async {
        let db = server.fresh_database("bench_probe").await.ok()?;
        let mut conn = db.connect().await.ok()?;
        let data: String = sqlx::query_scalar("SHOW data_directory").fetch_one(&mut conn).await.ok()?;
        Some(Path::new(&data).parent()?.join("server.log")).filter(|p| p.exists())
    });

    // Loading N tables in one transaction (`psql -1`, and the scratch load of `schema generate`) holds
    // about 15 locks per table until it commits; the shared lock table has max_locks_per_transaction ×
    // (max_connections + max_prepared_transactions) slots, 64 × 200 on the throwaway cluster, which runs
    // out between 1,000 and 5,000 tables. The catalogs of a 5,000-table database take 96 MB, so the
    // default 128 MB of shared_buffers cannot hold the two that `schema diff` and migra read, and every
    // run would read them through the kernel's page cache: 1 GB, as a server with thousands of tables
    // would have. Both are raised (ALTER SYSTEM and a restart) when the sizes need it.
    let largest = options.sizes.iter().copied().max().unwrap_or(0);
    let want_locks = options.max_locks.unwrap_or(if largest > 1_000 { 1024 } else { 0 });
    let want_shared_buffers_mb = if largest > 1_000 { 1024 } else { 0 };
    if want_locks > 0 || want_shared_buffers_mb > 0 {
        match &log_path {
            Some(log) => raise_settings(server, log, want_locks, want_shared_buffers_mb)?,
            None => println!(
                "note: cannot restart this server; set max_locks_per_transaction >= {want_locks} and \
                 shared_buffers >= {want_shared_buffers_mb}MB yourself"
            ),
        }
    }
    let machine = machine_description(server);
    println!("{machine}");
    println!("schema binary: {}", options.schema_bin.display());
    match &options.migra {
        Some(m) => println!("migra: {}", m.display()),
        None => println!("migra: not found (install it in /tmp/migra-venv or pass --migra PATH)"),
    }
    let mut results = Vec::new();
    for &n in &options.sizes {
        println!("\n== N = {n} ==");
        match run_size(&rt, server, &options, &root, work.path(), log_path.as_deref(), n) {
            Ok(r) => {
                print_size(&r);
                results.push(r);
            }
            Err(e) => println!("N = {n} failed: {e:#}"),
        }
    }
    let table = summary(&results, &machine, &options);
    println!("\n{table}");
    if let Some(out) = &options.out {
        std::fs::write(out, &table)?;
        println!("written to {}", out.display());
    }
    Ok(())
}

fn psql_value(url: &str, sql: &str) -> String {
    Command::new("psql")
        .args(["-X", "-A", "-t", "-c", sql, url])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Sets max_locks_per_transaction with ALTER SYSTEM and restarts the throwaway cluster (whose log is
/// `<dir>/server.log` beside `<dir>/data`) with `pg_ctl restart`, as the `postgres` OS user when root.
fn raise_settings(server: &PgServer, log: &Path, want_locks: u64, want_shared_buffers_mb: u64) -> anyhow::Result<()> {
    let have_locks: u64 = psql_value(server.admin_url(), "SHOW max_locks_per_transaction").parse().unwrap_or(0);
    let have_shared_buffers_mb: u64 = psql_value(
        server.admin_url(),
        "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'",
    )
    .parse()
    .unwrap_or(0);
    let mut settings = Vec::new();
    if have_locks < want_locks {
        settings.push(format!("ALTER SYSTEM SET max_locks_per_transaction = {want_locks}"));
    }
    if have_shared_buffers_mb < want_shared_buffers_mb {
        settings.push(format!("ALTER SYSTEM SET shared_buffers = '{want_shared_buffers_mb}MB'"));
    }
    if settings.is_empty() {
        return Ok(());
    }
    for set in &settings {
        let status = Command::new("psql").args(["-X", "-q", "-c", set, server.admin_url()]).status()?;
        anyhow::ensure!(status.success(), "{set} failed");
    }
    let data = psql_value(server.admin_url(), "SHOW data_directory");
    let cluster_dir = log.parent().unwrap_or(Path::new("/"));
    let pg_ctl = ["pg_ctl".to_string()]
        .into_iter()
        .chain(std::fs::read_dir("/usr/lib/postgresql").into_iter().flatten().filter_map(|e| {
            let p = e.ok()?.path().join("bin/pg_ctl");
            p.exists().then(|| p.to_string_lossy().into_owned())
        }))
        .find(|p| Command::new(p).arg("--version").output().is_ok_and(|o| o.status.success()))
        .ok_or_else(|| anyhow::anyhow!("pg_ctl not found to restart the server"))?;
    let log = log.to_string_lossy().into_owned();
    let args = ["-D", &data, "-l", &log, "-w", "-m", "fast", "restart"];
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut cmd = if is_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &pg_ctl]).args(args);
        c
    } else {
        let mut c = Command::new(&pg_ctl);
        c.args(args);
        c
    };
    let out = cmd.current_dir(cluster_dir).stdin(Stdio::null()).output()?;
    anyhow::ensure!(out.status.success(), "pg_ctl restart failed: {}", String::from_utf8_lossy(&out.stderr));
    println!(
        "max_locks_per_transaction: {have_locks} -> {}; shared_buffers: {have_shared_buffers_mb}MB -> {}",
        psql_value(server.admin_url(), "SHOW max_locks_per_transaction"),
        psql_value(server.admin_url(), "SHOW shared_buffers")
    );
    Ok(())
}

fn machine_description(server: &PgServer) -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let version = Command::new("psql")
        .args(["-X", "-A", "-t", "-c", "SHOW server_version", server.admin_url()])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("machine: {cores} cores ({cpu}), {mem} RAM, PostgreSQL {version}")
}

#[allow(clippy::too_many_arguments)]
fn run_size(
    rt: &tokio::runtime::Runtime,
    server: &PgServer,
    o: &Options,
    root: &Path,
    work: &Path,
    log_path: Option<&Path>,
    n: usize,
) -> anyhow::Result<SizeResult> {
    let dir = work.join(format!("n{n}"));
    let schema_dir = dir.join("schema");
    std::fs::create_dir_all(&schema_dir)?;
    let t = Instant::now();
    let current = generate::catalog(n, o.seed);
    let desired = generate::edited(&current, o.percent, o.seed);
    let (current_sql, desired_sql) = (generate::sql(&current), generate::sql(&desired));
    let current_file = dir.join("current.sql");
    std::fs::write(&current_file, &current_sql)?;
    let desired_file = schema_dir.join("desired.sql");
    std::fs::write(&desired_file, &desired_sql)?;
    let objects = format!(
        "{} tables, {} columns, {} constraints, {} indexes, {} views, {} sequences, {} enums",
        current.tables.len(),
        current.tables.values().map(|t| t.columns.len()).sum::<usize>(),
        current.tables.values().map(|t| t.constraints.len()).sum::<usize>(),
        current.indexes.len(),
        current.views.len(),
        current.sequences.len(),
        current.enums.len()
    );
    println!(
        "generated in {}: {objects}; SQL {} KB (current), {} KB (desired)",
        secs(t.elapsed().as_secs_f64()),
        current_sql.len() / 1024,
        desired_sql.len() / 1024
    );

    // The pair every comparison runs on. The desired side is loaded again before each `schema generate`
    // run (below), so that the floor and the command are measured under the same machine load.
    let mut load_current = Sample::default();
    let mut load_desired = Sample::default();
    let cur = rt.block_on(server.fresh_database(&format!("bench_{n}_cur")))?;
    let des = rt.block_on(server.fresh_database(&format!("bench_{n}_des")))?;
    load_current.runs.push(psql_load(&cur.url, &current_file, &dir)?);
    load_desired.runs.push(psql_load(&des.url, &desired_file, &dir)?);
    println!(
        "  loaded: current {}, desired {} (load {:.1})",
        secs(load_current.runs[0].secs),
        secs(load_desired.runs[0].secs),
        load_average()
    );

    // Raw catalog SELECTs, in one psql session, with \timing for the per-query split.
    let script_path = dir.join("introspection_queries.sql");
    std::fs::write(&script_path, format!("\\timing on\n{}", raw_queries_script(root)?))?;
    let mut raw_selects = Sample::default();
    let mut raw_sum = Sample::default();
    let mut raw_per_query: Vec<(String, f64)> = Vec::new();
    for run in 0..o.runs {
        let out = dir.join("raw_timing.txt");
        let argv = strings(&[
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-o",
            "/dev/null",
            "-f",
            &script_path.to_string_lossy(),
            &cur.url,
        ]);
        let (r, _) = timed(&argv, &dir, Some(&out), None, 0)?;
        let load = r.load;
        raw_selects.runs.push(r);
        // "Time: 12.345 ms" per statement: BEGIN, SET, the queries, ROLLBACK.
        let times: Vec<f64> = std::fs::read_to_string(&out)?
            .lines()
            .filter_map(|l| l.strip_prefix("Time: "))
            .filter_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
            .collect();
        if times.len() == QUERY_FILES.len() + 3 {
            let queries = &times[2..2 + QUERY_FILES.len()];
            raw_sum.runs.push(Run { secs: queries.iter().sum::<f64>() / 1000.0, rss_mb: None, load });
            if run == 0 {
                raw_per_query = QUERY_FILES.iter().zip(queries).map(|(q, t)| (q.to_string(), *t)).collect();
            }
        }
    }

    // Introspection in-process.
    let settings = Settings::default();
    let mut introspect = Sample::default();
    let mut live = None;
    for _ in 0..o.runs {
        let load = load_average();
        let t = Instant::now();
        let catalog = rt.block_on(pipeline::live_catalog(&cur.url, &settings))?;
        introspect.runs.push(Run { secs: t.elapsed().as_secs_f64(), rss_mb: None, load });
        live = Some(catalog);
    }
    let live_current = live.expect("introspected");
    if live_current.tables.len() != current.tables.len() || live_current.indexes.len() != current.indexes.len() {
        println!(
            "  WARNING: introspected {} tables / {} indexes, generated {} / {}",
            live_current.tables.len(),
            live_current.indexes.len(),
            current.tables.len(),
            current.indexes.len()
        );
    }
    let live_desired = rt.block_on(pipeline::live_catalog(&des.url, &settings))?;
    let mut plan_inproc = Sample::default();
    for _ in 0..o.runs {
        let load = load_average();
        let t = Instant::now();
        let plans = pipeline::plan_between(Kind::Postgres, &live_current, &live_desired, &Default::default())?;
        plan_inproc.runs.push(Run { secs: t.elapsed().as_secs_f64(), rss_mb: None, load });
        std::hint::black_box(plans);
    }

    // Statements one introspection sends, from the server log.
    let queries_logged = match log_path {
        Some(log) => {
            let set = format!("ALTER DATABASE {} SET log_statement = 'all'", schema::testkit::quote_ident(&cur.name));
            let reset = format!("ALTER DATABASE {} RESET log_statement", schema::testkit::quote_ident(&cur.name));
            Command::new("psql").args(["-X", "-q", "-c", &set, server.admin_url()]).status()?;
            let offset = std::fs::metadata(log)?.len();
            let bin = o.schema_bin.to_string_lossy().into_owned();
            timed(&strings(&[&bin, "inspect", "--url", &cur.url]), &dir, None, None, 0)?;
            std::thread::sleep(Duration::from_millis(300));
            let counted = count_logged_statements(log, offset);
            Command::new("psql").args(["-X", "-q", "-c", &reset, server.admin_url()]).status()?;
            match counted {
                Some((count, lines)) => {
                    println!("  statements logged for one `schema inspect` (QUERY_COUNT = {QUERY_COUNT}):");
                    for l in &lines {
                        println!("    {l}");
                    }
                    format!("{count} logged")
                }
                None => "log unreadable".into(),
            }
        }
        None => "no server log".into(),
    };

    let bin = o.schema_bin.to_string_lossy().into_owned();
    let mut inspect = Sample::default();
    for _ in 0..o.runs {
        inspect.runs.push(timed(&strings(&[&bin, "inspect", "--url", &cur.url]), &dir, None, None, 0)?.0);
    }
    let mut diff = Sample::default();
    let diff_out = dir.join("diff.sql");
    for _ in 0..o.runs {
        let argv = strings(&[&bin, "diff", "--from", &cur.url, "--to", &des.url]);
        let (r, code) = timed(&argv, &dir, Some(&diff_out), None, 1)?;
        if code != 1 {
            println!("  WARNING: schema diff exited {code} (expected 1: differences)");
        }
        diff.runs.push(r);
    }
    let diff_statements = count_statements(&std::fs::read_to_string(&diff_out)?);
    let mut generate = Sample::default();
    let mut generate_unverified = Sample::default();
    for run in 0..o.runs {
        if run > 0 {
            let again = rt.block_on(server.fresh_database(&format!("bench_{n}_des")))?;
            load_desired.runs.push(psql_load(&again.url, &desired_file, &dir)?);
            rt.block_on(server.drop_database(&again.name))?;
        }
        let argv = |out_dir: &Path, flags: &[&str]| {
            let mut argv = strings(&[
                &bin,
                "generate",
                "--url",
                &cur.url,
                "--schema-dir",
                &schema_dir.to_string_lossy(),
                "--out-dir",
                &out_dir.to_string_lossy(),
            ]);
            argv.extend(flags.iter().map(|f| f.to_string()));
            argv
        };
        let verified = argv(&dir.join(format!("generated_{run}")), &[]);
        let unverified = argv(&dir.join(format!("generated_{run}_unverified")), &["--no-verify"]);
        // Alternately first, so that neither always runs on a cache the other warmed.
        if run % 2 == 0 {
            generate.runs.push(timed(&verified, &dir, None, None, 0)?.0);
            generate_unverified.runs.push(timed(&unverified, &dir, None, None, 0)?.0);
        } else {
            generate_unverified.runs.push(timed(&unverified, &dir, None, None, 0)?.0);
            generate.runs.push(timed(&verified, &dir, None, None, 0)?.0);
        }
        println!(
            "  generate run {}: {}, --no-verify {} (psql -1 -f desired.sql before it: {}, load {:.1})",
            run + 1,
            secs(generate.runs[run].secs),
            secs(generate_unverified.runs[run].secs),
            secs(load_desired.runs[run].secs),
            load_average()
        );
    }

    // Where `schema generate` spends its time, in-process: reading, parsing and ordering the declared
    // files; loading them through a scratch database and introspecting it; and an empty scratch
    // database's `CREATE DATABASE … TEMPLATE template0` + `DROP DATABASE … WITH (FORCE)` with psql.
    let mut parse = Sample::default();
    let mut declared = Sample::default();
    let mut scratch = Sample::default();
    let declared_settings =
        Settings { url: Some(cur.url.clone()), schema_dir: schema_dir.clone(), ..Settings::default() };
    for run in 0..o.runs {
        let load = load_average();
        let t = Instant::now();
        let dialect = Kind::Postgres.sql_dialect();
        let statements = schema::declared::read_dir(&schema_dir, dialect.as_ref())?;
        std::hint::black_box(schema::declared::order(statements));
        parse.runs.push(Run { secs: t.elapsed().as_secs_f64(), rss_mb: None, load });
        let t = Instant::now();
        std::hint::black_box(rt.block_on(pipeline::declared_catalog(&declared_settings))?);
        declared.runs.push(Run { secs: t.elapsed().as_secs_f64(), rss_mb: None, load });
        let name = format!("bench_scratch_{n}_{run}");
        let create = format!("CREATE DATABASE {name} TEMPLATE template0");
        let drop = format!("DROP DATABASE {name} WITH (FORCE)");
        let argv =
            strings(&["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", &create, "-c", &drop, server.admin_url()]);
        scratch.runs.push(timed(&argv, &dir, None, None, 0)?.0);
    }

    let mut migra = Sample::default();
    let mut migra_statements = 0;
    if let Some(m) = &o.migra {
        let runs = o.migra_runs.unwrap_or(if n >= 5_000 { 1 } else { o.runs });
        let to_sqlalchemy = |url: &str| url.replacen("postgres://", "postgresql://", 1);
        let out = dir.join("migra.sql");
        for _ in 0..runs {
            let argv = vec![
                m.to_string_lossy().into_owned(),
                "--unsafe".into(),
                to_sqlalchemy(&cur.url),
                to_sqlalchemy(&des.url),
            ];
            match timed(&argv, &dir, Some(&out), Some(o.migra_timeout), 2) {
                Ok((r, _)) => migra.runs.push(r),
                Err(e) => {
                    let first = e.to_string();
                    println!("  migra failed: {first}");
                    migra.note = format!("(failed: {})", first.lines().last().unwrap_or(""));
                    break;
                }
            }
            println!("  migra run: {} (load {:.1})", secs(migra.runs.last().map_or(0.0, |r| r.secs)), load_average());
        }
        migra_statements = std::fs::read_to_string(&out).map(|s| count_statements(&s)).unwrap_or(0);
    } else {
        migra.note = "(not installed)".into();
    }

    // Leave the server clean for the next size.
    rt.block_on(server.drop_database(&cur.name))?;
    rt.block_on(server.drop_database(&des.name))?;
    Ok(SizeResult {
        n,
        objects,
        sql_bytes: (current_sql.len(), desired_sql.len()),
        load_current,
        load_desired,
        raw_selects,
        raw_sum,
        raw_per_query,
        introspect,
        inspect,
        plan_inproc,
        diff,
        diff_statements,
        generate,
        generate_unverified,
        parse,
        declared,
        scratch,
        migra,
        migra_statements,
        queries_logged,
    })
}

/// Statements in a migration text: lines ending with `;` outside comments (close enough for a count).
fn count_statements(sql: &str) -> usize {
    sql.lines().filter(|l| !l.trim_start().starts_with("--") && l.trim_end().ends_with(';')).count()
}

fn print_size(r: &SizeResult) {
    println!("  {}", r.objects);
    let rows: [(&str, &Sample); 14] = [
        ("psql -1 -f current.sql", &r.load_current),
        ("psql -1 -f desired.sql", &r.load_desired),
        ("raw catalog SELECTs (psql process)", &r.raw_selects),
        ("raw catalog SELECTs (sum of \\timing)", &r.raw_sum),
        ("introspection (in-process)", &r.introspect),
        ("schema inspect > /dev/null", &r.inspect),
        ("diff+order+render, up+down (in-process)", &r.plan_inproc),
        ("schema diff --from URL --to URL", &r.diff),
        ("schema generate", &r.generate),
        ("schema generate --no-verify", &r.generate_unverified),
        ("  declared files: read+parse+order (in-proc)", &r.parse),
        ("  declared files: scratch load+introspect", &r.declared),
        ("  psql CREATE DATABASE + DROP DATABASE", &r.scratch),
        ("migra --unsafe URL URL", &r.migra),
    ];
    println!("  {:<42} {:>28} {:>9}  load", "measurement", "median [min–max]", "peak RSS");
    for (name, s) in rows {
        println!("  {:<42} {:>28} {:>9}  {}", name, s.time_cell(), s.rss_cell(), s.load());
    }
    let per: Vec<String> = r.raw_per_query.iter().map(|(q, t)| format!("{q} {t:.1} ms")).collect();
    println!("  raw SELECTs server time per query: {}", per.join(", "));
    println!(
        "  statements: schema diff {} , migra {}; catalog statements per introspection: {} (QUERY_COUNT {QUERY_COUNT})",
        r.diff_statements, r.migra_statements, r.queries_logged
    );
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.1}×", a / b),
        _ => "–".into(),
    }
}

fn summary(results: &[SizeResult], machine: &str, o: &Options) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{machine}; medians of {} runs (migra: 1 run from N = 5,000 on)", o.runs);
    let _ = writeln!(
        t,
        "\n| N | SQL KB | psql -1 -f (desired) | raw SELECTs: queries (psql process) | introspection | inspect | diff+order+render (in-process, up+down) | `schema diff` | `schema generate` | migra | migra ÷ diff (time) | migra ÷ diff (RSS) | load |"
    );
    let _ = writeln!(t, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for r in results {
        let mem = |s: &Sample| s.rss().map(|m| format!(", {m:.0} MB")).unwrap_or_default();
        let _ = writeln!(
            t,
            "| {} | {} | {}{} | {} ({}) | {} | {}{} | {} | {}{} | {}{} | {}{} | {} | {} | {} |",
            r.n,
            r.sql_bytes.1 / 1024,
            secs(r.load_desired.median().unwrap_or(f64::NAN)),
            mem(&r.load_desired),
            secs(r.raw_sum.median().unwrap_or(f64::NAN)),
            secs(r.raw_selects.median().unwrap_or(f64::NAN)),
            secs(r.introspect.median().unwrap_or(f64::NAN)),
            secs(r.inspect.median().unwrap_or(f64::NAN)),
            mem(&r.inspect),
            secs(r.plan_inproc.median().unwrap_or(f64::NAN)),
            secs(r.diff.median().unwrap_or(f64::NAN)),
            mem(&r.diff),
            secs(r.generate.median().unwrap_or(f64::NAN)),
            mem(&r.generate),
            r.migra.median().map(secs).unwrap_or_else(|| format!("n/a {}", r.migra.note)),
            mem(&r.migra),
            ratio(r.migra.median(), r.diff.median()),
            ratio(r.migra.rss(), r.diff.rss()),
            r.diff.load(),
        );
    }
    let _ = writeln!(t, "\nTargets:");
    for r in results {
        let introspect_vs_raw = ratio(r.introspect.median(), r.raw_sum.median());
        let floor = r.load_desired.median().zip(r.introspect.median()).map(|(a, b)| a + b);
        let generate_vs_floor = ratio(r.generate.median(), floor);
        let peak = [&r.diff, &r.generate, &r.inspect].iter().filter_map(|s| s.rss()).reduce(f64::max);
        let verification = match (r.generate.median(), r.generate_unverified.median()) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
            _ => "–".into(),
        };
        let _ = writeln!(
            t,
            "- N = {}: introspection ÷ raw SELECTs (sum of the queries' times) {introspect_vs_raw}; generate ÷ (psql load + introspection) \
             {generate_vs_floor}; generate ÷ generate --no-verify {verification}; migra ÷ schema diff {} time, {} RSS; \
             peak RSS of schema {}; catalog statements per introspection {} (QUERY_COUNT {QUERY_COUNT})",
            r.n,
            ratio(r.migra.median(), r.diff.median()),
            ratio(r.migra.rss(), r.diff.rss()),
            peak.map(|m| format!("{m:.0} MB")).unwrap_or_else(|| "–".into()),
            r.queries_logged
        );
    }
    t
}
