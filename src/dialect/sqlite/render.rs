//! SQLite SQL for each [`Change`], and [`SqliteRenderer::adapt`], which turns what SQLite's
//! `ALTER TABLE` cannot do into table rebuilds.
//!
//! In place: `ADD COLUMN` (when SQLite allows it for that column), `DROP COLUMN` (when no key,
//! constraint or generated column uses it), `RENAME COLUMN`, `RENAME TO`, indexes, views, triggers.
//! Everything else on an existing table (type, nullability, default, collation or constraint
//! changes, table options) rebuilds it, following "Making Other Kinds Of Table Schema Changes" in
//! SQLite's documentation: create the new table under a temporary name, copy the rows of the columns
//! both sides share, drop the old table, rename the new one, then recreate its indexes and triggers
//! and the views and triggers that read it. The old table is dropped with foreign keys off, so no
//! `ON DELETE` action runs; the executor ([`super::connect::execute_script`]) turns them off around
//! the transaction and checks every foreign key before committing, and the rebuild itself refuses to
//! run when they are on.

use crate::diff::{Change, ChangeSet, TriggerChange, ViewChange};
use crate::diff::{ColumnChange, ConstraintChange, IndexChange, InheritanceChange, PartitionChange, TableChange};
use crate::model::*;
use crate::plan::{Blocks, LockMode, SqlRenderer, Statement, Unsupported};
use crate::safety::{Context, Hazard, HazardId, Severity};
use indexmap::{IndexMap, IndexSet};

/// A quoted identifier: always quoted, embedded quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A collation name: SQLite's own three as they are, any other quoted.
pub fn collation(name: &str) -> String {
    match name.to_ascii_uppercase().as_str() {
        upper @ ("BINARY" | "NOCASE" | "RTRIM") => upper.to_string(),
        _ => ident(name),
    }
}

/// A column's declared type, as `pragma_table_xinfo` reports it (unquoted). Written as it is when it
/// is one SQLite reads back as the same text (names that are not keywords, then at most a size in
/// parentheses); otherwise quoted, which SQLite reads as that same text. Never changed otherwise:
/// SQLite derives a column's affinity from every character of it, comments included.
pub fn type_name(data_type: &str) -> String {
    if super::normalize::is_plain_type(data_type) { data_type.to_string() } else { ident(data_type) }
}

pub struct SqliteRenderer;

/// SQLite has no online forms: it has one writer at a time, so any change holds the write lock while it runs.
impl crate::rewrite::LiveRenderer for SqliteRenderer {}

impl SqlRenderer for SqliteRenderer {
    /// SQLite has no statement that runs long without blocking: every statement holds the write lock.
    fn render(&self, change: &Change) -> Result<Vec<Statement>, Unsupported> {
        render(change)
    }

    fn adapt(&self, changes: ChangeSet, current: &Catalog, desired: &Catalog) -> ChangeSet {
        adapt(changes, current, desired)
    }

    fn hazards(&self, change: &Change, context: &Context) -> Vec<Hazard> {
        let mut out = crate::safety::default_hazards(change, context);
        // A rebuild copies the rows of the columns both versions share: a new NOT NULL column without a
        // default gets no value, and the copy fails if the table has rows; a column that becomes NOT
        // NULL without a default keeps its NULLs, and the copy fails if a row holds one. `DEFAULT
        // NULL` is no default here.
        if let Change::Table(TableChange::Rebuild { from, to }) = change
            && context.existing(&from.name)
        {
            let no_default = |c: &Column| c.default.as_deref().is_none_or(|d| d.trim().eq_ignore_ascii_case("NULL"));
            for (key, column) in &to.columns {
                if !column.not_null || !no_default(column) || column.generated().is_some() || column.identity.is_some()
                {
                    continue;
                }
                let message = match from.columns.get(key) {
                    None => format!(
                        "adds NOT NULL column {}.{} without a default, which fails if the table has rows",
                        to.name, column.name
                    ),
                    Some(old) if !old.not_null && old.generated().is_none() => format!(
                        "makes column {}.{} NOT NULL without a default, which fails if a row holds NULL",
                        to.name, column.name
                    ),
                    Some(_) => continue,
                };
                out.push(
                    Hazard::new(
                        HazardId::NotNullWithoutDefault,
                        Severity::High,
                        message,
                        "Give the column a default, or add it nullable, fill it, then make it NOT NULL",
                    )
                    .on(&from.name),
                );
            }
            // New columns that make up a whole UNIQUE or PRIMARY KEY constraint and take one constant
            // default: every row gets the same value, and the copy fails on a second row.
            let constant = |c: &Column| {
                c.generated().is_none()
                    && c.identity.is_none()
                    && c.default.as_deref().is_some_and(|d| {
                        super::normalize::is_literal_default(d) && !d.trim().eq_ignore_ascii_case("NULL")
                    })
            };
            for constraint in to.constraints.values() {
                if !matches!(constraint.kind, ConstraintKind::Unique | ConstraintKind::PrimaryKey)
                    || constraint.columns.is_empty()
                    || !constraint
                        .columns
                        .iter()
                        .all(|c| !from.columns.contains_key(c) && to.columns.get(c).is_some_and(&constant))
                {
                    continue;
                }
                let columns: Vec<&str> = constraint.columns.iter().map(Name::as_str).collect();
                out.push(
                    Hazard::new(
                        HazardId::UniqueConstantDefault,
                        Severity::High,
                        format!(
                            "adds {} ({}) to {} with one constant default for every row, which fails if the table has two rows or more",
                            if constraint.kind == ConstraintKind::Unique { "UNIQUE column" } else { "PRIMARY KEY column" },
                            columns.join(", "),
                            to.name
                        ),
                        "Add the column without the constraint, give every row its own value, then add the constraint",
                    )
                    .on(&from.name),
                );
            }
        }
        out
    }
}

