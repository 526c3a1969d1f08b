//! The dialect-free schema model. Both sides of a diff (the declared files, loaded into a scratch database,
//! and the live database) are introspected into a [`Catalog`]. Text fields such as column types, defaults,
//! constraint and view definitions hold the database's own normalized rendering, so that comparing two
//! catalogs never needs a hand-written SQL normalizer.

mod naming;
pub use naming::{helper_name, helper_object};

use indexmap::IndexMap;
use serde::Serialize;
use std::fmt;

// One file per object kind; each is re-exported so that `model::Table` is the one path.
mod collations;
mod columns;
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
pub use collations::*;
pub use columns::*;
pub use composite_types::*;
pub use constraints::*;
pub use domains::*;
pub use enums::*;
pub use extensions::*;
pub use functions::*;
pub use indexes::*;
pub use partitions::*;
pub use policies::*;
pub use privileges::*;
pub use range_types::*;
pub use schemas::*;
pub use sequences::*;
pub use tables::*;
pub use triggers::*;
pub use views::*;
#[cfg(any(test, feature = "testkit"))]
pub mod build;

/// Text of identifiers and short type names. Nearly all are under 24 bytes and are then stored inline,
/// without a heap allocation of their own: introspected catalogs hold hundreds of thousands of them.
pub type Name = compact_str::CompactString;

/// A schema-qualified object name, compared exactly as the database stores it (no case folding).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct QualifiedName {
    pub schema: Name,
    pub name: Name,
}

impl QualifiedName {
    pub fn new(schema: impl Into<Name>, name: impl Into<Name>) -> Self {
        QualifiedName { schema: schema.into(), name: name.into() }
    }

