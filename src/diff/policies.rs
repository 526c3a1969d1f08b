//! Row-level security: policies created, altered in place, dropped; the per-table switches. Their
//! changes ([`PolicyChange`]), with what each is ordered by.

use super::order::{Effects, Key, Rank, ref_key};
use super::{Change, CommentTarget, KindChange, comment, disturbed::Disturbed};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// A change of a policy, or of a table's row-level security switches. Unboxed like the rest of
/// [`Change`], whose size is its largest kind's.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum PolicyChange {
    #[serde(rename = "CreatePolicy")]
    Create(Policy),
    #[serde(rename = "DropPolicy")]
    Drop(Policy),
    /// New roles, USING or WITH CHECK of a policy that keeps its command and kind (`ALTER POLICY`: the
    /// policy is never missing, not even inside the migration's transaction).
    #[serde(rename = "AlterPolicy")]
    Alter { from: Policy, to: Policy },
    /// `ENABLE`/`FORCE ROW LEVEL SECURITY` of a table.
    SetRowSecurity { table: QualifiedName, from: RowSecurity, to: RowSecurity },
}

impl KindChange for PolicyChange {
    fn describe(&self) -> String {
        match self {
            PolicyChange::Create(p) => format!("create policy {} on {}", p.name, p.table),
            PolicyChange::Drop(p) => format!("drop policy {} on {}", p.name, p.table),
            PolicyChange::Alter { to, .. } => format!("alter policy {} on {}", to.name, to.table),
            PolicyChange::SetRowSecurity { table, to, .. } => format!(
                "{} row level security on {table}{}",
                if to.enabled { "enable" } else { "disable" },
                if to.forced { " (forced)" } else { "" }
            ),
        }
    }

    fn effects(&self) -> Effects<'_> {
        let mut e = Effects::default();
        match self {
            PolicyChange::Create(p) => {
                e.provides.push(Key::Policy(&p.table, &p.name));
                e.needs.push(Key::Relation(&p.table));
                e.needs.push(Key::Rows(&p.table));
                e.needs.extend(p.depends_on.iter().map(ref_key));
            }
            PolicyChange::Alter { from, to } => {
                e.provides.push(Key::Policy(&to.table, &to.name));
                e.needs.push(Key::Relation(&to.table));
                e.needs.extend(to.depends_on.iter().map(ref_key));
                e.held.extend(from.depends_on.iter().map(ref_key));
            }
            PolicyChange::Drop(p) => {
                e.removes.push(Key::Policy(&p.table, &p.name));
                e.needs.push(Key::Aside(&p.table));
                e.held.push(Key::Relation(&p.table));
                e.held.extend(p.depends_on.iter().map(ref_key));
            }
            PolicyChange::SetRowSecurity { table, .. } => {
                e.needs.push(Key::Relation(table));
                e.needs.push(Key::Rows(table));
            }
        }
        e
    }

    fn rank(&self) -> Rank {
        match self {
            PolicyChange::Drop(_) => Rank::ReleaseDependants,
            PolicyChange::Create(_) | PolicyChange::Alter { .. } | PolicyChange::SetRowSecurity { .. } => {
                Rank::CreateTriggersAndPolicies
            }
        }
    }

    /// A policy is a dependant: it takes nothing away from under another object.
    fn disturbs(&self, _: &mut IndexSet<ObjectRef>) {}
}

/// Policies are altered in place where they can be; a policy that reads a column that is retyped or
/// dropped is dropped first and created again after (PostgreSQL refuses both under a policy).
pub(super) fn diff(
    current: &Catalog,
    desired: &Catalog,
    recreated_relations: &IndexSet<QualifiedName>,
    dropped_functions: &IndexSet<FunctionId>,
    disturbed: &Disturbed,
    out: &mut Vec<Change>,
) {
    let same = |a: &Policy, b: &Policy| Policy { comment: None, ..a.clone() } == Policy { comment: None, ..b.clone() };
    // ALTER POLICY sets roles, USING and WITH CHECK; it cannot change the command or the kind, nor
    // take away a USING or WITH CHECK clause.
    let alterable = |a: &Policy, b: &Policy| {
        a.permissive == b.permissive
            && a.command == b.command
            && (a.using.is_none() || b.using.is_some())
            && (a.with_check.is_none() || b.with_check.is_some())
    };
    let mut recreate: IndexSet<&QualifiedName> = IndexSet::new();
    for (key, have) in &current.policies {
        let want = desired.policies.get(key);
        let in_place = !recreated_relations.contains(&have.table)
            && !disturbed.touches(&have.depends_on, dropped_functions, recreated_relations);
        match want {
            Some(want) if in_place && same(have, want) => {}
            Some(want) if in_place && alterable(have, want) => {
                out.push(Change::Policy(PolicyChange::Alter { from: have.clone(), to: want.clone() }));
            }
            _ => {
                recreate.insert(key);
                out.push(Change::Policy(PolicyChange::Drop(have.clone())));
            }
        }
    }
    for (key, want) in &desired.policies {
        let have = current.policies.get(key);
        if have.is_none() || recreate.contains(key) {
            out.push(Change::Policy(PolicyChange::Create(want.clone())));
        }
        let old_comment = have.filter(|_| !recreate.contains(key)).and_then(|p| p.comment.as_ref());
        if old_comment != want.comment.as_ref() {
            let target = CommentTarget::Policy { table: want.table.clone(), name: want.name.clone() };
            out.push(comment(target, &want.comment));
        }
    }
}

/// ENABLE/FORCE ROW LEVEL SECURITY switches of tables that exist on the desired side.
pub(super) fn diff_row_security(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for table in desired.tables.keys() {
        let have = current.row_security.get(table).copied().unwrap_or_default();
        let want = desired.row_security.get(table).copied().unwrap_or_default();
        let created = !current.tables.contains_key(table);
        if have != want && !(created && want == RowSecurity::default()) {
            out.push(Change::Policy(PolicyChange::SetRowSecurity { table: table.clone(), from: have, to: want }));
        }
    }
}
