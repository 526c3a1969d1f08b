//! Schemas: created, dropped (unless they hold objects the tool does not manage) and commented.

use super::{
    Change, CommentTarget, comment,
    keyed::{Sides, keyed},
};
use crate::model::*;

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.schemas, &desired.schemas) {
        match sides {
            Sides::Created(schema) => {
                out.push(Change::CreateSchema(schema.clone()));
                if schema.comment.is_some() {
                    out.push(comment(CommentTarget::Schema(name.clone()), &schema.comment));
                }
            }
            Sides::Both(have, want) if have.comment != want.comment => {
                out.push(comment(CommentTarget::Schema(name.clone()), &want.comment));
            }
            Sides::Both(..) => {}
            // A schema that holds objects the tool does not manage is left in place with them.
            Sides::Dropped(_) if current.unmanaged.iter().any(|o| &o.schema == name) => {}
            Sides::Dropped(have) => out.push(Change::DropSchema(have.clone())),
        }
    }
}
