//! Who may do what: privileges granted on objects, default privileges for objects created later,
//! and owners.

use super::{ColumnRef, FunctionId, FunctionKind, QualifiedName};
use indexmap::IndexMap;
use serde::Serialize;
use std::fmt;

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
