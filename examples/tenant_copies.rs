//! Runs the schema-per-tenant mapping over every `*.sql` file under a directory (a project's migration
//! history) and reports what it refuses, and whether mapping each copy back gives the file byte for byte.
//!
//! `cargo run --release --example tenant_copies -- DIR [TEMPLATE]` (TEMPLATE defaults to `public`).

use schema::dialect::TenantSchemas;
use schema::dialect::postgres::tenant::for_tenant;

fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
}

fn main() {
    let dir = std::env::args().nth(1).expect("a directory");
    let template = std::env::args().nth(2).unwrap_or_else(|| "public".into());
    let mut paths = Vec::new();
    files(std::path::Path::new(&dir), &mut paths);
    let (mut mapped, mut changed, mut refused, mut not_back) = (0, 0, 0, 0);
    for path in &paths {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let there = TenantSchemas { template: &template, tenant: "tenant_x", written: "tenant_x", foreign: &[] };
        match for_tenant(&text, &there) {
            Err(r) => {
                refused += 1;
                println!("REFUSED {}:{}:{}: {}", path.display(), r.line, r.column, r.message);
            }
            Ok(copy) => {
                mapped += 1;
                if copy != text {
                    changed += 1;
                }
                let back = TenantSchemas { template: "tenant_x", tenant: &template, written: &template, foreign: &[] };
                match for_tenant(&copy, &back) {
                    Ok(original) if original == text => {}
                    Ok(_) => {
                        not_back += 1;
                        println!("NOT BACK {}", path.display());
                    }
                    Err(r) => {
                        not_back += 1;
                        println!("NOT BACK {}: {}", path.display(), r.message);
                    }
                }
            }
        }
    }
    println!(
        "{} files: {mapped} mapped ({changed} changed), {refused} refused, {not_back} not mapped back",
        paths.len()
    );
}
