//! Builders of in-memory catalogs, for tests of the diff, the planner and the renderers that need no
//! database. The values look like what PostgreSQL's introspection reads (see
//! `dialect/postgres/kinds/` and their catalog queries): constraint texts as `pg_get_constraintdef`
//! writes them (`PRIMARY KEY (id)`, `FOREIGN KEY (user_id) REFERENCES public.users(id)`), index texts
//! after `USING` (`btree (user_id)`), view queries as `pg_get_viewdef` prints them with the columns they
//! read as dependencies, trigger and function texts as `pg_get_triggerdef` and `pg_get_functiondef` give
//! them. A test writes a catalog as a chain:
//!
//! ```
//! use schema::model::build::*;
//! use schema::model::Catalog;
//!
//! let current = Catalog::default()
//!     .with_schema("public")
//!     .with_table(
//!         table("users")
//!             .with_column(column("id", "bigint").not_null())
//!             .with_constraint(primary_key("users_pkey", &["id"])),
//!     )
//!     .with_index(index("users_id_idx", "users", "btree (id)", &["id"]));
//! assert_eq!(&*current.tables[0].constraints["users_pkey"].definition, "PRIMARY KEY (id)");
//! ```
//!
//! Names are `schema.name`, or `name` in `public` ([`QualifiedName::parse`]).

use super::*;

/// An identifier as PostgreSQL's `quote_ident` writes it in the texts it deparses: as it is when it is
/// lower-case letters, digits and underscores (not first a digit), quoted otherwise. (Key words are left
/// unquoted: the tests do not name objects after them.)
pub fn quote_ident(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain { name.to_string() } else { format!("\"{}\"", name.replace('"', "\"\"")) }
}

/// A qualified name as the deparsed texts write it: `public.users`.
fn qualified(name: &QualifiedName) -> String {
    format!("{}.{}", quote_ident(&name.schema), quote_ident(&name.name))
}

fn column_list(columns: &[&str]) -> String {
    columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
}

fn names(columns: &[&str]) -> Vec<Name> {
    columns.iter().map(|&c| Name::from(c)).collect()
}

/// A column reference, `table` as [`QualifiedName::parse`] reads it.
pub fn column_ref(table: &str, column: &str) -> ColumnRef {
    ColumnRef { table: QualifiedName::parse(table), column: column.into() }
}

/// A nullable column without a default; [`Column`]'s own `not_null`, `identity` and `depending_on`
/// chain onto it.
pub fn column(name: &str, data_type: &str) -> Column {
    Column::new(name, data_type)
}

impl Column {
    /// The same column with this default, as `pg_get_expr` prints it (`now()`, `'x'::text`).
    pub fn with_default(self, expression: &str) -> Self {
        Column { default: Some(expression.into()), ..self }
    }

    /// The same column, of an enum (or other user-defined) type `type_name`: its type is spelled
    /// qualified and the column depends on it, as introspection records.
    pub fn of_type(self, type_name: &str) -> Self {
        let name = QualifiedName::parse(type_name);
        let mut column = Column { data_type: qualified(&name).into(), ..self };
        column.add_dependency(ObjectRef::Type(name));
        column
    }

    /// The same column, with a default drawing from `sequence` (a serial column's `nextval(…)`) and
    /// depending on it.
    pub fn with_nextval(self, sequence: &str) -> Self {
        let name = QualifiedName::parse(sequence);
        let mut column = self.with_default(&format!("nextval('{}'::regclass)", qualified(&name)));
        column.add_dependency(ObjectRef::Sequence(name));
        column
    }
}

/// A table without columns or constraints.
pub fn table(name: &str) -> Table {
    Table::new(QualifiedName::parse(name))
}

impl Table {
    pub fn with_column(mut self, column: Column) -> Self {
        self.columns.insert(column.name.clone(), column);
        self
    }

    pub fn with_constraint(mut self, constraint: Constraint) -> Self {
        self.constraints.insert(constraint.name.clone(), constraint);
        self
    }

    /// The column named `name`; panics (the test is wrong) when there is none.
    pub fn column_mut(&mut self, name: &str) -> &mut Column {
        let table = self.name.clone();
        self.columns.get_mut(name).unwrap_or_else(|| panic!("table {table} has no column {name}"))
    }
}

fn constraint(name: &str, kind: ConstraintKind, definition: String, columns: &[&str]) -> Constraint {
    Constraint {
        name: name.into(),
        kind,
        definition: definition.into(),
        validated: true,
        columns: names(columns),
        references: None,
        comment: None,
        depends_on: Vec::new(),
    }
}

pub fn primary_key(name: &str, columns: &[&str]) -> Constraint {
    constraint(name, ConstraintKind::PrimaryKey, format!("PRIMARY KEY ({})", column_list(columns)), columns)
}

