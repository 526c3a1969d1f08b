//! Probable renames: a plan that drops a column and adds one like it to the same table, or drops a table
//! and creates one with the same columns, most likely renames it without a declared hint, and the drop
//! loses the values a rename would keep. Found from the plan's changes alone, the same way for every
//! database (columns carry the database's own rendering of their types and defaults), and reported on
//! the drop as [`HazardId::ProbableRename`], with the hint that turns the pair into a rename.
//!
//! The reverse plan (the down migration) of such a drop + add is the same drop + add the other way: it is
//! decided with the up, where the hint is declared, and not reported again (see `pipeline::plan_between`).

use super::{Hazard, HazardId, Severity};
use crate::diff::Change;
use crate::diff::{ColumnChange, ConstraintChange, IndexChange, TableChange};
use crate::model::{Column, ColumnRef, Constraint, ConstraintKind, Index, Name, QualifiedName, Table};
use indexmap::{IndexMap, IndexSet};

/// The drops of one plan that look like renames.
#[derive(Debug, Clone, Default)]
pub struct ProbableRenames {
    /// A dropped column → its group in `column_groups`.
    columns: IndexMap<ColumnRef, usize>,
    /// The columns of one table dropped and added alike.
    column_groups: Vec<Alike<Name>>,
    /// A dropped table → its group in `table_groups`.
    tables: IndexMap<QualifiedName, usize>,
    table_groups: Vec<Alike<QualifiedName>>,
}

/// Drops and additions that nothing tells apart: each drop may be a rename to any of the additions.
#[derive(Debug, Clone)]
struct Alike<T> {
    /// In plan order.
    dropped: Vec<T>,
    /// In plan order; never empty.
    added: Vec<T>,
}

impl<T> Alike<T> {
    fn ambiguous(&self) -> bool {
        self.dropped.len() > 1 || self.added.len() > 1
    }
}

impl ProbableRenames {
    /// The probable renames among `changes`. `rebuilt` are the old tables of rebuilds under their names
    /// aside ([`super::Context::rebuilt_tables`]): their drop loses nothing.
    pub fn find(changes: &[&Change], rebuilt: &IndexSet<QualifiedName>) -> ProbableRenames {
        let mut found = ProbableRenames::default();
        found.find_columns(changes);
        found.find_tables(changes, rebuilt);
        found
    }

