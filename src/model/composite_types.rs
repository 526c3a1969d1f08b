//! Composite types (`CREATE TYPE … AS (…)`).

use super::{ObjectRef, QualifiedName};
use indexmap::IndexMap;
use serde::Serialize;

/// A composite type (`CREATE TYPE … AS (…)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompositeType {
    pub name: QualifiedName,
    pub attributes: IndexMap<String, TypeAttribute>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeAttribute {
    pub name: String,
    pub data_type: String,
    pub collation: Option<String>,
    pub depends_on: Vec<ObjectRef>,
}
