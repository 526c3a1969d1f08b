//! Test support: a real PostgreSQL server, and a fresh database for every test.
//!
//! This module is part of the library behind the `testkit` feature (not `#[cfg(test)]`) so that the
//! integration tests, the examples (conformance runner, replays, generators) and the benchmarks can all
//! share it; they turn the feature on through the crate's dev-dependency on itself, so the binary never
//! compiles it. It is hidden from the rendered docs and is not part of the tool's stable API.
//!
//! How the server is chosen, once per process ([`pg_server`]):
//!
//! * If `DATABASE_URL` is set (and non-empty) it is used as an *admin* URL, e.g.
//!   `postgres://postgres:pw@localhost:5432/postgres`. The user must be allowed to create
//!   databases (and roles, for [`PgServer::ensure_roles`]).
//! * Otherwise a throwaway cluster is created from the local installation: `initdb` and `pg_ctl`
//!   are looked up on `PATH`, then in `pg_config --bindir`, then in the highest-versioned
//!   `/usr/lib/postgresql/*/bin`. When running as root, they are run as the `postgres` OS user
//!   (initdb refuses to run as root). The cluster listens on 127.0.0.1 on a free port, trusts
//!   every connection, runs without fsync, and uses the C locale. A detached watchdog process
//!   stops it and deletes its directory once the test process has exited (the test harness
//!   never runs destructors of statics).
//! * If neither works, an error says exactly how to fix it. Nothing is ever skipped silently.
//!
//! Each test then calls [`PgServer::fresh_database`] to get its own, empty database:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let server = schema::testkit::pg_server().await?;
//! let db = server.fresh_database("diff_adds_column").await?;
//! // connect to `db.url` ...
//! # Ok(()) }
//! ```
//!
//! No connection or pool is cached across calls: every `#[tokio::test]` has its own runtime, and
//! sqlx connections are tied to the runtime that created them. Each helper opens one short-lived
//! connection.
#![doc(hidden)]

use std::fmt;
use std::fs;
use std::io;
use std::net::TcpListener;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Appended to every "no PostgreSQL available" error.
const HOW_TO_FIX: &str = "\
How to fix: either
  * install the PostgreSQL server binaries (initdb, pg_ctl, postgres), e.g. `apt-get install postgresql`
    (Debian/Ubuntu), `dnf install postgresql-server` (Fedora) or `brew install postgresql` (macOS), so that
    they are on PATH, in the directory printed by `pg_config --bindir`, or in /usr/lib/postgresql/<version>/bin; or
  * set DATABASE_URL to an admin URL of a running PostgreSQL server where the user may create databases
    and roles, e.g. DATABASE_URL=postgres://postgres:password@localhost:5432/postgres";

/// Maximum length of a PostgreSQL identifier, in bytes.
const MAX_IDENT_LEN: usize = 63;

/// How many times a server start is retried when the chosen port was taken in the meantime.
const START_ATTEMPTS: usize = 3;

/// The PostgreSQL server used by tests in this process. Obtain it with [`pg_server`].
pub struct PgServer {
    admin_url: String,
    kind: ServerKind,
}

enum ServerKind {
    /// Given by `DATABASE_URL` (`from_env`) or [`PgServer::from_admin_url`].
    External { from_env: bool },
    /// A throwaway cluster started by this process.
    Throwaway { port: u16, dir: PathBuf },
}

impl fmt::Debug for PgServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("PgServer");
        s.field("admin_url", &redact_url(&self.admin_url));
        match &self.kind {
            ServerKind::External { from_env } => s.field("from_env", from_env),
            ServerKind::Throwaway { port, dir } => s.field("port", port).field("dir", dir),
        };
        s.finish()
    }
}

/// A database created for one test. It is not dropped automatically: on the throwaway cluster it
/// disappears with the cluster; on a `DATABASE_URL` server use [`PgServer::drop_database`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDatabase {
    /// Database name (unquoted), e.g. `t_4242_3_diff_adds_column`.
    pub name: String,
    /// Connection URL of this database.
    pub url: String,
}

impl TestDatabase {
    /// Opens a new connection to this database.
    pub async fn connect(&self) -> anyhow::Result<PgConnection> {
        PgConnection::connect(&self.url)
            .await
            .map_err(|e| anyhow!("could not connect to test database {} at {}: {e}", self.name, redact_url(&self.url)))
    }
}

