//! Policy: what to do about each hazard (deny, warn, allow), from `[hazards]` in diff.toml, the
//! `--allow-hazard` flag and `schema apply --allow-destructive`.

use crate::safety::{Hazard, HazardId};
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

/// The resolved policy. Hazards without a configured level take their [`default_level`].
/// The level of an id that `[hazards]` does not name: a warning, except for the ids that say the
/// migration would fail on the live rows or lose a column's values to a drop + add that looks like an
/// undeclared rename; those stop `generate` until the data is fixed or the id is allowed.
pub fn default_level(id: HazardId) -> Level {
    match id {
        HazardId::ExistingRowsViolate | HazardId::ProbableRename => Level::Deny,
        _ => Level::Warn,
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    pub levels: IndexMap<HazardId, Level>,
    /// Hazards whose cost grows with the table's size (rewrites, scans, NOT NULL without default) are
    /// allowed on tables whose live row estimate is below this.
    pub allow_rewrite_below_rows: Option<u64>,
    /// How plans are rewritten: online forms, expand/contract, timeouts (`safe_rewrites`,
    /// `expand_contract`, `lock_timeout`, `statement_timeout`, `online_statement_timeout`,
    /// `backfill_batch_size`).
    pub rewrite: crate::rewrite::Options,
    /// How far the live rows are read to find those that would make a change fail
    /// (`check_rows_max_rows`, `check_rows_timeout`).
    pub existing_rows: crate::safety::existing_rows::Limits,
}

impl Policy {
    /// The level of one hazard, thresholds applied.
    pub fn level(&self, hazard: &Hazard) -> Level {
        let configured = self.levels.get(&hazard.id).copied().unwrap_or_else(|| default_level(hazard.id));
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
