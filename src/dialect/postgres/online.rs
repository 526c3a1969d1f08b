//! PostgreSQL's online forms of changes on live tables, and its expand/contract phases (see
//! [`crate::rewrite`] for how they become migration files).
//!
//! Every online statement can be run again after a failure: a failed `CREATE INDEX CONCURRENTLY` leaves
//! an INVALID index behind, so each build is preceded by `DROP INDEX CONCURRENTLY IF EXISTS` of the name
//! it builds, and each `NOT VALID` constraint by `DROP CONSTRAINT IF EXISTS`. After fixing the cause of a
//! failure, `schema migrate resolve VERSION --rolled-back` and running the file again completes it.
//!
//! Helper objects get reserved names: `schema_tmp_` (a replacement index being built, or an index's copy
//! on the new column of a rename or the shadow column of a type change), `schema_nn_` (the temporary `CHECK (col IS NOT NULL)`),
//! `schema_new_` (the shadow column of a type change) and `schema_sync_` (the dual-write function and
//! trigger of expand/contract); `schema_old_` is a name moved aside on a table being dropped (see
//! `render::move_taken_names_aside`). The compatibility view of a table rename keeps the table's old name and is
//! marked by its comment instead ([`crate::rewrite::COMPAT_VIEW_MARK`]).

use super::hazards;
use super::kinds::{columns, constraints};
use super::locks::{ACCESS_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE};
use super::render::{ident, literal, qualified};
use crate::diff::Change;
use crate::diff::{ColumnChange, ConstraintChange, IndexChange, TableChange};
use crate::model::{Column, ColumnRef, ConstraintKind, Index, Name, ObjectRef, QualifiedName};
use crate::plan::Statement as S;
use crate::rewrite::{self, Online, Options, Phased};
use crate::safety::{Context, Hazard, HazardId, Severity};
use sqlparser::tokenizer::{Token, Tokenizer};
use std::time::Duration;

pub fn online(change: &Change, ctx: &Context) -> Option<Online> {
    // PostgreSQL neither builds nor drops a partitioned table's index concurrently, nor adds a foreign key to
    // it NOT VALID: such changes are made on each partition and then on the parent, which attaches them.
    let partitioned = |table: &QualifiedName| ctx.partitioned_tables.contains(table);
    match change {
        Change::Index(IndexChange::Create(i)) if partitioned(&i.table) && ctx.kept(&i.table) => {
            Some(partitioned_index(i, ctx))
        }
        // Dropping a partitioned index drops its partitions' indexes with it, under ACCESS EXCLUSIVE (briefly).
        Change::Index(IndexChange::Create(i)) | Change::Index(IndexChange::Drop(i)) if partitioned(&i.table) => None,
        // A foreign key to a partitioned table added NOT VALID keeps its copies for the partitions NOT VALID
        // after VALIDATE CONSTRAINT (PostgreSQL 15): it is added valid, with its hazard.
        Change::Constraint(ConstraintChange::Add { constraint: c, .. })
            if c.references.as_ref().is_some_and(|r| partitioned(&r.table)) =>
        {
            None
        }
        Change::Constraint(ConstraintChange::Add { table, constraint: c })
            if partitioned(table) && ctx.kept(table) && c.validated && c.kind == ConstraintKind::ForeignKey =>
        {
            Some(partitioned_foreign_key(table, c, ctx))
        }
        Change::Constraint(ConstraintChange::Add { table, constraint: c })
            if partitioned(table)
                && ctx.kept(table)
                && c.validated
                && matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique) =>
        {
            partitioned_key(table, c, ctx)
        }
        Change::Constraint(ConstraintChange::Add { table, constraint: c })
            if partitioned(table) && !matches!(c.kind, ConstraintKind::Check) =>
        {
            None
        }
        // A foreign key that references a partitioned table added NOT VALID keeps a NOT VALID copy per
        // partition after VALIDATE (PostgreSQL 15): it is added valid.
        Change::Constraint(ConstraintChange::Add { constraint: c, .. })
            if c.references.as_ref().is_some_and(|r| partitioned(&r.table)) =>
        {
            None
        }
        Change::Index(IndexChange::Create(i)) if ctx.kept(&i.table) => {
            let unique = if i.unique { "UNIQUE " } else { "" };
            let statements = if ctx.replaced_indexes.contains(&i.name) {
                // Build the new definition under a temporary name, then swap: the old index serves queries
                // until the new one is ready.
                let tmp = rewrite::helper_object(&i.name, "schema_tmp_", &i.name.name);
                vec![
                    concurrently(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&tmp)), &i.table),
                    concurrently(
                        format!(
                            "CREATE {unique}INDEX CONCURRENTLY {} ON {} USING {};",
                            ident(&tmp.name),
                            qualified(&i.table),
                            i.definition
                        ),
                        &i.table,
                    ),
                    concurrently(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&i.name)), &i.table),
                    // Locks the index, not its table.
                    S::locking(format!("ALTER INDEX {} RENAME TO {};", qualified(&tmp), ident(&i.name.name))),
                ]
            } else {
                vec![
                    concurrently(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&i.name)), &i.table),
                    concurrently(
                        format!(
                            "CREATE {unique}INDEX CONCURRENTLY {} ON {} USING {};",
                            ident(&i.name.name),
                            qualified(&i.table),
                            i.definition
                        ),
                        &i.table,
                    ),
                ]
            };
            Some(Online { statements, hazards: Vec::new() })
        }
        Change::Index(IndexChange::Drop(i)) if ctx.kept(&i.table) => {
            if ctx.replaced_indexes.contains(&i.name) {
                // Swapped out by the build of its replacement.
                return Some(Online { statements: Vec::new(), hazards: Vec::new() });
            }
            let hazard = Hazard::new(
                HazardId::IndexDropped,
                Severity::Medium,
                format!("drops index {}; queries that relied on it become slower", i.name),
                "Check that no query needs the index",
            )
            .on(&i.table);
            Some(Online {
                statements: vec![concurrently(
                    format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&i.name)),
                    &i.table,
                )],
                hazards: vec![hazard],
            })
        }
        Change::Constraint(ConstraintChange::Add { table, constraint: c }) if ctx.kept(table) && c.validated => {
            match c.kind {
                ConstraintKind::Check | ConstraintKind::ForeignKey => {
                    let t = qualified(table);
                    let name = ident(&c.name);
                    Some(Online {
                        statements: vec![
                            S::locking(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {name};"))
                                .taking(ACCESS_EXCLUSIVE, table),
                            constraints::with_locks(
                                S::locking(format!(
                                    "ALTER TABLE {t} ADD CONSTRAINT {name} {} NOT VALID;",
                                    c.definition
                                )),
                                table,
                                c,
                            ),
                            S::long_running(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {name};"))
                                .taking(SHARE_UPDATE_EXCLUSIVE, table),
                        ],
                        hazards: Vec::new(),
                    })
                }
                ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
                    let (keyword, columns, tail) = split_key_definition(&c.definition)?;
                    let index = QualifiedName::new(table.schema.clone(), c.name.clone());
                    Some(Online {
                        statements: vec![
                            // A run that got past ADD CONSTRAINT and failed later: start again from scratch. The
                            // check comes first so that a first run takes no blocking lock before the build.
                            drop_constraint_if_exists(table, &c.name),
                            concurrently(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&index)), table),
                            concurrently(
                                format!(
                                    "CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({columns});",
                                    ident(&c.name),
                                    qualified(table)
                                ),
                                table,
                            ),
                            S::locking(format!(
                                "ALTER TABLE {} ADD CONSTRAINT {} {keyword} USING INDEX {}{tail};",
                                qualified(table),
                                ident(&c.name),
                                ident(&c.name)
                            ))
                            .taking(ACCESS_EXCLUSIVE, table),
                        ],
                        hazards: Vec::new(),
                    })
                }
                _ => None,
            }
        }
        Change::Column(ColumnChange::Alter { table, from, to })
            if ctx.kept(table)
                && to.not_null
                && !from.not_null
                && !(to.identity.is_some() && from.identity.is_none()) =>
        {
            // Everything else the change does, then NOT NULL through a validated CHECK (PostgreSQL 12+ skips
            // the scan of SET NOT NULL when such a check exists).
            let mut rest = to.clone();
            rest.not_null = false;
            let mut statements: Vec<S> = columns::alter(table, from, &rest);
            let hazards = hazards::hazards(
                &Change::Column(ColumnChange::Alter { table: table.clone(), from: from.clone(), to: rest }),
                ctx,
            );
            statements.extend(set_not_null(table, &to.name));
            Some(Online { statements, hazards })
        }
        // Every other change, and those whose case above did not apply, runs its plain statements: a safe
        // default, since the hazards (an exhaustive match in `hazards.rs`) still flag what those block.
        _ => None,
    }
}