/// A primary key written on its column: `PRIMARY KEY [DESC] [ON CONFLICT …] [AUTOINCREMENT]`.
struct InlineKey<'a> {
    key: &'a Constraint,
    descending: bool,
    autoincrement: bool,
}

fn column_definition(column: &Column, inline_key: Option<&InlineKey>) -> String {
    let mut sql = ident(&column.name);
    if !column.data_type.is_empty() {
        sql.push_str(&format!(" {}", type_name(&column.data_type)));
    }
    if let Some(InlineKey { key, descending, autoincrement }) = inline_key {
        sql.push_str(&format!(
            " CONSTRAINT {} PRIMARY KEY{}{}{}",
            ident(&key.name),
            if *descending { " DESC" } else { "" },
            conflict_clause(key),
            if *autoincrement { " AUTOINCREMENT" } else { "" }
        ));
    }
    if let Some(name) = column.collation() {
        sql.push_str(&format!(" COLLATE {}", collation(name)));
    }
    if let Some(generated) = column.generated() {
        sql.push_str(&format!(" GENERATED ALWAYS AS {generated}"));
    }
    if let Some(default) = &column.default {
        if is_literal(default) {
            sql.push_str(&format!(" DEFAULT {default}"));
        } else {
            sql.push_str(&format!(" DEFAULT {}", parenthesized(default)));
        }
    }
    if column.not_null {
        sql.push_str(" NOT NULL");
    }
    sql
}

/// The ` ON CONFLICT …` clause at the end of a key's definition (the introspection writes it last), to
/// write it on the key's column.
fn conflict_clause(key: &Constraint) -> &str {
    let tail = key.definition.rfind(" ON CONFLICT ").map_or("", |i| &key.definition[i..]);
    match tail {
        " ON CONFLICT ROLLBACK" | " ON CONFLICT FAIL" | " ON CONFLICT IGNORE" | " ON CONFLICT REPLACE" => tail,
        _ => "",
    }
}

/// The primary key that must be written on its column, and its column: an AUTOINCREMENT key (the
/// column's identity), and a descending key of one INTEGER column of a rowid table, which SQLite makes
/// the rowid when it is written as a table constraint but not when it is written on the column.
fn inline_key(table: &Table) -> Option<(&Name, InlineKey<'_>)> {
    let key = table.constraints.values().find(|c| c.kind == ConstraintKind::PrimaryKey)?;
    let [column] = key.columns.as_slice() else { return None };
    let autoincrement = table.columns.get(column)?.identity.is_some();
    let descending = key.definition.starts_with(&format!("PRIMARY KEY ({} DESC)", ident(column)))
        && table.columns.get(column)?.data_type.eq_ignore_ascii_case("INTEGER")
        && !table.options.iter().any(|o| o == "WITHOUT ROWID");
    (autoincrement || descending).then_some((column, InlineKey { key, descending, autoincrement }))
}

