//! The diff's rules on in-memory catalogs ([`crate::model::build`]), one family at a time: what each
//! difference between two catalogs becomes, and in what order the change set lists it. The round trips
//! against real databases (tests/it) prove that the changes run; these prove which changes are chosen.

use super::*;
use crate::model::build::*;

/// `users` (identity key, unique email) and `posts` (serial key, foreign key to `users` with ON DELETE
/// CASCADE), with the serial's sequence and an index on the foreign key's column.
fn blog() -> Catalog {
    Catalog::default()
        .with_schema("public")
        .with_table(users())
        .with_table(posts())
        .with_sequence(sequence("posts_id_seq", "integer").owned_by("posts", "id"))
        .with_index(index("posts_user_id_idx", "posts", "btree (user_id)", &["user_id"]))
}

fn users() -> Table {
    table("users")
        .with_column(column("id", "bigint").not_null().identity(IdentityKind::Always))
        .with_column(column("email", "text").not_null())
        .with_column(column("name", "character varying(80)").with_default("'x'::character varying"))
        .with_constraint(primary_key("users_pkey", &["id"]))
        .with_constraint(unique("users_email_key", &["email"]))
}

fn posts() -> Table {
    table("posts")
        .with_column(column("id", "integer").not_null().with_nextval("posts_id_seq"))
        .with_column(column("user_id", "bigint").not_null())
        .with_column(column("title", "text"))
        .with_constraint(primary_key("posts_pkey", &["id"]))
        .with_constraint(foreign_key("posts_user_id_fkey", &["user_id"], "users", &["id"]).on_delete("CASCADE"))
}

/// `blog` without `posts` and what belongs to it.
fn users_only() -> Catalog {
    Catalog::default().with_schema("public").with_table(users())
}

fn changes(current: &Catalog, desired: &Catalog) -> Vec<Change> {
    diff(current, desired, &RenameHints::default()).changes
}

fn described(changes: &[Change]) -> Vec<String> {
    changes.iter().map(Change::describe).collect()
}

fn name(text: &str) -> QualifiedName {
    QualifiedName::parse(text)
}

#[test]
fn identical_catalogs_differ_in_nothing() {
    assert_eq!(changes(&blog(), &blog()), Vec::<Change>::new());
}

// Tables and columns.

#[test]
fn a_new_table_is_created_without_its_foreign_keys_which_are_added_after_it() {
    let changes = changes(&users_only(), &blog());
    assert_eq!(
        described(&changes),
        [
            "create table public.posts",
            "add constraint posts_user_id_fkey on public.posts",
            "create sequence public.posts_id_seq",
            "set owner of sequence public.posts_id_seq",
            "create index public.posts_user_id_idx",
        ]
    );
    let Change::Table(TableChange::Create(created)) = &changes[0] else { unreachable!() };
    assert_eq!(created.constraints.keys().collect::<Vec<_>>(), ["posts_pkey"]);
    assert_eq!(created.columns, posts().columns);
    // The sequence is created unowned: the column that owns it may not exist yet.
    assert!(matches!(&changes[2], Change::Sequence(SequenceChange::Create(s)) if s.owned_by.is_none()));
    assert!(matches!(
        &changes[3],
        Change::Sequence(SequenceChange::SetOwner { from: None, to: Some(owner), .. }) if *owner == column_ref("posts", "id")
    ));
}

#[test]
fn tables_dropped_together_drop_the_foreign_keys_between_them_first_and_take_their_indexes_and_sequences() {
    let changes = changes(&blog(), &Catalog::default().with_schema("public"));
    assert_eq!(
        described(&changes),
        ["drop table public.users", "drop constraint posts_user_id_fkey on public.posts", "drop table public.posts"]
    );
    let Change::Table(TableChange::Drop(dropped)) = &changes[2] else { unreachable!() };
    assert_eq!(dropped.constraints.keys().collect::<Vec<_>>(), ["posts_pkey"]);
}

#[test]
fn a_table_dropped_alone_keeps_its_foreign_key_to_a_table_that_stays() {
    let changes = changes(&blog(), &users_only());
    assert_eq!(described(&changes), ["drop table public.posts"]);
    let Change::Table(TableChange::Drop(dropped)) = &changes[0] else { unreachable!() };
    assert!(dropped.constraints.contains_key("posts_user_id_fkey"));
}