    fn find_columns(&mut self, changes: &[&Change]) {
        let mut edits: IndexMap<&QualifiedName, (Vec<&Column>, Vec<&Column>)> = IndexMap::new();
        // What goes and what comes besides the columns: the constraints (with their table) and indexes
        // a column's membership is read from.
        let mut old = Members::default();
        let mut new = Members::default();
        let mut changed = Changed::default();
        for change in changes {
            match change {
                Change::Table(TableChange::Drop(t)) | Change::Table(TableChange::Create(t)) => {
                    changed.tables.insert(&t.name);
                }
                Change::Column(ColumnChange::Drop { table, column })
                | Change::Column(ColumnChange::DropKeptByChildren { table, column }) => {
                    edits.entry(table).or_default().0.push(column)
                }
                Change::Column(ColumnChange::Add { table, column }) => edits.entry(table).or_default().1.push(column),
                // SQLite makes most column changes by rebuilding the table: a column `from` has and `to`
                // lacks is dropped, one `to` adds is added. Keyed by the declared name, as the hints are.
                Change::Table(TableChange::Rebuild { from, to }) => {
                    let edit = edits.entry(&to.name).or_default();
                    edit.0.extend(from.columns.values().filter(|c| !to.columns.contains_key(&c.name)));
                    edit.1.extend(to.columns.values().filter(|c| !from.columns.contains_key(&c.name)));
                    old.constraints.extend(from.constraints.values().map(|c| (&to.name, c)));
                    new.constraints.extend(to.constraints.values().map(|c| (&to.name, c)));
                }
                Change::Constraint(ConstraintChange::Drop { table, constraint }) => {
                    old.constraints.push((table, constraint))
                }
                Change::Constraint(ConstraintChange::Add { table, constraint }) => {
                    new.constraints.push((table, constraint))
                }
                Change::Index(IndexChange::Drop(index)) => old.indexes.push(index),
                Change::Index(IndexChange::Create(index)) => new.indexes.push(index),
                _ => {}
            }
        }
        edits.retain(|_, (dropped, added)| !dropped.is_empty() && !added.is_empty());
        if edits.is_empty() {
            return;
        }
        changed.columns = edits
            .iter()
            .flat_map(|(table, (dropped, added))| dropped.iter().chain(added).map(|c| (*table, c.name.as_str())))
            .collect();
        for (table, (dropped, added)) in &edits {
            // A column dropped and added under the same name is replaced (a generated column whose
            // expression changed), not renamed.
            let replaced =
                |c: &&Column| dropped.iter().any(|d| d.name == c.name) && added.iter().any(|a| a.name == c.name);
            let mut groups: Vec<(ColumnKey, Alike<Name>)> = Vec::new();
            for column in dropped.iter().filter(|c| !replaced(c)) {
                let key = ColumnKey::of(column, table, &old, &changed);
                match groups.iter_mut().find(|(k, _)| k.same(&key)) {
                    Some((_, group)) => group.dropped.push(column.name.clone()),
                    None => groups.push((key, Alike { dropped: vec![column.name.clone()], added: Vec::new() })),
                }
            }
            for column in added.iter().filter(|c| !replaced(c)) {
                let key = ColumnKey::of(column, table, &new, &changed);
                if let Some((_, group)) = groups.iter_mut().find(|(k, _)| k.same(&key)) {
                    group.added.push(column.name.clone());
                }
            }
            for (_, group) in groups.into_iter().filter(|(_, g)| !g.added.is_empty()) {
                for column in &group.dropped {
                    let key = ColumnRef { table: (*table).clone(), column: column.clone() };
                    self.columns.insert(key, self.column_groups.len());
                }
                self.column_groups.push(group);
            }
        }
    }