/// A partitioned table's new index, built without blocking writes: the index on the parent alone (`ON
/// ONLY`, invalid until every partition has its index), each partition's index built concurrently (or, on
/// a sub-partitioned partition, created `ON ONLY` too), then attached from the deepest level up, which
/// makes the parent's index valid. An index the partition has already is attached, not built again.
fn partitioned_index(i: &Index, ctx: &Context) -> Online {
    let unique = if i.unique { "UNIQUE " } else { "" };
    // A re-run starts over: dropping the parent's index drops the indexes attached to it.
    let mut statements = vec![
        // Drops what a failed run left: a first run drops nothing and takes no lock.
        S::locking(format!("DROP INDEX IF EXISTS {};", qualified(&i.name))),
        S::locking(format!(
            "CREATE {unique}INDEX {} ON ONLY {} USING {};",
            ident(&i.name.name),
            qualified(&i.table),
            i.definition
        ))
        .taking(SHARE, &i.table),
    ];
    for p in &i.partitions {
        let on = qualified(&p.table);
        let name = ident(&p.name.name);
        if p.constraint {
            // Comes with the partition's own constraint, added before.
        } else if ctx.kept_indexes.contains(&p.name) {
            // Kept as it is; created again only if a failed run's drop of the parent's index took it along.
            let (word, only) = if p.leaf { ("CONCURRENTLY ", "") } else { ("", "ONLY ") };
            let sql = format!("CREATE {unique}INDEX {word}IF NOT EXISTS {name} ON {only}{on} USING {};", i.definition);
            statements.push(if p.leaf { concurrently(sql, &p.table) } else { S::locking(sql).taking(SHARE, &p.table) });
        } else if p.leaf {
            statements
                .push(concurrently(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&p.name)), &p.table));
            statements.push(concurrently(
                format!("CREATE {unique}INDEX CONCURRENTLY {name} ON {on} USING {};", i.definition),
                &p.table,
            ));
        } else {
            statements.push(S::locking(format!("DROP INDEX IF EXISTS {};", qualified(&p.name))));
            statements.push(
                S::locking(format!("CREATE {unique}INDEX {name} ON ONLY {on} USING {};", i.definition))
                    .taking(SHARE, &p.table),
            );
        }
    }
    let mut attach: Vec<_> = i.partitions.iter().collect();
    attach.sort_by_key(|p| std::cmp::Reverse(p.depth));
    // Attaching locks the two indexes, not their tables.
    for p in attach {
        statements.push(S::locking(format!(
            "ALTER INDEX {} ATTACH PARTITION {};",
            qualified(&p.parent),
            qualified(&p.name)
        )));
    }
    Online { statements, hazards: Vec::new() }
}

