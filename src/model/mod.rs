//! The dialect-free schema model. Both sides of a diff (the declared files, loaded into a scratch database,
//! and the live database) are introspected into a [`Catalog`]. Text fields such as column types, defaults,
//! constraint and view definitions hold the database's own normalized rendering, so that comparing two
//! catalogs never needs a hand-written SQL normalizer.

mod naming;
pub use naming::{helper_name, helper_object};

use indexmap::IndexMap;
use serde::Serialize;
use std::fmt;

mod program;
pub use program::*;
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Namespace {
    pub name: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    pub name: String,
    pub schema: String,
    /// The installed version; `None` on the declared side when the schema files do not pin one.
    pub version: Option<String>,
    /// The versions `ALTER EXTENSION … UPDATE TO` reaches from the installed one on this server (PostgreSQL's
    /// `pg_extension_update_paths`); usually none are older ones.
    pub update_targets: Vec<String>,
    /// Set only when it differs from the comment the extension comes with.
    pub comment: Option<String>,
    /// Whether its objects can move to another schema (`ALTER EXTENSION … SET SCHEMA`).
    pub relocatable: bool,
    /// The types it creates (not their array types), by name in its schema.
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnumType {
    pub name: QualifiedName,
    pub labels: Vec<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sequence {
    pub name: QualifiedName,
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cache: i64,
    pub cycle: bool,
    /// The column this sequence belongs to (`OWNED BY`), as serial columns have.
    pub owned_by: Option<ColumnRef>,
    pub comment: Option<String>,
}

impl Sequence {
    /// Whether both generate the same values (type, start, step, bounds, cache, cycle), whatever their
    /// names, owners and comments.
    pub fn same_options(&self, other: &Sequence) -> bool {
        self.data_type == other.data_type
            && (self.start, self.increment, self.min_value, self.max_value, self.cache, self.cycle)
                == (other.start, other.increment, other.min_value, other.max_value, other.cache, other.cycle)
    }
}

/// A column of a table, by table and column name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ColumnRef {
    pub table: QualifiedName,
    pub column: Name,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub name: QualifiedName,
    pub columns: IndexMap<Name, Column>,
    pub constraints: IndexMap<Name, Constraint>,
    pub comment: Option<String>,
    /// Options written after the column list, as the database spells them (SQLite: `WITHOUT ROWID`,
    /// `STRICT`); empty where a database has none.
    pub options: Vec<String>,
    /// `PARTITION BY` of a partitioned table, as the database spells it (`RANGE (created_at)`).
    pub partition_key: Option<String>,
    /// The table this one is a partition of, with its bound.
    /// Boxed: most tables are not partitions, and a [`crate::diff::Change`] holding two tables stays small.
    pub partition_of: Option<Box<PartitionOf>>,
    /// Storage parameters (`fillfactor`, autovacuum settings…) as (name, value), in catalog order.
    pub storage_parameters: Vec<(String, String)>,
    /// Not written to the write-ahead log (PostgreSQL `UNLOGGED`).
    pub unlogged: bool,
    /// What identifies a changed or deleted row to logical replication, when not the database's default
    /// (PostgreSQL: the primary key). `None` also where a database has no such setting (SQLite).
    pub replica_identity: Option<ReplicaIdentity>,
    /// Parents of plain table inheritance (PostgreSQL `INHERITS`), in the order the database keeps them.
    /// A partition names its parent in [`Table::partition_of`] instead.
    pub inherits: Box<[QualifiedName]>,
    /// On a partition: the constraints PostgreSQL keeps on it as copies of its parent's (checks, foreign
    /// keys, and the keys whose names it chose, `v2_pkey`), which are not in [`Table::constraints`]. Not
    /// compared; a partition that leaves its parent keeps them as its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<ConstraintCopy>,
}

/// A constraint of a partition that is the copy of one of its parent table's constraints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstraintCopy {
    /// Its name on the partition.
    pub name: Name,
    /// The name of the parent's constraint it copies.
    pub parent: Name,
    pub validated: bool,
}

impl Table {
    /// A plain table with nothing in it yet: no columns, constraints, options, partitioning, parents or
    /// comment. Readers and builders fill in what they find.
    pub fn new(name: QualifiedName) -> Table {
        Table {
            name,
            columns: IndexMap::new(),
            constraints: IndexMap::new(),
            comment: None,
            options: Vec::new(),
            partition_key: None,
            partition_of: None,
            storage_parameters: Vec::new(),
            unlogged: false,
            replica_identity: None,
            inherits: Box::default(),
            copies: Vec::new(),
        }
    }
}