    fn find_tables(&mut self, changes: &[&Change], rebuilt: &IndexSet<QualifiedName>) {
        // The new tables of a rebuild take the place of the old ones, whose rows they receive.
        let receiving: IndexSet<&QualifiedName> = changes
            .iter()
            .flat_map(|c| match c {
                Change::Table(TableChange::CopyRows { new_tree, .. }) => new_tree.as_slice(),
                _ => &[],
            })
            .collect();
        let dropped: Vec<&Table> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Table(TableChange::Drop(t)) if !rebuilt.contains(&t.name) => Some(t),
                _ => None,
            })
            .collect();
        if dropped.is_empty() {
            return;
        }
        let created: Vec<&Table> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Table(TableChange::Create(t)) if !receiving.contains(&t.name) => Some(t),
                _ => None,
            })
            .collect();
        if created.is_empty() {
            return;
        }
        // A table dropped and created under the same name is replaced, not renamed.
        let replaced = |t: &Table| dropped.iter().any(|d| d.name == t.name) && created.iter().any(|c| c.name == t.name);
        let mut groups: IndexMap<TableKey<'_>, Alike<QualifiedName>> = IndexMap::new();
        for table in dropped.iter().filter(|t| !replaced(t)) {
            if let Some(key) = TableKey::of(table) {
                let group = groups.entry(key).or_insert_with(|| Alike { dropped: Vec::new(), added: Vec::new() });
                group.dropped.push(table.name.clone());
            }
        }
        for table in created.iter().filter(|t| !replaced(t)) {
            if let Some(group) = TableKey::of(table).and_then(|key| groups.get_mut(&key)) {
                group.added.push(table.name.clone());
            }
        }
        for group in groups.into_values().filter(|g| !g.added.is_empty()) {
            for table in &group.dropped {
                self.tables.insert(table.clone(), self.table_groups.len());
            }
            self.table_groups.push(group);
        }
    }

    /// The hazard of dropping `column` from `table` (by its declared name), when the plan adds a column
    /// like it to the same table.
    pub fn column(&self, table: &QualifiedName, column: &Column) -> Option<Hazard> {
        let key = ColumnRef { table: table.clone(), column: column.name.clone() };
        let group = &self.column_groups[*self.columns.get(&key)?];
        let added = group.added.iter().map(|a| format!("{table}.{a}"));
        // SQLite keeps no type for a column declared without one.
        let data_type = if column.data_type.is_empty() { "(none)" } else { column.data_type.as_str() };
        let column = column.name.as_str();
        let mut message = format!(
            "{table}.{column} dropped and {} added with the same type {data_type}: probably a rename",
            listed(added, " or ")
        );
        if group.ambiguous() {
            message.push_str(&format!(
                "; which column became which is ambiguous: {} dropped alike",
                listed(group.dropped.iter().map(|d| format!("{table}.{d}")), ", ")
            ));
        }
        let to = match group.added.as_slice() {
            [one] => toml_string(one),
            [first, rest @ ..] => {
                format!("{} (or {})", toml_string(first), listed(rest.iter().map(|a| toml_string(a)), ", "))
            }
            [] => String::new(),
        };
        let at = match group.added.as_slice() {
            [one] => format!("column {one}"),
            _ => "the column it became".to_string(),
        };
        let diff_toml = toml_table(table).map(|t| {
            format!("[[rename.column]] with table = {t}, from = {}, to = {to} in diff.toml, or ", toml_string(column))
        });
        let help = format!(
            "Declare the rename: {}the line -- schema:renamed-from {column} right before {at} in the CREATE TABLE of \
             {table} (or allow probable-rename to drop and add)",
            diff_toml.unwrap_or_default()
        );
        Some(Hazard::new(HazardId::ProbableRename, Severity::High, message, help).on(table))
    }

    /// The hazard of dropping `table`, when the plan creates a table with the same columns.
    pub fn table(&self, table: &Table) -> Option<Hazard> {
        let group = &self.table_groups[*self.tables.get(&table.name)?];
        let from = &table.name;
        let mut message = format!(
            "{from} dropped and {} created with the same {} column(s) and types: probably a rename",
            listed(group.added.iter().map(ToString::to_string), " or "),
            table.columns.len()
        );
        if group.ambiguous() {
            message.push_str(&format!(
                "; which table became which is ambiguous: {} dropped alike",
                listed(group.dropped.iter().map(ToString::to_string), ", ")
            ));
        }
        let to = match group.added.as_slice() {
            [one] => toml_table(one).unwrap_or_default(),
            many => listed(many.iter().filter_map(toml_table), " or "),
        };
        let diff_toml = toml_table(from)
            .filter(|_| group.added.iter().all(|a| toml_table(a).is_some()))
            .map(|f| format!("[[rename.table]] with from = {f}, to = {to} in diff.toml"));
        // The annotation names the old table in the new one's schema.
        let annotation = match group.added.as_slice() {
            [one] if one.schema == from.schema => {
                Some(format!("the line -- schema:renamed-from {} right before the CREATE TABLE of {one}", from.name))
            }
            [_] => None,
            many if many.iter().all(|a| a.schema == from.schema) => Some(format!(
                "the line -- schema:renamed-from {} right before the CREATE TABLE of the table it became",
                from.name
            )),
            _ => None,
        };
        let ways: Vec<String> = diff_toml.into_iter().chain(annotation).collect();
        let help = format!("Declare the rename: {} (or allow probable-rename to drop and create)", ways.join(", or "));
        Some(Hazard::new(HazardId::ProbableRename, Severity::High, message, help).on(from))
    }
}

