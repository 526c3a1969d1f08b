//! Sequences: their options and the column that owns them.

use super::{ColumnRef, QualifiedName};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sequence {
    pub name: QualifiedName,
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cache: i64,
    pub cycle: bool,
    /// The column this sequence belongs to (`OWNED BY`), as serial columns have.
    pub owned_by: Option<ColumnRef>,
    pub comment: Option<String>,
}

impl Sequence {
    /// Whether both generate the same values (type, start, step, bounds, cache, cycle), whatever their
    /// names, owners and comments.
    pub fn same_options(&self, other: &Sequence) -> bool {
        self.data_type == other.data_type
            && (self.start, self.increment, self.min_value, self.max_value, self.cache, self.cycle)
                == (other.start, other.increment, other.min_value, other.max_value, other.cache, other.cycle)
    }
}