/// A replica identity other than the default (PostgreSQL `ALTER TABLE … REPLICA IDENTITY`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ReplicaIdentity {
    /// Every column of the old row.
    Full,
    /// Nothing: UPDATE and DELETE cannot be published. Also what a table whose identity index was dropped
    /// behaves as.
    Nothing,
    /// The columns of this unique index (or of the primary key or unique constraint of this name), in the
    /// table's schema.
    Index(Name),
}

/// Where a partition sits in its parent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionOf {
    pub parent: QualifiedName,
    /// The bound as the database renders it: `FOR VALUES FROM (1) TO (10)`, `DEFAULT`.
    pub bound: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Copy, Serialize)]
pub enum IdentityKind {
    Always,
    ByDefault,
}

/// A column. Introspected catalogs hold every column of every table (over 100,000 at 10,000 tables),
/// so the struct is kept small: texts that are rarely set live together in one optional box, and the
/// default and dependencies are boxed rather than growable.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: Name,
    /// The type as the database spells it (e.g. `character varying(20)`, `public.mood[]`).
    pub data_type: Name,
    pub default: Option<Box<str>>,
    /// Objects this column needs: its user-defined type, sequences its default calls.
    pub depends_on: Box<[ObjectRef]>,
    extras: ColumnExtras,
    pub not_null: bool,
    pub identity: Option<IdentityKind>,
    /// Where the column comes from in table inheritance (always [`ColumnOrigin::Own`] outside it).
    pub origin: ColumnOrigin,
}

/// Whether a column is declared by its table, inherited from a parent, or both (PostgreSQL's
/// `attislocal` and `attinhcount`). Only which columns a new table declares itself depends on it: no
/// statement turns an inherited column into a declared one in place, so the diff does not compare it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum ColumnOrigin {
    #[default]
    Own,
    Inherited,
    /// Declared by the table and inherited as well (merged with a parent's column of the same name).
    Merged,
}

impl ColumnOrigin {
    /// Whether a parent defines it (its type then changes only through the parent).
    pub fn inherited(self) -> bool {
        self != ColumnOrigin::Own
    }

    /// Whether the table declares it itself (`CREATE TABLE child (…) INHERITS …` lists it).
    pub fn local(self) -> bool {
        self != ColumnOrigin::Inherited
    }
}

// Kept from growing unnoticed: a 5,000-table catalog holds some 54,000 columns.
const _: () = assert!(std::mem::size_of::<Column>() <= 96);

/// The texts of a column that most columns do not have; `None` when the column has none of them.
/// [`ColumnExtras::update`] never leaves an empty box, so the derived comparison is exact.
#[derive(Debug, Clone, Default, PartialEq)]
struct ColumnExtras(Option<Box<ColumnExtra>>);

#[derive(Debug, Clone, Default, PartialEq)]
struct ColumnExtra {
    identity_options: Option<Box<str>>,
    generated: Option<Box<str>>,
    collation: Option<Box<str>>,
    comment: Option<Box<str>>,
    conversion: Option<Box<str>>,
}

impl ColumnExtras {
    fn get(&self) -> Option<&ColumnExtra> {
        self.0.as_deref()
    }

    /// Sets one text through `set`, dropping the box again once every text is unset.
    fn update(&mut self, set: impl FnOnce(&mut ColumnExtra)) {
        let mut extra = self.0.take().unwrap_or_default();
        set(&mut extra);
        if *extra != ColumnExtra::default() {
            self.0 = Some(extra);
        }
    }
}

fn boxed(text: Option<impl Into<Box<str>>>) -> Option<Box<str>> {
    text.map(Into::into)
}

