//! Schemas: created and dropped.

use super::ident;
use crate::model::*;

pub(super) fn create(s: &Namespace) -> Vec<String> {
    vec![format!("CREATE SCHEMA {};", ident(&s.name))]
}

pub(super) fn drop(s: &Namespace) -> Vec<String> {
    vec![format!("DROP SCHEMA {};", ident(&s.name))]
}
