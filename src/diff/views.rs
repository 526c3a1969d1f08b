//! Views and materialized views: recreated when their query changes or when what they read changes
//! under them, together with the views that read them.

use super::TableChange;
use super::order::{Effects, Key, Rank, column_keys, ref_key, relation_name};
use super::{Change, CommentTarget, KindChange, comment, disturbed::Disturbed, view_word};
use crate::model::*;
use indexmap::{IndexMap, IndexSet};
use serde::Serialize;

/// A view or materialized view created or dropped (a changed one is dropped and created again; its
/// options change in place, as a table's storage parameters do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ViewChange {
    #[serde(rename = "CreateView")]
    Create(View),
    #[serde(rename = "DropView")]
    Drop(View),
}

impl KindChange for ViewChange {
    fn describe(&self) -> String {
        match self {
            ViewChange::Create(v) => format!("create {} {}", view_word(v.materialized), v.name),
            ViewChange::Drop(v) => format!("drop {} {}", view_word(v.materialized), v.name),
        }
    }

    fn slug(&self) -> String {
        match self {
            ViewChange::Create(v) => format!("create_{}", v.name.name),
            ViewChange::Drop(v) => format!("drop_{}", v.name.name),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            ViewChange::Create(v) => {
                e.provides.push(Key::Relation(&v.name));
                e.provides.push(Key::Type(&v.name));
                e.provides.push(relation_name(&v.name));
                e.provides.extend(column_keys(&v.name, &v.columns));
                e.needs.push(Key::Schema(&v.name.schema));
                e.needs.extend(v.depends_on.iter().map(ref_key));
                // A materialized view is filled when it is created.
                if v.materialized {
                    e.needs.extend(v.depends_on.iter().filter_map(|d| match d {
                        ObjectRef::Relation(n) => Some(Key::Rows(n)),
                        ObjectRef::Column(c) => Some(Key::Rows(&c.table)),
                        _ => None,
                    }));
                }
            }
            ViewChange::Drop(v) => {
                e.removes.push(Key::Relation(&v.name));
                e.removes.push(Key::Type(&v.name));
                e.removes.push(relation_name(&v.name));
                e.removes.extend(column_keys(&v.name, &v.columns));
                e.held.push(Key::Schema(&v.name.schema));
                e.held.extend(v.depends_on.iter().map(ref_key));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            ViewChange::Drop(_) => Rank::ReleaseDependants,
            ViewChange::Create(_) => Rank::CreateViews,
        }
    }

    /// Nothing: the views that read a recreated view are found by the differs themselves
    /// ([`Disturbed::touches`] is given the recreated views).
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

/// The views that are dropped and created again: changed ones, and those that read what the plan
/// disturbs, a function dropped, or another view recreated.
pub(super) fn views_to_recreate(
    current: &Catalog,
    desired: &Catalog,
    disturbed: &Disturbed,
    dropped_functions: &IndexSet<FunctionId>,
) -> IndexSet<QualifiedName> {
    let mut recreate: IndexSet<QualifiedName> = IndexSet::new();
    loop {
        let before = recreate.len();
        for (name, have) in &current.views {
            if recreate.contains(name) {
                continue;
            }
            let changed = desired.views.get(name).is_none_or(|want| {
                want.definition != have.definition
                    || want.materialized != have.materialized
                    || want.columns != have.columns
            });
            if changed || disturbed.touches(&have.depends_on, dropped_functions, &recreate) {
                recreate.insert(name.clone());
            }
        }
        if recreate.len() == before {
            break;
        }
    }
    recreate
}

/// Decides which views are dropped and created. A view is recreated when its definition changes or
/// when something it reads changes in a way the database refuses under a view (a column type change,
/// a dropped column or relation), and so are the views that read a recreated view. Returns the set of
/// relations that are recreated (their indexes must be recreated too).
pub(super) fn diff(
    current: &Catalog,
    desired: &Catalog,
    changes: &[Change],
    out: &mut Vec<Change>,
) -> IndexSet<QualifiedName> {
    let recreate = views_to_recreate(current, desired, &Disturbed::by(changes), &IndexSet::new());
    for name in &recreate {
        out.push(Change::View(ViewChange::Drop(current.views[name].clone())));
    }
    for (name, want) in &desired.views {
        let have = current.views.get(name);
        let kept = have.filter(|_| !recreate.contains(name));
        match kept {
            None => out.push(Change::View(ViewChange::Create(want.clone()))),
            // Options change in place (`ALTER … SET (…)`, `RESET (…)`), as a table's storage parameters do.
            Some(have) if have.options != want.options => out.push(Change::Table(TableChange::SetStorageParameters {
                table: name.clone(),
                from: have.options.clone(),
                to: want.options.clone(),
            })),
            Some(_) => {}
        }
        if kept.and_then(|h| h.comment.as_ref()) != want.comment.as_ref() {
            out.push(comment(
                CommentTarget::View { name: name.clone(), materialized: want.materialized },
                &want.comment,
            ));
        }
        let no_comments = IndexMap::new();
        let had = kept.map_or(&no_comments, |h| &h.column_comments);
        let column = |c: &String| CommentTarget::Column(ColumnRef { table: name.clone(), column: c.into() });
        for (c, text) in &want.column_comments {
            if had.get(c) != Some(text) {
                out.push(comment(column(c), &Some(text.clone())));
            }
        }
        for c in had.keys().filter(|c| !want.column_comments.contains_key(*c) && want.columns.contains(c)) {
            out.push(comment(column(c), &None));
        }
    }
    recreate
}
