//! `schema plan`: show what `generate` would write, without writing anything.

use super::Format;
use crate::pipeline::{self, Settings};
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
}

pub async fn run(settings: &Settings, args: &PlanArgs) -> Result<i32> {
    let migration = pipeline::migration(settings).await?;
    super::warn_unmanaged(&migration.unmanaged);
    let policy = args.hazards.policy(settings);
    if args.format == Format::Text {
        super::report_hazards(&migration.up, &policy);
    }
    match args.format {
        Format::Json => {
            let value = serde_json::json!({
                "changes": migration.up.steps.len(),
                "transactional": migration.up.transactional,
                "up": super::steps_with_verdicts(&migration.up, &policy)?,
                "down": migration.down.steps,
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
            if !migration.up.transactional {
                text.push_str("-- runs outside a transaction (a new enum value is used in the same migration)\n");
            }
            for statement in migration.up.statements() {
                text.push_str(&format!("\n{statement}\n"));
            }
            super::emit(&text);
        }
    }
    Ok(if args.exit_code && !migration.up.is_empty() { 1 } else { 0 })
}
