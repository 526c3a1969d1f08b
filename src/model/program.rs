//! Objects that hold code or access rules rather than data: functions and procedures, row-level
//! security policies and the per-table row-security switches. Like the rest of the model, their text
//! is the database's own rendering (PostgreSQL's `pg_get_functiondef`, `pg_get_expr`).

use super::{ColumnRef, ObjectRef, QualifiedName};
use indexmap::IndexMap;
use serde::Serialize;
use std::fmt;

/// A function or procedure is identified by its schema, name and argument types, as overloads share
/// a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FunctionId {
    pub name: QualifiedName,
    /// The identity arguments as the database prints them, e.g. `a integer, b text`.
    pub arguments: String,
}

impl fmt::Display for FunctionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name, self.arguments)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum FunctionKind {
    Function,
    Procedure,
    /// An aggregate (`CREATE AGGREGATE`): its definition names its support functions instead of a body.
    Aggregate,
}

impl FunctionKind {
    pub fn keyword(self) -> &'static str {
        match self {
            FunctionKind::Function => "FUNCTION",
            FunctionKind::Procedure => "PROCEDURE",
            FunctionKind::Aggregate => "AGGREGATE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Function {
    pub id: FunctionId,
    pub kind: FunctionKind,
    /// The complete `CREATE OR REPLACE …` statement as the database renders it (no trailing `;`).
    pub definition: String,
    /// Every argument with names, modes and defaults: what `CREATE OR REPLACE` must keep unchanged.
    pub signature: String,
    /// The result type (`integer`, `SETOF t`, `TABLE(…)`); empty for procedures.
    pub returns: String,
    pub comment: Option<String>,
    /// Types, relations and other functions it needs, from the database's dependency records (a body
    /// in a string, as PL/pgSQL or `AS $$…$$`, records none).
    pub depends_on: Vec<ObjectRef>,
    /// False when what the body uses is unknown (a PL/pgSQL body, or a SQL body the parser could not
    /// read): the function is then ordered conservatively, and its statement says so.
    pub body_dependencies_known: bool,
    /// Functions a body in a string calls, which PostgreSQL checks when the function is created but does
    /// not record (`LANGUAGE sql … AS $$ SELECT b(1) $$`): known from the body and the order in which the
    /// database created them. Only creating the function waits for them; its text says the rest, so
    /// neither the diff nor drops look at them.
    pub calls: Vec<FunctionId>,
    /// The name and argument types calls resolve by, as the database prints them (`public.pos(integer)`):
    /// argument names are not part of it, so a function whose arguments are renamed takes the place of
    /// the old one, which must be gone first.
    pub call_signature: String,
}

/// A row-level security policy on a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub name: String,
    pub table: QualifiedName,
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: String,
    /// Role names, sorted; `PUBLIC` for everyone.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
    pub comment: Option<String>,
    pub depends_on: Vec<ObjectRef>,
}

impl Policy {
    /// The key policies are stored under: policy names are unique per table only.
    pub fn key(&self) -> QualifiedName {
        member_key(&self.table, &self.name)
    }
}

/// Row-level security switches of a table; a table with both off is not listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RowSecurity {
    pub enabled: bool,
    pub forced: bool,
}

/// Catalog key of an object whose name is unique only within its table (PostgreSQL triggers and
/// policies): the table's schema, and `table.name`.
pub fn member_key(table: &QualifiedName, name: &str) -> QualifiedName {
    QualifiedName::new(table.schema.clone(), format!("{}.{name}", table.name))
}

/// What a privilege is granted on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum PrivilegeTarget {
    Schema(String),
    /// A table, view, materialized view or foreign table.
    Table(QualifiedName),
    Column(ColumnRef),
    Sequence(QualifiedName),
    Function(FunctionId, FunctionKind),
}

/// One privilege held by one grantee (a role name, or `PUBLIC`) on one object. The owner's own
/// privileges are not listed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct GrantKey {
    pub target: PrivilegeTarget,
    pub grantee: String,
    /// `SELECT`, `INSERT`, `USAGE`, `EXECUTE`…
    pub privilege: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grant {
    pub key: GrantKey,
    pub grantable: bool,
    /// Whether it comes from the object's default privileges (never granted explicitly), such as
    /// `EXECUTE` for `PUBLIC` on a function.
    pub implicit: bool,
}

/// The kind of object a default privilege applies to when it is created later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum DefaultObjectKind {
    Tables,
    Sequences,
    /// Functions and procedures.
    Functions,
    Types,
    Schemas,
}

impl DefaultObjectKind {
    pub fn keyword(self) -> &'static str {
        match self {
            DefaultObjectKind::Tables => "TABLES",
            DefaultObjectKind::Sequences => "SEQUENCES",
            DefaultObjectKind::Functions => "FUNCTIONS",
            DefaultObjectKind::Types => "TYPES",
            DefaultObjectKind::Schemas => "SCHEMAS",
        }
    }
}

/// One privilege that objects created later by `role` (in `schema`, or anywhere) get for `grantee`:
/// PostgreSQL's `ALTER DEFAULT PRIVILEGES`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DefaultPrivilegeKey {
    /// The role whose new objects get the privilege.
    pub role: String,
    /// `None`: everywhere (then the entry can also take away a built-in default).
    pub schema: Option<String>,
    pub on: DefaultObjectKind,
    pub grantee: String,
    pub privilege: String,
}

/// How a default privilege differs from the database's built-in defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DefaultPrivilegeState {
    Granted {
        grantable: bool,
    },
    /// A built-in default (such as `EXECUTE` for `PUBLIC` on functions) taken away.
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefaultPrivilege {
    pub key: DefaultPrivilegeKey,
    pub state: DefaultPrivilegeState,
}

/// An object whose owner is compared when ownership is managed. Objects owned through another one
/// (indexes, identity and serial sequences, a table's row type) are not listed: they follow it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum OwnedObject {
    Schema(String),
    Table(QualifiedName),
    View(QualifiedName),
    MaterializedView(QualifiedName),
    Sequence(QualifiedName),
    Function(FunctionId, FunctionKind),
    /// Enum, composite and range types.
    Type(QualifiedName),
    Domain(QualifiedName),
}

impl fmt::Display for OwnedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnedObject::Schema(s) => write!(f, "schema {s}"),
            OwnedObject::Table(n) => write!(f, "table {n}"),
            OwnedObject::View(n) => write!(f, "view {n}"),
            OwnedObject::MaterializedView(n) => write!(f, "materialized view {n}"),
            OwnedObject::Sequence(n) => write!(f, "sequence {n}"),
            OwnedObject::Function(id, kind) => write!(f, "{} {id}", kind.keyword().to_lowercase()),
            OwnedObject::Type(n) => write!(f, "type {n}"),
            OwnedObject::Domain(n) => write!(f, "domain {n}"),
        }
    }
}

/// Who owns what. Filled by every introspection; compared only when ownership is managed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Owners {
    /// The role the introspecting session runs as: the owner of what a migration creates through it.
    pub session_role: Option<String>,
    pub objects: IndexMap<OwnedObject, String>,
}

impl Owners {
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}
