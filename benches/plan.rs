//! The pure parts of the pipeline on generated schemas: diff, ordering and rendering of two catalogs
//! of N tables where about 10% of the tables differ.
//!
//! cargo bench --bench plan

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
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

criterion_group!(benches, bench);
criterion_main!(benches);