/// Quotes an SQL identifier: wraps it in double quotes and doubles any embedded double quote.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Returns the PostgreSQL server for this process, starting the throwaway cluster on first use
/// (see the module docs). A failure is remembered: later calls return the same error at once.
pub async fn pg_server() -> anyhow::Result<&'static PgServer> {
    static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();

    let result = match SERVER.get() {
        Some(result) => result,
        // Starting the cluster blocks for a second or two; keep it off the async worker
        // threads when there is a tokio runtime. Concurrent first callers wait in `get_or_init`.
        None => match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::spawn_blocking(|| SERVER.get_or_init(init_server))
                .await
                .map_err(|e| anyhow!("starting the test PostgreSQL server panicked: {e}"))?,
            Err(_) => SERVER.get_or_init(init_server),
        },
    };
    result.as_ref().map_err(|message| anyhow!("{message}"))
}

impl PgServer {
    /// Uses the server behind `url` (an admin URL, like `DATABASE_URL`) instead of the process-wide
    /// one, e.g. for a runner that takes the server on its command line. Nothing is checked until a
    /// method connects.
    pub fn from_admin_url(url: &str) -> PgServer {
        PgServer { admin_url: url.trim().to_string(), kind: ServerKind::External { from_env: false } }
    }

    /// Admin connection URL: `DATABASE_URL` verbatim, or the `postgres` maintenance database of the
    /// throwaway cluster (`postgres://postgres@127.0.0.1:<port>/postgres?sslmode=disable`).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// URL of another database on this server: the admin URL with its path replaced (query
    /// parameters and fragment are kept; a `dbname` query parameter is rewritten too).
    pub fn url_for(&self, database: &str) -> String {
        replace_url_database(&self.admin_url, database)
    }

