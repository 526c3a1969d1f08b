//! `[hazards]`: per hazard id `"deny" | "warn" | "allow"`, the size threshold, and how plans are
//! rewritten (online forms, expand/contract, timeouts), validated into a [`Policy`].

use crate::policy::{Level, Policy};
use crate::safety::{HazardId, UnknownHazard};

/// The `[hazards]` table of diff.toml: `allow_rewrite_below_rows = N` and `<hazard-id> = "deny" |
/// "warn" | "allow"`. Unknown keys and ids are errors.
pub fn parse_table(table: &toml::Table) -> Result<Policy, String> {
    let mut policy = Policy::default();
    for (key, value) in table {
        let flag = |value: &toml::Value| {
            value.as_bool().ok_or_else(|| format!("[hazards] {key} must be true or false, not {value}"))
        };
        let duration = |value: &toml::Value| {
            let text =
                value.as_str().ok_or_else(|| format!("[hazards] {key} must be a duration like \"2s\", not {value}"))?;
            super::parse_duration(text).map(Some).map_err(|e| format!("[hazards] {key} = {text:?}: {e}"))
        };
        match key.as_str() {
            "safe_rewrites" => {
                policy.rewrite.online = flag(value)?;
                continue;
            }
            "expand_contract" => {
                policy.rewrite.phased = flag(value)?;
                continue;
            }
            "lock_timeout" => {
                policy.rewrite.lock_timeout = duration(value)?;
                continue;
            }
            "statement_timeout" => {
                policy.rewrite.statement_timeout = duration(value)?;
                continue;
            }
            "online_statement_timeout" => {
                policy.rewrite.online_statement_timeout = duration(value)?;
                continue;
            }
            "check_rows_max_rows" => {
                let n = value.as_integer().filter(|n| *n >= 0).ok_or_else(|| {
                    format!("[hazards] check_rows_max_rows must be a non-negative integer, not {value}")
                })?;
                policy.existing_rows.max_rows = n as u64;
                continue;
            }
            "check_rows_timeout" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| format!("[hazards] {key} must be a duration like \"2s\", not {value}"))?;
                let timeout = super::parse_duration(text).map_err(|e| format!("[hazards] {key} = {text:?}: {e}"))?;
                if timeout.is_zero() {
                    return Err(format!("[hazards] {key} must be longer than 0"));
                }
                policy.existing_rows.timeout = timeout;
                continue;
            }
            "backfill_batch_size" => {
                let n = value
                    .as_integer()
                    .filter(|n| (1..=i64::from(u32::MAX)).contains(n))
                    .ok_or_else(|| format!("[hazards] backfill_batch_size must be a positive integer, not {value}"))?;
                policy.rewrite.backfill_batch = n as u32;
                continue;
            }
            _ => {}
        }
        if key == "allow_rewrite_below_rows" {
            let n = value.as_integer().filter(|n| *n >= 0).ok_or_else(|| {
                format!("[hazards] allow_rewrite_below_rows must be a non-negative integer, not {value}")
            })?;
            policy.allow_rewrite_below_rows = Some(n as u64);
            continue;
        }
        let id: HazardId = key.parse().map_err(|e: UnknownHazard| format!("[hazards] {e}"))?;
        let level = match value.as_str() {
            Some("deny") => Level::Deny,
            Some("warn") => Level::Warn,
            Some("allow") => Level::Allow,
            _ => return Err(format!("[hazards] {key} must be \"deny\", \"warn\" or \"allow\", not {value}")),
        };
        policy.levels.insert(id, level);
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::safety::{Hazard, Severity};

    fn rewrite(rows: Option<u64>) -> Hazard {
        let mut h = Hazard::new(HazardId::TableRewrite, Severity::High, "m", "h").rewrites();
        h.rows = rows;
        h
    }

    #[test]
    fn thresholds_allow_small_rewrites_only() {
        let table: toml::Table =
            toml::from_str("allow_rewrite_below_rows = 100\ntable-rewrite = 'deny'\ndata-loss-table = 'deny'").unwrap();
        let policy = parse_table(&table).unwrap();
        assert_eq!(policy.level(&rewrite(Some(10))), Level::Allow);
        assert_eq!(policy.level(&rewrite(Some(1000))), Level::Deny);
        assert_eq!(policy.level(&rewrite(None)), Level::Deny);
        let mut drop = Hazard::new(HazardId::DataLossTable, Severity::High, "m", "h");
        drop.rows = Some(0);
        assert_eq!(policy.level(&drop), Level::Deny, "data loss is never allowed by a threshold");
    }

    #[test]
    fn unknown_ids_and_levels_are_errors() {
        let table: toml::Table = toml::from_str("table-rewrit = 'deny'").unwrap();
        assert!(parse_table(&table).unwrap_err().contains("unknown hazard id \"table-rewrit\""));
        let table: toml::Table = toml::from_str("table-rewrite = 'never'").unwrap();
        assert!(parse_table(&table).is_err());
    }

    #[test]
    fn rewrite_options_parse() {
        let table: toml::Table = toml::from_str(
            "safe_rewrites = false\nexpand_contract = true\nlock_timeout = '2s'\nbackfill_batch_size = 50",
        )
        .unwrap();
        let policy = parse_table(&table).unwrap();
        assert!(!policy.rewrite.online && policy.rewrite.phased);
        assert_eq!(policy.rewrite.lock_timeout, Some(std::time::Duration::from_secs(2)));
        assert_eq!(policy.rewrite.backfill_batch, 50);
        let table: toml::Table = toml::from_str("lock_timeout = '2'").unwrap();
        assert!(parse_table(&table).unwrap_err().contains("lock_timeout"));
        let table: toml::Table = toml::from_str("safe_rewrites = 'yes'").unwrap();
        assert!(parse_table(&table).is_err());
    }
}
