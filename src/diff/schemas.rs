//! Schemas: created, dropped (unless they hold objects the tool does not manage) and commented.

use super::{Change, CommentTarget, comment};
use crate::model::*;

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, schema) in &desired.schemas {
        match current.schemas.get(name) {
            None => {
                out.push(Change::CreateSchema(schema.clone()));
                if schema.comment.is_some() {
                    out.push(comment(CommentTarget::Schema(name.clone()), &schema.comment));
                }
            }
            Some(have) if have.comment != schema.comment => {
                out.push(comment(CommentTarget::Schema(name.clone()), &schema.comment));
            }
            Some(_) => {}
        }
    }
    for (name, schema) in &current.schemas {
        // A schema that holds objects the tool does not manage is left in place with them.
        let holds_unmanaged = current.unmanaged.iter().any(|o| &o.schema == name);
        if !desired.schemas.contains_key(name) && !holds_unmanaged {
            out.push(Change::DropSchema(schema.clone()));
        }
    }
}
