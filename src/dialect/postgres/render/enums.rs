//! Enum types: created, dropped, a value added (`ADD VALUE … BEFORE|AFTER`), and rebuilt when values are
//! removed or reordered (the old type renamed aside, the new one created, the columns that use it
//! converted through text, the old one dropped).

use super::columns::alter_column;
use super::{ident, literal, qualified};
use crate::diff::{EnumChange, EnumColumnUse, EnumValuePosition};
use crate::model::*;

pub(super) fn render(change: &EnumChange) -> Vec<String> {
    match change {
        EnumChange::Create(t) => vec![create_enum(&t.name, &t.labels)],
        EnumChange::Drop(t) => vec![format!("DROP TYPE {};", qualified(&t.name))],
        EnumChange::AddValue { name, value, position } => add_value(name, value, position),
        EnumChange::Rebuild { to, columns, .. } => rebuild(to, columns),
    }
}

fn add_value(name: &QualifiedName, value: &str, position: &EnumValuePosition) -> Vec<String> {
    let (word, anchor) = match position {
        EnumValuePosition::Before(l) => ("BEFORE", l),
        EnumValuePosition::After(l) => ("AFTER", l),
    };
    vec![format!("ALTER TYPE {} ADD VALUE {} {word} {};", qualified(name), literal(value), literal(anchor))]
}

fn rebuild(to: &EnumType, columns: &[EnumColumnUse]) -> Vec<String> {
    let old_name = format!("{}__old", to.name.name);
    let old = QualifiedName::new(to.name.schema.clone(), old_name.clone());
    let mut sql = vec![
        format!("ALTER TYPE {} RENAME TO {};", qualified(&to.name), ident(&old_name)),
        create_enum(&to.name, &to.labels),
    ];
    for use_ in columns {
        let c = &use_.column;
        let via = if use_.data_type.ends_with("[]") { "text[]" } else { "text" };
        if use_.had_default {
            sql.push(alter_column(&c.table, &c.column, "DROP DEFAULT"));
        }
        sql.push(alter_column(
            &c.table,
            &c.column,
            &format!("TYPE {} USING {}::{via}::{}", use_.data_type, ident(&c.column), use_.data_type),
        ));
        if let Some(default) = &use_.default {
            sql.push(alter_column(&c.table, &c.column, &format!("SET DEFAULT {default}")));
        }
    }
    sql.push(format!("DROP TYPE {};", qualified(&old)));
    sql
}

fn create_enum(name: &QualifiedName, labels: &[String]) -> String {
    let labels: Vec<String> = labels.iter().map(|l| literal(l)).collect();
    format!("CREATE TYPE {} AS ENUM ({});", qualified(name), labels.join(", "))
}
