//! Triggers: created from PostgreSQL's own definition (`pg_get_triggerdef`), then disabled or enabled for
//! replication when they are, and dropped.

use super::{ident, qualified};
use crate::diff::TriggerChange;
use crate::model::*;

pub(super) fn render(change: &TriggerChange) -> Vec<String> {
    match change {
        TriggerChange::Create(t) => create(t),
        TriggerChange::Drop(t) => vec![format!("DROP TRIGGER {} ON {};", ident(&t.name.name), qualified(&t.table))],
    }
}

fn create(t: &Trigger) -> Vec<String> {
    let mut sql = vec![format!("{};", t.definition)];
    if let Some(enabled) = &t.enabled {
        sql.push(format!("ALTER TABLE {} {enabled} TRIGGER {};", qualified(&t.table), ident(&t.name.name)));
    }
    sql
}
