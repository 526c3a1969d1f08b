//! `schema fleet`: the migrations of the out dir on every target of `[fleet]` (see [`crate::fleet`]).

use super::Format;
use crate::fleet::{self, Outcome, Schedule, Target, TargetReport};
use crate::runner::UpTarget;
use crate::settings::Settings;
use anyhow::Result;
use clap::{Args, Subcommand};

const FLEET_HELP: &str = "\
Targets come from [fleet] in diff.toml: urls, urls_file (one URL a line) and/or query run on catalog_url;
with schemas = 'tenant_*', each matching schema of those databases is a target, running a copy of each
migration with the template schema (template_schema, default public) replaced by its own.
Each target is migrated as `schema migrate` would (its own tracking table, lock and dirty state); a target
that fails is left where its last migration left it, and running the command again continues from there.

Exit codes: 0 every target done / up to date; 1 (status) migrations pending somewhere; 2 a target failed,
was unreachable, dirty, skipped, or disagrees with the directory";

#[derive(Debug, Args)]
#[command(after_help = FLEET_HELP)]
pub struct FleetArgs {
    #[command(subcommand)]
    pub command: FleetCommand,
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub format: Format,
    /// Targets handled at once
    #[arg(long, default_value_t = 8, global = true, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Every target's migrations: applied, pending, dirty, unreachable; exit 1 if any is pending
    Status,
    /// Every target against the declared schema, targets with identical schemas grouped; exit 1 if any drifted
    Drift,
    /// What would bring each group of identical targets to the declared schema (the one-step plan)
    Plan,
    /// Apply the pending migrations on every target: canaries first, then the rest in parallel
    Up {
        /// Run the first K targets first (at most --parallel at once); if one fails, no other starts
        #[arg(long, value_name = "K", default_value_t = 0)]
        canary: usize,
        /// Start no new target once F targets have failed (unreachable ones count)
        #[arg(long, value_name = "F", value_parser = clap::value_parser!(u64).range(1..))]
        max_failures: Option<u64>,
        /// Also apply contract migrations (as `migrate up --contract`)
        #[arg(long)]
        contract: bool,
        /// Stop after this version on every target
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
    },
}

pub async fn run(settings: &Settings, args: &FleetArgs) -> Result<i32> {
    let targets = fleet::targets(settings, usize::from(args.parallel)).await?;
    match &args.command {
        FleetCommand::Drift => compare(settings, args, &targets, true).await,
        FleetCommand::Plan => compare(settings, args, &targets, false).await,
        FleetCommand::Status => migrations(settings, args, &targets, None).await,
        FleetCommand::Up { canary, max_failures, contract, to } => {
            let parallel = usize::from(args.parallel);
            let schedule = Schedule { parallel, canary: *canary, max_failures: max_failures.map(|f| f as usize) };
            let target = UpTarget { to: to.clone(), contract: *contract };
            migrations(settings, args, &targets, Some((schedule, target))).await
        }
    }
}

/// `fleet drift` (`drift`) and `fleet plan`: the targets in groups of identical schemas.
async fn compare(settings: &Settings, args: &FleetArgs, targets: &[Target], drift: bool) -> Result<i32> {
    let (groups, unread) = fleet::compare(settings, targets, usize::from(args.parallel)).await?;
    let drifted: usize = groups.iter().filter(|g| !g.in_sync).map(|g| g.targets.len()).sum();
    let in_sync: usize = groups.iter().filter(|g| g.in_sync).map(|g| g.targets.len()).sum();
    match args.format {
        Format::Json => {
            let value = serde_json::json!({
                "groups": groups,
                "unreachable": unread,
                "summary": { "groups": groups.len(), "in_sync": in_sync, "drifted": drifted, "unreachable": unread.len() },
            });
            super::emit(&format!("{}\n", serde_json::to_string_pretty(&value)?));
        }
        Format::Text => {
            let mut text = String::new();
            for (i, group) in groups.iter().enumerate() {
                let state =
                    if group.in_sync { "in sync".to_string() } else { format!("{} change(s)", group.changes.len()) };
                text.push_str(&format!("group {} ({} target(s)): {state}\n", i + 1, group.targets.len()));
                for target in &group.targets {
                    text.push_str(&format!("  {target}\n"));
                }
                for change in &group.changes {
                    text.push_str(&format!("  - {change}\n"));
                }
                if !drift {
                    for statement in &group.statements {
                        text.push_str(&format!("\n{statement}\n"));
                    }
                    text.push('\n');
                }
            }
            for u in &unread {
                text.push_str(&format!("UNREACHABLE  {}\n    {}\n", u.target, u.error));
            }
            text.push_str(&format!(
                "{} target(s) in {} group(s): {in_sync} in sync, {drifted} drifted, {} unreachable\n",
                targets.len(),
                groups.len(),
                unread.len()
            ));
            super::emit(&text);
        }
    }
    Ok(if !unread.is_empty() {
        2
    } else if drift && drifted > 0 {
        1
    } else {
        0
    })
}

