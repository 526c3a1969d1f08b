//! Domains: a base type with a default, NOT NULL and named CHECK constraints.

use super::{ObjectRef, QualifiedName};
use indexmap::IndexMap;
use serde::Serialize;

/// A domain: a base type with an optional default, NOT NULL and named CHECK constraints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Domain {
    pub name: QualifiedName,
    /// The base type as the database spells it.
    pub data_type: String,
    pub default: Option<String>,
    pub not_null: bool,
    /// Set only when it differs from the base type's collation.
    pub collation: Option<String>,
    pub constraints: IndexMap<String, DomainConstraint>,
    pub comment: Option<String>,
    /// User-defined types and collations the domain needs.
    pub depends_on: Vec<ObjectRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainConstraint {
    pub name: String,
    /// `CHECK (...)` as the database renders it (without `NOT VALID`).
    pub definition: String,
    pub validated: bool,
}
