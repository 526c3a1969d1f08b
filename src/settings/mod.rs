//! Settings: what the commands run with, resolved from the command line's flags (see
//! [`crate::cli::resolve`]), the environment and `diff.toml` ([`file`]). The only module that reads the
//! configuration file's sections; the modules it feeds (runner, safety, diff) take typed options.

pub mod file;
mod hazards;
mod migrate;

pub use file::{Config, ConfigError, MigrateConfig};
pub use migrate::parse_duration;

use crate::diff::RenameHints;
use crate::model::QualifiedName;
use anyhow::{Context, Result};
use std::path::PathBuf;

/// Settings after merging flags, environment and diff.toml.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub url: Option<String>,
    pub dev_url: Option<String>,
    pub schema_dir: PathBuf,
    pub out_dir: PathBuf,
    pub schemas: Vec<String>,
    pub ignore: Vec<glob::Pattern>,
    pub renames: RenameHints,
    /// `schema migrate`: tracking table, timeouts, lock wait, retries.
    pub migrate: crate::runner::Options,
    /// `[hazards]` in diff.toml, with `--allow-hazard` applied by the commands that take it.
    pub hazards: crate::policy::Policy,
    /// `[privileges] roles`: grantees managed even when the declared files grant them nothing.
    pub privilege_roles: Vec<String>,
    /// `[ownership] manage`: owners are compared.
    pub manage_owners: bool,
    /// `[fleet]`: where `schema fleet` finds its targets.
    pub fleet: Fleet,
}

/// The sources of `schema fleet`'s targets (see [`crate::fleet::targets`]).
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub urls: Vec<String>,
    pub urls_file: Option<PathBuf>,
    /// (query, catalog URL).
    pub query: Option<(String, String)>,
    /// A schema per tenant in each database: `[fleet] schemas`.
    pub tenants: Option<Tenants>,
}

/// `[fleet] schemas`, `template_schema` and `shared_schemas`: each schema of a target database that
/// matches `pattern` is a target of its own, migrated with the files written for `template`.
#[derive(Debug, Clone)]
pub struct Tenants {
    pub pattern: glob::Pattern,
    pub template: String,
    pub shared: Vec<String>,
}

impl Settings {
    pub fn url(&self) -> Result<&str> {
        self.url.as_deref().context("no database URL: pass --url, set DATABASE_URL, or set `url` in diff.toml")
    }

    /// Builds settings from a parsed diff.toml (paths relative to `base`).
    pub fn from_config(config: &Config, base: &std::path::Path) -> Result<Settings> {
        let ignore = config
            .ignore
            .iter()
            .map(|p| glob::Pattern::new(p).with_context(|| format!("invalid ignore pattern {p:?} in diff.toml")))
            .collect::<Result<Vec<_>>>()?;
        let mut renames = RenameHints::default();
        for r in &config.rename.table {
            renames.tables.push((QualifiedName::parse(&r.from), QualifiedName::parse(&r.to)));
        }
        for r in &config.rename.column {
            renames.columns.push((QualifiedName::parse(&r.table), r.from.clone(), r.to.clone()));
        }
        renames.conversions = config.conversions().map_err(anyhow::Error::msg)?;
        Ok(Settings {
            url: config.url.clone(),
            dev_url: config.dev_url.clone(),
            schema_dir: base.join(config.schema_dir.clone().unwrap_or_else(|| "schema".into())),
            out_dir: base.join(config.out_dir.clone().unwrap_or_else(|| "generated".into())),
            schemas: config.schemas.clone(),
            ignore,
            renames,
            migrate: migrate::options(&config.migrate)?,
            hazards: crate::policy::Policy {
                rewrite: crate::rewrite::Options {
                    backfills: config.backfills().map_err(anyhow::Error::msg)?,
                    ..config.hazards.0.rewrite.clone()
                },
                ..config.hazards.0.clone()
            },
            privilege_roles: config.privileges.roles.clone(),
            manage_owners: config.ownership.manage,
            fleet: fleet(&config.fleet, base)?,
        })
    }
}

fn fleet(config: &file::FleetConfig, base: &std::path::Path) -> Result<Fleet> {
    let tenants = match &config.schemas {
        Some(pattern) => {
            let template = config.template_schema.clone().unwrap_or_else(|| "public".into());
            let pattern = glob::Pattern::new(pattern)
                .with_context(|| format!("invalid [fleet] schemas pattern {pattern:?} in diff.toml"))?;
            if pattern.matches(&template) {
                anyhow::bail!(
                    "[fleet] schemas = {:?} matches the template schema {template:?}: the template is not a tenant",
                    pattern.as_str()
                );
            }
            if let Some(shared) = config.shared_schemas.iter().find(|s| pattern.matches(s) || **s == template) {
                anyhow::bail!("[fleet] shared_schemas: {shared:?} is a tenant's schema or the template, not shared");
            }
            Some(Tenants { pattern, template, shared: config.shared_schemas.clone() })
        }
        None if config.template_schema.is_some() || !config.shared_schemas.is_empty() => {
            anyhow::bail!("[fleet] template_schema and shared_schemas need schemas, the tenants' pattern")
        }
        None => None,
    };
    let query = match (&config.query, &config.catalog_url) {
        (Some(query), Some(url)) => Some((query.clone(), url.clone())),
        (None, None) => None,
        (Some(_), None) => anyhow::bail!("[fleet] query needs catalog_url, the database to run it on"),
        (None, Some(_)) => anyhow::bail!("[fleet] catalog_url is set without a query to run on it"),
    };
    Ok(Fleet { urls: config.urls.clone(), urls_file: config.urls_file.as_ref().map(|f| base.join(f)), query, tenants })
}
