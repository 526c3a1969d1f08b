//! Columns: type, nullability, default, identity, generation, and the rarer texts kept out of line.

use super::{Name, ObjectRef, QualifiedName};
use serde::Serialize;

/// A column of a table, by table and column name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ColumnRef {
    pub table: QualifiedName,
    pub column: Name,
}

#[derive(Debug, Clone, PartialEq, Eq, Copy, Serialize)]
pub enum IdentityKind {
    Always,
    ByDefault,
}

/// A column. Introspected catalogs hold every column of every table (over 100,000 at 10,000 tables),
/// so the struct is kept small: texts that are rarely set live together in one optional box, and the
/// default and dependencies are boxed rather than growable.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: Name,
    /// The type as the database spells it (e.g. `character varying(20)`, `public.mood[]`).
    pub data_type: Name,
    pub default: Option<Box<str>>,
    /// Objects this column needs: its user-defined type, sequences its default calls.
    pub depends_on: Box<[ObjectRef]>,
    pub(super) extras: ColumnExtras,
    pub not_null: bool,
    pub identity: Option<IdentityKind>,
    /// Where the column comes from in table inheritance (always [`ColumnOrigin::Own`] outside it).
    pub origin: ColumnOrigin,
}

/// Whether a column is declared by its table, inherited from a parent, or both (PostgreSQL's
/// `attislocal` and `attinhcount`). Only which columns a new table declares itself depends on it: no
/// statement turns an inherited column into a declared one in place, so the diff does not compare it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum ColumnOrigin {
    #[default]
    Own,
    Inherited,
    /// Declared by the table and inherited as well (merged with a parent's column of the same name).
    Merged,
}

impl ColumnOrigin {
    /// Whether a parent defines it (its type then changes only through the parent).
    pub fn inherited(self) -> bool {
        self != ColumnOrigin::Own
    }

    /// Whether the table declares it itself (`CREATE TABLE child (…) INHERITS …` lists it).
    pub fn local(self) -> bool {
        self != ColumnOrigin::Inherited
    }
}

/// The texts of a column that most columns do not have; `None` when the column has none of them.
/// [`ColumnExtras::update`] never leaves an empty box, so the derived comparison is exact.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct ColumnExtras(Option<Box<ColumnExtra>>);

#[derive(Debug, Clone, Default, PartialEq)]
struct ColumnExtra {
    identity_options: Option<Box<str>>,
    generated: Option<Box<str>>,
    collation: Option<Box<str>>,
    comment: Option<Box<str>>,
    conversion: Option<Box<str>>,
}

impl ColumnExtras {
    fn get(&self) -> Option<&ColumnExtra> {
        self.0.as_deref()
    }

    /// Sets one text through `set`, dropping the box again once every text is unset.
    fn update(&mut self, set: impl FnOnce(&mut ColumnExtra)) {
        let mut extra = self.0.take().unwrap_or_default();
        set(&mut extra);
        if *extra != ColumnExtra::default() {
            self.0 = Some(extra);
        }
    }
}

fn boxed(text: Option<impl Into<Box<str>>>) -> Option<Box<str>> {
    text.map(Into::into)
}

