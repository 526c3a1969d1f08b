//! Tables: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/tables.sql`): names, comments, partition key, partition parent and bound, storage parameters,
//! UNLOGGED, replica identity, inheritance parents and a partition's copies of its parent's constraints. Columns
//! and constraints are read by their own queries.
//!
//! Render: `CREATE TABLE` (a plain one, and one that needs more than a column list: a partition, a partitioned
//! or inheriting table, storage parameters, UNLOGGED) with the constraints it can hold inline, drop, rename and
//! move to another schema, storage parameters, LOGGED/UNLOGGED, replica identity, and the rebuild of a table
//! PostgreSQL cannot change in place (set aside, rows copied).
//!
//! Hazards: a rebuild (rows copied into a new table under ACCESS EXCLUSIVE), a new replica identity (what
//! logical decoding sends changes), and LOGGED/UNLOGGED (a rewrite).

use super::columns::{self, identity_past_rows};
use super::constraints;
use super::partitions;
use crate::dialect::postgres::introspect::{IntrospectError, Rows, get, get_qualified, json_pairs};
use crate::dialect::postgres::locks::{ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE};
use crate::dialect::postgres::render::{ident, literal, qualified, taking};
use crate::diff::{Change, TableChange};
use crate::model::*;
use crate::plan::{Statement, Unsupported};
use crate::safety::{self, Context, Hazard, HazardId, Severity};
use indexmap::IndexMap;
use sqlx::postgres::{PgConnection, PgRow};

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("tables", include_str!("../queries/tables.sql"));

pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    let mut rows = Rows::new(conn, QUERY, schemas);
    while let Some(row) = rows.next().await? {
        let q = "tables";
        let name = get_qualified(&row, q, "name")?;
        let table = Table {
            name: name.clone(),
            columns: IndexMap::new(),
            constraints: IndexMap::new(),
            comment: get(&row, q, "comment")?,
            options: Vec::new(),
            partition_key: get(&row, q, "partition_key")?,
            partition_of: partitions::partition_of(&row)?,
            storage_parameters: storage_parameters(&row)?,
            unlogged: get(&row, q, "unlogged")?,
            replica_identity: replica_identity(&row)?,
            inherits: json_pairs(q, get::<&str>(&row, q, "inherits")?)?
                .into_iter()
                .map(|(schema, name)| QualifiedName::new(schema, name))
                .collect(),
            copies: partitions::constraint_copies(&row)?,
        };
        catalog.tables.insert(name, table);
    }
    catalog.tables.sort_unstable_keys();
    Ok(())
}

/// A table's replica identity from the tables query: `None` for the default. An identity index that was
/// dropped leaves `i` behind without an index, which PostgreSQL treats as NOTHING.
fn replica_identity(row: &PgRow) -> Result<Option<ReplicaIdentity>, IntrospectError> {
    let q = "tables";
    Ok(match get::<&str>(row, q, "replica_identity")? {
        "d" => None,
        "f" => Some(ReplicaIdentity::Full),
        "i" => Some(match get::<Option<&str>>(row, q, "replica_index")? {
            Some(index) => ReplicaIdentity::Index(index.into()),
            None => ReplicaIdentity::Nothing,
        }),
        "n" => Some(ReplicaIdentity::Nothing),
        other => return Err(IntrospectError::Decode { query: q, detail: format!("replica identity {other}") }),
    })
}