/// A partitioned table's new foreign key: added `NOT VALID` and validated on each partition that holds
/// rows (no blocking lock while reading), then added on the parent, which attaches the partitions'
/// constraints instead of checking their rows again (SHARE ROW EXCLUSIVE on the tables, briefly).
fn partitioned_foreign_key(table: &QualifiedName, c: &crate::model::Constraint, ctx: &Context) -> Online {
    let name = ident(&c.name);
    // A run that got past the parent's constraint: start over (its partitions' copies go with it).
    let mut statements = vec![drop_constraint_if_exists(table, &c.name)];
    for leaf in ctx.partition_leaves.get(table).into_iter().flatten() {
        let t = qualified(leaf);
        statements.push(
            S::locking(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {name};")).taking(ACCESS_EXCLUSIVE, leaf),
        );
        let add = S::locking(format!("ALTER TABLE {t} ADD CONSTRAINT {name} {} NOT VALID;", c.definition));
        statements.push(constraints::with_locks(add, leaf, c));
        statements.push(
            S::long_running(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {name};"))
                .taking(SHARE_UPDATE_EXCLUSIVE, leaf),
        );
    }
    let add = S::locking(format!("ALTER TABLE {} ADD CONSTRAINT {name} {};", qualified(table), c.definition));
    statements.push(constraints::with_locks(add, table, c));
    Online { statements, hazards: Vec::new() }
}

/// A partitioned table's new primary key or unique constraint: on each partition that holds rows, a unique
/// index built concurrently and made the partition's own constraint (`USING INDEX`, named as PostgreSQL
/// names the copies it makes), then the parent's constraint, which attaches them instead of building
/// anything (ACCESS EXCLUSIVE on the parent and its partitions, briefly). `None` for definitions an index
/// cannot be built from as they are.
fn partitioned_key(table: &QualifiedName, c: &crate::model::Constraint, ctx: &Context) -> Option<Online> {
    let (keyword, columns, tail) = split_key_definition(&c.definition)?;
    let mut statements = vec![drop_constraint_if_exists(table, &c.name)];
    for leaf in ctx.partition_leaves.get(table).into_iter().flatten() {
        let label = if c.kind == ConstraintKind::PrimaryKey { "pkey" } else { "key" };
        let addition = if c.kind == ConstraintKind::PrimaryKey { String::new() } else { c.columns.join("_") };
        let child = default_index_name(&leaf.name, &addition, label);
        let index = QualifiedName::new(leaf.schema.clone(), child.clone());
        statements.push(drop_constraint_if_exists(leaf, &child));
        statements.push(concurrently(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&index)), leaf));
        statements.push(concurrently(
            format!("CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({columns});", ident(&child), qualified(leaf)),
            leaf,
        ));
        statements.push(
            S::locking(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {keyword} USING INDEX {}{tail};",
                qualified(leaf),
                ident(&child),
                ident(&child)
            ))
            .taking(ACCESS_EXCLUSIVE, leaf),
        );
    }
    statements.push(
        S::locking(format!("ALTER TABLE {} ADD CONSTRAINT {} {};", qualified(table), ident(&c.name), c.definition))
            .taking(ACCESS_EXCLUSIVE, table),
    );
    Some(Online { statements, hazards: Vec::new() })
}

/// The name PostgreSQL gives an index it creates for a table (`makeObjectName`): `table_addition_label`,
/// the longer of the table name and the addition shortened until the whole fits in 63 bytes.
fn default_index_name(table: &str, addition: &str, label: &str) -> String {
    let clip = |s: &str, len: usize| {
        let mut end = len.min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_string()
    };
    let addition = clip(addition, 63);
    let overhead = label.len() + 1 + if addition.is_empty() { 0 } else { 1 };
    let (mut n1, mut n2) = (table.len(), addition.len());
    while n1 + n2 > 63 - overhead {
        if n1 > n2 { n1 -= 1 } else { n2 -= 1 }
    }
    let mut name = clip(table, n1);
    if !addition.is_empty() {
        name.push('_');
        name.push_str(&clip(&addition, n2));
    }
    name.push('_');
    name.push_str(label);
    name
}

/// Drops a constraint if it exists, taking the table's lock only when it does: on a run after a failed one.
/// The statement states the locks of a first run, which takes none.
fn drop_constraint_if_exists(table: &QualifiedName, name: &str) -> S {
    let sql = format!(
        "DO $schema_guard$\nBEGIN\n    IF EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conrelid = {}::regclass AND conname = {}) THEN\n        \
         ALTER TABLE {} DROP CONSTRAINT {};\n    END IF;\nEND\n$schema_guard$;",
        literal(&qualified(table)),
        literal(name),
        qualified(table),
        ident(name)
    );
    S::locking(sql)
}

/// A concurrent index build or drop: SHARE UPDATE EXCLUSIVE on the table, outside a transaction block.
fn concurrently(sql: String, table: &QualifiedName) -> S {
    S::outside_transaction(sql).taking(SHARE_UPDATE_EXCLUSIVE, table)
}

