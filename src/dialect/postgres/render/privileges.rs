//! Privileges: grants and revokes on schemas, tables, columns, sequences and routines, default
//! privileges (`ALTER DEFAULT PRIVILEGES`), and owners (`ALTER … OWNER TO`).

use super::functions::{function_name, routine};
use super::{ident, qualified};
use crate::diff::PrivilegeChange;
use crate::model::*;

pub(super) fn render(change: &PrivilegeChange) -> Vec<String> {
    match change {
        PrivilegeChange::Grant(g) => grant(g),
        PrivilegeChange::Revoke(g) => revoke(g),
        PrivilegeChange::GrantDefault { key, with_grant_option } => grant_default(key, *with_grant_option),
        PrivilegeChange::RevokeDefault { key, grant_option_only } => revoke_default(key, *grant_option_only),
        PrivilegeChange::SetOwner { object, to, .. } => set_owner(object, to),
    }
}

fn grant(g: &Grant) -> Vec<String> {
    let (privilege, object) = privilege_on(&g.key);
    let option = if g.grantable { " WITH GRANT OPTION" } else { "" };
    vec![format!("GRANT {privilege} ON {object} TO {}{option};", grantee(&g.key.grantee))]
}

fn revoke(g: &Grant) -> Vec<String> {
    let (privilege, object) = privilege_on(&g.key);
    vec![format!("REVOKE {privilege} ON {object} FROM {};", grantee(&g.key.grantee))]
}

fn grant_default(key: &DefaultPrivilegeKey, with_grant_option: bool) -> Vec<String> {
    let option = if with_grant_option { " WITH GRANT OPTION" } else { "" };
    vec![format!(
        "{} GRANT {} ON {} TO {}{option};",
        alter_default_privileges(key),
        key.privilege,
        key.on.keyword(),
        grantee(&key.grantee)
    )]
}

fn revoke_default(key: &DefaultPrivilegeKey, grant_option_only: bool) -> Vec<String> {
    let option = if grant_option_only { "GRANT OPTION FOR " } else { "" };
    vec![format!(
        "{} REVOKE {option}{} ON {} FROM {};",
        alter_default_privileges(key),
        key.privilege,
        key.on.keyword(),
        grantee(&key.grantee)
    )]
}

fn set_owner(object: &OwnedObject, to: &str) -> Vec<String> {
    let object = match object {
        OwnedObject::Schema(s) => format!("SCHEMA {}", ident(s)),
        OwnedObject::Table(n) => format!("TABLE {}", qualified(n)),
        OwnedObject::View(n) => format!("VIEW {}", qualified(n)),
        OwnedObject::MaterializedView(n) => format!("MATERIALIZED VIEW {}", qualified(n)),
        OwnedObject::Sequence(n) => format!("SEQUENCE {}", qualified(n)),
        OwnedObject::Function(id, kind) => routine(id, *kind),
        OwnedObject::Type(n) => format!("TYPE {}", qualified(n)),
        OwnedObject::Domain(n) => format!("DOMAIN {}", qualified(n)),
    };
    vec![format!("ALTER {object} OWNER TO {};", ident(to))]
}

/// The privilege (with its column list, for a column) and the object clause of GRANT/REVOKE. The
/// privilege name is one of PostgreSQL's keywords, as the catalog reports it.
fn privilege_on(key: &GrantKey) -> (String, String) {
    let privilege = key.privilege.clone();
    match &key.target {
        PrivilegeTarget::Schema(s) => (privilege, format!("SCHEMA {}", ident(s))),
        PrivilegeTarget::Table(n) => (privilege, format!("TABLE {}", qualified(n))),
        PrivilegeTarget::Column(c) => {
            (format!("{privilege} ({})", ident(&c.column)), format!("TABLE {}", qualified(&c.table)))
        }
        PrivilegeTarget::Sequence(n) => (privilege, format!("SEQUENCE {}", qualified(n))),
        // GRANT has no AGGREGATE: an aggregate is granted as a function.
        PrivilegeTarget::Function(id, FunctionKind::Aggregate) => {
            (privilege, format!("FUNCTION {}", function_name(id)))
        }
        PrivilegeTarget::Function(id, kind) => (privilege, format!("{} {}", kind.keyword(), function_name(id))),
    }
}

/// `ALTER DEFAULT PRIVILEGES FOR ROLE r [IN SCHEMA s]`.
fn alter_default_privileges(key: &DefaultPrivilegeKey) -> String {
    let schema = key.schema.as_ref().map(|s| format!(" IN SCHEMA {}", ident(s))).unwrap_or_default();
    format!("ALTER DEFAULT PRIVILEGES FOR ROLE {}{schema}", ident(&key.role))
}

fn grantee(name: &str) -> String {
    if name == "PUBLIC" { "PUBLIC".to_string() } else { ident(name) }
}
