//! Privileges: what PostgreSQL reads of them, the SQL that changes them, and the hazards of that SQL.
//!
//! Read (`queries/privileges.sql`, `queries/default_privileges.sql`, `queries/owners.sql`): grants on schemas,
//! tables, sequences and routines (those on columns come with the columns query), default privileges
//! (`ALTER DEFAULT PRIVILEGES`), and owners, with the session's role.
//!
//! Render: grants and revokes on schemas, tables, columns, sequences and routines, default privileges
//! (`ALTER DEFAULT PRIVILEGES`), and owners (`ALTER … OWNER TO`).
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use super::functions::{function_name, routine};
use crate::dialect::postgres::introspect::{IntrospectError, fetch, get};
use crate::dialect::postgres::locks::ACCESS_EXCLUSIVE;
use crate::dialect::postgres::render::{ident, locking, qualified, taking};
use crate::diff::PrivilegeChange;
use crate::model::*;
use crate::plan::Statement;
use sqlx::postgres::{PgConnection, PgRow};

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("privileges", include_str!("../queries/privileges.sql"));
const DEFAULT_PRIVILEGES: (&str, &str) = ("default privileges", include_str!("../queries/default_privileges.sql"));
const OWNERS: (&str, &str) = ("owners", include_str!("../queries/owners.sql"));

pub(crate) async fn read_grants(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "privileges";
        let schema: String = get(&row, q, "schema")?;
        let name = || -> Result<QualifiedName, IntrospectError> {
            Ok(QualifiedName::new(schema.clone(), get::<Option<String>>(&row, q, "name")?.unwrap_or_default()))
        };
        let target = match get::<String>(&row, q, "kind")?.as_str() {
            "schema" => PrivilegeTarget::Schema(schema.clone()),
            "table" => PrivilegeTarget::Table(name()?),
            "sequence" => PrivilegeTarget::Sequence(name()?),
            kind @ ("function" | "procedure" | "aggregate") => {
                let id = FunctionId {
                    name: name()?,
                    arguments: get::<Option<String>>(&row, q, "arguments")?.unwrap_or_default(),
                };
                let kind = routine_kind(kind);
                PrivilegeTarget::Function(id, kind)
            }
            other => return Err(IntrospectError::Decode { query: q, detail: format!("object kind {other}") }),
        };
        let key = GrantKey { target, grantee: get(&row, q, "grantee")?, privilege: get(&row, q, "privilege")? };
        let grant =
            Grant { key: key.clone(), grantable: get(&row, q, "grantable")?, implicit: get(&row, q, "implicit")? };
        catalog.grants.insert(key, grant);
    }
    Ok(())
}

pub(crate) async fn read_default_privileges(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, DEFAULT_PRIVILEGES, schemas).await? {
        let q = "default privileges";
        let on = match get::<String>(&row, q, "kind")?.as_str() {
            "r" => DefaultObjectKind::Tables,
            "S" => DefaultObjectKind::Sequences,
            "f" => DefaultObjectKind::Functions,
            "T" => DefaultObjectKind::Types,
            "n" => DefaultObjectKind::Schemas,
            other => return Err(IntrospectError::Decode { query: q, detail: format!("object type {other}") }),
        };
        let key = DefaultPrivilegeKey {
            role: get(&row, q, "role")?,
            schema: get(&row, q, "schema")?,
            on,
            grantee: get(&row, q, "grantee")?,
            privilege: get(&row, q, "privilege")?,
        };
        let state = if get::<bool>(&row, q, "revoked")? {
            DefaultPrivilegeState::Revoked
        } else {
            DefaultPrivilegeState::Granted { grantable: get(&row, q, "grantable")? }
        };
        catalog.default_privileges.insert(key.clone(), DefaultPrivilege { key, state });
    }
    Ok(())
}

