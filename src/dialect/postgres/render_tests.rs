//! Snapshots of the SQL the PostgreSQL renderer writes for small fixed change sets diffed from in-memory
//! catalogs ([`crate::model::build`]), up and down. They show a reviewer what a change to the renderer
//! does to the statements; whether those statements run is what the round trips in tests/it prove.

use crate::dialect::Kind;
use crate::diff::{RenameHints, diff};
use crate::model::build::*;
use crate::model::*;

/// `users` with an index on `name`.
fn before() -> Catalog {
    Catalog::default()
        .with_schema("public")
        .with_table(
            table("users")
                .with_column(column("id", "bigint").not_null().identity(IdentityKind::Always))
                .with_column(column("email", "text").not_null())
                .with_column(column("name", "character varying(80)"))
                .with_constraint(primary_key("users_pkey", &["id"]))
                .with_constraint(unique("users_email_key", &["email"])),
        )
        .with_index(index("users_name_idx", "users", "btree (name)", &["name"]))
}

/// `users.name` renamed to `full_name`, `users.bio` added, the index on `name` dropped, and a new table
/// `posts` with a primary key, a check, a foreign key to `users` and an index.
fn after() -> Catalog {
    let mut catalog = before();
    catalog.indexes.clear();
    let users = catalog.table_mut("users");
    let mut full_name = users.columns.shift_remove("name").expect("users.name");
    full_name.name = "full_name".into();
    users.columns.insert(full_name.name.clone(), full_name);
    users.columns.insert("bio".into(), column("bio", "text"));
    catalog
        .with_table(
            table("posts")
                .with_column(column("id", "bigint").not_null().identity(IdentityKind::Always))
                .with_column(column("user_id", "bigint").not_null())
                .with_column(column("title", "text").not_null().with_default("''::text"))
                .with_constraint(primary_key("posts_pkey", &["id"]))
                .with_constraint(check("posts_title_check", "(length(title) < 200)", &["title"]))
                .with_constraint(
                    foreign_key("posts_user_id_fkey", &["user_id"], "users", &["id"]).on_delete("CASCADE"),
                ),
        )
        .with_index(index("posts_user_id_idx", "posts", "btree (user_id)", &["user_id"]))
}

fn rename_hints() -> RenameHints {
    RenameHints {
        columns: vec![(QualifiedName::parse("users"), "name".into(), "full_name".into())],
        ..RenameHints::default()
    }
}

/// The plan from `current` to `desired` as the migration files hold it: each step's description, then
/// its statements.
fn rendered(current: &Catalog, desired: &Catalog, hints: &RenameHints) -> String {
    let renderer = Kind::Postgres.renderer();
    let changes = renderer.adapt(diff(current, desired, hints), current, desired);
    let plan = crate::plan::build_from(changes, renderer.as_ref()).expect("no dependency cycle");
    let steps: Vec<String> =
        plan.steps.iter().map(|s| format!("-- {}\n{}\n", s.description, s.statements.join("\n"))).collect();
    format!("-- transactional: {}\n\n{}", plan.transactional, steps.join("\n"))
}

#[test]
fn up_creates_a_table_with_its_keys_and_index_adds_and_renames_columns_and_drops_an_index() {
    insta::assert_snapshot!(rendered(&before(), &after(), &rename_hints()));
}

#[test]
fn down_drops_the_table_and_the_added_column_renames_back_and_recreates_the_index() {
    insta::assert_snapshot!(rendered(&after(), &before(), &rename_hints().reversed()));
}

#[test]
fn a_retyped_column_is_altered_in_place_between_the_drop_and_the_creation_of_the_view_that_reads_it() {
    let current = before().with_view(view("user_names", "users", &["id", "name"]));
    let mut desired = current.clone();
    desired.table_mut("users").column_mut("name").data_type = "text".into();
    insta::assert_snapshot!(rendered(&current, &desired, &RenameHints::default()));
}
