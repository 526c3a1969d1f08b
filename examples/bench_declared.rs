//! Cost of the declared side before anything reaches a database: reading the schema files, splitting them
//! into statements, analysing each one and ordering them (`declared::read_dir` and `declared::order`), for
//! inputs that stress it:
//!
//! * `tables N`: the generated schema of N tables (`testkit::generate`, seed 42; 4 MB at 5,000 tables);
//! * `unreadable N`: N statements the parser cannot read (`CREATE SEQUENCE … START WITH 1 INCREMENT BY 1`,
//!   as pg_dump writes it), each of which waits for every statement before it;
//! * `junk BYTES`: that many bytes of random words, parentheses and semicolons;
//! * `big MB`: generated tables repeated (renamed) up to that many megabytes in one file.
//!
//! Each case runs in a child process of its own, and its peak memory (`VmHWM`) is counted from when its
//! schema file is written:
//!
//! ```sh
//! cargo run --release --example bench_declared                       # every case
//! cargo run --release --example bench_declared -- unreadable 20000   # one case
//! ```

use schema::testkit::generate;
use std::fmt::Write as _;
use std::time::Instant;

const CASES: &[(&str, usize)] = &[
    ("tables", 1_000),
    ("tables", 10_000),
    ("unreadable", 2_000),
    ("unreadable", 20_000),
    ("junk", 100_000),
    ("junk", 1_000_000),
    ("big", 20),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [case, size] = args.as_slice() {
        let size: usize = size.parse().expect("size: a number");
        run(case, size);
        return;
    }
    println!("| case | size | statements | file size | read + analyse | order | peak memory |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let me = std::env::current_exe().expect("own path");
    for (case, size) in CASES {
        let out =
            std::process::Command::new(&me).args([case.to_string(), size.to_string()]).output().expect("run a case");
        let text = String::from_utf8_lossy(&out.stdout);
        match text.lines().last() {
            Some(line) if out.status.success() => println!("{line}"),
            _ => {
                println!("| {case} | {size} | failed: {} {} |", out.status, String::from_utf8_lossy(&out.stderr).trim())
            }
        }
    }
}

fn run(case: &str, size: usize) {
    let text = match case {
        "tables" => generate::sql(&generate::catalog(size, 42)),
        "unreadable" => (0..size).fold(String::new(), |mut text, i| {
            writeln!(text, "CREATE SEQUENCE public.s{i} START WITH 1 INCREMENT BY 1;").unwrap();
            text
        }),
        "junk" => junk(size),
        "big" => {
            let one = generate::sql(&generate::catalog(1_000, 42));
            let mut text = String::new();
            let mut copy = 0;
            while text.len() < size * 1_000_000 {
                // Each copy in schemas of its own (the generated names are `app0` … `app3`), so that names
                // stay unique.
                text.push_str(&one.replace("app", &format!("c{copy}_app")));
                copy += 1;
            }
            text
        }
        other => panic!("unknown case {other}: tables, unreadable, junk or big"),
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("schema.sql"), &text).expect("write the schema file");
    let bytes = text.len();
    drop(text);
    // The peak from here on is the declared side's, not the generator's (Linux: "5" resets VmHWM).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let started = Instant::now();
    let read = schema::declared::read_dir(dir.path(), &dialect);
    let analysed = started.elapsed();
    let (count, ordered) = match read {
        Ok(statements) => {
            let count = statements.len();
            let started = Instant::now();
            let ordered = schema::declared::order(statements);
            let took = started.elapsed();
            assert_eq!(ordered.len(), count);
            (count.to_string(), format!("{:.2} s", took.as_secs_f64()))
        }
        // Junk that does not tokenize is an error at once, with its location.
        Err(e) => (format!("error: {e}"), "-".into()),
    };
    println!(
        "| {case} | {size} | {count} | {:.1} MB | {:.2} s | {ordered} | {:.0} MB |",
        bytes as f64 / 1e6,
        analysed.as_secs_f64(),
        peak_memory_kb() as f64 / 1e3
    );
}

/// Random words, parentheses, operators and semicolons (a small xorshift: no dependency, same text on
/// every run).
fn junk(bytes: usize) -> String {
    const PIECES: &[&str] = &[
        "abc", "(", "x", "1", " ", "+", ".", ",", "table", "create", "foo(", "))", "\n", "[", "]", "-", "*", "=", ";",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut text = String::with_capacity(bytes + 16);
    while text.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
    }
    text
}

/// The process's peak resident memory, in kB (`VmHWM` in /proc/self/status).
fn peak_memory_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
