//! `schema apply`: for development databases, plan and apply the declared schema directly, in one
//! transaction. Shows the plan first and asks on a terminal; refuses changes that lose data unless
//! `--allow-destructive` is given.

use crate::dialect;
use crate::pipeline;
use crate::settings::Settings;
use anyhow::{Result, bail};
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Apply without asking
    #[arg(long)]
    pub yes: bool,
    /// Print the SQL that would run, and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Allow changes that can lose data (dropping tables or columns, narrowing types…)
    #[arg(long)]
    pub allow_destructive: bool,
    #[command(flatten)]
    pub hazards: super::HazardArgs,
    #[command(flatten)]
    pub verify: super::VerifyArgs,
}

pub async fn run(settings: &Settings, args: &ApplyArgs) -> Result<i32> {
    let url = settings.url()?.to_string();
    // What runs is the one-step plan, in one transaction (or statement by statement); verified as such,
    // with its reverse, before the database is touched.
    let checked = pipeline::checked_migration(settings, pipeline::Baseline::Live, args.verify.enabled(), |m| {
        vec![crate::migrations::RenderedPair {
            version: "apply".into(),
            name: "plan".into(),
            up: crate::migrations::render_file("apply", "plan", "up", &m.up),
            down: crate::migrations::render_file("apply", "plan", "down", &m.down),
        }]
    })
    .await?;
    let migration = &checked.migration;
    super::warn_unmanaged(&migration.unmanaged);
    let plan = &migration.up;
    if plan.is_empty() {
        super::emit("no changes\n");
        return Ok(0);
    }
    let mut text = format!("-- {} change(s):\n", plan.steps.len());
    for step in &plan.steps {
        let ids: Vec<&str> = step.hazards.iter().map(|h| h.id.as_str()).collect();
        let ids = if ids.is_empty() { String::new() } else { format!("  [{}]", ids.join(", ")) };
        text.push_str(&format!("--   {}{ids}\n", step.description));
    }
    for statement in plan.statements() {
        text.push_str(&format!("\n{statement}\n"));
    }
    super::emit(&text);
    if super::refused_by_verification(&checked.verification, "nothing was changed") {
        return Ok(2);
    }
    if args.dry_run {
        return Ok(0);
    }
    // The same policy as `generate`, except that data loss is denied unless --allow-destructive.
    let data_loss_ids = crate::safety::HazardId::ALL.iter().copied().filter(|id| id.is_data_loss());
    let mut policy = args.hazards.policy(settings);
    if args.allow_destructive {
        policy.allow(&data_loss_ids.collect::<Vec<_>>());
    } else {
        policy.deny_unless_allowed(data_loss_ids);
    }
    let denied = super::report_hazards(plan, &policy);
    // Each change once, whatever number of data-loss hazards it has (a drop that is also a probable rename).
    let destructive: Vec<&str> = denied
        .iter()
        .filter(|(_, h)| h.id.is_data_loss())
        .map(|(s, _)| s.description.as_str())
        .collect::<indexmap::IndexSet<_>>()
        .into_iter()
        .collect();
    if !destructive.is_empty() {
        bail!(
            "refusing to apply {} change(s) that can lose data ({}); nothing was changed. Pass \
             --allow-destructive to apply them",
            destructive.len(),
            destructive.join("; ")
        );
    }
    if !denied.is_empty() {
        let ids: Vec<&str> =
            denied.iter().map(|(_, h)| h.id.as_str()).collect::<indexmap::IndexSet<_>>().into_iter().collect();
        bail!(
            "refusing to apply {} hazard(s) denied by the hazard policy ({}); nothing was changed. Pass \
             --allow-hazard ID to accept them",
            denied.len(),
            ids.join(", ")
        );
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!("not applying without confirmation: standard input is not a terminal; pass --yes");
        }
        eprint!("apply these changes to {}? [y/N] ", crate::dialect::postgres::connect::redact(&url));
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("nothing applied");
            return Ok(0);
        }
    }
    let statements: Vec<String> = plan.statements().map(String::from).collect();
    dialect::execute(&url, &statements, plan.transactional).await?;
    let how = match plan.why_no_transaction() {
        None => " in one transaction".to_string(),
        Some(why) if why == crate::plan::ENUM_VALUE_COMMIT => {
            " (statement by statement: a new enum value is used)".to_string()
        }
        Some(why) => format!(" (statement by statement: {why})"),
    };
    eprintln!("applied {} change(s){how}", plan.steps.len());
    Ok(0)
}
