//! Collations: created and dropped (a changed one is dropped and created again).

use super::{
    Change,
    keyed::{Sides, keyed},
};
use crate::model::*;

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (_, sides) in keyed(&current.collations, &desired.collations) {
        match sides {
            Sides::Created(want) => out.push(Change::CreateCollation(want.clone())),
            Sides::Both(have, want) if have != want => {
                out.push(Change::DropCollation(have.clone()));
                out.push(Change::CreateCollation(want.clone()));
            }
            Sides::Both(..) => {}
            Sides::Dropped(have) => out.push(Change::DropCollation(have.clone())),
        }
    }
}
