//! What a set of changes takes away from under the objects that depend on it, computed once and read
//! by the differs of views, functions, triggers and policies.

use super::Change;
use crate::model::*;
use indexmap::IndexSet;

/// What the changes take away from under the objects that depend on it: dropped tables (with their row
/// types and columns), functions, types and sequences, columns dropped or changed in type or collation, and
/// enum types rebuilt. PostgreSQL refuses to drop an object while a view, function or policy depends on it,
/// and a dependant kept in place would go on using the old object: such dependants are dropped first and
/// created again after.
pub(super) struct Disturbed(IndexSet<ObjectRef>);

impl Disturbed {
    pub(super) fn by(changes: &[Change]) -> Disturbed {
        let mut objects: IndexSet<ObjectRef> = IndexSet::new();
        for change in changes {
            change.kind().disturbs(&mut objects);
        }
        Disturbed(objects)
    }

    /// Whether an object with these dependencies must be dropped and created again, given the functions
    /// and views that are.
    pub(super) fn touches(
        &self,
        deps: &[ObjectRef],
        dropped_functions: &IndexSet<FunctionId>,
        recreated_views: &IndexSet<QualifiedName>,
    ) -> bool {
        deps.iter().any(|dep| {
            self.0.contains(dep)
                || match dep {
                    ObjectRef::Function(id) => dropped_functions.contains(id),
                    ObjectRef::Relation(n) | ObjectRef::Type(n) => recreated_views.contains(n),
                    ObjectRef::Column(c) => recreated_views.contains(&c.table),
                    ObjectRef::Sequence(_) | ObjectRef::Collation(_) => false,
                }
        })
    }
}
