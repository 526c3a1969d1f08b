//! `diff.toml`: the project's configuration file. Unknown keys are an error, so a typo never silently
//! falls back to a default. `${VAR}` in string values is replaced from the environment.

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The database the migrations are for.
    pub url: Option<String>,
    /// A database schema may use to load the declared files (must be empty).
    pub dev_url: Option<String>,
    pub schema_dir: Option<PathBuf>,
    pub out_dir: Option<PathBuf>,
    /// Schemas to manage; empty means every non-system schema.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Objects to leave alone, as `schema.name` glob patterns (`public.legacy_*`).
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub rename: Renames,
    /// `[migrate]`: how `schema migrate` runs migrations.
    #[serde(default)]
    pub migrate: MigrateConfig,
    /// `[hazards]`: per hazard id `"deny" | "warn" | "allow"`, and `allow_rewrite_below_rows`.
    #[serde(default)]
    pub hazards: HazardsConfig,
    /// `[privileges]`: whose privileges are managed besides the grantees of the declared GRANTs.
    #[serde(default)]
    pub privileges: PrivilegesConfig,
    /// `[ownership]`: whether the owners of objects are compared.
    #[serde(default)]
    pub ownership: OwnershipConfig,
    /// `[[backfill]]`: values for new NOT NULL columns without a default, which expand/contract adds in
    /// phases.
    #[serde(default)]
    pub backfill: Vec<BackfillEntry>,
    /// `[[conversion]]`: how the values of a column whose type changes are converted (PostgreSQL), when its
    /// cast does not do or does not exist (`integer` → `timestamptz`).
    #[serde(default)]
    pub conversion: Vec<ConversionEntry>,
    /// `[fleet]`: the databases `schema fleet` runs the migrations on.
    #[serde(default)]
    pub fleet: FleetConfig,
}

/// `[fleet]`: the targets of `schema fleet`, listed, read from a file (one URL a line) or queried.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    #[serde(default)]
    pub urls: Vec<String>,
    /// A file of URLs, one a line (blank lines and `#` comments ignored), relative to diff.toml.
    pub urls_file: Option<PathBuf>,
    /// A query whose first column is a target URL a row, run on `catalog_url`.
    pub query: Option<String>,
    pub catalog_url: Option<String>,
    /// A schema per tenant: the glob its schemas match in each target database (`tenant_*`).
    pub schemas: Option<String>,
    /// The schema the migrations are written for, whose place each tenant's schema takes [default: public].
    pub template_schema: Option<String>,
    /// Schemas every tenant shares (extensions, lookup tables), which tenant migrations may name.
    #[serde(default)]
    pub shared_schemas: Vec<String>,
}

/// One `[[conversion]]` entry: the `USING` expressions of a column's type change, up and down.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConversionEntry {
    /// `schema.table` (or `table`, in `public`), by its name in the schema files.
    pub table: String,
    /// The column, by its name in the schema files.
    pub column: String,
    /// A SQL expression over the row's columns giving the new value: `to_timestamp(started)`.
    pub using: Option<String>,
    /// The expression the down migration converts the values back with: `extract(epoch FROM started)::integer`.
    pub down_using: Option<String>,
}

