//! Row-level security: policies created, altered in place (roles, `USING`, `WITH CHECK`) and dropped,
//! and a table's `ENABLE`/`FORCE ROW LEVEL SECURITY` switches.

use super::{ident, qualified};
use crate::diff::PolicyChange;
use crate::model::*;

pub(super) fn render(change: &PolicyChange) -> Vec<String> {
    match change {
        PolicyChange::Create(p) => vec![create_policy(p)],
        PolicyChange::Alter { to, .. } => vec![alter_policy(to)],
        PolicyChange::Drop(p) => vec![format!("DROP POLICY {} ON {};", ident(&p.name), qualified(&p.table))],
        PolicyChange::SetRowSecurity { table, from, to } => set_row_security(table, from, to),
    }
}

fn set_row_security(table: &QualifiedName, from: &RowSecurity, to: &RowSecurity) -> Vec<String> {
    let mut sql = Vec::new();
    if from.enabled != to.enabled {
        let verb = if to.enabled { "ENABLE" } else { "DISABLE" };
        sql.push(format!("ALTER TABLE {} {verb} ROW LEVEL SECURITY;", qualified(table)));
    }
    if from.forced != to.forced {
        let verb = if to.forced { "FORCE" } else { "NO FORCE" };
        sql.push(format!("ALTER TABLE {} {verb} ROW LEVEL SECURITY;", qualified(table)));
    }
    sql
}

fn create_policy(p: &Policy) -> String {
    let kind = if p.permissive { "PERMISSIVE" } else { "RESTRICTIVE" };
    let head = format!("CREATE POLICY {} ON {} AS {kind} FOR {}", ident(&p.name), qualified(&p.table), p.command);
    policy_clauses(head, p)
}

fn alter_policy(p: &Policy) -> String {
    policy_clauses(format!("ALTER POLICY {} ON {}", ident(&p.name), qualified(&p.table)), p)
}

/// `TO roles`, `USING` and `WITH CHECK` after a CREATE or ALTER POLICY head.
fn policy_clauses(mut sql: String, p: &Policy) -> String {
    let roles: Vec<String> =
        p.roles.iter().map(|r| if r == "PUBLIC" { "PUBLIC".to_string() } else { ident(r) }).collect();
    sql.push_str(&format!(" TO {}", roles.join(", ")));
    if let Some(using) = &p.using {
        sql.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &p.with_check {
        sql.push_str(&format!(" WITH CHECK ({check})"));
    }
    sql.push(';');
    sql
}
