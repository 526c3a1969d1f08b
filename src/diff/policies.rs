//! Row-level security: policies created, altered in place, dropped; the per-table switches.

use super::{Change, CommentTarget, comment, disturbed::Disturbed};
use crate::model::*;
use indexmap::IndexSet;

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
                out.push(Change::AlterPolicy { from: have.clone(), to: want.clone() });
            }
            _ => {
                recreate.insert(key);
                out.push(Change::DropPolicy(have.clone()));
            }
        }
    }
    for (key, want) in &desired.policies {
        let have = current.policies.get(key);
        if have.is_none() || recreate.contains(key) {
            out.push(Change::CreatePolicy(want.clone()));
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
            out.push(Change::SetRowSecurity { table: table.clone(), from: have, to: want });
        }
    }
}
