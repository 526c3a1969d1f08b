//! `schema migrate`: run the migrations of the out dir against the database (see [`crate::runner`]).

use crate::migrations;
use crate::runner::progress::Progress;
use crate::runner::{self, DownTarget, State, UpTarget};
use crate::settings::Settings;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};

const STATUS_EXIT_CODES: &str = "\
Exit codes:
  0  every migration is applied
  1  migrations are pending
  2  trouble: a dirty, changed, missing or out-of-order migration, schema.sum disagrees with the files, or
     the database cannot be reached";

const MIGRATE_HELP: &str = "\
Each migration runs in its own transaction together with its row in the tracking table, except files whose
first line is `-- schema:no-transaction` (PostgreSQL; SQLite runs those in a transaction too): those run
statement by statement, and a failure leaves the migration marked dirty until `schema migrate resolve`.
Contract migrations (`-- schema:phase contract`) run only with `migrate up --contract`; `status` lists them
as waiting. Runners take turns through a lock; generated/schema.sum must list every migration file
(`schema migrate hash` updates it after a migration was written by hand). The progress of long statements
(index builds, backfills) goes to stderr: a line redrawn in place on a terminal, otherwise a line at 3 s and
then every 10 s.

Exit codes: 0 success; 1 (status only) migrations pending; 2 trouble";

#[derive(Debug, Args)]
#[command(after_help = MIGRATE_HELP)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: MigrateCommand,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Apply the pending migrations in version order
    Up {
        /// Stop after this version (YYYYMMDDHHMMSS)
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
        /// Also apply contract migrations (`-- schema:phase contract`: they remove the old shape of an
        /// expand/contract change); without it, `up` stops before the first pending one
        #[arg(long)]
        contract: bool,
    },
    /// Revert applied migrations with their .down.sql files, newest first [default: the latest one]
    Down {
        /// Revert this many migrations
        #[arg(long, value_name = "N", conflicts_with_all = ["to", "all"])]
        steps: Option<usize>,
        /// Revert every migration later than this applied version
        #[arg(long, value_name = "VERSION", conflicts_with = "all")]
        to: Option<String>,
        /// Revert every applied migration
        #[arg(long)]
        all: bool,
    },
    /// List applied, pending and problem migrations: exit 0 all applied, 1 pending, 2 trouble
    #[command(after_help = STATUS_EXIT_CODES)]
    Status,
    /// Rewrite the out dir's schema.sum from the migration files as they are now
    Hash,
    /// Settle a dirty migration (one that ran outside a transaction and failed) after fixing the database
    Resolve {
        /// The dirty migration's version
        version: String,
        /// Its statements have all taken effect (you finished them by hand): keep it as applied
        #[arg(long, required_unless_present = "rolled_back", conflicts_with = "rolled_back")]
        applied: bool,
        /// None of its statements remain in effect (you undid them by hand): mark it as not applied
        #[arg(long)]
        rolled_back: bool,
    },
}

pub async fn run(settings: &Settings, args: &MigrateArgs) -> Result<i32> {
    let dir = &settings.out_dir;
    if let MigrateCommand::Hash = args.command {
        let sum = migrations::write_sum(dir)?;
        super::emit(&format!("wrote {} ({} files)\n", dir.join(migrations::SUM_FILE).display(), sum.files.len()));
        return Ok(0);
    }
    let url = settings.url()?;
    let (local, sum) = runner::local(dir)?;
    let mut db = crate::dialect::Runner::connect(url, &settings.migrate).await?;
    dispatch(&mut db, settings, args, &local, &sum).await
}

async fn dispatch(
    db: &mut impl runner::Database,
    settings: &Settings,
    args: &MigrateArgs,
    local: &[migrations::LocalMigration],
    sum: &[migrations::SumProblem],
) -> Result<i32> {
    let (options, mut out) = (&settings.migrate, std::io::stdout());
    match &args.command {
        MigrateCommand::Up { to, contract } => {
            let target = UpTarget { to: to.clone(), contract: *contract };
            runner::up(db, options, local, sum, &target, &mut out, &mut Progress::stderr()).await?;
            Ok(0)
        }
        MigrateCommand::Down { steps, to, all } => {
            let target = match (steps, to, all) {
                (_, _, true) => DownTarget::All,
                (_, Some(version), _) => DownTarget::To(version.clone()),
                (steps, None, false) => DownTarget::Steps(steps.unwrap_or(1)),
            };
            runner::down(db, options, local, sum, &target, &mut out, &mut Progress::stderr()).await?;
            Ok(0)
        }
        MigrateCommand::Status => status(db, settings, local, sum).await,
        MigrateCommand::Resolve { version, applied, .. } => {
            runner::resolve(db, options, version, *applied, &mut out).await?;
            Ok(0)
        }
        MigrateCommand::Hash => unreachable!("handled above"),
    }
}

async fn status(
    db: &mut impl runner::Database,
    settings: &Settings,
    local: &[migrations::LocalMigration],
    sum: &[migrations::SumProblem],
) -> Result<i32> {
    let status = runner::status(db, local, sum).await.context("cannot read the migration status")?;
    let table = db.tracking_table(&settings.migrate);
    let mut text = format!("migrations in {}, tracking table {table}:\n", settings.out_dir.display());
    if status.rows.is_empty() {
        text.push_str("  (none)\n");
    }
    for (id, state) in &status.rows {
        let line = match state {
            State::Applied { applied_at, execution_ms } => {
                format!("  applied       {id}  ({applied_at}, {execution_ms} ms)")
            }
            State::Pending => format!("  pending       {id}"),
            State::Waiting => format!("  waiting       {id}  (contract: applied by `migrate up --contract`)"),
            State::Dirty => format!("  DIRTY         {id}"),
            State::Changed => format!("  CHANGED       {id}  (applied, file edited since)"),
            State::Missing => format!("  MISSING       {id}  (applied, file not in the directory)"),
            State::OutOfOrder => format!("  OUT OF ORDER  {id}  (pending, older than the latest applied)"),
        };
        text.push_str(&line);
        text.push('\n');
    }
    let applied = status.rows.iter().filter(|(_, s)| matches!(s, State::Applied { .. })).count();
    text.push_str(&format!("{applied} applied, {} pending\n", status.pending));
    super::emit(&text);
    if !status.problems.is_empty() {
        eprintln!("error: {} problem(s):", status.problems.len());
        for problem in &status.problems {
            eprintln!("  - {problem}");
        }
        return Ok(2);
    }
    Ok(if status.pending > 0 { 1 } else { 0 })
}
