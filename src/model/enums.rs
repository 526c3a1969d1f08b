//! Enum types and their labels, in declared order.

use super::QualifiedName;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnumType {
    pub name: QualifiedName,
    pub labels: Vec<String>,
    pub comment: Option<String>,
}
