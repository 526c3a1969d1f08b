//! The planner's ordering rules on change sets diffed from in-memory catalogs ([`crate::model::build`]):
//! where each change lands, and which earlier changes it is made to wait for ([`dependencies`]), so
//! that a rule which the tie-breaking rank happens to satisfy on its own is still checked.

use super::*;
use crate::diff::TableChange;
use crate::diff::{RenameHints, diff};
use crate::model::build::*;

/// A dialect as the planner sees it, without any SQL: each change renders as its description. Like
/// PostgreSQL, it cannot use an enum value in the transaction that added it.
struct DescribingRenderer;

impl SqlRenderer for DescribingRenderer {
    fn render(&self, change: &Change) -> Result<Vec<Statement>, Unsupported> {
        Ok(vec![Statement::locking(change.describe())])
    }

    fn enum_value_usable_before_commit(&self) -> bool {
        false
    }
}

fn users() -> Table {
    table("users")
        .with_column(column("id", "bigint").not_null().identity(IdentityKind::Always))
        .with_column(column("email", "text").not_null())
        .with_column(column("name", "character varying(80)"))
        .with_constraint(primary_key("users_pkey", &["id"]))
}

fn posts() -> Table {
    table("posts")
        .with_column(column("id", "bigint").not_null().identity(IdentityKind::Always))
        .with_column(column("user_id", "bigint").not_null())
        .with_constraint(primary_key("posts_pkey", &["id"]))
        .with_constraint(foreign_key("posts_user_id_fkey", &["user_id"], "users", &["id"]))
}

fn empty() -> Catalog {
    Catalog::default().with_schema("public")
}

fn ordered(current: &Catalog, desired: &Catalog) -> Vec<Change> {
    order(&diff(current, desired, &RenameHints::default())).expect("no cycle")
}

/// Where the change described as `description` is in `changes`.
fn at(changes: &[Change], description: &str) -> usize {
    let described: Vec<String> = changes.iter().map(Change::describe).collect();
    described.iter().position(|d| d == description).unwrap_or_else(|| panic!("no {description:?} in {described:?}"))
}

/// Whether the planner makes `after` wait for `before` (an edge of its graph, not only their order).
fn waits_for(changes: &[Change], after: &str, before: &str) -> bool {
    dependencies(changes)[at(changes, after)].contains(&at(changes, before))
}

#[test]
fn a_new_table_comes_before_the_foreign_key_that_references_it() {
    let changes = ordered(&empty(), &empty().with_table(posts()).with_table(users()));
    let fk = "add constraint posts_user_id_fkey on public.posts";
    assert!(at(&changes, "create table public.users") < at(&changes, fk));
    assert!(waits_for(&changes, fk, "create table public.users"));
    assert!(waits_for(&changes, fk, "create table public.posts"));
}

#[test]
fn a_cycle_of_foreign_keys_is_broken_by_adding_them_after_both_tables() {
    let users = users().with_column(column("best_post_id", "bigint")).with_constraint(foreign_key(
        "users_best_post_id_fkey",
        &["best_post_id"],
        "posts",
        &["id"],
    ));
    let changes = ordered(&empty(), &empty().with_table(users).with_table(posts()));
    assert_eq!(
        changes.iter().map(Change::describe).collect::<Vec<_>>(),
        [
            "create table public.users",
            "create table public.posts",
            "add constraint users_best_post_id_fkey on public.users",
            "add constraint posts_user_id_fkey on public.posts",
        ]
    );
}

#[test]
fn tables_created_with_foreign_keys_to_each_other_are_a_cycle_error_naming_both() {
    // Not what the diff produces (it adds foreign keys apart); what `order` says when changes need each
    // other.
    let users = users().with_column(column("best_post_id", "bigint")).with_constraint(foreign_key(
        "users_best_post_id_fkey",
        &["best_post_id"],
        "posts",
        &["id"],
    ));
    let changes = ChangeSet {
        changes: vec![Change::Table(TableChange::Create(users)), Change::Table(TableChange::Create(posts()))],
    };
    let CycleError(stuck) = order(&changes).expect_err("a cycle");
    assert_eq!(stuck, ["create table public.users", "create table public.posts"]);
    assert!(build(&changes, &DescribingRenderer).is_err());
}

