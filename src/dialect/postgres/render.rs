//! PostgreSQL SQL for each [`Change`]. Every identifier goes through [`ident`]; text that comes from the
//! catalog (types, defaults, definitions) is PostgreSQL's own deparsed SQL and is used as it is.

use crate::diff::{Change, ChangeSet, CommentTarget, EnumValuePosition};
use crate::model::*;
use crate::plan::{SqlRenderer, Unsupported};

/// A quoted identifier: always quoted, embedded quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A schema-qualified, quoted name.
pub fn qualified(name: &QualifiedName) -> String {
    format!("{}.{}", ident(&name.schema), ident(&name.name))
}

/// A string literal (standard_conforming_strings is on in every supported version).
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub struct PostgresRenderer;

impl SqlRenderer for PostgresRenderer {
    fn render(&self, change: &Change) -> Result<Vec<String>, Unsupported> {
        render(change)
    }

    fn enum_value_usable_before_commit(&self) -> bool {
        false
    }

    /// A new object gets privileges it was never granted: a function is executable by PUBLIC, and the
    /// default privileges (`ALTER DEFAULT PRIVILEGES`) add theirs. Where the declared schema does not have
    /// them, a revoke follows the creation. Default privileges of any role are considered: a revoke of a
    /// privilege the object did not get changes nothing.
    /// The other way round, default privileges that take a built-in privilege away (`REVOKE EXECUTE ON
    /// FUNCTIONS FROM PUBLIC`) keep it from a new object that the declared schema gives it by default (a
    /// function created before those default privileges, as `schema inspect` reads one): it is granted after
    /// the creation (granting a privilege the object got changes nothing).
    fn adapt(&self, mut changes: ChangeSet, current: &Catalog, desired: &Catalog) -> ChangeSet {
        move_taken_names_aside(&mut changes, current, desired);
        moved_extension_types(&mut changes, current);
        partitions_attached_with_their_keys(&mut changes, current, desired);
        partition_keys_dropped_with_their_index(&mut changes, desired);
        let mut revokes = Vec::new();
        let mut grants = Vec::new();
        for change in &changes.changes {
            let (target, on, schema) = match change {
                Change::CreateFunction(f) => (
                    PrivilegeTarget::Function(f.id.clone(), f.kind),
                    DefaultObjectKind::Functions,
                    Some(f.id.name.schema.as_str()),
                ),
                Change::CreateTable(t) => {
                    (PrivilegeTarget::Table(t.name.clone()), DefaultObjectKind::Tables, Some(t.name.schema.as_str()))
                }
                Change::CreateView(v) => {
                    (PrivilegeTarget::Table(v.name.clone()), DefaultObjectKind::Tables, Some(v.name.schema.as_str()))
                }
                Change::CreateSequence(q) => (
                    PrivilegeTarget::Sequence(q.name.clone()),
                    DefaultObjectKind::Sequences,
                    Some(q.name.schema.as_str()),
                ),
                Change::CreateSchema(s) => (PrivilegeTarget::Schema(s.name.clone()), DefaultObjectKind::Schemas, None),
                _ => continue,
            };
            let mut given: Vec<(&str, &str)> = Vec::new();
            if on == DefaultObjectKind::Functions {
                given.push(("PUBLIC", "EXECUTE"));
            }
            for (key, default) in &desired.default_privileges {
                let applies = key.on == on && (key.schema.is_none() || key.schema.as_deref() == schema);
                if applies && matches!(default.state, DefaultPrivilegeState::Granted { .. }) {
                    given.push((&key.grantee, &key.privilege));
                }
            }
            for (grantee, privilege) in given {
                let key =
                    GrantKey { target: target.clone(), grantee: grantee.to_string(), privilege: privilege.to_string() };
                let revoke = Change::RevokePrivilege(Grant { key: key.clone(), grantable: false, implicit: true });
                if !desired.grants.contains_key(&key) && !revokes.contains(&revoke) {
                    revokes.push(revoke);
                }
            }
            for (key, default) in &desired.default_privileges {
                let applies = key.on == on && (key.schema.is_none() || key.schema.as_deref() == schema);
                if !applies || default.state != DefaultPrivilegeState::Revoked {
                    continue;
                }
                let wanted =
                    GrantKey { target: target.clone(), grantee: key.grantee.clone(), privilege: key.privilege.clone() };
                if let Some(grant) = desired.grants.get(&wanted).filter(|g| g.implicit) {
                    let grant = Change::GrantPrivilege(grant.clone());
                    if !grants.contains(&grant) {
                        grants.push(grant);
                    }
                }
            }
        }
        changes.changes.extend(revokes);
        changes.changes.extend(grants);
        changes
    }

    fn hazards(&self, change: &Change, context: &crate::safety::Context) -> Vec<crate::safety::Hazard> {
        super::hazards::hazards(change, context)
    }
}

impl crate::rewrite::LiveRenderer for PostgresRenderer {
    fn online(&self, change: &Change, context: &crate::safety::Context) -> Option<crate::rewrite::Online> {
        super::online::online(change, context)
    }

    fn expand_contract(
        &self,
        change: &Change,
        context: &crate::safety::Context,
        options: &crate::rewrite::Options,
    ) -> Option<crate::rewrite::Phased> {
        super::online::expand_contract(change, context, options)
    }

    fn timeouts(
        &self,
        lock: Option<std::time::Duration>,
        statement: Option<std::time::Duration>,
        in_transaction: bool,
    ) -> Vec<String> {
        super::online::timeouts(lock, statement, in_transaction)
    }

    fn is_long_running(&self, sql: &str) -> bool {
        super::online::is_long_running(sql)
    }
}

