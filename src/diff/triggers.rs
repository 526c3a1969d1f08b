//! Triggers: created, dropped, and recreated around changes to their table or function.

use super::{Change, CommentTarget, comment, disturbed::Disturbed};
use crate::model::*;
use indexmap::IndexSet;

pub(super) fn diff(
    current: &Catalog,
    desired: &Catalog,
    recreated_relations: &IndexSet<QualifiedName>,
    dropped_functions: &IndexSet<FunctionId>,
    disturbed: &Disturbed,
    out: &mut Vec<Change>,
) {
    let same = |a: &Trigger, b: &Trigger| {
        a.name == b.name
            && a.table == b.table
            && a.definition == b.definition
            && a.enabled == b.enabled
            && a.depends_on == b.depends_on
    };
    let mut recreate: IndexSet<&QualifiedName> = IndexSet::new();
    for (key, have) in &current.triggers {
        let keep = desired.triggers.get(key).is_some_and(|want| same(have, want))
            && !recreated_relations.contains(&have.table)
            && !disturbed.touches(&have.depends_on, dropped_functions, recreated_relations);
        if !keep {
            recreate.insert(key);
            out.push(Change::DropTrigger(have.clone()));
        }
    }
    for (key, want) in &desired.triggers {
        let have = current.triggers.get(key);
        if have.is_none() || recreate.contains(key) {
            out.push(Change::CreateTrigger(want.clone()));
        }
        let old_comment = have.filter(|_| !recreate.contains(key)).and_then(|t| t.comment.as_ref());
        if old_comment != want.comment.as_ref() {
            let target = CommentTarget::Trigger { table: want.table.clone(), name: want.name.name.to_string() };
            out.push(comment(target, &want.comment));
        }
    }
}
