//! PostgreSQL's online forms of changes on live tables, and its expand/contract phases (see
//! [`crate::safety::rewrite`] for how they become migration files).
//!
//! Every online statement can be run again after a failure: a failed `CREATE INDEX CONCURRENTLY` leaves
//! an INVALID index behind, so each build is preceded by `DROP INDEX CONCURRENTLY IF EXISTS` of the name
//! it builds, and each `NOT VALID` constraint by `DROP CONSTRAINT IF EXISTS`. After fixing the cause of a
//! failure, `schema migrate resolve VERSION --rolled-back` and running the file again completes it.
//!
//! Helper objects get reserved names: `schema_tmp_` (a replacement index being built), `schema_nn_` (the
//! temporary `CHECK (col IS NOT NULL)`), `schema_new_` (the shadow column of a type change) and
//! `schema_sync_` (the dual-write function and trigger of expand/contract).

use super::hazards;
use super::render::{ident, literal, qualified, render_alter_column};
use crate::diff::Change;
use crate::model::{Column, ColumnRef, ConstraintKind, ObjectRef, QualifiedName};
use crate::safety::rewrite::{self, Online, OnlineStatement as S, Options, Phased};
use crate::safety::{Context, Hazard, HazardId, Severity};
use std::time::Duration;

pub fn online(change: &Change, ctx: &Context) -> Option<Online> {
    match change {
        Change::CreateIndex(i) if ctx.kept(&i.table) => {
            let unique = if i.unique { "UNIQUE " } else { "" };
            let statements = if ctx.replaced_indexes.contains(&i.name) {
                // Build the new definition under a temporary name, then swap: the old index serves queries
                // until the new one is ready.
                let tmp = rewrite::helper_object(&i.name, "schema_tmp_", &i.name.name);
                vec![
                    S::long(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&tmp))),
                    S::long(format!(
                        "CREATE {unique}INDEX CONCURRENTLY {} ON {} USING {};",
                        ident(&tmp.name),
                        qualified(&i.table),
                        i.definition
                    )),
                    S::long(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&i.name))),
                    S::locking(format!("ALTER INDEX {} RENAME TO {};", qualified(&tmp), ident(&i.name.name))),
                ]
            } else {
                vec![
                    S::long(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&i.name))),
                    S::long(format!(
                        "CREATE {unique}INDEX CONCURRENTLY {} ON {} USING {};",
                        ident(&i.name.name),
                        qualified(&i.table),
                        i.definition
                    )),
                ]
            };
            Some(Online { statements, hazards: Vec::new() })
        }
        Change::DropIndex(i) if ctx.kept(&i.table) => {
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
                statements: vec![S::long(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&i.name)))],
                hazards: vec![hazard],
            })
        }
        Change::AddConstraint { table, constraint: c } if ctx.kept(table) && c.validated => match c.kind {
            ConstraintKind::Check | ConstraintKind::ForeignKey => {
                let t = qualified(table);
                let name = ident(&c.name);
                Some(Online {
                    statements: vec![
                        S::locking(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {name};")),
                        S::locking(format!("ALTER TABLE {t} ADD CONSTRAINT {name} {} NOT VALID;", c.definition)),
                        S::long(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {name};")),
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
                        S::locking(drop_constraint_if_exists(table, &c.name)),
                        S::long(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&index))),
                        S::long(format!(
                            "CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({columns});",
                            ident(&c.name),
                            qualified(table)
                        )),
                        S::locking(format!(
                            "ALTER TABLE {} ADD CONSTRAINT {} {keyword} USING INDEX {}{tail};",
                            qualified(table),
                            ident(&c.name),
                            ident(&c.name)
                        )),
                    ],
                    hazards: Vec::new(),
                })
            }
            _ => None,
        },
        Change::AlterColumn { table, from, to }
            if ctx.kept(table)
                && to.not_null
                && !from.not_null
                && !(to.identity.is_some() && from.identity.is_none()) =>
        {
            // Everything else the change does, then NOT NULL through a validated CHECK (PostgreSQL 12+ skips
            // the scan of SET NOT NULL when such a check exists).
            let mut rest = to.clone();
            rest.not_null = false;
            let mut statements: Vec<S> = render_alter_column(table, from, &rest).into_iter().map(S::locking).collect();
            let hazards =
                hazards::hazards(&Change::AlterColumn { table: table.clone(), from: from.clone(), to: rest }, ctx);
            statements.extend(set_not_null(table, &to.name));
            Some(Online { statements, hazards })
        }
        _ => None,
    }
}

