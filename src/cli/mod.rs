//! Command-line definitions and settings resolution: what was typed (flags) is merged once with the
//! environment and diff.toml into [`Settings`]; commands only see the result.

use crate::pipeline;
use crate::settings::Config;
use crate::settings::Settings;
use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

pub mod apply;
pub mod diff;
pub mod drift;
pub mod fleet;
pub mod generate;
pub mod inspect;
pub mod lint;
pub mod migrate;
pub mod plan;

const EXIT_CODES: &str = "\
Exit codes:
  0  success (generate, plan and inspect exit 0 whether or not there are changes)
  1  differences found, for checking commands (drift, diff; `plan --exit-code`),
     migrations pending (`migrate status`), or a denied hazard (`lint`)
  2  trouble: usage, configuration, declared schema or database error;
     `generate` refusing a denied hazard; a migration that fails verification";

#[derive(Debug, Parser)]
#[command(name = "schema", version, about = "Declarative schema diff: edit SQL files, get ordered, reversible migrations", after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: diff.toml, if present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL (overrides DATABASE_URL and diff.toml)
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// Empty database to load the declared schema into (default: a temporary database on the target server)
    #[arg(long, global = true, value_name = "URL")]
    pub dev_url: Option<String>,
    /// Directory of declared *.sql files [default: schema]
    #[arg(long, global = true, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    /// Directory of generated migrations [default: generated]
    #[arg(long, global = true, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the migration (up and down) from the database to the declared schema into the out dir
    Generate(generate::GenerateArgs),
    /// Print the ordered changes and the up SQL; write nothing
    Plan(plan::PlanArgs),
    /// Print DDL for the database's managed objects (to bootstrap schema files)
    Inspect,
    /// Check that the database (or the replayed migrations) matches the declared schema: exit 0 in sync, 1 drift
    Drift(drift::DriftArgs),
    /// Print the migration between two schemas, each a database URL or a schema directory: exit 0 same, 1 differ
    Diff(diff::DiffArgs),
    /// Development: apply the declared schema to the database directly, in one transaction
    Apply(apply::ApplyArgs),
    /// Run the migrations in the out dir: up, down, status (exit 1 when migrations are pending), hash, resolve
    Migrate(migrate::MigrateArgs),
    /// Check migration files for hazards (locks, rewrites, data loss): exit 1 on a denied hazard
    Lint(lint::LintArgs),
    /// Run the migrations on every database of [fleet] in diff.toml: status, up (canaries, parallel)
    Fleet(fleet::FleetArgs),
}

/// `--allow-hazard`, shared by the commands that apply the hazard policy.
#[derive(Debug, Args, Clone, Default)]
pub struct HazardArgs {
    /// Allow this hazard id whatever diff.toml's [hazards] says (repeatable), e.g. --allow-hazard table-rewrite
    #[arg(long = "allow-hazard", value_name = "ID")]
    pub allow_hazard: Vec<crate::safety::HazardId>,
}

impl HazardArgs {
    /// The configured policy with these overrides.
    pub fn policy(&self, settings: &Settings) -> crate::policy::Policy {
        let mut policy = settings.hazards.clone();
        policy.allow(&self.allow_hazard);
        policy
    }
}

/// `--no-verify`, shared by the commands that write or apply a migration.
#[derive(Debug, Args, Clone, Default)]
pub struct VerifyArgs {
    /// Do not run the migration (up, then down) in a scratch database first; by default a migration that
    /// fails there or does not converge is refused
    #[arg(long)]
    pub no_verify: bool,
}

impl VerifyArgs {
    pub fn enabled(&self) -> bool {
        !self.no_verify
    }
}

/// Prints why verification refuses the migration (`what` names what is not done); true when it does.
pub fn refused_by_verification(verification: &crate::verify::Verification, what: &str) -> bool {
    match verification.refusal() {
        Some(message) => {
            eprintln!(
                "error: {message}
{what}"
            );
            true
        }
        None => false,
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Merges flags, environment and diff.toml. Precedence: flag, then DATABASE_URL (for the URL), then
/// diff.toml, then defaults.
pub fn resolve(global: &GlobalArgs) -> Result<Settings> {
    let (config, base) = match &global.config {
        Some(path) => (Config::load(path)?, path.parent().map(Path::to_path_buf).unwrap_or_default()),
        None if Path::new("diff.toml").exists() => (Config::load(Path::new("diff.toml"))?, PathBuf::new()),
        None => (Config::default(), PathBuf::new()),
    };
    let mut settings = Settings::from_config(&config, &base).context("invalid configuration")?;
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.is_empty()
    {
        settings.url = Some(url);
    }
    if let Some(url) = &global.url {
        settings.url = Some(url.clone());
    }
    if let Some(url) = &global.dev_url {
        settings.dev_url = Some(url.clone());
    }
    if let Some(dir) = &global.schema_dir {
        settings.schema_dir = dir.clone();
    }
    if let Some(dir) = &global.out_dir {
        settings.out_dir = dir.clone();
    }
    Ok(settings)
}

/// Lists objects that exist in the database but are left alone.
pub fn warn_unmanaged(objects: &[crate::model::UnmanagedObject]) {
    if objects.is_empty() {
        return;
    }
    eprintln!(
        "warning: {} object(s) in the database are not managed by schema and were left untouched:",
        objects.len()
    );
    for object in objects {
        eprintln!("  {object}");
    }
}

/// Prints to stdout; a closed pipe (`schema plan | head`) ends the program quietly instead of panicking.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(2);
    }
}

