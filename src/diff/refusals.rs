//! Changes that cannot be made without losing data or that PostgreSQL refuses: checked before
//! planning, each described in a sentence that names the object.

use super::{
    Change, ExtensionChange, columns::columns_using, composite_types::composite_replaced, domains::domain_replaced,
    extensions::extension_version_change, range_types::range_replaced,
};
use crate::model::*;
use indexmap::IndexSet;

/// Changes that cannot be made without losing data or that PostgreSQL refuses, each described in a
/// sentence that names the object. Checked before planning; a non-empty list is an error.
pub fn unsupported(current: &Catalog, desired: &Catalog) -> Vec<String> {
    let mut problems: IndexSet<String> = IndexSet::new();
    // Only the way up: a down that cannot go back keeps the newer version and says so.
    for (name, want) in &desired.extensions {
        if let Some(Change::Extension(ExtensionChange::AlterVersion {
            from: Some(from), to, reachable: false, ..
        })) = current.extensions.get(name).and_then(|have| extension_version_change(have, want))
        {
            let targets = &current.extensions[name].update_targets;
            let reachable = if targets.is_empty() { "none".to_string() } else { targets.join(", ") };
            problems.insert(format!(
                "extension {name}: the schema files pin version {to}, which ALTER EXTENSION cannot reach from the \
                 installed version {from} on this server (versions it can update to: {reachable}); pin one of those, \
                 or drop and create the extension at {to} by hand"
            ));
        }
    }
    for (current, desired) in [(current, desired), (desired, current)] {
        check_direction(current, desired, &mut problems);
    }
    problems.into_iter().collect()
}

fn check_direction(current: &Catalog, desired: &Catalog, problems: &mut IndexSet<String>) {
    let used = |name: &QualifiedName, what: &str, problems: &mut IndexSet<String>| {
        let uses: Vec<String> = columns_using(current, desired, name)
            .into_iter()
            .filter(|(_, c)| what != "domain" || c.data_type.ends_with(']'))
            .map(|(table, column)| format!("{table}.{}", column.name))
            .collect();
        if !uses.is_empty() {
            problems.insert(format!(
                "{what} {name}: its definition changes in a way that needs a drop and a new type, but columns \
                 use it ({}); add a new type, convert the columns, then drop the old one",
                uses.join(", ")
            ));
        }
    };
    for (name, have) in &current.domains {
        if let Some(want) = desired.domains.get(name)
            && domain_replaced(have, want)
        {
            used(name, "domain", problems);
        }
    }
    for (name, have) in &current.range_types {
        if let Some(want) = desired.range_types.get(name)
            && range_replaced(have, want)
        {
            used(name, "range type", problems);
        }
    }
    for (name, have) in &current.composite_types {
        let Some(want) = desired.composite_types.get(name) else { continue };
        let retyped =
            have.attributes.values().any(|a| want.attributes.get(&a.name).is_some_and(|b| a.data_type != b.data_type));
        if composite_replaced(have, want) || retyped {
            used(name, "composite type", problems);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::TableChange;

    fn table(name: &str, key: Option<&str>) -> Table {
        Table { partition_key: key.map(String::from), ..Table::new(QualifiedName::new("public", name)) }
    }

    #[test]
    fn a_changed_partition_key_is_planned_as_a_rebuild_not_refused() {
        let mut current = Catalog::default();
        let mut desired = Catalog::default();
        current.tables.insert(QualifiedName::new("public", "events"), table("events", Some("RANGE (at)")));
        desired.tables.insert(QualifiedName::new("public", "events"), table("events", Some("LIST (kind)")));
        assert!(unsupported(&current, &desired).is_empty());
        let changes = crate::diff::diff(&current, &desired, &Default::default()).changes;
        let aside = QualifiedName::new("public", "schema_old_events");
        assert!(changes.contains(&Change::Table(TableChange::SetAside {
            from: current.tables[0].name.clone(),
            to: aside.clone()
        })));
        assert!(changes.iter().any(
            |c| matches!(c, Change::Table(TableChange::Create(t)) if t.partition_key.as_deref() == Some("LIST (kind)"))
        ));
        assert!(
            changes.iter().any(
                |c| matches!(c, Change::Table(TableChange::CopyRows { from, to, .. }) if from.name == aside && to.name.name == "events")
            )
        );
        assert!(changes.iter().any(|c| matches!(c, Change::Table(TableChange::Drop(t)) if t.name == aside)));
    }
}