#[test]
fn a_view_is_dropped_before_the_column_it_reads_is_retyped_and_created_after() {
    let current = empty().with_table(users()).with_view(view("user_names", "users", &["id", "name"]));
    let mut desired = current.clone();
    desired.table_mut("users").column_mut("name").data_type = "text".into();
    let changes = ordered(&current, &desired);
    let alter = "alter column public.users.name (type character varying(80) -> text)";
    assert_eq!(
        changes.iter().map(Change::describe).collect::<Vec<_>>(),
        ["drop view public.user_names", alter, "create view public.user_names"]
    );
    assert!(waits_for(&changes, alter, "drop view public.user_names"));
    assert!(waits_for(&changes, "create view public.user_names", alter));
}

#[test]
fn what_depends_on_a_dropped_table_is_dropped_before_it() {
    // A function that reads the table: its drop has a later priority than a table's, and must go first.
    let mut reader = function("count_users", "bigint", "BEGIN RETURN (SELECT count(*) FROM public.users); END");
    reader.depends_on.push(ObjectRef::Relation(QualifiedName::parse("users")));
    let current = empty()
        .with_table(users())
        .with_table(posts())
        .with_view(view("user_names", "users", &["id", "name"]))
        .with_function(reader);
    let mut desired = empty().with_table(posts());
    desired.table_mut("posts").constraints.shift_remove("posts_user_id_fkey");
    let changes = ordered(&current, &desired);
    let drop = "drop table public.users";
    for dependant in [
        "drop constraint posts_user_id_fkey on public.posts",
        "drop view public.user_names",
        "drop function public.count_users()",
    ] {
        assert!(at(&changes, dependant) < at(&changes, drop), "{dependant}");
        assert!(waits_for(&changes, drop, dependant), "{dependant}");
    }
}

#[test]
fn an_index_comes_after_its_table_and_after_the_column_it_reads() {
    let current = empty().with_table(users());
    let desired = current
        .clone()
        .with_table(posts())
        .with_index(index("posts_user_id_idx", "posts", "btree (user_id)", &["user_id"]))
        .with_index(index("users_bio_idx", "users", "btree (bio)", &["bio"]));
    let mut desired = desired;
    desired.table_mut("users").columns.insert("bio".into(), column("bio", "text"));
    let changes = ordered(&current, &desired);
    assert!(waits_for(&changes, "create index public.posts_user_id_idx", "create table public.posts"));
    assert!(waits_for(&changes, "create index public.users_bio_idx", "add column public.users.bio"));
    assert!(at(&changes, "add column public.users.bio") < at(&changes, "create index public.users_bio_idx"));
}

#[test]
fn a_function_that_a_new_columns_default_calls_is_created_before_the_table_despite_its_later_priority() {
    let next_code = function("next_code", "text", "BEGIN RETURN md5(random()::text); END");
    let id = next_code.id.clone();
    let mut coded = table("coupons").with_column(column("code", "text").not_null().with_default("public.next_code()"));
    coded.column_mut("code").add_dependency(ObjectRef::Function(id));
    let changes = ordered(&empty(), &empty().with_table(coded).with_function(next_code));
    assert_eq!(
        changes.iter().map(Change::describe).collect::<Vec<_>>(),
        ["create function public.next_code()", "create table public.coupons"]
    );
}

#[test]
fn a_new_enum_value_used_in_the_same_plan_makes_the_plan_non_transactional_where_the_dialect_needs_a_commit() {
    let mood = |labels: &[&str]| empty().with_table(users()).with_enum(enum_type("mood", labels));
    let current = mood(&["happy", "sad"]);
    let mut desired = mood(&["happy", "sad", "ok"]);
    let used = column("mood", "").of_type("mood").with_default("'ok'::public.mood");
    desired.table_mut("users").columns.insert("mood".into(), used);
    let plan = build(&diff(&current, &desired, &RenameHints::default()), &DescribingRenderer).expect("no cycle");
    assert_eq!(
        plan.steps.iter().map(|s| s.description.as_str()).collect::<Vec<_>>(),
        ["add value 'ok' to type public.mood", "add column public.users.mood"]
    );
    assert!(!plan.transactional, "PostgreSQL cannot use a value added in the same transaction");
    // Added and not used: the plan stays one transaction.
    let unused = mood(&["happy", "sad", "ok"]);
    let plan = build(&diff(&current, &unused, &RenameHints::default()), &DescribingRenderer).expect("no cycle");
    assert!(plan.transactional);
}

