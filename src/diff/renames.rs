//! Declared renames, applied to a copy of the current catalog before it is compared, so that a
//! renamed table or column is compared with its new self instead of being dropped and created.
//!
//! The database rewrites what refers to a renamed table or column by itself: a CHECK constraint,
//! an index expression, a view, a policy or a generated column over `email` reads `email_address`
//! after the rename. The current catalog still holds the old text, so each such definition is
//! compared with the desired one word by word with the renamed names substituted; when they agree,
//! the desired text is adopted and nothing is dropped and recreated.

use super::{Change, RenameHints, SequenceChange};
use super::{ColumnChange, ConstraintChange, IndexChange, TableChange};
use crate::model::*;
use indexmap::IndexMap;
use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// Applies the declared renames, and the renames of keys whose name alone changed, to a copy of `current`
/// and records the rename changes. Without any, the catalog is not copied (it may be large).
pub(super) fn apply<'a>(
    current: &'a Catalog,
    desired: &Catalog,
    hints: &RenameHints,
    out: &mut Vec<Change>,
) -> std::borrow::Cow<'a, Catalog> {
    let mut renamed = std::borrow::Cow::Borrowed(current);
    let first = out.len();
    for (from, to) in &hints.tables {
        if renamed.tables.contains_key(from)
            && !renamed.tables.contains_key(to)
            && desired.tables.contains_key(to)
            && !desired.tables.contains_key(from)
        {
            rename_table_in(renamed.to_mut(), from, to);
            out.push(Change::Table(TableChange::Rename { from: from.clone(), to: to.clone() }));
        }
    }
    for (table, from, to) in &hints.columns {
        let (Some(have), Some(want)) = (renamed.tables.get(table), desired.tables.get(table)) else {
            continue;
        };
        if have.columns.contains_key(from.as_str())
            && !have.columns.contains_key(to.as_str())
            && want.columns.contains_key(to.as_str())
            && !want.columns.contains_key(from.as_str())
        {
            rename_column_in(renamed.to_mut(), table, from, to);
            out.push(Change::Column(ColumnChange::Rename { table: table.clone(), from: from.clone(), to: to.clone() }));
        }
    }
    if out.len() > first {
        adopt_rewritten_definitions(renamed.to_mut(), desired, &out[first..]);
    }
    let keys = key_renames(&renamed, desired, &out[first..]);
    if !keys.is_empty() {
        apply_key_renames(renamed.to_mut(), desired, &keys);
        out.extend(keys);
    }
    renamed
}

/// Constraints, indexes and owned sequences that only changed their name: a renamed table's `orgs_pkey`
/// declared as `organizations_pkey`, its serial column's sequence, an index renamed in the schema files.
/// Renaming them is a catalog update; dropping and creating them would rebuild the index, drop and re-add
/// the foreign keys that rely on a key, or restart the sequence. Pairs are made in declaration order when
/// several candidates say the same.
fn key_renames(current: &Catalog, desired: &Catalog, renames: &[Change]) -> Vec<Change> {
    let substitutions = Substitutions::of(renames);
    let mut out = Vec::new();
    for (name, have) in &current.tables {
        let Some(want) = desired.tables.get(name) else { continue };
        let mut gone: Vec<&Constraint> =
            have.constraints.values().filter(|c| !want.constraints.contains_key(&c.name)).collect();
        if gone.is_empty() {
            continue;
        }
        for new in want.constraints.values().filter(|c| !have.constraints.contains_key(&c.name)) {
            let target = new.references.as_ref().and_then(|r| substitutions.words_of(&r.table));
            let words = merge(substitutions.words_of(name).iter().chain(target.iter())).unwrap_or_default();
            let same = |old: &&Constraint| {
                old.kind == new.kind
                    && old.validated == new.validated
                    && (old.definition == new.definition
                        || same_after_renames(&old.definition, &new.definition, &words))
            };
            if let Some(position) = gone.iter().position(same) {
                let old = gone.remove(position);
                out.push(Change::Constraint(ConstraintChange::Rename {
                    table: name.clone(),
                    from: old.name.to_string(),
                    to: new.name.to_string(),
                }));
            }
        }
    }
    let mut gone: Vec<&Sequence> = current
        .sequences
        .values()
        .filter(|s| s.owned_by.is_some() && !desired.sequences.contains_key(&s.name))
        .collect();
    for new in desired.sequences.values().filter(|s| s.owned_by.is_some() && !current.sequences.contains_key(&s.name)) {
        let same = |old: &&Sequence| {
            old.owned_by == new.owned_by && old.name.schema == new.name.schema && old.same_options(new)
        };
        if let Some(position) = gone.iter().position(same) {
            let old = gone.remove(position);
            out.push(Change::Sequence(SequenceChange::Rename { from: old.name.clone(), to: new.name.clone() }));
        }
    }
    let mut gone: Vec<&Index> = current.indexes.values().filter(|i| !desired.indexes.contains_key(&i.name)).collect();
    if gone.is_empty() {
        return out;
    }
    for new in desired.indexes.values().filter(|i| !current.indexes.contains_key(&i.name)) {
        let words = substitutions.words_of(&new.table).unwrap_or_default();
        let same = |old: &&Index| {
            old.table == new.table
                && old.unique == new.unique
                && old.name.schema == new.name.schema
                && (old.definition == new.definition || same_after_renames(&old.definition, &new.definition, &words))
        };
        if let Some(position) = gone.iter().position(same) {
            let old = gone.remove(position);
            out.push(Change::Index(IndexChange::Rename {
                table: new.table.clone(),
                from: old.name.clone(),
                to: new.name.clone(),
            }));
        }
    }
    out
}