/// `CREATE TABLE` for a table under the given name.
fn create_table(table: &Table, name: &str) -> String {
    let inline = inline_key(table);
    let mut lines: Vec<String> = table
        .columns
        .values()
        .map(|c| column_definition(c, inline.as_ref().filter(|(column, _)| **column == c.name).map(|(_, key)| key)))
        .collect();
    for c in table.constraints.values() {
        if inline.as_ref().is_none_or(|(_, key)| key.key != c) {
            lines.push(format!("CONSTRAINT {} {}", ident(&c.name), c.definition));
        }
    }
    let options = if table.options.is_empty() { String::new() } else { format!(" {}", table.options.join(", ")) };
    format!("CREATE TABLE {} (\n    {}\n){options};", ident(name), lines.join(",\n    "))
}

/// SQLite's one lock that keeps others waiting: the database's write lock, which every statement that
/// changes the schema holds until its transaction commits (readers go on in WAL mode). Statements state it
/// on the table they change.
pub const WRITE_LOCK: LockMode =
    LockMode { strength: 1, name: "EXCLUSIVE (database write lock)", blocks: Blocks::Writes };

/// Statements that hold the write lock while they change `table`.
fn writing(sql: Vec<String>, table: &QualifiedName) -> Vec<Statement> {
    sql.into_iter().map(|sql| Statement::locking(sql).taking(WRITE_LOCK, table)).collect()
}

fn render(change: &Change) -> Result<Vec<Statement>, Unsupported> {
    Ok(match change {
        Change::Table(TableChange::Create(t)) => Statement::all_locking(vec![create_table(t, &t.name.name)]),
        Change::Table(TableChange::Drop(t)) => writing(vec![format!("DROP TABLE {};", ident(&t.name.name))], &t.name),
        Change::Table(TableChange::Rename { from, to }) => {
            writing(vec![format!("ALTER TABLE {} RENAME TO {};", ident(&from.name), ident(&to.name))], from)
        }
        Change::Column(ColumnChange::Add { table, column }) => writing(
            vec![format!("ALTER TABLE {} ADD COLUMN {};", ident(&table.name), column_definition(column, None))],
            table,
        ),
        Change::Column(ColumnChange::Drop { table, column }) => {
            writing(vec![format!("ALTER TABLE {} DROP COLUMN {};", ident(&table.name), ident(&column.name))], table)
        }
        Change::Column(ColumnChange::Rename { table, from, to }) => writing(
            vec![format!("ALTER TABLE {} RENAME COLUMN {} TO {};", ident(&table.name), ident(from), ident(to))],
            table,
        ),
        Change::Index(IndexChange::Create(i)) => writing(
            vec![format!(
                "CREATE {}INDEX {} ON {} {};",
                if i.unique { "UNIQUE " } else { "" },
                ident(&i.name.name),
                ident(&i.table.name),
                i.definition
            )],
            &i.table,
        ),
        Change::Index(IndexChange::Drop(i)) => writing(vec![format!("DROP INDEX {};", ident(&i.name.name))], &i.table),
        Change::View(ViewChange::Create(v)) => {
            // A view whose query does not prepare any more has no known columns: it is written as it was
            // read, without a list.
            let columns: Vec<String> = v.columns.iter().map(|c| ident(c)).collect();
            let list = if columns.is_empty() { String::new() } else { format!(" ({})", columns.join(", ")) };
            Statement::all_locking(vec![format!("CREATE VIEW {}{list} AS\n{};", ident(&v.name.name), v.definition)])
        }
        Change::View(ViewChange::Drop(v)) => writing(vec![format!("DROP VIEW {};", ident(&v.name.name))], &v.name),
        Change::Trigger(TriggerChange::Create(t)) => writing(vec![format!("{};", t.definition)], &t.table),
        Change::Trigger(TriggerChange::Drop(t)) => {
            writing(vec![format!("DROP TRIGGER {};", ident(&t.name.name))], &t.table)
        }
        Change::Table(TableChange::Rebuild { from, to }) => writing(rebuild(from, to), &from.name),
        // SQLite has no NOT VALID constraints and no comments.
        Change::Constraint(ConstraintChange::Validate { .. }) | Change::Comment(_) => Vec::new(),
        // `adapt` turns both into what SQLite can do: a rebuild, and a drop and create.
        Change::Constraint(ConstraintChange::Rename { .. })
        | Change::Index(IndexChange::Rename { .. })
        | Change::Column(ColumnChange::Alter { .. })
        | Change::Constraint(ConstraintChange::Add { .. })
        | Change::Constraint(ConstraintChange::Drop { .. })
        | Change::Partition(PartitionChange::Attach { .. })
        | Change::Partition(PartitionChange::Detach { .. })
        | Change::Table(TableChange::CopyRows { .. })
        | Change::Table(TableChange::SetAside { .. })
        | Change::Table(TableChange::SetStorageParameters { .. })
        | Change::Table(TableChange::SetUnlogged { .. })
        | Change::Policy(_)
        | Change::Privilege(_)
        | Change::Function(_)
        | Change::Sequence(_)
        | Change::Enum(_)
        | Change::Domain(_)
        | Change::CompositeType(_)
        | Change::RangeType(_)
        | Change::Extension(_)
        | Change::Schema(_)
        | Change::Collation(_)
        | Change::Table(TableChange::SetReplicaIdentity { .. })
        | Change::Inheritance(InheritanceChange::Inherit { .. })
        | Change::Inheritance(InheritanceChange::NoInherit { .. })
        | Change::Column(ColumnChange::DropKeptByChildren { .. }) => {
            return Err(Unsupported::new("SQLite", change, "it has no such object or statement"));
        }
    })
}

