//! Extensions: created, dropped, moved to another schema, updated to the declared version.

use super::order::{Effects, Key, Rank};
use super::{
    Change, CommentTarget, KindChange, comment,
    keyed::{Sides, keyed},
};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// An extension created, dropped, moved or updated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExtensionChange {
    #[serde(rename = "CreateExtension")]
    Create(Extension),
    #[serde(rename = "DropExtension")]
    Drop(Extension),
    /// `ALTER EXTENSION … SET SCHEMA`: a relocatable extension's objects move, and what uses them stays.
    #[serde(rename = "SetExtensionSchema")]
    SetSchema { name: String, from: String, to: String },
    #[serde(rename = "AlterExtensionVersion")]
    AlterVersion {
        name: String,
        from: Option<String>,
        to: String,
        /// Whether `ALTER EXTENSION … UPDATE` reaches `to` from `from` on the server. An update never goes
        /// back to an older version unless the extension ships a script for it: a down migration that
        /// cannot is left at `from`, and says so (hazard `extension-version-kept`); an up is refused.
        reachable: bool,
    },
}

impl KindChange for ExtensionChange {
    fn describe(&self) -> String {
        match self {
            ExtensionChange::Create(e) => format!("create extension {}", e.name),
            ExtensionChange::Drop(e) => format!("drop extension {}", e.name),
            ExtensionChange::SetSchema { name, to, .. } => format!("move extension {name} to schema {to}"),
            ExtensionChange::AlterVersion { name, to, reachable: true, .. } => {
                format!("update extension {name} to version {to}")
            }
            ExtensionChange::AlterVersion { name, from, to, reachable: false } => format!(
                "keep extension {name} at version {} (no update path to version {to})",
                from.as_deref().unwrap_or("?")
            ),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            ExtensionChange::Create(x) => {
                e.provides.push(Key::Extension(&x.name));
                e.needs.push(Key::Schema(&x.schema));
            }
            ExtensionChange::Drop(x) => {
                e.removes.push(Key::Extension(&x.name));
                e.held.push(Key::Schema(&x.schema));
            }
            ExtensionChange::AlterVersion { name, .. } => e.provides.push(Key::Extension(name)),
            ExtensionChange::SetSchema { name, from, to } => {
                e.provides.push(Key::Extension(name));
                e.needs.push(Key::Schema(to));
                e.held.push(Key::Schema(from));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            ExtensionChange::Drop(_) => Rank::DropExtensionsAndCollations,
            ExtensionChange::Create(_) | ExtensionChange::SetSchema { .. } | ExtensionChange::AlterVersion { .. } => {
                Rank::CreateExtensionsAndCollations
            }
        }
    }

    /// Nothing the dependants' differs look at: what uses an extension's objects names them (types,
    /// functions), and their changes are their own.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.extensions, &desired.extensions) {
        match sides {
            Sides::Created(ext) => {
                out.push(Change::Extension(ExtensionChange::Create(ext.clone())));
                if ext.comment.is_some() {
                    out.push(comment(CommentTarget::Extension(name.clone()), &ext.comment));
                }
            }
            // Moved in place when it can be: dropped, what uses it would go too (or block the drop).
            Sides::Both(have, ext) if have.schema != ext.schema && have.relocatable => {
                out.push(Change::Extension(ExtensionChange::SetSchema {
                    name: name.clone(),
                    from: have.schema.clone(),
                    to: ext.schema.clone(),
                }));
                out.extend(extension_version_change(have, ext));
                if have.comment != ext.comment {
                    out.push(comment(CommentTarget::Extension(name.clone()), &ext.comment));
                }
            }
            Sides::Both(have, ext) if have.schema != ext.schema => {
                out.push(Change::Extension(ExtensionChange::Drop(have.clone())));
                out.push(Change::Extension(ExtensionChange::Create(ext.clone())));
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
            Sides::Dropped(have) => out.push(Change::Extension(ExtensionChange::Drop(have.clone()))),
        }
    }
}

/// The version is compared only when both sides know one: the declared side knows it only when it pins
/// one, and a down migration must not pin what the up left alone.
pub(super) fn extension_version_change(have: &Extension, want: &Extension) -> Option<Change> {
    let (from, to) = (have.version.as_ref()?, want.version.as_ref()?);
    (from != to).then(|| {
        Change::Extension(ExtensionChange::AlterVersion {
            name: want.name.clone(),
            from: Some(from.clone()),
            to: to.clone(),
            reachable: have.update_targets.contains(to),
        })
    })
}
