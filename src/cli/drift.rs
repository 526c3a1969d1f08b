//! `schema drift`: does the live database (or the replayed migrations) match the declared schema?
//! Exit 0 in sync, 1 drift, 2 trouble.

use super::Format;
use crate::dialect::Kind;
use crate::drift;
use crate::pipeline;
use crate::settings::Settings;
use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Compare the declared schema with what replaying the migrations in the out dir produces,
    /// instead of with the live database (catches "edited schema/ but forgot to generate")
    #[arg(long)]
    pub from_migrations: bool,
}

pub async fn run(settings: &Settings, args: &DriftArgs) -> Result<i32> {
    let url = settings.url()?.to_string();
    let (actual, label) = if args.from_migrations {
        (pipeline::replayed_catalog(settings).await?, "migrations")
    } else {
        (pipeline::live_catalog(&url, settings).await?, "database")
    };
    let (declared, _) = pipeline::declared_catalog(settings).await?;
    let (mut actual, mut declared) = (actual, declared);
    pipeline::retain_managed(&mut actual, &mut declared, settings);
    if !args.from_migrations {
        super::warn_unmanaged(&actual.unmanaged);
    }
    let renderer = Kind::from_url(&url)?.renderer();
    let mut report = drift::report(&actual, &declared, renderer.as_ref(), (label, "declared"))?;
    // The plan that would bring the live database in line: the rows it would fail on are part of the
    // report (not for replayed migrations, whose tables hold no rows).
    if !args.from_migrations {
        let limits = settings.hazards.existing_rows;
        pipeline::check_existing_rows(&url, &actual, &declared, &mut [&mut report.plan], limits).await?;
    }
    match args.format {
        Format::Json => super::emit(&format!("{}\n", serde_json::to_string_pretty(&report)?)),
        Format::Text => super::emit(&drift::render_text(&report)),
    }
    Ok(if report.in_sync { 0 } else { 1 })
}