impl Column {
    /// A nullable column without a default or any of the optional texts.
    pub fn new(name: impl Into<Name>, data_type: impl Into<Name>) -> Self {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            default: None,
            depends_on: Box::default(),
            extras: ColumnExtras::default(),
            not_null: false,
            identity: None,
            origin: ColumnOrigin::Own,
        }
    }

    /// The same column, NOT NULL.
    pub fn not_null(self) -> Self {
        Column { not_null: true, ..self }
    }

    /// The same column as an identity column of the given kind.
    pub fn identity(self, kind: IdentityKind) -> Self {
        Column { identity: Some(kind), ..self }
    }

    /// The same column, needing `objects`.
    pub fn depending_on(self, objects: impl IntoIterator<Item = ObjectRef>) -> Self {
        Column { depends_on: objects.into_iter().collect(), ..self }
    }

    /// Adds `object` to what the column needs, unless it is there already.
    pub fn add_dependency(&mut self, object: ObjectRef) {
        if !self.depends_on.contains(&object) {
            self.depends_on = self.depends_on.iter().cloned().chain([object]).collect();
        }
    }

    /// Keeps only the dependencies for which `keep` holds.
    pub fn retain_dependencies(&mut self, keep: impl Fn(&ObjectRef) -> bool) {
        self.depends_on = self.depends_on.iter().filter(|d| keep(d)).cloned().collect();
    }

    /// The identity sequence's options that differ from their defaults for the column's type, as
    /// PostgreSQL's sequence options (`INCREMENT BY 5 START WITH 1000`); `None` when all are defaults.
    pub fn identity_options(&self) -> Option<&str> {
        self.extras.get().and_then(|e| e.identity_options.as_deref())
    }

    /// Expression of a generated column.
    pub fn generated(&self) -> Option<&str> {
        self.extras.get().and_then(|e| e.generated.as_deref())
    }

    /// Set only when it differs from the type's default collation.
    pub fn collation(&self) -> Option<&str> {
        self.extras.get().and_then(|e| e.collation.as_deref())
    }

    pub fn comment(&self) -> Option<&str> {
        self.extras.get().and_then(|e| e.comment.as_deref())
    }

    /// The SQL expression that converts the old values to this column's type, declared for a type change
    /// (`-- schema:using …`, `[[conversion]]`). Set only on the new column of a planned type change, never
    /// in a catalog: it says how the change is made, not what the column is.
    pub fn conversion(&self) -> Option<&str> {
        self.extras.get().and_then(|e| e.conversion.as_deref())
    }

    pub fn set_identity_options(&mut self, options: Option<impl Into<Box<str>>>) {
        let options = boxed(options);
        self.extras.update(|e| e.identity_options = options);
    }

    pub fn set_generated(&mut self, expression: Option<impl Into<Box<str>>>) {
        let expression = boxed(expression);
        self.extras.update(|e| e.generated = expression);
    }

    pub fn set_collation(&mut self, collation: Option<impl Into<Box<str>>>) {
        let collation = boxed(collation);
        self.extras.update(|e| e.collation = collation);
    }

    pub fn set_comment(&mut self, comment: Option<impl Into<Box<str>>>) {
        let comment = boxed(comment);
        self.extras.update(|e| e.comment = comment);
    }

    pub fn set_conversion(&mut self, expression: Option<impl Into<Box<str>>>) {
        let expression = boxed(expression);
        self.extras.update(|e| e.conversion = expression);
    }
}

