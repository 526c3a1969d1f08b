//! The pure parts of the pipeline on generated schemas: diff, ordering and rendering of two catalogs
//! of N tables where about 10% of the tables differ.
//!
//! cargo bench --bench plan
//!
//! Timings on a loaded machine are noisy; instruction counts are not. `PLAN_ONCE=N` runs one
//! diff+order+render of N tables and exits, for callgrind, counting only that call:
//!
//! PLAN_ONCE=10000 valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*plan_once_measured*' \
//!     target/release/deps/plan-<hash>

use criterion::{BenchmarkId, Criterion, criterion_group};
use schema::dialect::postgres::render::PostgresRenderer;
use schema::diff::{RenameHints, diff};
use schema::plan;
use schema::testkit::generate;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    for n in [1_000usize, 10_000] {
        let current = generate::catalog(n, 42);
        let desired = generate::edited(&current, 10, 42);
        let hints = RenameHints::default();
        group.bench_with_input(BenchmarkId::new("diff", n), &n, |b, _| {
            b.iter(|| black_box(diff(&current, &desired, &hints)))
        });
        let changes = diff(&current, &desired, &hints);
        group.bench_with_input(BenchmarkId::new("order", n), &n, |b, _| {
            b.iter(|| black_box(plan::order(&changes).expect("acyclic")))
        });
        group.bench_with_input(BenchmarkId::new("diff+order+render", n), &n, |b, _| {
            b.iter(|| {
                let changes = diff(&current, &desired, &hints);
                black_box(plan::build(&changes, &PostgresRenderer).expect("acyclic"))
            })
        });
    }
    group.finish();
}

/// One diff+order+render of two generated catalogs of `n` tables (callgrind counts only this call).
#[inline(never)]
fn plan_once_measured(current: &schema::model::Catalog, desired: &schema::model::Catalog) -> usize {
    let changes = diff(current, desired, &RenameHints::default());
    plan::build_from(changes, &PostgresRenderer).expect("acyclic").steps.len()
}

criterion_group!(benches, bench);

fn main() {
    if let Some(n) = std::env::var("PLAN_ONCE").ok().and_then(|n| n.parse::<usize>().ok()) {
        let current = generate::catalog(n, 42);
        let desired = generate::edited(&current, 10, 42);
        println!("{} steps", black_box(plan_once_measured(&current, &desired)));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
