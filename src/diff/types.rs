//! Diffs of the PostgreSQL object kinds beyond tables and enums that the model still keeps
//! dialect-free: domains, composite and range types, collations, extension versions, partitions and
//! table storage options. Also the changes no migration can make in place ([`unsupported`]), which
//! are reported as errors instead of being planned as silent drops.

use super::{Change, CommentTarget, comment, same_constraint, strip_not_valid};
use crate::model::*;
use indexmap::{IndexMap, IndexSet};

pub(super) fn diff_collations(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, want) in &desired.collations {
        match current.collations.get(name) {
            None => out.push(Change::CreateCollation(want.clone())),
            Some(have) if have != want => {
                out.push(Change::DropCollation(have.clone()));
                out.push(Change::CreateCollation(want.clone()));
            }
            Some(_) => {}
        }
    }
    for (name, have) in &current.collations {
        if !desired.collations.contains_key(name) {
            out.push(Change::DropCollation(have.clone()));
        }
    }
}

/// Whether a domain must be dropped and created again: its base type or collation changed, which
/// `ALTER DOMAIN` cannot do.
fn domain_replaced(have: &Domain, want: &Domain) -> bool {
    have.data_type != want.data_type || have.collation != want.collation
}

/// Returns the columns converted around a replaced domain (see [`fold_domain_conversions`]).
pub(super) fn diff_domains(
    current: &Catalog,
    desired: &Catalog,
    out: &mut Vec<Change>,
) -> IndexMap<ColumnRef, QualifiedName> {
    let mut converted = IndexMap::new();
    for (name, want) in &desired.domains {
        let have = current.domains.get(name);
        match have {
            Some(have) if domain_replaced(have, want) => {
                // Columns that use it move to the new base type while it is replaced, and back after.
                for (table, column) in kept_columns_using(current, desired, name) {
                    let Some(wanted) = desired.tables.get(&table).and_then(|t| t.columns.get(&column.name)) else {
                        continue;
                    };
                    let mut on_base = column.clone();
                    on_base.data_type = want.data_type.as_str().into();
                    on_base.set_collation(want.collation.as_deref());
                    on_base.default = None;
                    on_base.retain_dependencies(|d| *d != ObjectRef::Type(name.clone()));
                    out.push(Change::AlterColumn { table: table.clone(), from: column.clone(), to: on_base.clone() });
                    out.push(Change::AlterColumn { table: table.clone(), from: on_base, to: wanted.clone() });
                    converted.insert(ColumnRef { table, column: column.name.clone() }, name.clone());
                }
                out.push(Change::DropDomain(have.clone()));
                out.push(Change::CreateDomain(want.clone()));
            }
            None => out.push(Change::CreateDomain(want.clone())),
            Some(have) => {
                let (mut a, mut b) = (have.clone(), want.clone());
                a.comment = None;
                b.comment = None;
                if !same_domain(&a, &b) {
                    out.push(Change::AlterDomain { from: have.clone(), to: want.clone() });
                }
            }
        }
        let old_comment = have.filter(|h| !domain_replaced(h, want)).and_then(|h| h.comment.clone());
        if old_comment != want.comment {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
    for (name, have) in &current.domains {
        if !desired.domains.contains_key(name) {
            out.push(Change::DropDomain(have.clone()));
        }
    }
    converted
}

/// A column converted around a replaced domain already reaches its declared state through the new base
/// type; the table diff's own change of it (its default's cast changes with the domain) would hold the
/// old domain and need the new one at once.
pub(super) fn fold_domain_conversions(converted: &IndexMap<ColumnRef, QualifiedName>, out: &mut Vec<Change>) {
    if converted.is_empty() {
        return;
    }
    out.retain(|change| match change {
        Change::AlterColumn { table, from, to } => {
            let column = ColumnRef { table: table.clone(), column: from.name.clone() };
            let Some(domain) = converted.get(&column) else { return true };
            let uses = |c: &Column| c.depends_on.contains(&ObjectRef::Type(domain.clone()));
            !(uses(from) && uses(to))
        }
        _ => true,
    });
}

/// Compares domains including the order of their constraints (IndexMap equality ignores order).
fn same_domain(a: &Domain, b: &Domain) -> bool {
    a == b && a.constraints.keys().eq(b.constraints.keys())
}

/// The attribute order `ALTER TYPE` can reach from `have`: kept attributes in place, new ones at the end.
fn reachable_order<'a>(have: &'a CompositeType, want: &'a CompositeType) -> Vec<&'a String> {
    let mut order: Vec<&String> = have.attributes.keys().filter(|n| want.attributes.contains_key(*n)).collect();
    order.extend(want.attributes.keys().filter(|n| !have.attributes.contains_key(*n)));
    order
}

fn composite_replaced(have: &CompositeType, want: &CompositeType) -> bool {
    !reachable_order(have, want).into_iter().eq(want.attributes.keys())
        || have.attributes.values().any(|a| {
            want.attributes.get(&a.name).is_some_and(|b| a.collation != b.collation && a.data_type == b.data_type)
        })
}

pub(super) fn diff_composite_types(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, want) in &desired.composite_types {
        let have = current.composite_types.get(name);
        let replaced = have.is_some_and(|h| composite_replaced(h, want));
        match have {
            None => out.push(Change::CreateCompositeType(want.clone())),
            Some(have) if replaced => {
                out.push(Change::DropCompositeType(have.clone()));
                out.push(Change::CreateCompositeType(want.clone()));
            }
            Some(have) if have.attributes != want.attributes => {
                out.push(Change::AlterCompositeType { from: have.clone(), to: want.clone() });
            }
            Some(_) => {}
        }
        let old_comment = have.filter(|_| !replaced).and_then(|h| h.comment.clone());
        if old_comment != want.comment {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
    for (name, have) in &current.composite_types {
        if !desired.composite_types.contains_key(name) {
            out.push(Change::DropCompositeType(have.clone()));
        }
    }
}

fn range_replaced(have: &RangeType, want: &RangeType) -> bool {
    let mut a = have.clone();
    a.comment = want.comment.clone();
    &a != want
}

pub(super) fn diff_range_types(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for (name, want) in &desired.range_types {
        let have = current.range_types.get(name);
        let replaced = have.is_some_and(|h| range_replaced(h, want));
        match have {
            None => out.push(Change::CreateRangeType(want.clone())),
            Some(have) if replaced => {
                out.push(Change::DropRangeType(have.clone()));
                out.push(Change::CreateRangeType(want.clone()));
            }
            Some(_) => {}
        }
        let old_comment = have.filter(|_| !replaced).and_then(|h| h.comment.clone());
        if old_comment != want.comment {
            out.push(comment(CommentTarget::Type(name.clone()), &want.comment));
        }
    }
    for (name, have) in &current.range_types {
        if !desired.range_types.contains_key(name) {
            out.push(Change::DropRangeType(have.clone()));
        }
    }
}

/// The version is compared only when both sides know one: the declared side knows it only when it pins
/// one, and a down migration must not pin what the up left alone.
pub(super) fn extension_version_change(have: &Extension, want: &Extension) -> Option<Change> {
    let (from, to) = (have.version.as_ref()?, want.version.as_ref()?);
    (from != to).then(|| Change::AlterExtensionVersion {
        name: want.name.clone(),
        from: Some(from.clone()),
        to: to.clone(),
        reachable: have.update_targets.contains(to),
    })
}

/// Whether the columns of a table present on both sides are managed through its parent: a partition's
/// columns are its parent's, and PostgreSQL carries every column change down to the partitions.
pub(super) fn columns_inherited(have: &Table, want: &Table) -> bool {
    have.partition_of.is_some() && want.partition_of.is_some()
}

/// Partition membership, storage parameters and logging of a table present on both sides.
pub(super) fn diff_table_options(
    desired: &Catalog,
    name: &QualifiedName,
    have: &Table,
    want: &Table,
    out: &mut Vec<Change>,
) {
    if have.partition_of != want.partition_of {
        if let Some(old) = &have.partition_of {
            out.push(Change::DetachPartition {
                table: name.clone(),
                parent: old.parent.clone(),
                bound: old.bound.clone(),
            });
        }
        if let Some(new) = &want.partition_of {
            // The table's own checks that are the parent's become the parent's copies on ATTACH: they stay.
            let mut checks = Vec::new();
            let parent_checks = desired.tables.get(&new.parent).map(|p| p.constraints.values());
            for check in parent_checks.into_iter().flatten().filter(|c| c.kind == ConstraintKind::Check) {
                let alike = have.constraints.get(&check.name).is_some_and(|own| {
                    same_constraint(own, check) || own.validated && &*own.definition == strip_not_valid(check)
                });
                if alike {
                    out.retain(|c| !matches!(c, Change::DropConstraint { table, constraint } if table == name && constraint.name == check.name));
                } else {
                    checks.push(check.clone());
                }
            }
            out.push(Change::AttachPartition {
                table: name.clone(),
                parent: new.parent.clone(),
                bound: new.bound.clone(),
                checks,
            });
        }
    }
    if have.storage_parameters != want.storage_parameters {
        out.push(Change::SetStorageParameters {
            table: name.clone(),
            from: have.storage_parameters.clone(),
            to: want.storage_parameters.clone(),
        });
    }
    if have.unlogged != want.unlogged {
        out.push(Change::SetUnlogged { table: name.clone(), unlogged: want.unlogged });
    }
}

/// Whether `table` is a partition of `root`, directly or below one of its partitions.
pub(super) fn partition_below(catalog: &Catalog, table: &QualifiedName, root: &QualifiedName) -> bool {
    let mut at = table;
    // Partition trees have no cycles in a database; the bound only keeps bad input from looping.
    for _ in 0..64 {
        match catalog.tables.get(at).and_then(|t| t.partition_of.as_ref()) {
            Some(p) if &p.parent == root => return true,
            Some(p) => at = &p.parent,
            None => return false,
        }
    }
    false
}

/// A partition that leaves its parent keeps, as its own, what PostgreSQL copied onto it from the parent:
/// checks, foreign keys, primary key and unique constraints (under the names PostgreSQL chose) and indexes,
/// except those the plan drops from the parent first (the copies go with them). The ones the table
/// declares alike stay (they are not added again; a NOT VALID copy declared valid is validated), the others
/// are dropped after the detach. A table the plan drops takes them along.
pub(super) fn detached_copies(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let detached: Vec<(QualifiedName, QualifiedName)> = out
        .iter()
        .filter_map(|c| match c {
            Change::DetachPartition { table, parent, .. } => Some((table.clone(), parent.clone())),
            _ => None,
        })
        .collect();
    for (name, parent) in detached {
        // A parent the plan drops loses its constraints and indexes before its partitions leave
        // ([`super::rebuild::release_detached_partitions`]), and the copies with them.
        if out.iter().any(|c| matches!(c, Change::DropTable(t) if t.name == parent)) {
            continue;
        }
        let (Some(have), Some(want)) = (current.tables.get(&name), desired.tables.get(&name)) else { continue };
        for copy in &have.copies {
            if have.constraints.contains_key(&copy.name) {
                continue;
            }
            let Some(original) = copied_constraint(current, &parent, &copy.parent, out, 0) else { continue };
            let mut kept = original.clone();
            kept.name = copy.name.clone();
            kept.comment = None;
            kept.validated = copy.validated;
            let definition = strip_not_valid(original);
            kept.definition =
                if copy.validated { definition.into() } else { format!("{definition} NOT VALID").into_boxed_str() };
            let added = |c: &Change| matches!(c, Change::AddConstraint { table, constraint } if *table == name && constraint.name == kept.name);
            match want.constraints.get(&kept.name) {
                Some(new) if same_constraint(&kept, new) => out.retain(|c| !added(c)),
                Some(new) if !kept.validated && new.validated && strip_not_valid(&kept) == &*new.definition => {
                    if let Some(at) = out.iter().position(added) {
                        out[at] = Change::ValidateConstraint { table: name.clone(), constraint: new.clone() };
                    }
                }
                _ => out.push(Change::DropConstraint { table: name.clone(), constraint: kept }),
            }
        }
        for copy in detached_index_copies(current, &name, out) {
            let created = |c: &Change| matches!(c, Change::CreateIndex(i) if i.name == copy.name);
            match desired.indexes.get(&copy.name) {
                Some(new) if new.table == name && new.unique == copy.unique && new.definition == copy.definition => {
                    out.retain(|c| !created(c))
                }
                _ => out.push(Change::DropIndex(copy)),
            }
        }
    }
}

/// `ATTACH PARTITION` makes a table's own index that matches an index of the parent (the first by name,
/// where PostgreSQL takes the oldest) that index's copy instead of building one. Declared as the copy's
/// name, it is kept (not dropped and built again by the attach); declared as the table's own besides a copy
/// of another name, it takes the copy's name after the attach and is built again under its own.
pub(super) fn adopted_on_attach(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let attached: Vec<(QualifiedName, QualifiedName)> = out
        .iter()
        .filter_map(|c| match c {
            Change::AttachPartition { table, parent, .. } => Some((table.clone(), parent.clone())),
            _ => None,
        })
        .collect();
    let dropped =
        |out: &[Change], name: &QualifiedName| out.iter().any(|c| matches!(c, Change::DropIndex(i) if i.name == *name));
    for (table, parent) in attached {
        if !current.tables.contains_key(&table) {
            continue;
        }
        for index in desired.indexes.values().filter(|i| i.table == parent) {
            let kept = current.indexes.get(&index.name).is_some_and(|have| {
                have.table == parent && have.unique == index.unique && have.definition == index.definition
            });
            let copy = index.partitions.iter().find(|p| p.table == table && p.depth == 1 && !p.constraint);
            let (true, Some(copy)) = (kept && !dropped(out, &index.name), copy) else { continue };
            let matching =
                |i: &&Index| i.table == table && i.unique == index.unique && i.definition == index.definition;
            if current.indexes.get(&copy.name).is_some_and(|own| matching(&own)) {
                out.retain(|c| !matches!(c, Change::DropIndex(i) if i.name == copy.name));
                continue;
            }
            let Some(own) = current.indexes.values().filter(matching).find(|i| !dropped(out, &i.name)) else {
                continue;
            };
            let Some(declared) = desired.indexes.get(&own.name).filter(|i| matching(i)) else { continue };
            out.push(Change::RenameIndex { table: table.clone(), from: own.name.clone(), to: copy.name.clone() });
            out.push(Change::CreateIndex(declared.clone()));
        }
    }
}

/// A partition's copy of a `NOT VALID` check of its parent is valid where the partition was created after
/// the check (or validated on its own), and not valid where the check was added to the parent after it.
/// A copy the declared state has valid is validated on the partition (`ALTER TABLE … VALIDATE CONSTRAINT`
/// works on one partition) when it is not valid now or the plan adds the parent's check. (The other way
/// round, a valid copy cannot become not valid again, short of dropping the parent's check.)
pub(super) fn validate_check_copies(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let mut validations = Vec::new();
    for (name, want) in &desired.tables {
        let (Some(parent), Some(have)) = (want.partition_of.as_ref(), current.tables.get(name)) else { continue };
        if have.partition_of.as_ref().map(|p| &p.parent) != Some(&parent.parent) {
            continue;
        }
        let Some(parent_table) = desired.tables.get(&parent.parent) else { continue };
        for copy in want.copies.iter().filter(|c| c.validated) {
            let Some(check) = parent_table.constraints.get(&copy.parent) else { continue };
            if check.kind != ConstraintKind::Check || check.validated {
                continue;
            }
            let added = out.iter().any(|c| {
                matches!(c, Change::AddConstraint { table, constraint } if *table == parent.parent && constraint.name == check.name)
            });
            let invalid = have.copies.iter().any(|c| c.name == copy.name && !c.validated);
            if added || invalid {
                let mut valid = check.clone();
                valid.name = copy.name.clone();
                valid.validated = true;
                valid.definition = strip_not_valid(check).into();
                validations.push(Change::ValidateConstraint { table: name.clone(), constraint: valid });
            }
        }
    }
    out.extend(validations);
}

/// The constraint `name` of `table` that a partition's copy copies, when the plan does not drop it (or,
/// for a copy on a partition of a partition, the one it copies in turn).
fn copied_constraint<'a>(
    current: &'a Catalog,
    table: &QualifiedName,
    name: &Name,
    out: &[Change],
    depth: usize,
) -> Option<&'a Constraint> {
    let dropped = out.iter().any(
        |c| matches!(c, Change::DropConstraint { table: t, constraint } if t == table && constraint.name == *name),
    );
    let have = current.tables.get(table)?;
    if dropped || depth > 64 {
        return None;
    }
    if let Some(own) = have.constraints.get(name) {
        return Some(own);
    }
    let copy = have.copies.iter().find(|c| c.name == *name)?;
    copied_constraint(current, &have.partition_of.as_ref()?.parent, &copy.parent, out, depth + 1)
}

/// The indexes of `table` attached to an index of the table it leaves, which the plan does not drop, as
/// indexes of their own (with the indexes of its partitions attached to them). The indexes of the
/// partition's own keys stay with those keys.
fn detached_index_copies(current: &Catalog, table: &QualifiedName, out: &[Change]) -> Vec<Index> {
    let mut copies = Vec::new();
    for root in current.indexes.values() {
        if out.iter().any(|c| matches!(c, Change::DropIndex(i) if i.name == root.name)) {
            continue;
        }
        for attached in root.partitions.iter().filter(|p| &p.table == table && !p.constraint) {
            let mut below = Vec::new();
            let mut parents = vec![&attached.name];
            for p in root.partitions.iter().filter(|p| p.depth > attached.depth) {
                if parents.contains(&&p.parent) {
                    parents.push(&p.name);
                    below.push(PartitionIndex { depth: p.depth - attached.depth, ..p.clone() });
                }
            }
            copies.push(Index {
                name: attached.name.clone(),
                table: table.clone(),
                unique: root.unique,
                definition: root.definition.clone(),
                columns: root.columns.clone(),
                comment: None,
                depends_on: root.depends_on.clone(),
                partitions: below,
            });
        }
    }
    copies
}

/// Columns of tables kept on both sides whose type is `name` (directly or as an array).
/// The columns that use type `name` directly (not in an array) and stay.
fn kept_columns_using(current: &Catalog, desired: &Catalog, name: &QualifiedName) -> Vec<(QualifiedName, Column)> {
    columns_using(current, desired, name).into_iter().filter(|(_, c)| !c.data_type.ends_with(']')).collect()
}

/// Every column that uses type `name` (directly or in an array) and stays.
fn columns_using(current: &Catalog, desired: &Catalog, name: &QualifiedName) -> Vec<(QualifiedName, Column)> {
    let dep = ObjectRef::Type(name.clone());
    let mut uses = Vec::new();
    for (table_name, table) in &current.tables {
        let Some(want) = desired.tables.get(table_name) else { continue };
        // A partition's columns change through its parent.
        if columns_inherited(table, want) {
            continue;
        }
        for column in table.columns.values() {
            if column.depends_on.contains(&dep) && want.columns.contains_key(&column.name) {
                uses.push((table_name.clone(), column.clone()));
            }
        }
    }
    uses
}

/// Changes that cannot be made without losing data or that PostgreSQL refuses, each described in a
/// sentence that names the object. Checked before planning; a non-empty list is an error.
pub fn unsupported(current: &Catalog, desired: &Catalog) -> Vec<String> {
    let mut problems: IndexSet<String> = IndexSet::new();
    // Only the way up: a down that cannot go back keeps the newer version and says so.
    for (name, want) in &desired.extensions {
        if let Some(Change::AlterExtensionVersion { from: Some(from), to, reachable: false, .. }) =
            current.extensions.get(name).and_then(|have| extension_version_change(have, want))
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
        assert!(changes.contains(&Change::SetAside { from: current.tables[0].name.clone(), to: aside.clone() }));
        assert!(
            changes
                .iter()
                .any(|c| matches!(c, Change::CreateTable(t) if t.partition_key.as_deref() == Some("LIST (kind)")))
        );
        assert!(
            changes.iter().any(
                |c| matches!(c, Change::CopyRows { from, to, .. } if from.name == aside && to.name.name == "events")
            )
        );
        assert!(changes.iter().any(|c| matches!(c, Change::DropTable(t) if t.name == aside)));
    }
}
