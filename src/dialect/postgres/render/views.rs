//! Views and materialized views: created (with their options) and dropped. The query is PostgreSQL's own
//! (`pg_get_viewdef`).

use super::qualified;
use super::tables::parameters;
use crate::model::*;

pub(super) fn create(v: &View) -> Vec<String> {
    let options = if v.options.is_empty() { String::new() } else { format!(" WITH ({})", parameters(&v.options)) };
    vec![format!("CREATE {} {}{options} AS\n{};", view_keyword(v.materialized), qualified(&v.name), v.definition)]
}

pub(super) fn drop(v: &View) -> Vec<String> {
    vec![format!("DROP {} {};", view_keyword(v.materialized), qualified(&v.name))]
}

pub(super) fn view_keyword(materialized: bool) -> &'static str {
    if materialized { "MATERIALIZED VIEW" } else { "VIEW" }
}
