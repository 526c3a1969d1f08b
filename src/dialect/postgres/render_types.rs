//! PostgreSQL SQL for domains, composite and range types, collations, extension versions,
//! partitions and table storage options. Identifiers go through [`ident`]/[`qualified`]; types,
//! defaults, bounds and check expressions are PostgreSQL's own deparsed text.

use super::render::{add_constraint, column_definition, ident, literal, qualified, table_constraints};
use crate::diff::Change;
use crate::model::*;

/// The SQL of the changes this module owns (empty for any other change).
pub fn render(change: &Change) -> Vec<String> {
    match change {
        Change::CreateDomain(d) => create_domain(d),
        Change::DropDomain(d) => vec![format!("DROP DOMAIN {};", qualified(&d.name))],
        Change::AlterDomain { from, to } => alter_domain(from, to),
        Change::CreateCompositeType(t) => {
            let attributes: Vec<String> = t.attributes.values().map(attribute).collect();
            vec![format!("CREATE TYPE {} AS ({});", qualified(&t.name), attributes.join(", "))]
        }
        Change::DropCompositeType(t) => vec![format!("DROP TYPE {};", qualified(&t.name))],
        Change::AlterCompositeType { from, to } => alter_composite(from, to),
        Change::CreateRangeType(t) => {
            let mut options = vec![format!("SUBTYPE = {}", t.subtype)];
            if let Some(opclass) = &t.subtype_opclass {
                options.push(format!("SUBTYPE_OPCLASS = {opclass}"));
            }
            if let Some(collation) = &t.collation {
                options.push(format!("COLLATION = {collation}"));
            }
            if let Some(diff) = &t.subtype_diff {
                options.push(format!("SUBTYPE_DIFF = {diff}"));
            }
            vec![format!("CREATE TYPE {} AS RANGE ({});", qualified(&t.name), options.join(", "))]
        }
        Change::DropRangeType(t) => vec![format!("DROP TYPE {};", qualified(&t.name))],
        Change::CreateCollation(c) => vec![create_collation(c)],
        Change::DropCollation(c) => vec![format!("DROP COLLATION {};", qualified(&c.name))],
        Change::SetExtensionSchema { name, to, .. } => {
            vec![format!("ALTER EXTENSION {} SET SCHEMA {};", ident(name), ident(to))]
        }
        Change::AlterExtensionVersion { name, to, reachable: true, .. } => {
            vec![format!("ALTER EXTENSION {} UPDATE TO {};", ident(name), literal(to))]
        }
        // Nothing can be run: the step stays in the plan for its hazard, `extension-version-kept`.
        Change::AlterExtensionVersion { reachable: false, .. } => Vec::new(),
        Change::AttachPartition { table, parent, bound, checks } => {
            let mut sql: Vec<String> = checks.iter().map(|c| add_constraint(table, c)).collect();
            sql.push(format!("ALTER TABLE {} ATTACH PARTITION {} {bound};", qualified(parent), qualified(table)));
            sql
        }
        Change::DetachPartition { table, parent, .. } => {
            vec![format!("ALTER TABLE {} DETACH PARTITION {};", qualified(parent), qualified(table))]
        }
        Change::SetStorageParameters { table, from, to } => {
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
        Change::SetUnlogged { table, unlogged } => {
            vec![format!("ALTER TABLE {} SET {};", qualified(table), if *unlogged { "UNLOGGED" } else { "LOGGED" })]
        }
        Change::CreateExtension(x) => {
            let version = x.version.as_ref().map(|v| format!(" VERSION {}", literal(v))).unwrap_or_default();
            vec![format!("CREATE EXTENSION {} WITH SCHEMA {}{version};", ident(&x.name), ident(&x.schema))]
        }
        Change::CreateTable(t) => {
            let (_, apart) = table_constraints(t);
            std::iter::once(create_table(t)).chain(apart.iter().map(|c| add_constraint(&t.name, c))).collect()
        }
        _ => Vec::new(),
    }
}

/// Whether a new table needs more than a column list: partitioning, storage parameters, UNLOGGED.
pub fn is_special_table(t: &Table) -> bool {
    t.partition_key.is_some()
        || t.partition_of.is_some()
        || !t.storage_parameters.is_empty()
        || t.unlogged
        || !t.inherits.is_empty()
}

/// `name = 'value', …` of a `WITH (…)` or `SET (…)` list.
pub(crate) fn parameters(list: &[(String, String)]) -> String {
    list.iter().map(|(n, v)| format!("{} = {}", ident(n), literal(v))).collect::<Vec<_>>().join(", ")
}

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
            let lines: Vec<String> = own.map(column_definition).chain(constraints).collect();
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

fn create_domain(d: &Domain) -> Vec<String> {
    let mut sql = format!("CREATE DOMAIN {} AS {}", qualified(&d.name), d.data_type);
    if let Some(collation) = &d.collation {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(default) = &d.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if d.not_null {
        sql.push_str(" NOT NULL");
    }
    // CREATE DOMAIN has no NOT VALID: such constraints are added afterwards.
    let mut later = Vec::new();
    for c in d.constraints.values() {
        if c.validated {
            sql.push_str(&format!(" CONSTRAINT {} {}", ident(&c.name), c.definition));
        } else {
            later.push(add_domain_constraint(&d.name, c));
        }
    }
    sql.push(';');
    std::iter::once(sql).chain(later).collect()
}

fn add_domain_constraint(domain: &QualifiedName, c: &DomainConstraint) -> String {
    let not_valid = if c.validated { "" } else { " NOT VALID" };
    format!("ALTER DOMAIN {} ADD CONSTRAINT {} {}{not_valid};", qualified(domain), ident(&c.name), c.definition)
}

fn alter_domain(from: &Domain, to: &Domain) -> Vec<String> {
    let name = qualified(&to.name);
    let mut sql = Vec::new();
    // A validated constraint cannot become NOT VALID again: it is dropped and added back.
    let replaced = |old: &DomainConstraint, new: &DomainConstraint| {
        old.definition != new.definition || (old.validated && !new.validated)
    };
    for (cname, old) in &from.constraints {
        if to.constraints.get(cname).is_none_or(|new| replaced(old, new)) {
            sql.push(format!("ALTER DOMAIN {name} DROP CONSTRAINT {};", ident(cname)));
        }
    }
    if from.default != to.default {
        sql.push(match &to.default {
            Some(default) => format!("ALTER DOMAIN {name} SET DEFAULT {default};"),
            None => format!("ALTER DOMAIN {name} DROP DEFAULT;"),
        });
    }
    if from.not_null != to.not_null {
        sql.push(format!("ALTER DOMAIN {name} {} NOT NULL;", if to.not_null { "SET" } else { "DROP" }));
    }
    for (cname, new) in &to.constraints {
        match from.constraints.get(cname) {
            Some(old) if !replaced(old, new) => {
                if !old.validated && new.validated {
                    sql.push(format!("ALTER DOMAIN {name} VALIDATE CONSTRAINT {};", ident(cname)));
                }
            }
            _ if new.validated => {
                // Added without the check of existing values, then validated: the same result, with
                // the scan kept out of the statement that takes the stronger lock.
                let unchecked = DomainConstraint { validated: false, ..new.clone() };
                sql.push(add_domain_constraint(&to.name, &unchecked));
                sql.push(format!("ALTER DOMAIN {name} VALIDATE CONSTRAINT {};", ident(cname)));
            }
            _ => sql.push(add_domain_constraint(&to.name, new)),
        }
    }
    sql
}

fn attribute(a: &TypeAttribute) -> String {
    let collate = a.collation.as_ref().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
    format!("{} {}{collate}", ident(&a.name), a.data_type)
}

fn alter_composite(from: &CompositeType, to: &CompositeType) -> Vec<String> {
    let name = qualified(&to.name);
    let mut sql = Vec::new();
    for old in from.attributes.values() {
        if !to.attributes.contains_key(&old.name) {
            sql.push(format!("ALTER TYPE {name} DROP ATTRIBUTE {};", ident(&old.name)));
        }
    }
    for new in to.attributes.values() {
        match from.attributes.get(&new.name) {
            None => sql.push(format!("ALTER TYPE {name} ADD ATTRIBUTE {};", attribute(new))),
            Some(old) if old.data_type != new.data_type || old.collation != new.collation => {
                let collate = new.collation.as_ref().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
                sql.push(format!(
                    "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {}{collate};",
                    ident(&new.name),
                    new.data_type
                ));
            }
            Some(_) => {}
        }
    }
    sql
}

fn create_collation(c: &Collation) -> String {
    let mut options = vec![format!("PROVIDER = {}", c.provider)];
    if let Some(locale) = &c.locale {
        options.push(format!("LOCALE = {}", literal(locale)));
    }
    if let Some(lc) = &c.lc_collate {
        options.push(format!("LC_COLLATE = {}", literal(lc)));
    }
    if let Some(lc) = &c.lc_ctype {
        options.push(format!("LC_CTYPE = {}", literal(lc)));
    }
    if !c.deterministic {
        options.push("DETERMINISTIC = false".to_string());
    }
    format!("CREATE COLLATION {} ({});", qualified(&c.name), options.join(", "))
}