/// `fleet status` (`up` is `None`) and `fleet up`: one report a target.
async fn migrations(
    settings: &Settings,
    args: &FleetArgs,
    targets: &[Target],
    up: Option<(Schedule, UpTarget)>,
) -> Result<i32> {
    let text = args.format == Format::Text;
    let status_only = up.is_none();
    let reports = match up {
        None => fleet::status(settings, targets, usize::from(args.parallel)).await?,
        Some((schedule, target)) => {
            // Each target's line as it finishes; the skipped ones follow at the end. On a terminal, one
            // status line on stderr below them says where the run stands.
            use std::io::{IsTerminal, Write};
            let live = std::io::stderr().is_terminal() && std::env::var("TERM").is_ok_and(|t| t != "dumb");
            let clear = || {
                if live {
                    eprint!("\r\x1b[K");
                }
            };
            let print = |r: &TargetReport| {
                clear();
                if text {
                    super::emit(&line(r));
                }
            };
            let progress = |s: &fleet::Snapshot| {
                if live {
                    let slowest = s
                        .slowest
                        .as_ref()
                        .map(|(t, d)| format!("; slowest: {t} ({} s)", d.as_secs()))
                        .unwrap_or_default();
                    eprint!(
                        "\r\x1b[K[fleet] {} done, {} running, {} failed, {} left{slowest}",
                        s.done, s.running, s.failed, s.left
                    );
                    let _ = std::io::stderr().flush();
                }
            };
            let reports = fleet::up(settings, targets, &target, schedule, print, progress).await?;
            clear();
            if text {
                for report in reports.iter().filter(|r| r.status == Outcome::Skipped) {
                    super::emit(&line(report));
                }
            }
            reports
        }
    };
    let summary = fleet::summary(&reports);
    match args.format {
        Format::Json => {
            let value = serde_json::json!({ "targets": reports, "summary": summary });
            super::emit(&format!("{}\n", serde_json::to_string_pretty(&value)?));
        }
        Format::Text => {
            if status_only {
                for report in &reports {
                    super::emit(&line(report));
                }
            }
            let counts: Vec<String> = summary.iter().map(|(k, n)| format!("{n} {}", k.replace('_', " "))).collect();
            super::emit(&format!("{} target(s): {}\n", reports.len(), counts.join(", ")));
            if let Some(slowest) = reports.iter().max_by_key(|r| r.duration_ms).filter(|r| r.duration_ms > 0) {
                super::emit(&format!("slowest: {} ({} ms)\n", label(slowest), slowest.duration_ms));
            }
        }
    }
    let trouble = reports.iter().any(|r| {
        matches!(
            r.status,
            Outcome::Failed | Outcome::Unreachable | Outcome::Skipped | Outcome::Dirty | Outcome::Problem
        )
    });
    let pending = reports.iter().any(|r| r.status == Outcome::Pending);
    Ok(if trouble {
        2
    } else if pending {
        1
    } else {
        0
    })
}

/// `applied       postgres://app@db1/a  2 applied, 0 pending (340 ms)`, with the error on a second line.
fn line(r: &TargetReport) -> String {
    let status = match r.status {
        Outcome::Applied => "applied",
        Outcome::UpToDate => "up to date",
        Outcome::Pending => "pending",
        Outcome::Dirty => "DIRTY",
        Outcome::Problem => "PROBLEM",
        Outcome::Failed => "FAILED",
        Outcome::Unreachable => "UNREACHABLE",
        Outcome::Skipped => "skipped",
    };
    let pending = r.pending.map(|p| format!(", {p} pending")).unwrap_or_default();
    let mut text = format!("{status:<12} {}  {} applied{pending} ({} ms)\n", label(r), r.applied, r.duration_ms);
    if let Some(error) = &r.error {
        for l in error.lines() {
            text.push_str(&format!("    {l}\n"));
        }
    }
    text
}

/// The target as text lines name it: its URL, and the tenant's schema.
fn label(r: &TargetReport) -> String {
    match &r.schema {
        Some(schema) => format!("{} schema {schema}", r.target),
        None => r.target.clone(),
    }
}
