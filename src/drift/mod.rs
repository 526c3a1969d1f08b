//! Drift reports: how a live database (or the replayed migrations) differs from the declared schema.
//! The report names every object whose normalized DDL differs and shows a unified diff of it, plus the
//! changes that would bring the database in line. It knows no database: DDL comes from the dialect's
//! renderer.

use crate::diff::{self, Change, RenameHints};
use crate::diff::{IndexChange, TableChange};
use crate::model::*;
use crate::plan::{self, Plan, SqlRenderer};
use indexmap::IndexMap;
use serde::Serialize;

/// One object whose DDL differs between the two sides.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectDrift {
    pub kind: &'static str,
    pub name: String,
    /// DDL on the compared (live) side; `None` if the object is missing there.
    pub actual: Option<String>,
    /// DDL in the declared schema; `None` if it is not declared.
    pub declared: Option<String>,
    /// Unified diff from actual to declared.
    pub diff: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub in_sync: bool,
    pub objects: Vec<ObjectDrift>,
    /// What would bring the actual side to the declared schema.
    pub plan: Plan,
}

/// Compares `actual` (a live database, or replayed migrations) with the declared schema.
pub fn report(
    actual: &Catalog,
    declared: &Catalog,
    renderer: &dyn SqlRenderer,
    labels: (&str, &str),
) -> Result<DriftReport, plan::PlanError> {
    let changes = renderer.adapt(diff::diff(actual, declared, &RenameHints::default()), actual, declared);
    let plan = plan::build(&changes, renderer)?;
    let before = object_ddl(actual, renderer, Some(declared));
    let after = object_ddl(declared, renderer, None);
    let mut objects = Vec::new();
    let mut keys: Vec<&(&'static str, String)> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (a, d) = (before.get(key), after.get(key));
        if a == d {
            continue;
        }
        let text =
            similar::TextDiff::from_lines(a.map(String::as_str).unwrap_or(""), d.map(String::as_str).unwrap_or(""))
                .unified_diff()
                .context_radius(3)
                .header(&format!("{} ({})", key.1, labels.0), &format!("{} ({})", key.1, labels.1))
                .to_string();
        objects.push(ObjectDrift {
            kind: key.0,
            name: key.1.clone(),
            actual: a.cloned(),
            declared: d.cloned(),
            diff: text,
        });
    }
    Ok(DriftReport { in_sync: plan.is_empty() && objects.is_empty(), objects, plan })
}

