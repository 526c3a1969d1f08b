//! How long a step takes: the work it does in proportion to a table's size (read every row, rewrite the
//! table, build an index, update rows in batches), priced with throughputs measured on the server
//! itself ([`Throughput`], a short probe by the dialect) and the tables' live sizes. Steps that only
//! change the catalog have nothing to estimate.

use crate::model::QualifiedName;
use crate::safety::TableStats;
use indexmap::IndexMap;

/// What form of a change a step is: the plain statements, the online form, or a piece of an
/// expand/contract sequence. The same change does different work in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepForm {
    #[default]
    Plain,
    Online,
    Expand,
    Backfill,
    Contract,
    /// A piece that reverts an expand or contract (in a down plan).
    Revert,
}

/// Work in proportion to one table's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    pub table: QualifiedName,
    pub kind: WorkKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkKind {
    /// Every row read (a validation, `SET NOT NULL`).
    Scan,
    /// Every row copied into a new file, indexes built again.
    Rewrite,
    /// An index built with the table locked against writes.
    IndexBuild,
    /// An index built `CONCURRENTLY`: the build and a second pass over the table.
    ConcurrentIndexBuild,
    /// Every row updated, in committed batches.
    Backfill,
}

/// What the server does per unit of work, measured on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    /// Milliseconds to read one MiB of table.
    pub scan_ms_per_mib: f64,
    /// Milliseconds to rewrite one MiB of table with its indexes.
    pub rewrite_ms_per_mib: f64,
    /// Milliseconds to build an index over one MiB of table.
    pub index_ms_per_mib: f64,
    /// Milliseconds to update one row (in batches, with their commits).
    pub update_ms_per_row: f64,
}

const MIB: f64 = 1024.0 * 1024.0;

/// The expected milliseconds of `work`, `None` when there is none or a table's size is unknown.
pub fn estimate_ms(work: &[Work], stats: &IndexMap<QualifiedName, TableStats>, throughput: &Throughput) -> Option<u64> {
    if work.is_empty() {
        return None;
    }
    let mut total = 0.0;
    for w in work {
        let s = stats.get(&w.table)?;
        let heap = s.heap_bytes as f64 / MIB;
        let all = s.bytes as f64 / MIB;
        total += match w.kind {
            WorkKind::Scan => heap * throughput.scan_ms_per_mib,
            WorkKind::Rewrite => all * throughput.rewrite_ms_per_mib,
            WorkKind::IndexBuild => heap * throughput.index_ms_per_mib,
            // The build, then a validation pass that reads the table again and sorts the row ids it
            // finds against the index's (about two scans more; see the estimate_accuracy example).
            WorkKind::ConcurrentIndexBuild => heap * (throughput.index_ms_per_mib + 2.0 * throughput.scan_ms_per_mib),
            // Without a row estimate, a row of about 100 bytes.
            WorkKind::Backfill => s.rows.unwrap_or(s.heap_bytes / 100) as f64 * throughput.update_ms_per_row,
        };
    }
    Some(total.round() as u64)
}

/// The tables whose sizes the estimates need, once each.
pub fn tables(work: &[Vec<Work>]) -> Vec<QualifiedName> {
    let set: indexmap::IndexSet<&QualifiedName> = work.iter().flatten().map(|w| &w.table).collect();
    set.into_iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_scale_with_the_size_each_kind_of_work_reads() {
        let t = QualifiedName::new("public", "t");
        let stats: IndexMap<QualifiedName, TableStats> =
            [(t.clone(), TableStats { rows: Some(1000), bytes: 4 << 20, heap_bytes: 2 << 20 })].into_iter().collect();
        let speed = Throughput {
            scan_ms_per_mib: 1.0,
            rewrite_ms_per_mib: 10.0,
            index_ms_per_mib: 5.0,
            update_ms_per_row: 0.01,
        };
        let of = |kind| estimate_ms(&[Work { table: t.clone(), kind }], &stats, &speed);
        assert_eq!(of(WorkKind::Scan), Some(2));
        assert_eq!(of(WorkKind::Rewrite), Some(40));
        assert_eq!(of(WorkKind::IndexBuild), Some(10));
        assert_eq!(of(WorkKind::ConcurrentIndexBuild), Some(14));
        assert_eq!(of(WorkKind::Backfill), Some(10));
        assert_eq!(estimate_ms(&[], &stats, &speed), None, "nothing to estimate");
        let unknown = Work { table: QualifiedName::new("public", "other"), kind: WorkKind::Scan };
        assert_eq!(estimate_ms(&[unknown], &stats, &speed), None, "a table without statistics");
    }
}