/// Renames the keys in the copy of the current catalog, taking the desired definitions (the same once
/// the renames are read in).
fn apply_key_renames(catalog: &mut Catalog, desired: &Catalog, renames: &[Change]) {
    for change in renames {
        match change {
            Change::Constraint(ConstraintChange::Rename { table, from, to }) => {
                let (Some(have), Some(want)) = (catalog.tables.get_mut(table), desired.tables.get(table)) else {
                    continue;
                };
                let (Some(new), Some(constraint)) =
                    (want.constraints.get(to.as_str()), rekey(&mut have.constraints, from.as_str(), to.into()))
                else {
                    continue;
                };
                constraint.name = to.into();
                constraint.definition = new.definition.clone();
            }
            Change::Index(IndexChange::Rename { from, to: name, .. }) => {
                let (Some(new), Some(index)) =
                    (desired.indexes.get(name), rekey(&mut catalog.indexes, from, name.clone()))
                else {
                    continue;
                };
                index.name = name.clone();
                index.definition = new.definition.clone();
            }
            Change::Sequence(SequenceChange::Rename { from, to }) => rename_sequence_in(catalog, desired, from, to),
            _ => {}
        }
    }
}

/// Renames a sequence and what names it: the defaults that call it (PostgreSQL follows the sequence,
/// not its name, so the default reads the new name afterwards), its grants and owner.
fn rename_sequence_in(catalog: &mut Catalog, desired: &Catalog, from: &QualifiedName, name: &QualifiedName) {
    let Some(sequence) = rekey(&mut catalog.sequences, from, name.clone()) else { return };
    sequence.name = name.clone();
    for table in catalog.tables.values_mut() {
        let want = desired.tables.get(&table.name);
        for column in table.columns.values_mut() {
            let Some(at) = column.depends_on.iter().position(|d| d == &ObjectRef::Sequence(from.clone())) else {
                continue;
            };
            column.depends_on[at] = ObjectRef::Sequence(name.clone());
            let wanted = want.and_then(|t| t.columns.get(&column.name)).and_then(|c| c.default.as_ref());
            if let (Some(default), Some(wanted)) = (&mut column.default, wanted)
                && default.replace(from.name.as_str(), &name.name) == **wanted
            {
                *default = wanted.clone();
            }
        }
    }
    rekey(&mut catalog.owners.objects, &OwnedObject::Sequence(from.clone()), OwnedObject::Sequence(name.clone()));
    retarget_grants(catalog, |target| {
        if *target == PrivilegeTarget::Sequence(from.clone()) {
            *target = PrivilegeTarget::Sequence(name.clone());
        }
    });
}

/// Re-keys every grant after `rename` changed its target (a rename keeps an object's privileges).
fn retarget_grants(catalog: &mut Catalog, rename: impl Fn(&mut PrivilegeTarget)) {
    let grants = std::mem::take(&mut catalog.grants);
    catalog.grants = grants
        .into_iter()
        .map(|(mut key, mut grant)| {
            rename(&mut key.target);
            grant.key = key.clone();
            (key, grant)
        })
        .collect();
}