/// `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE`, `SET NOT NULL`, drop the check.
fn set_not_null(table: &QualifiedName, column: &str) -> Vec<S> {
    let t = qualified(table);
    let check = ident(&rewrite::helper_name("schema_nn_", column));
    let mut sql = not_null_check(table, &check, &ident(column)).to_vec();
    sql.push(exclusive(format!("ALTER TABLE {t} ALTER COLUMN {} SET NOT NULL;", ident(column)), table));
    sql.push(exclusive(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check};"), table));
    sql
}

/// The validated `CHECK (column IS NOT NULL)` named `check` (both quoted) that lets `SET NOT NULL` skip its
/// scan: what a failed run left dropped, added `NOT VALID` (a brief ACCESS EXCLUSIVE), then validated
/// under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on.
fn not_null_check(table: &QualifiedName, check: &str, column: &str) -> [S; 3] {
    let t = qualified(table);
    [
        exclusive(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check};"), table),
        exclusive(format!("ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID;"), table),
        S::long_running(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {check};")).taking(SHARE_UPDATE_EXCLUSIVE, table),
    ]
}

/// `PRIMARY KEY (a, b) DEFERRABLE` → (`PRIMARY KEY`, `a, b`, ` DEFERRABLE`). `None` for definitions an
/// index cannot be built from as they are (INCLUDE, WITH, NULLS NOT DISTINCT…): they stay plain.
fn split_key_definition(definition: &str) -> Option<(&'static str, &str, &str)> {
    let (keyword, rest) = if let Some(rest) = definition.strip_prefix("PRIMARY KEY ") {
        ("PRIMARY KEY", rest)
    } else {
        ("UNIQUE", definition.strip_prefix("UNIQUE ")?)
    };
    let inner = rest.strip_prefix('(')?;
    let close = inner.find(')')?;
    let (columns, tail) = (&inner[..close], &inner[close + 1..]);
    let tail_ok = tail.is_empty()
        || ["DEFERRABLE", "NOT DEFERRABLE", "INITIALLY"].iter().any(|w| tail.trim_start().starts_with(w));
    tail_ok.then_some((keyword, columns, tail))
}

pub fn timeouts(lock: Option<Duration>, statement: Option<Duration>, in_transaction: bool) -> Vec<String> {
    let set = if in_transaction { "SET LOCAL" } else { "SET" };
    let mut out = Vec::new();
    for (name, value) in [("lock_timeout", lock), ("statement_timeout", statement)] {
        if let Some(value) = value {
            out.push(format!("{set} {name} = '{}ms';", value.as_millis()));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------
// Expand/contract.

/// A table rename, a column rename or a type change in use, or a NOT NULL column without a default that
/// has a `[[backfill]]` value, on a table that exists before and after the plan. Columns something else
/// depends on (constraints, views and triggers would have to be rebuilt on the new column) stay one-step,
/// except for the plain indexes of a renamed or retyped column ([`Context::column_indexes`]), which are
/// built again on the new column of a rename or the shadow column of a type change.
pub fn expand_contract(change: &Change, ctx: &Context, options: &Options) -> Option<Phased> {
    match change {
        Change::Table(TableChange::Rename { from, to })
            if from.schema == to.schema && ctx.kept(to) && !name_taken(from, ctx) =>
        {
            Some(table_rename(from, to))
        }
        Change::Column(ColumnChange::Add { table, column })
            if ctx.kept(table)
                && column.not_null
                && column.default.is_none()
                && column.identity.is_none()
                && column.generated().is_none() =>
        {
            let entry = options.backfills.iter().find(|b| b.table == *table && b.column == column.name)?;
            Some(filled_column(table, column, &entry.value, ctx.primary_keys.get(table), options))
        }
        Change::Column(ColumnChange::Rename { table, from, to })
            if ctx.kept(table) && !ctx.tables_in_use.contains(table) =>
        {
            let key = ColumnRef { table: table.clone(), column: from.into() };
            if ctx.columns_in_use.contains(&key) {
                return None;
            }
            let old = ctx.current_columns.get(&key)?;
            if old.identity.is_some() || old.generated().is_some() {
                return None;
            }
            let mut new = old.clone();
            new.name = to.into();
            let indexes = rebuilt_indexes(ctx, &key, to)?;
            let description = format!("rename column {table}.{from} to {to}");
            Some(phased(table, old, &new, to, &indexes, description, ctx.primary_keys.get(table), options))
        }
        Change::Column(ColumnChange::Alter { table, from, to })
            if ctx.kept(table)
                && !ctx.tables_in_use.contains(table)
                && from.data_type != to.data_type
                && !columns::binary_coercible(&from.data_type, &to.data_type) =>
        {
            let key = ColumnRef { table: table.clone(), column: from.name.clone() };
            // A declared conversion is an expression over the row, which the dual-write trigger cannot
            // evaluate as it is: such a change stays one step.
            if ctx.columns_in_use.contains(&key)
                || [from, to].iter().any(|c| c.identity.is_some() || c.generated().is_some())
                || to.conversion().is_some()
            {
                return None;
            }
            let shadow = rewrite::helper_name("schema_new_", &to.name);
            let indexes = rebuilt_indexes(ctx, &key, &shadow)?;
            let description =
                format!("change the type of {table}.{} from {} to {}", to.name, from.data_type, to.data_type);
            Some(phased(table, from, to, &shadow, &indexes, description, ctx.primary_keys.get(table), options))
        }
        // Every other change, and those whose case above did not apply, runs in one step.
        _ => None,
    }
}

/// The plain indexes of `column` ([`Context::column_indexes`]) as they are built on the column `next` that
/// replaces it. `None` (the change stays one step) when a definition cannot be read token by token, or two
/// indexes would get the same temporary name.
fn rebuilt_indexes<'a>(ctx: &'a Context, column: &ColumnRef, next: &str) -> Option<Vec<ShadowIndex<'a>>> {
    let mut indexes: Vec<ShadowIndex> = Vec::new();
    for index in ctx.column_indexes.get(column).into_iter().flatten() {
        let definition = replace_column(&index.definition, &column.column, next)?;
        let tmp = rewrite::helper_object(&index.name, "schema_tmp_", &index.name.name);
        if indexes.iter().any(|i| i.tmp == tmp) {
            return None;
        }
        indexes.push(ShadowIndex { index, tmp, definition });
    }
    Some(indexes)
}

/// A plain index of a renamed or retyped column, built again on the column that replaces it (the new
/// column of a rename, the shadow column of a type change) by the backfill and swapped in by the contract.
struct ShadowIndex<'a> {
    index: &'a Index,
    /// The name it is built under, until the contract gives it the index's name.
    tmp: QualifiedName,
    /// The index's definition (what follows `USING`) on the column that replaces the old one.
    definition: String,
}

impl ShadowIndex<'_> {
    /// Builds the index on `table` under `name` with `definition`, re-runnable: a failed build leaves an
    /// INVALID index under the name, dropped first.
    fn build(&self, table: &QualifiedName, name: &QualifiedName, definition: &str) -> [S; 2] {
        let unique = if self.index.unique { "UNIQUE " } else { "" };
        [
            concurrently(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(name)), table),
            concurrently(
                format!(
                    "CREATE {unique}INDEX CONCURRENTLY {} ON {} USING {definition};",
                    ident(&name.name),
                    qualified(table)
                ),
                table,
            ),
        ]
    }

    /// `COMMENT ON INDEX name IS comment`, `IS NULL` for none.
    fn comment(name: &QualifiedName, comment: Option<&str>) -> String {
        format!("COMMENT ON INDEX {} IS {};", qualified(name), comment.map_or_else(|| "NULL".to_string(), literal))
    }
}

