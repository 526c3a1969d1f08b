//! Enum types: labels added in place where PostgreSQL allows it, the type rebuilt otherwise (its
//! columns converted through text).

use super::{
    Change, CommentTarget, EnumColumnUse, EnumValuePosition, comment,
    inheritance::columns_inherited,
    keyed::{Sides, keyed},
};
use crate::model::*;

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.enums, &desired.enums) {
        let (have, want) = match sides {
            Sides::Created(want) => {
                out.push(Change::CreateEnum(want.clone()));
                if want.comment.is_some() {
                    out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
                }
                continue;
            }
            Sides::Both(have, want) => (have, want),
            Sides::Dropped(have) => {
                out.push(Change::DropEnum(have.clone()));
                continue;
            }
        };
        let mut rebuilt = false;
        if have.labels != want.labels {
            match enum_additions(&have.labels, &want.labels) {
                Some(additions) => out.extend(additions.into_iter().map(|(value, position)| Change::AddEnumValue {
                    name: name.clone(),
                    value,
                    position,
                })),
                None => {
                    rebuilt = true;
                    out.push(Change::RebuildEnum {
                        from: have.clone(),
                        to: want.clone(),
                        columns: enum_column_uses(current, desired, name),
                    })
                }
            }
        }
        // A rebuilt type is a new object: its comment is set again.
        if have.comment != want.comment || (rebuilt && want.comment.is_some()) {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
}

/// If `want` only adds labels to `have` (keeping the existing ones in order), the values to add and
/// where, in an order in which each position refers to a label that exists by then.
fn enum_additions(have: &[String], want: &[String]) -> Option<Vec<(String, EnumValuePosition)>> {
    let kept: Vec<&String> = want.iter().filter(|label| have.contains(label)).collect();
    if kept.len() != have.len() || kept.iter().zip(have).any(|(a, b)| *a != b) {
        return None;
    }
    let first_existing = have.first();
    let mut additions = Vec::new();
    for (i, label) in want.iter().enumerate() {
        if have.contains(label) {
            continue;
        }
        let position = if i > 0 {
            EnumValuePosition::After(want[i - 1].clone())
        } else {
            EnumValuePosition::Before(first_existing?.clone())
        };
        additions.push((label.clone(), position));
    }
    Some(additions)
}

/// The columns of tables present on both sides that use the enum (or an array of it) in the desired state.
fn enum_column_uses(current: &Catalog, desired: &Catalog, name: &QualifiedName) -> Vec<EnumColumnUse> {
    let mut uses = Vec::new();
    for (table_name, table) in &desired.tables {
        let Some(have_table) = current.tables.get(table_name) else {
            continue;
        };
        // A partition's columns are converted (and their defaults dropped and set) through its parent.
        if columns_inherited(have_table, table) {
            continue;
        }
        for column in table.columns.values() {
            let uses_type = column.depends_on.contains(&ObjectRef::Type(name.clone()));
            if let Some(have_column) = have_table.columns.get(&column.name)
                && uses_type
            {
                uses.push(EnumColumnUse {
                    column: ColumnRef { table: table_name.clone(), column: column.name.clone() },
                    data_type: column.data_type.clone(),
                    had_default: have_column.default.is_some(),
                    default: column.default.as_deref().map(String::from),
                });
            }
        }
    }
    uses
}