    /// `schema.name`, or `name` in `public`, as settings and hints write them. Names are exact (no case
    /// folding, no quotes).
    pub fn parse(text: &str) -> QualifiedName {
        match text.split_once('.') {
            Some((schema, name)) => QualifiedName::new(schema, name),
            None => QualifiedName::new("public", text),
        }
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Catalog key of an object whose name is unique only within its table (PostgreSQL triggers and
/// policies): the table's schema, and `table.name`.
pub fn member_key(table: &QualifiedName, name: &str) -> QualifiedName {
    QualifiedName::new(table.schema.clone(), format!("{}.{name}", table.name))
}

/// Everything the tool manages in one database, in a deterministic order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Catalog {
    pub schemas: IndexMap<String, Namespace>,
    pub extensions: IndexMap<String, Extension>,
    pub enums: IndexMap<QualifiedName, EnumType>,
    pub sequences: IndexMap<QualifiedName, Sequence>,
    pub tables: IndexMap<QualifiedName, Table>,
    pub views: IndexMap<QualifiedName, View>,
    pub indexes: IndexMap<QualifiedName, Index>,
    /// Keyed by the trigger's name (SQLite) or by [`member_key`] (PostgreSQL: names are per table).
    pub triggers: IndexMap<QualifiedName, Trigger>,
    pub functions: IndexMap<FunctionId, Function>,
    /// Keyed by [`Policy::key`].
    pub policies: IndexMap<QualifiedName, Policy>,
    /// Tables with row-level security enabled or forced.
    pub row_security: IndexMap<QualifiedName, RowSecurity>,
    /// Privileges granted to roles other than the owner, for the grantees the tool manages.
    pub grants: IndexMap<GrantKey, Grant>,
    /// Privileges that objects created later get, where they differ from the built-in defaults.
    pub default_privileges: IndexMap<DefaultPrivilegeKey, DefaultPrivilege>,
    /// Owners of objects; emptied by callers unless ownership is managed.
    #[serde(skip_serializing_if = "Owners::is_empty")]
    pub owners: Owners,
    /// Objects that exist but that the tool does not manage yet; reported, never diffed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmanaged: Vec<UnmanagedObject>,
    pub domains: IndexMap<QualifiedName, Domain>,
    pub composite_types: IndexMap<QualifiedName, CompositeType>,
    pub range_types: IndexMap<QualifiedName, RangeType>,
    pub collations: IndexMap<QualifiedName, Collation>,
}

/// Whether a privilege is on `schema` or on an object in it ([`Catalog::retain_schema`]).
fn grant_in(key: &GrantKey, schema: &str) -> bool {
    match &key.target {
        PrivilegeTarget::Schema(name) => name == schema,
        PrivilegeTarget::Table(name) | PrivilegeTarget::Sequence(name) => name.schema == schema,
        PrivilegeTarget::Column(column) => column.table.schema == schema,
        PrivilegeTarget::Function(id, _) => id.name.schema == schema,
    }
}

/// Whether a default privilege is for `schema`, or for the whole database (read whatever the schemas).
fn default_privilege_in(key: &DefaultPrivilegeKey, schema: &str) -> bool {
    key.schema.as_deref().is_none_or(|s| s == schema)
}

/// Whether an owned object is `schema` or in it.
fn owned_in(object: &OwnedObject, schema: &str) -> bool {
    match object {
        OwnedObject::Schema(name) => name == schema,
        OwnedObject::Function(id, _) => id.name.schema == schema,
        OwnedObject::Table(name)
        | OwnedObject::View(name)
        | OwnedObject::MaterializedView(name)
        | OwnedObject::Sequence(name)
        | OwnedObject::Type(name)
        | OwnedObject::Domain(name) => name.schema == schema,
    }
}

// Kept from growing unnoticed: a 5,000-table catalog holds some 54,000 columns.
const _: () = assert!(std::mem::size_of::<Column>() <= 96);

/// A reference from one object to another, used only for ordering.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ObjectRef {
    Type(QualifiedName),
    Sequence(QualifiedName),
    Relation(QualifiedName),
    Column(ColumnRef),
    Collation(QualifiedName),
    Function(FunctionId),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UnmanagedObject {
    /// What it is, in the user's words: `function`, `trigger`, `policy`…
    pub kind: String,
    /// The schema it lives in; such a schema is never dropped.
    pub schema: String,
    /// Its name as the database identifies it.
    pub name: String,
}

impl fmt::Display for UnmanagedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

impl Catalog {
    /// Keep only the objects whose names pass `keep`; used for `ignore` patterns in diff.toml.
    pub fn retain_names(&mut self, keep: impl Fn(&QualifiedName) -> bool) {
        self.enums.retain(|name, _| keep(name));
        self.sequences.retain(|name, _| keep(name));
        self.tables.retain(|name, _| keep(name));
        self.views.retain(|name, _| keep(name));
        let tables = &self.tables;
        let views = &self.views;
        self.indexes.retain(|name, index| {
            keep(name) && (tables.contains_key(&index.table) || views.contains_key(&index.table))
        });
        self.triggers.retain(|_, trigger| {
            keep(&trigger.name) && (tables.contains_key(&trigger.table) || views.contains_key(&trigger.table))
        });
        self.functions.retain(|id, _| keep(&id.name));
        self.policies.retain(|_, policy| tables.contains_key(&policy.table));
        self.row_security.retain(|table, _| tables.contains_key(table));
        let functions = &self.functions;
        self.grants.retain(|key, _| match &key.target {
            PrivilegeTarget::Schema(_) => true,
            PrivilegeTarget::Table(name) | PrivilegeTarget::Sequence(name) => keep(name),
            PrivilegeTarget::Column(column) => keep(&column.table),
            PrivilegeTarget::Function(id, _) => functions.contains_key(id),
        });
        self.owners.objects.retain(|object, _| match object {
            OwnedObject::Schema(_) => true,
            OwnedObject::Function(id, _) => functions.contains_key(id),
            OwnedObject::Table(name)
            | OwnedObject::View(name)
            | OwnedObject::MaterializedView(name)
            | OwnedObject::Sequence(name)
            | OwnedObject::Type(name)
            | OwnedObject::Domain(name) => keep(name),
        });
        self.domains.retain(|name, _| keep(name));
        self.composite_types.retain(|name, _| keep(name));
        self.range_types.retain(|name, _| keep(name));
        self.collations.retain(|name, _| keep(name));
    }

    /// Keep only what lives in `schema` (the schema itself with its privileges and owner, and the objects
    /// in it), as reading the database with only that schema managed would give it; extensions, and
    /// default privileges for the whole database, are read whatever the schemas and stay.
    pub fn retain_schema(&mut self, schema: &str) {
        let inside = |name: &QualifiedName| name.schema == schema;
        self.schemas.retain(|name, _| name == schema);
        self.retain_names(inside);
        self.triggers.retain(|key, _| inside(key));
        self.policies.retain(|key, _| inside(key));
        self.row_security.retain(|table, _| inside(table));
        self.grants.retain(|key, _| grant_in(key, schema));
        self.default_privileges.retain(|key, _| default_privilege_in(key, schema));
        self.owners.objects.retain(|object, _| owned_in(object, schema));
        self.unmanaged.retain(|object| object.schema == schema);
    }

    /// What [`Catalog::retain_schema`] keeps, copied out of the catalog without copying the rest: a
    /// database of 1,000 tenant schemas is split in one pass over each schema's own objects.
    pub fn in_schema(&self, schema: &str) -> Catalog {
        fn pick<K: Clone + std::hash::Hash + Eq, V: Clone>(
            map: &IndexMap<K, V>,
            keep: impl Fn(&K) -> bool,
        ) -> IndexMap<K, V> {
            map.iter().filter(|(key, _)| keep(key)).map(|(key, value)| (key.clone(), value.clone())).collect()
        }
        let inside = |name: &QualifiedName| name.schema == schema;
        let mut catalog = Catalog {
            schemas: pick(&self.schemas, |name| name == schema),
            extensions: self.extensions.clone(),
            enums: pick(&self.enums, inside),
            sequences: pick(&self.sequences, inside),
            tables: pick(&self.tables, inside),
            views: pick(&self.views, inside),
            indexes: pick(&self.indexes, inside),
            triggers: pick(&self.triggers, inside),
            functions: pick(&self.functions, |id| inside(&id.name)),
            policies: pick(&self.policies, inside),
            row_security: pick(&self.row_security, inside),
            grants: pick(&self.grants, |key| grant_in(key, schema)),
            default_privileges: pick(&self.default_privileges, |key| default_privilege_in(key, schema)),
            owners: Owners {
                session_role: self.owners.session_role.clone(),
                objects: pick(&self.owners.objects, |object| owned_in(object, schema)),
            },
            unmanaged: self.unmanaged.iter().filter(|object| object.schema == schema).cloned().collect(),
            domains: pick(&self.domains, inside),
            composite_types: pick(&self.composite_types, inside),
            range_types: pick(&self.range_types, inside),
            collations: pick(&self.collations, inside),
        };
        catalog.retain_schema(schema);
        catalog
    }

    /// True when the catalog holds no managed object besides schemas.
    pub fn is_empty(&self) -> bool {
        self.extensions.is_empty()
            && self.enums.is_empty()
            && self.sequences.is_empty()
            && self.tables.is_empty()
            && self.views.is_empty()
            && self.indexes.is_empty()
            && self.triggers.is_empty()
            && self.domains.is_empty()
            && self.composite_types.is_empty()
            && self.range_types.is_empty()
            && self.collations.is_empty()
            && self.functions.is_empty()
            && self.policies.is_empty()
            && self.row_security.is_empty()
        // Grants are on the objects above or on schemas (every new database grants USAGE on `public`).
    }

    /// Keep only the privileges of these grantees (the ones the tool manages).
    pub fn retain_grantees(&mut self, managed: &indexmap::IndexSet<String>) {
        self.grants.retain(|key, _| managed.contains(&key.grantee));
        self.default_privileges.retain(|key, _| managed.contains(&key.grantee));
    }

    /// Whether the object a privilege is on exists in this catalog.
    pub fn has_privilege_target(&self, target: &PrivilegeTarget) -> bool {
        match target {
            PrivilegeTarget::Schema(s) => self.schemas.contains_key(s),
            PrivilegeTarget::Table(n) => self.tables.contains_key(n) || self.views.contains_key(n),
            PrivilegeTarget::Column(c) => self.tables.get(&c.table).is_some_and(|t| t.columns.contains_key(&c.column)),
            PrivilegeTarget::Sequence(n) => self.sequences.contains_key(n),
            PrivilegeTarget::Function(id, _) => self.functions.contains_key(id),
        }
    }

    /// Grantees of privileges granted explicitly, not by default, and of default privileges.
    pub fn explicit_grantees(&self) -> impl Iterator<Item = &String> {
        let granted = self.grants.values().filter(|g| !g.implicit).map(|g| &g.key.grantee);
        granted.chain(self.default_privileges.keys().map(|k| &k.grantee))
    }
}
