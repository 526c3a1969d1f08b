//! Range types (`CREATE TYPE … AS RANGE`).

use super::{ObjectRef, QualifiedName};
use serde::Serialize;

/// A range type (`CREATE TYPE … AS RANGE (subtype = …)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RangeType {
    pub name: QualifiedName,
    pub subtype: String,
    /// Operator class of the subtype, when not the default one.
    pub subtype_opclass: Option<String>,
    pub collation: Option<String>,
    /// The `subtype_diff` function, if any.
    pub subtype_diff: Option<String>,
    pub comment: Option<String>,
    pub depends_on: Vec<ObjectRef>,
}