/// `reloptions` entries (`fillfactor=70`) as (name, value) pairs.
pub(super) fn storage_parameters(row: &PgRow) -> Result<Vec<(String, String)>, IntrospectError> {
    let options: Vec<String> = get(row, "tables", "reloptions")?;
    options
        .into_iter()
        .map(|o| match o.split_once('=') {
            Some((n, v)) => Ok((n.to_string(), v.to_string())),
            None => {
                Err(IntrospectError::Decode { query: "tables and views", detail: format!("storage parameter {o}") })
            }
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// Render.

/// The statements of one table change. PostgreSQL changes tables in place: a rebuild is never planned
/// for it.
pub(crate) fn render(change: &TableChange) -> Result<Vec<Statement>, Unsupported> {
    Ok(match change {
        TableChange::Create(t) => create(t),
        TableChange::Drop(t) => drop(t),
        TableChange::Rename { from, to } => rename(from, to),
        TableChange::SetAside { from, to } => set_aside(from, to),
        TableChange::CopyRows { from, to, old_row_security, .. } => copy_rows(from, to, *old_row_security),
        // PostgreSQL changes tables in place: its renderer never adapts a plan into a rebuild.
        TableChange::Rebuild { .. } => {
            return Err(Unsupported::new(
                "PostgreSQL",
                &Change::Table(change.clone()),
                "it changes tables in place and never plans a rebuild",
            ));
        }
        TableChange::SetStorageParameters { table, from, to } => {
            // PostgreSQL takes SHARE UPDATE EXCLUSIVE for every table parameter but user_catalog_table.
            let catalog = from.iter().chain(to).any(|(name, _)| name == "user_catalog_table");
            let mode = if catalog { ACCESS_EXCLUSIVE } else { SHARE_UPDATE_EXCLUSIVE };
            taking(set_storage_parameters(table, from, to), mode, table)
        }
        TableChange::SetUnlogged { table, unlogged } => taking(set_unlogged(table, *unlogged), ACCESS_EXCLUSIVE, table),
        TableChange::SetReplicaIdentity { table, to, .. } => {
            taking(set_replica_identity(table, to.as_ref()), ACCESS_EXCLUSIVE, table)
        }
    })
}

/// A new table, with the constraints `CREATE TABLE` keeps as they are written inside it and the others
/// added after it ([`table_constraints`]). `CREATE TABLE` locks a partition's parent (ACCESS EXCLUSIVE), an
/// inheriting table's parents (SHARE UPDATE EXCLUSIVE) and the tables its foreign keys reference.
pub(super) fn create(t: &Table) -> Vec<Statement> {
    let (inline, apart) = table_constraints(t);
    let sql = if is_special_table(t) {
        create_table(t)
    } else {
        let mut lines: Vec<String> = t.columns.values().map(columns::definition).collect();
        lines.extend(inline.iter().map(|c| format!("CONSTRAINT {} {}", ident(&c.name), c.definition)));
        let body = if lines.is_empty() { String::new() } else { format!("\n    {}\n", lines.join(",\n    ")) };
        format!("CREATE TABLE {} ({body});", qualified(&t.name))
    };
    let mut create = Statement::locking(sql);
    if let Some(p) = &t.partition_of {
        create = create.taking(ACCESS_EXCLUSIVE, &p.parent);
    }
    for parent in &t.inherits {
        create = create.taking(SHARE_UPDATE_EXCLUSIVE, parent);
    }
    for referenced in inline.iter().filter_map(|c| c.references.as_ref()).map(|r| &r.table) {
        // The new table itself is not locked before it exists; a partition's parent keeps its stronger lock.
        if referenced != &t.name {
            create = create.taking(SHARE_ROW_EXCLUSIVE, referenced);
        }
    }
    let added = apart.into_iter().map(|c| constraints::add(&t.name, c));
    std::iter::once(create).chain(added).collect()
}

/// ACCESS EXCLUSIVE on the table, and on the tables its foreign keys reference (their side of the key
/// goes with it).
pub(super) fn drop(t: &Table) -> Vec<Statement> {
    let mut drop = Statement::locking(format!("DROP TABLE {};", qualified(&t.name))).taking(ACCESS_EXCLUSIVE, &t.name);
    for referenced in t.constraints.values().filter_map(|c| c.references.as_ref()).map(|r| &r.table) {
        drop = drop.taking(ACCESS_EXCLUSIVE, referenced);
    }
    match &t.partition_of {
        // A partition is detached first: PostgreSQL refuses to drop one that a foreign key to its parent
        // table references (through the copy of that foreign key it holds for the partition).
        Some(p) => vec![partitions::detach(&t.name, &p.parent), drop],
        None => vec![drop],
    }
}

/// A table moved to another schema (`SET SCHEMA`), renamed, or both; each statement takes ACCESS EXCLUSIVE
/// on the table, under the name it has when the statement runs.
pub(super) fn rename(from: &QualifiedName, to: &QualifiedName) -> Vec<Statement> {
    let mut sql = Vec::new();
    let mut at = from.clone();
    if from.schema != to.schema {
        let statement = format!("ALTER TABLE {} SET SCHEMA {};", qualified(from), ident(&to.schema));
        sql.push(Statement::locking(statement).taking(ACCESS_EXCLUSIVE, from));
        at.schema = to.schema.clone();
    }
    if from.name != to.name {
        let statement = format!("ALTER TABLE {} RENAME TO {};", qualified(&at), ident(&to.name));
        sql.push(Statement::locking(statement).taking(ACCESS_EXCLUSIVE, &at));
    }
    sql
}

/// The storage parameters no longer set are reset, the new and changed ones set.
pub(super) fn set_storage_parameters(
    table: &QualifiedName,
    from: &[(String, String)],
    to: &[(String, String)],
) -> Vec<String> {
    let mut sql = Vec::new();
    let reset: Vec<String> =
        from.iter().filter(|(n, _)| !to.iter().any(|(m, _)| m == n)).map(|(n, _)| ident(n)).collect();
    if !reset.is_empty() {
        sql.push(format!("ALTER TABLE {} RESET ({});", qualified(table), reset.join(", ")));
    }
    let set: Vec<(String, String)> = to.iter().filter(|p| !from.contains(p)).cloned().collect();
    if !set.is_empty() {
        sql.push(format!("ALTER TABLE {} SET ({});", qualified(table), parameters(&set)));
    }
    sql
}

pub(super) fn set_unlogged(table: &QualifiedName, unlogged: bool) -> Vec<String> {
    vec![format!("ALTER TABLE {} SET {};", qualified(table), if unlogged { "UNLOGGED" } else { "LOGGED" })]
}

pub(super) fn set_replica_identity(table: &QualifiedName, to: Option<&ReplicaIdentity>) -> Vec<String> {
    let identity = match to {
        None => "DEFAULT".to_string(),
        Some(ReplicaIdentity::Full) => "FULL".to_string(),
        Some(ReplicaIdentity::Nothing) => "NOTHING".to_string(),
        Some(ReplicaIdentity::Index(index)) => format!("USING INDEX {}", ident(index)),
    };
    vec![format!("ALTER TABLE {} REPLICA IDENTITY {identity};", qualified(table))]
}

/// Whether a new table needs more than a column list: partitioning, storage parameters, UNLOGGED.
fn is_special_table(t: &Table) -> bool {
    t.partition_key.is_some()
        || t.partition_of.is_some()
        || !t.storage_parameters.is_empty()
        || t.unlogged
        || !t.inherits.is_empty()
}

/// `name = 'value', …` of a `WITH (…)` or `SET (…)` list.
pub(super) fn parameters(list: &[(String, String)]) -> String {
    list.iter().map(|(n, v)| format!("{} = {}", ident(n), literal(v))).collect::<Vec<_>>().join(", ")
}

/// `CREATE TABLE` of a table that needs more than a column list ([`is_special_table`]).
fn create_table(t: &Table) -> String {
    let unlogged = if t.unlogged { "UNLOGGED " } else { "" };
    let (inline, _) = table_constraints(t);
    let constraints = inline.into_iter().map(|c| format!("CONSTRAINT {} {}", ident(&c.name), c.definition));
    let mut sql = format!("CREATE {unlogged}TABLE {}", qualified(&t.name));
    let body = |lines: Vec<String>| {
        if lines.is_empty() { String::new() } else { format!(" (\n    {}\n)", lines.join(",\n    ")) }
    };
    match &t.partition_of {
        // The columns come from the parent.
        Some(p) => {
            // A partition can hold NOT NULL of its own (a key of its own sets it, and it stays once the key is
            // gone); repeating the parent's changes nothing.
            let not_null =
                t.columns.values().filter(|c| c.not_null).map(|c| format!("{} WITH OPTIONS NOT NULL", ident(&c.name)));
            let lines = not_null.chain(constraints).collect();
            sql.push_str(&format!(" PARTITION OF {}{} {}", qualified(&p.parent), body(lines), p.bound));
        }
        None => {
            // A child declares its own columns; the inherited ones come from its parents.
            let own = t.columns.values().filter(|c| c.origin.local());
            let lines: Vec<String> = own.map(columns::definition).chain(constraints).collect();
            let text = body(lines);
            sql.push_str(if text.is_empty() { " ()" } else { &text });
        }
    }
    if !t.inherits.is_empty() {
        let parents: Vec<String> = t.inherits.iter().map(qualified).collect();
        sql.push_str(&format!(" INHERITS ({})", parents.join(", ")));
    }
    if let Some(key) = &t.partition_key {
        sql.push_str(&format!(" PARTITION BY {key}"));
    }
    if !t.storage_parameters.is_empty() {
        sql.push_str(&format!(" WITH ({})", parameters(&t.storage_parameters)));
    }
    sql.push(';');
    sql
}

/// A new table's constraints written inside its `CREATE TABLE`, and those added by `ALTER TABLE` after it:
/// the ones `CREATE TABLE` would not keep as they are.
/// * Within one `CREATE TABLE`, PostgreSQL keeps one index per key: a unique constraint over the primary
///   key's columns (or a second one over the same columns, or a repeated exclusion) is merged away, although
///   each is a constraint of its own when added apart. The primary key is written first, as PostgreSQL
///   prefers it. Keys are compared by their columns, which also moves some constraints PostgreSQL would keep
///   (another INCLUDE list, DEFERRABLE): harmless, they are added right after.
/// * `NOT VALID` inside `CREATE TABLE` is ignored (the new table is empty, so the constraint is marked
///   valid); added apart, the constraint stays not valid, as it is in the database the plan leads to.
fn table_constraints(t: &Table) -> (Vec<&Constraint>, Vec<&Constraint>) {
    let keys_first = t.constraints.values().filter(|c| c.kind == ConstraintKind::PrimaryKey);
    let rest = t.constraints.values().filter(|c| c.kind != ConstraintKind::PrimaryKey);
    let (mut inline, mut apart): (Vec<&Constraint>, Vec<&Constraint>) = (Vec::new(), Vec::new());
    let mut keys: Vec<(bool, &[Name], &str)> = Vec::new();
    for c in keys_first.chain(rest) {
        let key = match c.kind {
            ConstraintKind::PrimaryKey | ConstraintKind::Unique => Some((false, c.columns.as_slice(), "")),
            ConstraintKind::Exclusion => Some((true, &[][..], &*c.definition)),
            ConstraintKind::Check | ConstraintKind::ForeignKey => None,
        };
        match key {
            _ if !c.validated => apart.push(c),
            Some(key) if keys.contains(&key) => apart.push(c),
            Some(key) => {
                keys.push(key);
                inline.push(c);
            }
            None => inline.push(c),
        }
    }
    // Written in the catalog's order, as before.
    inline.sort_by_key(|c| t.constraints.get_index_of(&c.name));
    (inline, apart)
}

/// A table to be rebuilt renamed aside, and with it the names PostgreSQL chose for what it made for the
/// table, which the schema files do not hold and the new table's copies must get: its indexes attached to
/// an index of its parent (on a partition), and its identity columns' sequences. They are found in the
/// catalog when the migration runs, and each is renamed to `schema_old_<name>` (a number added while that
/// name is taken).
/// The rename takes ACCESS EXCLUSIVE on the table; the `DO` block renames its indexes and sequences under
/// that lock, taking the sequences' own (they go with the table, see [`Statement::locks`]).
pub(super) fn set_aside(from: &QualifiedName, to: &QualifiedName) -> Vec<Statement> {
    let table = literal(&qualified(to));
    let rename = format!("ALTER TABLE {} RENAME TO {};", qualified(from), ident(&to.name));
    vec![
        Statement::locking(rename).taking(ACCESS_EXCLUSIVE, from),
        Statement::locking(format!(
            "DO $schema_aside$\n\
             DECLARE\n\
             \x20   item record;\n\
             \x20   free text;\n\
             \x20   n int;\n\
             BEGIN\n\
             \x20   FOR item IN\n\
             \x20       SELECT c.oid::regclass AS object, c.relname AS name, c.relkind AS kind FROM pg_catalog.pg_class c\n\
             \x20       WHERE c.oid IN (SELECT i.indexrelid FROM pg_catalog.pg_index i\n\
             \x20                       JOIN pg_catalog.pg_inherits h ON h.inhrelid = i.indexrelid\n\
             \x20                       WHERE i.indrelid = {table}::regclass)\n\
             \x20          OR (c.relkind = 'S' AND c.oid IN (SELECT d.objid FROM pg_catalog.pg_depend d\n\
             \x20                                            WHERE d.classid = 'pg_catalog.pg_class'::regclass\n\
             \x20                                              AND d.refobjid = {table}::regclass AND d.deptype = 'i'))\n\
             \x20       ORDER BY c.relname\n\
             \x20   LOOP\n\
             \x20       n := 1;\n\
             \x20       free := left('schema_old_' || item.name, 63);\n\
             \x20       WHILE EXISTS (SELECT FROM pg_catalog.pg_class WHERE relname = free AND relnamespace = {schema}::regnamespace) LOOP\n\
             \x20           n := n + 1;\n\
             \x20           free := left('schema_old_' || item.name, 62 - length(n::text)) || '_' || n;\n\
             \x20       END LOOP;\n\
             \x20       EXECUTE format('ALTER %s %s RENAME TO %I', CASE item.kind WHEN 'S' THEN 'SEQUENCE' ELSE 'INDEX' END, item.object, free);\n\
             \x20   END LOOP;\n\
             END\n\
             $schema_aside$;",
            schema = literal(&ident(&to.schema)),
        ))
        .taking(ACCESS_EXCLUSIVE, to),
    ]
}

/// The rows of a rebuilt table copied from the old table (renamed aside) into the new one: the columns
/// both have, except those the new table generates. A row that fits none of the new partitions fails the
/// statement, and with it the migration's transaction. Identity columns go on counting where the old
/// table's identity was; a serial column's sequence is the same one, moved over to the new table.
/// Switching off the old table's row security locks it; the copy reads it and fills the new table, under
/// the locks the transaction took when it set the old one aside and created the new one.
pub(super) fn copy_rows(from: &Table, to: &Table, old_row_security: bool) -> Vec<Statement> {
    let mut statements = Vec::new();
    if old_row_security {
        // Policies would hide rows from the copy (from the owner too, when forced).
        let switches = [
            format!("ALTER TABLE {} DISABLE ROW LEVEL SECURITY;", qualified(&from.name)),
            format!("ALTER TABLE {} NO FORCE ROW LEVEL SECURITY;", qualified(&from.name)),
        ];
        statements.extend(switches.map(|sql| Statement::locking(sql).taking(ACCESS_EXCLUSIVE, &from.name)));
    }
    statements.extend(copy_rows_sql(from, to).into_iter().map(Statement::locking));
    statements
}

/// The `INSERT … SELECT` of [`copy_rows`], and the identities set past the copied values.
fn copy_rows_sql(from: &Table, to: &Table) -> Vec<String> {
    let columns: Vec<&Column> =
        to.columns.values().filter(|c| c.generated().is_none() && from.columns.contains_key(&c.name)).collect();
    let mut sql = Vec::new();
    if columns.is_empty() {
        // No column in common: as many rows, each of defaults.
        sql.push(format!("INSERT INTO {} SELECT FROM {};", qualified(&to.name), qualified(&from.name)));
        return sql;
    }
    let names: Vec<String> = columns.iter().map(|c| ident(&c.name)).collect();
    let names = names.join(", ");
    let overriding =
        if columns.iter().any(|c| c.identity == Some(IdentityKind::Always)) { " OVERRIDING SYSTEM VALUE" } else { "" };
    sql.push(format!(
        "INSERT INTO {} ({names}){overriding} SELECT {names} FROM {};",
        qualified(&to.name),
        qualified(&from.name)
    ));
    for column in columns {
        if column.identity.is_none() {
            continue;
        }
        if from.columns.get(&column.name).is_none_or(|c| c.identity.is_none()) {
            // A column that becomes an identity with the rebuild: past the copied values.
            sql.push(identity_past_rows(&to.name, &column.name));
            continue;
        }
        let sequence = |table: &QualifiedName| {
            format!("pg_catalog.pg_get_serial_sequence({}, {})", literal(&qualified(table)), literal(&column.name))
        };
        sql.push(format!(
            "SELECT pg_catalog.setval({}, old.last_value) FROM (SELECT pg_catalog.pg_sequence_last_value({}::regclass) \
             AS last_value) old WHERE old.last_value IS NOT NULL;",
            sequence(&to.name),
            sequence(&from.name)
        ));
    }
    sql
}

// ------------------------------------------------------------------------------------------------
// Hazards.

/// PostgreSQL's hazards of one table change; the shared rules cover drops and renames.
pub(crate) fn hazards(change: &TableChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        TableChange::CopyRows { to, .. } => copy_rows_hazards(to, out),
        TableChange::SetReplicaIdentity { table, to, .. } => set_replica_identity_hazards(table, to.as_ref(), ctx, out),
        TableChange::SetUnlogged { table, unlogged } => set_unlogged_hazards(table, *unlogged, ctx, out),
        TableChange::Create(_)
        | TableChange::Drop(_)
        | TableChange::Rename { .. }
        | TableChange::SetAside { .. }
        | TableChange::Rebuild { .. }
        | TableChange::SetStorageParameters { .. } => {}
    }
}

pub(super) fn copy_rows_hazards(to: &Table, out: &mut Vec<Hazard>) {
    out.push(
        Hazard::new(
            HazardId::TableRebuild,
            Severity::High,
            format!(
                "rebuilds table {} (PostgreSQL cannot change its partitioning in place): a new table with its \
                 partitions, every row copied into it while ACCESS EXCLUSIVE on the old table blocks reads and \
                 writes, the views, foreign keys, triggers and policies that use it created again; no row is \
                 lost, but this is not an online change",
                to.name
            ),
            "Run it when the table can be locked for the whole copy, or build the new table beside it and move the rows in batches yourself",
        )
        // Held since the old table was set aside, earlier in the transaction: not a lock of the copy's own.
        .lock(ACCESS_EXCLUSIVE.name, &to.name)
        .rewrites(),
    );
}

/// REPLICA IDENTITY takes ACCESS EXCLUSIVE (briefly: nothing is read) and changes what logical decoding
/// sends for an old row; with NOTHING, a publication that publishes updates or deletes makes them fail on
/// the table ("cannot update table … because it does not have a replica identity").
pub(super) fn set_replica_identity_hazards(
    table: &QualifiedName,
    to: Option<&ReplicaIdentity>,
    ctx: &Context,
    out: &mut Vec<Hazard>,
) {
    if ctx.existing(table) {
        out.push(safety::replica_identity(table, matches!(to, Some(ReplicaIdentity::Nothing))));
    }
}

pub(super) fn set_unlogged_hazards(table: &QualifiedName, unlogged: bool, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(table) {
        return;
    }
    out.push(
        Hazard::new(
            HazardId::TableRewrite,
            Severity::High,
            if unlogged {
                format!("makes {table} UNLOGGED, rewriting it; its rows are lost after a crash and are not replicated")
            } else {
                format!("makes {table} LOGGED, rewriting it and writing all of it to the write-ahead log")
            },
            "Run it when the table can be locked for the rewrite",
        )
        .holds_lock_on(table)
        .rewrites(),
    );
}