#[test]
fn each_changed_column_is_one_alter_naming_what_changes_and_columns_are_added_and_dropped() {
    let mut desired = blog();
    let users = desired.table_mut("users");
    users.column_mut("id").identity = Some(IdentityKind::ByDefault);
    users.column_mut("email").not_null = false;
    users.column_mut("name").data_type = "text".into();
    users.columns.insert("bio".into(), column("bio", "text"));
    let posts = desired.table_mut("posts");
    posts.columns.shift_remove("title");
    posts.column_mut("user_id").default = Some("0".into());
    let changes = changes(&blog(), &desired);
    assert_eq!(
        described(&changes),
        [
            "alter column public.users.id (identity)",
            "alter column public.users.email (drop not null)",
            "alter column public.users.name (type character varying(80) -> text)",
            "add column public.users.bio",
            "alter column public.posts.user_id (set default)",
            "drop column public.posts.title",
        ]
    );
    let Change::Column(ColumnChange::Alter { from, to, .. }) = &changes[2] else { unreachable!() };
    assert_eq!(
        (from, to),
        (&blog().tables[&name("users")].columns["name"], &desired.tables[&name("users")].columns["name"])
    );
    assert_eq!(to.conversion(), None);
}

#[test]
fn a_declared_conversion_rides_on_the_retyped_column_only() {
    let mut desired = blog();
    desired.table_mut("users").column_mut("name").data_type = "text".into();
    desired.table_mut("users").column_mut("email").data_type = "character varying(320)".into();
    let hints = RenameHints {
        conversions: vec![ColumnConversion {
            table: name("users"),
            column: "name".into(),
            using: Some("upper((name)::text)".into()),
            down_using: None,
        }],
        ..RenameHints::default()
    };
    let changes = diff(&blog(), &desired, &hints).changes;
    assert_eq!(
        described(&changes),
        [
            "alter column public.users.email (type text -> character varying(320))",
            "alter column public.users.name (type character varying(80) -> text using upper((name)::text))",
        ]
    );
}

// Constraints.

#[test]
fn a_changed_check_is_dropped_and_added_and_a_foreign_key_that_becomes_valid_is_validated_in_place() {
    let mut current = blog();
    current
        .table_mut("users")
        .constraints
        .insert("users_email_check".into(), check("users_email_check", "(length(email) > 3)", &["email"]));
    let fk = foreign_key("posts_user_id_fkey", &["user_id"], "users", &["id"]).on_delete("CASCADE");
    current.table_mut("posts").constraints.insert(fk.name.clone(), fk.not_valid());
    let mut desired = blog();
    desired
        .table_mut("users")
        .constraints
        .insert("users_email_check".into(), check("users_email_check", "(length(email) > 5)", &["email"]));
    let changes = changes(&current, &desired);
    assert_eq!(
        described(&changes),
        [
            "drop constraint users_email_check on public.users",
            "add constraint users_email_check on public.users",
            "validate constraint posts_user_id_fkey on public.posts",
        ]
    );
    assert!(
        matches!(&changes[1], Change::Constraint(ConstraintChange::Add { constraint, .. }) if &*constraint.definition == "CHECK ((length(email) > 5))")
    );
}

#[test]
fn a_key_that_a_foreign_key_references_is_replaced_with_that_foreign_key_dropped_before_and_added_after() {
    // PostgreSQL refuses to drop a key while a foreign key relies on it.
    let mut desired = blog();
    let key = primary_key("users_pkey", &["id"]);
    let deferrable = Constraint { definition: format!("{} DEFERRABLE", key.definition).into(), ..key };
    desired.table_mut("users").constraints.insert("users_pkey".into(), deferrable);
    assert_eq!(
        described(&changes(&blog(), &desired)),
        [
            "drop constraint users_pkey on public.users",
            "add constraint users_pkey on public.users",
            "drop constraint posts_user_id_fkey on public.posts",
            "add constraint posts_user_id_fkey on public.posts",
        ]
    );
}

#[test]
fn a_foreign_key_added_to_an_existing_table_is_listed_after_the_table_changes() {
    let mut current = blog();
    current.table_mut("posts").constraints.shift_remove("posts_user_id_fkey");
    let mut desired = blog();
    desired.table_mut("users").columns.insert("bio".into(), column("bio", "text"));
    assert_eq!(
        described(&changes(&current, &desired)),
        ["add column public.users.bio", "add constraint posts_user_id_fkey on public.posts"]
    );
}

// Indexes.

