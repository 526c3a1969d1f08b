//! What several test modules share: running the `schema` binary, a project directory with declared
//! files, and fresh PostgreSQL databases.

use schema::testkit::roundtrip::load_sql;
use schema::testkit::{TestDatabase, pg_server};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `schema` in `cwd` with `args`, `DATABASE_URL` removed from its environment (so a developer's own
/// setting never reaches a test), no input, and both output streams captured.
pub fn schema_command(cwd: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_schema"));
    command
        .current_dir(cwd)
        .env_remove("DATABASE_URL")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// Its process id: scratch databases are named after it.
    pub pid: u32,
    /// The exit code; -1 when a signal ended it.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Waits for a started run.
    pub fn of(child: Child) -> Run {
        let pid = child.id();
        let output = child.wait_with_output().expect("wait for the schema binary");
        Run {
            pid,
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn expect_code(&self, code: i32, what: &str) -> &Self {
        assert_eq!(
            self.code, code,
            "{what}: expected exit code {code}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn stderr_has(&self, needles: &[&str]) -> &Self {
        for needle in needles {
            assert!(self.stderr.contains(needle), "stderr lacks {needle:?}:\n{}", self.stderr);
        }
        self
    }

    pub fn stdout_has(&self, needles: &[&str]) -> &Self {
        for needle in needles {
            assert!(self.stdout.contains(needle), "stdout lacks {needle:?}:\n{}", self.stdout);
        }
        self
    }

    /// Neither output stream contains `secret`.
    pub fn hides(&self, secret: &str) -> &Self {
        assert!(!self.stdout.contains(secret), "stdout shows {secret:?}:\n{}", self.stdout);
        assert!(!self.stderr.contains(secret), "stderr shows {secret:?}:\n{}", self.stderr);
        self
    }
}

/// Runs `schema` in `cwd` (see [`schema_command`]) with `envs` added, and waits for it.
pub fn schema_in(cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut command = schema_command(cwd, args);
    for (key, value) in envs {
        command.env(key, value);
    }
    Run::of(command.spawn().expect("start the schema binary"))
}

/// A project directory: a temporary directory with `schema/` holding declared files, and `out/` for
/// what `generate` writes.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    pub fn new(files: &[(&str, &str)]) -> Project {
        let project = Project { dir: tempfile::tempdir().expect("temporary directory") };
        project.write_schema(files);
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn schema_dir(&self) -> PathBuf {
        self.path().join("schema")
    }

    pub fn out_dir(&self) -> PathBuf {
        self.path().join("out")
    }

    /// Replaces the schema directory's contents with `files`.
    pub fn write_schema(&self, files: &[(&str, &str)]) {
        let dir = self.schema_dir();
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("clear schema dir");
        }
        std::fs::create_dir_all(&dir).expect("create schema dir");
        for (name, text) in files {
            std::fs::write(dir.join(name), text).expect("write schema file");
        }
    }

    /// `schema <args> --url <url> --schema-dir schema --out-dir out`, started in the project.
    pub fn command(&self, url: &str, args: &[&str]) -> Command {
        let mut command = schema_command(self.path(), args);
        command.args(["--url", url, "--schema-dir", "schema", "--out-dir", "out"]);
        command
    }

    /// Runs [`Project::command`] and waits for it.
    pub fn run_url(&self, url: &str, args: &[&str]) -> Run {
        Run::of(self.command(url, args).spawn().expect("start the schema binary"))
    }

    pub fn run(&self, db: &TestDatabase, args: &[&str]) -> Run {
        self.run_url(&db.url, args)
    }

    /// File names in the out dir, sorted (empty if it does not exist).
    pub fn out_dir_files(&self) -> Vec<String> {
        list_files(&self.out_dir())
    }
}

/// The names of the files in `dir`, sorted; empty if it does not exist.
pub fn list_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// A fresh database on the test server holding `sql` (nothing if empty).
pub async fn fresh(label: &str, sql: &str) -> TestDatabase {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database(label).await.expect("fresh database");
    if !sql.is_empty() {
        load_sql(&db.url, sql).await.expect("load the database's initial state");
    }
    db
}

/// The scratch databases (the declared files' and verification's) that the run with process id `pid`
/// has on the test server now.
pub async fn scratch_databases_of(pid: u32) -> Vec<String> {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let mut conn = sqlx::PgConnection::connect(server.admin_url()).await.expect("admin connection");
    let names: Vec<String> = sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1")
        .bind(format!("schema\\_%\\_{pid}\\_%"))
        .fetch_all(&mut conn)
        .await
        .expect("list scratch databases");
    let _ = conn.close().await;
    names
}

/// A project directory (`schema/app.sql` holding `declared`, `diff.toml` holding `config`) and a fresh
/// database with `current` loaded: what the command-line tests run `schema` in.
pub async fn pg_project(label: &str, current: &str, declared: &str, config: &str) -> (tempfile::TempDir, String) {
    let server = pg_server().await.expect("PostgreSQL for tests");
    let db = server.fresh_database(label).await.expect("fresh database");
    load_sql(&db.url, current).await.expect("load current");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::write(dir.path().join("schema/app.sql"), declared).unwrap();
    std::fs::write(dir.path().join("diff.toml"), config).unwrap();
    (dir, db.url)
}
