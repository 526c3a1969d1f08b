//! Table constraints (primary key, unique, check, foreign key, exclusion) as the database renders them.

use super::{Name, ObjectRef, QualifiedName};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Copy, Serialize)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Exclusion,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Constraint {
    pub name: Name,
    pub kind: ConstraintKind,
    /// The full definition as the database renders it, e.g. `FOREIGN KEY (a) REFERENCES s.t(id) NOT VALID`.
    pub definition: Box<str>,
    pub validated: bool,
    pub columns: Vec<Name>,
    /// Boxed: a catalog holds tens of thousands of constraints, most of them no foreign key.
    pub references: Option<Box<ForeignKeyTarget>>,
    pub comment: Option<String>,
    /// Objects the constraint needs besides its own table's columns (types, sequences).
    pub depends_on: Vec<ObjectRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForeignKeyTarget {
    pub table: QualifiedName,
    pub columns: Vec<Name>,
}