pub(super) fn rename_table_in(catalog: &mut Catalog, from: &QualifiedName, to: &QualifiedName) {
    if let Some(table) = rekey(&mut catalog.tables, from, to.clone()) {
        table.name = to.clone();
    }
    let rename = |name: &mut QualifiedName| {
        if name == from {
            *name = to.clone();
        }
    };
    for table in catalog.tables.values_mut() {
        for constraint in table.constraints.values_mut() {
            if let Some(target) = &mut constraint.references {
                rename(&mut target.table);
            }
        }
        if let Some(partition) = &mut table.partition_of {
            rename(&mut partition.parent);
        }
        table.inherits.iter_mut().for_each(rename);
        // Generated columns read columns of their own table; inherited ones, their parent's.
        for column in table.columns.values_mut() {
            for dep in column.depends_on.iter_mut() {
                if let ObjectRef::Column(c) = dep {
                    rename(&mut c.table);
                }
            }
        }
    }
    for index in catalog.indexes.values_mut() {
        rename(&mut index.table);
    }
    rekey(&mut catalog.owners.objects, &OwnedObject::Table(from.clone()), OwnedObject::Table(to.clone()));
    // Row-level security is the table's, whatever its name.
    rekey(&mut catalog.row_security, from, to.clone());
    retarget_grants(catalog, |target| match target {
        PrivilegeTarget::Table(name) => rename(name),
        PrivilegeTarget::Column(column) => rename(&mut column.table),
        _ => {}
    });
    for sequence in catalog.sequences.values_mut() {
        if let Some(owner) = &mut sequence.owned_by {
            rename(&mut owner.table);
        }
    }
    // Triggers and policies are keyed by their table (PostgreSQL; SQLite's triggers by their own name).
    let triggers = std::mem::take(&mut catalog.triggers);
    catalog.triggers = triggers
        .into_iter()
        .map(|(key, mut trigger)| {
            let key =
                if key == member_key(from, &trigger.name.name) { member_key(to, &trigger.name.name) } else { key };
            rename(&mut trigger.table);
            (key, trigger)
        })
        .collect();
    let policies = std::mem::take(&mut catalog.policies);
    catalog.policies = policies
        .into_iter()
        .map(|(_, mut policy)| {
            rename(&mut policy.table);
            (policy.key(), policy)
        })
        .collect();
    for deps in dependency_lists(catalog) {
        for dep in deps {
            match dep {
                ObjectRef::Relation(name) => rename(name),
                ObjectRef::Column(c) => rename(&mut c.table),
                _ => {}
            }
        }
    }
}

/// The dependency lists that name relations and columns: views', triggers' and policies'.
fn dependency_lists(catalog: &mut Catalog) -> impl Iterator<Item = &mut Vec<ObjectRef>> {
    let views = catalog.views.values_mut().map(|v| &mut v.depends_on);
    let triggers = catalog.triggers.values_mut().map(|t| &mut t.depends_on);
    views.chain(triggers).chain(catalog.policies.values_mut().map(|p| &mut p.depends_on))
}

fn rename_column_in(catalog: &mut Catalog, table_name: &QualifiedName, from: &str, to: &str) {
    if let Some(table) = catalog.tables.get_mut(table_name)
        && let Some(column) = rekey(&mut table.columns, from, to.into())
    {
        column.name = to.into();
        for constraint in table.constraints.values_mut() {
            rename_in_list(&mut constraint.columns, from, to);
        }
        for column in table.columns.values_mut() {
            for dep in column.depends_on.iter_mut() {
                if let ObjectRef::Column(c) = dep
                    && c.column == from
                {
                    c.column = to.into();
                }
            }
        }
    }
    for table in catalog.tables.values_mut() {
        for constraint in table.constraints.values_mut() {
            if let Some(target) = &mut constraint.references
                && &target.table == table_name
            {
                rename_in_list(&mut target.columns, from, to);
            }
        }
    }
    for index in catalog.indexes.values_mut() {
        if &index.table == table_name {
            rename_in_list(&mut index.columns, from, to);
        }
    }
    for sequence in catalog.sequences.values_mut() {
        if let Some(owner) = &mut sequence.owned_by
            && &owner.table == table_name
            && owner.column == from
        {
            owner.column = to.into();
        }
    }
    for deps in dependency_lists(catalog) {
        for dep in deps {
            if let ObjectRef::Column(c) = dep
                && &c.table == table_name
                && c.column == from
            {
                c.column = to.into();
            }
        }
    }
}