/// An index definition (what follows `USING` in `pg_get_indexdef`) with the column `from` replaced by
/// `to`, token by token: a column reference is a name that is not the access method, not part of a
/// qualified name, a type (`::`), a collation, a function called or a storage parameter. `None` when the
/// tokenizer cannot read the definition exactly as it is, or the column is not found.
fn replace_column(definition: &str, from: &str, to: &str) -> Option<String> {
    let tokens = Tokenizer::new(&super::sql_dialect(), definition).with_unescape(false).tokenize().ok()?;
    if tokens.iter().map(ToString::to_string).collect::<String>() != definition {
        return None;
    }
    let solid: Vec<usize> = (0..tokens.len()).filter(|&i| !matches!(tokens[i], Token::Whitespace(_))).collect();
    let is_word = |t: &Token, word: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word));
    let mut out = tokens.clone();
    let mut replaced = 0;
    for (n, &i) in solid.iter().enumerate().skip(1) {
        let Token::Word(w) = &tokens[i] else { continue };
        let name = match w.quote_style {
            None => w.value.to_lowercase(),
            Some('"') => w.value.replace("\"\"", "\""),
            Some(_) => continue,
        };
        if name != from {
            continue;
        }
        let before = &tokens[solid[n - 1]];
        let after = solid.get(n + 1).map(|&j| &tokens[j]);
        let reference = !matches!(before, Token::Period | Token::DoubleColon)
            && !is_word(before, "COLLATE")
            && !matches!(after, Some(Token::LParen | Token::Period | Token::Eq));
        if reference {
            out[i] = Token::make_word(&ident(to), None);
            replaced += 1;
        }
    }
    (replaced > 0).then(|| out.iter().map(ToString::to_string).collect())
}

/// Whether the plan creates something under `name` (which the compatibility view would occupy).
fn name_taken(name: &QualifiedName, ctx: &Context) -> bool {
    use crate::model::PrivilegeTarget;
    ctx.created_tables.contains(name)
        || ctx.created_targets.contains(&PrivilegeTarget::Table(name.clone()))
        || ctx.created_targets.contains(&PrivilegeTarget::Sequence(name.clone()))
}

/// A table rename: expand renames the table and leaves an updatable view under the old name (a view that
/// is `SELECT *` of one table is automatically updatable: inserts, updates and deletes through it reach the
/// table, with the table's defaults and triggers), so that the old application keeps reading and writing;
/// contract drops the view.
fn table_rename(from: &QualifiedName, to: &QualifiedName) -> Phased {
    let view = compat_view(from, to);
    let rename = format!("ALTER TABLE {} RENAME TO {};", qualified(from), ident(&to.name));
    let mut expand = vec![S::locking(rename).taking(ACCESS_EXCLUSIVE, from)];
    expand.extend(view.iter().cloned());
    let drop_view = S::locking(format!("DROP VIEW IF EXISTS {};", qualified(from))).taking(ACCESS_EXCLUSIVE, from);
    let rename_back = format!("ALTER TABLE {} RENAME TO {};", qualified(to), ident(&from.name));
    Phased {
        description: format!("rename table {from} to {to}"),
        expand,
        expand_down: vec![drop_view.clone(), S::locking(rename_back).taking(ACCESS_EXCLUSIVE, to)],
        backfill: Vec::new(),
        contract: vec![drop_view],
        contract_down: view,
        hazards: Vec::new(),
    }
}

/// The compatibility view `old` over the renamed table `table`: marked as the tool's by its comment
/// ([`rewrite::COMPAT_VIEW_MARK`]), and granted to the roles the table is granted to (table and column
/// privileges), so that the old application's roles may use it.
/// The view is created (it only reads the table), then commented on (SHARE UPDATE EXCLUSIVE on the view),
/// then granted (no lock).
fn compat_view(old: &QualifiedName, table: &QualifiedName) -> Vec<S> {
    let (view, t) = (qualified(old), qualified(table));
    vec![
        S::locking(format!("CREATE VIEW {view} AS SELECT * FROM {t};")),
        S::locking(format!(
            "COMMENT ON VIEW {view} IS {};",
            literal(&format!(
                "{} {old} is {table} under its old name, until the contract migration of the rename drops it",
                rewrite::COMPAT_VIEW_MARK
            ))
        ))
        .taking(SHARE_UPDATE_EXCLUSIVE, old),
        S::locking(format!(
            "DO $schema_compat$\n\
             DECLARE\n\
             \x20   g record;\n\
             BEGIN\n\
             \x20   -- The roles that may use the table may use it under its old name too.\n\
             \x20   FOR g IN\n\
             \x20       SELECT a.privilege_type, NULL::text AS attname, a.grantee, a.is_grantable\n\
             \x20       FROM pg_catalog.pg_class c CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a\n\
             \x20       WHERE c.oid = {table}::regclass AND a.grantee <> c.relowner\n\
             \x20       UNION ALL\n\
             \x20       SELECT a.privilege_type, t.attname::text, a.grantee, a.is_grantable\n\
             \x20       FROM pg_catalog.pg_attribute t CROSS JOIN LATERAL pg_catalog.aclexplode(t.attacl) a\n\
             \x20       WHERE t.attrelid = {table}::regclass AND t.attnum > 0 AND NOT t.attisdropped\n\
             \x20   LOOP\n\
             \x20       EXECUTE format('GRANT %s%s ON %s TO %s%s', g.privilege_type,\n\
             \x20           CASE WHEN g.attname IS NULL THEN '' ELSE format(' (%I)', g.attname) END, {view_text},\n\
             \x20           CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,\n\
             \x20           CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);\n\
             \x20   END LOOP;\n\
             END\n\
             $schema_compat$;",
            table = literal(&t),
            view_text = literal(&view),
        )),
    ]
}

