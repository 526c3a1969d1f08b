//! Extensions: created in their schema (at a version when one is declared), dropped, moved to another
//! schema, and updated to another version when the server can reach it.

use super::{ident, literal};
use crate::model::*;

pub(super) fn create(x: &Extension) -> Vec<String> {
    let version = x.version.as_ref().map(|v| format!(" VERSION {}", literal(v))).unwrap_or_default();
    vec![format!("CREATE EXTENSION {} WITH SCHEMA {}{version};", ident(&x.name), ident(&x.schema))]
}

pub(super) fn drop(x: &Extension) -> Vec<String> {
    vec![format!("DROP EXTENSION {};", ident(&x.name))]
}

pub(super) fn set_schema(name: &str, to: &str) -> Vec<String> {
    vec![format!("ALTER EXTENSION {} SET SCHEMA {};", ident(name), ident(to))]
}

pub(super) fn alter_version(name: &str, to: &str, reachable: bool) -> Vec<String> {
    if reachable {
        vec![format!("ALTER EXTENSION {} UPDATE TO {};", ident(name), literal(to))]
    } else {
        // Nothing can be run: the step stays in the plan for its hazard, `extension-version-kept`.
        Vec::new()
    }
}