/// Drops a constraint if it exists, taking the table's lock only when it does.
fn drop_constraint_if_exists(table: &QualifiedName, name: &str) -> String {
    format!(
        "DO $schema_guard$\nBEGIN\n    IF EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conrelid = {}::regclass AND conname = {}) THEN\n        \
         ALTER TABLE {} DROP CONSTRAINT {};\n    END IF;\nEND\n$schema_guard$;",
        literal(&qualified(table)),
        literal(name),
        qualified(table),
        ident(name)
    )
}

/// `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE`, `SET NOT NULL`, drop the check.
fn set_not_null(table: &QualifiedName, column: &str) -> Vec<S> {
    let t = qualified(table);
    let check = ident(&rewrite::helper_name("schema_nn_", column));
    vec![
        S::locking(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check};")),
        S::locking(format!("ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({} IS NOT NULL) NOT VALID;", ident(column))),
        S::long(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {check};")),
        S::locking(format!("ALTER TABLE {t} ALTER COLUMN {} SET NOT NULL;", ident(column))),
        S::locking(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check};")),
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

pub fn is_long_running(sql: &str) -> bool {
    sql.contains(" CONCURRENTLY ") || sql.contains(" VALIDATE CONSTRAINT ") || sql.starts_with("DO $schema_backfill$")
}

// ---------------------------------------------------------------------------------------------------
// Expand/contract.

/// A column rename or a type change in use, on a table that exists before and after the plan, of a
/// column nothing else depends on (indexes, constraints, views and triggers would have to be rebuilt on
/// the new column; those stay one-step).
pub fn expand_contract(change: &Change, ctx: &Context, options: &Options) -> Option<Phased> {
    match change {
        Change::RenameColumn { table, from, to } if ctx.kept(table) && !ctx.tables_in_use.contains(table) => {
            let key = ColumnRef { table: table.clone(), column: from.clone() };
            if ctx.columns_in_use.contains(&key) {
                return None;
            }
            let old = ctx.current_columns.get(&key)?;
            if old.identity.is_some() || old.generated.is_some() {
                return None;
            }
            let mut new = old.clone();
            new.name = to.clone();
            Some(phased(table, old, &new, to, format!("rename column {table}.{from} to {to}"), options))
        }
        Change::AlterColumn { table, from, to }
            if ctx.kept(table)
                && !ctx.tables_in_use.contains(table)
                && from.data_type != to.data_type
                && !hazards::binary_coercible(&from.data_type, &to.data_type) =>
        {
            let key = ColumnRef { table: table.clone(), column: from.name.clone() };
            if ctx.columns_in_use.contains(&key)
                || [from, to].iter().any(|c| c.identity.is_some() || c.generated.is_some())
            {
                return None;
            }
            let shadow = rewrite::helper_name("schema_new_", &to.name);
            Some(phased(
                table,
                from,
                to,
                &shadow,
                format!("change the type of {table}.{} from {} to {}", to.name, from.data_type, to.data_type),
                options,
            ))
        }
        _ => None,
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

/// The phases that move `old` (column `old.name`) to `new`, through the column `next` (named `new.name`
/// for a rename, a shadow column for a type change, renamed at contract).
fn phased(
    table: &QualifiedName,
    old: &Column,
    new: &Column,
    next: &str,
    description: String,
    options: &Options,
) -> Phased {
    let t = qualified(table);
    let (a, b) = (ident(&old.name), ident(next));
    let sync = rewrite::helper_object(table, rewrite::SYNC_PREFIX, &format!("{}_{}", table.name, next));
    let function = qualified(&sync);
    let trigger = ident(&sync.name);
    let mut next_column = new.clone();
    next_column.name = next.to_string();
    next_column.not_null = false;
    next_column.default = None;
    let to_new = |v: &str| cast(v, old, new);
    let to_old = |v: &str| cast(v, new, old);
    let create_sync = vec![
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
        vec![format!("DROP TRIGGER IF EXISTS {trigger} ON {t};"), format!("DROP FUNCTION IF EXISTS {function}();")];

    let mut expand = vec![format!("ALTER TABLE {t} ADD COLUMN {};", super::render::column_definition(&next_column))];
    expand.extend(create_sync.iter().cloned());
    let mut expand_down = drop_sync.clone();
    expand_down.push(format!("ALTER TABLE {t} DROP COLUMN IF EXISTS {b};"));

    let backfill = vec![S::long(format!(
        "DO $schema_backfill$\n\
         DECLARE\n\
         \x20   done bigint;\n\
         BEGIN\n\
         \x20   -- Batches of {n} rows, each committed: resumable, and row locks are held only briefly.\n\
         \x20   LOOP\n\
         \x20       UPDATE {t} SET {b} = {} WHERE ctid = ANY (ARRAY(\n\
         \x20           SELECT ctid FROM {t} WHERE {b} IS NULL AND {a} IS NOT NULL LIMIT {n}));\n\
         \x20       GET DIAGNOSTICS done = ROW_COUNT;\n\
         \x20       COMMIT;\n\
         \x20       EXIT WHEN done = 0;\n\
         \x20   END LOOP;\n\
         END\n\
         $schema_backfill$;",
        to_new(&a),
        n = options.backfill_batch.max(1),
    ))];

    // Contract: validate NOT NULL ahead (no lock held while reading), then swap in one atomic statement.
    let check = ident(&rewrite::helper_name("schema_nn_", next));
    let mut contract = Vec::new();
    if new.not_null {
        contract.push(S::locking(format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check};")));
        contract.push(S::locking(format!("ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({b} IS NOT NULL) NOT VALID;")));
        contract.push(S::long(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {check};")));
    }
    let final_name = ident(&new.name);
    let mut swap = drop_sync.clone();
    swap.push(format!("ALTER TABLE {t} DROP COLUMN {a};"));
    if next != new.name {
        swap.push(format!("ALTER TABLE {t} RENAME COLUMN {b} TO {final_name};"));
    }
    if new.not_null {
        swap.push(format!("ALTER TABLE {t} ALTER COLUMN {final_name} SET NOT NULL;"));
        swap.push(format!("ALTER TABLE {t} DROP CONSTRAINT {check};"));
    }
    if let Some(default) = &new.default {
        swap.push(format!("ALTER TABLE {t} ALTER COLUMN {final_name} SET DEFAULT {default};"));
    }
    contract.push(S::locking(atomic(&swap)));

    // Revert contract: the old column comes back, filled from the new one, and the sync trigger with it.
    let mut contract_down = Vec::new();
    if next != new.name {
        contract_down.push(format!("ALTER TABLE {t} RENAME COLUMN {final_name} TO {b};"));
    }
    let mut old_nullable = old.clone();
    old_nullable.not_null = false;
    contract_down.push(format!("ALTER TABLE {t} ADD COLUMN {};", super::render::column_definition(&old_nullable)));
    contract_down.push(format!("UPDATE {t} SET {a} = {};", to_old(&b)));
    if old.not_null {
        contract_down.push(format!("ALTER TABLE {t} ALTER COLUMN {a} SET NOT NULL;"));
    }
    if new.not_null {
        contract_down.push(format!("ALTER TABLE {t} ALTER COLUMN {b} DROP NOT NULL;"));
    }
    if new.default.is_some() {
        contract_down.push(format!("ALTER TABLE {t} ALTER COLUMN {b} DROP DEFAULT;"));
    }
    contract_down.extend(create_sync);

    Phased { description, expand, expand_down, backfill, contract, contract_down, hazards: Vec::new() }
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
    fn timeouts_are_local_in_a_transaction() {
        assert_eq!(
            timeouts(Some(Duration::from_secs(2)), None, true),
            vec!["SET LOCAL lock_timeout = '2000ms';".to_string()]
        );
        assert_eq!(timeouts(None, Some(Duration::ZERO), false), vec!["SET statement_timeout = '0ms';".to_string()]);
    }
}
