//! Names the tool makes up for the helper objects of a plan (a rebuilt table's new copy, a dropped
//! table's names moved aside, expand/contract's triggers and functions).

use super::QualifiedName;

/// A name for a helper object: `prefix` + `base`, cut to PostgreSQL's 63 bytes on a character boundary.
pub fn helper_name(prefix: &str, base: &str) -> String {
    let mut name = format!("{prefix}{base}");
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// The name of a helper object in a table's schema.
pub fn helper_object(table: &QualifiedName, prefix: &str, base: &str) -> QualifiedName {
    QualifiedName::new(table.schema.clone(), helper_name(prefix, base))
}
