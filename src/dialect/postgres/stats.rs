//! Live table statistics for grading hazards: the planner's row estimate (`pg_class.reltuples`) and the
//! size on disk (`pg_total_relation_size`), for every table of a plan in one catalog query.

use crate::model::QualifiedName;
use crate::safety::TableStats;
use indexmap::IndexMap;
use sqlx::Row;
use sqlx::postgres::PgConnection;

const QUERY: &str = "\
SELECT n.nspname AS schema, c.relname AS name,
       c.reltuples::float8 AS reltuples,
       pg_relation_size(c.oid) AS heap_bytes,
       pg_total_relation_size(c.oid) AS total_bytes
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN unnest($1::text[], $2::text[]) AS wanted(schema, name)
    ON wanted.schema = n.nspname AND wanted.name = c.relname
 WHERE c.relkind IN ('r', 'p', 'm')
 ORDER BY 1, 2";

/// Statistics of the given tables (those that exist). A table that was never analysed has no row
/// estimate, unless its heap is empty, which proves it has no rows.
pub async fn table_stats(
    conn: &mut PgConnection,
    tables: &[QualifiedName],
) -> Result<IndexMap<QualifiedName, TableStats>, sqlx::Error> {
    let mut out = IndexMap::new();
    if tables.is_empty() {
        return Ok(out);
    }
    let schemas: Vec<&str> = tables.iter().map(|t| t.schema.as_str()).collect();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let rows = sqlx::query(QUERY).bind(&schemas).bind(&names).fetch_all(&mut *conn).await?;
    for row in rows {
        let reltuples: f64 = row.try_get("reltuples")?;
        let heap_bytes: i64 = row.try_get("heap_bytes")?;
        let total_bytes: i64 = row.try_get("total_bytes")?;
        let rows = if reltuples >= 0.0 {
            Some(reltuples.round() as u64)
        } else if heap_bytes == 0 {
            Some(0)
        } else {
            None
        };
        let name = QualifiedName::new(row.try_get::<String, _>("schema")?, row.try_get::<String, _>("name")?);
        out.insert(name, TableStats { rows, bytes: total_bytes.max(0) as u64, heap_bytes: heap_bytes.max(0) as u64 });
    }
    Ok(out)
}