/// Names that move: a table (or materialized view) the plan drops holds the names of its indexes and
/// of its constraints' indexes until it is dropped, and its drop may have to wait for the object that
/// takes one of them (a sequence moving over to a new table that reuses the old primary key's name). Such
/// a name is moved aside first, on the old table (`RENAME CONSTRAINT`, `ALTER INDEX … RENAME`), which
/// needs nothing and which the drop takes along.
fn move_taken_names_aside(changes: &mut ChangeSet, current: &Catalog, desired: &Catalog) {
    let dropped: indexmap::IndexSet<&QualifiedName> = changes
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::DropTable(t) => Some(&t.name),
            Change::DropView(v) if v.materialized => Some(&v.name),
            _ => None,
        })
        // A materialized view dropped to be created again gets its indexes back after it.
        .filter(|name| !desired.tables.contains_key(*name) && !desired.views.contains_key(*name))
        .collect();
    if dropped.is_empty() {
        return;
    }
    let taken = relation_names(desired);
    let aside = |name: &str| crate::model::helper_name("schema_old_", name);
    // Names dropped on their own (before a partition leaves the table) are free by then.
    let dropped_on_their_own = |table: &QualifiedName, name: &str| {
        changes.changes.iter().any(|c| match c {
            Change::DropConstraint { table: t, constraint } => t == table && constraint.name == name,
            Change::DropIndex(i) => i.table == *table && i.name.name == name,
            _ => false,
        })
    };
    let mut moves = Vec::new();
    for change in &changes.changes {
        let Change::DropTable(table) = change else { continue };
        if !dropped.contains(&table.name) {
            continue;
        }
        for c in table.constraints.values() {
            let has_index =
                matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion);
            if has_index
                && taken.contains(&(table.name.schema.as_str(), c.name.as_str()))
                && !dropped_on_their_own(&table.name, &c.name)
            {
                moves.push(Change::RenameConstraint {
                    table: table.name.clone(),
                    from: c.name.to_string(),
                    to: aside(&c.name),
                });
            }
        }
    }
    for index in current.indexes.values() {
        if dropped.contains(&index.table)
            && taken.contains(&(index.name.schema.as_str(), index.name.name.as_str()))
            && !dropped_on_their_own(&index.table, &index.name.name)
        {
            let to = QualifiedName::new(index.name.schema.clone(), aside(&index.name.name));
            moves.push(Change::RenameIndex { table: index.table.clone(), from: index.name.clone(), to });
        }
    }
    changes.changes.extend(moves);
}

/// A new partition of an existing table whose own primary key or unique constraint is, in the declared
/// schema, the index attached to an index of the parent: `CREATE TABLE … PARTITION OF` would create the
/// parent's indexes on it before its own constraints (two indexes, the parent's under a name PostgreSQL
/// picks). Created as a table of its own, with its constraints and the parent's inherited checks (which
/// `ATTACH PARTITION` requires and then marks inherited), and then attached, it has its keys when
/// PostgreSQL looks for the indexes the parent needs, and they are attached.
fn partitions_attached_with_their_keys(changes: &mut ChangeSet, current: &Catalog, desired: &Catalog) {
    let mut attaches = Vec::new();
    for change in &mut changes.changes {
        let Change::CreateTable(t) = change else { continue };
        let Some(p) = t.partition_of.clone() else { continue };
        let keys_taken = desired
            .indexes
            .values()
            .any(|i| i.table == p.parent && i.partitions.iter().any(|e| e.table == t.name && e.constraint));
        // Identity and generated columns of a partition come from its parent.
        let plain_columns = t.columns.values().all(|c| c.identity.is_none() && c.generated().is_none());
        let (Some(parent), true, true) = (desired.tables.get(&p.parent), keys_taken, plain_columns) else { continue };
        if !current.tables.contains_key(&p.parent) {
            continue;
        }
        for check in parent.constraints.values() {
            let inherited = check.kind == ConstraintKind::Check && !check.definition.contains(" NO INHERIT");
            if inherited && !t.constraints.contains_key(&check.name) {
                t.constraints.insert(check.name.clone(), check.clone());
            }
        }
        t.partition_of = None;
        attaches.push(Change::AttachPartition {
            table: t.name.clone(),
            parent: p.parent,
            bound: p.bound,
            checks: Vec::new(),
        });
    }
    changes.changes.extend(attaches);
}

/// A partition's primary key or unique constraint whose index is attached to an index of the partitioned
/// table (not to a constraint of it) can be dropped neither before that index ("cannot drop index … because
/// index … requires it") nor after it ("constraint … depends on index …"). The index is dropped with
/// `CASCADE`, which takes exactly those constraints along (and what needs them, which the plan drops first):
/// their own drops leave the plan, and a constraint that the partition keeps is added again after it.
fn partition_keys_dropped_with_their_index(changes: &mut ChangeSet, desired: &Catalog) {
    let taken_along: indexmap::IndexSet<(QualifiedName, Name)> = changes
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::DropIndex(i) => Some(i),
            _ => None,
        })
        .flat_map(|i| i.partitions.iter().filter(|p| p.constraint).map(|p| (p.table.clone(), p.name.name.clone())))
        .collect();
    if taken_along.is_empty() {
        return;
    }
    let mut added = indexmap::IndexSet::new();
    changes.changes.retain(|c| match c {
        Change::DropConstraint { table, constraint } => {
            !taken_along.contains(&(table.clone(), constraint.name.clone()))
        }
        Change::AddConstraint { table, constraint } => {
            added.insert((table.clone(), constraint.name.clone()));
            true
        }
        _ => true,
    });
    for (table, name) in &taken_along {
        let kept = desired.tables.get(table).and_then(|t| t.constraints.get(name));
        if let (Some(constraint), false) = (kept, added.contains(&(table.clone(), name.clone()))) {
            changes.changes.push(Change::AddConstraint { table: table.clone(), constraint: constraint.clone() });
        }
    }
}

/// Every (schema, name) taken in a catalog's namespace of relations: tables, views, sequences, indexes,
/// the indexes of primary key, unique and exclusion constraints, composite types.
fn relation_names(catalog: &Catalog) -> indexmap::IndexSet<(&str, &str)> {
    fn pair(n: &QualifiedName) -> (&str, &str) {
        (n.schema.as_str(), n.name.as_str())
    }
    let mut names: indexmap::IndexSet<(&str, &str)> = catalog
        .tables
        .keys()
        .chain(catalog.views.keys())
        .chain(catalog.sequences.keys())
        .chain(catalog.indexes.keys())
        .chain(catalog.composite_types.keys())
        .map(pair)
        .collect();
    for table in catalog.tables.values() {
        for c in table.constraints.values() {
            if matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion) {
                names.insert((table.name.schema.as_str(), c.name.as_str()));
            }
        }
    }
    names
}

