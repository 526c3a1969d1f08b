//! Views and materialized views: created (with their options) and dropped. The query is PostgreSQL's own
//! (`pg_get_viewdef`).

use super::qualified;
use super::tables::parameters;
use crate::diff::ViewChange;
use crate::model::*;

pub(super) fn render(change: &ViewChange) -> Vec<String> {
    match change {
        ViewChange::Create(v) => create(v),
        ViewChange::Drop(v) => vec![format!("DROP {} {};", view_keyword(v.materialized), qualified(&v.name))],
    }
}

fn create(v: &View) -> Vec<String> {
    let options = if v.options.is_empty() { String::new() } else { format!(" WITH ({})", parameters(&v.options)) };
    vec![format!("CREATE {} {}{options} AS\n{};", view_keyword(v.materialized), qualified(&v.name), v.definition)]
}

pub(super) fn view_keyword(materialized: bool) -> &'static str {
    if materialized { "MATERIALIZED VIEW" } else { "VIEW" }
}