    /// Creates a new, empty database with a name unique to this process and call
    /// (`t_<pid>_<counter>_<label>`, label sanitized) and returns its name and URL.
    pub async fn fresh_database(&self, label: &str) -> anyhow::Result<TestDatabase> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);

        let label = sanitize_label(label);
        let mut conn = self.admin_connection().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let name = database_name(std::process::id(), n, &label);
            let sql = format!("CREATE DATABASE {}", quote_ident(&name));
            match execute(&mut conn, sql).await {
                Ok(()) => {
                    close(conn).await;
                    let url = self.url_for(&name);
                    return Ok(TestDatabase { name, url });
                }
                // 42P04 duplicate_database: a leftover of an earlier run on a shared server, or
                // another machine's process with the same pid. Take the next number.
                // 55006 object_in_use: "source database template1 is being accessed by other
                // users" (someone is connected to template1). Wait a little and retry.
                Err(e) if attempt < 10 && matches!(db_code(&e).as_deref(), Some("42P04" | "55006")) => {
                    if db_code(&e).as_deref() == Some("55006") {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
                Err(e) => {
                    close(conn).await;
                    bail!("could not create test database {name} on {}: {e}{}", self.describe(), self.privilege_hint());
                }
            }
        }
    }

    /// Creates a copy of database `template` (`CREATE DATABASE … TEMPLATE`), named like
    /// [`PgServer::fresh_database`]. Waits for sessions that are still leaving the template.
    pub async fn copy_database(&self, template: &str, label: &str) -> anyhow::Result<TestDatabase> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let label = sanitize_label(label);
        let mut conn = self.admin_connection().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let name = database_name(std::process::id(), 1_000_000 + COUNTER.fetch_add(1, Ordering::Relaxed), &label);
            let sql = format!("CREATE DATABASE {} TEMPLATE {}", quote_ident(&name), quote_ident(template));
            match execute(&mut conn, sql).await {
                Ok(()) => {
                    close(conn).await;
                    let url = self.url_for(&name);
                    return Ok(TestDatabase { name, url });
                }
                // 55006: a session of the template has not ended yet.
                Err(e) if attempt < 50 && matches!(db_code(&e).as_deref(), Some("42P04" | "55006")) => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => {
                    close(conn).await;
                    bail!("could not copy database {template} on {}: {e}", self.describe());
                }
            }
        }
    }

    /// Creates each role (`NOLOGIN`) unless it already exists. Roles are cluster-wide; concurrent
    /// calls creating the same role do not fail.
    pub async fn ensure_roles(&self, roles: &[&str]) -> anyhow::Result<()> {
        if roles.is_empty() {
            return Ok(());
        }
        let mut conn = self.admin_connection().await?;
        let result = async {
            for role in roles {
                let exists: bool =
                    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1)")
                        .bind(*role)
                        .fetch_one(&mut conn)
                        .await
                        .map_err(|e| anyhow!("could not look up role {role} on {}: {e}", self.describe()))?;
                if exists {
                    continue;
                }
                let sql = format!("CREATE ROLE {} NOLOGIN", quote_ident(role));
                match execute(&mut conn, sql).await {
                    Ok(()) => {}
                    // 42710 duplicate_object, or 23505 unique_violation when another session
                    // created the same role concurrently: the role exists, which is all we want.
                    Err(e) if matches!(db_code(&e).as_deref(), Some("42710" | "23505")) => {}
                    Err(e) => {
                        bail!("could not create role {role} on {}: {e}{}", self.describe(), self.privilege_hint())
                    }
                }
            }
            Ok(())
        }
        .await;
        close(conn).await;
        result
    }

    /// Drops a database if it exists, terminating its connections (`WITH (FORCE)`, PostgreSQL 13+).
    pub async fn drop_database(&self, name: &str) -> anyhow::Result<()> {
        let mut conn = self.admin_connection().await?;
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
        let result = execute(&mut conn, sql).await;
        close(conn).await;
        result.map_err(|e| anyhow!("could not drop database {name} on {}: {e}", self.describe()))
    }

    async fn admin_connection(&self) -> anyhow::Result<PgConnection> {
        PgConnection::connect(&self.admin_url).await.map_err(|e| {
            let hint = match self.kind {
                ServerKind::External { from_env: true } => {
                    "\nCheck that the server in DATABASE_URL is running and that the URL (user, password, \
                     database) is right, or unset DATABASE_URL to use a throwaway local cluster."
                }
                ServerKind::External { from_env: false } => {
                    "\nCheck that the server is running and that the URL (user, password, database) is right."
                }
                ServerKind::Throwaway { .. } => "",
            };
            anyhow!("could not connect to {}: {e}{hint}", self.describe())
        })
    }

    /// Human-readable description of the server, without the password.
    fn describe(&self) -> String {
        match &self.kind {
            ServerKind::External { from_env: true } => {
                format!("the PostgreSQL server from DATABASE_URL ({})", redact_url(&self.admin_url))
            }
            ServerKind::External { from_env: false } => {
                format!("the PostgreSQL server at {}", redact_url(&self.admin_url))
            }
            ServerKind::Throwaway { port, dir } => {
                format!("the throwaway PostgreSQL test cluster (127.0.0.1:{port}, {})", dir.display())
            }
        }
    }

    fn privilege_hint(&self) -> &'static str {
        match self.kind {
            ServerKind::External { .. } => {
                "\nThe connecting user must be allowed to create databases and roles (e.g. a superuser, \
                 or `ALTER ROLE <user> CREATEDB CREATEROLE`)."
            }
            ServerKind::Throwaway { .. } => "",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SQL helpers

async fn execute(conn: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(|_| ())
}

async fn close(conn: PgConnection) {
    // The work is done; a failing Terminate message does not matter.
    let _ = conn.close().await;
}

/// SQLSTATE of a database error.
fn db_code(e: &sqlx::Error) -> Option<String> {
    e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned())
}

fn sanitize_label(label: &str) -> String {
    label
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect()
}

/// `t_<pid>_<n>_<label>`, with the label cut so the name fits in an identifier.
fn database_name(pid: u32, n: u64, sanitized_label: &str) -> String {
    let mut name = format!("t_{pid}_{n}");
    if !sanitized_label.is_empty() {
        name.push('_');
        let room = MAX_IDENT_LEN.saturating_sub(name.len());
        // The sanitized label is ASCII, so byte slicing is safe.
        name.push_str(&sanitized_label[..sanitized_label.len().min(room)]);
    }
    name
}

// ---------------------------------------------------------------------------------------------
// URL helpers (hand-written to avoid a dependency; enough for postgres:// URLs)

