//! Range types: created with their options, and dropped.

use super::qualified;
use crate::diff::RangeTypeChange;
use crate::model::*;

pub(super) fn render(change: &RangeTypeChange) -> Vec<String> {
    match change {
        RangeTypeChange::Create(t) => create(t),
        RangeTypeChange::Drop(t) => vec![format!("DROP TYPE {};", qualified(&t.name))],
    }
}

fn create(t: &RangeType) -> Vec<String> {
    let mut options = vec![format!("SUBTYPE = {}", t.subtype)];
    if let Some(opclass) = &t.subtype_opclass {
        options.push(format!("SUBTYPE_OPCLASS = {opclass}"));
    }
    if let Some(collation) = &t.collation {
        options.push(format!("COLLATION = {collation}"));
    }
    if let Some(diff) = &t.subtype_diff {
        options.push(format!("SUBTYPE_DIFF = {diff}"));
    }
    vec![format!("CREATE TYPE {} AS RANGE ({});", qualified(&t.name), options.join(", "))]
}