/// A NOT NULL column without a default added to a filled table, with the value of its `[[backfill]]`
/// entry: expand adds it nullable with a trigger that fills it in rows written without it (the old
/// application does not know the column); backfill fills the existing rows in batches; contract validates
/// `CHECK (col IS NOT NULL)`, then sets NOT NULL and drops the trigger.
fn filled_column(
    table: &QualifiedName,
    column: &Column,
    value: &str,
    key: Option<&Vec<Name>>,
    options: &Options,
) -> Phased {
    let t = qualified(table);
    let c = ident(&column.name);
    let sync = rewrite::helper_object(table, rewrite::SYNC_PREFIX, &format!("{}_{}", table.name, column.name));
    let function = qualified(&sync);
    let trigger = ident(&sync.name);
    let create_sync = [
        format!(
            "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $schema_sync$\n\
             BEGIN\n\
             \x20   -- Rows written without the new column (by the old application) get its backfill value.\n\
             \x20   IF NEW.{c} IS NULL THEN\n\
             \x20       NEW.{c} := (SELECT {value} FROM (SELECT NEW.*) AS {});\n\
             \x20   END IF;\n\
             \x20   RETURN NEW;\n\
             END\n\
             $schema_sync$;",
            ident(&table.name),
        ),
        format!("CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION {function}();"),
    ];
    let drop_sync =
        [format!("DROP TRIGGER IF EXISTS {trigger} ON {t};"), format!("DROP FUNCTION IF EXISTS {function}();")];
    let mut nullable = column.clone();
    nullable.not_null = false;

    let mut expand = vec![exclusive(format!("ALTER TABLE {t} ADD COLUMN {};", columns::definition(&nullable)), table)];
    expand.extend(create_sync_statements(&create_sync, table));
    let mut expand_down = drop_sync_statements(&drop_sync, table);
    expand_down.push(exclusive(format!("ALTER TABLE {t} DROP COLUMN IF EXISTS {c};"), table));

    let backfill = vec![S::outside_transaction(batched_update(
        table,
        &format!("{c} = ({value})"),
        &format!("{c} IS NULL AND ({value}) IS NOT NULL"),
        key,
        options.backfill_batch,
    ))];

    let check = ident(&rewrite::helper_name("schema_nn_", &column.name));
    let mut swap = drop_sync.to_vec();
    swap.push(format!("ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;"));
    swap.push(format!("ALTER TABLE {t} DROP CONSTRAINT {check};"));
    let mut contract = not_null_check(table, &check, &c).to_vec();
    contract.push(exclusive(atomic(&swap), table));
    let mut unswap = vec![format!("ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;")];
    unswap.extend(create_sync);
    Phased {
        description: format!("add NOT NULL column {table}.{}, filled with {value}", column.name),
        expand,
        expand_down,
        backfill,
        contract,
        contract_down: vec![exclusive(atomic(&unswap), table)],
        hazards: Vec::new(),
    }
}

/// `value::type`, through text when an enum (user type) is involved, as the one-step plan converts.
fn cast(value: &str, from: &Column, to: &Column) -> String {
    if from.data_type == to.data_type {
        return value.to_string();
    }
    let user_type = [from, to].iter().any(|c| c.depends_on.iter().any(|d| matches!(d, ObjectRef::Type(_))));
    let via = match (user_type, from.data_type.ends_with("[]")) {
        (false, _) => "",
        (true, false) => "::text",
        (true, true) => "::text[]",
    };
    format!("({value}){via}::{}", to.data_type)
}

/// `UPDATE table SET set WHERE pending` in batches of `n` rows, each committed, as one `DO` block that
/// can be stopped and run again at any time (rows already done are no longer pending). With a primary
/// key, batches walk it (keyset pagination: `WHERE key > last ORDER BY key LIMIT n`, an index range
/// each); without one, each batch looks for `n` pending rows by `ctid` (a scan that gets longer as the
/// table fills). `pending` must become false once a row is done.
fn batched_update(table: &QualifiedName, set: &str, pending: &str, key: Option<&Vec<Name>>, n: u32) -> String {
    let t = qualified(table);
    let n = n.max(1);
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return format!(
            "DO $schema_backfill$\n\
             DECLARE\n\
             \x20   schema_rows bigint;\n\
             BEGIN\n\
             \x20   -- Batches of {n} rows (no primary key: found by ctid), each committed: resumable, and row\n\
             \x20   -- locks are held only briefly.\n\
             \x20   LOOP\n\
             \x20       UPDATE {t} SET {set} WHERE ctid = ANY (ARRAY(\n\
             \x20           SELECT ctid FROM {t} WHERE {pending} LIMIT {n})) AND {pending};\n\
             \x20       GET DIAGNOSTICS schema_rows = ROW_COUNT;\n\
             \x20       COMMIT;\n\
             \x20       EXIT WHEN schema_rows = 0;\n\
             \x20   END LOOP;\n\
             END\n\
             $schema_backfill$;"
        );
    };
    let columns: Vec<String> = key.iter().map(|c| ident(c)).collect();
    let vars: Vec<String> = (1..=key.len()).map(|i| format!("schema_k{i}")).collect();
    let cols = columns.join(", ");
    let desc = columns.iter().map(|c| format!("{c} DESC")).collect::<Vec<_>>().join(", ");
    let declare: String = vars.iter().zip(&columns).map(|(v, c)| format!("    {v} {t}.{c}%TYPE;\n")).collect();
    let batch = |after: &str| {
        format!(
            "WITH schema_batch AS (\n\
             \x20               SELECT {cols} FROM {t}{after} ORDER BY {cols} LIMIT {n}\n\
             \x20           ), schema_done AS (\n\
             \x20               UPDATE {t} SET {set} WHERE ({cols}) IN (SELECT {cols} FROM schema_batch) AND {pending}\n\
             \x20           )\n\
             \x20           SELECT {cols} INTO {} FROM schema_batch ORDER BY {desc} LIMIT 1;",
            vars.join(", ")
        )
    };
    format!(
        "DO $schema_backfill$\n\
         DECLARE\n\
         {declare}\
         \x20   schema_started boolean := false;\n\
         BEGIN\n\
         \x20   -- Batches of {n} rows in primary key order (keyset pagination), each committed: resumable, and\n\
         \x20   -- row locks are held only briefly.\n\
         \x20   LOOP\n\
         \x20       IF schema_started THEN\n\
         \x20           {}\n\
         \x20       ELSE\n\
         \x20           {}\n\
         \x20       END IF;\n\
         \x20       EXIT WHEN NOT FOUND;\n\
         \x20       schema_started := true;\n\
         \x20       COMMIT;\n\
         \x20   END LOOP;\n\
         END\n\
         $schema_backfill$;",
        batch(&format!(" WHERE ({cols}) > ({})", vars.join(", "))),
        batch(""),
    )
}

