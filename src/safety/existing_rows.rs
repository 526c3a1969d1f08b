//! Existing rows that would make a change fail: the conditions a plan's changes put on the rows a live
//! table already holds (a column becomes NOT NULL, a key becomes unique, a foreign key or CHECK is
//! validated, values are converted to another type, enum labels are removed). This module says what
//! must hold, under the live database's names; the dialect counts the rows that break it
//! ([`crate::dialect::count_violations`]) and the counts become hazards on the steps that would fail.

use super::{Hazard, HazardId, Severity};
use crate::diff::Change;
use crate::diff::{ColumnChange, ConstraintChange, IndexChange, TableChange};
use crate::model::{Catalog, Column, ConstraintKind, ForeignKeyTarget, Index, Name, QualifiedName, Table};
use indexmap::IndexMap;

/// One condition on the rows of one live table.
#[derive(Debug, Clone, PartialEq)]
pub struct RowCheck {
    /// The table as the live database names it.
    pub table: QualifiedName,
    /// Columns that identify a row in the samples (the primary key); empty: the dialect's row id.
    pub keys: Vec<Name>,
    /// The rows of partitions (or inheriting children) count too. False for keys and foreign keys of a
    /// plain table, which apply to its own rows only.
    pub with_children: bool,
    pub rule: Rule,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    NotNull {
        column: Name,
    },
    /// A `UNIQUE` or `PRIMARY KEY` constraint over plain columns.
    Unique {
        constraint: Name,
        /// As the database renders it (SQLite keeps a key's collations there).
        definition: String,
        columns: Vec<Name>,
        primary_key: bool,
        nulls_distinct: bool,
    },
    /// A unique index, whose keys and predicate the dialect reads from its definition.
    UniqueIndex {
        index: Index,
    },
    ForeignKey {
        constraint: Name,
        columns: Vec<Name>,
        /// Under its live name; `None` when the plan creates the referenced table (no row can match).
        target: Option<ForeignKeyTarget>,
        match_full: bool,
    },
    Check {
        constraint: Name,
        /// The boolean expression, as the database renders it.
        expression: String,
    },
    /// The column's values converted to `to`'s type, the way the dialect's plan converts them.
    Converts {
        from: Column,
        to: Column,
    },
    /// Values that are labels an enum type loses.
    RemovedLabels {
        column: Name,
        labels: Vec<String>,
        array: bool,
    },
}

/// What counting the rows that break a check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `rows` rows break it (0: none); `samples` identifies a few of them (`id=4`, or for a key the
    /// duplicated values with their count).
    Counted { rows: u64, samples: Vec<String> },
    /// The rows were not counted, and why (the table is larger than the limit, the count timed out, the
    /// database could not evaluate the condition before the plan runs).
    NotChecked(String),
}

/// How far counting goes: tables whose row estimate is above `max_rows` are not read, and each count
/// stops after `timeout`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_rows: u64,
    pub timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_rows: 10_000_000, timeout: std::time::Duration::from_secs(10) }
    }
}

/// How many sample keys a hazard names.
pub const SAMPLES: usize = 5;

/// The checks of every step of `plan` whose change the rows of `current` could make fail, as (step
/// index, check). Objects the plan creates hold no rows and are not checked. `desired` is what the plan
/// reaches (a dialect's changes may leave out what they do not need, such as a rebuilt table's
/// foreign key targets with SQLite).
pub fn checks(plan: &[&Change], current: &Catalog, desired: &Catalog) -> Vec<(usize, RowCheck)> {
    let names = LiveNames::of(plan);
    let mut out = Vec::new();
    for (i, change) in plan.iter().enumerate() {
        for check in change_checks(change, current, desired, &names) {
            // A primary key's NOT NULL is also the column's own change: one hazard, on the first step.
            if !out.iter().any(|(_, seen)| *seen == check) {
                out.push((i, check));
            }
        }
    }
    out
}

