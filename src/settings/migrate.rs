//! `[migrate]`: how `schema migrate` runs migrations, validated into [`runner::Options`].

use super::MigrateConfig;
use crate::model::QualifiedName;
use crate::runner;
use std::time::Duration;

/// The runner's options from `[migrate]`; what is not set keeps [`runner::Options::default`].
pub fn options(config: &MigrateConfig) -> anyhow::Result<runner::Options> {
    let defaults = runner::Options::default();
    let duration = |key: &str, value: &Option<String>| -> anyhow::Result<Option<Duration>> {
        value
            .as_deref()
            .map(|text| parse_duration(text).map_err(|e| anyhow::anyhow!("[migrate] {key} = {text:?}: {e}")))
            .transpose()
    };
    let table = match config.table.as_deref() {
        None => defaults.table.clone(),
        Some(text) if text.is_empty() || text.split('.').any(str::is_empty) => {
            anyhow::bail!("[migrate] table = {text:?}: expected `name` or `schema.name`")
        }
        Some(text) => QualifiedName::parse(text),
    };
    Ok(runner::Options {
        table,
        lock_timeout: duration("lock_timeout", &config.lock_timeout)?,
        statement_timeout: duration("statement_timeout", &config.statement_timeout)?,
        lock_wait: duration("lock_wait", &config.lock_wait)?.unwrap_or(defaults.lock_wait),
        retries: config.retries.unwrap_or(defaults.retries),
        backoff: defaults.backoff,
        search_path: Vec::new(),
    })
}

/// `"500ms"`, `"5s"`, `"2min"`, `"1h"`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| "expected a whole number and a unit, like \"5s\"".to_string())?;
    let millis = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        "" => return Err("the unit is missing (ms, s, min or h)".into()),
        other => return Err(format!("unknown unit {other:?} (expected ms, s, min or h)")),
    };
    Ok(Duration::from_millis(number.saturating_mul(millis)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("5").unwrap_err().contains("unit"));
        assert!(parse_duration("5m").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn options_come_from_the_config() {
        let config = MigrateConfig {
            table: Some("ops.migrations".into()),
            lock_timeout: Some("2s".into()),
            retries: Some(5),
            ..MigrateConfig::default()
        };
        let resolved = options(&config).unwrap();
        assert_eq!(resolved.table, QualifiedName::new("ops", "migrations"));
        assert_eq!(resolved.lock_timeout, Some(Duration::from_secs(2)));
        assert_eq!(resolved.statement_timeout, None);
        assert_eq!(resolved.retries, 5);
        let bad = MigrateConfig { lock_wait: Some("soon".into()), ..MigrateConfig::default() };
        assert!(options(&bad).unwrap_err().to_string().contains("lock_wait"));
        let bad = MigrateConfig { table: Some("a.".into()), ..MigrateConfig::default() };
        assert!(options(&bad).is_err());
    }
}
