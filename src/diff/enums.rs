//! Enum types: labels added in place where PostgreSQL allows it, the type rebuilt otherwise (its
//! columns converted through text).

use super::order::{Effects, Key, Rank};
use super::{
    Change, CommentTarget, KindChange, comment,
    inheritance::columns_inherited,
    keyed::{Sides, keyed},
};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// An enum type created, dropped, given a value, or rebuilt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum EnumChange {
    #[serde(rename = "CreateEnum")]
    Create(EnumType),
    #[serde(rename = "DropEnum")]
    Drop(EnumType),
    #[serde(rename = "AddEnumValue")]
    AddValue { name: QualifiedName, value: String, position: EnumValuePosition },
    /// Labels were removed or reordered, which `ALTER TYPE` cannot do: build the new type, convert the
    /// columns that use it, drop the old one.
    #[serde(rename = "RebuildEnum")]
    Rebuild { from: EnumType, to: EnumType, columns: Vec<EnumColumnUse> },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum EnumValuePosition {
    Before(String),
    After(String),
}

/// A column whose type is an enum being rebuilt: converted through text, its default reset afterwards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnumColumnUse {
    pub column: ColumnRef,
    pub data_type: Name,
    /// Whether the column has a default now (it must be dropped before the conversion).
    pub had_default: bool,
    pub default: Option<String>,
}

impl KindChange for EnumChange {
    fn describe(&self) -> String {
        match self {
            EnumChange::Create(e) => format!("create type {}", e.name),
            EnumChange::Drop(e) => format!("drop type {}", e.name),
            EnumChange::AddValue { name, value, .. } => format!("add value '{value}' to type {name}"),
            EnumChange::Rebuild { to, .. } => format!("rebuild type {} (values removed or reordered)", to.name),
        }
    }

    fn slug(&self) -> String {
        match self {
            EnumChange::Create(e) => format!("create_{}", e.name.name),
            EnumChange::AddValue { name, .. } | EnumChange::Rebuild { to: EnumType { name, .. }, .. } => {
                format!("alter_{}", name.name)
            }
            EnumChange::Drop(_) => self.describe().replace(' ', "_"),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            EnumChange::Create(t) => {
                e.provides.push(Key::Type(&t.name));
                e.needs.push(Key::Schema(&t.name.schema));
            }
            EnumChange::Drop(t) => {
                e.removes.push(Key::Type(&t.name));
                e.held.push(Key::Schema(&t.name.schema));
            }
            EnumChange::AddValue { name, .. } => e.provides.push(Key::Type(name)),
            EnumChange::Rebuild { to, columns, .. } => {
                // The type is replaced in place and the columns using it are converted by this change
                // itself; what uses the old type or reads those columns (views, functions) must go first and
                // come back after.
                e.provides.push(Key::Type(&to.name));
                e.removes.push(Key::Type(&to.name));
                for use_ in columns {
                    let key = Key::Column(&use_.column.table, &use_.column.column);
                    e.provides.push(key.clone());
                    e.removes.push(key);
                }
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            EnumChange::Drop(_) => Rank::DropTypes,
            EnumChange::Create(_) | EnumChange::AddValue { .. } | EnumChange::Rebuild { .. } => Rank::CreateTypes,
        }
    }

    fn disturbs(&self, objects: &mut IndexSet<ObjectRef>) {
        match self {
            EnumChange::Rebuild { from, columns, .. } => {
                objects.insert(ObjectRef::Type(from.name.clone()));
                objects.extend(columns.iter().map(|use_| ObjectRef::Column(use_.column.clone())));
            }
            EnumChange::Drop(e) => {
                objects.insert(ObjectRef::Type(e.name.clone()));
            }
            EnumChange::Create(_) | EnumChange::AddValue { .. } => {}
        }
    }
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, sides) in keyed(&current.enums, &desired.enums) {
        let (have, want) = match sides {
            Sides::Created(want) => {
                out.push(Change::Enum(EnumChange::Create(want.clone())));
                if want.comment.is_some() {
                    out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
                }
                continue;
            }
            Sides::Both(have, want) => (have, want),
            Sides::Dropped(have) => {
                out.push(Change::Enum(EnumChange::Drop(have.clone())));
                continue;
            }
        };
        let mut rebuilt = false;
        if have.labels != want.labels {
            match enum_additions(&have.labels, &want.labels) {
                Some(additions) => out.extend(additions.into_iter().map(|(value, position)| {
                    Change::Enum(EnumChange::AddValue { name: name.clone(), value, position })
                })),
                None => {
                    rebuilt = true;
                    out.push(Change::Enum(EnumChange::Rebuild {
                        from: have.clone(),
                        to: want.clone(),
                        columns: enum_column_uses(current, desired, name),
                    }))
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