pub fn unique(name: &str, columns: &[&str]) -> Constraint {
    constraint(name, ConstraintKind::Unique, format!("UNIQUE ({})", column_list(columns)), columns)
}

/// A CHECK constraint; `expression` as PostgreSQL deparses it, with its own parentheses
/// (`(price > 0)`), and the columns it reads.
pub fn check(name: &str, expression: &str, columns: &[&str]) -> Constraint {
    constraint(name, ConstraintKind::Check, format!("CHECK ({expression})"), columns)
}

/// A foreign key from `columns` to `target_columns` of `target`.
pub fn foreign_key(name: &str, columns: &[&str], target: &str, target_columns: &[&str]) -> Constraint {
    let target = QualifiedName::parse(target);
    let definition = format!(
        "FOREIGN KEY ({}) REFERENCES {}({})",
        column_list(columns),
        qualified(&target),
        column_list(target_columns)
    );
    Constraint {
        references: Some(Box::new(ForeignKeyTarget { table: target, columns: names(target_columns) })),
        ..constraint(name, ConstraintKind::ForeignKey, definition, columns)
    }
}

impl Constraint {
    /// The same foreign key with an `ON DELETE` action (`CASCADE`, `SET NULL`…).
    pub fn on_delete(self, action: &str) -> Self {
        let definition = format!("{} ON DELETE {action}", self.definition).into();
        Constraint { definition, ..self }
    }

    /// The same constraint, added `NOT VALID` and not validated yet.
    pub fn not_valid(self) -> Self {
        let definition = format!("{} NOT VALID", self.definition).into();
        Constraint { definition, validated: false, ..self }
    }
}

/// An index named `name` (in `table`'s schema when not qualified) on `table`; `definition` is the text
/// after `USING` (`btree (email)`, `btree (lower(email)) WHERE (active)`), `columns` those it reads.
pub fn index(name: &str, table: &str, definition: &str, columns: &[&str]) -> Index {
    let table = QualifiedName::parse(table);
    let name =
        if name.contains('.') { QualifiedName::parse(name) } else { QualifiedName::new(table.schema.clone(), name) };
    Index {
        name,
        table,
        unique: false,
        definition: definition.to_string(),
        columns: names(columns),
        comment: None,
        depends_on: Vec::new(),
        partitions: Vec::new(),
    }
}

impl Index {
    pub fn unique(self) -> Self {
        Index { unique: true, ..self }
    }
}

/// A view over the columns `reads` of one table, as PostgreSQL records it: the query as `pg_get_viewdef`
/// prints it (`SELECT users.id,\n    users.email\n   FROM public.users`), the output columns (those read,
/// in order), and a dependency on each column read.
pub fn view(name: &str, table: &str, reads: &[&str]) -> View {
    let source = QualifiedName::parse(table);
    let select: Vec<String> =
        reads.iter().map(|c| format!("{}.{}", quote_ident(&source.name), quote_ident(c))).collect();
    let definition = format!("SELECT {}\n   FROM {}", select.join(",\n    "), qualified(&source));
    let mut depends_on: Vec<ObjectRef> =
        reads.iter().map(|c| ObjectRef::Column(ColumnRef { table: source.clone(), column: (*c).into() })).collect();
    depends_on.sort();
    View {
        name: QualifiedName::parse(name),
        materialized: false,
        definition,
        columns: reads.iter().map(|c| c.to_string()).collect(),
        depends_on,
        comment: None,
        column_comments: IndexMap::new(),
        options: Vec::new(),
    }
}

pub fn enum_type(name: &str, labels: &[&str]) -> EnumType {
    EnumType { name: QualifiedName::parse(name), labels: labels.iter().map(|l| l.to_string()).collect(), comment: None }
}

/// A sequence with PostgreSQL's defaults for `data_type` (`integer`, `bigint` or `smallint`).
pub fn sequence(name: &str, data_type: &str) -> Sequence {
    let max_value = match data_type {
        "smallint" => i64::from(i16::MAX),
        "integer" => i64::from(i32::MAX),
        _ => i64::MAX,
    };
    Sequence {
        name: QualifiedName::parse(name),
        data_type: data_type.to_string(),
        start: 1,
        increment: 1,
        min_value: 1,
        max_value,
        cache: 1,
        cycle: false,
        owned_by: None,
        comment: None,
    }
}

impl Sequence {
    /// The same sequence, owned by a column (`OWNED BY`), as a serial column's is.
    pub fn owned_by(self, table: &str, column: &str) -> Self {
        Sequence { owned_by: Some(column_ref(table, column)), ..self }
    }
}