/// Gives the entry under `from` the key `to` where it stands (the catalog's order is kept), and returns
/// it; `None` if `from` is missing or `to` is taken.
pub(super) fn rekey<'m, K, V, Q>(map: &'m mut IndexMap<K, V>, from: &Q, to: K) -> Option<&'m mut V>
where
    K: std::hash::Hash + Eq,
    Q: std::hash::Hash + indexmap::Equivalent<K> + ?Sized,
{
    let index = map.get_index_of(from)?;
    map.replace_index(index, to).ok()?;
    map.get_index_mut(index).map(|(_, value)| value)
}

fn rename_in_list(list: &mut [Name], from: &str, to: &str) {
    for item in list {
        if item == from {
            *item = to.into();
        }
    }
}

/// Old word → new word, for one definition.
type Words = IndexMap<String, String>;

/// The names that renames change, as words of definitions: per table, its renamed columns, and its
/// old name if the table itself was renamed (keyed by its new name).
#[derive(Default)]
struct Substitutions<'a> {
    columns: IndexMap<&'a QualifiedName, Words>,
    tables: IndexMap<&'a QualifiedName, Words>,
}

impl<'a> Substitutions<'a> {
    fn of(changes: &'a [Change]) -> Substitutions<'a> {
        let mut out = Substitutions::default();
        for change in changes {
            match change {
                Change::Column(ColumnChange::Rename { table, from, to }) => {
                    out.columns.entry(table).or_default().insert(from.clone(), to.clone());
                }
                // Definitions name tables by schema and name; a rename stays in its schema.
                Change::Table(TableChange::Rename { from, to }) if from.schema == to.schema => {
                    out.tables.entry(to).or_default().insert(from.name.to_string(), to.name.to_string());
                }
                _ => {}
            }
        }
        out
    }

    /// The words to substitute in a definition that reads `table`.
    fn words_of(&self, table: &QualifiedName) -> Option<Words> {
        merge([self.columns.get(table), self.tables.get(table)].into_iter().flatten())
    }
}

/// Adopts the desired text of every definition that the database rewrote by itself for the renames
/// in `changes`: the same as the desired one once the old names are replaced by the new ones.
fn adopt_rewritten_definitions(renamed: &mut Catalog, desired: &Catalog, changes: &[Change]) {
    let substitutions = Substitutions::of(changes);
    let words_of = |table: &QualifiedName| substitutions.words_of(table);
    for table in renamed.tables.values_mut() {
        let Some(want) = desired.tables.get(&table.name) else { continue };
        let own = words_of(&table.name);
        for constraint in table.constraints.values_mut() {
            let target = constraint.references.as_ref().and_then(|r| words_of(&r.table));
            let Some(words) = merge(own.iter().chain(target.iter())) else { continue };
            if let Some(other) = want.constraints.get(&constraint.name) {
                adopt(&mut constraint.definition, &other.definition, &words);
            }
        }
        let Some(words) = &own else { continue };
        for column in table.columns.values_mut() {
            let other = want.columns.get(&column.name).and_then(Column::generated);
            if let (Some(generated), Some(other)) = (column.generated(), other) {
                let mut generated = Box::<str>::from(generated);
                adopt(&mut generated, other, words);
                column.set_generated(Some(generated));
            }
        }
    }
    for index in renamed.indexes.values_mut() {
        let (Some(words), Some(other)) = (words_of(&index.table), desired.indexes.get(&index.name)) else { continue };
        adopt(&mut index.definition, &other.definition, &words);
    }
    for view in renamed.views.values_mut() {
        let read = view.depends_on.iter().filter_map(|dep| match dep {
            ObjectRef::Relation(name) => Some(name),
            ObjectRef::Column(column) => Some(&column.table),
            _ => None,
        });
        let words: Vec<Words> = read.filter_map(words_of).collect();
        let (Some(words), Some(other)) = (merge(words.iter()), desired.views.get(&view.name)) else { continue };
        adopt(&mut view.definition, &other.definition, &words);
    }
    for (key, policy) in renamed.policies.iter_mut() {
        let (Some(words), Some(other)) = (words_of(&policy.table), desired.policies.get(key)) else { continue };
        for (mine, theirs) in [(&mut policy.using, &other.using), (&mut policy.with_check, &other.with_check)] {
            if let (Some(mine), Some(theirs)) = (mine, theirs) {
                adopt(mine, theirs, &words);
            }
        }
    }
    for (key, trigger) in renamed.triggers.iter_mut() {
        let (Some(words), Some(other)) = (words_of(&trigger.table), desired.triggers.get(key)) else { continue };
        adopt(&mut trigger.definition, &other.definition, &words);
    }
}

/// The union of substitutions; `None` if there are none, or if one word would become two different ones.
fn merge<'a>(parts: impl IntoIterator<Item = &'a Words>) -> Option<Words> {
    let mut all = Words::new();
    for (from, to) in parts.into_iter().flatten() {
        match all.get(from) {
            Some(existing) if existing != to => return None,
            _ => {
                all.insert(from.clone(), to.clone());
            }
        }
    }
    (!all.is_empty()).then_some(all)
}

