//! Policy: what to do about each hazard (deny, warn, allow), from `[hazards]` in diff.toml, the
//! `--allow-hazard` flag and `schema apply --allow-destructive`.

use super::{Hazard, HazardId};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }
}

/// The resolved policy. Hazards without a configured level are warnings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    pub levels: IndexMap<HazardId, Level>,
    /// Hazards whose cost grows with the table's size (rewrites, scans, NOT NULL without default) are
    /// allowed on tables whose live row estimate is below this.
    pub allow_rewrite_below_rows: Option<u64>,
    /// How plans are rewritten: online forms, expand/contract, timeouts (`safe_rewrites`,
    /// `expand_contract`, `lock_timeout`, `statement_timeout`, `online_statement_timeout`,
    /// `backfill_batch_size`).
    pub rewrite: super::rewrite::Options,
}

impl Policy {
    /// The level of one hazard, thresholds applied.
    pub fn level(&self, hazard: &Hazard) -> Level {
        let configured = self.levels.get(&hazard.id).copied().unwrap_or(Level::Warn);
        if configured != Level::Allow
            && !hazard.id.is_data_loss()
            && hazard.grows_with_size()
            && let (Some(limit), Some(rows)) = (self.allow_rewrite_below_rows, hazard.rows)
            && rows < limit
        {
            return Level::Allow;
        }
        configured
    }

    /// Allows these ids whatever the configuration says (`--allow-hazard`).
    pub fn allow(&mut self, ids: &[HazardId]) {
        for id in ids {
            self.levels.insert(*id, Level::Allow);
        }
    }

    /// Denies these ids unless they are explicitly allowed (how `schema apply` treats data loss).
    pub fn deny_unless_allowed(&mut self, ids: impl IntoIterator<Item = HazardId>) {
        for id in ids {
            let level = self.levels.entry(id).or_insert(Level::Deny);
            if *level == Level::Warn {
                *level = Level::Deny;
            }
        }
    }

    /// The hazards that this policy denies.
    pub fn denied<'a>(&self, hazards: impl IntoIterator<Item = &'a Hazard>) -> Vec<&'a Hazard> {
        hazards.into_iter().filter(|h| self.level(h) == Level::Deny).collect()
    }
}

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
            crate::runner::parse_duration(text).map(Some).map_err(|e| format!("[hazards] {key} = {text:?}: {e}"))
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
        let id: HazardId = key.parse().map_err(|e: super::UnknownHazard| format!("[hazards] {e}"))?;
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
    use crate::safety::Severity;

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
