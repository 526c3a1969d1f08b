//! What the user declares beyond the schema files: renames of tables and columns, and how the values
//! of a retyped column are converted.

use crate::model::*;
use indexmap::IndexMap;

/// Declared renames: the old name in the current database and the new one in the declared schema; and
/// declared conversions of columns whose type changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenameHints {
    pub tables: Vec<(QualifiedName, QualifiedName)>,
    /// (table under its new name, old column, new column)
    pub columns: Vec<(QualifiedName, String, String)>,
    pub conversions: Vec<ColumnConversion>,
}

/// How the values of a column whose type changes are converted, when the database's own cast does not
/// do (`integer` → `timestamptz`): `using` in the direction of the hints, `down_using` back.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnConversion {
    /// The table and column by their names on the side the hints lead to (the schema files' for the up).
    pub table: QualifiedName,
    pub column: String,
    /// A SQL expression over the row's columns (as they are when the conversion runs) giving the new value.
    pub using: Option<String>,
    pub down_using: Option<String>,
}

impl RenameHints {
    /// The hints for the opposite direction (the down migration).
    pub fn reversed(&self) -> RenameHints {
        // Column hints name the table by its new name; in reverse the "new" name is the old one.
        let to_old: IndexMap<&QualifiedName, &QualifiedName> = self.tables.iter().map(|(f, t)| (t, f)).collect();
        // A conversion names the column as the schema files do; in reverse, as the database does.
        let old_column = |table: &QualifiedName, column: &str| {
            self.columns
                .iter()
                .find(|(t, _, to)| t == table && to == column)
                .map_or_else(|| column.to_string(), |(_, from, _)| from.clone())
        };
        RenameHints {
            conversions: self
                .conversions
                .iter()
                .map(|c| ColumnConversion {
                    table: to_old.get(&c.table).map_or_else(|| c.table.clone(), |n| (*n).clone()),
                    column: old_column(&c.table, &c.column),
                    using: c.down_using.clone(),
                    down_using: c.using.clone(),
                })
                .collect(),
            tables: self.tables.iter().map(|(f, t)| (t.clone(), f.clone())).collect(),
            columns: self
                .columns
                .iter()
                .map(|(table, f, t)| {
                    let old_table = to_old.get(table).map(|n| (*n).clone()).unwrap_or_else(|| table.clone());
                    (old_table, t.clone(), f.clone())
                })
                .collect(),
        }
    }
}