#[test]
fn an_index_whose_definition_changes_is_dropped_and_created_and_a_comment_alone_is_set_in_place() {
    let mut desired = blog()
        .with_index(index("posts_user_id_idx", "posts", "btree (user_id, id)", &["id", "user_id"]))
        .with_index(index("users_lower_email_idx", "users", "btree (lower(email))", &["email"]).unique());
    let mut current = blog().with_index(index("users_name_idx", "users", "btree (name)", &["name"]));
    current.indexes.insert(name("users_email_hash"), index("users_email_hash", "users", "hash (email)", &["email"]));
    desired.indexes.insert(
        name("users_email_hash"),
        Index { comment: Some("lookups".into()), ..index("users_email_hash", "users", "hash (email)", &["email"]) },
    );
    let changes = changes(&current, &desired);
    assert_eq!(
        described(&changes),
        [
            "drop index public.posts_user_id_idx",
            "drop index public.users_name_idx",
            "create index public.posts_user_id_idx",
            "create index public.users_lower_email_idx",
            "set comment on index public.users_email_hash",
        ]
    );
    assert!(matches!(&changes[2], Change::Index(IndexChange::Create(i)) if i.definition == "btree (user_id, id)"));
}

// Renames.

#[test]
fn a_declared_table_and_column_rename_renames_in_place_with_the_keys_named_after_the_table() {
    let people = table("people")
        .with_column(column("id", "bigint").not_null().identity(IdentityKind::Always))
        .with_column(column("email", "text").not_null())
        .with_column(column("full_name", "character varying(80)").with_default("'x'::character varying"))
        .with_constraint(primary_key("people_pkey", &["id"]))
        .with_constraint(unique("people_email_key", &["email"]));
    let mut desired = blog();
    desired.tables.shift_remove(&name("users"));
    desired = desired.with_table(people);
    let fk = foreign_key("posts_user_id_fkey", &["user_id"], "people", &["id"]).on_delete("CASCADE");
    desired.table_mut("posts").constraints.insert(fk.name.clone(), fk);
    let hints = RenameHints {
        tables: vec![(name("users"), name("people"))],
        columns: vec![(name("people"), "name".into(), "full_name".into())],
        conversions: Vec::new(),
    };
    // The foreign key to the renamed table reads the new name after the rename: it is not dropped.
    assert_eq!(
        described(&diff(&blog(), &desired, &hints).changes),
        [
            "rename table public.users to public.people",
            "rename column public.people.name to full_name",
            "rename constraint users_pkey on public.people to people_pkey",
            "rename constraint users_email_key on public.people to people_email_key",
        ]
    );
    // Undeclared, the same difference is a new table and a dropped one.
    let undeclared = described(&changes(&blog(), &desired));
    assert!(!undeclared.iter().any(|c| c.starts_with("rename")), "{undeclared:?}");
    assert!(undeclared.contains(&"create table public.people".to_string()), "{undeclared:?}");
    assert!(undeclared.contains(&"drop table public.users".to_string()), "{undeclared:?}");
}

// Views.

#[test]
fn views_that_read_a_retyped_column_are_recreated_around_it_and_so_are_the_views_that_read_them() {
    let with_views = |catalog: Catalog| {
        catalog
            .with_view(view("user_emails", "users", &["id", "email"]))
            .with_view(view("user_names", "users", &["id", "name"]))
            .with_view(view("name_list", "user_names", &["name"]))
    };
    let current = with_views(blog());
    let mut desired = with_views(blog());
    desired.table_mut("users").column_mut("name").data_type = "text".into();
    assert_eq!(
        described(&changes(&current, &desired)),
        [
            "alter column public.users.name (type character varying(80) -> text)",
            "drop view public.user_names",
            "drop view public.name_list",
            "create view public.user_names",
            "create view public.name_list",
        ]
    );
}

#[test]
fn a_view_whose_query_changes_is_recreated_alone() {
    let current = blog().with_view(view("user_emails", "users", &["id", "email"])).with_view(view(
        "user_names",
        "users",
        &["name"],
    ));
    let desired =
        blog().with_view(view("user_emails", "users", &["email"])).with_view(view("user_names", "users", &["name"]));
    assert_eq!(
        described(&changes(&current, &desired)),
        ["drop view public.user_emails", "create view public.user_emails"]
    );
}

// Enums.