/// A PL/pgSQL function without arguments, as `pg_get_functiondef` writes it. Its body is a string, so
/// what it reads is unknown ([`Function::body_dependencies_known`] is false).
pub fn function(name: &str, returns: &str, body: &str) -> Function {
    let name = QualifiedName::parse(name);
    let definition = format!(
        "CREATE OR REPLACE FUNCTION {}()\n RETURNS {returns}\n LANGUAGE plpgsql\nAS $function${body}$function$",
        qualified(&name)
    );
    Function {
        call_signature: format!("{}()", qualified(&name)),
        id: FunctionId { name, arguments: String::new() },
        kind: FunctionKind::Function,
        definition,
        signature: String::new(),
        returns: returns.to_string(),
        comment: None,
        depends_on: Vec::new(),
        body_dependencies_known: false,
        calls: Vec::new(),
    }
}

/// A row trigger on `table` that calls `function` (without arguments) at `timing` (`BEFORE INSERT OR
/// UPDATE`), as `pg_get_triggerdef` writes it, depending on the function.
pub fn trigger(name: &str, table: &str, timing: &str, function: &str) -> Trigger {
    let table = QualifiedName::parse(table);
    let function = QualifiedName::parse(function);
    let definition = format!(
        "CREATE TRIGGER {} {timing} ON {} FOR EACH ROW EXECUTE FUNCTION {}()",
        quote_ident(name),
        qualified(&table),
        qualified(&function)
    );
    Trigger {
        name: QualifiedName::new(table.schema.clone(), name),
        depends_on: vec![ObjectRef::Function(FunctionId { name: function, arguments: String::new() })],
        table,
        definition,
        enabled: None,
        comment: None,
    }
}

/// `privilege` on a table or view granted explicitly to `grantee`.
pub fn table_grant(table: &str, grantee: &str, privilege: &str) -> Grant {
    let key = GrantKey {
        target: PrivilegeTarget::Table(QualifiedName::parse(table)),
        grantee: grantee.to_string(),
        privilege: privilege.to_string(),
    };
    Grant { key, grantable: false, implicit: false }
}

impl Catalog {
    pub fn with_schema(mut self, name: &str) -> Self {
        self.schemas.insert(name.to_string(), Namespace { name: name.to_string(), comment: None });
        self
    }

    pub fn with_table(mut self, table: Table) -> Self {
        self.tables.insert(table.name.clone(), table);
        self
    }

    pub fn with_index(mut self, index: Index) -> Self {
        self.indexes.insert(index.name.clone(), index);
        self
    }

    pub fn with_view(mut self, view: View) -> Self {
        self.views.insert(view.name.clone(), view);
        self
    }

    pub fn with_enum(mut self, enum_type: EnumType) -> Self {
        self.enums.insert(enum_type.name.clone(), enum_type);
        self
    }

    pub fn with_sequence(mut self, sequence: Sequence) -> Self {
        self.sequences.insert(sequence.name.clone(), sequence);
        self
    }

    pub fn with_function(mut self, function: Function) -> Self {
        self.functions.insert(function.id.clone(), function);
        self
    }

    /// Keyed as PostgreSQL's introspection keys triggers (names are per table: [`member_key`]).
    pub fn with_trigger(mut self, trigger: Trigger) -> Self {
        self.triggers.insert(member_key(&trigger.table, &trigger.name.name), trigger);
        self
    }

    pub fn with_grant(mut self, grant: Grant) -> Self {
        self.grants.insert(grant.key.clone(), grant);
        self
    }

    /// The table named `name`; panics (the test is wrong) when there is none.
    pub fn table_mut(&mut self, name: &str) -> &mut Table {
        let key = QualifiedName::parse(name);
        self.tables.get_mut(&key).unwrap_or_else(|| panic!("no table {key}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_texts_read_as_postgresql_deparses_them() {
        let fk = foreign_key("posts_user_id_fkey", &["user_id"], "users", &["id"]).on_delete("CASCADE");
        assert_eq!(&*fk.definition, "FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE");
        assert_eq!(&*unique("t_a_b_key", &["a", "Mixed"]).definition, "UNIQUE (a, \"Mixed\")");
        let v = view("user_emails", "users", &["id", "email"]);
        assert_eq!(v.definition, "SELECT users.id,\n    users.email\n   FROM public.users");
        let t = trigger("posts_touch", "posts", "BEFORE INSERT OR UPDATE", "touch");
        assert_eq!(
            t.definition,
            "CREATE TRIGGER posts_touch BEFORE INSERT OR UPDATE ON public.posts FOR EACH ROW EXECUTE FUNCTION public.touch()"
        );
        let f = function("touch", "trigger", "BEGIN RETURN NEW; END");
        assert_eq!(
            f.definition,
            "CREATE OR REPLACE FUNCTION public.touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$BEGIN RETURN NEW; END$function$"
        );
        let serial = column("id", "integer").not_null().with_nextval("posts_id_seq");
        assert_eq!(serial.default.as_deref(), Some("nextval('public.posts_id_seq'::regclass)"));
    }
}