/// The constraints and indexes that a plan drops, or those it adds.
#[derive(Default)]
struct Members<'a> {
    constraints: Vec<(&'a QualifiedName, &'a Constraint)>,
    indexes: Vec<&'a Index>,
}

/// The columns and tables a plan drops or adds: in a constraint, such a column or table may be renamed
/// too, so it is not compared by name.
#[derive(Default)]
struct Changed<'a> {
    columns: IndexSet<(&'a QualifiedName, &'a str)>,
    tables: IndexSet<&'a QualifiedName>,
}

/// What makes a dropped and an added column alike: their definition, and their places in the constraints
/// and indexes that go with them (the dropped one's) or come with them (the added one's).
struct ColumnKey<'a> {
    column: &'a Column,
    roles: Vec<Role<'a>>,
}

impl<'a> ColumnKey<'a> {
    fn of(column: &'a Column, table: &'a QualifiedName, members: &Members<'a>, changed: &Changed) -> ColumnKey<'a> {
        let name = column.name.as_str();
        let slots = |owner: &'a QualifiedName, columns: &'a [Name]| -> Vec<Slot<'a>> {
            columns
                .iter()
                .map(|c| match (owner == table && c == name, changed.columns.contains(&(owner, c.as_str()))) {
                    (true, _) => Slot::This,
                    (false, true) => Slot::Changed,
                    (false, false) => Slot::Kept(c),
                })
                .collect()
        };
        let table_slot = |other: &'a QualifiedName| match (other == table, changed.tables.contains(other)) {
            (true, _) => TableSlot::This,
            (false, true) => TableSlot::Changed,
            (false, false) => TableSlot::Kept(other),
        };
        let mut roles = Vec::new();
        for &(owner, constraint) in &members.constraints {
            let target = constraint.references.as_deref();
            let references =
                |r: &'a crate::model::ForeignKeyTarget| (table_slot(&r.table), slots(&r.table, &r.columns));
            if owner == table
                && (constraint.columns.iter().any(|c| c == name)
                    || target.is_some_and(|r| &r.table == table && r.columns.iter().any(|c| c == name)))
            {
                roles.push(Role::Constraint {
                    kind: constraint.kind,
                    columns: slots(owner, &constraint.columns),
                    references: target.map(references),
                });
            } else if let Some(r) = target.filter(|r| &r.table == table && r.columns.iter().any(|c| c == name)) {
                roles.push(Role::ReferencedBy {
                    table: table_slot(owner),
                    columns: slots(owner, &constraint.columns),
                    references: slots(table, &r.columns),
                });
            }
        }
        for index in members.indexes.iter().filter(|i| &i.table == table && i.columns.iter().any(|c| c == name)) {
            roles.push(Role::Index { unique: index.unique, columns: slots(table, &index.columns) });
        }
        ColumnKey { column, roles }
    }

    fn same(&self, other: &ColumnKey) -> bool {
        alike(self.column, other.column) && same_elements(&self.roles, &other.roles)
    }
}

/// The same definition under another name: what a rename keeps. Left out: the name, the comment (a
/// rename keeps it, but a changed comment is no reason to lose the values), what the column depends on
/// (its type and default say it), where it comes from in inheritance, and a declared conversion.
fn alike(a: &Column, b: &Column) -> bool {
    a.data_type == b.data_type
        && a.not_null == b.not_null
        && a.default == b.default
        && a.identity == b.identity
        && a.identity_options() == b.identity_options()
        && a.generated() == b.generated()
        && a.collation() == b.collation()
}

/// One column of a constraint or an index, seen from the column whose roles are compared.
#[derive(Debug, PartialEq)]
enum Slot<'a> {
    /// The column itself.
    This,
    /// Another column that the plan drops or adds (it may be renamed too).
    Changed,
    /// A column that stays.
    Kept(&'a str),
}