/// The phases that move `old` (column `old.name`) to `new`, through the column `next` (named `new.name`
/// for a rename, a shadow column for a type change, renamed at contract).
#[allow(clippy::too_many_arguments)]
fn phased(
    table: &QualifiedName,
    old: &Column,
    new: &Column,
    next: &str,
    indexes: &[ShadowIndex],
    description: String,
    key: Option<&Vec<Name>>,
    options: &Options,
) -> Phased {
    let t = qualified(table);
    let (a, b) = (ident(&old.name), ident(next));
    let sync = rewrite::helper_object(table, rewrite::SYNC_PREFIX, &format!("{}_{}", table.name, next));
    let function = qualified(&sync);
    let trigger = ident(&sync.name);
    let mut next_column = new.clone();
    next_column.name = next.into();
    next_column.not_null = false;
    next_column.default = None;
    let to_new = |v: &str| cast(v, old, new);
    let to_old = |v: &str| cast(v, new, old);
    let create_sync = [
        format!(
            "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $schema_sync$\n\
             BEGIN\n\
             \x20   -- Dual write while both shapes are in use: the side that changed is copied to the other.\n\
             \x20   IF TG_OP = 'INSERT' THEN\n\
             \x20       IF NEW.{b} IS NULL THEN\n\
             \x20           NEW.{b} := {};\n\
             \x20       ELSE\n\
             \x20           NEW.{a} := {};\n\
             \x20       END IF;\n\
             \x20   ELSIF NEW.{b} IS DISTINCT FROM OLD.{b} THEN\n\
             \x20       NEW.{a} := {};\n\
             \x20   ELSIF NEW.{a} IS DISTINCT FROM OLD.{a} THEN\n\
             \x20       NEW.{b} := {};\n\
             \x20   END IF;\n\
             \x20   RETURN NEW;\n\
             END\n\
             $schema_sync$;",
            to_new(&format!("NEW.{a}")),
            to_old(&format!("NEW.{b}")),
            to_old(&format!("NEW.{b}")),
            to_new(&format!("NEW.{a}")),
        ),
        format!("CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION {function}();"),
    ];
    let drop_sync =
        [format!("DROP TRIGGER IF EXISTS {trigger} ON {t};"), format!("DROP FUNCTION IF EXISTS {function}();")];

    let mut expand =
        vec![exclusive(format!("ALTER TABLE {t} ADD COLUMN {};", columns::definition(&next_column)), table)];
    expand.extend(create_sync_statements(&create_sync, table));
    let mut expand_down = drop_sync_statements(&drop_sync, table);
    expand_down.push(exclusive(format!("ALTER TABLE {t} DROP COLUMN IF EXISTS {b};"), table));

    // After the copy, the indexes of the old column are built on the new one (under temporary names).
    let mut backfill = vec![S::outside_transaction(batched_update(
        table,
        &format!("{b} = {}", to_new(&a)),
        &format!("{b} IS NULL AND {a} IS NOT NULL"),
        key,
        options.backfill_batch,
    ))];
    for i in indexes {
        backfill.extend(i.build(table, &i.tmp, &i.definition));
    }

    // Contract: validate NOT NULL ahead (no lock held while reading), then swap in one atomic statement.
    let check = ident(&rewrite::helper_name("schema_nn_", next));
    let mut contract = Vec::new();
    if new.not_null {
        contract.extend(not_null_check(table, &check, &b));
    }
    let final_name = ident(&new.name);
    let mut swap = drop_sync.to_vec();
    swap.push(format!("ALTER TABLE {t} DROP COLUMN {a};"));
    if next != new.name {
        swap.push(format!("ALTER TABLE {t} RENAME COLUMN {b} TO {final_name};"));
    }
    // Dropping the old column dropped its indexes: their copies on the new column take their names.
    for i in indexes {
        swap.push(format!("ALTER INDEX {} RENAME TO {};", qualified(&i.tmp), ident(&i.index.name.name)));
        if let Some(comment) = &i.index.comment {
            swap.push(ShadowIndex::comment(&i.index.name, Some(comment)));
        }
    }
    if new.not_null {
        swap.push(format!("ALTER TABLE {t} ALTER COLUMN {final_name} SET NOT NULL;"));
        swap.push(format!("ALTER TABLE {t} DROP CONSTRAINT {check};"));
    }
    if let Some(default) = &new.default {
        swap.push(format!("ALTER TABLE {t} ALTER COLUMN {final_name} SET DEFAULT {default};"));
    }
    contract.push(exclusive(atomic(&swap), table));

    // Revert contract, outside a transaction: in one atomic statement the new column gets its expanded
    // shape back and the old column comes back empty (its default applies to new rows only) with the sync
    // trigger; then the old values are copied back in committed batches, and the old NOT NULL is restored
    // through a validated check.
    let mut unswap = Vec::new();
    if next != new.name {
        unswap.push(format!("ALTER TABLE {t} RENAME COLUMN {final_name} TO {b};"));
    }
    for i in indexes {
        unswap.push(format!("ALTER INDEX {} RENAME TO {};", qualified(&i.index.name), ident(&i.tmp.name)));
        if i.index.comment.is_some() {
            unswap.push(ShadowIndex::comment(&i.tmp, None));
        }
    }
    if new.not_null {
        unswap.push(format!("ALTER TABLE {t} ALTER COLUMN {b} DROP NOT NULL;"));
    }
    if new.default.is_some() {
        unswap.push(format!("ALTER TABLE {t} ALTER COLUMN {b} DROP DEFAULT;"));
    }
    let mut old_bare = old.clone();
    old_bare.not_null = false;
    old_bare.default = None;
    unswap.push(format!("ALTER TABLE {t} ADD COLUMN {};", columns::definition(&old_bare)));
    if let Some(default) = &old.default {
        unswap.push(format!("ALTER TABLE {t} ALTER COLUMN {a} SET DEFAULT {default};"));
    }
    unswap.extend(create_sync);
    let mut contract_down = vec![exclusive(atomic(&unswap), table)];
    contract_down.push(S::outside_transaction(batched_update(
        table,
        &format!("{a} = {}", to_old(&b)),
        &format!("{a} IS NULL AND {b} IS NOT NULL"),
        key,
        options.backfill_batch,
    )));
    // The old column's indexes are built again once its values are back.
    for i in indexes {
        contract_down.extend(i.build(table, &i.index.name, &i.index.definition));
        if let Some(comment) = &i.index.comment {
            contract_down.push(S::locking(ShadowIndex::comment(&i.index.name, Some(comment))));
        }
    }
    if old.not_null {
        contract_down.extend(set_not_null(table, &old.name));
    }

    Phased { description, expand, expand_down, backfill, contract, contract_down, hazards: Vec::new() }
}