fn with_mood(labels: &[&str]) -> Catalog {
    let mut catalog = blog().with_enum(enum_type("mood", labels));
    let mood = column("mood", "").of_type("mood").with_default("'happy'::public.mood");
    catalog.table_mut("users").columns.insert("mood".into(), mood);
    catalog
}

#[test]
fn values_added_to_an_enum_are_added_in_place_each_placed_next_to_a_value_that_exists_by_then() {
    let changes = changes(&with_mood(&["happy", "sad"]), &with_mood(&["meh", "happy", "sad", "ok", "great"]));
    let added: Vec<(&str, &EnumValuePosition)> = changes
        .iter()
        .map(|c| match c {
            Change::Enum(EnumChange::AddValue { name: n, value, position }) if *n == name("mood") => {
                (value.as_str(), position)
            }
            other => panic!("unexpected {}", other.describe()),
        })
        .collect();
    assert_eq!(
        added,
        [
            ("meh", &EnumValuePosition::Before("happy".into())),
            ("ok", &EnumValuePosition::After("sad".into())),
            ("great", &EnumValuePosition::After("ok".into())),
        ]
    );
}

#[test]
fn a_value_removed_from_an_enum_rebuilds_the_type_converting_the_columns_that_use_it() {
    let rebuilt = changes(&with_mood(&["happy", "sad"]), &with_mood(&["happy"]));
    assert_eq!(described(&rebuilt), ["rebuild type public.mood (values removed or reordered)"]);
    let Change::Enum(EnumChange::Rebuild { columns, .. }) = &rebuilt[0] else { unreachable!() };
    assert_eq!(
        columns,
        &[EnumColumnUse {
            column: column_ref("users", "mood"),
            data_type: "public.mood".into(),
            had_default: true,
            default: Some("'happy'::public.mood".into()),
        }]
    );
    // Reordered labels cannot be reached by ALTER TYPE either.
    let reordered = changes(&with_mood(&["happy", "sad"]), &with_mood(&["sad", "happy"]));
    assert!(matches!(reordered.as_slice(), [Change::Enum(EnumChange::Rebuild { .. })]), "{:?}", described(&reordered));
}

// Sequences.

#[test]
fn a_sequence_owned_by_a_dropped_column_goes_with_it_and_one_whose_options_change_is_altered() {
    let with_counter = |catalog: Catalog| {
        let mut catalog = catalog.with_sequence(sequence("posts_rank_seq", "bigint").owned_by("posts", "rank"));
        let rank = column("rank", "bigint").not_null().with_nextval("posts_rank_seq");
        catalog.table_mut("posts").columns.insert("rank".into(), rank);
        catalog
    };
    let mut desired = blog();
    desired.sequences[&name("posts_id_seq")].increment = 10;
    assert_eq!(
        described(&changes(&with_counter(blog()), &desired)),
        ["drop column public.posts.rank", "alter sequence public.posts_id_seq"]
    );
    // An owned sequence that is no longer owned is disowned, not dropped.
    let mut disowned = blog();
    disowned.sequences[&name("posts_id_seq")].owned_by = None;
    let changes = changes(&blog(), &disowned);
    assert!(matches!(changes.as_slice(), [Change::Sequence(SequenceChange::SetOwner { from: Some(_), to: None, .. })]));
}

// Functions and triggers.

fn with_touch(catalog: Catalog, body: &str) -> Catalog {
    let mut trigger = trigger("posts_title_touch", "posts", "BEFORE UPDATE OF title", "touch");
    trigger.depends_on.push(ObjectRef::Column(column_ref("posts", "title")));
    catalog.with_function(function("touch", "trigger", body)).with_trigger(trigger)
}

#[test]
fn a_function_whose_body_changes_is_replaced_and_its_trigger_stays() {
    let current = with_touch(blog(), "BEGIN RETURN NEW; END");
    let desired = with_touch(blog(), "BEGIN NEW.title := upper(NEW.title); RETURN NEW; END");
    assert_eq!(described(&changes(&current, &desired)), ["replace function public.touch()"]);
}

#[test]
fn a_trigger_that_names_a_retyped_column_is_dropped_and_created_around_the_change() {
    // PostgreSQL refuses to change the type of a column a trigger's UPDATE OF names.
    let current = with_touch(blog(), "BEGIN RETURN NEW; END");
    let mut desired = current.clone();
    desired.table_mut("posts").column_mut("title").data_type = "character varying(200)".into();
    assert_eq!(
        described(&changes(&current, &desired)),
        [
            "alter column public.posts.title (type text -> character varying(200))",
            "drop trigger posts_title_touch on public.posts",
            "create trigger posts_title_touch on public.posts",
        ]
    );
}

