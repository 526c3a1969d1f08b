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
use crate::model::*;
use crate::plan::{SqlRenderer, Unsupported};

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
    fn render(&self, change: &Change) -> Result<Vec<String>, Unsupported> {
        render(change)
    }

    fn enum_value_usable_before_commit(&self) -> bool {
        false
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

    fn is_long_running(&self, sql: &str) -> bool {
        super::online::is_long_running(sql)
    }
}

/// The statements of one change, written by the file of its kind. One arm per variant and none for the
/// rest: a new variant does not build until it is given its SQL here.
pub(crate) fn render(change: &Change) -> Result<Vec<String>, Unsupported> {
    Ok(match change {
        Change::CreateSchema(s) => schemas::create(s),
        Change::DropSchema(s) => schemas::drop(s),
        Change::CreateExtension(x) => extensions::create(x),
        Change::DropExtension(x) => extensions::drop(x),
        Change::SetExtensionSchema { name, to, .. } => extensions::set_schema(name, to),
        Change::AlterExtensionVersion { name, to, reachable, .. } => extensions::alter_version(name, to, *reachable),
        Change::CreateEnum(t) => enums::create(t),
        Change::DropEnum(t) => enums::drop(t),
        Change::AddEnumValue { name, value, position } => enums::add_value(name, value, position),
        Change::RebuildEnum { to, columns, .. } => enums::rebuild(to, columns),
        Change::CreateDomain(d) => domains::create(d),
        Change::DropDomain(d) => domains::drop(d),
        Change::AlterDomain { from, to } => domains::alter(from, to),
        Change::CreateCompositeType(t) => composite_types::create(t),
        Change::DropCompositeType(t) => composite_types::drop(t),
        Change::AlterCompositeType { from, to } => composite_types::alter(from, to),
        Change::CreateRangeType(t) => range_types::create(t),
        Change::DropRangeType(t) => range_types::drop(t),
        Change::CreateCollation(c) => collations::create(c),
        Change::DropCollation(c) => collations::drop(c),
        Change::CreateSequence(s) => sequences::create(s),
        Change::DropSequence(s) => sequences::drop(s),
        Change::AlterSequence { to, .. } => sequences::alter(to),
        Change::SetSequenceOwner { sequence, to, .. } => sequences::set_owner(sequence, to.as_ref()),
        Change::RenameSequence { from, to } => sequences::rename(from, to),
        Change::CreateTable(t) => tables::create(t),
        Change::DropTable(t) => tables::drop(t),
        Change::RenameTable { from, to } => tables::rename(from, to),
        Change::SetAside { from, to } => tables::set_aside(from, to),
        Change::CopyRows { from, to, old_row_security, .. } => tables::copy_rows(from, to, *old_row_security),
        // PostgreSQL changes tables in place: its renderer never adapts a plan into a rebuild.
        Change::RebuildTable { .. } => {
            return Err(Unsupported::new("PostgreSQL", change, "it changes tables in place and never plans a rebuild"));
        }
        Change::SetStorageParameters { table, from, to } => tables::set_storage_parameters(table, from, to),
        Change::SetUnlogged { table, unlogged } => tables::set_unlogged(table, *unlogged),
        Change::SetReplicaIdentity { table, to, .. } => tables::set_replica_identity(table, to.as_ref()),
        Change::AddColumn { table, column } => columns::add(table, column),
        Change::DropColumn { table, column } => columns::drop(table, column),
        Change::DropColumnKeptByChildren { table, column } => columns::drop_kept_by_children(table, column),
        Change::RenameColumn { table, from, to } => columns::rename(table, from, to),
        Change::AlterColumn { table, from, to } => columns::alter(table, from, to),
        Change::AddConstraint { table, constraint } => constraints::add(table, constraint),
        Change::DropConstraint { table, constraint } => constraints::drop(table, constraint),
        Change::ValidateConstraint { table, constraint } => constraints::validate(table, constraint),
        Change::RenameConstraint { table, from, to } => constraints::rename(table, from, to),
        Change::CreateIndex(i) => indexes::create(i),
        Change::DropIndex(i) => indexes::drop(i),
        Change::RenameIndex { from, to, .. } => indexes::rename(from, to),
        Change::AttachPartition { table, parent, bound, checks } => partitions::attach(table, parent, bound, checks),
        Change::DetachPartition { table, parent, .. } => partitions::detach(table, parent),
        Change::Inherit { table, parent, checks } => partitions::inherit(table, parent, checks),
        Change::NoInherit { table, parent, checks } => partitions::no_inherit(table, parent, checks),
        Change::CreateView(v) => views::create(v),
        Change::DropView(v) => views::drop(v),
        Change::CreateFunction(f) | Change::ReplaceFunction { to: f, .. } => functions::create(f),
        Change::DropFunction(f) => functions::drop(f),
        Change::CreateTrigger(t) => triggers::create(t),
        Change::DropTrigger(t) => triggers::drop(t),
        Change::CreatePolicy(p) => policies::create(p),
        Change::AlterPolicy { to, .. } => policies::alter(to),
        Change::DropPolicy(p) => policies::drop(p),
        Change::SetRowSecurity { table, from, to } => policies::set_row_security(table, from, to),
        Change::GrantPrivilege(g) => privileges::grant(g),
        Change::RevokePrivilege(g) => privileges::revoke(g),
        Change::GrantDefaultPrivilege { key, with_grant_option } => privileges::grant_default(key, *with_grant_option),
        Change::RevokeDefaultPrivilege { key, grant_option_only } => {
            privileges::revoke_default(key, *grant_option_only)
        }
        Change::SetOwner { object, to, .. } => privileges::set_owner(object, to),
        Change::SetComment { target, comment } => comments::set(target, comment.as_deref()),
    })
}