/// The table rebuild. `from` is the table as it is in the database (its old name); its columns are
/// keyed by their name in `to`, so that a column renamed in the same migration is copied into its
/// new name (see [`adapt`]).
///
/// A renamed table, and its renamed columns, are renamed in place first: SQLite then rewrites the
/// foreign keys of the other tables that name them, which a copy from the old names left pointing at
/// a table or column that no longer exists. A column whose new name the old table still uses (names
/// swapped, or taken from a dropped column) is copied from its old name instead.
fn rebuild(from: &Table, to: &Table) -> Vec<String> {
    let temporary = format!("{}__schema_new", to.name.name);
    let guard = ident("schema_rebuild_guard");
    let mut sql = vec![
        // Dropping the old table with foreign keys on would run the ON DELETE actions of the tables
        // that reference it (and their rows would be lost): refuse to run in that case.
        format!(
            "CREATE TEMP TABLE {guard} (\"foreign_keys\" INTEGER CONSTRAINT {} CHECK (\"foreign_keys\" = 0));",
            ident("PRAGMA foreign_keys must be OFF (outside the transaction) while a table is rebuilt")
        ),
        format!("INSERT INTO temp.{guard} SELECT \"foreign_keys\" FROM pragma_foreign_keys;"),
        format!("DROP TABLE temp.{guard};"),
    ];
    let mut from = from.clone();
    if from.name != to.name {
        sql.push(format!("ALTER TABLE {} RENAME TO {};", ident(&from.name.name), ident(&to.name.name)));
        from.name = to.name.clone();
    }
    let old_names: Vec<Name> = from.columns.values().map(|c| c.name.clone()).collect();
    for (key, column) in from.columns.iter_mut() {
        if *key != column.name && !old_names.contains(key) {
            sql.push(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {};",
                ident(&from.name.name),
                ident(&column.name),
                ident(key)
            ));
            column.name = key.clone();
        }
    }
    let from = &from;
    sql.push(create_table(to, &temporary));
    let shared: Vec<(&Name, &Column)> =
        from.columns.iter().filter(|(key, _)| to.columns.get(*key).is_some_and(|c| c.generated().is_none())).collect();
    if !shared.is_empty() {
        let into: Vec<String> = shared.iter().map(|(key, _)| ident(key)).collect();
        // A column that becomes NOT NULL takes its new default where it held NULL (without a default,
        // the copy fails and the transaction leaves the table as it was).
        let select: Vec<String> = shared
            .iter()
            .map(|(key, c)| match to.columns.get(*key) {
                Some(target) if target.not_null && !c.not_null && target.default.is_some() => {
                    format!(
                        "COALESCE({}, {})",
                        ident(&c.name),
                        parenthesized(target.default.as_deref().unwrap_or_default())
                    )
                }
                _ => ident(&c.name),
            })
            .collect();
        sql.push(format!(
            "INSERT INTO {} ({}) SELECT {} FROM {};",
            ident(&temporary),
            into.join(", "),
            select.join(", "),
            ident(&from.name.name)
        ));
    }
    if shared.is_empty() {
        // No column in common: the rows are kept all the same, each new column taking its default
        // (nothing was copied, and every row was lost). A rowid table is filled by its rowids; a
        // WITHOUT ROWID table needs its key, which a NULL refuses (the copy fails instead of emptying
        // the table).
        let rowid = |t: &Table| !t.options.iter().any(|o| o == "WITHOUT ROWID");
        let target = if rowid(to) {
            Some("rowid".to_string())
        } else {
            to.columns.values().find(|c| c.generated().is_none()).map(|c| ident(&c.name))
        };
        let source = if rowid(from) && rowid(to) { "rowid" } else { "NULL" };
        if let Some(target) = target {
            sql.push(format!(
                "INSERT INTO {} ({target}) SELECT {source} FROM {};",
                ident(&temporary),
                ident(&from.name.name)
            ));
        }
    }
    let counts = |t: &Table| t.columns.values().any(|c| c.identity.is_some());
    if counts(from) && counts(to) {
        // Keep the AUTOINCREMENT counter: ids of deleted rows are never handed out again.
        sql.push(format!("DELETE FROM sqlite_sequence WHERE name = {};", literal(&temporary)));
        sql.push(format!(
            "INSERT INTO sqlite_sequence (name, seq) SELECT {}, seq FROM sqlite_sequence WHERE name = {};",
            literal(&temporary),
            literal(&from.name.name)
        ));
    }
    sql.push(format!("DROP TABLE {};", ident(&from.name.name)));
    sql.push(format!("ALTER TABLE {} RENAME TO {};", ident(&temporary), ident(&to.name.name)));
    sql
}