/// New names the plan gives to existing tables and columns, to find them under their live names.
#[derive(Default)]
struct LiveNames {
    tables: IndexMap<QualifiedName, QualifiedName>,
    columns: IndexMap<(QualifiedName, Name), Name>,
}

impl LiveNames {
    fn of(plan: &[&Change]) -> LiveNames {
        let mut names = LiveNames::default();
        for change in plan {
            match change {
                Change::Table(TableChange::Rename { from, to }) => {
                    names.tables.insert(to.clone(), from.clone());
                }
                Change::Column(ColumnChange::Rename { table, from, to }) => {
                    names.columns.insert((table.clone(), Name::from(to.as_str())), Name::from(from.as_str()));
                }
                _ => {}
            }
        }
        names
    }

    fn table<'a>(&'a self, name: &'a QualifiedName) -> &'a QualifiedName {
        self.tables.get(name).unwrap_or(name)
    }

    fn column(&self, table: &QualifiedName, column: &Name) -> Name {
        self.columns.get(&(table.clone(), column.clone())).cloned().unwrap_or_else(|| column.clone())
    }

    /// The live names of `columns` of `table` (`live` is the table as it is), `None` when one is new: a
    /// column the plan adds has no values yet, so a condition on it is not on existing rows.
    fn live_columns(&self, table: &QualifiedName, live: &Table, columns: &[Name]) -> Option<Vec<Name>> {
        columns
            .iter()
            .map(|c| self.column(table, c))
            .map(|c| live.columns.contains_key(c.as_str()).then_some(c))
            .collect()
    }
}

/// A check on the rows of `live`; a partitioned table's partitions always count.
fn row_check(live: &Table, with_children: bool, rule: Rule) -> RowCheck {
    RowCheck {
        table: live.name.clone(),
        keys: primary_key_of(live),
        with_children: with_children || live.partition_key.is_some(),
        rule,
    }
}

fn change_checks(change: &Change, current: &Catalog, desired: &Catalog, names: &LiveNames) -> Vec<RowCheck> {
    let live_table = |table: &QualifiedName| current.tables.get(names.table(table));
    let check = row_check;
    match change {
        Change::Column(ColumnChange::Alter { table, from, to }) => {
            let Some(live) = live_table(table) else { return Vec::new() };
            let mut out = Vec::new();
            let column = names.column(table, &from.name);
            if !live.columns.contains_key(column.as_str()) {
                return out;
            }
            let retyped = from.data_type != to.data_type;
            // A generated column's values are computed anew from its expression, not converted.
            if retyped && to.generated().is_none() {
                let mut from = from.clone();
                from.name = column.clone();
                out.push(check(live, true, Rule::Converts { from, to: to.clone() }));
            }
            if to.not_null && !from.not_null {
                out.push(check(live, true, Rule::NotNull { column }));
            }
            out
        }
        Change::Constraint(ConstraintChange::Add { table, constraint })
        | Change::Constraint(ConstraintChange::Validate { table, constraint }) => {
            let validate = matches!(change, Change::Constraint(ConstraintChange::Validate { .. }));
            let Some(live) = live_table(table) else { return Vec::new() };
            constraint_checks(table, live, constraint, validate, current, names)
        }
        Change::Index(IndexChange::Create(index)) if index.unique => {
            let Some(live) = live_table(&index.table) else { return Vec::new() };
            let renamed = |live_names: Vec<Name>| live_names != index.columns;
            if names.live_columns(&index.table, live, &index.columns).is_none_or(renamed)
                || names.tables.contains_key(&index.table)
            {
                // An index on columns the plan adds or renames reads values the live table does not have
                // under those names.
                return Vec::new();
            }
            vec![check(live, false, Rule::UniqueIndex { index: index.clone() })]
        }
        Change::Enum(crate::diff::EnumChange::Rebuild { from, to, columns }) => {
            let labels: Vec<String> = from.labels.iter().filter(|l| !to.labels.contains(l)).cloned().collect();
            if labels.is_empty() {
                return Vec::new();
            }
            columns
                .iter()
                .filter_map(|usage| {
                    let live = live_table(&usage.column.table)?;
                    let column = names.column(&usage.column.table, &usage.column.column);
                    live.columns.contains_key(column.as_str()).then(|| {
                        let array = usage.data_type.ends_with("[]");
                        check(live, true, Rule::RemovedLabels { column, labels: labels.clone(), array })
                    })
                })
                .collect()
        }
        // A table rebuilt by copying its rows into the new shape (SQLite): the copy fails on a row that
        // breaks what the new shape adds.
        Change::Table(TableChange::Rebuild { from, to }) => {
            rebuild_checks(from, desired.tables.get(&to.name).unwrap_or(to))
        }
        _ => Vec::new(),
    }
}