/// Splits a URL into (`scheme://authority`, path, rest starting at `?` or `#`).
fn split_url(url: &str) -> (&str, &str, &str) {
    let auth_start = url.find("://").map_or(0, |i| i + 3);
    let auth_end = url[auth_start..].find(['/', '?', '#']).map_or(url.len(), |i| auth_start + i);
    let path_end = url[auth_end..].find(['?', '#']).map_or(url.len(), |i| auth_end + i);
    (&url[..auth_end], &url[auth_end..path_end], &url[path_end..])
}

fn replace_url_database(url: &str, database: &str) -> String {
    let (prefix, _old_path, rest) = split_url(url);
    let encoded = percent_encode(database);
    let rest = match rest.strip_prefix('?') {
        Some(query_and_fragment) => {
            let (query, fragment) = match query_and_fragment.find('#') {
                Some(i) => query_and_fragment.split_at(i),
                None => (query_and_fragment, ""),
            };
            let query = query
                .split('&')
                .map(|pair| if pair.starts_with("dbname=") { format!("dbname={encoded}") } else { pair.to_string() })
                .collect::<Vec<_>>()
                .join("&");
            format!("?{query}{fragment}")
        }
        None => rest.to_string(),
    };
    format!("{prefix}/{encoded}{rest}")
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL with any password replaced by `***`, for error messages.
fn redact_url(url: &str) -> String {
    let (prefix, path, rest) = split_url(url);
    let auth_start = prefix.find("://").map_or(0, |i| i + 3);
    let (scheme, authority) = prefix.split_at(auth_start);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.find(':') {
                Some(colon) => format!("{}:***{host}", &userinfo[..colon]),
                None => authority.to_string(),
            }
        }
        None => authority.to_string(),
    };
    let rest = rest
        .split('&')
        .map(|pair| match pair.find("password=") {
            Some(i) if i == 0 || i == 1 && pair.starts_with('?') => {
                format!("{}password=***", &pair[..i])
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&");
    format!("{scheme}{authority}{path}{rest}")
}

// ---------------------------------------------------------------------------------------------
// Server start-up (blocking; runs once per process)

fn init_server() -> Result<PgServer, String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            let url = url.trim().to_string();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(format!(
                    "DATABASE_URL is set but is not a postgres:// URL: {}\n\n{HOW_TO_FIX}",
                    redact_url(&url)
                ));
            }
            Ok(PgServer { admin_url: url, kind: ServerKind::External { from_env: true } })
        }
        _ => start_throwaway_cluster().map_err(|reason| {
            format!(
                "DATABASE_URL is not set and no throwaway PostgreSQL cluster could be started for the tests: \
                 {reason}\n\n{HOW_TO_FIX}"
            )
        }),
    }
}

struct PgBinaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| is_executable(candidate))
}

fn binaries_in(dir: &Path) -> Option<PgBinaries> {
    let initdb = dir.join("initdb");
    let pg_ctl = dir.join("pg_ctl");
    (is_executable(&initdb) && is_executable(&pg_ctl)).then_some(PgBinaries { initdb, pg_ctl })
}

/// Parses "15" or "9.6" into comparable numbers; non-numeric names sort first.
fn version_key(name: &str) -> Vec<u64> {
    name.split('.').map(|part| part.parse().unwrap_or(0)).collect()
}

