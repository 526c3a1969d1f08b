//! PostgreSQL SQL for each [`Change`]: [`PostgresRenderer`], the one match that sends each change to the
//! file of its kind, and the quoting every file uses. Every identifier goes through [`ident`]; text that
//! comes from the catalog (types, defaults, definitions) is PostgreSQL's own deparsed SQL and is used as it
//! is.

mod adapt;
mod collations;
pub mod columns;
mod comments;
mod composite_types;
mod constraints;
mod domains;
mod enums;
mod extensions;
mod functions;
mod indexes;
mod partitions;
mod policies;
mod privileges;
mod range_types;
mod schemas;
mod sequences;
mod tables;
mod triggers;
mod views;

use crate::diff::{Change, ChangeSet};
use crate::diff::{ColumnChange, ConstraintChange, IndexChange, InheritanceChange, PartitionChange, TableChange};
use crate::model::*;
use crate::plan::{SqlRenderer, Statement, Unsupported};

/// Statements that take their locks briefly: what every change renders to, except validations.
fn locking(sql: Vec<String>) -> Vec<Statement> {
    Statement::all_locking(sql)
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

/// The statements of one change, written by the file of its kind. One arm per variant (per kind for the
/// kinds with their own change enum, whose file matches on it) and none for the rest: a new variant does
/// not build until it is given its SQL here.
pub(crate) fn render(change: &Change) -> Result<Vec<Statement>, Unsupported> {
    Ok(match change {
        Change::Table(TableChange::Create(t)) => locking(tables::create(t)),
        Change::Table(TableChange::Drop(t)) => locking(tables::drop(t)),
        Change::Table(TableChange::Rename { from, to }) => locking(tables::rename(from, to)),
        Change::Table(TableChange::SetAside { from, to }) => locking(tables::set_aside(from, to)),
        Change::Table(TableChange::CopyRows { from, to, old_row_security, .. }) => {
            locking(tables::copy_rows(from, to, *old_row_security))
        }
        // PostgreSQL changes tables in place: its renderer never adapts a plan into a rebuild.
        Change::Table(TableChange::Rebuild { .. }) => {
            return Err(Unsupported::new("PostgreSQL", change, "it changes tables in place and never plans a rebuild"));
        }
        Change::Table(TableChange::SetStorageParameters { table, from, to }) => {
            locking(tables::set_storage_parameters(table, from, to))
        }
        Change::Table(TableChange::SetUnlogged { table, unlogged }) => locking(tables::set_unlogged(table, *unlogged)),
        Change::Table(TableChange::SetReplicaIdentity { table, to, .. }) => {
            locking(tables::set_replica_identity(table, to.as_ref()))
        }
        Change::Column(ColumnChange::Add { table, column }) => locking(columns::add(table, column)),
        Change::Column(ColumnChange::Drop { table, column }) => locking(columns::drop(table, column)),
        Change::Column(ColumnChange::DropKeptByChildren { table, column }) => {
            locking(columns::drop_kept_by_children(table, column))
        }
        Change::Column(ColumnChange::Rename { table, from, to }) => locking(columns::rename(table, from, to)),
        Change::Column(ColumnChange::Alter { table, from, to }) => locking(columns::alter(table, from, to)),
        Change::Constraint(ConstraintChange::Add { table, constraint }) => locking(constraints::add(table, constraint)),
        Change::Constraint(ConstraintChange::Drop { table, constraint }) => {
            locking(constraints::drop(table, constraint))
        }
        Change::Constraint(ConstraintChange::Validate { table, constraint }) => {
            constraints::validate(table, constraint)
        }
        Change::Constraint(ConstraintChange::Rename { table, from, to }) => {
            locking(constraints::rename(table, from, to))
        }
        Change::Index(IndexChange::Create(i)) => locking(indexes::create(i)),
        Change::Index(IndexChange::Drop(i)) => locking(indexes::drop(i)),
        Change::Index(IndexChange::Rename { from, to, .. }) => locking(indexes::rename(from, to)),
        Change::Partition(PartitionChange::Attach { table, parent, bound, checks }) => {
            locking(partitions::attach(table, parent, bound, checks))
        }
        Change::Partition(PartitionChange::Detach { table, parent, .. }) => locking(partitions::detach(table, parent)),
        Change::Inheritance(InheritanceChange::Inherit { table, parent, checks }) => {
            locking(partitions::inherit(table, parent, checks))
        }
        Change::Inheritance(InheritanceChange::NoInherit { table, parent, checks }) => {
            locking(partitions::no_inherit(table, parent, checks))
        }
        Change::Trigger(c) => locking(triggers::render(c)),
        Change::Policy(c) => locking(policies::render(c)),
        Change::Comment(c) => locking(comments::render(c)),
        Change::Privilege(c) => locking(privileges::render(c)),
        Change::Function(c) => locking(functions::render(c)),
        Change::View(c) => locking(views::render(c)),
        Change::Sequence(c) => locking(sequences::render(c)),
        Change::Enum(c) => locking(enums::render(c)),
        Change::Domain(c) => domains::render(c),
        Change::CompositeType(c) => locking(composite_types::render(c)),
        Change::RangeType(c) => locking(range_types::render(c)),
        Change::Extension(c) => locking(extensions::render(c)),
        Change::Schema(c) => locking(schemas::render(c)),
        Change::Collation(c) => locking(collations::render(c)),
    })
}