/// A column of a type that belongs to an extension moved to another schema reads `ext.citext` instead of
/// `public.citext` on the other side, but `ALTER EXTENSION … SET SCHEMA` moves the type itself: the
/// column's type does not change. Such a change is taken out of the column's alterations (and the
/// alteration dropped when nothing else changes), instead of an `ALTER … TYPE` that would rewrite the
/// table and be reported as narrowing its type.
fn moved_extension_types(changes: &mut ChangeSet, current: &Catalog) {
    let moves: Vec<(&Extension, String)> = changes
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::SetExtensionSchema { name, to, .. } => Some((current.extensions.get(name)?, to.clone())),
            _ => None,
        })
        .collect();
    if moves.is_empty() {
        return;
    }
    // `schema.type` as format_type writes it: the schema quoted when it must be, so both forms are tried.
    let member = |data_type: &str, schema: &str, types: &[String]| -> Option<String> {
        let bare = data_type.trim_end_matches("[]");
        let name = [format!("{schema}."), format!("{}.", ident(schema))]
            .iter()
            .find_map(|prefix| bare.strip_prefix(prefix.as_str()))?
            .trim_matches('"')
            .to_string();
        types.contains(&name).then(|| format!("{name}{}", &data_type[bare.len()..]))
    };
    let same_type = |from: &Column, to: &Column| {
        moves.iter().any(|(extension, target)| {
            let before = member(&from.data_type, &extension.schema, &extension.types);
            before.is_some() && before == member(&to.data_type, target, &extension.types)
        })
    };
    changes.changes.retain_mut(|change| match change {
        Change::AlterColumn { from, to, .. } if from.data_type != to.data_type && same_type(from, to) => {
            to.data_type = from.data_type.clone();
            to.set_conversion(None::<&str>);
            !crate::diff::column_change_summary(from, to).is_empty()
        }
        _ => true,
    });
}