/// A table a constraint names, seen from the table of the column whose roles are compared.
#[derive(Debug, PartialEq)]
enum TableSlot<'a> {
    /// The column's own table.
    This,
    /// A table the plan drops or creates (it may be renamed too: `user_id` referencing `users` and
    /// `person_id` referencing `persons`).
    Changed,
    /// A table that stays.
    Kept(&'a QualifiedName),
}

/// A constraint or index a column takes part in.
#[derive(Debug, PartialEq)]
enum Role<'a> {
    /// A constraint of its own table: its kind, its columns, and the columns it references.
    Constraint {
        kind: ConstraintKind,
        columns: Vec<Slot<'a>>,
        references: Option<(TableSlot<'a>, Vec<Slot<'a>>)>,
    },
    /// A foreign key of another table that references it.
    ReferencedBy {
        table: TableSlot<'a>,
        columns: Vec<Slot<'a>>,
        references: Vec<Slot<'a>>,
    },
    Index {
        unique: bool,
        columns: Vec<Slot<'a>>,
    },
}

/// Whether two lists hold the same elements, each as many times, in any order.
fn same_elements<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let mut taken = vec![false; b.len()];
    a.len() == b.len()
        && a.iter().all(|x| match (0..b.len()).find(|&i| !taken[i] && b[i] == *x) {
            Some(i) => {
                taken[i] = true;
                true
            }
            None => false,
        })
}

/// What makes a dropped and a created table alike: the same column names with the same types, in any
/// order (a rename keeps the old order; the declared one says nothing a rename could change), and what a
/// rename keeps of partitioning: the partition key, and a partition's bound (its parent may be renamed
/// too).
#[derive(PartialEq, Eq, Hash)]
struct TableKey<'a> {
    partition_key: Option<&'a str>,
    bound: Option<&'a str>,
    columns: Vec<(&'a str, &'a str)>,
}