impl Column {
    /// A nullable column without a default or any of the optional texts.
    pub fn new(name: impl Into<Name>, data_type: impl Into<Name>) -> Self {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            default: None,
            depends_on: Box::default(),
            extras: ColumnExtras::default(),
            not_null: false,
            identity: None,
            origin: ColumnOrigin::Own,
        }
    }

    /// The same column, NOT NULL.
    pub fn not_null(self) -> Self {
        Column { not_null: true, ..self }
    }

    /// The same column as an identity column of the given kind.
    pub fn identity(self, kind: IdentityKind) -> Self {
        Column { identity: Some(kind), ..self }
    }

    /// The same column, needing `objects`.
    pub fn depending_on(self, objects: impl IntoIterator<Item = ObjectRef>) -> Self {
        Column { depends_on: objects.into_iter().collect(), ..self }
    }

    /// Adds `object` to what the column needs, unless it is there already.
    pub fn add_dependency(&mut self, object: ObjectRef) {
        if !self.depends_on.contains(&object) {
            self.depends_on = self.depends_on.iter().cloned().chain([object]).collect();
        }
    }

    /// Keeps only the dependencies for which `keep` holds.
    pub fn retain_dependencies(&mut self, keep: impl Fn(&ObjectRef) -> bool) {
        self.depends_on = self.depends_on.iter().filter(|d| keep(d)).cloned().collect();
    }

    /// The identity sequence's options that differ from their defaults for the column's type, as
    /// PostgreSQL's sequence options (`INCREMENT BY 5 START WITH 1000`); `None` when all are defaults.
    pub fn identity_options(&self) -> Option<&str> {
        self.extras.get().and_then(|e| e.identity_options.as_deref())
    }

    /// Expression of a generated column.
    pub fn generated(&self) -> Option<&str> {
        self.extras.get().and_then(|e| e.generated.as_deref())
    }

    /// Set only when it differs from the type's default collation.
    pub fn collation(&self) -> Option<&str> {
        self.extras.get().and_then(|e| e.collation.as_deref())
    }

    pub fn comment(&self) -> Option<&str> {
        self.extras.get().and_then(|e| e.comment.as_deref())
    }

    /// The SQL expression that converts the old values to this column's type, declared for a type change
    /// (`-- schema:using …`, `[[conversion]]`). Set only on the new column of a planned type change, never
    /// in a catalog: it says how the change is made, not what the column is.
    pub fn conversion(&self) -> Option<&str> {
        self.extras.get().and_then(|e| e.conversion.as_deref())
    }

    pub fn set_identity_options(&mut self, options: Option<impl Into<Box<str>>>) {
        let options = boxed(options);
        self.extras.update(|e| e.identity_options = options);
    }

    pub fn set_generated(&mut self, expression: Option<impl Into<Box<str>>>) {
        let expression = boxed(expression);
        self.extras.update(|e| e.generated = expression);
    }

    pub fn set_collation(&mut self, collation: Option<impl Into<Box<str>>>) {
        let collation = boxed(collation);
        self.extras.update(|e| e.collation = collation);
    }

    pub fn set_comment(&mut self, comment: Option<impl Into<Box<str>>>) {
        let comment = boxed(comment);
        self.extras.update(|e| e.comment = comment);
    }

    pub fn set_conversion(&mut self, expression: Option<impl Into<Box<str>>>) {
        let expression = boxed(expression);
        self.extras.update(|e| e.conversion = expression);
    }
}

// Written out so that the JSON of a column keeps one flat shape, whichever texts are set.
impl Serialize for Column {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            name: &'a str,
            data_type: &'a str,
            not_null: bool,
            default: Option<&'a str>,
            identity: Option<IdentityKind>,
            identity_options: Option<&'a str>,
            generated: Option<&'a str>,
            collation: Option<&'a str>,
            comment: Option<&'a str>,
            depends_on: &'a [ObjectRef],
        }
        Flat {
            name: &self.name,
            data_type: &self.data_type,
            not_null: self.not_null,
            default: self.default.as_deref(),
            identity: self.identity,
            identity_options: self.identity_options(),
            generated: self.generated(),
            collation: self.collation(),
            comment: self.comment(),
            depends_on: &self.depends_on,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_whose_texts_are_unset_again_equals_one_that_never_had_them() {
        let plain = Column::new("note", "text");
        let mut edited = plain.clone();
        edited.set_comment(Some("shown to users"));
        edited.set_collation(Some("\"C\""));
        assert_ne!(edited, plain);
        assert_eq!((edited.comment(), edited.collation()), (Some("shown to users"), Some("\"C\"")));
        edited.set_comment(None::<&str>);
        assert_ne!(edited, plain, "the collation is still set");
        edited.set_collation(None::<&str>);
        assert_eq!(edited, plain);
        assert!(edited.extras.0.is_none(), "no empty box is kept");
    }

    #[test]
    fn a_column_serializes_flat_with_every_text_named() {
        let mut column = Column::new("id", "bigint").not_null().identity(IdentityKind::Always);
        column.set_identity_options(Some("START WITH 10"));
        let json = serde_json::to_value(&column).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "id", "data_type": "bigint", "not_null": true, "default": null,
                "identity": "Always", "identity_options": "START WITH 10", "generated": null,
                "collation": null, "comment": null, "depends_on": []
            })
        );
    }
}
