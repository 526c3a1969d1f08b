//! `schema generate`: write the migration files that take the database to the declared schema: one
//! up/down pair, or several when online rewrites or expand/contract phases need more than one
//! transaction (see [`crate::rewrite`]).

use crate::diff::slugify;
use crate::migrations;
use crate::pipeline;
use crate::settings::Settings;
use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Name of the migration (default: derived from the changes)
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub hazards: super::HazardArgs,
    #[command(flatten)]
    pub rewrite: RewriteArgs,
    #[command(flatten)]
    pub baseline: super::BaselineArgs,
    #[command(flatten)]
    pub verify: super::VerifyArgs,
}

/// How the plan is shaped, overriding `[hazards]` `safe_rewrites` / `expand_contract` in diff.toml.
#[derive(Debug, Args, Clone, Default)]
pub struct RewriteArgs {
    /// One-step plan: no online rewrites (CONCURRENTLY, NOT VALID + VALIDATE) and no phases; everything in
    /// one transaction where the database allows it
    #[arg(long, conflicts_with = "phased")]
    pub plain: bool,
    /// Split column renames, type changes and drops on existing tables into expand / backfill / contract
    /// migrations (also `expand_contract = true` in [hazards])
    #[arg(long)]
    pub phased: bool,
}

impl RewriteArgs {
    /// The settings with these overrides.
    pub fn apply(&self, settings: &Settings) -> Settings {
        let mut settings = settings.clone();
        if self.plain {
            settings.hazards.rewrite.online = false;
            settings.hazards.rewrite.phased = false;
        }
        if self.phased {
            settings.hazards.rewrite.phased = true;
        }
        settings
    }
}

pub async fn run(settings: &Settings, args: &GenerateArgs) -> Result<i32> {
    let settings = &args.rewrite.apply(settings);
    let baseline = match args.baseline.choose(settings).await? {
        Ok(baseline) => baseline,
        Err(code) => return Ok(code),
    };
    let now = chrono::Utc::now();
    let checked = pipeline::checked_migration(settings, baseline, args.verify.enabled(), |migration| {
        files(settings, args.name.as_deref(), migration, now)
    })
    .await?;
    let migration = &checked.migration;
    super::warn_unmanaged(&migration.unmanaged);
    if migration.up.is_empty() {
        super::emit("no changes\n");
        return Ok(0);
    }
    let up = crate::rewrite::flat_up(&migration.parts);
    let denied = super::report_hazards(&up, &args.hazards.policy(settings));
    if !denied.is_empty() {
        let ids: Vec<&str> =
            denied.iter().map(|(_, h)| h.id.as_str()).collect::<indexmap::IndexSet<_>>().into_iter().collect();
        eprintln!(
            "error: refusing to write the migration: {} hazard(s) denied by the hazard policy ({}); nothing \
             was written. Change the declared schema, or pass --allow-hazard ID to accept them",
            denied.len(),
            ids.join(", ")
        );
        return Ok(2);
    }
    if super::refused_by_verification(&checked.verification, "nothing was written") {
        return Ok(2);
    }
    let pairs = migrations::write_rendered(&settings.out_dir, &checked.files)?;
    let files: Vec<&std::path::Path> = pairs.iter().flat_map(|p| [p.up.as_path(), p.down.as_path()]).collect();
    migrations::record_in_sum(&settings.out_dir, &files)?;
    let mut text = String::new();
    for path in &files {
        text.push_str(&format!("wrote {}\n", path.display()));
    }
    if let crate::verify::Verification::Passed = checked.verification {
        text.push_str(VERIFIED);
    }
    if migration.parts.iter().any(|p| p.phase == Some(crate::rewrite::Phase::Contract)) {
        text.push_str(
            "note: the contract migration runs only with `schema migrate up --contract`, once no running application \
             uses the old shape\n",
        );
    }
    super::emit(&text);
    Ok(0)
}

/// Says what verification proved, after the files are listed.
pub(super) const VERIFIED: &str = "verified: in a scratch database, the up files build the declared schema and the down files restore the current one\n";

/// The files `generate` writes for a migration: named `name` (or after its first changes), versioned
/// from `now` on.
pub(super) fn files(
    settings: &Settings,
    name: Option<&str>,
    migration: &pipeline::Migration,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<migrations::RenderedPair> {
    let name = match name {
        Some(name) => slugify(name),
        None => derive_name(&migration.up),
    };
    migrations::render_parts(&migrations::next_version(&settings.out_dir, now), &name, &migration.parts)
}

/// A name from the first changes: `create_users`, `add_bio_and_more`.
fn derive_name(plan: &crate::plan::Plan) -> String {
    let first = plan.steps.iter().find(|s| !matches!(s.change, crate::diff::Change::Comment(_)));
    let first = first.or(plan.steps.first()).map(|s| s.change.slug()).unwrap_or_else(|| "migration".into());
    if plan.steps.len() > 1 { slugify(&format!("{first}_and_more")) } else { first }
}