/// Lists a plan's hazards on stderr with the policy's verdict on each; returns the denied ones.
pub fn report_hazards<'a>(
    plan: &'a crate::plan::Plan,
    policy: &crate::policy::Policy,
) -> Vec<(&'a crate::plan::Step, &'a crate::safety::Hazard)> {
    use crate::policy::Level;
    let hazards: Vec<_> = plan.hazards().collect();
    if hazards.is_empty() {
        return Vec::new();
    }
    eprintln!("warning: {} hazard(s):", hazards.len());
    let mut denied = Vec::new();
    for (step, hazard) in hazards {
        let level = policy.level(hazard);
        eprintln!("  [{}] {hazard}", level.as_str());
        eprintln!("    in: {}", step.description);
        eprintln!("    help: {}", hazard.help);
        if level == Level::Deny {
            denied.push((step, hazard));
        }
    }
    denied
}

/// A plan's steps as JSON, each hazard with the policy's verdict on it as `level`.
pub fn steps_with_verdicts(plan: &crate::plan::Plan, policy: &crate::policy::Policy) -> Result<serde_json::Value> {
    let mut steps = serde_json::to_value(&plan.steps)?;
    for (step, json) in plan.steps.iter().zip(steps.as_array_mut().into_iter().flatten()) {
        for (hazard, value) in step.hazards.iter().zip(json["hazards"].as_array_mut().into_iter().flatten()) {
            value["level"] = serde_json::Value::from(policy.level(hazard).as_str());
        }
    }
    Ok(steps)
}

/// What `plan` and `generate` start from.
#[derive(Debug, Args, Clone, Default)]
pub struct BaselineArgs {
    /// Plan from the schema that replaying every migration in the out dir produces, from an empty
    /// database (in a scratch database), instead of from the live database
    #[arg(long)]
    pub from_migrations: bool,
}

impl BaselineArgs {
    /// The live database, as long as that cannot repeat a migration of the out dir. A database whose
    /// tracking table lists migrations of the out dir as not applied is refused (`Err(2)`): planned from
    /// it, the new migration would repeat them. An empty database without a tracking table has applied
    /// none of them, so the plan starts from the replayed migrations, and says so. A database with
    /// objects but no tracking table may have applied them with another runner: a warning.
    pub async fn choose(&self, settings: &Settings) -> Result<Result<pipeline::Baseline, i32>> {
        if self.from_migrations {
            return Ok(Ok(pipeline::Baseline::Migrations));
        }
        let dir = settings.out_dir.display();
        match unapplied(settings).await? {
            Unapplied::None => Ok(Ok(pipeline::Baseline::Live)),
            Unapplied::Pending(ids) => {
                let shown: Vec<&str> = ids.iter().take(3).map(String::as_str).collect();
                let more = if ids.len() > 3 { format!(" and {} more", ids.len() - 3) } else { String::new() };
                eprintln!(
                    "error: {} migration(s) of {dir} are not applied to this database ({}{more}); a migration \
                     planned from it would repeat them. Run `schema migrate up` first (with --contract for a \
                     contract migration), or pass --from-migrations to plan from what the migrations build from \
                     an empty database; nothing was written",
                    ids.len(),
                    shown.join(", ")
                );
                Ok(Err(2))
            }
            Unapplied::Untracked(count) => {
                let live = pipeline::live_catalog(settings.url()?, settings).await?;
                if live.is_empty() && live.unmanaged.is_empty() {
                    eprintln!(
                        "note: the database is empty and has applied none of the {count} migration(s) of {dir}: \
                         planning from the schema they build (replayed in a scratch database)"
                    );
                    return Ok(Ok(pipeline::Baseline::Migrations));
                }
                eprintln!(
                    "warning: the database has no record of applied migrations; if the {count} migration(s) of \
                     {dir} are not applied to it, this migration repeats them (`schema migrate up` records them)"
                );
                Ok(Ok(pipeline::Baseline::Read(Box::new(live))))
            }
        }
    }
}

/// What the database's tracking table says of the out dir's migrations.
enum Unapplied {
    /// All applied, or there are none.
    None,
    /// The out dir has this many migrations, and the database no record of any.
    Untracked(usize),
    /// These are not applied (pending, waiting contract, or out of order).
    Pending(Vec<String>),
}

async fn unapplied(settings: &Settings) -> Result<Unapplied> {
    let local = crate::migrations::read_dir(&settings.out_dir)?;
    if local.is_empty() {
        return Ok(Unapplied::None);
    }
    let url = settings.url()?;
    let mut db = crate::dialect::Runner::connect(url, &settings.migrate).await?;
    let status = crate::runner::status(&mut db, &local, &[]).await?;
    if status.pending == local.len() && status.rows.len() == local.len() {
        return Ok(Unapplied::Untracked(local.len()));
    }
    let pending = status.rows.into_iter().filter(|(_, state)| {
        use crate::runner::State;
        matches!(state, State::Pending | State::Waiting | State::OutOfOrder)
    });
    let ids: Vec<String> = pending.map(|(id, _)| id).collect();
    Ok(if ids.is_empty() { Unapplied::None } else { Unapplied::Pending(ids) })
}
