//! An installed extension: its schema and, when declared, its version.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    pub name: String,
    pub schema: String,
    /// The installed version; `None` on the declared side when the schema files do not pin one.
    pub version: Option<String>,
    /// The versions `ALTER EXTENSION … UPDATE TO` reaches from the installed one on this server (PostgreSQL's
    /// `pg_extension_update_paths`); usually none are older ones.
    pub update_targets: Vec<String>,
    /// Set only when it differs from the comment the extension comes with.
    pub comment: Option<String>,
    /// Whether its objects can move to another schema (`ALTER EXTENSION … SET SCHEMA`).
    pub relocatable: bool,
    /// The types it creates (not their array types), by name in its schema.
    pub types: Vec<String>,
}