/// A default that may be written without parentheses: a literal, NULL, TRUE, FALSE or CURRENT_*.
fn is_literal(default: &str) -> bool {
    super::normalize::is_literal_default(default)
}

/// A default expression as `pragma_table_xinfo` reports it (the text between the parentheses it was
/// written in, which may end in a `--` comment), in parentheses again. A line break ends such a
/// comment before the closing parenthesis; SQLite leaves it out of the text it stores again, so the
/// default reads back byte for byte.
fn parenthesized(default: &str) -> String {
    if super::normalize::ends_in_line_comment(default) { format!("({default}\n)") } else { format!("({default})") }
}

/// Whether `ALTER TABLE … ADD COLUMN` can add this column (SQLite's documented restrictions).
fn can_add(column: &Column) -> bool {
    let default_ok = column
        .default
        .as_deref()
        .is_none_or(|d| is_literal(d) && !d.trim().to_ascii_uppercase().starts_with("CURRENT_"));
    let not_null_ok = !column.not_null
        || column.default.as_deref().is_some_and(|d| !d.trim().eq_ignore_ascii_case("NULL"))
        || column.generated().is_some();
    let generated_ok = column.generated().is_none_or(|g| !g.ends_with("STORED"));
    default_ok && not_null_ok && generated_ok && column.identity.is_none()
}

/// The table a change alters in place, if it is a change to an existing table's columns or
/// constraints.
fn altered_table(change: &Change) -> Option<&QualifiedName> {
    match change {
        Change::Column(ColumnChange::Add { table, .. })
        | Change::Column(ColumnChange::Drop { table, .. })
        | Change::Column(ColumnChange::Alter { table, .. })
        | Change::Constraint(ConstraintChange::Add { table, .. })
        | Change::Constraint(ConstraintChange::Drop { table, .. })
        | Change::Constraint(ConstraintChange::Validate { table, .. })
        | Change::Constraint(ConstraintChange::Rename { table, .. })
        | Change::Column(ColumnChange::Rename { table, .. }) => Some(table),
        _ => None,
    }
}

fn without_fk_targets(mut table: Table) -> Table {
    // SQLite resolves a foreign key's parent when rows are written, not when the table is created:
    // the target is needed for nothing here, and leaving it out lets tables that reference each
    // other be created or rebuilt in any order.
    for c in table.constraints.values_mut() {
        c.references = None;
    }
    table
}

