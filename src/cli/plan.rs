//! `schema plan`: show what `generate` would write, without writing anything: the default plan with
//! its online rewrites and phases, part by part (`--plain` for the one-step plan).

use super::Format;
use crate::pipeline;
use crate::rewrite;
use crate::settings::Settings;
use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit with 1 when there are changes (0 when there are none)
    #[arg(long)]
    pub exit_code: bool,
    #[command(flatten)]
    pub hazards: super::HazardArgs,
    #[command(flatten)]
    pub rewrite: super::generate::RewriteArgs,
    #[command(flatten)]
    pub baseline: super::BaselineArgs,
    #[command(flatten)]
    pub verify: super::VerifyArgs,
}

pub async fn run(settings: &Settings, args: &PlanArgs) -> Result<i32> {
    let settings = &args.rewrite.apply(settings);
    let baseline = match args.baseline.choose(settings).await? {
        Ok(baseline) => baseline,
        Err(code) => return Ok(code),
    };
    // The files `generate` would write, verified as it verifies them.
    let now = chrono::Utc::now();
    let checked = pipeline::checked_migration(settings, baseline, args.verify.enabled(), |migration| {
        super::generate::files(settings, None, migration, now)
    })
    .await?;
    let migration = &checked.migration;
    super::warn_unmanaged(&migration.unmanaged);
    let policy = args.hazards.policy(settings);
    let up = rewrite::flat_up(&migration.parts);
    let down = rewrite::flat_down(&migration.parts);
    if args.format == Format::Text {
        super::report_hazards(&up, &policy);
    }
    match args.format {
        Format::Json => {
            let mut parts = Vec::new();
            for part in &migration.parts {
                parts.push(serde_json::json!({
                    "phase": part.phase,
                    "suffix": part.suffix,
                    "transactional": part.up.transactional,
                    "why_no_transaction": part.why_no_transaction,
                    "up": super::steps_with_verdicts(&part.up, &policy)?,
                    "down": part.down.steps,
                    "down_transactional": part.down.transactional,
                }));
            }
            let value = serde_json::json!({
                "changes": migration.up.steps.len(),
                "transactional": up.transactional,
                "up": super::steps_with_verdicts(&up, &policy)?,
                "down": down.steps,
                "parts": parts,
                "verification": checked.verification,
            });
            super::emit(&format!("{}\n", serde_json::to_string_pretty(&value)?));
        }
        Format::Text => {
            if migration.up.is_empty() {
                super::emit("no changes\n");
                return Ok(0);
            }
            let mut text = format!("-- {} change(s):\n", migration.up.steps.len());
            for step in &migration.up.steps {
                text.push_str(&format!("--   {}\n", step.description));
            }
            text.push_str(&estimates_summary(&up));
            let several = migration.parts.len() > 1;
            if several {
                text.push_str(&format!("-- written as {} migrations:\n", migration.parts.len()));
            }
            for (i, part) in migration.parts.iter().enumerate() {
                if several {
                    let phase = part.phase.map(|p| format!(" ({p})")).unwrap_or_default();
                    text.push_str(&format!("\n-- migration {} of {}{phase}\n", i + 1, migration.parts.len()));
                }
                if let Some(why) = part.why_no_transaction.as_deref().filter(|_| !part.up.transactional) {
                    text.push_str(&format!("-- runs outside a transaction ({why})\n"));
                }
                for statement in part.up.statements() {
                    text.push_str(&format!("\n{statement}\n"));
                }
            }
            if let crate::verify::Verification::Passed = checked.verification {
                text.push_str(&format!("\n-- {}", super::generate::VERIFIED));
            }
            super::emit(&text);
        }
    }
    if super::refused_by_verification(&checked.verification, "generate would write nothing") {
        return Ok(2);
    }
    Ok(if args.exit_code && !migration.up.is_empty() { 1 } else { 0 })
}

/// `-- estimated: ≈4.2 s in all; the slowest steps:` and up to three steps with their time and the lock
/// they hold, or nothing when no step has an estimate.
fn estimates_summary(up: &crate::plan::Plan) -> String {
    let mut timed: Vec<(&crate::plan::Step, u64)> =
        up.steps.iter().filter_map(|s| s.estimate_ms.map(|ms| (s, ms))).collect();
    if timed.is_empty() {
        return String::new();
    }
    let total: u64 = timed.iter().map(|(_, ms)| ms).sum();
    let mut text = format!("-- estimated: {} in all; the slowest steps:\n", duration(total));
    timed.sort_by_key(|t| std::cmp::Reverse(t.1));
    for (step, ms) in timed.into_iter().take(3) {
        let lock = step.hazards.iter().find_map(|h| h.lock.clone()).unwrap_or_else(|| "no blocking lock".to_string());
        text.push_str(&format!("--   {} {} ({lock})\n", duration(ms), step.description));
    }
    text
}

/// `≈850 ms`, `≈4.2 s`, `≈3.5 min`.
fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("≈{ms} ms"),
        1_000..60_000 => format!("≈{:.1} s", ms as f64 / 1e3),
        _ => format!("≈{:.1} min", ms as f64 / 6e4),
    }
}
