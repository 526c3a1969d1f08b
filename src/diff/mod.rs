//! Compares two catalogs and produces the [`ChangeSet`] that turns the first into the second.
//! Changes are listed in a deterministic order (the catalogs' own order); dependency ordering is the
//! planner's job. Renames are applied only when declared ([`RenameHints`]); otherwise a rename is a drop
//! and a create.

use crate::model::*;
use disturbed::Disturbed;
use serde::Serialize;

mod change;
mod hints;
pub use change::*;
pub use collations::CollationChange;
pub use columns::ColumnChange;
use comments::comment;
pub use comments::{CommentChange, CommentTarget};
pub use composite_types::CompositeTypeChange;
pub use constraints::ConstraintChange;
pub use domains::DomainChange;
pub use enums::{EnumChange, EnumColumnUse, EnumValuePosition};
pub use extensions::ExtensionChange;
pub use functions::FunctionChange;
pub use hints::*;
pub use indexes::IndexChange;
pub use inheritance::InheritanceChange;
pub use partitions::PartitionChange;
pub use policies::PolicyChange;
pub use privileges::PrivilegeChange;
pub use range_types::RangeTypeChange;
pub use schemas::SchemaChange;
pub use sequences::SequenceChange;
pub use tables::TableChange;
pub use triggers::TriggerChange;
pub use views::ViewChange;

// One differ per object kind, each in a file named after it.
mod collations;
mod columns;
mod comments;
mod composite_types;
mod constraints;
mod domains;
mod enums;
mod extensions;
mod functions;
mod indexes;
mod inheritance;
mod partitions;
mod policies;
mod privileges;
mod range_types;
mod schemas;
mod sequences;
mod tables;
mod triggers;
mod views;

mod keyed;

// What the planner orders changes by, given by each kind's changes.
pub(crate) mod order;

// Passes over the whole catalog: renames and rebuilds before the differs, what changes disturb, refusals.
mod disturbed;
mod rebuild;
mod refusals;
mod renames;
pub use refusals::unsupported;

#[cfg(test)]
mod tests;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChangeSet {
    pub changes: Vec<Change>,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// The changes that turn `current` into `desired`, as a fixed pipeline. Each stage reads the changes the
/// stages before it produced, so the order below is the contract:
///
/// 1. **Declared renames and rebuilds** rewrite a copy of `current` first (renamed objects, tables set
///    aside to be rebuilt), so every differ after them compares like with like.
/// 2. **Per-kind differs**, types before the tables that use them; each adds the creates, drops and
///    alterations of its kind.
/// 3. **Cascades**: what the changes so far disturb ([`Disturbed`], computed where it is read) — functions
///    and their users, generated columns, views, indexes of recreated relations, foreign keys across
///    replaced keys and retyped columns, objects on re-added columns.
/// 4. **Dependants decided last** — triggers, policies, privileges and owners — which must know every
///    recreated relation and dropped function.
/// 5. **Partition passes**, which fold or complete what the table differs produced for partitions.
pub fn diff(current: &Catalog, desired: &Catalog, hints: &RenameHints) -> ChangeSet {
    let mut out = Vec::new();
    // 1. Renames and rebuilds.
    let current = renames::apply(current, desired, hints, &mut out);
    let current = rebuild::apply(current, desired, &mut out);
    let current = &current;

    // 2. Per-kind differs.
    schemas::diff(current, desired, &mut out);
    extensions::diff(current, desired, &mut out);
    enums::diff(current, desired, &mut out);
    collations::diff(current, desired, &mut out);
    let converted_columns = domains::diff(current, desired, &mut out);
    composite_types::diff(current, desired, &mut out);
    range_types::diff(current, desired, &mut out);
    let dropped_columns = tables::diff(current, desired, &hints.conversions, &mut out);
    domains::fold_domain_conversions(&converted_columns, &mut out);

    // 3. Cascades of what the changes so far disturb.
    let dropped_functions = functions::diff(current, desired, &Disturbed::by(&out), &mut out);
    functions::release_function_users(current, desired, &dropped_functions, &mut out);
    columns::release_generated_columns(current, desired, &mut out);
    sequences::diff(current, desired, &dropped_columns, &mut out);
    // Views are decided once the column and table changes are known; their changes are listed after
    // the indexes, which need the set of recreated relations.
    let mut view_changes = Vec::new();
    let recreated_relations = views::diff(current, desired, &out, &mut view_changes);
    indexes::diff(current, desired, &recreated_relations, &mut out);
    tables::diff_replica_identity(current, desired, &mut out);
    inheritance::keep_in_children(current, desired, &mut out);
    constraints::recreate_dependent_foreign_keys(current, desired, &mut out);
    constraints::recreate_foreign_keys_across_retyped_columns(current, desired, &mut out);
    columns::restore_on_readded_columns(current, desired, &mut out);
    out.extend(view_changes);

    // 4. Dependants that need every recreated relation and dropped function.
    let disturbed = Disturbed::by(&out);
    triggers::diff(current, desired, &recreated_relations, &dropped_functions, &disturbed, &mut out);
    policies::diff(current, desired, &recreated_relations, &dropped_functions, &disturbed, &mut out);
    policies::diff_row_security(current, desired, &mut out);
    privileges::diff_grants(current, desired, &recreated_relations, &dropped_functions, &mut out);
    privileges::diff_default_privileges(current, desired, &mut out);
    privileges::diff_owners(current, desired, &mut out);

    // 5. Partition passes.
    rebuild::fold_partition_drops(&mut out);
    rebuild::release_detached_partitions(current, &mut out);
    partitions::detached_copies(current, desired, &mut out);
    partitions::adopted_on_attach(current, desired, &mut out);
    partitions::validate_check_copies(current, desired, &mut out);
    ChangeSet { changes: out }
}