impl<'a> TableKey<'a> {
    fn of(table: &'a Table) -> Option<TableKey<'a>> {
        if table.columns.is_empty() {
            return None;
        }
        let mut columns: Vec<(&str, &str)> =
            table.columns.values().map(|c| (c.name.as_str(), c.data_type.as_str())).collect();
        columns.sort();
        Some(TableKey {
            partition_key: table.partition_key.as_deref(),
            bound: table.partition_of.as_ref().map(|p| p.bound.as_str()),
            columns,
        })
    }
}

/// A table's name as diff.toml writes it, as a TOML string: `"public.users"`. `None` for a schema with a
/// dot in its name, which diff.toml cannot tell from the one between schema and table.
fn toml_table(name: &QualifiedName) -> Option<String> {
    (!name.schema.contains('.')).then(|| toml_string(&name.to_string()))
}

/// `text` as a TOML string, quoted and escaped by the TOML writer.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The first few `items` joined by `separator`, and how many more there are: a table that drops and adds
/// many columns alike does not make a message of every name.
fn listed(items: impl Iterator<Item = String>, separator: &str) -> String {
    const SHOWN: usize = 4;
    let items: Vec<String> = items.collect();
    let mut text = items.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(separator);
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{RenameHints, diff};
    use crate::model::Catalog;
    use crate::model::build::*;

    /// The hazards of every change of the diff from `current` to `desired`, as (id, message, help).
    fn hazards_with(current: &Catalog, desired: &Catalog, hints: &RenameHints) -> Vec<(String, String, String)> {
        let changes = diff(current, desired, hints).changes;
        let ctx = super::super::Context::from_changes(&changes);
        changes
            .iter()
            .flat_map(|c| super::super::common_hazards(c, &ctx))
            .map(|h| (h.id.to_string(), h.message, h.help))
            .collect()
    }

    fn probable(current: &Catalog, desired: &Catalog) -> Vec<(String, String)> {
        hazards_with(current, desired, &RenameHints::default())
            .into_iter()
            .filter(|(id, ..)| id == "probable-rename")
            .map(|(_, message, help)| (message, help))
            .collect()
    }

    fn one_table(t: crate::model::Table) -> Catalog {
        Catalog::default().with_schema("public").with_table(t)
    }

    fn users(other: Column) -> Catalog {
        one_table(table("users").with_column(column("id", "bigint").not_null()).with_column(other))
    }

    #[test]
    fn a_column_dropped_and_one_added_alike_is_reported_with_the_hint_that_renames_it() {
        let current = users(column("name", "text").not_null().with_default("''::text"));
        let desired = users(column("full_name", "text").not_null().with_default("''::text"));
        assert_eq!(
            probable(&current, &desired),
            [(
                "public.users.name dropped and public.users.full_name added with the same type text: probably a rename"
                    .to_string(),
                "Declare the rename: [[rename.column]] with table = \"public.users\", from = \"name\", to = \
                 \"full_name\" in diff.toml, or the line -- schema:renamed-from name right before column full_name in \
                 the CREATE TABLE of public.users (or allow probable-rename to drop and add)"
                    .to_string()
            )]
        );
        // On the drop, after its data loss: the step that loses the values.
        let ids: Vec<String> =
            hazards_with(&current, &desired, &RenameHints::default()).into_iter().map(|h| h.0).collect();
        assert_eq!(ids, ["data-loss-column", "probable-rename"]);
    }

    #[test]
    fn a_declared_rename_is_no_probable_rename() {
        let current = users(column("name", "text"));
        let desired = users(column("full_name", "text"));
        let hints = RenameHints {
            columns: vec![(QualifiedName::parse("users"), "name".into(), "full_name".into())],
            ..RenameHints::default()
        };
        let ids: Vec<String> = hazards_with(&current, &desired, &hints).into_iter().map(|h| h.0).collect();
        assert_eq!(ids, ["rename-visible"]);
    }

    #[test]
    fn columns_that_differ_in_type_nullability_default_identity_generation_or_collation_are_not_paired() {
        let old = column("name", "text");
        let mut collated = column("full_name", "text");
        collated.set_collation(Some("\"C\""));
        let mut generated = column("full_name", "text");
        generated.set_generated(Some("('x'::text)"));
        for new in [
            column("full_name", "character varying(10)"),
            column("full_name", "text").not_null(),
            column("full_name", "text").with_default("'x'::text"),
            column("full_name", "bigint").identity(crate::model::IdentityKind::Always),
            collated,
            generated,
        ] {
            let what = format!("{new:?}");
            assert_eq!(probable(&users(old.clone()), &users(new)), [], "{what}");
        }
        let (id, new_id) = (column("n", "bigint"), column("m", "bigint"));
        let identity = |c: Column| c.not_null().identity(crate::model::IdentityKind::Always);
        assert_eq!(probable(&users(identity(id)), &users(identity(new_id))).len(), 1, "identity alike");
    }

    #[test]
    fn a_column_dropped_and_added_under_the_same_name_is_replaced_not_renamed() {
        let generated = |name: &str, expression: &str| {
            let mut c = column(name, "integer");
            c.set_generated(Some(expression));
            c
        };
        // `total` is dropped and added again with another expression; `sum` takes its old one.
        let current = users(generated("total", "(id * 2)"));
        let mut desired = users(generated("total", "(id * 3)"));
        desired.tables[0].columns.insert("sum".into(), generated("sum", "(id * 2)"));
        let ids: Vec<String> =
            hazards_with(&current, &desired, &RenameHints::default()).into_iter().map(|h| h.0).collect();
        assert_eq!(ids, ["data-loss-column"]);
    }

    #[test]
    fn alike_columns_pair_by_type_and_an_ambiguous_group_names_every_candidate() {
        let current = one_table(
            table("t")
                .with_column(column("a", "text"))
                .with_column(column("b", "text"))
                .with_column(column("n", "integer")),
        );
        let desired = one_table(
            table("t")
                .with_column(column("x", "text"))
                .with_column(column("m", "integer"))
                .with_column(column("y", "text")),
        );
        let found = probable(&current, &desired);
        let messages: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                "public.t.a dropped and public.t.x or public.t.y added with the same type text: probably a rename; \
                 which column became which is ambiguous: public.t.a, public.t.b dropped alike",
                "public.t.b dropped and public.t.x or public.t.y added with the same type text: probably a rename; \
                 which column became which is ambiguous: public.t.a, public.t.b dropped alike",
                "public.t.n dropped and public.t.m added with the same type integer: probably a rename",
            ]
        );
        assert!(found[0].1.contains("from = \"a\", to = \"x\" (or \"y\") in diff.toml"), "{}", found[0].1);
        assert!(found[0].1.contains("-- schema:renamed-from a right before the column it became"), "{}", found[0].1);
    }

    #[test]
    fn constraints_and_indexes_a_column_takes_part_in_must_match() {
        let with = |name: &str, unique_key: bool, indexed: bool| {
            let mut t = table("users").with_column(column("id", "bigint").not_null()).with_column(column(name, "text"));
            if unique_key {
                t = t.with_constraint(unique(&format!("users_{name}_key"), &[name]));
            }
            let mut c = one_table(t);
            if indexed {
                c = c.with_index(index(
                    &format!("users_{name}_idx"),
                    "users",
                    &format!("btree (id, {name})"),
                    &["id", name],
                ));
            }
            c
        };
        assert_eq!(probable(&with("email", true, true), &with("contact", true, true)).len(), 1, "both keyed, indexed");
        assert_eq!(probable(&with("email", true, false), &with("contact", false, false)), [], "the key goes");
        assert_eq!(probable(&with("email", false, false), &with("contact", true, false)), [], "a key comes");
        assert_eq!(probable(&with("email", false, true), &with("contact", false, false)), [], "the index goes");
        assert_eq!(probable(&with("email", false, true), &with("contact", true, false)), [], "index for key");
    }

    #[test]
    fn a_foreign_key_referencing_the_column_must_reference_the_new_one() {
        let with = |name: &str, referenced: bool| {
            let users = table("users")
                .with_column(column(name, "text").not_null())
                .with_constraint(primary_key("users_pkey", &[name]));
            let mut orders = table("orders").with_column(column("user_name", "text"));
            if referenced {
                orders = orders.with_constraint(foreign_key("orders_user_fkey", &["user_name"], "users", &[name]));
            }
            Catalog::default().with_schema("public").with_table(users).with_table(orders)
        };
        assert_eq!(probable(&with("name", true), &with("login", true)).len(), 1);
        assert_eq!(probable(&with("name", true), &with("login", false)), []);
    }

    #[test]
    fn a_foreign_key_to_a_table_the_plan_drops_pairs_with_one_to_a_table_it_creates_not_to_another_kept_one() {
        let key = |name: &str| {
            table(name)
                .with_column(column("id", "integer").not_null())
                .with_constraint(primary_key(&format!("{name}_pkey"), &["id"]))
        };
        let orders = |fk: &str, target: &str| {
            table("orders").with_column(column(fk, "integer")).with_constraint(foreign_key(
                &format!("orders_{fk}_fkey"),
                &[fk],
                target,
                &["id"],
            ))
        };
        let catalog = |tables: Vec<crate::model::Table>| {
            tables.into_iter().fold(Catalog::default().with_schema("public"), |c, t| c.with_table(t))
        };
        // users becomes persons, and user_id person_id: both probable renames.
        let found = probable(
            &catalog(vec![key("users"), orders("user_id", "users")]),
            &catalog(vec![key("persons"), orders("person_id", "persons")]),
        );
        let messages: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                "public.orders.user_id dropped and public.orders.person_id added with the same type integer: \
                 probably a rename",
                "public.users dropped and public.persons created with the same 1 column(s) and types: probably a \
                 rename",
            ]
        );
        // Both tables stay: a key to users and one to teams are different columns.
        let found = probable(
            &catalog(vec![key("users"), key("teams"), orders("user_id", "users")]),
            &catalog(vec![key("users"), key("teams"), orders("team_id", "teams")]),
        );
        assert_eq!(found, []);
    }

    #[test]
    fn a_sqlite_rebuild_that_loses_a_column_and_gains_one_alike_is_reported() {
        let from = table("main.users")
            .with_column(column("id", "INTEGER"))
            .with_column(column("name", "TEXT").not_null())
            .with_constraint(unique("users_name", &["name"]));
        let mut to = table("main.users")
            .with_column(column("id", "INTEGER"))
            .with_column(column("full_name", "TEXT").not_null())
            .with_constraint(unique("users_name", &["full_name"]));
        let rebuild = Change::Table(TableChange::Rebuild { from: from.clone(), to: to.clone() });
        let ctx = super::super::Context::from_changes([&rebuild]);
        let hazards = super::super::common_hazards(&rebuild, &ctx);
        let ids: Vec<&str> = hazards.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["data-loss-column", "probable-rename"]);
        assert!(hazards[1].help.contains("table = \"main.users\", from = \"name\", to = \"full_name\""));
        // Without the unique constraint on the new column, they differ.
        to.constraints.clear();
        let rebuild = Change::Table(TableChange::Rebuild { from, to });
        let ctx = super::super::Context::from_changes([&rebuild]);
        assert!(super::super::common_hazards(&rebuild, &ctx).iter().all(|h| h.id != HazardId::ProbableRename));
    }

    #[test]
    fn a_table_dropped_and_one_created_with_the_same_columns_in_any_order_is_reported() {
        let tickets = table("tickets").with_column(column("id", "integer")).with_column(column("summary", "text"));
        let issues = table("issues").with_column(column("summary", "text")).with_column(column("id", "integer"));
        let current = one_table(tickets.clone());
        assert_eq!(
            probable(&current, &one_table(issues)),
            [(
                "public.tickets dropped and public.issues created with the same 2 column(s) and types: probably a \
                 rename"
                    .to_string(),
                "Declare the rename: [[rename.table]] with from = \"public.tickets\", to = \"public.issues\" in \
                 diff.toml, or the line -- schema:renamed-from tickets right before the CREATE TABLE of public.issues \
                 (or allow probable-rename to drop and create)"
                    .to_string()
            )]
        );
        let other = table("issues").with_column(column("summary", "text")).with_column(column("id", "bigint"));
        assert_eq!(probable(&current, &one_table(other)), [], "a column of another type");
        let more = issues_with_more();
        assert_eq!(probable(&current, &one_table(more)), [], "one column more");
        // Into another schema: only diff.toml can say that (the annotation names a table of the same schema).
        let moved = Catalog::default().with_schema("public").with_schema("archive").with_table(
            table("archive.tickets").with_column(column("id", "integer")).with_column(column("summary", "text")),
        );
        let found = probable(&current, &moved);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].1.starts_with(
                "Declare the rename: [[rename.table]] with from = \"public.tickets\", to = \"archive.tickets\" in \
                 diff.toml (or"
            ),
            "{}",
            found[0].1
        );
    }

    fn issues_with_more() -> crate::model::Table {
        table("issues")
            .with_column(column("summary", "text"))
            .with_column(column("id", "integer"))
            .with_column(column("closed", "boolean"))
    }

    #[test]
    fn names_in_the_hint_are_toml_strings_that_read_back_as_they_are() {
        for name in ["plain", "with \"quotes\"", "back\\slash", "it's", "tab\there"] {
            let text = format!("x = {}", toml_string(name));
            let value: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(value["x"].as_str(), Some(name), "{text}");
        }
        assert_eq!(toml_table(&QualifiedName::new("my.schema", "t")), None, "diff.toml cannot name it");
    }
}
