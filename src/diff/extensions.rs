//! Extensions: created, dropped, moved to another schema, updated to the declared version.

use super::{
    Change, CommentTarget, comment,
    keyed::{Sides, keyed},
};
use crate::model::*;

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.extensions, &desired.extensions) {
        match sides {
            Sides::Created(ext) => {
                out.push(Change::CreateExtension(ext.clone()));
                if ext.comment.is_some() {
                    out.push(comment(CommentTarget::Extension(name.clone()), &ext.comment));
                }
            }
            // Moved in place when it can be: dropped, what uses it would go too (or block the drop).
            Sides::Both(have, ext) if have.schema != ext.schema && have.relocatable => {
                out.push(Change::SetExtensionSchema {
                    name: name.clone(),
                    from: have.schema.clone(),
                    to: ext.schema.clone(),
                });
                out.extend(extension_version_change(have, ext));
                if have.comment != ext.comment {
                    out.push(comment(CommentTarget::Extension(name.clone()), &ext.comment));
                }
            }
            Sides::Both(have, ext) if have.schema != ext.schema => {
                out.push(Change::DropExtension(have.clone()));
                out.push(Change::CreateExtension(ext.clone()));
                if ext.comment.is_some() {
                    out.push(comment(CommentTarget::Extension(name.clone()), &ext.comment));
                }
            }
            Sides::Both(have, ext) => {
                out.extend(extension_version_change(have, ext));
                if have.comment != ext.comment {
                    out.push(comment(CommentTarget::Extension(name.clone()), &ext.comment));
                }
            }
            Sides::Dropped(have) => out.push(Change::DropExtension(have.clone())),
        }
    }
}

/// The version is compared only when both sides know one: the declared side knows it only when it pins
/// one, and a down migration must not pin what the up left alone.
pub(super) fn extension_version_change(have: &Extension, want: &Extension) -> Option<Change> {
    let (from, to) = (have.version.as_ref()?, want.version.as_ref()?);
    (from != to).then(|| Change::AlterExtensionVersion {
        name: want.name.clone(),
        from: Some(from.clone()),
        to: to.clone(),
        reachable: have.update_targets.contains(to),
    })
}