/// A statement that takes ACCESS EXCLUSIVE on `table`: an `ALTER TABLE`, or an atomic block of them.
fn exclusive(sql: String, table: &QualifiedName) -> S {
    S::locking(sql).taking(ACCESS_EXCLUSIVE, table)
}

/// A dual-write function and its trigger on `table`, created: the trigger takes SHARE ROW EXCLUSIVE on the
/// table, the function locks nothing.
fn create_sync_statements([function, trigger]: &[String; 2], table: &QualifiedName) -> Vec<S> {
    vec![S::locking(function.clone()), S::locking(trigger.clone()).taking(SHARE_ROW_EXCLUSIVE, table)]
}

/// The trigger and function of [`create_sync_statements`] dropped: ACCESS EXCLUSIVE on the table.
fn drop_sync_statements([trigger, function]: &[String; 2], table: &QualifiedName) -> Vec<S> {
    vec![exclusive(trigger.clone(), table), S::locking(function.clone())]
}

/// Statements run as one (a `DO` block is one statement, so it is atomic outside a transaction too).
fn atomic(statements: &[String]) -> String {
    let body: String = statements.iter().map(|s| format!("\n    {s}")).collect();
    format!("DO $schema_contract$\nBEGIN{body}\nEND\n$schema_contract$;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_definitions_split() {
        assert_eq!(split_key_definition("PRIMARY KEY (id)"), Some(("PRIMARY KEY", "id", "")));
        assert_eq!(split_key_definition("UNIQUE (a, b) DEFERRABLE"), Some(("UNIQUE", "a, b", " DEFERRABLE")));
        assert_eq!(split_key_definition("UNIQUE (a) INCLUDE (b)"), None);
        assert_eq!(split_key_definition("UNIQUE NULLS NOT DISTINCT (a)"), None);
    }

    #[test]
    fn partition_key_copies_are_named_as_postgresql_names_them() {
        assert_eq!(default_index_name("m_2024", "", "pkey"), "m_2024_pkey");
        assert_eq!(default_index_name("m_2024", "id_at", "key"), "m_2024_id_at_key");
        // 63 bytes at most: the longer part is shortened first (PostgreSQL's makeObjectName).
        let long = "t".repeat(60);
        let name = default_index_name(&long, "abc", "key");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_abc_key", "t".repeat(55)));
        assert_eq!(default_index_name(&long, &"c".repeat(40), "key").len(), 63);
    }

    #[test]
    fn index_definitions_read_the_shadow_column() {
        let shadow = "schema_new_amount";
        assert_eq!(
            replace_column("btree (amount)", "amount", shadow).as_deref(),
            Some("btree (\"schema_new_amount\")")
        );
        // Only references: not the method, a function, a type, a qualified name, a storage parameter or a
        // string; other columns stay.
        assert_eq!(
            replace_column(
                "btree (amount, amount(x), (x)::amount) INCLUDE (s.amount, y) WITH (amount='1') \
                 WHERE ((amount > 0) AND (y <> 'amount'::text))",
                "amount",
                shadow
            )
            .as_deref(),
            Some(
                "btree (\"schema_new_amount\", amount(x), (x)::amount) INCLUDE (s.amount, y) WITH (amount='1') \
                 WHERE ((\"schema_new_amount\" > 0) AND (y <> 'amount'::text))"
            )
        );
        assert_eq!(
            replace_column("amount (amount)", "amount", shadow).as_deref(),
            Some("amount (\"schema_new_amount\")")
        );
        // Quoted names are compared as they are; unquoted ones fold to lower case.
        assert_eq!(
            replace_column("btree (\"Amount\", amount, \"a\"\"b\")", "Amount", "n").as_deref(),
            Some("btree (\"n\", amount, \"a\"\"b\")")
        );
        assert_eq!(
            replace_column("btree (\"a\"\"b\") WHERE (x = 'it''s')", "a\"b", "n").as_deref(),
            Some("btree (\"n\") WHERE (x = 'it''s')")
        );
        assert_eq!(replace_column("btree (other)", "amount", shadow), None);
        assert_eq!(replace_column("btree (lower(amount::text) COLLATE \"C\")", "C", "n"), None);
    }

    #[test]
    fn timeouts_are_local_in_a_transaction() {
        assert_eq!(
            timeouts(Some(Duration::from_secs(2)), None, true),
            vec!["SET LOCAL lock_timeout = '2000ms';".to_string()]
        );
        assert_eq!(timeouts(None, Some(Duration::ZERO), false), vec!["SET statement_timeout = '0ms';".to_string()]);
    }
}
