//! The [`Change`] enum: every change the tool can plan, with its description for plans and migration
//! headers. The kinds converted to their own change enum (`PolicyChange` in `diff/policies.rs`…) are
//! one variant each, wrapping it; each kind answers the generic concerns ([`KindChange`]) in its own
//! file, and the dialects match on the kind's enum in their files named after the kind. The other
//! changes are still one variant per statement kind here. Every match over `Change` is exhaustive,
//! so a new variant breaks the build where it must be handled.

use super::collations::CollationChange;
use super::comments::CommentChange;
use super::composite_types::CompositeTypeChange;
use super::domains::DomainChange;
use super::enums::EnumChange;
use super::extensions::ExtensionChange;
use super::functions::FunctionChange;
use super::order::{Effects, Rank};
use super::policies::PolicyChange;
use super::privileges::PrivilegeChange;
use super::range_types::RangeTypeChange;
use super::schemas::SchemaChange;
use super::sequences::SequenceChange;
use super::triggers::TriggerChange;
use super::views::ViewChange;
use super::{ColumnChange, ConstraintChange, IndexChange, InheritanceChange, PartitionChange, TableChange};
use crate::model::*;
use indexmap::IndexSet;
use serde::Serialize;

/// What every kind's change enum answers, in the kind's own file (`diff/<kind>.rs`): the concerns
/// that do not depend on the database. [`Change`] sends each of its kinds here with one arm per
/// concern.
pub(crate) trait KindChange {
    /// A short human description, used in plan output and migration headers.
    fn describe(&self) -> String;
    /// Words for a migration file name, before [`slugify`]: the description's by default.
    fn slug(&self) -> String {
        self.describe().replace(' ', "_")
    }
    /// What the change provides, removes, needs and holds: the planner's edges.
    fn effects(&self) -> Effects<'_>;
    /// Its place among the changes that are free to run ([`Rank`]).
    fn rank(&self) -> Rank;
    /// What the change takes away from under the objects that depend on it (see
    /// [`super::disturbed::Disturbed`]).
    fn disturbs(&self, objects: &mut IndexSet<ObjectRef>);
}

/// Unboxed, as when every change was a variant of its own: its size is its largest kind's (a table
/// rebuilt, which holds two tables).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Change {
    // Every kind has its own change enum: its serialized form is its own variants'
    // (`{"CreatePolicy": …}`), as when they were variants of `Change`.
    #[serde(untagged)]
    Table(TableChange),
    #[serde(untagged)]
    Column(ColumnChange),
    #[serde(untagged)]
    Constraint(ConstraintChange),
    #[serde(untagged)]
    Index(IndexChange),
    #[serde(untagged)]
    Partition(PartitionChange),
    #[serde(untagged)]
    Inheritance(InheritanceChange),
    #[serde(untagged)]
    Trigger(TriggerChange),
    #[serde(untagged)]
    Policy(PolicyChange),
    #[serde(untagged)]
    Comment(CommentChange),
    #[serde(untagged)]
    Privilege(PrivilegeChange),
    #[serde(untagged)]
    Function(FunctionChange),
    #[serde(untagged)]
    View(ViewChange),
    #[serde(untagged)]
    Sequence(SequenceChange),
    #[serde(untagged)]
    Enum(EnumChange),
    #[serde(untagged)]
    Domain(DomainChange),
    #[serde(untagged)]
    CompositeType(CompositeTypeChange),
    #[serde(untagged)]
    RangeType(RangeTypeChange),
    #[serde(untagged)]
    Extension(ExtensionChange),
    #[serde(untagged)]
    Schema(SchemaChange),
    #[serde(untagged)]
    Collation(CollationChange),
}

impl Change {
    /// The change as its kind's change enum, which answers the concerns that do not depend on the
    /// database ([`KindChange`]). The one match over every kind of change outside the dialects.
    pub(crate) fn kind(&self) -> &dyn KindChange {
        match self {
            Change::Table(c) => c,
            Change::Column(c) => c,
            Change::Constraint(c) => c,
            Change::Index(c) => c,
            Change::Partition(c) => c,
            Change::Inheritance(c) => c,
            Change::Trigger(c) => c,
            Change::Policy(c) => c,
            Change::Comment(c) => c,
            Change::Privilege(c) => c,
            Change::Function(c) => c,
            Change::View(c) => c,
            Change::Sequence(c) => c,
            Change::Enum(c) => c,
            Change::Domain(c) => c,
            Change::CompositeType(c) => c,
            Change::RangeType(c) => c,
            Change::Extension(c) => c,
            Change::Schema(c) => c,
            Change::Collation(c) => c,
        }
    }

    /// A short human description, used in plan output and migration headers.
    pub fn describe(&self) -> String {
        self.kind().describe()
    }

    /// Words for a migration file name: `create_users`, `add_bio`…
    pub fn slug(&self) -> String {
        slugify(&self.kind().slug())
    }

    /// What the change provides, removes, needs and holds: the planner's edges.
    pub(crate) fn effects(&self) -> Effects<'_> {
        self.kind().effects()
    }

    /// Its place among the changes that are free to run.
    pub(crate) fn rank(&self) -> Rank {
        self.kind().rank()
    }
}

pub(super) fn view_word(materialized: bool) -> &'static str {
    if materialized { "materialized view" } else { "view" }
}

/// What differs between two versions of a column, in words.
pub fn column_change_summary(from: &Column, to: &Column) -> Vec<String> {
    let mut parts = Vec::new();
    if from.data_type != to.data_type {
        let using = to.conversion().map(|c| format!(" using {c}")).unwrap_or_default();
        parts.push(format!("type {} -> {}{using}", from.data_type, to.data_type));
    }
    if from.collation() != to.collation() {
        parts.push("collation".to_string());
    }
    if from.not_null != to.not_null {
        parts.push(if to.not_null { "set not null" } else { "drop not null" }.to_string());
    }
    if from.default != to.default {
        parts.push(if to.default.is_some() { "set default" } else { "drop default" }.to_string());
    }
    if from.identity != to.identity || from.identity_options() != to.identity_options() {
        parts.push("identity".to_string());
    }
    if from.generated() != to.generated() {
        parts.push("generated expression".to_string());
    }
    parts
}

/// Lower-case ASCII words joined by `_`, at most 60 characters.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_string();
    if out.len() > 60 {
        out.truncate(60);
        out = out.trim_end_matches('_').to_string();
    }
    if out.is_empty() { "migration".to_string() } else { out }
}