fn constraint_checks(
    table: &QualifiedName,
    live: &Table,
    constraint: &crate::model::Constraint,
    validate: bool,
    current: &Catalog,
    names: &LiveNames,
) -> Vec<RowCheck> {
    let check = row_check;
    let live_columns = |table: &QualifiedName, live: &Table, columns: &[Name]| names.live_columns(table, live, columns);
    // Added NOT VALID, a foreign key or CHECK leaves the existing rows alone until it is validated.
    if !validate
        && !constraint.validated
        && matches!(constraint.kind, ConstraintKind::ForeignKey | ConstraintKind::Check)
    {
        return Vec::new();
    }
    let name = constraint.name.clone();
    match constraint.kind {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
            let Some(columns) = live_columns(table, live, &constraint.columns) else { return Vec::new() };
            let primary_key = constraint.kind == ConstraintKind::PrimaryKey;
            let mut out: Vec<RowCheck> = Vec::new();
            if primary_key {
                for column in &columns {
                    if !live.columns[column.as_str()].not_null {
                        out.push(check(live, true, Rule::NotNull { column: column.clone() }));
                    }
                }
            }
            let nulls_distinct = !constraint.definition.contains("NULLS NOT DISTINCT");
            let definition = constraint.definition.to_string();
            out.push(check(
                live,
                false,
                Rule::Unique { constraint: name, definition, columns, primary_key, nulls_distinct },
            ));
            out
        }
        ConstraintKind::ForeignKey => {
            let (Some(columns), Some(target)) =
                (live_columns(table, live, &constraint.columns), &constraint.references)
            else {
                return Vec::new();
            };
            let target_table = names.table(&target.table);
            let target = match current.tables.get(target_table) {
                Some(referenced) => {
                    let Some(columns) = live_columns(&target.table, referenced, &target.columns) else {
                        return Vec::new();
                    };
                    Some(ForeignKeyTarget { table: target_table.clone(), columns })
                }
                None => None,
            };
            let match_full = constraint.definition.contains(" MATCH FULL");
            vec![check(live, false, Rule::ForeignKey { constraint: name, columns, target, match_full })]
        }
        ConstraintKind::Check => {
            let Some(expression) = check_expression(&constraint.definition) else { return Vec::new() };
            let inherited = !constraint.definition.contains(" NO INHERIT");
            // The expression names the columns as the plan leaves them: one the plan renames or adds is
            // not found in the live table, and the dialect reports the check as not done.
            vec![check(live, inherited, Rule::Check { constraint: name, expression })]
        }
        ConstraintKind::Exclusion => Vec::new(),
    }
}

