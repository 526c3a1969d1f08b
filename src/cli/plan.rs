//! `schema plan`: show what `generate` would write, without writing anything.

use super::Format;
use crate::pipeline::{self, Settings};
use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub async fn run(settings: &Settings, args: &PlanArgs) -> Result<i32> {
    let migration = pipeline::migration(settings).await?;
    super::warn_unmanaged(&migration.unmanaged);
    match args.format {
        Format::Json => {
            let value = serde_json::json!({
                "changes": migration.up.steps.len(),
                "transactional": migration.up.transactional,
                "up": migration.up.steps,
                "down": migration.down.steps,
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Text => {
            if migration.up.is_empty() {
                println!("no changes");
                return Ok(0);
            }
            println!("-- {} change(s):", migration.up.steps.len());
            for step in &migration.up.steps {
                println!("--   {}", step.description);
            }
            if !migration.up.transactional {
                println!(
                    "-- runs outside a transaction (a new enum value is used in the same migration)"
                );
            }
            for statement in migration.up.statements() {
                println!("\n{statement}");
            }
        }
    }
    Ok(0)
}
