//! Range types: created with their options, and dropped.

use super::qualified;
use crate::model::*;

pub(super) fn create(t: &RangeType) -> Vec<String> {
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

pub(super) fn drop(t: &RangeType) -> Vec<String> {
    vec![format!("DROP TYPE {};", qualified(&t.name))]
}