/// `CHECK ((price > 0)) NO INHERIT NOT VALID` → `(price > 0)`: the database's rendering, whose expression
/// is the parenthesised text after `CHECK`.
fn check_expression(definition: &str) -> Option<String> {
    let rest = definition.trim_start().strip_prefix("CHECK")?.trim_start();
    if !rest.starts_with('(') {
        return None;
    }
    // The closing parenthesis of the first group, skipping quoted text.
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(rest[..=i].to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// A SQLite rebuild copies every row into the new shape: columns that become NOT NULL, and keys, checks
/// and foreign keys the new shape adds, must hold for the rows copied.
fn rebuild_checks(from: &Table, to: &Table) -> Vec<RowCheck> {
    let check = row_check;
    let mut out = Vec::new();
    for (name, column) in &to.columns {
        let Some(old) = from.columns.get(name) else { continue };
        // The copy gives a NULL the column's new default (COALESCE), so only a column without one fails.
        if column.not_null && !old.not_null && column.default.is_none() {
            out.push(check(from, true, Rule::NotNull { column: old.name.clone() }));
        }
    }
    let kept = |c: &crate::model::Constraint| from.constraints.values().any(|o| o.definition == c.definition);
    for constraint in to.constraints.values().filter(|c| !kept(c)) {
        // The old table's columns are keyed by their new names and carry their live ones.
        let Some(columns): Option<Vec<Name>> =
            constraint.columns.iter().map(|c| from.columns.get(c.as_str()).map(|old| old.name.clone())).collect()
        else {
            continue;
        };
        // The definition names the columns by their new names. Where one is renamed by the rebuild it
        // cannot be read on the live table: SQLite would even take an unknown "name" for a string.
        let renamed = columns != constraint.columns;
        let name = constraint.name.clone();
        let rule = match constraint.kind {
            ConstraintKind::PrimaryKey | ConstraintKind::Unique => Rule::Unique {
                constraint: name,
                definition: if renamed { String::new() } else { constraint.definition.to_string() },
                columns,
                primary_key: constraint.kind == ConstraintKind::PrimaryKey,
                nulls_distinct: true,
            },
            // An expression over renamed columns is not evaluated on the old ones (see above).
            ConstraintKind::Check if renamed || from.columns.iter().any(|(new, old)| *new != old.name) => continue,
            ConstraintKind::Check => {
                let Some(expression) = check_expression(&constraint.definition) else { continue };
                Rule::Check { constraint: name, expression }
            }
            ConstraintKind::ForeignKey => {
                let Some(target) = &constraint.references else { continue };
                Rule::ForeignKey {
                    constraint: name,
                    columns,
                    target: Some((**target).clone()),
                    match_full: constraint.definition.contains(" MATCH FULL"),
                }
            }
            ConstraintKind::Exclusion => continue,
        };
        out.push(check(from, false, rule));
    }
    out
}

fn primary_key_of(table: &Table) -> Vec<Name> {
    table
        .constraints
        .values()
        .find(|c| c.kind == ConstraintKind::PrimaryKey)
        .map(|c| c.columns.clone())
        .unwrap_or_default()
}

impl RowCheck {
    /// What the rows must meet, for messages: `NOT NULL on email`, `UNIQUE users_email_key (email)`.
    pub fn what(&self) -> String {
        match &self.rule {
            Rule::NotNull { column } => format!("NOT NULL on {column}"),
            Rule::Unique { constraint, columns, primary_key, .. } => {
                let kind = if *primary_key { "PRIMARY KEY" } else { "UNIQUE" };
                format!("{kind} {constraint} ({})", join(columns))
            }
            Rule::UniqueIndex { index } => format!("unique index {}", index.name.name),
            Rule::ForeignKey { constraint, columns, target, .. } => match target {
                Some(t) => format!("FOREIGN KEY {constraint} ({}) → {} ({})", join(columns), t.table, join(&t.columns)),
                None => format!("FOREIGN KEY {constraint} ({}) to a table the plan creates", join(columns)),
            },
            Rule::Check { constraint, expression } => format!("CHECK {constraint} {expression}"),
            Rule::Converts { from, to } => {
                format!("converting {} from {} to {}", from.name, from.data_type, to.data_type)
            }
            Rule::RemovedLabels { column, labels, .. } => {
                format!("the removal of enum label(s) {} used by {column}", labels.join(", "))
            }
        }
    }

    /// What the migration would do to the rows found.
    fn consequence(&self) -> &'static str {
        match self.rule {
            Rule::Converts { .. } => "the migration would fail on them, or round or truncate them silently",
            _ => "the migration would fail on them",
        }
    }

    /// How to make the rows meet it.
    fn fix(&self) -> String {
        let t = &self.table;
        match &self.rule {
            Rule::NotNull { column } => {
                format!("Give every row of {t} a value for {column} (UPDATE … WHERE {column} IS NULL) before migrating")
            }
            Rule::Unique { .. } | Rule::UniqueIndex { .. } => {
                format!("Remove or change the duplicate rows of {t} before migrating")
            }
            Rule::ForeignKey { .. } => format!(
                "Delete the rows of {t} that reference missing rows, set their key to NULL or insert the rows \
                 they reference, or declare the constraint NOT VALID"
            ),
            Rule::Check { .. } => {
                format!("Update the rows of {t} that fail the check, or declare the constraint NOT VALID")
            }
            Rule::Converts { .. } => format!(
                "Fix the values of {t} that do not convert, or declare a conversion (-- schema:using …) that \
                 converts them"
            ),
            Rule::RemovedLabels { column, .. } => {
                format!("Update the rows of {t} whose {column} holds a removed label before migrating")
            }
        }
    }

    /// The hazard for an outcome, `None` when no row breaks the check.
    pub fn hazard(&self, outcome: &Outcome) -> Option<Hazard> {
        let allow = "or --allow-hazard";
        match outcome {
            Outcome::Counted { rows: 0, .. } => None,
            Outcome::Counted { rows, samples } => {
                let one = *rows == 1;
                let samples = if samples.is_empty() { String::new() } else { format!(" ({})", samples.join("; ")) };
                let (count, verb) = match self.rule {
                    Rule::Unique { .. } | Rule::UniqueIndex { .. } => {
                        (format!("{rows} {}", if one { "row" } else { "rows" }), "share a key of")
                    }
                    Rule::Converts { .. } => (
                        format!("{rows} {}", if one { "value" } else { "values" }),
                        if one { "fails or changes in" } else { "fail or change in" },
                    ),
                    _ => (format!("{rows} {}", if one { "row" } else { "rows" }), if one { "breaks" } else { "break" }),
                };
                let mut hazard = Hazard::new(
                    HazardId::ExistingRowsViolate,
                    Severity::High,
                    format!("{count} of {} {verb} {}{samples}: {}", self.table, self.what(), self.consequence()),
                    format!("{} ({allow} {} to write it anyway)", self.fix(), HazardId::ExistingRowsViolate),
                )
                .on(&self.table);
                hazard.rows = Some(*rows);
                Some(hazard)
            }
            Outcome::NotChecked(reason) => Some(
                Hazard::new(
                    HazardId::ExistingRowsUnchecked,
                    Severity::Low,
                    format!("the rows of {} were not checked against {}: {reason}", self.table, self.what()),
                    "Check the rows yourself before migrating, or raise [hazards] check_rows_max_rows / \
                     check_rows_timeout"
                        .to_string(),
                )
                .on(&self.table),
            ),
        }
    }
}

fn join(names: &[Name]) -> String {
    names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
}

/// The hazards of `outcomes` (one per check of [`checks`]), each with the index of its change.
pub fn hazards(checks: &[(usize, RowCheck)], outcomes: &[Outcome]) -> Vec<(usize, Hazard)> {
    checks.iter().zip(outcomes).filter_map(|((i, check), outcome)| Some((*i, check.hazard(outcome)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::build::*;

    fn live() -> Catalog {
        Catalog::default().with_schema("public").with_table(
            table("users")
                .with_column(column("id", "bigint").not_null())
                .with_column(column("mail", "text"))
                .with_constraint(primary_key("users_pkey", &["id"])),
        )
    }

    fn rules(changes: &[Change], current: &Catalog) -> Vec<(usize, QualifiedName, Rule)> {
        let changes: Vec<&Change> = changes.iter().collect();
        checks(&changes, current, current).into_iter().map(|(i, c)| (i, c.table, c.rule)).collect()
    }

    #[test]
    fn conditions_name_what_the_live_table_calls_a_renamed_table_and_column() {
        let current = live();
        let to = QualifiedName::parse("accounts");
        let mut email = column("email", "text");
        let mut mail = email.clone();
        mail.name = "email".into();
        email.not_null = true;
        let changes = [
            Change::Table(TableChange::Rename { from: QualifiedName::parse("users"), to: to.clone() }),
            Change::Column(ColumnChange::Rename { table: to.clone(), from: "mail".into(), to: "email".into() }),
            Change::Column(ColumnChange::Alter { table: to.clone(), from: mail, to: email }),
            Change::Constraint(ConstraintChange::Add {
                table: to.clone(),
                constraint: unique("accounts_email_key", &["email"]),
            }),
        ];
        let found = rules(&changes, &current);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0], (2, QualifiedName::parse("users"), Rule::NotNull { column: "mail".into() }));
        let (step, table, Rule::Unique { columns, .. }) = &found[1] else { panic!("{found:#?}") };
        assert_eq!((*step, table, columns.as_slice()), (3, &QualifiedName::parse("users"), &["mail".into()][..]));
    }

    #[test]
    fn a_rebuild_that_renames_a_column_checks_its_key_under_the_live_name_and_no_expression_over_it() {
        // The old table as a rebuild holds it: keyed by the new names, each column with its live name.
        let mut from = table("users").with_column(column("id", "bigint").not_null());
        from.columns.insert("full_name".into(), column("name", "text"));
        let to = table("users")
            .with_column(column("id", "bigint").not_null())
            .with_column(column("full_name", "text"))
            .with_constraint(unique("users_full_name_key", &["full_name"]))
            .with_constraint(check("users_full_name_check", "(full_name <> '')", &["full_name"]));
        let found = rebuild_checks(&from, &to);
        assert_eq!(found.len(), 1, "{found:#?}");
        let Rule::Unique { columns, definition, .. } = &found[0].rule else { panic!("{found:#?}") };
        assert_eq!(columns.as_slice(), &[Name::from("name")][..]);
        assert!(definition.is_empty(), "the definition names full_name, which the live table lacks");
    }

    #[test]
    fn rows_that_do_not_exist_yet_or_are_not_validated_are_not_checked() {
        let current = live();
        let users = QualifiedName::parse("users");
        let changes = [
            // A new column has no values; a constraint added NOT VALID leaves the rows alone.
            Change::Constraint(ConstraintChange::Add {
                table: users.clone(),
                constraint: unique("users_nick_key", &["nick"]),
            }),
            Change::Constraint(ConstraintChange::Add {
                table: users.clone(),
                constraint: check("users_mail_check", "(mail <> '')", &["mail"]).not_valid(),
            }),
            // A table the plan creates is empty.
            Change::Constraint(ConstraintChange::Add {
                table: QualifiedName::parse("orders"),
                constraint: check("orders_check", "(id > 0)", &["id"]),
            }),
        ];
        assert!(rules(&changes, &current).is_empty());
        // Validated later, the same constraint reads the rows.
        let validate = [Change::Constraint(ConstraintChange::Validate {
            table: users,
            constraint: check("users_mail_check", "(mail <> '')", &["mail"]).not_valid(),
        })];
        assert_eq!(rules(&validate, &current).len(), 1);
    }

    #[test]
    fn check_expressions_are_the_parenthesised_text_after_check() {
        assert_eq!(check_expression("CHECK ((price > 0)) NOT VALID").as_deref(), Some("((price > 0))"));
        assert_eq!(check_expression("CHECK ((a = ')')) NO INHERIT").as_deref(), Some("((a = ')'))"));
        assert_eq!(check_expression("CHECK (\"a)\" > 0)").as_deref(), Some("(\"a)\" > 0)"));
        assert_eq!(check_expression("UNIQUE (a)"), None);
    }
}