#[test]
fn a_function_whose_result_type_changes_is_dropped_and_created_with_the_view_that_calls_it() {
    let with_slug = |returns: &str| {
        let mut reader = view("user_slugs", "users", &["name"]);
        reader.definition = "SELECT public.slug(users.name) AS slug\n   FROM public.users".into();
        reader.depends_on.push(ObjectRef::Function(FunctionId { name: name("slug"), arguments: String::new() }));
        blog().with_function(function("slug", returns, "BEGIN RETURN 'x'; END")).with_view(reader)
    };
    assert_eq!(
        described(&changes(&with_slug("text"), &with_slug("character varying"))),
        [
            "drop function public.slug()",
            "create function public.slug()",
            "drop view public.user_slugs",
            "create view public.user_slugs"
        ]
    );
}

// Grants.

#[test]
fn privileges_are_granted_and_revoked_and_granted_again_on_a_recreated_view() {
    let with_view = |catalog: Catalog| {
        catalog.with_view(view("user_names", "users", &["id", "name"])).with_grant(table_grant(
            "user_names",
            "reader",
            "SELECT",
        ))
    };
    let current = with_view(blog()).with_grant(table_grant("posts", "reader", "DELETE"));
    let mut desired = with_view(blog()).with_grant(table_grant("users", "reader", "SELECT"));
    desired.table_mut("users").column_mut("name").data_type = "text".into();
    assert_eq!(
        described(&changes(&current, &desired)),
        [
            "alter column public.users.name (type character varying(80) -> text)",
            "drop view public.user_names",
            "create view public.user_names",
            "revoke DELETE on table public.posts from reader",
            "grant SELECT on table public.user_names to reader",
            "grant SELECT on table public.users to reader",
        ]
    );
}

// The shape of `Change`.