pub(crate) fn column_definition(column: &Column) -> String {
    let mut sql = format!("{} {}", ident(&column.name), column.data_type);
    if let Some(collation) = column.collation() {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(expr) = column.generated() {
        sql.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
    }
    if let Some(default) = &column.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if let Some(identity) = column.identity {
        sql.push_str(&format!(" {}", identity_clause(identity, column.identity_options())));
    }
    if column.not_null {
        sql.push_str(" NOT NULL");
    }
    sql
}

fn identity_clause(kind: IdentityKind, options: Option<&str>) -> String {
    let head = match kind {
        IdentityKind::Always => "GENERATED ALWAYS AS IDENTITY",
        IdentityKind::ByDefault => "GENERATED BY DEFAULT AS IDENTITY",
    };
    match options {
        Some(options) => format!("{head} ({options})"),
        None => head.to_string(),
    }
}

/// An identity given to a column that already holds values starts at its START, and the next value it
/// hands out would collide with theirs: it is moved past the largest one. Only forward and only for an
/// ascending sequence, so a START above the values is kept.
fn identity_past_rows(table: &QualifiedName, column: &str) -> String {
    let sequence = format!("pg_catalog.pg_get_serial_sequence({}, {})", literal(&qualified(table)), literal(column));
    format!(
        "SELECT pg_catalog.setval({sequence}, used.last) FROM (SELECT max({}) AS last FROM {}) used \
         JOIN pg_catalog.pg_sequence s ON s.seqrelid = {sequence}::regclass \
         WHERE used.last >= s.seqstart AND s.seqincrement > 0;",
        ident(column),
        qualified(table)
    )
}

/// New options for an identity's sequence. A sequence that has not handed out a value yet restarts at the
/// new start (its next value may lie outside the new range, which PostgreSQL refuses without RESTART); one
/// in use keeps its position, and PostgreSQL refuses a range that no longer holds it.
fn identity_reset(table: &QualifiedName, column: &str, settings: &str) -> String {
    let sequence = format!("pg_catalog.pg_get_serial_sequence({}, {})", literal(&qualified(table)), literal(column));
    let set = alter_column(table, column, settings);
    let restart = alter_column(table, column, &format!("{settings} RESTART"));
    format!(
        "DO $schema_identity$\n\
         DECLARE\n\
         \x20   used boolean;\n\
         BEGIN\n\
         \x20   EXECUTE format('SELECT is_called FROM %s', {sequence}) INTO used;\n\
         \x20   IF used THEN\n\
         \x20       {set}\n\
         \x20   ELSE\n\
         \x20       {restart}\n\
         \x20   END IF;\n\
         END\n\
         $schema_identity$;"
    )
}

/// Every option of an identity's sequence as the `SET …` clauses of `ALTER COLUMN`, those not listed at
/// their defaults for the column's type: an option taken out of the schema files goes back to its default.
fn identity_settings(data_type: &str, options: Option<&str>) -> String {
    let words: Vec<&str> = options.unwrap_or("").split_whitespace().collect();
    let value = |key: &[&str]| -> Option<i128> {
        let at = words.windows(key.len()).position(|w| w == key)?;
        words.get(at + key.len())?.parse().ok()
    };
    let (lo, hi) = match data_type {
        "smallint" => (i16::MIN.into(), i16::MAX.into()),
        "integer" => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    };
    let increment = value(&["INCREMENT", "BY"]).unwrap_or(1);
    let ascending = increment > 0;
    let min = value(&["MINVALUE"]).unwrap_or(if ascending { 1 } else { lo });
    let max = value(&["MAXVALUE"]).unwrap_or(if ascending { hi } else { -1 });
    let start = value(&["START", "WITH"]).unwrap_or(if ascending { min } else { max });
    let cache = value(&["CACHE"]).unwrap_or(1);
    let cycle = if words.contains(&"CYCLE") { "CYCLE" } else { "NO CYCLE" };
    format!(
        "SET INCREMENT BY {increment} SET MINVALUE {min} SET MAXVALUE {max} SET START WITH {start} SET CACHE {cache} \
         SET {cycle}"
    )
}

fn sequence_options(s: &Sequence) -> String {
    format!(
        "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
        s.data_type,
        s.increment,
        s.min_value,
        s.max_value,
        s.start,
        s.cache,
        if s.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

pub(crate) fn add_constraint(table: &QualifiedName, constraint: &Constraint) -> String {
    format!("ALTER TABLE {} ADD CONSTRAINT {} {};", qualified(table), ident(&constraint.name), constraint.definition)
}

/// A new table's constraints written inside its `CREATE TABLE`, and those added by `ALTER TABLE` after it:
/// the ones `CREATE TABLE` would not keep as they are.
/// * Within one `CREATE TABLE`, PostgreSQL keeps one index per key: a unique constraint over the primary
///   key's columns (or a second one over the same columns, or a repeated exclusion) is merged away, although
///   each is a constraint of its own when added apart. The primary key is written first, as PostgreSQL
///   prefers it. Keys are compared by their columns, which also moves some constraints PostgreSQL would keep
///   (another INCLUDE list, DEFERRABLE): harmless, they are added right after.
/// * `NOT VALID` inside `CREATE TABLE` is ignored (the new table is empty, so the constraint is marked
///   valid); added apart, the constraint stays not valid, as it is in the database the plan leads to.
pub(crate) fn table_constraints(t: &Table) -> (Vec<&Constraint>, Vec<&Constraint>) {
    let keys_first = t.constraints.values().filter(|c| c.kind == ConstraintKind::PrimaryKey);
    let rest = t.constraints.values().filter(|c| c.kind != ConstraintKind::PrimaryKey);
    let (mut inline, mut apart): (Vec<&Constraint>, Vec<&Constraint>) = (Vec::new(), Vec::new());
    let mut keys: Vec<(bool, &[Name], &str)> = Vec::new();
    for c in keys_first.chain(rest) {
        let key = match c.kind {
            ConstraintKind::PrimaryKey | ConstraintKind::Unique => Some((false, c.columns.as_slice(), "")),
            ConstraintKind::Exclusion => Some((true, &[][..], &*c.definition)),
            ConstraintKind::Check | ConstraintKind::ForeignKey => None,
        };
        match key {
            _ if !c.validated => apart.push(c),
            Some(key) if keys.contains(&key) => apart.push(c),
            Some(key) => {
                keys.push(key);
                inline.push(c);
            }
            None => inline.push(c),
        }
    }
    // Written in the catalog's order, as before.
    inline.sort_by_key(|c| t.constraints.get_index_of(&c.name));
    (inline, apart)
}

/// An index of a partitioned table with the names its partitions' indexes have: created on the parent
/// alone (`ON ONLY`), on each partition unless the partition has it already (an index of the same name, left
/// in place by the plan because it is the same; the index of the partition's own key), then attached from
/// the deepest level up. (`CREATE INDEX` on the parent would name them itself.)
fn partitioned_index(i: &Index) -> Vec<String> {
    let unique = if i.unique { "UNIQUE " } else { "" };
    let mut sql = vec![format!(
        "CREATE {unique}INDEX {} ON ONLY {} USING {};",
        ident(&i.name.name),
        qualified(&i.table),
        i.definition
    )];
    for p in i.partitions.iter().filter(|p| !p.constraint) {
        let only = if p.leaf { "" } else { "ONLY " };
        sql.push(format!(
            "CREATE {unique}INDEX IF NOT EXISTS {} ON {only}{} USING {};",
            ident(&p.name.name),
            qualified(&p.table),
            i.definition
        ));
    }
    let mut attach: Vec<&PartitionIndex> = i.partitions.iter().collect();
    attach.sort_by_key(|p| std::cmp::Reverse(p.depth));
    sql.extend(
        attach.iter().map(|p| format!("ALTER INDEX {} ATTACH PARTITION {};", qualified(&p.parent), qualified(&p.name))),
    );
    sql
}

fn column_ref(c: &ColumnRef) -> String {
    format!("{}.{}", qualified(&c.table), ident(&c.column))
}

fn alter_column(table: &QualifiedName, column: &str, action: &str) -> String {
    format!("ALTER TABLE {} ALTER COLUMN {} {action};", qualified(table), ident(column))
}

fn view_keyword(materialized: bool) -> &'static str {
    if materialized { "MATERIALIZED VIEW" } else { "VIEW" }
}

pub(crate) fn render(change: &Change) -> Result<Vec<String>, Unsupported> {
    Ok(match change {
        Change::CreateSchema(s) => vec![format!("CREATE SCHEMA {};", ident(&s.name))],
        Change::DropSchema(s) => vec![format!("DROP SCHEMA {};", ident(&s.name))],
        Change::CreateExtension(x) if x.version.is_some() => super::render_types::render(change),
        Change::CreateExtension(x) => {
            vec![format!("CREATE EXTENSION {} WITH SCHEMA {};", ident(&x.name), ident(&x.schema))]
        }
        Change::DropExtension(x) => vec![format!("DROP EXTENSION {};", ident(&x.name))],
        Change::CreateEnum(t) => vec![create_enum(&t.name, &t.labels)],
        Change::DropEnum(t) => vec![format!("DROP TYPE {};", qualified(&t.name))],
        Change::AddEnumValue { name, value, position } => {
            let (word, anchor) = match position {
                EnumValuePosition::Before(l) => ("BEFORE", l),
                EnumValuePosition::After(l) => ("AFTER", l),
            };
            vec![format!("ALTER TYPE {} ADD VALUE {} {word} {};", qualified(name), literal(value), literal(anchor))]
        }
        Change::RebuildEnum { to, columns, .. } => {
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
        Change::CreateSequence(s) => vec![format!("CREATE SEQUENCE {} {};", qualified(&s.name), sequence_options(s))],
        Change::DropSequence(s) => vec![format!("DROP SEQUENCE {};", qualified(&s.name))],
        Change::AlterSequence { to, .. } => {
            vec![format!("ALTER SEQUENCE {} {};", qualified(&to.name), sequence_options(to))]
        }
        Change::SetSequenceOwner { sequence, to, .. } => {
            let owner = to.as_ref().map(column_ref).unwrap_or_else(|| "NONE".to_string());
            vec![format!("ALTER SEQUENCE {} OWNED BY {owner};", qualified(sequence))]
        }
        Change::CreateTable(t) if super::render_types::is_special_table(t) => super::render_types::render(change),
        Change::CreateTable(t) => {
            let (inline, apart) = table_constraints(t);
            let mut lines: Vec<String> = t.columns.values().map(column_definition).collect();
            lines.extend(inline.iter().map(|c| format!("CONSTRAINT {} {}", ident(&c.name), c.definition)));
            let body = if lines.is_empty() { String::new() } else { format!("\n    {}\n", lines.join(",\n    ")) };
            let mut sql = vec![format!("CREATE TABLE {} ({body});", qualified(&t.name))];
            sql.extend(apart.iter().map(|c| add_constraint(&t.name, c)));
            sql
        }
        // A partition is detached first: PostgreSQL refuses to drop one that a foreign key to its parent
        // table references (through the copy of that foreign key it holds for the partition).
        Change::DropTable(t) if let Some(p) = &t.partition_of => vec![
            format!("ALTER TABLE {} DETACH PARTITION {};", qualified(&p.parent), qualified(&t.name)),
            format!("DROP TABLE {};", qualified(&t.name)),
        ],
        Change::DropTable(t) => vec![format!("DROP TABLE {};", qualified(&t.name))],
        Change::RenameTable { from, to } => {
            let mut sql = Vec::new();
            let mut at = from.clone();
            if from.schema != to.schema {
                sql.push(format!("ALTER TABLE {} SET SCHEMA {};", qualified(from), ident(&to.schema)));
                at.schema = to.schema.clone();
            }
            if from.name != to.name {
                sql.push(format!("ALTER TABLE {} RENAME TO {};", qualified(&at), ident(&to.name)));
            }
            sql
        }
        Change::AddColumn { table, column } => {
            vec![format!("ALTER TABLE {} ADD COLUMN {};", qualified(table), column_definition(column))]
        }
        Change::DropColumn { table, column } => {
            vec![format!("ALTER TABLE {} DROP COLUMN {};", qualified(table), ident(&column.name))]
        }
        Change::RenameColumn { table, from, to } => {
            vec![format!("ALTER TABLE {} RENAME COLUMN {} TO {};", qualified(table), ident(from), ident(to))]
        }
        Change::RenameConstraint { table, from, to } => {
            vec![format!("ALTER TABLE {} RENAME CONSTRAINT {} TO {};", qualified(table), ident(from), ident(to))]
        }
        Change::RenameSequence { from, to } => {
            vec![format!("ALTER SEQUENCE {} RENAME TO {};", qualified(from), ident(&to.name))]
        }
        Change::RenameIndex { from, to, .. } => {
            vec![format!("ALTER INDEX {} RENAME TO {};", qualified(from), ident(&to.name))]
        }
        Change::AlterColumn { table, from, to } => render_alter_column(table, from, to),
        Change::AddConstraint { table, constraint } => vec![add_constraint(table, constraint)],
        Change::DropConstraint { table, constraint } => {
            vec![format!("ALTER TABLE {} DROP CONSTRAINT {};", qualified(table), ident(&constraint.name))]
        }
        Change::ValidateConstraint { table, constraint } => {
            vec![format!("ALTER TABLE {} VALIDATE CONSTRAINT {};", qualified(table), ident(&constraint.name))]
        }
        Change::CreateIndex(i) if !i.partitions.is_empty() => partitioned_index(i),
        Change::CreateIndex(i) => vec![format!(
            "CREATE {}INDEX {} ON {} USING {};",
            if i.unique { "UNIQUE " } else { "" },
            ident(&i.name.name),
            qualified(&i.table),
            i.definition
        )],
        // The constraints of partitions whose indexes are attached to it go with it: PostgreSQL refuses to drop
        // either first (see `partition_keys_dropped_with_their_index`).
        Change::DropIndex(i) if i.partitions.iter().any(|p| p.constraint) => {
            vec![format!("DROP INDEX {} CASCADE;", qualified(&i.name))]
        }
        Change::DropIndex(i) => vec![format!("DROP INDEX {};", qualified(&i.name))],
        Change::CreateView(v) => {
            let options = if v.options.is_empty() {
                String::new()
            } else {
                format!(" WITH ({})", super::render_types::parameters(&v.options))
            };
            vec![format!(
                "CREATE {} {}{options} AS\n{};",
                view_keyword(v.materialized),
                qualified(&v.name),
                v.definition
            )]
        }
        Change::DropView(v) => vec![format!("DROP {} {};", view_keyword(v.materialized), qualified(&v.name))],
        Change::CreateTrigger(t) => {
            let mut sql = vec![format!("{};", t.definition)];
            if let Some(enabled) = &t.enabled {
                sql.push(format!("ALTER TABLE {} {enabled} TRIGGER {};", qualified(&t.table), ident(&t.name.name)));
            }
            sql
        }
        Change::DropTrigger(t) => vec![format!("DROP TRIGGER {} ON {};", ident(&t.name.name), qualified(&t.table))],
        Change::CopyRows { from, to, old_row_security, .. } => copy_rows(from, to, *old_row_security),
        Change::SetAside { from, to } => set_aside(from, to),
        // PostgreSQL changes tables in place: its renderer never adapts a plan into a rebuild.
        Change::RebuildTable { .. } => {
            return Err(Unsupported::new("PostgreSQL", change, "it changes tables in place and never plans a rebuild"));
        }
        // An extension's own comment (the model's "none") is read from the server when the migration runs.
        Change::SetComment { target: CommentTarget::Extension(x), comment: None } => vec![format!(
            "DO $schema_comment$\nBEGIN\n    EXECUTE format('COMMENT ON EXTENSION %I IS %L', {name}, (SELECT comment FROM \
             pg_catalog.pg_available_extensions WHERE name = {name}));\nEND\n$schema_comment$;",
            name = literal(x)
        )],
        Change::SetComment { target, comment } => {
            let object = match target {
                CommentTarget::Schema(s) => format!("SCHEMA {}", ident(s)),
                CommentTarget::Extension(x) => format!("EXTENSION {}", ident(x)),
                CommentTarget::Type(n) => format!("TYPE {}", qualified(n)),
                CommentTarget::Sequence(n) => format!("SEQUENCE {}", qualified(n)),
                CommentTarget::Table(n) => format!("TABLE {}", qualified(n)),
                CommentTarget::Column(c) => format!("COLUMN {}", column_ref(c)),
                CommentTarget::Constraint { table, name } => {
                    format!("CONSTRAINT {} ON {}", ident(name), qualified(table))
                }
                CommentTarget::Index(n) => format!("INDEX {}", qualified(n)),
                CommentTarget::View { name, materialized } => {
                    format!("{} {}", view_keyword(*materialized), qualified(name))
                }
                // ROUTINE names functions and procedures alike (COMMENT ON FUNCTION refuses a procedure).
                CommentTarget::Function(id) => format!("ROUTINE {}", function_name(id)),
                CommentTarget::Trigger { table, name } => format!("TRIGGER {} ON {}", ident(name), qualified(table)),
                CommentTarget::Policy { table, name } => format!("POLICY {} ON {}", ident(name), qualified(table)),
            };
            let text = comment.as_deref().map(literal).unwrap_or_else(|| "NULL".to_string());
            vec![format!("COMMENT ON {object} IS {text};")]
        }
        Change::CreateDomain(_)
        | Change::DropDomain(_)
        | Change::AlterDomain { .. }
        | Change::CreateCompositeType(_)
        | Change::DropCompositeType(_)
        | Change::AlterCompositeType { .. }
        | Change::CreateRangeType(_)
        | Change::DropRangeType(_)
        | Change::CreateCollation(_)
        | Change::DropCollation(_)
        | Change::SetExtensionSchema { .. }
        | Change::AlterExtensionVersion { .. }
        | Change::AttachPartition { .. }
        | Change::DetachPartition { .. }
        | Change::SetStorageParameters { .. }
        | Change::SetUnlogged { .. } => super::render_types::render(change),
        Change::CreateFunction(f) | Change::ReplaceFunction { to: f, .. } => {
            let note = if f.body_dependencies_known {
                ""
            } else {
                "-- schema: what this body uses is not recorded by PostgreSQL; it is created after the tables \
                 and columns of this migration\n"
            };
            vec![format!("{note}{};", f.definition)]
        }
        Change::DropFunction(f) => vec![format!("DROP {};", routine(&f.id, f.kind))],
        Change::CreatePolicy(p) => vec![create_policy(p)],
        Change::AlterPolicy { to, .. } => vec![alter_policy(to)],
        Change::DropPolicy(p) => vec![format!("DROP POLICY {} ON {};", ident(&p.name), qualified(&p.table))],
        Change::GrantPrivilege(g) => {
            let (privilege, object) = privilege_on(&g.key);
            let option = if g.grantable { " WITH GRANT OPTION" } else { "" };
            vec![format!("GRANT {privilege} ON {object} TO {}{option};", grantee(&g.key.grantee))]
        }
        Change::RevokePrivilege(g) => {
            let (privilege, object) = privilege_on(&g.key);
            vec![format!("REVOKE {privilege} ON {object} FROM {};", grantee(&g.key.grantee))]
        }
        Change::GrantDefaultPrivilege { key, with_grant_option } => {
            let option = if *with_grant_option { " WITH GRANT OPTION" } else { "" };
            vec![format!(
                "{} GRANT {} ON {} TO {}{option};",
                alter_default_privileges(key),
                key.privilege,
                key.on.keyword(),
                grantee(&key.grantee)
            )]
        }
        Change::RevokeDefaultPrivilege { key, grant_option_only } => {
            let option = if *grant_option_only { "GRANT OPTION FOR " } else { "" };
            vec![format!(
                "{} REVOKE {option}{} ON {} FROM {};",
                alter_default_privileges(key),
                key.privilege,
                key.on.keyword(),
                grantee(&key.grantee)
            )]
        }
        Change::SetOwner { object, to, .. } => {
            let object = match object {
                OwnedObject::Schema(s) => format!("SCHEMA {}", ident(s)),
                OwnedObject::Table(n) => format!("TABLE {}", qualified(n)),
                OwnedObject::View(n) => format!("VIEW {}", qualified(n)),
                OwnedObject::MaterializedView(n) => format!("MATERIALIZED VIEW {}", qualified(n)),
                OwnedObject::Sequence(n) => format!("SEQUENCE {}", qualified(n)),
                OwnedObject::Function(id, kind) => routine(id, *kind),
                OwnedObject::Type(n) => format!("TYPE {}", qualified(n)),
                OwnedObject::Domain(n) => format!("DOMAIN {}", qualified(n)),
            };
            vec![format!("ALTER {object} OWNER TO {};", ident(to))]
        }
        Change::SetReplicaIdentity { table, to, .. } => {
            let identity = match to {
                None => "DEFAULT".to_string(),
                Some(ReplicaIdentity::Full) => "FULL".to_string(),
                Some(ReplicaIdentity::Nothing) => "NOTHING".to_string(),
                Some(ReplicaIdentity::Index(index)) => format!("USING INDEX {}", ident(index)),
            };
            vec![format!("ALTER TABLE {} REPLICA IDENTITY {identity};", qualified(table))]
        }
        Change::DropColumnKeptByChildren { table, column } => {
            vec![format!("ALTER TABLE ONLY {} DROP COLUMN {};", qualified(table), ident(&column.name))]
        }
        Change::Inherit { table, parent, checks } => {
            let mut sql: Vec<String> = checks.iter().map(|c| add_constraint(table, c)).collect();
            sql.push(format!("ALTER TABLE {} INHERIT {};", qualified(table), qualified(parent)));
            sql
        }
        Change::NoInherit { table, parent, checks } => {
            let mut sql = vec![format!("ALTER TABLE {} NO INHERIT {};", qualified(table), qualified(parent))];
            sql.extend(
                checks.iter().map(|c| format!("ALTER TABLE {} DROP CONSTRAINT {};", qualified(table), ident(c))),
            );
            sql
        }
        Change::SetRowSecurity { table, from, to } => {
            let mut sql = Vec::new();
            if from.enabled != to.enabled {
                let verb = if to.enabled { "ENABLE" } else { "DISABLE" };
                sql.push(format!("ALTER TABLE {} {verb} ROW LEVEL SECURITY;", qualified(table)));
            }
            if from.forced != to.forced {
                let verb = if to.forced { "FORCE" } else { "NO FORCE" };
                sql.push(format!("ALTER TABLE {} {verb} ROW LEVEL SECURITY;", qualified(table)));
            }
            sql
        }
    })
}

/// A table to be rebuilt renamed aside, and with it the names PostgreSQL chose for what it made for the
/// table, which the schema files do not hold and the new table's copies must get: its indexes attached to
/// an index of its parent (on a partition), and its identity columns' sequences. They are found in the
/// catalog when the migration runs, and each is renamed to `schema_old_<name>` (a number added while that
/// name is taken).
fn set_aside(from: &QualifiedName, to: &QualifiedName) -> Vec<String> {
    let table = literal(&qualified(to));
    vec![
        format!("ALTER TABLE {} RENAME TO {};", qualified(from), ident(&to.name)),
        format!(
            "DO $schema_aside$\n\
             DECLARE\n\
             \x20   item record;\n\
             \x20   free text;\n\
             \x20   n int;\n\
             BEGIN\n\
             \x20   FOR item IN\n\
             \x20       SELECT c.oid::regclass AS object, c.relname AS name, c.relkind AS kind FROM pg_catalog.pg_class c\n\
             \x20       WHERE c.oid IN (SELECT i.indexrelid FROM pg_catalog.pg_index i\n\
             \x20                       JOIN pg_catalog.pg_inherits h ON h.inhrelid = i.indexrelid\n\
             \x20                       WHERE i.indrelid = {table}::regclass)\n\
             \x20          OR (c.relkind = 'S' AND c.oid IN (SELECT d.objid FROM pg_catalog.pg_depend d\n\
             \x20                                            WHERE d.classid = 'pg_catalog.pg_class'::regclass\n\
             \x20                                              AND d.refobjid = {table}::regclass AND d.deptype = 'i'))\n\
             \x20       ORDER BY c.relname\n\
             \x20   LOOP\n\
             \x20       n := 1;\n\
             \x20       free := left('schema_old_' || item.name, 63);\n\
             \x20       WHILE EXISTS (SELECT FROM pg_catalog.pg_class WHERE relname = free AND relnamespace = {schema}::regnamespace) LOOP\n\
             \x20           n := n + 1;\n\
             \x20           free := left('schema_old_' || item.name, 62 - length(n::text)) || '_' || n;\n\
             \x20       END LOOP;\n\
             \x20       EXECUTE format('ALTER %s %s RENAME TO %I', CASE item.kind WHEN 'S' THEN 'SEQUENCE' ELSE 'INDEX' END, item.object, free);\n\
             \x20   END LOOP;\n\
             END\n\
             $schema_aside$;",
            schema = literal(&ident(&to.schema)),
        ),
    ]
}

/// The rows of a rebuilt table copied from the old table (renamed aside) into the new one: the columns
/// both have, except those the new table generates. A row that fits none of the new partitions fails the
/// statement, and with it the migration's transaction. Identity columns go on counting where the old
/// table's identity was; a serial column's sequence is the same one, moved over to the new table.
fn copy_rows(from: &Table, to: &Table, old_row_security: bool) -> Vec<String> {
    let columns: Vec<&Column> =
        to.columns.values().filter(|c| c.generated().is_none() && from.columns.contains_key(&c.name)).collect();
    let mut sql = Vec::new();
    if old_row_security {
        // Policies would hide rows from the copy (from the owner too, when forced).
        sql.push(format!("ALTER TABLE {} DISABLE ROW LEVEL SECURITY;", qualified(&from.name)));
        sql.push(format!("ALTER TABLE {} NO FORCE ROW LEVEL SECURITY;", qualified(&from.name)));
    }
    if columns.is_empty() {
        // No column in common: as many rows, each of defaults.
        sql.push(format!("INSERT INTO {} SELECT FROM {};", qualified(&to.name), qualified(&from.name)));
        return sql;
    }
    let names: Vec<String> = columns.iter().map(|c| ident(&c.name)).collect();
    let names = names.join(", ");
    let overriding =
        if columns.iter().any(|c| c.identity == Some(IdentityKind::Always)) { " OVERRIDING SYSTEM VALUE" } else { "" };
    sql.push(format!(
        "INSERT INTO {} ({names}){overriding} SELECT {names} FROM {};",
        qualified(&to.name),
        qualified(&from.name)
    ));
    for column in columns {
        if column.identity.is_none() {
            continue;
        }
        if from.columns.get(&column.name).is_none_or(|c| c.identity.is_none()) {
            // A column that becomes an identity with the rebuild: past the copied values.
            sql.push(identity_past_rows(&to.name, &column.name));
            continue;
        }
        let sequence = |table: &QualifiedName| {
            format!("pg_catalog.pg_get_serial_sequence({}, {})", literal(&qualified(table)), literal(&column.name))
        };
        sql.push(format!(
            "SELECT pg_catalog.setval({}, old.last_value) FROM (SELECT pg_catalog.pg_sequence_last_value({}::regclass) \
             AS last_value) old WHERE old.last_value IS NOT NULL;",
            sequence(&to.name),
            sequence(&from.name)
        ));
    }
    sql
}

/// The privilege (with its column list, for a column) and the object clause of GRANT/REVOKE. The
/// privilege name is one of PostgreSQL's keywords, as the catalog reports it.
fn privilege_on(key: &GrantKey) -> (String, String) {
    let privilege = key.privilege.clone();
    match &key.target {
        PrivilegeTarget::Schema(s) => (privilege, format!("SCHEMA {}", ident(s))),
        PrivilegeTarget::Table(n) => (privilege, format!("TABLE {}", qualified(n))),
        PrivilegeTarget::Column(c) => {
            (format!("{privilege} ({})", ident(&c.column)), format!("TABLE {}", qualified(&c.table)))
        }
        PrivilegeTarget::Sequence(n) => (privilege, format!("SEQUENCE {}", qualified(n))),
        // GRANT has no AGGREGATE: an aggregate is granted as a function.
        PrivilegeTarget::Function(id, FunctionKind::Aggregate) => {
            (privilege, format!("FUNCTION {}", function_name(id)))
        }
        PrivilegeTarget::Function(id, kind) => (privilege, format!("{} {}", kind.keyword(), function_name(id))),
    }
}

/// `ALTER DEFAULT PRIVILEGES FOR ROLE r [IN SCHEMA s]`.
fn alter_default_privileges(key: &DefaultPrivilegeKey) -> String {
    let schema = key.schema.as_ref().map(|s| format!(" IN SCHEMA {}", ident(s))).unwrap_or_default();
    format!("ALTER DEFAULT PRIVILEGES FOR ROLE {}{schema}", ident(&key.role))
}

fn grantee(name: &str) -> String {
    if name == "PUBLIC" { "PUBLIC".to_string() } else { ident(name) }
}

/// `schema.name(arguments)` as `GRANT`, `COMMENT ON FUNCTION` and `ALTER FUNCTION` name a routine: the
/// argument list is PostgreSQL's own identity rendering, except that an ordered-set aggregate's (`double
/// precision ORDER BY double precision`) lists its arguments with commas, as those statements take them.
fn function_name(id: &FunctionId) -> String {
    format!("{}({})", qualified(&id.name), without_order_by(&id.arguments))
}

/// `KIND schema.name(arguments)` as `DROP` and `ALTER … OWNER TO` name a routine of its own kind: an
/// aggregate's arguments as `CREATE AGGREGATE` writes them (`ORDER BY` kept, `*` for none).
fn routine(id: &FunctionId, kind: FunctionKind) -> String {
    match kind {
        FunctionKind::Aggregate if id.arguments.is_empty() => format!("AGGREGATE {}(*)", qualified(&id.name)),
        FunctionKind::Aggregate => format!("AGGREGATE {}({})", qualified(&id.name), id.arguments),
        FunctionKind::Function | FunctionKind::Procedure => format!("{} {}", kind.keyword(), function_name(id)),
    }
}

/// An identity argument list with a top-level `ORDER BY` (an ordered-set aggregate's) turned into a
/// comma, read token by token so that names and quoted types are left as they are.
fn without_order_by(arguments: &str) -> std::borrow::Cow<'_, str> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    if !arguments.to_ascii_uppercase().contains("ORDER") {
        return arguments.into();
    }
    let Ok(tokens) = Tokenizer::new(&super::sql_dialect(), arguments).with_unescape(false).tokenize() else {
        return arguments.into();
    };
    let is_word =
        |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let solid: Vec<usize> = (0..tokens.len()).filter(|&i| !matches!(tokens[i], Token::Whitespace(_))).collect();
    let mut depth = 0i32;
    for (n, &i) in solid.iter().enumerate() {
        match &tokens[i] {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            t if depth == 0 && is_word(t, "ORDER") && solid.get(n + 1).is_some_and(|&j| is_word(&tokens[j], "BY")) => {
                let before: String = tokens[..i].iter().map(ToString::to_string).collect();
                let after: String = tokens[solid[n + 1] + 1..].iter().map(ToString::to_string).collect();
                let (before, after) = (before.trim(), after.trim());
                return if before.is_empty() { after.to_string().into() } else { format!("{before}, {after}").into() };
            }
            _ => {}
        }
    }
    arguments.into()
}

fn create_policy(p: &Policy) -> String {
    let kind = if p.permissive { "PERMISSIVE" } else { "RESTRICTIVE" };
    let head = format!("CREATE POLICY {} ON {} AS {kind} FOR {}", ident(&p.name), qualified(&p.table), p.command);
    policy_clauses(head, p)
}

fn alter_policy(p: &Policy) -> String {
    policy_clauses(format!("ALTER POLICY {} ON {}", ident(&p.name), qualified(&p.table)), p)
}

/// `TO roles`, `USING` and `WITH CHECK` after a CREATE or ALTER POLICY head.
fn policy_clauses(mut sql: String, p: &Policy) -> String {
    let roles: Vec<String> =
        p.roles.iter().map(|r| if r == "PUBLIC" { "PUBLIC".to_string() } else { ident(r) }).collect();
    sql.push_str(&format!(" TO {}", roles.join(", ")));
    if let Some(using) = &p.using {
        sql.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &p.with_check {
        sql.push_str(&format!(" WITH CHECK ({check})"));
    }
    sql.push(';');
    sql
}

fn create_enum(name: &QualifiedName, labels: &[String]) -> String {
    let labels: Vec<String> = labels.iter().map(|l| literal(l)).collect();
    format!("CREATE TYPE {} AS ENUM ({});", qualified(name), labels.join(", "))
}

/// The `USING` expression of a type change from `from` to `to`: the one declared for it, or a cast of the
/// column. Enum types have no casts to other types but text; going through text covers enum to enum, enum
/// to text-like and text to enum, and `text[]` the same between arrays. Between an array and a scalar only
/// text leads (`mood[]` → `text` → `other`): `text[]` to a scalar has no cast. Whether PostgreSQL can run
/// it is checked before a plan is written ([`super::conversions`]).
pub fn conversion(from: &Column, to: &Column) -> String {
    if let Some(declared) = to.conversion() {
        return declared.to_string();
    }
    let involves_user_type = [from, to].iter().any(|c| c.depends_on.iter().any(|d| matches!(d, ObjectRef::Type(_))));
    let via = match (involves_user_type, from.data_type.ends_with("[]") && to.data_type.ends_with("[]")) {
        (false, _) => "",
        (true, false) => "::text",
        (true, true) => "::text[]",
    };
    format!("{}{via}::{}", ident(&to.name), to.data_type)
}

pub(crate) fn render_alter_column(table: &QualifiedName, from: &Column, to: &Column) -> Vec<String> {
    let name = &to.name;
    let mut sql = Vec::new();
    let retyped = from.data_type != to.data_type || from.collation() != to.collation();
    let default_changed = from.default != to.default || retyped;
    if from.identity.is_some() && to.identity.is_none() {
        sql.push(alter_column(table, name, "DROP IDENTITY"));
    }
    if from.default.is_some() && default_changed {
        sql.push(alter_column(table, name, "DROP DEFAULT"));
    }
    if retyped {
        let collate = to.collation().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
        // A generated column's values are computed again from its expression: PostgreSQL refuses USING.
        let using = if to.generated().is_some() { String::new() } else { format!(" USING {}", conversion(from, to)) };
        sql.push(alter_column(table, name, &format!("TYPE {}{collate}{using}", to.data_type)));
    }
    if from.not_null != to.not_null {
        sql.push(alter_column(table, name, if to.not_null { "SET NOT NULL" } else { "DROP NOT NULL" }));
    }
    if let Some(default) = &to.default
        && default_changed
    {
        sql.push(alter_column(table, name, &format!("SET DEFAULT {default}")));
    }
    match (from.identity, to.identity) {
        (None, Some(kind)) => {
            let clause = identity_clause(kind, to.identity_options());
            sql.push(alter_column(table, name, &format!("ADD {clause}")));
            sql.push(identity_past_rows(table, name));
        }
        (Some(a), Some(b)) => {
            if a != b {
                let word = if b == IdentityKind::Always { "ALWAYS" } else { "BY DEFAULT" };
                sql.push(alter_column(table, name, &format!("SET GENERATED {word}")));
            }
            if from.identity_options() != to.identity_options() {
                let settings = identity_settings(&to.data_type, to.identity_options());
                sql.push(identity_reset(table, name, &settings));
            }
        }
        _ => {}
    }
    sql
}
