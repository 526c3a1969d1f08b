//! Domains: created (constraints that are not valid added after the `CREATE DOMAIN`, which has no
//! `NOT VALID`), dropped, and altered in place (default, NOT NULL, constraints dropped, added and
//! validated).

use super::{ident, locking, qualified};
use crate::diff::DomainChange;
use crate::model::*;
use crate::plan::Statement;

pub(super) fn render(change: &DomainChange) -> Vec<Statement> {
    match change {
        DomainChange::Create(d) => locking(create(d)),
        DomainChange::Drop(d) => locking(vec![format!("DROP DOMAIN {};", qualified(&d.name))]),
        DomainChange::Alter { from, to } => alter(from, to),
    }
}

fn create(d: &Domain) -> Vec<String> {
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

fn alter(from: &Domain, to: &Domain) -> Vec<Statement> {
    let name = qualified(&to.name);
    let mut sql = Vec::new();
    // A validated constraint cannot become NOT VALID again: it is dropped and added back.
    let replaced = |old: &DomainConstraint, new: &DomainConstraint| {
        old.definition != new.definition || (old.validated && !new.validated)
    };
    for (cname, old) in &from.constraints {
        if to.constraints.get(cname).is_none_or(|new| replaced(old, new)) {
            sql.push(Statement::locking(format!("ALTER DOMAIN {name} DROP CONSTRAINT {};", ident(cname))));
        }
    }
    if from.default != to.default {
        sql.push(Statement::locking(match &to.default {
            Some(default) => format!("ALTER DOMAIN {name} SET DEFAULT {default};"),
            None => format!("ALTER DOMAIN {name} DROP DEFAULT;"),
        }));
    }
    if from.not_null != to.not_null {
        sql.push(Statement::locking(format!(
            "ALTER DOMAIN {name} {} NOT NULL;",
            if to.not_null { "SET" } else { "DROP" }
        )));
    }
    for (cname, new) in &to.constraints {
        match from.constraints.get(cname) {
            Some(old) if !replaced(old, new) => {
                if !old.validated && new.validated {
                    sql.push(Statement::long_running(format!(
                        "ALTER DOMAIN {name} VALIDATE CONSTRAINT {};",
                        ident(cname)
                    )));
                }
            }
            _ if new.validated => {
                // Added without the check of existing values, then validated: the same result, with
                // the scan kept out of the statement that takes the stronger lock.
                let unchecked = DomainConstraint { validated: false, ..new.clone() };
                sql.push(Statement::locking(add_domain_constraint(&to.name, &unchecked)));
                sql.push(Statement::long_running(format!("ALTER DOMAIN {name} VALIDATE CONSTRAINT {};", ident(cname))));
            }
            _ => sql.push(Statement::locking(add_domain_constraint(&to.name, new))),
        }
    }
    sql
}