/// The normalized DDL of every object of a catalog, keyed by kind and name. A table's DDL includes
/// its foreign keys, indexes, triggers and comments, so a change to any of them shows on the table.
/// With `order_of`, a table's columns and constraints are listed in the order of the same table there
/// (others after): their order is not compared (no plan changes it), so it must not show as drift.
pub fn object_ddl(
    catalog: &Catalog,
    renderer: &dyn SqlRenderer,
    order_of: Option<&Catalog>,
) -> IndexMap<(&'static str, String), String> {
    // The objects of a catalog the dialect introspected are ones it can write; should one not be, the
    // report says so in its place rather than failing the whole report.
    let render = |change: Change| match renderer.render(&change) {
        Ok(statements) => statements.join("\n"),
        Err(unsupported) => format!("-- {unsupported}"),
    };
    let comment = |target: diff::CommentTarget, text: &Option<String>| {
        text.as_ref().map(|_| render(Change::Comment(diff::CommentChange::Set { target, comment: text.clone() })))
    };
    let mut out = IndexMap::new();
    for schema in catalog.schemas.values() {
        let mut ddl = vec![render(Change::Schema(diff::SchemaChange::Create(schema.clone())))];
        ddl.extend(comment(diff::CommentTarget::Schema(schema.name.clone()), &schema.comment));
        out.insert(("schema", schema.name.clone()), ddl.join("\n") + "\n");
    }
    for extension in catalog.extensions.values() {
        // The version is compared by the plan, and only when the declared side pins one.
        let unpinned = Extension { version: None, ..extension.clone() };
        let mut ddl = vec![render(Change::Extension(diff::ExtensionChange::Create(unpinned)))];
        ddl.extend(comment(diff::CommentTarget::Extension(extension.name.clone()), &extension.comment));
        out.insert(("extension", extension.name.clone()), ddl.join("\n") + "\n");
    }
    for enum_type in catalog.enums.values() {
        let mut ddl = vec![render(Change::Enum(diff::EnumChange::Create(enum_type.clone())))];
        ddl.extend(comment(diff::CommentTarget::Type(enum_type.name.clone()), &enum_type.comment));
        out.insert(("type", enum_type.name.to_string()), ddl.join("\n") + "\n");
    }
    for sequence in catalog.sequences.values() {
        let mut ddl = vec![render(Change::Sequence(diff::SequenceChange::Create(Sequence {
            owned_by: None,
            ..sequence.clone()
        })))];
        if sequence.owned_by.is_some() {
            ddl.push(render(Change::Sequence(diff::SequenceChange::SetOwner {
                sequence: sequence.name.clone(),
                from: None,
                to: sequence.owned_by.clone(),
            })));
        }
        ddl.extend(comment(diff::CommentTarget::Sequence(sequence.name.clone()), &sequence.comment));
        out.insert(("sequence", sequence.name.to_string()), ddl.join("\n") + "\n");
    }
    for table in catalog.tables.values() {
        // Foreign keys stay inside the table: every dialect can write them there (SQLite only there).
        let mut created = table.clone();
        if let Some(reference) = order_of.and_then(|c| c.tables.get(&table.name)) {
            created.columns.sort_by_key(|name, _| reference.columns.get_index_of(name).unwrap_or(usize::MAX));
            created.constraints.sort_by_key(|name, _| reference.constraints.get_index_of(name).unwrap_or(usize::MAX));
        }
        let mut ddl = vec![render(Change::Table(TableChange::Create(created)))];
        for index in catalog.indexes.values().filter(|i| i.table == table.name) {
            ddl.push(render(Change::Index(IndexChange::Create(index.clone()))));
            ddl.extend(comment(diff::CommentTarget::Index(index.name.clone()), &index.comment));
        }
        for trigger in catalog.triggers.values().filter(|t| t.table == table.name) {
            ddl.push(render(Change::Trigger(diff::TriggerChange::Create(trigger.clone()))));
            let target =
                diff::CommentTarget::Trigger { table: table.name.clone(), name: trigger.name.name.to_string() };
            ddl.extend(comment(target, &trigger.comment));
        }
        if let Some(switches) = catalog.row_security.get(&table.name) {
            ddl.push(render(Change::Policy(diff::PolicyChange::SetRowSecurity {
                table: table.name.clone(),
                from: RowSecurity::default(),
                to: *switches,
            })));
        }
        if table.replica_identity.is_some() {
            ddl.push(render(Change::Table(TableChange::SetReplicaIdentity {
                table: table.name.clone(),
                from: None,
                to: table.replica_identity.clone(),
                key_columns: Vec::new(),
                old_key_columns: Vec::new(),
            })));
        }
        for policy in catalog.policies.values().filter(|p| p.table == table.name) {
            ddl.push(render(Change::Policy(diff::PolicyChange::Create(policy.clone()))));
            let target = diff::CommentTarget::Policy { table: table.name.clone(), name: policy.name.clone() };
            ddl.extend(comment(target, &policy.comment));
        }
        ddl.extend(comment(diff::CommentTarget::Table(table.name.clone()), &table.comment));
        for column in table.columns.values() {
            let target =
                diff::CommentTarget::Column(ColumnRef { table: table.name.clone(), column: column.name.clone() });
            ddl.extend(comment(target, &column.comment().map(String::from)));
        }
        for constraint in table.constraints.values() {
            let target = diff::CommentTarget::Constraint { table: table.name.clone(), name: constraint.name.clone() };
            ddl.extend(comment(target, &constraint.comment));
        }
        out.insert(("table", table.name.to_string()), ddl.join("\n") + "\n");
    }
    for view in catalog.views.values() {
        let mut ddl = vec![render(Change::View(diff::ViewChange::Create(view.clone())))];
        for index in catalog.indexes.values().filter(|i| i.table == view.name) {
            ddl.push(render(Change::Index(IndexChange::Create(index.clone()))));
        }
        let target = diff::CommentTarget::View { name: view.name.clone(), materialized: view.materialized };
        ddl.extend(comment(target, &view.comment));
        for (column, text) in &view.column_comments {
            let target = diff::CommentTarget::Column(ColumnRef { table: view.name.clone(), column: column.into() });
            ddl.extend(comment(target, &Some(text.clone())));
        }
        let kind = if view.materialized { "materialized view" } else { "view" };
        out.insert((kind, view.name.to_string()), ddl.join("\n") + "\n");
    }
    for domain in catalog.domains.values() {
        let mut ddl = vec![render(Change::Domain(diff::DomainChange::Create(domain.clone())))];
        ddl.extend(comment(diff::CommentTarget::Type(domain.name.clone()), &domain.comment));
        out.insert(("domain", domain.name.to_string()), ddl.join("\n") + "\n");
    }
    for composite in catalog.composite_types.values() {
        let mut ddl = vec![render(Change::CompositeType(diff::CompositeTypeChange::Create(composite.clone())))];
        ddl.extend(comment(diff::CommentTarget::Type(composite.name.clone()), &composite.comment));
        out.insert(("type", composite.name.to_string()), ddl.join("\n") + "\n");
    }
    for range in catalog.range_types.values() {
        let mut ddl = vec![render(Change::RangeType(diff::RangeTypeChange::Create(range.clone())))];
        ddl.extend(comment(diff::CommentTarget::Type(range.name.clone()), &range.comment));
        out.insert(("range type", range.name.to_string()), ddl.join("\n") + "\n");
    }
    for collation in catalog.collations.values() {
        out.insert(
            ("collation", collation.name.to_string()),
            render(Change::Collation(diff::CollationChange::Create(collation.clone()))) + "\n",
        );
    }
    for function in catalog.functions.values() {
        let mut ddl = vec![render(Change::Function(diff::FunctionChange::Create(function.clone())))];
        ddl.extend(comment(diff::CommentTarget::Function(function.id.clone()), &function.comment));
        let kind = match function.kind {
            FunctionKind::Function => "function",
            FunctionKind::Procedure => "procedure",
            FunctionKind::Aggregate => "aggregate",
        };
        out.insert((kind, function.id.to_string()), ddl.join("\n") + "\n");
    }
    out
}

/// The human form: a summary line per object and change, then the diffs.
pub fn render_text(report: &DriftReport) -> String {
    if report.in_sync {
        return "in sync: the database matches the declared schema\n".to_string();
    }
    let mut text = format!(
        "drift: {} object(s) differ, {} change(s) would bring the database in line\n",
        report.objects.len(),
        report.plan.steps.len()
    );
    for object in &report.objects {
        let state = match (&object.actual, &object.declared) {
            (None, Some(_)) => "missing from the database",
            (Some(_), None) => "not declared",
            _ => "differs",
        };
        text.push_str(&format!("  {} {}: {state}\n", object.kind, object.name));
    }
    text.push_str("\nchanges:\n");
    for step in &report.plan.steps {
        text.push_str(&format!("  {}\n", step.description));
        // What the live rows say about the change: it would fail on them, or they were not checked.
        for hazard in step.hazards.iter().filter(|h| h.id.as_str().starts_with("existing-rows-")) {
            text.push_str(&format!("    {hazard}\n"));
        }
    }
    for object in &report.objects {
        text.push('\n');
        text.push_str(&object.diff);
    }
    text
}
