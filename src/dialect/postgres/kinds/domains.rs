//! Domains: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/domains.sql`): base type, default, NOT NULL, collation, CHECK constraints (validated or not),
//! comments, and what a domain depends on (its base type, collation, and the functions its checks and default
//! call).
//!
//! Render: created (constraints that are not valid added after the `CREATE DOMAIN`, which has no `NOT VALID`),
//! dropped, and altered in place (default, NOT NULL, constraints dropped, added and validated).
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use super::functions::function_triples;
use crate::dialect::postgres::introspect::{
    IntrospectError, collation_ref, decode, fetch, get, get_qualified, type_ref,
};
use crate::dialect::postgres::locks::SHARE;
use crate::dialect::postgres::render::{ident, locking, qualified};
use crate::diff::DomainChange;
use crate::model::*;
use crate::plan::Statement;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("domains", include_str!("../queries/domains.sql"));

pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "domains";
        let name = get_qualified(&row, q, "name")?;
        let mut depends_on: Vec<ObjectRef> = type_ref(&row, q)?.into_iter().collect();
        depends_on.extend(collation_ref(&row, q)?);
        // Functions its CHECK constraints and default call are created before the domain.
        depends_on.extend(function_triples(q, &get::<String>(&row, q, "functions")?)?);
        let checks: Vec<(String, String, bool)> = decode(q, &get::<String>(&row, q, "constraints")?)?;
        let constraints = checks
            .into_iter()
            .map(|(name, definition, validated)| {
                let definition = definition.strip_suffix(" NOT VALID").unwrap_or(&definition).to_string();
                (name.clone(), DomainConstraint { name, definition, validated })
            })
            .collect();
        let domain = Domain {
            name: name.clone(),
            data_type: get(&row, q, "data_type")?,
            default: get(&row, q, "default_expr")?,
            not_null: get(&row, q, "not_null")?,
            collation: get(&row, q, "collation")?,
            constraints,
            comment: get(&row, q, "comment")?,
            depends_on,
        };
        catalog.domains.insert(name, domain);
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Render.

pub(crate) fn render(change: &DomainChange) -> Vec<Statement> {
    match change {
        DomainChange::Create(d) => locking(create(d)),
        DomainChange::Drop(d) => locking(vec![format!("DROP DOMAIN {};", qualified(&d.name))]),
        DomainChange::Alter { from, to, used_by } => alter(from, to, used_by),
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

/// A new NOT NULL and each validation read every column of the domain, taking SHARE on the tables that
/// have one (`used_by`): writes to them wait.
fn alter(from: &Domain, to: &Domain, used_by: &[QualifiedName]) -> Vec<Statement> {
    let reading = |statement: Statement| used_by.iter().fold(statement, |s, table| s.taking(SHARE, table));
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
        let statement =
            Statement::locking(format!("ALTER DOMAIN {name} {} NOT NULL;", if to.not_null { "SET" } else { "DROP" }));
        sql.push(if to.not_null { reading(statement) } else { statement });
    }
    for (cname, new) in &to.constraints {
        match from.constraints.get(cname) {
            Some(old) if !replaced(old, new) => {
                if !old.validated && new.validated {
                    sql.push(reading(Statement::long_running(format!(
                        "ALTER DOMAIN {name} VALIDATE CONSTRAINT {};",
                        ident(cname)
                    ))));
                }
            }
            _ if new.validated => {
                // Added without the check of existing values, then validated: the same result, with
                // the scan kept out of the statement that takes the stronger lock.
                let unchecked = DomainConstraint { validated: false, ..new.clone() };
                sql.push(Statement::locking(add_domain_constraint(&to.name, &unchecked)));
                let validate = format!("ALTER DOMAIN {name} VALIDATE CONSTRAINT {};", ident(cname));
                sql.push(reading(Statement::long_running(validate)));
            }
            _ => sql.push(Statement::locking(add_domain_constraint(&to.name, new))),
        }
    }
    sql
}