/// Renders index builds as statements that cannot run in a transaction block (as PostgreSQL's
/// `CONCURRENTLY`), everything else as [`DescribingRenderer`] does.
struct ConcurrentIndexRenderer;

impl SqlRenderer for ConcurrentIndexRenderer {
    fn render(&self, change: &Change) -> Result<Vec<Statement>, Unsupported> {
        Ok(vec![match change {
            Change::Index(crate::diff::IndexChange::Create(_)) => Statement::outside_transaction(change.describe()),
            _ => Statement::locking(change.describe()),
        }])
    }
}

#[test]
fn a_statement_that_cannot_run_in_a_transaction_block_makes_its_plan_run_statement_by_statement() {
    let current = empty().with_table(users());
    let by_email = index(
        "users_email_idx",
        "users",
        "CREATE INDEX users_email_idx ON public.users USING btree (email)",
        &["email"],
    );
    let desired = empty().with_table(users()).with_index(by_email);
    let changes = diff(&current, &desired, &RenameHints::default());
    let plan = build(&changes, &ConcurrentIndexRenderer).expect("no cycle");
    assert!(!plan.transactional, "the index build cannot run in a transaction block");
    assert_eq!(
        plan.why_no_transaction().as_deref(),
        Some("create index public.users_email_idx: its statement cannot run inside a transaction block")
    );
    // The same changes, each statement able to run in a block: one transaction.
    let plan = build(&changes, &DescribingRenderer).expect("no cycle");
    assert!(plan.transactional);
    assert_eq!(plan.why_no_transaction(), None);
}

/// States SHARE ROW EXCLUSIVE on both tables of a foreign key it adds, with a hazard that is that lock.
struct LockingRenderer;

const SHARE_ROW_EXCLUSIVE: LockMode = LockMode { strength: 6, name: "SHARE ROW EXCLUSIVE", blocks: Blocks::Writes };

impl SqlRenderer for LockingRenderer {
    fn render(&self, change: &Change) -> Result<Vec<Statement>, Unsupported> {
        let statement = Statement::locking(change.describe());
        Ok(vec![match change {
            Change::Constraint(crate::diff::ConstraintChange::Add { table, constraint }) => {
                let referenced = &constraint.references.as_ref().expect("a foreign key").table;
                statement.taking(SHARE_ROW_EXCLUSIVE, table).taking(SHARE_ROW_EXCLUSIVE, referenced)
            }
            _ => statement,
        }])
    }

    fn hazards(&self, change: &Change, _context: &crate::safety::Context) -> Vec<crate::safety::Hazard> {
        use crate::safety::{Hazard, HazardId, Severity};
        match change {
            Change::Constraint(crate::diff::ConstraintChange::Add { table, .. }) => {
                vec![Hazard::new(HazardId::AccessExclusiveScan, Severity::High, "scans", "help").holds_lock_on(table)]
            }
            _ => Vec::new(),
        }
    }
}

#[test]
fn a_hazard_names_the_locks_its_statements_state_and_a_step_lists_them() {
    let bare_posts = {
        let mut t = posts();
        t.constraints.clear();
        t.constraints.insert("posts_pkey".into(), primary_key("posts_pkey", &["id"]));
        t
    };
    let current = empty().with_table(users()).with_table(bare_posts);
    let desired = empty().with_table(users()).with_table(posts());
    let plan = build(&diff(&current, &desired, &RenameHints::default()), &LockingRenderer).expect("no cycle");
    let step = plan.steps.iter().find(|s| !s.hazards.is_empty()).expect("the foreign key's step");
    assert_eq!(step.hazards[0].lock.as_deref(), Some("SHARE ROW EXCLUSIVE on public.posts and public.users"));
    let json = serde_json::to_value(step).unwrap();
    assert_eq!(
        json["locks"],
        serde_json::json!([
            {"mode": "SHARE ROW EXCLUSIVE", "blocks": "writes", "table": {"schema": "public", "name": "posts"}},
            {"mode": "SHARE ROW EXCLUSIVE", "blocks": "writes", "table": {"schema": "public", "name": "users"}},
        ])
    );
    assert_eq!(json["hazards"][0]["lock"], "SHARE ROW EXCLUSIVE on public.posts and public.users");
}
