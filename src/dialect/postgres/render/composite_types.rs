//! Composite types: created, dropped, and altered in place (attributes added, dropped and retyped).

use super::{ident, qualified};
use crate::diff::CompositeTypeChange;
use crate::model::*;

pub(super) fn render(change: &CompositeTypeChange) -> Vec<String> {
    match change {
        CompositeTypeChange::Create(t) => {
            let attributes: Vec<String> = t.attributes.values().map(attribute).collect();
            vec![format!("CREATE TYPE {} AS ({});", qualified(&t.name), attributes.join(", "))]
        }
        CompositeTypeChange::Drop(t) => vec![format!("DROP TYPE {};", qualified(&t.name))],
        CompositeTypeChange::Alter { from, to } => alter(from, to),
    }
}

fn attribute(a: &TypeAttribute) -> String {
    let collate = a.collation.as_ref().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
    format!("{} {}{collate}", ident(&a.name), a.data_type)
}

fn alter(from: &CompositeType, to: &CompositeType) -> Vec<String> {
    let name = qualified(&to.name);
    let mut sql = Vec::new();
    for old in from.attributes.values() {
        if !to.attributes.contains_key(&old.name) {
            sql.push(format!("ALTER TYPE {name} DROP ATTRIBUTE {};", ident(&old.name)));
        }
    }
    for new in to.attributes.values() {
        match from.attributes.get(&new.name) {
            None => sql.push(format!("ALTER TYPE {name} ADD ATTRIBUTE {};", attribute(new))),
            Some(old) if old.data_type != new.data_type || old.collation != new.collation => {
                let collate = new.collation.as_ref().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
                sql.push(format!(
                    "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {}{collate};",
                    ident(&new.name),
                    new.data_type
                ));
            }
            Some(_) => {}
        }
    }
    sql
}