/// Takes `desired` as `current`'s text if the two say the same once `words` are substituted in `current`.
/// `current` is a `String` (index and view definitions) or a `Box<str>` (constraint definitions,
/// generation expressions).
fn adopt<T: AsRef<str> + for<'d> From<&'d str>>(current: &mut T, desired: &str, words: &Words) {
    if current.as_ref() != desired && same_after_renames(current.as_ref(), desired, words) {
        *current = T::from(desired);
    }
}

/// Compares two definitions token by token, ignoring whitespace and identifier quoting, with the old
/// names of `words` read as the new ones in `current`. Text the tokenizer cannot read compares unequal.
fn same_after_renames(current: &str, desired: &str, words: &Words) -> bool {
    let dialect = GenericDialect {};
    let (Ok(a), Ok(b)) = (Tokenizer::new(&dialect, current).tokenize(), Tokenizer::new(&dialect, desired).tokenize())
    else {
        return false;
    };
    let canonical = |tokens: Vec<Token>| -> Vec<String> {
        let words = tokens.into_iter().filter_map(|token| match token {
            Token::Whitespace(_) => None,
            // Unquoted names fold to lower case; a quoted one is its text.
            Token::Word(word) if word.quote_style.is_some() => Some(word.value),
            Token::Word(word) => Some(word.value.to_lowercase()),
            other => Some(other.to_string()),
        });
        words.collect()
    };
    let (a, b) = (canonical(a), canonical(b));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let renamed = words.get(&a[i]);
        if renamed.unwrap_or(&a[i]) != &b[j] {
            return false;
        }
        // A view's output column keeps its old name: PostgreSQL prints `t.new AS old` where the query
        // said `t.old`.
        if renamed.is_some()
            && b.get(j + 1).is_some_and(|w| w == "as")
            && b.get(j + 2) == Some(&a[i])
            && a.get(i + 1).is_none_or(|w| w != "as")
        {
            j += 2;
        }
        // And back: `t.new AS old` renamed back to `t.old` is printed without the alias.
        if renamed.is_some()
            && a.get(i + 1).is_some_and(|w| w == "as")
            && a.get(i + 2) == Some(&b[j])
            && b.get(j + 1).is_none_or(|w| w != "as")
        {
            i += 2;
        }
        i += 1;
        j += 1;
    }
    i == a.len() && j == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(pairs: &[(&str, &str)]) -> Words {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn renamed_names_are_read_as_the_new_ones() {
        let w = words(&[("email", "email_address")]);
        assert!(same_after_renames(
            "CHECK ((POSITION(('@'::text) IN (email)) > 1))",
            "CHECK ((POSITION(('@'::text) IN (email_address)) > 1))",
            &w
        ));
        assert!(same_after_renames("btree (lower(email))", "btree (lower(\"email_address\"))", &w));
        // A different expression stays different, and so does a string that happens to hold the name.
        assert!(!same_after_renames("btree (lower(email))", "btree (upper(email_address))", &w));
        assert!(!same_after_renames("CHECK (x <> 'email')", "CHECK (x <> 'email_address')", &w));
        // A quoted name that differs from the unquoted one only in case is another name.
        assert!(!same_after_renames("btree (\"Email\")", "btree (email_address)", &w));
        // A view's output column keeps its name.
        assert!(same_after_renames("SELECT u.email, u.id FROM", "SELECT u.email_address AS email, u.id FROM", &w));
        let back = words(&[("email_address", "email")]);
        assert!(same_after_renames("SELECT u.email_address AS email, u.id FROM", "SELECT u.email, u.id FROM", &back));
        assert!(!same_after_renames("SELECT u.email AS e FROM", "SELECT u.email_address AS email AS e FROM", &w));
    }

    #[test]
    fn conflicting_substitutions_are_not_merged() {
        let (a, b) = (words(&[("id", "user_id")]), words(&[("id", "org_id")]));
        assert_eq!(merge([&a, &b]), None);
        assert_eq!(merge([&a, &a]), Some(a.clone()));
        assert_eq!(merge(std::iter::empty()), None);
    }
}