fn find_binaries() -> Result<PgBinaries, String> {
    if let (Some(initdb), Some(pg_ctl)) = (find_on_path("initdb"), find_on_path("pg_ctl")) {
        return Ok(PgBinaries { initdb, pg_ctl });
    }

    if let Ok(out) = Command::new("pg_config").arg("--bindir").stdin(Stdio::null()).output()
        && out.status.success()
    {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if let Some(bins) = binaries_in(Path::new(&dir)) {
            return Ok(bins);
        }
    }

    let mut versions: Vec<(Vec<u64>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| (version_key(&e.file_name().to_string_lossy()), e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    if let Some(bins) = versions.iter().rev().find_map(|(_, dir)| binaries_in(dir)) {
        return Ok(bins);
    }

    Err("could not find the PostgreSQL server programs `initdb` and `pg_ctl` (looked on PATH, in \
         `pg_config --bindir`, and in /usr/lib/postgresql/*/bin)"
        .to_string())
}

/// A PostgreSQL client program (`pg_dump`, `psql`): on PATH, in `pg_config --bindir`, or in the
/// highest-versioned /usr/lib/postgresql/*/bin.
pub fn client_program(name: &str) -> Result<PathBuf, String> {
    if let Some(program) = find_on_path(name) {
        return Ok(program);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").stdin(Stdio::null()).output()
        && out.status.success()
    {
        let program = Path::new(String::from_utf8_lossy(&out.stdout).trim()).join(name);
        if is_executable(&program) {
            return Ok(program);
        }
    }
    let mut versions: Vec<(Vec<u64>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| (version_key(&e.file_name().to_string_lossy()), e.path().join("bin").join(name)))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.into_iter().rev().map(|(_, p)| p).find(|p| is_executable(p)).ok_or_else(|| {
        format!("could not find the PostgreSQL program `{name}` (looked on PATH, in `pg_config --bindir`, and in /usr/lib/postgresql/*/bin)")
    })
}

fn effective_uid() -> Option<u32> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        // "Uid:\treal\teffective\tsaved\tfs"
        let uid = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .and_then(|euid| euid.parse().ok());
        if uid.is_some() {
            return uid;
        }
    }
    let out = Command::new("id").arg("-u").stdin(Stdio::null()).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// How the PostgreSQL programs are run: directly, or as the `postgres` OS user when we are root.
enum Runner {
    Direct,
    Runuser(PathBuf),
    Su(PathBuf),
}

const PG_OS_USER: &str = "postgres";

impl Runner {
    fn detect() -> Result<Runner, String> {
        if effective_uid() != Some(0) {
            return Ok(Runner::Direct);
        }
        let user_exists = Command::new("id")
            .args(["-u", PG_OS_USER])
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|out| out.status.success());
        if !user_exists {
            return Err(format!(
                "running as root, where initdb refuses to run, and there is no `{PG_OS_USER}` OS user to run \
                 it as; create one (e.g. `useradd --system --create-home {PG_OS_USER}`, which installing the \
                 postgresql package also does) or run the tests as a non-root user"
            ));
        }
        if let Some(runuser) = find_on_path("runuser") {
            Ok(Runner::Runuser(runuser))
        } else if let Some(su) = find_on_path("su") {
            Ok(Runner::Su(su))
        } else {
            Err(format!(
                "running as root, where initdb refuses to run, and neither `runuser` nor `su` is available to \
                 run it as the `{PG_OS_USER}` user"
            ))
        }
    }

    fn is_root(&self) -> bool {
        !matches!(self, Runner::Direct)
    }

    /// The full command line running `program args...` (as the postgres user if needed).
    fn argv(&self, program: &Path, args: &[String]) -> Vec<String> {
        let program = program.to_string_lossy().into_owned();
        match self {
            Runner::Direct => std::iter::once(program).chain(args.iter().cloned()).collect(),
            Runner::Runuser(runuser) => {
                [runuser.to_string_lossy().into_owned(), "-u".into(), PG_OS_USER.into(), "--".into(), program]
                    .into_iter()
                    .chain(args.iter().cloned())
                    .collect()
            }
            Runner::Su(su) => {
                let inner = std::iter::once(&program).chain(args).map(|a| sh_quote(a)).collect::<Vec<_>>().join(" ");
                vec![
                    su.to_string_lossy().into_owned(),
                    PG_OS_USER.into(),
                    "-s".into(),
                    "/bin/sh".into(),
                    "-c".into(),
                    inner,
                ]
            }
        }
    }

    fn run(&self, program: &Path, args: &[String], cwd: &Path) -> Result<Output, String> {
        let argv = self.argv(program, args);
        Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(cwd)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not run `{}`: {e}", shell_line(&argv)))
    }
}

fn sh_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn shell_line(argv: &[String]) -> String {
    argv.iter().map(|a| sh_quote(a)).collect::<Vec<_>>().join(" ")
}

fn describe_failure(what: &str, argv_line: &str, out: &Output) -> String {
    let mut msg = format!("{what} failed ({}): `{argv_line}`", out.status);
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim();
        if !text.is_empty() {
            msg.push_str(&format!("\n--- {what} {name} ---\n{text}"));
        }
    }
    msg
}