// Written out so that the JSON of a column keeps one flat shape, whichever texts are set.
impl Serialize for Column {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            name: &'a str,
            data_type: &'a str,
            not_null: bool,
            default: Option<&'a str>,
            identity: Option<IdentityKind>,
            identity_options: Option<&'a str>,
            generated: Option<&'a str>,
            collation: Option<&'a str>,
            comment: Option<&'a str>,
            depends_on: &'a [ObjectRef],
        }
        Flat {
            name: &self.name,
            data_type: &self.data_type,
            not_null: self.not_null,
            default: self.default.as_deref(),
            identity: self.identity,
            identity_options: self.identity_options(),
            generated: self.generated(),
            collation: self.collation(),
            comment: self.comment(),
            depends_on: &self.depends_on,
        }
        .serialize(serializer)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Copy, Serialize)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Exclusion,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Constraint {
    pub name: Name,
    pub kind: ConstraintKind,
    /// The full definition as the database renders it, e.g. `FOREIGN KEY (a) REFERENCES s.t(id) NOT VALID`.
    pub definition: Box<str>,
    pub validated: bool,
    pub columns: Vec<Name>,
    /// Boxed: a catalog holds tens of thousands of constraints, most of them no foreign key.
    pub references: Option<Box<ForeignKeyTarget>>,
    pub comment: Option<String>,
    /// Objects the constraint needs besides its own table's columns (types, sequences).
    pub depends_on: Vec<ObjectRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForeignKeyTarget {
    pub table: QualifiedName,
    pub columns: Vec<Name>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Index {
    pub name: QualifiedName,
    /// The table or materialized view the index is on.
    pub table: QualifiedName,
    pub unique: bool,
    /// Everything after `USING`: method, keys with opclass and ordering, INCLUDE, WITH, WHERE.
    pub definition: String,
    /// Columns the index reads (keys, expressions and predicate).
    pub columns: Vec<Name>,
    pub comment: Option<String>,
    /// Functions its expressions call.
    pub depends_on: Vec<ObjectRef>,
    /// On a partitioned table: the indexes attached to it on the partitions (and theirs on sub-partitions),
    /// shallowest first. Not compared: PostgreSQL creates them with the parent index. They give the online
    /// form, which builds each one on its own, the names to build.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionIndex>,
}

/// An index of a partition attached to an index of its parent table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionIndex {
    /// The index, in its table's schema.
    pub name: QualifiedName,
    /// The partition it is on.
    pub table: QualifiedName,
    /// The index it is attached to: the partitioned index, or the one of a sub-partitioned table between.
    pub parent: QualifiedName,
    /// Whether the partition holds rows (it is not partitioned itself).
    pub leaf: bool,
    /// Levels below the partitioned index (1: on a partition of its table).
    pub depth: u32,
    /// Whether it is the index of the partition's own primary key, unique or exclusion constraint, which
    /// comes with that constraint.
    pub constraint: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct View {
    pub name: QualifiedName,
    pub materialized: bool,
    /// The query as the database renders it.
    pub definition: String,
    pub columns: Vec<String>,
    /// Relations (and their columns) the query reads, from the database's dependency records.
    pub depends_on: Vec<ObjectRef>,
    pub comment: Option<String>,
    /// Comments on the view's columns (`COMMENT ON COLUMN view.column`), by column.
    pub column_comments: IndexMap<String, String>,
    /// Options as (name, value), in catalog order: `check_option`, `security_barrier`, `security_invoker`
    /// of a view, storage parameters of a materialized view (PostgreSQL's `WITH (…)`).
    pub options: Vec<(String, String)>,
}

/// A trigger, kept as the database's own definition (its full `CREATE TRIGGER` statement).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub name: QualifiedName,
    pub table: QualifiedName,
    pub definition: String,
    /// Relations the trigger body reads or writes besides its table, where known; the function it calls.
    pub depends_on: Vec<ObjectRef>,
    /// How it fires when not the default (PostgreSQL: `DISABLE`, `ENABLE REPLICA`, `ENABLE ALWAYS`).
    pub enabled: Option<String>,
    pub comment: Option<String>,
}

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

/// A domain: a base type with an optional default, NOT NULL and named CHECK constraints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Domain {
    pub name: QualifiedName,
    /// The base type as the database spells it.
    pub data_type: String,
    pub default: Option<String>,
    pub not_null: bool,
    /// Set only when it differs from the base type's collation.
    pub collation: Option<String>,
    pub constraints: IndexMap<String, DomainConstraint>,
    pub comment: Option<String>,
    /// User-defined types and collations the domain needs.
    pub depends_on: Vec<ObjectRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainConstraint {
    pub name: String,
    /// `CHECK (...)` as the database renders it (without `NOT VALID`).
    pub definition: String,
    pub validated: bool,
}

/// A composite type (`CREATE TYPE … AS (…)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompositeType {
    pub name: QualifiedName,
    pub attributes: IndexMap<String, TypeAttribute>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeAttribute {
    pub name: String,
    pub data_type: String,
    pub collation: Option<String>,
    pub depends_on: Vec<ObjectRef>,
}

/// A range type (`CREATE TYPE … AS RANGE (subtype = …)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RangeType {
    pub name: QualifiedName,
    pub subtype: String,
    /// Operator class of the subtype, when not the default one.
    pub subtype_opclass: Option<String>,
    pub collation: Option<String>,
    /// The `subtype_diff` function, if any.
    pub subtype_diff: Option<String>,
    pub comment: Option<String>,
    pub depends_on: Vec<ObjectRef>,
}

/// A collation object created in a managed schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collation {
    pub name: QualifiedName,
    /// `libc`, `icu` or `builtin`.
    pub provider: String,
    pub deterministic: bool,
    /// libc: LC_COLLATE and LC_CTYPE; ICU: the locale in both.
    pub lc_collate: Option<String>,
    pub lc_ctype: Option<String>,
    pub locale: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_whose_texts_are_unset_again_equals_one_that_never_had_them() {
        let plain = Column::new("note", "text");
        let mut edited = plain.clone();
        edited.set_comment(Some("shown to users"));
        edited.set_collation(Some("\"C\""));
        assert_ne!(edited, plain);
        assert_eq!((edited.comment(), edited.collation()), (Some("shown to users"), Some("\"C\"")));
        edited.set_comment(None::<&str>);
        assert_ne!(edited, plain, "the collation is still set");
        edited.set_collation(None::<&str>);
        assert_eq!(edited, plain);
        assert!(edited.extras.0.is_none(), "no empty box is kept");
    }

    #[test]
    fn a_column_serializes_flat_with_every_text_named() {
        let mut column = Column::new("id", "bigint").not_null().identity(IdentityKind::Always);
        column.set_identity_options(Some("START WITH 10"));
        let json = serde_json::to_value(&column).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "id", "data_type": "bigint", "not_null": true, "default": null,
                "identity": "Always", "identity_options": "START WITH 10", "generated": null,
                "collation": null, "comment": null, "depends_on": []
            })
        );
    }
}