/// One `[[backfill]]` entry: the value the existing rows get in a new NOT NULL column without a default.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BackfillEntry {
    /// `schema.table` (or `table`, in `public`), by its name in the schema files.
    pub table: String,
    pub column: String,
    /// A SQL expression over the row's columns: `'unknown'`, `lower(email)`, `created_at + interval '1 day'`.
    pub value: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OwnershipConfig {
    /// Compare owners: objects the declared files give no owner (`ALTER … OWNER TO`, `CREATE SCHEMA …
    /// AUTHORIZATION`) are expected to be owned by the role the tool connects as.
    #[serde(default)]
    pub manage: bool,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrivilegesConfig {
    /// Roles (or `PUBLIC`) whose privileges are managed even where the declared files grant them nothing,
    /// so that removing a role's last GRANT revokes it.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// `[hazards]` as written, validated while parsing: unknown ids and keys are errors.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(try_from = "toml::Table")]
pub struct HazardsConfig(pub crate::policy::Policy);

impl TryFrom<toml::Table> for HazardsConfig {
    type Error = String;
    fn try_from(table: toml::Table) -> Result<Self, Self::Error> {
        super::hazards::parse_table(&table).map(HazardsConfig)
    }
}

/// `[migrate]` as written; validated into [`crate::runner::Options`] by [`super::migrate::options`]. Durations are strings with a unit:
/// `"500ms"`, `"5s"`, `"2min"`, `"1h"`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MigrateConfig {
    /// Tracking table, `name` (in `public`) or `schema.name` [default: schema_migrations].
    pub table: Option<String>,
    /// PostgreSQL `lock_timeout` for migration statements [default: the server's].
    pub lock_timeout: Option<String>,
    /// PostgreSQL `statement_timeout` for migration statements [default: the server's].
    pub statement_timeout: Option<String>,
    /// How long a runner waits for another one to finish [default: 5min].
    pub lock_wait: Option<String>,
    /// How many times a migration that hit `lock_timeout` is retried, with backoff [default: 3].
    pub retries: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Renames {
    #[serde(default)]
    pub table: Vec<TableRename>,
    #[serde(default)]
    pub column: Vec<ColumnRename>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TableRename {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnRename {
    /// The table, by its name in the declared schema.
    pub table: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: environment variable {var} (used as ${{{var}}}) is not set")]
    MissingVar { path: PathBuf, var: String },
}

impl Config {
    /// The `[[backfill]]` entries, checked: every field set, one entry per column, and a value that can
    /// be placed inside the generated `DO` blocks and trigger functions.
    pub fn backfills(&self) -> Result<Vec<crate::rewrite::BackfillValue>, String> {
        let mut out: Vec<crate::rewrite::BackfillValue> = Vec::new();
        for entry in &self.backfill {
            let table = crate::model::QualifiedName::parse(entry.table.trim());
            let what = format!("[[backfill]] {}.{}", table, entry.column);
            if table.name.is_empty() || entry.column.is_empty() {
                return Err(format!("{what}: `table` and `column` must name the new column"));
            }
            let value = entry.value.trim().trim_end_matches(';').trim();
            if value.is_empty() {
                return Err(format!("{what}: `value` must be a SQL expression"));
            }
            if value.contains('$') && ["$schema_", "$$"].iter().any(|tag| value.contains(tag)) {
                return Err(format!("{what}: `value` must not contain the dollar quotes `$$` or `$schema_…$`"));
            }
            if out.iter().any(|b| b.table == table && b.column == entry.column) {
                return Err(format!("{what} is given twice"));
            }
            out.push(crate::rewrite::BackfillValue { table, column: entry.column.clone(), value: value.to_string() });
        }
        Ok(out)
    }

    /// The `[[conversion]]` entries, checked: a table and column, at least one expression, one entry per
    /// column.
    pub fn conversions(&self) -> Result<Vec<crate::diff::ColumnConversion>, String> {
        let mut out: Vec<crate::diff::ColumnConversion> = Vec::new();
        for entry in &self.conversion {
            let table = crate::model::QualifiedName::parse(entry.table.trim());
            let what = format!("[[conversion]] {}.{}", table, entry.column);
            if table.name.is_empty() || entry.column.is_empty() {
                return Err(format!("{what}: `table` and `column` must name the column"));
            }
            let expression = |text: &Option<String>| {
                text.as_deref().map(|t| t.trim().trim_end_matches(';').trim().to_string()).filter(|t| !t.is_empty())
            };
            let (using, down_using) = (expression(&entry.using), expression(&entry.down_using));
            if using.is_none() && down_using.is_none() {
                return Err(format!(
                    "{what}: give `using` (and `down_using` for the down migration) as SQL expressions"
                ));
            }
            if out.iter().any(|c| c.table == table && c.column == entry.column) {
                return Err(format!("{what} is given twice"));
            }
            out.push(crate::diff::ColumnConversion { table, column: entry.column.clone(), using, down_using });
        }
        Ok(out)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Config::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        let expand = |value: &mut Option<String>| -> Result<(), ConfigError> {
            if let Some(v) = value {
                *v = expand_env(v).map_err(|var| ConfigError::MissingVar { path: path.into(), var })?;
            }
            Ok(())
        };
        expand(&mut config.url)?;
        expand(&mut config.dev_url)?;
        Ok(config)
    }
}

/// Replaces `${VAR}` with the variable's value; `$$` stands for a literal `$`.
pub fn expand_env(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{')
            && let Some(end) = body.find('}')
        {
            let var = &body[..end];
            out.push_str(&std::env::var(var).map_err(|_| var.to_string())?);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Config::parse(Path::new("diff.toml"), "urll = 'x'").unwrap_err();
        assert!(err.to_string().contains("unknown field `urll`"), "{err}");
    }

    #[test]
    fn env_vars_are_expanded() {
        // SAFETY: this test is the only one that touches this variable.
        unsafe { std::env::set_var("SCHEMA_TEST_PASSWORD", "s3cret") };
        let config =
            Config::parse(Path::new("diff.toml"), "url = 'postgres://u:${SCHEMA_TEST_PASSWORD}@h/db$$'").unwrap();
        assert_eq!(config.url.as_deref(), Some("postgres://u:s3cret@h/db$"));
        let err = Config::parse(Path::new("diff.toml"), "url = '${SCHEMA_TEST_UNSET_VAR}'").unwrap_err();
        assert!(err.to_string().contains("SCHEMA_TEST_UNSET_VAR"));
    }

    #[test]
    fn renames_parse() {
        let config = Config::parse(
            Path::new("diff.toml"),
            "[[rename.table]]\nfrom = 'public.a'\nto = 'public.b'\n[[rename.column]]\ntable = 'public.b'\nfrom = 'x'\nto = 'y'\n",
        )
        .unwrap();
        assert_eq!(config.rename.table.len(), 1);
        assert_eq!(config.rename.column[0].to, "y");
    }

    #[test]
    fn backfill_entries_parse_and_are_checked() {
        let config = Config::parse(
            Path::new("diff.toml"),
            "[[backfill]]\ntable = 'app.users'\ncolumn = 'tier'\nvalue = \"'free'\"\n\
             [[backfill]]\ntable = 'users'\ncolumn = 'slug'\nvalue = 'lower(name);'\n",
        )
        .unwrap();
        let backfills = config.backfills().unwrap();
        assert_eq!(backfills[0].table, crate::model::QualifiedName::new("app", "users"));
        assert_eq!(backfills[0].value, "'free'");
        assert_eq!(backfills[1].table, crate::model::QualifiedName::new("public", "users"));
        assert_eq!(backfills[1].value, "lower(name)");
        let err = Config::parse(Path::new("diff.toml"), "[[backfill]]\ntable = 't'\ncolumn = 'c'\n").unwrap_err();
        assert!(err.to_string().contains("missing field `value`"), "{err}");
        let twice = "[[backfill]]\ntable = 't'\ncolumn = 'c'\nvalue = '1'\n[[backfill]]\ntable = 'public.t'\ncolumn = 'c'\nvalue = '2'\n";
        let err = Config::parse(Path::new("diff.toml"), twice).unwrap().backfills().unwrap_err();
        assert!(err.contains("given twice"), "{err}");
        let quoted = "[[backfill]]\ntable = 't'\ncolumn = 'c'\nvalue = '$$x$$'\n";
        assert!(Config::parse(Path::new("diff.toml"), quoted).unwrap().backfills().is_err());
    }

    #[test]
    fn conversion_entries_parse_and_are_checked() {
        let config = Config::parse(
            Path::new("diff.toml"),
            "[[conversion]]\ntable = 'events'\ncolumn = 'started'\nusing = 'to_timestamp(started);'\n\
             down_using = 'extract(epoch FROM started)::integer'\n",
        )
        .unwrap();
        let conversions = config.conversions().unwrap();
        assert_eq!(conversions[0].table, crate::model::QualifiedName::new("public", "events"));
        assert_eq!(conversions[0].using.as_deref(), Some("to_timestamp(started)"));
        assert_eq!(conversions[0].down_using.as_deref(), Some("extract(epoch FROM started)::integer"));
        let none = "[[conversion]]\ntable = 't'\ncolumn = 'c'\n";
        let err = Config::parse(Path::new("diff.toml"), none).unwrap().conversions().unwrap_err();
        assert!(err.contains("give `using`"), "{err}");
        let twice = "[[conversion]]\ntable = 't'\ncolumn = 'c'\nusing = 'c'\n[[conversion]]\ntable = 'public.t'\n\
                     column = 'c'\ndown_using = 'c'\n";
        let err = Config::parse(Path::new("diff.toml"), twice).unwrap().conversions().unwrap_err();
        assert!(err.contains("given twice"), "{err}");
        let err = Config::parse(Path::new("diff.toml"), "[[conversion]]\ntable = 't'\ncolumn = 'c'\nuse = 'x'\n")
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `use`"), "{err}");
    }

    #[test]
    fn hazard_policy_parses_and_rejects_unknown_ids() {
        let config =
            Config::parse(Path::new("diff.toml"), "[hazards]\ntable-rewrite = 'deny'\nallow_rewrite_below_rows = 5\n")
                .unwrap();
        assert_eq!(config.hazards.0.allow_rewrite_below_rows, Some(5));
        let err = Config::parse(Path::new("diff.toml"), "[hazards]\nrewrite = 'deny'\n").unwrap_err();
        assert!(err.to_string().contains("unknown hazard id"), "{err}");
    }
}