fn adapt(changes: ChangeSet, current: &Catalog, desired: &Catalog) -> ChangeSet {
    // SQLite cannot rename an index: it is dropped and created under its new name.
    let changes: Vec<Change> = changes
        .changes
        .into_iter()
        .flat_map(|change| match change {
            Change::Index(IndexChange::Rename { from, to, .. }) => {
                let old = current.indexes.get(&from).cloned().map(|i| Change::Index(IndexChange::Drop(i)));
                let created = desired.indexes.get(&to).cloned().map(|i| Change::Index(IndexChange::Create(i)));
                old.into_iter().chain(created).collect()
            }
            other => vec![other],
        })
        .collect();
    let created: IndexSet<QualifiedName> = changes
        .iter()
        .filter_map(|c| if let Change::Table(TableChange::Create(t)) = c { Some(t.name.clone()) } else { None })
        .collect();
    let dropped: IndexSet<QualifiedName> = changes
        .iter()
        .filter_map(|c| if let Change::Table(TableChange::Drop(t)) = c { Some(t.name.clone()) } else { None })
        .collect();
    let renamed_from: IndexMap<QualifiedName, QualifiedName> = changes
        .iter()
        .filter_map(|c| {
            if let Change::Table(TableChange::Rename { from, to }) = c {
                Some((to.clone(), from.clone()))
            } else {
                None
            }
        })
        .collect();

    let mut column_renames: IndexMap<QualifiedName, Vec<(String, String)>> = IndexMap::new();
    for change in &changes {
        if let Change::Column(ColumnChange::Rename { table, from, to }) = change {
            column_renames.entry(table.clone()).or_default().push((from.clone(), to.clone()));
        }
    }

    // Tables that must be rebuilt, and tables that lose a column in place.
    let mut rebuilt: IndexSet<QualifiedName> = IndexSet::new();
    let mut narrowed: IndexSet<QualifiedName> = IndexSet::new();
    for change in &changes {
        let Some(table) = altered_table(change) else { continue };
        if created.contains(table) || dropped.contains(table) {
            continue;
        }
        let old = renamed_from.get(table).unwrap_or(table);
        match change {
            Change::Column(ColumnChange::Add { column, .. }) if can_add(column) => {}
            Change::Column(ColumnChange::Rename { .. }) | Change::Constraint(ConstraintChange::Validate { .. }) => {}
            Change::Column(ColumnChange::Drop { column, .. }) => {
                let have = current.tables.get(old);
                let used = have.is_some_and(|t| {
                    t.constraints.values().any(|c| c.columns.contains(&column.name))
                        || t.columns.values().any(|c| c.generated().is_some())
                });
                if used || column.identity.is_some() {
                    rebuilt.insert(table.clone());
                } else {
                    narrowed.insert(table.clone());
                }
            }
            _ => {
                rebuilt.insert(table.clone());
            }
        }
    }
    for (name, want) in &desired.tables {
        let old = renamed_from.get(name).unwrap_or(name);
        if let Some(have) = current.tables.get(old)
            && have.options != want.options
        {
            rebuilt.insert(name.clone());
        }
    }
    narrowed.retain(|t| !rebuilt.contains(t));
    // Tables renamed in place, or whose columns are: SQLite rewrites the views and triggers that name
    // them, quoting the new names, so these are created again from the declared text instead.
    let renamed: IndexSet<QualifiedName> = renamed_from
        .keys()
        .chain(column_renames.keys())
        .filter(|t| !rebuilt.contains(*t) && !created.contains(*t))
        .cloned()
        .collect();

    // Views that read a rebuilt, narrowed or renamed table (directly or through other views) are
    // recreated: SQLite checks every view when a table is renamed or loses a column.
    let disturbed_tables: IndexSet<QualifiedName> = rebuilt.iter().chain(&narrowed).chain(&renamed).cloned().collect();
    let mut disturbed: IndexSet<QualifiedName> = disturbed_tables
        .iter()
        .flat_map(|t| [t.clone(), renamed_from.get(t).cloned().unwrap_or_else(|| t.clone())])
        .collect();
    let mut views: IndexSet<QualifiedName> = IndexSet::new();
    loop {
        let before = views.len();
        for (name, view) in &current.views {
            if !views.contains(name)
                && view.depends_on.iter().any(|d| matches!(d, ObjectRef::Relation(r) if disturbed.contains(r)))
            {
                views.insert(name.clone());
                disturbed.insert(name.clone());
            }
        }
        if views.len() == before {
            break;
        }
    }
    let touches = |t: &Trigger| {
        disturbed.contains(&t.table)
            || t.depends_on.iter().any(|d| matches!(d, ObjectRef::Relation(r) if disturbed.contains(r)))
    };
    let triggers: IndexSet<QualifiedName> = current
        .triggers
        .values()
        .filter(|t| touches(t))
        .chain(desired.triggers.values().filter(|t| touches(t)))
        .map(|t| t.name.clone())
        .collect();

    // New tables get their foreign keys in CREATE TABLE: SQLite cannot add them later.
    let mut new_foreign_keys: IndexMap<QualifiedName, Vec<Constraint>> = IndexMap::new();
    let mut out: Vec<Change> = Vec::new();
    for change in changes {
        let keep = match &change {
            Change::Constraint(ConstraintChange::Add { table, constraint }) if created.contains(table) => {
                new_foreign_keys.entry(table.clone()).or_default().push(constraint.clone());
                false
            }
            Change::Constraint(ConstraintChange::Drop { table, .. }) if dropped.contains(table) => false,
            // A rebuilt table is renamed, and its columns, by the rebuild itself (see [`rebuild`]).
            Change::Table(TableChange::Rename { to, .. }) => !rebuilt.contains(to),
            c if altered_table(c).is_some_and(|t| rebuilt.contains(t)) => false,
            Change::Index(IndexChange::Create(i)) | Change::Index(IndexChange::Drop(i)) => !rebuilt.contains(&i.table),
            Change::View(ViewChange::Create(v) | ViewChange::Drop(v)) => !views.contains(&v.name),
            Change::Trigger(TriggerChange::Create(t) | TriggerChange::Drop(t)) => !triggers.contains(&t.name),
            _ => true,
        };
        if keep {
            out.push(change);
        }
    }
    for change in &mut out {
        if let Change::Table(TableChange::Create(t)) = change {
            for fk in new_foreign_keys.shift_remove(&t.name).unwrap_or_default() {
                t.constraints.insert(fk.name.clone(), fk);
            }
            *t = without_fk_targets(t.clone());
        }
    }
    for name in &views {
        out.push(Change::View(ViewChange::Drop(current.views[name].clone())));
    }
    for trigger in current.triggers.values().filter(|t| triggers.contains(&t.name)) {
        // Dropped explicitly, also those whose table or view goes away with the plan: renaming a table
        // (a rebuilt copy into place, or a renamed one) checks every trigger, and one that reads a
        // table dropped or not yet back fails it ("error in trigger …: no such table").
        out.push(Change::Trigger(TriggerChange::Drop(trigger.clone())));
    }
    for name in &rebuilt {
        let old_name = renamed_from.get(name).unwrap_or(name);
        let (Some(have), Some(want)) = (current.tables.get(old_name), desired.tables.get(name)) else { continue };
        let from = keyed_by_new_names(have, column_renames.get(name).map(Vec::as_slice).unwrap_or_default());
        out.push(Change::Table(TableChange::Rebuild { from, to: without_fk_targets(want.clone()) }));
        for index in desired.indexes.values().filter(|i| &i.table == name) {
            out.push(Change::Index(IndexChange::Create(index.clone())));
        }
    }
    for name in &views {
        if let Some(view) = desired.views.get(name) {
            out.push(Change::View(ViewChange::Create(view.clone())));
        }
    }
    for trigger in desired.triggers.values().filter(|t| triggers.contains(&t.name)) {
        out.push(Change::Trigger(TriggerChange::Create(trigger.clone())));
    }
    ChangeSet { changes: out }
}

