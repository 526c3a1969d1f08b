//! Snapshots of the SQL the SQLite renderer writes for small fixed change sets diffed from in-memory
//! catalogs, up and down, after [`super::render::SqliteRenderer`]'s `adapt` (foreign keys written into
//! `CREATE TABLE`, table rebuilds). The catalogs read as SQLite's introspection reads them: one schema,
//! `main`, types as declared, keys quoted, index keys after the index's table name. Whether the
//! statements run is what the round trips in tests/it prove.

use super::render::ident;
use crate::dialect::Kind;
use crate::diff::{RenameHints, diff};
use crate::model::build::*;
use crate::model::*;

fn quoted(columns: &[&str]) -> String {
    columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
}

/// A key as the introspection writes it: its columns always quoted.
fn key(constraint: Constraint) -> Constraint {
    let columns: Vec<&str> = constraint.columns.iter().map(Name::as_str).collect();
    let word = if constraint.kind == ConstraintKind::PrimaryKey { "PRIMARY KEY" } else { "UNIQUE" };
    Constraint { definition: format!("{word} ({})", quoted(&columns)).into(), ..constraint }
}

fn users() -> Table {
    table("main.users")
        .with_column(column("id", "INTEGER").not_null())
        .with_column(column("email", "TEXT").not_null())
        .with_column(column("name", "TEXT"))
        .with_constraint(key(primary_key("users_pkey", &["id"])))
        .with_constraint(key(unique("users_email_key", &["email"])))
}

fn before() -> Catalog {
    Catalog::default().with_table(users()).with_index(index("main.users_name_idx", "main.users", "(name)", &["name"]))
}

/// The same edits as the PostgreSQL snapshots: `name` renamed to `full_name`, `bio` added, the index on
/// `name` dropped, a new table `posts` with a key, a check, a foreign key and an index.
fn after() -> Catalog {
    let mut catalog = Catalog::default().with_table(users());
    let users = catalog.table_mut("main.users");
    let mut full_name = users.columns.shift_remove("name").expect("users.name");
    full_name.name = "full_name".into();
    users.columns.insert(full_name.name.clone(), full_name);
    users.columns.insert("bio".into(), column("bio", "TEXT"));
    let mut fk = foreign_key("posts_user_id_fkey", &["user_id"], "main.users", &["id"]);
    fk.definition =
        format!("FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE CASCADE", ident("user_id"), ident("users"), ident("id"))
            .into();
    let posts = table("main.posts")
        .with_column(column("id", "INTEGER").not_null())
        .with_column(column("user_id", "INTEGER").not_null())
        .with_column(column("title", "TEXT").not_null().with_default("''"))
        .with_constraint(key(primary_key("posts_pkey", &["id"])))
        .with_constraint(check("posts_check1", "length(title) < 200", &["title"]))
        .with_constraint(fk);
    catalog.with_table(posts).with_index(index("main.posts_user_id_idx", "main.posts", "(user_id)", &["user_id"]))
}

fn rename_hints() -> RenameHints {
    RenameHints {
        columns: vec![(QualifiedName::parse("main.users"), "name".into(), "full_name".into())],
        ..RenameHints::default()
    }
}

/// The plan from `current` to `desired` as the migration files hold it: each step's description, then
/// its statements.
fn rendered(current: &Catalog, desired: &Catalog, hints: &RenameHints) -> String {
    let renderer = Kind::Sqlite.renderer();
    let changes = renderer.adapt(diff(current, desired, hints), current, desired);
    let plan = crate::plan::build_from(changes, renderer.as_ref()).expect("no dependency cycle");
    let steps: Vec<String> =
        plan.steps.iter().map(|s| format!("-- {}\n{}\n", s.description, s.statements.join("\n"))).collect();
    format!("-- transactional: {}\n\n{}", plan.transactional, steps.join("\n"))
}

#[test]
fn up_creates_a_table_with_its_foreign_key_inline_adds_and_renames_columns_in_place_and_drops_an_index() {
    insta::assert_snapshot!(rendered(&before(), &after(), &rename_hints()));
}

#[test]
fn down_drops_the_table_and_the_added_column_renames_back_and_recreates_the_index() {
    insta::assert_snapshot!(rendered(&after(), &before(), &rename_hints().reversed()));
}

#[test]
fn a_retyped_column_rebuilds_its_table_and_recreates_the_view_that_reads_it_and_the_tables_index() {
    let reader = View {
        name: QualifiedName::parse("main.user_names"),
        materialized: false,
        definition: "SELECT id, name FROM users".into(),
        columns: vec!["id".into(), "name".into()],
        depends_on: vec![ObjectRef::Relation(QualifiedName::parse("main.users"))],
        comment: None,
        column_comments: Default::default(),
        options: Vec::new(),
    };
    let current = before().with_view(reader);
    let mut desired = current.clone();
    desired.table_mut("main.users").column_mut("name").data_type = "VARCHAR(80)".into();
    insta::assert_snapshot!(rendered(&current, &desired, &RenameHints::default()));
}
