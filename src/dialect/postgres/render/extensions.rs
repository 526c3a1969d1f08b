//! Extensions: created in their schema (at a version when one is declared), dropped, moved to another
//! schema, and updated to another version when the server can reach it.

use super::{ident, literal};
use crate::diff::ExtensionChange;
use crate::model::*;

pub(super) fn render(change: &ExtensionChange) -> Vec<String> {
    match change {
        ExtensionChange::Create(x) => create(x),
        ExtensionChange::Drop(x) => vec![format!("DROP EXTENSION {};", ident(&x.name))],
        ExtensionChange::SetSchema { name, to, .. } => {
            vec![format!("ALTER EXTENSION {} SET SCHEMA {};", ident(name), ident(to))]
        }
        ExtensionChange::AlterVersion { name, to, reachable, .. } => alter_version(name, to, *reachable),
    }
}

fn create(x: &Extension) -> Vec<String> {
    let version = x.version.as_ref().map(|v| format!(" VERSION {}", literal(v))).unwrap_or_default();
    vec![format!("CREATE EXTENSION {} WITH SCHEMA {}{version};", ident(&x.name), ident(&x.schema))]
}

fn alter_version(name: &str, to: &str, reachable: bool) -> Vec<String> {
    if reachable {
        vec![format!("ALTER EXTENSION {} UPDATE TO {};", ident(name), literal(to))]
    } else {
        // Nothing can be run: the step stays in the plan for its hazard, `extension-version-kept`.
        Vec::new()
    }
}
