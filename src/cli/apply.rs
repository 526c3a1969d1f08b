//! `schema apply`: for development databases, plan and apply the declared schema directly, in one
//! transaction. Shows the plan first and asks on a terminal; refuses changes that lose data unless
//! `--allow-destructive` is given.

use crate::dialect;
use crate::pipeline::{self, Settings};
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
}

pub async fn run(settings: &Settings, args: &ApplyArgs) -> Result<i32> {
    let url = settings.url()?.to_string();
    let migration = pipeline::migration(settings).await?;
    super::warn_unmanaged(&migration.unmanaged);
    let plan = &migration.up;
    if plan.is_empty() {
        super::emit("no changes\n");
        return Ok(0);
    }
    let mut text = format!("-- {} change(s):\n", plan.steps.len());
    for step in &plan.steps {
        let loss = step.data_loss.map(|why| format!("  [data loss: {why}]")).unwrap_or_default();
        text.push_str(&format!("--   {}{loss}\n", step.description));
    }
    for statement in plan.statements() {
        text.push_str(&format!("\n{statement}\n"));
    }
    super::emit(&text);
    if args.dry_run {
        return Ok(0);
    }
    let destructive: Vec<&str> =
        plan.steps.iter().filter(|s| s.data_loss.is_some()).map(|s| s.description.as_str()).collect();
    if !destructive.is_empty() && !args.allow_destructive {
        bail!(
            "refusing to apply {} change(s) that can lose data ({}); nothing was changed. Pass \
             --allow-destructive to apply them",
            destructive.len(),
            destructive.join("; ")
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
    eprintln!(
        "applied {} change(s){}",
        plan.steps.len(),
        if plan.transactional { " in one transaction" } else { " (statement by statement: a new enum value is used)" }
    );
    Ok(0)
}
