//! Collations: created and dropped (a changed one is dropped and created again).

use super::Change;
use crate::model::*;

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, want) in &desired.collations {
        match current.collations.get(name) {
            None => out.push(Change::CreateCollation(want.clone())),
            Some(have) if have != want => {
                out.push(Change::DropCollation(have.clone()));
                out.push(Change::CreateCollation(want.clone()));
            }
            Some(_) => {}
        }
    }
    for (name, have) in &current.collations {
        if !desired.collations.contains_key(name) {
            out.push(Change::DropCollation(have.clone()));
        }
    }
}
