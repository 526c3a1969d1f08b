//! Collations: created with their provider and locales, and dropped.

use super::{literal, qualified};
use crate::diff::CollationChange;
use crate::model::*;

pub(super) fn render(change: &CollationChange) -> Vec<String> {
    match change {
        CollationChange::Create(c) => vec![create_collation(c)],
        CollationChange::Drop(c) => vec![format!("DROP COLLATION {};", qualified(&c.name))],
    }
}

fn create_collation(c: &Collation) -> String {
    let mut options = vec![format!("PROVIDER = {}", c.provider)];
    if let Some(locale) = &c.locale {
        options.push(format!("LOCALE = {}", literal(locale)));
    }
    if let Some(lc) = &c.lc_collate {
        options.push(format!("LC_COLLATE = {}", literal(lc)));
    }
    if let Some(lc) = &c.lc_ctype {
        options.push(format!("LC_CTYPE = {}", literal(lc)));
    }
    if !c.deterministic {
        options.push("DETERMINISTIC = false".to_string());
    }
    format!("CREATE COLLATION {} ({});", qualified(&c.name), options.join(", "))
}
