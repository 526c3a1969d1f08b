//! Privileges: grants on schemas, tables, sequences and routines (those on columns come with the columns
//! query), default privileges (`ALTER DEFAULT PRIVILEGES`), and owners, with the session's role.

use super::{IntrospectError, fetch, get};
use crate::model::*;
use sqlx::postgres::{PgConnection, PgRow};

const QUERY: (&str, &str) = ("privileges", include_str!("../queries/privileges.sql"));
const DEFAULT_PRIVILEGES: (&str, &str) = ("default privileges", include_str!("../queries/default_privileges.sql"));
const OWNERS: (&str, &str) = ("owners", include_str!("../queries/owners.sql"));

pub(super) async fn read_grants(
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

pub(super) async fn read_default_privileges(
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

pub(super) async fn read_owners(
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
