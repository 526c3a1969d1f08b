//! The shape of the code: the top-level modules of `src/` form no import cycle, so each one can be read,
//! tested and changed knowing only the modules below it (ARCHITECTURE.md draws the layers).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules of `src/` (a `name.rs` file or a `name/` directory), lib.rs and main.rs aside.
fn top_level_modules(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("read src") {
        let path = entry.expect("dir entry").path();
        let name = path.file_stem().expect("a name").to_string_lossy().into_owned();
        if path.is_dir() {
            modules.insert(name, rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            modules.insert(name, vec![path]);
        }
    }
    modules
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The top-level modules a file names as `crate::module` (in paths and in `use crate::{a, b}` groups),
/// comments left out.
fn named_modules(text: &str, modules: &BTreeMap<String, Vec<PathBuf>>) -> BTreeSet<String> {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(group.len())]
                .split(',')
                .map(|item| item.trim().split("::").next().unwrap_or_default())
                .collect(),
            None => vec![rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default()],
        };
        found.extend(names.into_iter().filter(|n| modules.contains_key(*n)).map(str::to_string));
    }
    found
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_form_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = top_level_modules(&src);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, files) in &modules {
        let edges = graph.entry(module.clone()).or_default();
        for file in files {
            let text = std::fs::read_to_string(file).expect("read source file");
            edges.extend(named_modules(&text, &modules).into_iter().filter(|m| m != module));
        }
    }
    assert!(graph.len() > 10, "expected the crate's modules, found {:?}", graph.keys());
    if let Some(cycle) = find_cycle(&graph) {
        panic!("the top-level modules import each other in a cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn a_cycle_is_found_through_use_groups() {
    let modules: BTreeMap<String, Vec<PathBuf>> =
        ["plan", "safety", "model"].into_iter().map(|m| (m.to_string(), Vec::new())).collect();
    let named = named_modules("use crate::{plan::Plan, model};\n// crate::safety in a comment\n", &modules);
    assert_eq!(named, BTreeSet::from(["model".to_string(), "plan".to_string()]));
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("plan".to_string(), BTreeSet::from(["safety".to_string()])),
        ("safety".to_string(), BTreeSet::from(["plan".to_string()])),
    ]
    .into_iter()
    .collect();
    assert_eq!(find_cycle(&graph), Some(vec!["plan".to_string(), "safety".to_string(), "plan".to_string()]));
}
