//! Comments: the SQL that changes them. Nothing is read here: comments come with the objects they describe,
//! in those kinds' queries.
//!
//! Render: comments (`COMMENT ON`) on every kind of object that has one, and an extension's own comment put
//! back.
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use super::columns::column_ref;
use super::functions::function_name;
use super::views::view_keyword;
use crate::dialect::postgres::locks::SHARE_UPDATE_EXCLUSIVE;
use crate::dialect::postgres::render::{ident, literal, locking, qualified, taking};
use crate::diff::{CommentChange, CommentTarget};
use crate::plan::Statement;

// ------------------------------------------------------------------------------------------------
// Render.

/// A comment on a table, a column, a view or a sequence takes SHARE UPDATE EXCLUSIVE on the relation
/// (reads and writes go on); one on any other object locks no relation.
pub(crate) fn render(change: &CommentChange) -> Vec<Statement> {
    match change {
        CommentChange::Set { target, comment } => {
            let relation = match target {
                CommentTarget::Table(n) | CommentTarget::Sequence(n) | CommentTarget::View { name: n, .. } => Some(n),
                CommentTarget::Column(c) => Some(&c.table),
                CommentTarget::Schema(_)
                | CommentTarget::Extension(_)
                | CommentTarget::Type(_)
                | CommentTarget::Constraint { .. }
                | CommentTarget::Index(_)
                | CommentTarget::Function(_)
                | CommentTarget::Trigger { .. }
                | CommentTarget::Policy { .. } => None,
            };
            let sql = set(target, comment.as_deref());
            match relation {
                Some(relation) => taking(sql, SHARE_UPDATE_EXCLUSIVE, relation),
                None => locking(sql),
            }
        }
    }
}

fn set(target: &CommentTarget, comment: Option<&str>) -> Vec<String> {
    // An extension's own comment (the model's "none") is read from the server when the migration runs.
    if let (CommentTarget::Extension(x), None) = (target, comment) {
        return vec![format!(
            "DO $schema_comment$\nBEGIN\n    EXECUTE format('COMMENT ON EXTENSION %I IS %L', {name}, (SELECT comment FROM \
             pg_catalog.pg_available_extensions WHERE name = {name}));\nEND\n$schema_comment$;",
            name = literal(x)
        )];
    }
    let object = match target {
        CommentTarget::Schema(s) => format!("SCHEMA {}", ident(s)),
        CommentTarget::Extension(x) => format!("EXTENSION {}", ident(x)),
        CommentTarget::Type(n) => format!("TYPE {}", qualified(n)),
        CommentTarget::Sequence(n) => format!("SEQUENCE {}", qualified(n)),
        CommentTarget::Table(n) => format!("TABLE {}", qualified(n)),
        CommentTarget::Column(c) => format!("COLUMN {}", column_ref(c)),
        CommentTarget::Constraint { table, name } => format!("CONSTRAINT {} ON {}", ident(name), qualified(table)),
        CommentTarget::Index(n) => format!("INDEX {}", qualified(n)),
        CommentTarget::View { name, materialized } => format!("{} {}", view_keyword(*materialized), qualified(name)),
        // ROUTINE names functions and procedures alike (COMMENT ON FUNCTION refuses a procedure).
        CommentTarget::Function(id) => format!("ROUTINE {}", function_name(id)),
        CommentTarget::Trigger { table, name } => format!("TRIGGER {} ON {}", ident(name), qualified(table)),
        CommentTarget::Policy { table, name } => format!("POLICY {} ON {}", ident(name), qualified(table)),
    };
    let text = comment.map(literal).unwrap_or_else(|| "NULL".to_string());
    vec![format!("COMMENT ON {object} IS {text};")]
}
