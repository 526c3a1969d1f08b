//! `schema generate`: write the up/down pair that takes the database to the declared schema.

use crate::diff::slugify;
use crate::migrations;
use crate::pipeline::{self, Settings};
use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Name of the migration (default: derived from the changes)
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub hazards: super::HazardArgs,
}

pub async fn run(settings: &Settings, args: &GenerateArgs) -> Result<i32> {
    let migration = pipeline::migration(settings).await?;
    super::warn_unmanaged(&migration.unmanaged);
    if migration.up.is_empty() {
        super::emit("no changes\n");
        return Ok(0);
    }
    let denied = super::report_hazards(&migration.up, &args.hazards.policy(settings));
    if !denied.is_empty() {
        let ids: Vec<&str> =
            denied.iter().map(|(_, h)| h.id.as_str()).collect::<indexmap::IndexSet<_>>().into_iter().collect();
        eprintln!(
            "error: refusing to write the migration: {} hazard(s) denied by [hazards] in diff.toml ({}); nothing \
             was written. Change the declared schema, or pass --allow-hazard ID to accept them",
            denied.len(),
            ids.join(", ")
        );
        return Ok(2);
    }
    let name = match &args.name {
        Some(name) => slugify(name),
        None => derive_name(&migration.up),
    };
    let version = migrations::next_version(&settings.out_dir, chrono::Utc::now());
    let pair = migrations::write_pair(&settings.out_dir, &version, &name, &migration.up, &migration.down)?;
    migrations::record_in_sum(&settings.out_dir, &[&pair.up, &pair.down])?;
    super::emit(&format!("wrote {}\nwrote {}\n", pair.up.display(), pair.down.display()));
    Ok(0)
}

/// A name from the first changes: `create_users`, `add_bio_and_more`.
fn derive_name(plan: &crate::plan::Plan) -> String {
    let first = plan.steps.iter().find(|s| !matches!(s.change, crate::diff::Change::SetComment { .. }));
    let first = first.or(plan.steps.first()).map(|s| s.change.slug()).unwrap_or_else(|| "migration".into());
    if plan.steps.len() > 1 { slugify(&format!("{first}_and_more")) } else { first }
}