/// A kind with its own change enum serializes as the variants of `Change` it replaced did
/// (`{"CreatePolicy": {…}}`): one externally tagged object named after the change, not nested.
#[test]
fn kind_changes_serialize_as_the_flat_variants_they_replaced() {
    let policy = Policy {
        name: "own_rows".into(),
        table: QualifiedName::parse("public.users"),
        permissive: true,
        command: "SELECT".into(),
        roles: vec!["PUBLIC".into()],
        using: Some("(id = 1)".into()),
        with_check: None,
        comment: None,
        depends_on: Vec::new(),
    };
    let switches = RowSecurity { enabled: true, forced: false };
    let audit = trigger("audit", "users", "AFTER INSERT", "log_insert");
    let collation = Collation {
        name: QualifiedName::parse("public.german"),
        provider: "icu".into(),
        deterministic: true,
        lc_collate: None,
        lc_ctype: None,
        locale: Some("de-DE".into()),
    };
    let billing = Namespace { name: "billing".into(), comment: None };
    let citext = Extension {
        name: "citext".into(),
        schema: "public".into(),
        version: Some("1.6".into()),
        update_targets: Vec::new(),
        comment: None,
        relocatable: true,
        types: vec!["citext".into()],
    };
    let span = RangeType {
        name: QualifiedName::parse("public.span"),
        subtype: "integer".into(),
        subtype_opclass: None,
        collation: None,
        subtype_diff: None,
        comment: None,
        depends_on: Vec::new(),
    };
    let pair =
        CompositeType { name: QualifiedName::parse("public.pair"), attributes: Default::default(), comment: None };
    let email = Domain {
        name: QualifiedName::parse("public.email"),
        data_type: "text".into(),
        default: None,
        not_null: true,
        collation: None,
        constraints: Default::default(),
        comment: None,
        depends_on: Vec::new(),
    };
    let mood = enum_type("mood", &["happy", "sad"]);
    let counter = sequence("counter", "bigint");
    let owner = Some(column_ref("users", "id"));
    let names = view("user_names", "users", &["id", "name"]);
    let touch = function("touch", "trigger", "BEGIN RETURN NEW; END");
    let select = table_grant("users", "reader", "SELECT");
    let defaults = DefaultPrivilegeKey {
        role: "app".into(),
        schema: None,
        on: DefaultObjectKind::Tables,
        grantee: "reader".into(),
        privilege: "SELECT".into(),
    };
    let owned = OwnedObject::Table(name("users"));
    let note = CommentTarget::Table(name("users"));
    let people = users();
    let bio = column("bio", "text");
    let key = primary_key("users_pkey", &["id"]);
    let by_name =
        index("users_name_idx", "users", "CREATE INDEX users_name_idx ON public.users USING btree (name)", &["name"]);
    let cases = [
        (
            Change::Comment(CommentChange::Set { target: note.clone(), comment: Some("who signs in".into()) }),
            "SetComment",
            Ok(serde_json::json!({ "target": { "Table": name("users") }, "comment": "who signs in" })),
        ),
        (Change::Privilege(PrivilegeChange::Grant(select.clone())), "GrantPrivilege", serde_json::to_value(&select)),
        (Change::Privilege(PrivilegeChange::Revoke(select.clone())), "RevokePrivilege", serde_json::to_value(&select)),
        (
            Change::Privilege(PrivilegeChange::GrantDefault { key: defaults.clone(), with_grant_option: false }),
            "GrantDefaultPrivilege",
            Ok(serde_json::json!({ "key": defaults, "with_grant_option": false })),
        ),
        (
            Change::Privilege(PrivilegeChange::RevokeDefault { key: defaults.clone(), grant_option_only: true }),
            "RevokeDefaultPrivilege",
            Ok(serde_json::json!({ "key": defaults, "grant_option_only": true })),
        ),
        (
            Change::Privilege(PrivilegeChange::SetOwner { object: owned.clone(), from: None, to: "app".into() }),
            "SetOwner",
            Ok(serde_json::json!({ "object": owned, "from": null, "to": "app" })),
        ),
        (Change::Function(FunctionChange::Create(touch.clone())), "CreateFunction", serde_json::to_value(&touch)),
        (Change::Function(FunctionChange::Drop(touch.clone())), "DropFunction", serde_json::to_value(&touch)),
        (
            Change::Function(FunctionChange::Replace { from: touch.clone(), to: touch.clone() }),
            "ReplaceFunction",
            Ok(serde_json::json!({ "from": touch, "to": touch })),
        ),
        (Change::View(ViewChange::Create(names.clone())), "CreateView", serde_json::to_value(&names)),
        (Change::View(ViewChange::Drop(names.clone())), "DropView", serde_json::to_value(&names)),
        (Change::Sequence(SequenceChange::Create(counter.clone())), "CreateSequence", serde_json::to_value(&counter)),
        (Change::Sequence(SequenceChange::Drop(counter.clone())), "DropSequence", serde_json::to_value(&counter)),
        (
            Change::Sequence(SequenceChange::Alter { from: counter.clone(), to: counter.clone() }),
            "AlterSequence",
            Ok(serde_json::json!({ "from": counter, "to": counter })),
        ),
        (
            Change::Sequence(SequenceChange::SetOwner {
                sequence: counter.name.clone(),
                from: None,
                to: owner.clone(),
            }),
            "SetSequenceOwner",
            Ok(serde_json::json!({ "sequence": counter.name, "from": null, "to": owner })),
        ),
        (
            Change::Sequence(SequenceChange::Rename { from: counter.name.clone(), to: name("tally") }),
            "RenameSequence",
            Ok(serde_json::json!({ "from": counter.name, "to": name("tally") })),
        ),
        (Change::Enum(EnumChange::Create(mood.clone())), "CreateEnum", serde_json::to_value(&mood)),
        (Change::Enum(EnumChange::Drop(mood.clone())), "DropEnum", serde_json::to_value(&mood)),
        (
            Change::Enum(EnumChange::AddValue {
                name: mood.name.clone(),
                value: "calm".into(),
                position: EnumValuePosition::After("happy".into()),
            }),
            "AddEnumValue",
            Ok(serde_json::json!({ "name": mood.name, "value": "calm", "position": { "After": "happy" } })),
        ),
        (
            Change::Enum(EnumChange::Rebuild { from: mood.clone(), to: mood.clone(), columns: Vec::new() }),
            "RebuildEnum",
            Ok(serde_json::json!({ "from": mood, "to": mood, "columns": [] })),
        ),
        (Change::Domain(DomainChange::Create(email.clone())), "CreateDomain", serde_json::to_value(&email)),
        (Change::Domain(DomainChange::Drop(email.clone())), "DropDomain", serde_json::to_value(&email)),
        (
            Change::Domain(DomainChange::Alter { from: email.clone(), to: email.clone(), used_by: Vec::new() }),
            "AlterDomain",
            Ok(serde_json::json!({ "from": email, "to": email })),
        ),
        (Change::RangeType(RangeTypeChange::Create(span.clone())), "CreateRangeType", serde_json::to_value(&span)),
        (Change::RangeType(RangeTypeChange::Drop(span.clone())), "DropRangeType", serde_json::to_value(&span)),
        (
            Change::CompositeType(CompositeTypeChange::Create(pair.clone())),
            "CreateCompositeType",
            serde_json::to_value(&pair),
        ),
        (
            Change::CompositeType(CompositeTypeChange::Drop(pair.clone())),
            "DropCompositeType",
            serde_json::to_value(&pair),
        ),
        (
            Change::CompositeType(CompositeTypeChange::Alter { from: pair.clone(), to: pair.clone() }),
            "AlterCompositeType",
            Ok(serde_json::json!({ "from": pair, "to": pair })),
        ),
        (Change::Extension(ExtensionChange::Create(citext.clone())), "CreateExtension", serde_json::to_value(&citext)),
        (Change::Extension(ExtensionChange::Drop(citext.clone())), "DropExtension", serde_json::to_value(&citext)),
        (
            Change::Extension(ExtensionChange::SetSchema {
                name: "citext".into(),
                from: "public".into(),
                to: "extensions".into(),
            }),
            "SetExtensionSchema",
            Ok(serde_json::json!({ "name": "citext", "from": "public", "to": "extensions" })),
        ),
        (
            Change::Extension(ExtensionChange::AlterVersion {
                name: "citext".into(),
                from: Some("1.6".into()),
                to: "1.5".into(),
                reachable: false,
            }),
            "AlterExtensionVersion",
            Ok(serde_json::json!({ "name": "citext", "from": "1.6", "to": "1.5", "reachable": false })),
        ),
        (Change::Schema(SchemaChange::Create(billing.clone())), "CreateSchema", serde_json::to_value(&billing)),
        (Change::Schema(SchemaChange::Drop(billing.clone())), "DropSchema", serde_json::to_value(&billing)),
        (
            Change::Collation(CollationChange::Create(collation.clone())),
            "CreateCollation",
            serde_json::to_value(&collation),
        ),
        (
            Change::Collation(CollationChange::Drop(collation.clone())),
            "DropCollation",
            serde_json::to_value(&collation),
        ),
        (Change::Trigger(TriggerChange::Create(audit.clone())), "CreateTrigger", serde_json::to_value(&audit)),
        (Change::Trigger(TriggerChange::Drop(audit.clone())), "DropTrigger", serde_json::to_value(&audit)),
        (Change::Policy(PolicyChange::Create(policy.clone())), "CreatePolicy", serde_json::to_value(&policy)),
        (Change::Policy(PolicyChange::Drop(policy.clone())), "DropPolicy", serde_json::to_value(&policy)),
        (
            Change::Policy(PolicyChange::Alter { from: policy.clone(), to: policy.clone() }),
            "AlterPolicy",
            Ok(serde_json::json!({ "from": policy, "to": policy })),
        ),
        (
            Change::Policy(PolicyChange::SetRowSecurity {
                table: policy.table.clone(),
                from: RowSecurity::default(),
                to: switches,
            }),
            "SetRowSecurity",
            Ok(serde_json::json!({ "table": policy.table, "from": RowSecurity::default(), "to": switches })),
        ),
        (Change::Table(TableChange::Create(people.clone())), "CreateTable", serde_json::to_value(&people)),
        (Change::Table(TableChange::Drop(people.clone())), "DropTable", serde_json::to_value(&people)),
        (
            Change::Table(TableChange::Rename { from: name("users"), to: name("people") }),
            "RenameTable",
            Ok(serde_json::json!({ "from": name("users"), "to": name("people") })),
        ),
        (
            Change::Table(TableChange::Rebuild { from: people.clone(), to: people.clone() }),
            "RebuildTable",
            Ok(serde_json::json!({ "from": people, "to": people })),
        ),
        (
            Change::Table(TableChange::SetAside { from: name("users"), to: name("schema_old_users") }),
            "SetAside",
            Ok(serde_json::json!({ "from": name("users"), "to": name("schema_old_users") })),
        ),
        (
            Change::Table(TableChange::SetUnlogged { table: name("users"), unlogged: true }),
            "SetUnlogged",
            Ok(serde_json::json!({ "table": name("users"), "unlogged": true })),
        ),
        (
            Change::Column(ColumnChange::Add { table: name("users"), column: bio.clone() }),
            "AddColumn",
            Ok(serde_json::json!({ "table": name("users"), "column": bio })),
        ),
        (
            Change::Column(ColumnChange::Drop { table: name("users"), column: bio.clone() }),
            "DropColumn",
            Ok(serde_json::json!({ "table": name("users"), "column": bio })),
        ),
        (
            Change::Column(ColumnChange::Rename { table: name("users"), from: "bio".into(), to: "about".into() }),
            "RenameColumn",
            Ok(serde_json::json!({ "table": name("users"), "from": "bio", "to": "about" })),
        ),
        (
            Change::Column(ColumnChange::Alter { table: name("users"), from: bio.clone(), to: bio.clone() }),
            "AlterColumn",
            Ok(serde_json::json!({ "table": name("users"), "from": bio, "to": bio })),
        ),
        (
            Change::Column(ColumnChange::DropKeptByChildren { table: name("users"), column: bio.clone() }),
            "DropColumnKeptByChildren",
            Ok(serde_json::json!({ "table": name("users"), "column": bio })),
        ),
        (
            Change::Constraint(ConstraintChange::Add { table: name("users"), constraint: key.clone() }),
            "AddConstraint",
            Ok(serde_json::json!({ "table": name("users"), "constraint": key })),
        ),
        (
            Change::Constraint(ConstraintChange::Drop { table: name("users"), constraint: key.clone() }),
            "DropConstraint",
            Ok(serde_json::json!({ "table": name("users"), "constraint": key })),
        ),
        (
            Change::Constraint(ConstraintChange::Validate { table: name("users"), constraint: key.clone() }),
            "ValidateConstraint",
            Ok(serde_json::json!({ "table": name("users"), "constraint": key })),
        ),
        (
            Change::Constraint(ConstraintChange::Rename {
                table: name("users"),
                from: "users_pkey".into(),
                to: "people_pkey".into(),
            }),
            "RenameConstraint",
            Ok(serde_json::json!({ "table": name("users"), "from": "users_pkey", "to": "people_pkey" })),
        ),
        (Change::Index(IndexChange::Create(by_name.clone())), "CreateIndex", serde_json::to_value(&by_name)),
        (Change::Index(IndexChange::Drop(by_name.clone())), "DropIndex", serde_json::to_value(&by_name)),
        (
            Change::Index(IndexChange::Rename {
                table: name("users"),
                from: by_name.name.clone(),
                to: name("by_name"),
            }),
            "RenameIndex",
            Ok(serde_json::json!({ "table": name("users"), "from": by_name.name, "to": name("by_name") })),
        ),
        (
            Change::Partition(PartitionChange::Attach {
                table: name("events_2026"),
                parent: name("events"),
                bound: "FOR VALUES IN (2026)".into(),
                checks: Vec::new(),
            }),
            "AttachPartition",
            Ok(serde_json::json!({
                "table": name("events_2026"),
                "parent": name("events"),
                "bound": "FOR VALUES IN (2026)",
                "checks": [],
            })),
        ),
        (
            Change::Partition(PartitionChange::Detach {
                table: name("events_2026"),
                parent: name("events"),
                bound: "FOR VALUES IN (2026)".into(),
            }),
            "DetachPartition",
            Ok(
                serde_json::json!({ "table": name("events_2026"), "parent": name("events"), "bound": "FOR VALUES IN (2026)" }),
            ),
        ),
        (
            Change::Inheritance(InheritanceChange::Inherit {
                table: name("admins"),
                parent: name("users"),
                checks: Vec::new(),
            }),
            "Inherit",
            Ok(serde_json::json!({ "table": name("admins"), "parent": name("users"), "checks": [] })),
        ),
        (
            Change::Inheritance(InheritanceChange::NoInherit {
                table: name("admins"),
                parent: name("users"),
                checks: vec!["adult".into()],
            }),
            "NoInherit",
            Ok(serde_json::json!({ "table": name("admins"), "parent": name("users"), "checks": ["adult"] })),
        ),
    ];
    for (change, variant, fields) in cases {
        let expected = serde_json::json!({ variant: fields.expect("fields serialize") });
        assert_eq!(serde_json::to_value(&change).expect("a change serializes"), expected, "{variant}");
    }
}