pub(crate) async fn read_owners(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, OWNERS, schemas).await? {
        let q = "owners";
        let owner: String = get(&row, q, "owner")?;
        let schema =
            || -> Result<String, IntrospectError> { Ok(get::<Option<String>>(&row, q, "schema")?.unwrap_or_default()) };
        let name = || -> Result<QualifiedName, IntrospectError> {
            Ok(QualifiedName::new(schema()?, get::<Option<String>>(&row, q, "name")?.unwrap_or_default()))
        };
        let object = match get::<String>(&row, q, "kind")?.as_str() {
            "session" => {
                catalog.owners.session_role = Some(owner);
                continue;
            }
            "schema" => OwnedObject::Schema(schema()?),
            "table" => OwnedObject::Table(name()?),
            "view" => OwnedObject::View(name()?),
            "materialized view" => OwnedObject::MaterializedView(name()?),
            "sequence" => OwnedObject::Sequence(name()?),
            "type" => OwnedObject::Type(name()?),
            "domain" => OwnedObject::Domain(name()?),
            kind @ ("function" | "procedure" | "aggregate") => {
                let id = FunctionId {
                    name: name()?,
                    arguments: get::<Option<String>>(&row, q, "arguments")?.unwrap_or_default(),
                };
                let kind = routine_kind(kind);
                OwnedObject::Function(id, kind)
            }
            other => return Err(IntrospectError::Decode { query: q, detail: format!("object kind {other}") }),
        };
        catalog.owners.objects.insert(object, owner);
    }
    Ok(())
}

/// The privileges granted on one column, from the columns query's `privileges` (JSON
/// `[[grantee, privilege, grantable], …]`, the owner left out).
pub(super) fn column_grants(
    row: &PgRow,
    table: &QualifiedName,
    column: &Name,
    out: &mut Vec<Grant>,
) -> Result<(), IntrospectError> {
    let q = "columns";
    let Some(text) = get::<Option<&str>>(row, q, "privileges")? else {
        return Ok(());
    };
    let privileges: Vec<(String, String, bool)> =
        serde_json::from_str(text).map_err(|e| IntrospectError::Decode { query: q, detail: e.to_string() })?;
    for (grantee, privilege, grantable) in privileges {
        let target = PrivilegeTarget::Column(ColumnRef { table: table.clone(), column: column.clone() });
        let key = GrantKey { target, grantee, privilege };
        out.push(Grant { key: key.clone(), grantable, implicit: false });
    }
    Ok(())
}

/// The kind of a routine as the privileges and owners queries name it.
fn routine_kind(kind: &str) -> FunctionKind {
    match kind {
        "procedure" => FunctionKind::Procedure,
        "aggregate" => FunctionKind::Aggregate,
        _ => FunctionKind::Function,
    }
}

// ------------------------------------------------------------------------------------------------
// Render.

fn sql(change: &PrivilegeChange) -> Vec<String> {
    match change {
        PrivilegeChange::Grant(g) => grant(g),
        PrivilegeChange::Revoke(g) => revoke(g),
        PrivilegeChange::GrantDefault { key, with_grant_option } => grant_default(key, *with_grant_option),
        PrivilegeChange::RevokeDefault { key, grant_option_only } => revoke_default(key, *grant_option_only),
        PrivilegeChange::SetOwner { object, to, .. } => set_owner(object, to),
    }
}

/// A grant or a revoke locks no relation; a new owner of a table, a view or a sequence takes ACCESS
/// EXCLUSIVE on it.
pub(crate) fn render(change: &PrivilegeChange) -> Vec<Statement> {
    let relation = match change {
        PrivilegeChange::SetOwner { object, .. } => match object {
            OwnedObject::Table(n)
            | OwnedObject::View(n)
            | OwnedObject::MaterializedView(n)
            | OwnedObject::Sequence(n) => Some(n),
            OwnedObject::Schema(_) | OwnedObject::Function(..) | OwnedObject::Type(_) | OwnedObject::Domain(_) => None,
        },
        PrivilegeChange::Grant(_)
        | PrivilegeChange::Revoke(_)
        | PrivilegeChange::GrantDefault { .. }
        | PrivilegeChange::RevokeDefault { .. } => None,
    };
    match relation {
        Some(relation) => taking(sql(change), ACCESS_EXCLUSIVE, relation),
        None => locking(sql(change)),
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