/// The last `lines` lines of `log` written after byte `offset`.
fn log_tail(log: &Path, offset: u64, lines: usize) -> String {
    match fs::read(log) {
        Ok(bytes) => {
            let start = usize::try_from(offset).unwrap_or(0).min(bytes.len());
            let text = String::from_utf8_lossy(&bytes[start..]);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(could not read {}: {e})", log.display()),
    }
}

/// Whether other users (here: the `postgres` OS user) can reach `dir`: every ancestor must be
/// searchable by "others". A root-only TMPDIR such as /root/tmp would make initdb fail.
fn reachable_by_others(dir: &Path) -> bool {
    dir.ancestors().all(|d| fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// Creates a new private directory under the system temp dir (under /tmp if the postgres user
/// could not reach the temp dir).
fn make_temp_dir(for_other_user: bool) -> Result<PathBuf, String> {
    let mut base = std::env::temp_dir();
    if for_other_user && !reachable_by_others(&base) {
        base = PathBuf::from("/tmp");
    }
    let pid = std::process::id();
    let mut last_err = None;
    for attempt in 0..100u32 {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let dir = base.join(format!("schema-testkit-{pid}-{nanos:x}{attempt}"));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => {
                return Err(format!("could not create a temporary directory in {}: {e}", base.display()));
            }
        }
    }
    Err(format!(
        "could not create a temporary directory in {}: {}",
        base.display(),
        last_err.map_or_else(String::new, |e| e.to_string())
    ))
}

/// Spawns a detached `sh` that waits for this process to exit, then stops the cluster and deletes
/// `dir`. Its stdio is /dev/null so it does not hold the test's output pipes open, and it runs
/// in its own process group so a Ctrl-C aimed at `cargo test` does not kill it.
fn spawn_watchdog(runner: &Runner, pg_ctl: &Path, data: &Path, dir: &Path) -> Result<(), String> {
    let data_str = data.to_string_lossy().into_owned();
    let stop = runner
        .argv(pg_ctl, &["-D".into(), data_str.clone(), "-m".into(), "immediate".into(), "-w".into(), "stop".into()]);
    let pid_file = sh_quote(&format!("{data_str}/postmaster.pid"));
    let script = format!(
        "trap '' HUP INT\n\
         while kill -0 {pid} 2>/dev/null; do sleep 0.2 2>/dev/null || sleep 1; done\n\
         if [ -f {pid_file} ]; then\n\
         \x20 {stop} || kill -9 \"$(head -n 1 {pid_file})\"\n\
         fi\n\
         rm -rf {dir}\n",
        pid = std::process::id(),
        stop = shell_line(&stop),
        dir = sh_quote(&dir.to_string_lossy()),
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(drop)
        .map_err(|e| format!("could not spawn the clean-up watchdog (`sh`): {e}"))
}

/// Writes `server.crt` and `server.key` (self-signed, owner-only) into the data directory; false when
/// openssl is missing or fails.
fn make_certificate(runner: &Runner, data: &Path, dir: &Path) -> bool {
    let (Some(openssl), Some(chmod)) = (find_on_path("openssl"), find_on_path("chmod")) else { return false };
    let key = data.join("server.key").to_string_lossy().into_owned();
    let crt = data.join("server.crt").to_string_lossy().into_owned();
    let args: Vec<String> = [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &key,
        "-out",
        &crt,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let made = runner.run(&openssl, &args, dir).is_ok_and(|out| out.status.success());
    made && runner.run(&chmod, &["600".to_string(), key], dir).is_ok_and(|out| out.status.success())
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("could not find a free TCP port on 127.0.0.1: {e}"))
}

fn start_throwaway_cluster() -> Result<PgServer, String> {
    let bins = find_binaries()?;
    let runner = Runner::detect()?;

    let dir = make_temp_dir(runner.is_root())?;
    let data = dir.join("data");
    let log = dir.join("server.log");
    // Registered before anything can fail half-way, so the directory never outlives the process.
    spawn_watchdog(&runner, &bins.pg_ctl, &data, &dir)?;

    if runner.is_root() {
        let owner = format!("{PG_OS_USER}:{PG_OS_USER}");
        let out = Command::new("chown")
            .args(["-R", &owner])
            .arg(&dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not run `chown`: {e}"))?;
        if !out.status.success() {
            let line = format!("chown -R {owner} {}", dir.display());
            return Err(describe_failure("chown", &line, &out));
        }
    }

    let data_str = data.to_string_lossy().into_owned();
    let initdb_args: Vec<String> =
        ["-D", &data_str, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let out = runner.run(&bins.initdb, &initdb_args, &dir)?;
    if !out.status.success() {
        let line = shell_line(&runner.argv(&bins.initdb, &initdb_args));
        return Err(describe_failure("initdb", &line, &out));
    }

    // TLS, so that `sslmode=require` connections are tested too: a self-signed certificate, when
    // openssl is installed (the TLS test says so when it is not).
    let tls = make_certificate(&runner, &data, &dir);

    let mut failure = String::new();
    for attempt in 1..=START_ATTEMPTS {
        let port = free_port()?;
        // The log is appended to; only this attempt's part tells why this attempt failed.
        let log_offset = fs::metadata(&log).map_or(0, |m| m.len());
        let options = format!(
            "-F -p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200{}",
            sh_quote(&dir.to_string_lossy()),
            if tls { " -c ssl=on" } else { "" }
        );
        let args: Vec<String> =
            ["-D", &data_str, "-l", &log.to_string_lossy(), "-w", "-t", "60", "-o", &options, "start"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let out = runner.run(&bins.pg_ctl, &args, &dir)?;
        if out.status.success() {
            return Ok(PgServer {
                // Plain connections: a TLS handshake on each of the suite's thousands of connections
                // costs more than the tests (the TLS test asks for it with sslmode=require).
                admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable"),
                kind: ServerKind::Throwaway { port, dir },
            });
        }
        let tail = log_tail(&log, log_offset, 30);
        let line = shell_line(&runner.argv(&bins.pg_ctl, &args));
        failure = format!(
            "{}\n--- last lines of the server log {} ---\n{tail}",
            describe_failure("pg_ctl start", &line, &out),
            log.display()
        );
        let port_taken = tail.contains("already in use") || tail.contains("could not bind");
        if !port_taken || attempt == START_ATTEMPTS {
            break;
        }
    }
    Err(failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_ident_doubles_quotes() {
        assert_eq!(quote_ident("a"), "\"a\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn database_names_are_sanitized_and_bounded() {
        assert_eq!(database_name(7, 3, &sanitize_label("Adds Column!")), "t_7_3_adds_column_");
        assert_eq!(database_name(7, 3, ""), "t_7_3");
        let long = database_name(4_194_304, 123_456, &sanitize_label(&"x".repeat(100)));
        assert_eq!(long.len(), MAX_IDENT_LEN);
        assert!(database_name(1, 1, &sanitize_label("é-ü")).is_ascii());
    }

    #[test]
    fn url_database_is_replaced() {
        let r = |u, d| replace_url_database(u, d);
        assert_eq!(r("postgres://u:p@h:5432/postgres", "x"), "postgres://u:p@h:5432/x");
        assert_eq!(r("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            r("postgres://u@h/db?sslmode=disable&application_name=t", "x"),
            "postgres://u@h/x?sslmode=disable&application_name=t"
        );
        assert_eq!(r("postgres://h?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
        assert_eq!(
            r("postgresql:///db?host=/run/pg&dbname=db", "x y"),
            "postgresql:///x%20y?host=/run/pg&dbname=x%20y"
        );
        assert_eq!(r("postgres://h/db#frag", "x"), "postgres://h/x#frag");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:secret@h:1/db"), "postgres://u:***@h:1/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db?user=u&password=secret"), "postgres://h/db?user=u&password=***");
        assert_eq!(redact_url("postgres://h/db?password=secret"), "postgres://h/db?password=***");
    }

    #[test]
    fn versions_sort_numerically() {
        let mut v = vec![version_key("9.6"), version_key("15"), version_key("10")];
        v.sort();
        assert_eq!(v, vec![version_key("9.6"), version_key("10"), version_key("15")]);
    }
}

pub mod generate;
pub mod random;
pub mod random_sqlite;
pub mod replay;
pub mod roundtrip;
pub mod sqlite;
