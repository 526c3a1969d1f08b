//! PostgreSQL SQL for each [`Change`]: [`PostgresRenderer`], the one match that sends each change to the
//! file of its kind (`kinds/<kind>.rs`), and the quoting every file uses. Every identifier goes through [`ident`]; text that
//! comes from the catalog (types, defaults, definitions) is PostgreSQL's own deparsed SQL and is used as it
//! is.

mod adapt;

use super::kinds::{
    collations, columns, comments, composite_types, constraints, domains, enums, extensions, functions, indexes,
    inheritance, partitions, policies, privileges, range_types, schemas, sequences, tables, triggers, views,
};
use crate::diff::{Change, ChangeSet};
use crate::model::*;
use crate::plan::{LockMode, SqlRenderer, Statement, Unsupported};

/// Statements that take their locks briefly and lock no existing table (a new object, a function, a
/// type, a grant).
pub(super) fn locking(sql: Vec<String>) -> Vec<Statement> {
    Statement::all_locking(sql)
}

/// Statements that each take their lock briefly: `mode` on `table` ([`super::locks`]).
pub(super) fn taking(sql: Vec<String>, mode: LockMode, table: &QualifiedName) -> Vec<Statement> {
    sql.into_iter().map(|sql| Statement::locking(sql).taking(mode, table)).collect()
}

/// A quoted identifier: always quoted, embedded quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A schema-qualified, quoted name.
pub fn qualified(name: &QualifiedName) -> String {
    format!("{}.{}", ident(&name.schema), ident(&name.name))
}

/// A string literal (standard_conforming_strings is on in every supported version).
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub struct PostgresRenderer;

impl SqlRenderer for PostgresRenderer {
    fn render(&self, change: &Change) -> Result<Vec<Statement>, Unsupported> {
        render(change)
    }

    fn enum_value_usable_before_commit(&self) -> bool {
        false
    }

    fn work(&self, step: &crate::plan::Step) -> Vec<crate::plan::estimate::Work> {
        super::estimate::work(step)
    }

    /// The passes of [`adapt::adapt`].
    fn adapt(&self, changes: ChangeSet, current: &Catalog, desired: &Catalog) -> ChangeSet {
        adapt::adapt(changes, current, desired)
    }

    fn hazards(&self, change: &Change, context: &crate::safety::Context) -> Vec<crate::safety::Hazard> {
        super::hazards::hazards(change, context)
    }
}

impl crate::rewrite::LiveRenderer for PostgresRenderer {
    fn online(&self, change: &Change, context: &crate::safety::Context) -> Option<crate::rewrite::Online> {
        super::online::online(change, context)
    }

    fn expand_contract(
        &self,
        change: &Change,
        context: &crate::safety::Context,
        options: &crate::rewrite::Options,
    ) -> Option<crate::rewrite::Phased> {
        super::online::expand_contract(change, context, options)
    }

    fn timeouts(
        &self,
        lock: Option<std::time::Duration>,
        statement: Option<std::time::Duration>,
        in_transaction: bool,
    ) -> Vec<String> {
        super::online::timeouts(lock, statement, in_transaction)
    }
}

/// The statements of one change, written by the file of its kind, which matches on the kind's change
/// enum. One arm per kind and none for the rest: a new kind does not build until it is given its SQL
/// here.
pub(crate) fn render(change: &Change) -> Result<Vec<Statement>, Unsupported> {
    Ok(match change {
        Change::Table(c) => tables::render(c)?,
        Change::Column(c) => columns::render(c),
        Change::Constraint(c) => constraints::render(c),
        Change::Index(c) => indexes::render(c),
        Change::Partition(c) => partitions::render(c),
        Change::Inheritance(c) => inheritance::render(c),
        Change::Trigger(c) => triggers::render(c),
        Change::Policy(c) => policies::render(c),
        Change::Comment(c) => comments::render(c),
        Change::Privilege(c) => privileges::render(c),
        Change::Function(c) => locking(functions::render(c)),
        Change::View(c) => views::render(c),
        Change::Sequence(c) => sequences::render(c),
        Change::Enum(c) => enums::render(c),
        Change::Domain(c) => domains::render(c),
        Change::CompositeType(c) => locking(composite_types::render(c)),
        Change::RangeType(c) => locking(range_types::render(c)),
        Change::Extension(c) => locking(extensions::render(c)),
        Change::Schema(c) => locking(schemas::render(c)),
        Change::Collation(c) => locking(collations::render(c)),
    })
}
