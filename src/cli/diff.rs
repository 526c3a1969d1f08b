//! `schema diff --from SRC --to DST`: the migration SQL from one schema to another, where each side is
//! a database URL or a directory of schema files (e.g. staging against production). Exit 0 when they
//! match, 1 when they differ, 2 on trouble.

use super::Format;
use crate::dialect::Kind;
use crate::pipeline::{self, Source};
use crate::settings::Settings;
use anyhow::{Context, Result};
use clap::Args;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The current side: a database URL or a schema directory
    #[arg(long, value_name = "SRC")]
    pub from: String,
    /// The desired side: a database URL or a schema directory
    #[arg(long, value_name = "DST")]
    pub to: String,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub async fn run(settings: &Settings, args: &DiffArgs) -> Result<i32> {
    let (from, to) = (Source::parse(&args.from), Source::parse(&args.to));
    // Directories are loaded through a scratch database on a server of the same kind as the URL side.
    let server = match (&from, &to) {
        (Source::Url(url), _) | (_, Source::Url(url)) => url.clone(),
        _ => settings
            .dev_url
            .clone()
            .or_else(|| settings.url.clone())
            .context("both sides are directories: a server is needed to load them; pass --url or --dev-url")?,
    };
    let kind = Kind::from_url(&server)?;
    // Both sides at once (each on its own connection): the server works on both catalogs in parallel.
    // `join!`, not `try_join!`: a side that fails must not cancel the other one half-way through its
    // scratch database, which is dropped only at its end.
    let (current, desired) =
        tokio::join!(pipeline::catalog_of(&from, &server, settings), pipeline::catalog_of(&to, &server, settings));
    let ((mut current, _), (mut desired, hints)) = (current?, desired?);
    pipeline::retain_managed(&mut current, &mut desired, settings);
    let (up, down) = pipeline::plan_between(kind, &current, &desired, &hints)?;
    // The process exits after the output: freeing two 5,000-table catalogs item by item took 35 ms,
    // a fifth of what is left to do once the databases have been read.
    std::mem::forget((current, desired));
    match args.format {
        Format::Json => {
            let value = serde_json::json!({ "changes": up.steps.len(), "transactional": up.transactional, "up": up.steps, "down": down.steps });
            super::emit(&format!("{}\n", serde_json::to_string_pretty(&value)?));
        }
        Format::Text if up.is_empty() => super::emit("-- no differences\n"),
        Format::Text => {
            let mut text = String::new();
            if !up.transactional {
                text.push_str(crate::migrations::NO_TRANSACTION);
                text.push('\n');
            }
            for step in &up.steps {
                text.push_str(&format!("-- {}\n", step.description));
            }
            for statement in up.statements() {
                text.push_str(&format!("\n{statement}\n"));
            }
            super::emit(&text);
        }
    }
    Ok(if up.is_empty() { 0 } else { 1 })
}
