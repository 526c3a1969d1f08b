//! Indexes: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/indexes.sql`): indexes other than those of constraints: table, uniqueness, the definition
//! after `USING` (PostgreSQL's own), columns, comments, and on a partitioned table the indexes attached to it
//! down its partitions.
//!
//! Render: created (on a partitioned table, on the parent alone and on each partition, then attached, so that
//! the partitions' indexes get their declared names), dropped and renamed. The definition after `USING` is
//! PostgreSQL's own (`pg_get_indexdef`).
//!
//! Hazards: built on an existing table while writes wait (unless CONCURRENTLY), or dropped from a table that
//! stays (queries that used it slow down).

use super::partitions;
use crate::dialect::postgres::introspect::{IntrospectError, Rows, get, get_name, get_names};
use crate::dialect::postgres::locks::{ACCESS_EXCLUSIVE, SHARE};
use crate::dialect::postgres::render::{ident, locking, qualified, taking};
use crate::diff::IndexChange;
use crate::model::*;
use crate::plan::Statement;
use crate::safety::{Context, Hazard, HazardId, Severity};
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("indexes", include_str!("../queries/indexes.sql"));

pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    let mut rows = Rows::new(conn, QUERY, schemas);
    while let Some(row) = rows.next().await? {
        let q = "indexes";
        let schema = get_name(&row, q, "schema")?;
        let name = QualifiedName::new(schema.clone(), get_name(&row, q, "name")?);
        // Built by the query for plain indexes; otherwise pg_get_indexdef's text after its prefix.
        let definition = match get::<Option<String>>(&row, q, "definition")? {
            Some(definition) => definition,
            None => {
                let full: String = get(&row, q, "full_definition")?;
                let prefix: &str = get(&row, q, "prefix")?;
                full.strip_prefix(prefix).map(str::to_string).ok_or_else(|| IntrospectError::Decode {
                    query: q,
                    detail: format!("unexpected index definition: {full}"),
                })?
            }
        };
        let index = Index {
            name: name.clone(),
            table: QualifiedName::new(schema, get_name(&row, q, "table_name")?),
            unique: get(&row, q, "is_unique")?,
            definition,
            columns: get_names(&row, q, "columns")?,
            comment: get(&row, q, "comment")?,
            depends_on: Vec::new(),
            partitions: partitions::partition_indexes(&row)?,
        };
        catalog.indexes.insert(name, index);
    }
    catalog.indexes.sort_unstable_keys();
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Render.

/// A build takes SHARE on its table (writes wait for it), a drop ACCESS EXCLUSIVE; a rename locks only the
/// index.
pub(crate) fn render(change: &IndexChange) -> Vec<Statement> {
    match change {
        IndexChange::Create(i) => create(i),
        IndexChange::Drop(i) => taking(drop(i), ACCESS_EXCLUSIVE, &i.table),
        IndexChange::Rename { from, to, .. } => locking(rename(from, to)),
    }
}

pub(super) fn create(i: &Index) -> Vec<Statement> {
    if !i.partitions.is_empty() {
        return partitioned_index(i);
    }
    let sql = format!(
        "CREATE {}INDEX {} ON {} USING {};",
        if i.unique { "UNIQUE " } else { "" },
        ident(&i.name.name),
        qualified(&i.table),
        i.definition
    );
    vec![Statement::locking(sql).taking(SHARE, &i.table)]
}

pub(super) fn drop(i: &Index) -> Vec<String> {
    // The constraints of partitions whose indexes are attached to it go with it: PostgreSQL refuses to drop
    // either first (see `partition_keys_dropped_with_their_index`).
    if i.partitions.iter().any(|p| p.constraint) {
        return vec![format!("DROP INDEX {} CASCADE;", qualified(&i.name))];
    }
    vec![format!("DROP INDEX {};", qualified(&i.name))]
}

pub(super) fn rename(from: &QualifiedName, to: &QualifiedName) -> Vec<String> {
    vec![format!("ALTER INDEX {} RENAME TO {};", qualified(from), ident(&to.name))]
}

/// An index of a partitioned table with the names its partitions' indexes have: created on the parent
/// alone (`ON ONLY`), on each partition unless the partition has it already (an index of the same name, left
/// in place by the plan because it is the same; the index of the partition's own key), then attached from
/// the deepest level up. (`CREATE INDEX` on the parent would name them itself.)
fn partitioned_index(i: &Index) -> Vec<Statement> {
    let unique = if i.unique { "UNIQUE " } else { "" };
    let parent =
        format!("CREATE {unique}INDEX {} ON ONLY {} USING {};", ident(&i.name.name), qualified(&i.table), i.definition);
    let mut sql = vec![Statement::locking(parent).taking(SHARE, &i.table)];
    for p in i.partitions.iter().filter(|p| !p.constraint) {
        let only = if p.leaf { "" } else { "ONLY " };
        let build = format!(
            "CREATE {unique}INDEX IF NOT EXISTS {} ON {only}{} USING {};",
            ident(&p.name.name),
            qualified(&p.table),
            i.definition
        );
        sql.push(Statement::locking(build).taking(SHARE, &p.table));
    }
    let mut attach: Vec<&PartitionIndex> = i.partitions.iter().collect();
    attach.sort_by_key(|p| std::cmp::Reverse(p.depth));
    // Attaching locks the two indexes, not their tables.
    sql.extend(attach.iter().map(|p| {
        Statement::locking(format!("ALTER INDEX {} ATTACH PARTITION {};", qualified(&p.parent), qualified(&p.name)))
    }));
    sql
}

// ------------------------------------------------------------------------------------------------
// Hazards.

/// PostgreSQL's hazards of one index change. A rename takes its lock briefly.
pub(crate) fn hazards(change: &IndexChange, ctx: &Context, out: &mut Vec<Hazard>) {
    match change {
        IndexChange::Create(index) => create_hazards(index, ctx, out),
        IndexChange::Drop(index) => drop_hazards(index, ctx, out),
        IndexChange::Rename { .. } => {}
    }
}

pub(super) fn create_hazards(index: &Index, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.existing(&index.table) {
        return;
    }
    out.push(
        Hazard::new(
            HazardId::BlockingIndexBuild,
            Severity::High,
            format!("builds index {} while writes to {} are blocked", index.name, index.table),
            "Create the index CONCURRENTLY, outside a transaction",
        )
        .holds_lock_on(&index.table)
        .scans(),
    );
}

pub(super) fn drop_hazards(index: &Index, ctx: &Context, out: &mut Vec<Hazard>) {
    if !ctx.kept(&index.table) {
        return;
    }
    out.push(
        Hazard::new(
            HazardId::IndexDropped,
            Severity::Medium,
            format!("drops index {}; queries that relied on it become slower", index.name),
            "Check that no query needs the index, and drop it CONCURRENTLY",
        )
        .holds_lock_on(&index.table),
    );
}
