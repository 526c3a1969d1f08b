//! What a set of changes takes away from under the objects that depend on it, computed once and read
//! by the differs of views, functions, triggers and policies.

use super::{Change, KindChange};
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
        let column = |table: &QualifiedName, column: &Name| {
            ObjectRef::Column(ColumnRef { table: table.clone(), column: column.clone() })
        };
        for change in changes {
            match change {
                Change::AlterColumn { table, from, to }
                    if from.data_type != to.data_type || from.collation() != to.collation() =>
                {
                    objects.insert(column(table, &from.name));
                }
                Change::DropColumn { table, column: c } => {
                    objects.insert(column(table, &c.name));
                }
                Change::DropTable(t) => {
                    objects.insert(ObjectRef::Relation(t.name.clone()));
                    objects.insert(ObjectRef::Type(t.name.clone()));
                    objects.extend(t.columns.keys().map(|c| column(&t.name, c)));
                }
                Change::Trigger(c) => c.disturbs(&mut objects),
                Change::Policy(c) => c.disturbs(&mut objects),
                Change::Comment(c) => c.disturbs(&mut objects),
                Change::Privilege(c) => c.disturbs(&mut objects),
                Change::Function(c) => c.disturbs(&mut objects),
                Change::View(c) => c.disturbs(&mut objects),
                Change::Sequence(c) => c.disturbs(&mut objects),
                Change::Enum(c) => c.disturbs(&mut objects),
                Change::Domain(c) => c.disturbs(&mut objects),
                Change::CompositeType(c) => c.disturbs(&mut objects),
                Change::RangeType(c) => c.disturbs(&mut objects),
                Change::Extension(c) => c.disturbs(&mut objects),
                Change::Schema(c) => c.disturbs(&mut objects),
                Change::Collation(c) => c.disturbs(&mut objects),
                // Take nothing away from under a dependant (a retype is an `AlterColumn` above); listed by
                // name so that a new variant is decided here before it builds.
                Change::CreateTable(_)
                | Change::RenameTable { .. }
                | Change::AddColumn { .. }
                | Change::RenameColumn { .. }
                | Change::RenameConstraint { .. }
                | Change::RenameIndex { .. }
                | Change::AlterColumn { .. }
                | Change::AddConstraint { .. }
                | Change::DropConstraint { .. }
                | Change::ValidateConstraint { .. }
                | Change::CreateIndex(_)
                | Change::DropIndex(_)
                | Change::RebuildTable { .. }
                | Change::SetAside { .. }
                | Change::CopyRows { .. }
                | Change::AttachPartition { .. }
                | Change::DetachPartition { .. }
                | Change::SetStorageParameters { .. }
                | Change::SetUnlogged { .. }
                | Change::SetReplicaIdentity { .. }
                | Change::DropColumnKeptByChildren { .. }
                | Change::Inherit { .. }
                | Change::NoInherit { .. } => {}
            }
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