/// The table with each renamed column keyed by its new name (its `name` stays the old one), which
/// is how [`rebuild`] learns to copy it into the new column.
fn keyed_by_new_names(table: &Table, renames: &[(String, String)]) -> Table {
    let mut out = table.clone();
    out.columns = table
        .columns
        .iter()
        .map(|(key, column)| {
            let new = renames.iter().find(|(from, _)| from == key).map(|(_, to)| Name::from(to.as_str()));
            (new.unwrap_or_else(|| key.clone()), column.clone())
        })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::ChangeSet;
    use crate::model::Namespace;

    #[test]
    fn a_change_sqlite_cannot_express_is_an_error_naming_it_not_a_comment_in_the_sql() {
        let change =
            Change::Schema(crate::diff::SchemaChange::Create(Namespace { name: "billing".into(), comment: None }));
        let error = SqliteRenderer.render(&change).expect_err("SQLite has no schemas to create");
        assert_eq!(error.to_string(), "SQLite cannot create schema billing: it has no such object or statement");
        let planned = crate::plan::build(&ChangeSet { changes: vec![change] }, &SqliteRenderer);
        assert!(
            matches!(&planned, Err(crate::plan::PlanError::Unsupported(e)) if e.change == "create schema billing"),
            "{planned:?}"
        );
    }
}
