//! Triggers: created, dropped, and recreated around changes to their table or function.

use super::order::{Effects, Key, Rank, ref_key};
use super::{Change, CommentTarget, KindChange, comment, disturbed::Disturbed};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A trigger created or dropped (a changed trigger is dropped and created again).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TriggerChange {
    #[serde(rename = "CreateTrigger")]
    Create(Trigger),
    #[serde(rename = "DropTrigger")]
    Drop(Trigger),
}

impl KindChange for TriggerChange {
    fn describe(&self) -> String {
        match self {
            TriggerChange::Create(t) => format!("create trigger {} on {}", t.name.name, t.table),
            TriggerChange::Drop(t) => format!("drop trigger {} on {}", t.name.name, t.table),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            TriggerChange::Create(t) => {
                e.provides.push(Key::Trigger(&t.table, &t.name.name));
                e.needs.push(Key::Relation(&t.table));
                e.needs.push(Key::Rows(&t.table));
                e.needs.extend(t.depends_on.iter().map(ref_key));
            }
            TriggerChange::Drop(t) => {
                e.removes.push(Key::Trigger(&t.table, &t.name.name));
                e.needs.push(Key::Aside(&t.table));
                // It goes before its table does.
                e.held.push(Key::Relation(&t.table));
                e.held.extend(t.depends_on.iter().map(ref_key));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            TriggerChange::Drop(_) => Rank::ReleaseDependants,
            TriggerChange::Create(_) => Rank::CreateTriggersAndPolicies,
        }
    }

    /// A trigger is a dependant: it takes nothing away from under another object.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

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
            out.push(Change::Trigger(TriggerChange::Drop(have.clone())));
        }
    }
    for (key, want) in &desired.triggers {
        let have = current.triggers.get(key);
        if have.is_none() || recreate.contains(key) {
            out.push(Change::Trigger(TriggerChange::Create(want.clone())));
        }
        let old_comment = have.filter(|_| !recreate.contains(key)).and_then(|t| t.comment.as_ref());
        if old_comment != want.comment.as_ref() {
            let target = CommentTarget::Trigger { table: want.table.clone(), name: want.name.name.to_string() };
            out.push(comment(target, &want.comment));
        }
    }
}
