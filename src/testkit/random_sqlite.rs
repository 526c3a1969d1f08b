//! Random (current, desired) SQLite schema pairs, with rows, for the generative round trip: a seeded
//! grammar over what the SQLite side manages (rowid, WITHOUT ROWID and STRICT tables, INTEGER PRIMARY
//! KEY with or without AUTOINCREMENT, composite keys, declared types odd ones included, NOT NULL,
//! literal and expression defaults, collations, VIRTUAL and STORED generated columns, UNIQUE, CHECK and
//! FOREIGN KEY constraints with actions and deferral, unique, partial, expression, descending and
//! collated indexes, views on tables and on views, triggers on tables and INSTEAD OF triggers on views).
//! `desired` is `current` after a few edits, renames declared with `-- schema:renamed-from` among them.
//!
//! As for PostgreSQL ([`super::random`]), the grammar keeps its own model and writes its own SQL (every
//! identifier quoted here, every literal doubled here), so a bug in the tool cannot hide itself; names
//! are unique within a pair, some of them awkward. Every table of `current` gets rows that fit both
//! sides (the values of a column are distinct and pass every check the grammar writes; foreign keys
//! point at rows that exist), and the round trip checks that every row of every kept table, on the
//! columns both sides share, survives the up and the down. Where the desired side cannot keep the rows
//! (a NOT NULL column without a default, new or tightened, on a table holding NULLs or rows), the pair
//! says so ([`Pair::must_fail`]): the plan must report `not-null-without-default` for that table, and
//! `migrate up` must fail and change nothing.

use super::random::Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Quotes an identifier, always (independent of the tool's quoting).
fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal.
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Fresh names, unique within a pair. A few are awkward on purpose.
#[derive(Debug, Default)]
struct Names(usize);

impl Names {
    fn fresh(&mut self, rng: &mut Rng, prefix: &str) -> String {
        self.0 += 1;
        let n = self.0;
        match rng.below(16) {
            0 => format!("{prefix} {n}"),
            1 => format!("{}{n}", prefix.to_uppercase()),
            2 => format!("{prefix}\"q{n}"),
            3 => format!("{prefix}'s{n}"),
            4 => format!("{prefix};{n}--"),
            _ => format!("{prefix}{n}"),
        }
    }

    fn id(&mut self) -> usize {
        self.0 += 1;
        self.0
    }
}

/// What kind of values a column holds; a retype stays within the class, so the values keep their
/// meaning (an INTEGER column retyped to REAL keeps 5 as 5.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Int,
    Real,
    Text,
    Blob,
}

impl Class {
    /// Declared types of a table that is not STRICT (affinity of the class, or none).
    fn loose_types(self) -> &'static [&'static str] {
        match self {
            Class::Int => &["INTEGER", "int", "BIGINT", "UNSIGNED BIG INT", "INT8", "\"my int\"", "INTEGER(10)", ""],
            Class::Real => &["REAL", "DOUBLE PRECISION", "FLOAT", "DECIMAL(10,5)", "real"],
            Class::Text => {
                &["TEXT", "VARCHAR(40)", "CLOB", "NATIVE CHARACTER(70)", "\"text with space\"", "text", "", "BLOB"]
            }
            Class::Blob => &["BLOB", "", "blob"],
        }
    }

    fn strict_types(self) -> &'static [&'static str] {
        match self {
            Class::Int => &["INTEGER", "INT", "ANY"],
            Class::Real => &["REAL", "ANY"],
            Class::Text => &["TEXT", "ANY"],
            Class::Blob => &["BLOB", "ANY"],
        }
    }

    /// A check every value of the class passes (NULL passes every check).
    fn check(self, kind: usize, c: &str) -> String {
        match (self, kind % 3) {
            (Class::Int, 0) => format!("{c} >= 0"),
            (Class::Int, 1) => format!("{c} BETWEEN 0 AND 0x7FFFFFFF"),
            (Class::Int, _) => format!("{c} <> -1"),
            (Class::Real, 0) => format!("{c} > -1.5"),
            (Class::Real, _) => format!("{c} IS NOT -2.5e0"),
            (Class::Text, 0) => format!("length({c}) < 200"),
            (Class::Text, 1) => format!("{c} <> 'it''s forbidden; --'"),
            (Class::Text, _) => format!("{c} NOT GLOB '*forbidden*'"),
            (Class::Blob, _) => format!("length({c}) < 100"),
        }
    }

    /// A default of the class, passing its checks.
    fn default(self, rng: &mut Rng) -> String {
        let options: &[&str] = match self {
            Class::Int => &["0", "42", "(1 + 2)", "(abs(-7))", "0x10", "NULL", "+5"],
            Class::Real => &["1.5", "(2.5 * 2)", "0.25", "NULL"],
            Class::Text => &[
                "'it''s'",
                "''",
                "'a;b'",
                "'x''); DROP TABLE canary; --'",
                "CURRENT_TIMESTAMP",
                "('a' || 'b')",
                "(lower('ABC'))",
                "'-- not a comment'",
                "NULL",
            ],
            Class::Blob => &["x'00ff'", "NULL", "X'AB'"],
        };
        rng.pick(options).copied().unwrap_or("NULL").to_string()
    }

    /// A generation expression over a column of this class, and the class of its values.
    fn generated(self, kind: usize, c: &str) -> (String, Class) {
        match (self, kind % 3) {
            (Class::Int, 0) => (format!("{c} * 2"), Class::Int),
            (Class::Int, 1) => (format!("{c} + 1"), Class::Int),
            (Class::Int, _) => (format!("abs({c})"), Class::Int),
            (Class::Real, _) => (format!("{c} / 2"), Class::Real),
            (Class::Text, 0) => (format!("lower({c})"), Class::Text),
            (Class::Text, 1) => (format!("length({c})"), Class::Int),
            (Class::Text, _) => (format!("{c} || 'it''s'"), Class::Text),
            (Class::Blob, _) => (format!("length({c})"), Class::Int),
        }
    }

    /// An index expression over a column, and whether equal values of the column are the only way two
    /// rows get the same key (so it can be unique).
    fn index_expr(self, kind: usize, c: &str) -> (String, bool) {
        match (self, kind % 2) {
            (Class::Int, 0) => (format!("({c} + 1)"), true),
            (Class::Int, _) => (format!("({c} % 3)"), false),
            (Class::Real, _) => (format!("({c} * 2)"), true),
            (Class::Text, 0) => (format!("lower({c})"), true),
            (Class::Text, _) => (format!("substr({c}, 1, 2)"), false),
            (Class::Blob, _) => (format!("length({c})"), false),
        }
    }

    /// A partial index's predicate.
    fn predicate(self, c: &str) -> String {
        match self {
            Class::Int => format!("{c} > 3"),
            Class::Real => format!("{c} IS NOT NULL"),
            Class::Text => format!("{c} <> 'it''s'"),
            Class::Blob => format!("{c} IS NOT NULL"),
        }
    }
}

#[derive(Debug, Clone)]
struct Generated {
    source: usize,
    kind: usize,
    stored: bool,
}

#[derive(Debug, Clone)]
struct Column {
    id: usize,
    name: String,
    renamed_from: Option<String>,
    class: Class,
    ty: String,
    not_null: bool,
    default: Option<String>,
    collate: Option<&'static str>,
    generated: Option<Generated>,
    /// A column check: its kind.
    check: Option<usize>,
    /// `UNIQUE` written on the column.
    unique: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Pk {
    None,
    /// `INTEGER PRIMARY KEY`, the rowid (not in a WITHOUT ROWID table).
    Rowid {
        column: usize,
        autoincrement: bool,
    },
    /// A key written as a table constraint, or on its one column.
    Keys {
        name: Option<String>,
        columns: Vec<(usize, bool)>,
        inline: bool,
        conflict: Option<&'static str>,
    },
}

impl Pk {
    fn columns(&self) -> Vec<usize> {
        match self {
            Pk::None => Vec::new(),
            Pk::Rowid { column, .. } => vec![*column],
            Pk::Keys { columns, .. } => columns.iter().map(|(c, _)| *c).collect(),
        }
    }
}

#[derive(Debug, Clone)]
struct Unique {
    name: Option<String>,
    columns: Vec<usize>,
    collate: Option<&'static str>,
    conflict: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct Check {
    name: Option<String>,
    columns: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct ForeignKey {
    name: Option<String>,
    columns: Vec<usize>,
    parent: usize,
    parent_columns: Vec<usize>,
    /// `REFERENCES "p"` without a column list (the parent's primary key).
    implicit: bool,
    on_delete: &'static str,
    on_update: &'static str,
    deferred: bool,
}

#[derive(Debug, Clone)]
struct Table {
    id: usize,
    name: String,
    renamed_from: Option<String>,
    columns: Vec<Column>,
    pk: Pk,
    uniques: Vec<Unique>,
    checks: Vec<Check>,
    fks: Vec<ForeignKey>,
    without_rowid: bool,
    strict: bool,
}

impl Table {
    fn column(&self, id: usize) -> Option<&Column> {
        self.columns.iter().find(|c| c.id == id)
    }

    fn stored(&self, id: usize) -> bool {
        self.column(id).is_some_and(|c| c.generated.is_none())
    }

    /// Columns in a key, a unique constraint or a unique index: their values must be distinct.
    fn keyed(&self) -> BTreeSet<usize> {
        let mut out: BTreeSet<usize> = self.pk.columns().into_iter().collect();
        out.extend(self.uniques.iter().flat_map(|u| u.columns.iter().copied()));
        out.extend(self.columns.iter().filter(|c| c.unique).map(|c| c.id));
        out
    }

    fn fk_columns(&self) -> BTreeSet<usize> {
        self.fks.iter().flat_map(|f| f.columns.iter().copied()).collect()
    }
}

#[derive(Debug, Clone)]
enum Key {
    Column { column: usize, collate: Option<&'static str>, desc: bool },
    Expr { column: usize, kind: usize },
}

#[derive(Debug, Clone)]
struct Index {
    name: String,
    table: usize,
    unique: bool,
    keys: Vec<Key>,
    predicate: Option<usize>,
}

impl Index {
    fn columns(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .keys
            .iter()
            .map(|k| match k {
                Key::Column { column, .. } | Key::Expr { column, .. } => *column,
            })
            .collect();
        out.extend(self.predicate);
        out
    }
}

/// A view's source: a table (its columns by id) or an earlier view (its columns by output name).
#[derive(Debug, Clone)]
enum Source {
    Table(usize),
    View(usize),
}

#[derive(Debug, Clone)]
enum ViewColumn {
    Column(usize),
    Output(String),
}

#[derive(Debug, Clone)]
struct View {
    id: usize,
    name: String,
    source: Source,
    /// Selected columns with their output name (none: the column's own name).
    columns: Vec<(ViewColumn, Option<String>)>,
    literal: Option<(String, String)>,
    filter: bool,
    /// Written with a column list: `CREATE VIEW v (a, b) AS`.
    column_list: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    Insert,
    Delete,
    Update,
}

#[derive(Debug, Clone)]
enum Body {
    Raise,
    /// A no-op UPDATE of another table's column.
    Touch {
        table: usize,
        column: usize,
    },
    Select,
}

#[derive(Debug, Clone)]
struct Trigger {
    name: String,
    /// On a table (by id), or INSTEAD OF on a view (by id).
    on: Source,
    before: bool,
    event: Event,
    update_of: Vec<usize>,
    when: Option<usize>,
    body: Body,
}

#[derive(Debug, Clone, Default)]
struct Model {
    tables: Vec<Table>,
    indexes: Vec<Index>,
    views: Vec<View>,
    triggers: Vec<Trigger>,
}

/// A pair of SQLite schemas, with the rows of `current`.
#[derive(Debug, Clone)]
pub struct Pair {
    pub seed: u64,
    /// The current schema.
    pub current: String,
    /// INSERTs that fill every table of `current`.
    pub rows: String,
    /// The desired schema as SQLite loads it (the reference database).
    pub desired: String,
    /// The desired schema as the declared files hold it (with rename annotations).
    pub declared: String,
    /// Tables kept on both sides: their rows must survive.
    pub kept: Vec<super::sqlite::Kept>,
    /// Tables whose rows the desired side cannot keep (a NOT NULL column without a default that the
    /// rows give no value): the plan must report `not-null-without-default` for each, and applying
    /// the up must fail and change nothing.
    pub must_fail: Vec<String>,
}

/// The pair of `seed`.
pub fn pair(seed: u64) -> Pair {
    let mut rng = Rng::new(seed ^ 0x5_1173);
    let mut names = Names::default();
    let mut current = Model::generate(&mut rng, &mut names);
    current.settle();
    let mut desired = current.clone();
    for _ in 0..1 + rng.below(4) {
        desired.edit(&mut rng, &mut names);
        desired.settle();
    }
    // One pair in eight keeps a desired NOT NULL column that the rows cannot fill.
    let strict_rows = rng.chance(12);
    let rows = Rows::generate(&mut rng, &current, &desired, strict_rows);
    rows.repair(&mut desired);
    let must_fail = rows.must_fail(&current, &desired);
    let kept = rows.kept(&current, &desired);
    Pair {
        seed,
        current: current.render(false).join("\n"),
        rows: rows.render(&current),
        desired: desired.render(false).join("\n"),
        declared: desired.render(true).join("\n"),
        kept,
        must_fail,
    }
}

const ACTIONS: [&str; 5] = ["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"];
const CONFLICTS: [&str; 4] = ["ROLLBACK", "ABORT", "FAIL", "IGNORE"];

impl Model {
    fn generate(rng: &mut Rng, names: &mut Names) -> Model {
        let mut model = Model::default();
        for _ in 0..1 + rng.below(4) {
            model.add_table(rng, names);
        }
        for _ in 0..rng.below(3) {
            model.add_index(rng, names);
        }
        for _ in 0..rng.below(3) {
            model.add_view(rng, names);
        }
        for _ in 0..rng.below(3) {
            model.add_trigger(rng, names);
        }
        model
    }

    fn table(&self, id: usize) -> Option<&Table> {
        self.tables.iter().find(|t| t.id == id)
    }

    fn view(&self, id: usize) -> Option<&View> {
        self.views.iter().find(|v| v.id == id)
    }

    fn new_column(rng: &mut Rng, names: &mut Names, table: &Table) -> Column {
        let class = *rng.pick(&[Class::Int, Class::Int, Class::Real, Class::Text, Class::Text, Class::Blob]).unwrap();
        let mut column = Column {
            id: names.id(),
            name: names.fresh(rng, "c"),
            renamed_from: None,
            class,
            ty: pick_type(rng, class, table.strict),
            not_null: rng.chance(30),
            default: rng.chance(40).then(|| class.default(rng)),
            collate: None,
            generated: None,
            check: rng.chance(20).then(|| rng.below(3)),
            unique: false,
        };
        if class == Class::Text && rng.chance(30) {
            column.collate = rng.pick(&["NOCASE", "RTRIM", "BINARY"]).copied();
        }
        let sources: Vec<&Column> = table.columns.iter().filter(|c| c.generated.is_none()).collect();
        if rng.chance(12)
            && let Some(source) = rng.pick(&sources)
        {
            let kind = rng.below(3);
            let (_, out) = source.class.generated(kind, "x");
            column.class = out;
            column.ty = pick_type(rng, out, table.strict);
            column.generated = Some(Generated { source: source.id, kind, stored: rng.chance(50) });
            column.default = None;
            column.collate = None;
        }
        column
    }

    fn add_table(&mut self, rng: &mut Rng, names: &mut Names) {
        let mut table = Table {
            id: names.id(),
            name: names.fresh(rng, "t"),
            renamed_from: None,
            columns: Vec::new(),
            pk: Pk::None,
            uniques: Vec::new(),
            checks: Vec::new(),
            fks: Vec::new(),
            without_rowid: false,
            strict: rng.chance(20),
        };
        // The key: a rowid, one or two columns, or none.
        match rng.below(10) {
            0..=4 => {
                let id = names.id();
                let autoincrement = rng.chance(30);
                table.columns.push(plain_column(id, names.fresh(rng, "id"), Class::Int, "INTEGER", rng.chance(20)));
                table.pk = Pk::Rowid { column: id, autoincrement };
            }
            5..=7 => {
                let width = 1 + rng.below(2);
                let mut keys = Vec::new();
                for _ in 0..width {
                    let class = *rng.pick(&[Class::Int, Class::Text]).unwrap();
                    let id = names.id();
                    let ty = pick_type(rng, class, table.strict);
                    table.columns.push(plain_column(id, names.fresh(rng, "k"), class, &ty, true));
                    keys.push((id, rng.chance(25)));
                }
                let name = rng.chance(40).then(|| names.fresh(rng, "pk"));
                let inline = width == 1 && name.is_none() && rng.chance(50);
                let conflict = rng.chance(15).then(|| *rng.pick(&CONFLICTS).unwrap());
                table.pk = Pk::Keys { name, columns: keys, inline, conflict };
                table.without_rowid = rng.chance(40);
            }
            _ => {}
        }
        for _ in 0..1 + rng.below(4) {
            let column = Model::new_column(rng, names, &table);
            table.columns.push(column);
        }
        for _ in 0..rng.below(3) {
            self.add_table_feature(rng, names, &mut table);
        }
        self.tables.push(table);
    }

    /// A constraint on the table: UNIQUE, CHECK or FOREIGN KEY.
    fn add_table_feature(&self, rng: &mut Rng, names: &mut Names, table: &mut Table) {
        let stored: Vec<(usize, Class)> =
            table.columns.iter().filter(|c| c.generated.is_none()).map(|c| (c.id, c.class)).collect();
        let fk_columns = table.fk_columns();
        let free: Vec<(usize, Class)> = stored.iter().filter(|(c, _)| !fk_columns.contains(c)).copied().collect();
        match rng.below(4) {
            0 => {
                let Some(&(column, class)) = rng.pick(&free) else { return };
                let mut columns = vec![column];
                if rng.chance(30)
                    && let Some(&(other, _)) = rng.pick(&free)
                    && other != column
                {
                    columns.push(other);
                }
                if columns.len() == 1 && rng.chance(40) {
                    if let Some(c) = table.columns.iter_mut().find(|c| c.id == column) {
                        c.unique = true;
                    }
                    return;
                }
                let collate = (class == Class::Text && columns.len() == 1 && rng.chance(30)).then_some("NOCASE");
                table.uniques.push(Unique {
                    name: rng.chance(50).then(|| names.fresh(rng, "uq")),
                    columns,
                    collate,
                    conflict: rng.chance(15).then(|| *rng.pick(&CONFLICTS).unwrap()),
                });
            }
            1 => {
                let Some(&(column, _)) = rng.pick(&stored) else { return };
                let mut columns = vec![(column, rng.below(3))];
                if let Some(&(other, _)) = rng.pick(&stored)
                    && other != column
                {
                    columns.push((other, rng.below(3)));
                }
                table.checks.push(Check { name: rng.chance(50).then(|| names.fresh(rng, "ck")), columns });
            }
            _ => {
                // A new column that references a table with a key (this one included).
                let mut parents: Vec<(usize, Vec<usize>, bool)> = Vec::new();
                for parent in self.tables.iter().chain(std::iter::once(&*table)) {
                    let pk = parent.pk.columns();
                    if !pk.is_empty() {
                        parents.push((parent.id, pk, true));
                    }
                    for u in parent.uniques.iter().filter(|u| u.collate.is_none()) {
                        parents.push((parent.id, u.columns.clone(), false));
                    }
                }
                let Some((parent, parent_columns, is_pk)) = rng.pick(&parents).cloned() else { return };
                let parent_table = if parent == table.id { &*table } else { self.table(parent).unwrap() };
                let mut columns = Vec::new();
                let mut new_columns = Vec::new();
                for pc in &parent_columns {
                    let Some(p) = parent_table.column(*pc) else { return };
                    let id = names.id();
                    let ty = pick_type(rng, p.class, table.strict);
                    let mut c = plain_column(id, names.fresh(rng, "ref"), p.class, &ty, false);
                    c.collate = p.collate;
                    new_columns.push(c);
                    columns.push(id);
                }
                table.columns.extend(new_columns);
                table.fks.push(ForeignKey {
                    name: rng.chance(40).then(|| names.fresh(rng, "fk")),
                    columns,
                    parent,
                    parent_columns,
                    implicit: is_pk && rng.chance(40),
                    on_delete: rng.pick(&ACTIONS).copied().unwrap(),
                    on_update: rng.pick(&ACTIONS).copied().unwrap(),
                    deferred: rng.chance(30),
                });
            }
        }
    }

    fn add_index(&mut self, rng: &mut Rng, names: &mut Names) {
        let Some(table) = rng.pick(&self.tables) else { return };
        let stored: Vec<&Column> = table.columns.iter().filter(|c| c.generated.is_none()).collect();
        let fk = table.fk_columns();
        let mut keys = Vec::new();
        let mut unique_ok = true;
        for _ in 0..1 + rng.below(2) {
            let Some(column) = rng.pick(&stored) else { return };
            if rng.chance(25) {
                let kind = rng.below(2);
                let (_, distinct) = column.class.index_expr(kind, "x");
                unique_ok &= distinct;
                keys.push(Key::Expr { column: column.id, kind });
            } else {
                let collate = (column.class == Class::Text && rng.chance(30)).then_some("NOCASE");
                keys.push(Key::Column { column: column.id, collate, desc: rng.chance(30) });
            }
            unique_ok &= !fk.contains(&column.id);
        }
        let predicate = if rng.chance(25) { rng.pick(&stored).map(|c| c.id) } else { None };
        let table = table.id;
        self.indexes.push(Index {
            name: names.fresh(rng, "ix"),
            table,
            unique: unique_ok && rng.chance(40),
            keys,
            predicate,
        });
    }

    fn add_view(&mut self, rng: &mut Rng, names: &mut Names) {
        let on_view = !self.views.is_empty() && rng.chance(30);
        let source = if on_view {
            Source::View(rng.pick(&self.views).unwrap().id)
        } else {
            match rng.pick(&self.tables) {
                Some(t) => Source::Table(t.id),
                None => return,
            }
        };
        let available: Vec<ViewColumn> = match &source {
            Source::Table(t) => self.table(*t).unwrap().columns.iter().map(|c| ViewColumn::Column(c.id)).collect(),
            Source::View(v) => self.view_outputs(self.view(*v).unwrap()).into_iter().map(ViewColumn::Output).collect(),
        };
        let mut columns = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let Some(column) = rng.pick(&available).cloned() else { return };
            let alias = rng.chance(40).then(|| names.fresh(rng, "o"));
            columns.push((column, alias));
        }
        let view = View {
            id: names.id(),
            name: names.fresh(rng, "v"),
            source,
            columns,
            literal: rng.chance(40).then(|| {
                let text = *rng.pick(&["it's", "a;b", "x'); DROP TABLE canary; --", "", "é"]).unwrap();
                (text.to_string(), names.fresh(rng, "lit"))
            }),
            filter: rng.chance(40),
            column_list: rng.chance(20),
        };
        self.views.push(view);
    }

    fn add_trigger(&mut self, rng: &mut Rng, names: &mut Names) {
        let on_view = !self.views.is_empty() && rng.chance(25);
        let on = if on_view {
            Source::View(rng.pick(&self.views).unwrap().id)
        } else {
            match rng.pick(&self.tables) {
                Some(t) => Source::Table(t.id),
                None => return,
            }
        };
        let event = *rng.pick(&[Event::Insert, Event::Delete, Event::Update]).unwrap();
        let (mut update_of, mut when) = (Vec::new(), None);
        if let Source::Table(t) = &on {
            let table = self.table(*t).unwrap();
            let stored: Vec<usize> = table.columns.iter().filter(|c| c.generated.is_none()).map(|c| c.id).collect();
            if event == Event::Update && rng.chance(50) {
                update_of.extend(rng.pick(&stored).copied());
            }
            if rng.chance(40) {
                when = rng.pick(&stored).copied();
            }
        }
        let body = match rng.below(3) {
            0 => Body::Raise,
            1 => {
                let Some(target) = rng.pick(&self.tables) else { return };
                let stored: Vec<usize> =
                    target.columns.iter().filter(|c| c.generated.is_none()).map(|c| c.id).collect();
                match rng.pick(&stored) {
                    Some(&column) => Body::Touch { table: target.id, column },
                    None => Body::Select,
                }
            }
            _ => Body::Select,
        };
        self.triggers.push(Trigger {
            name: names.fresh(rng, "tr"),
            before: !on_view && rng.chance(50),
            on,
            event,
            update_of,
            when,
            body,
        });
    }

    /// A view's output column names.
    fn view_outputs(&self, view: &View) -> Vec<String> {
        let mut out: Vec<String> = view
            .columns
            .iter()
            .map(|(column, alias)| match (alias, column) {
                (Some(alias), _) => alias.clone(),
                (None, ViewColumn::Output(name)) => name.clone(),
                (None, ViewColumn::Column(id)) => match &view.source {
                    Source::Table(t) => self.table(*t).and_then(|t| t.column(*id)).map(|c| c.name.clone()),
                    Source::View(_) => None,
                }
                .unwrap_or_default(),
            })
            .collect();
        if let Some((_, name)) = &view.literal {
            out.push(name.clone());
        }
        out
    }

    fn some_table(&mut self, rng: &mut Rng) -> Option<&mut Table> {
        let i = rng.below(self.tables.len());
        self.tables.get_mut(i)
    }

    fn edit(&mut self, rng: &mut Rng, names: &mut Names) {
        match rng.below(26) {
            0 => self.add_table(rng, names),
            1 if !self.tables.is_empty() => {
                let i = rng.below(self.tables.len());
                self.tables.remove(i);
            }
            2 => {
                // Rename a table (declared with a hint).
                let Some(table) = self.some_table(rng) else { return };
                if table.renamed_from.is_none() {
                    table.renamed_from = Some(std::mem::take(&mut table.name));
                    table.name = names.fresh(rng, "t");
                }
            }
            3..=5 => {
                let Some(i) = (!self.tables.is_empty()).then(|| rng.below(self.tables.len())) else { return };
                let column = Model::new_column(rng, names, &self.tables[i]);
                self.tables[i].columns.push(column);
            }
            6 | 7 => {
                let Some(table) = self.some_table(rng) else { return };
                let key = table.pk.columns();
                let droppable: Vec<usize> =
                    table.columns.iter().filter(|c| !key.contains(&c.id)).map(|c| c.id).collect();
                if droppable.len() > 1 || (droppable.len() == 1 && table.columns.len() > 1) {
                    let id = *rng.pick(&droppable).unwrap();
                    table.columns.retain(|c| c.id != id);
                }
            }
            8..=13 => {
                let Some(table) = self.some_table(rng) else { return };
                let strict = table.strict;
                let i = rng.below(table.columns.len());
                let Some(column) = table.columns.get_mut(i) else { return };
                column_edit(rng, names, column, strict);
            }
            14 => {
                let Some(table) = self.some_table(rng) else { return };
                match rng.below(4) {
                    0 => table.uniques.clear(),
                    1 => table.checks.clear(),
                    2 => table.fks.clear(),
                    _ => {
                        for c in &mut table.columns {
                            c.unique = false;
                            c.check = None;
                        }
                    }
                }
            }
            15 | 16 => {
                let Some(i) = (!self.tables.is_empty()).then(|| rng.below(self.tables.len())) else { return };
                let mut table = self.tables[i].clone();
                self.add_table_feature(rng, names, &mut table);
                self.tables[i] = table;
            }
            17 => {
                let Some(table) = self.some_table(rng) else { return };
                for fk in &mut table.fks {
                    fk.on_delete = rng.pick(&ACTIONS).copied().unwrap();
                    fk.deferred = !fk.deferred;
                }
            }
            18 => {
                let Some(table) = self.some_table(rng) else { return };
                match rng.below(3) {
                    0 => table.without_rowid = !table.without_rowid,
                    1 => table.strict = !table.strict,
                    _ => {
                        if let Pk::Rowid { autoincrement, .. } = &mut table.pk {
                            *autoincrement = !*autoincrement;
                        }
                    }
                }
            }
            19 => {
                // A different primary key: another column, or none.
                let Some(table) = self.some_table(rng) else { return };
                let fk = table.fk_columns();
                let candidates: Vec<usize> = table
                    .columns
                    .iter()
                    .filter(|c| c.generated.is_none() && !fk.contains(&c.id))
                    .map(|c| c.id)
                    .collect();
                table.pk = match rng.pick(&candidates) {
                    Some(&column) if rng.chance(80) => Pk::Keys {
                        name: None,
                        columns: vec![(column, rng.chance(20))],
                        inline: rng.chance(50),
                        conflict: None,
                    },
                    _ => Pk::None,
                };
            }
            20 | 21 => {
                if rng.chance(50) && !self.indexes.is_empty() {
                    let i = rng.below(self.indexes.len());
                    self.indexes.remove(i);
                } else {
                    self.add_index(rng, names);
                }
            }
            22 | 23 => {
                if rng.chance(40) && !self.views.is_empty() {
                    let i = rng.below(self.views.len());
                    if rng.chance(50) {
                        self.views.remove(i);
                    } else {
                        // The same view with another query.
                        let view = &mut self.views[i];
                        view.filter = !view.filter;
                        view.literal = match view.literal.take() {
                            Some(_) => None,
                            None => Some(("it's new".to_string(), names.fresh(rng, "lit"))),
                        };
                    }
                } else {
                    self.add_view(rng, names);
                }
            }
            _ => {
                if rng.chance(40) && !self.triggers.is_empty() {
                    let i = rng.below(self.triggers.len());
                    if rng.chance(50) {
                        self.triggers.remove(i);
                    } else {
                        let trigger = &mut self.triggers[i];
                        trigger.when = None;
                        trigger.body = Body::Select;
                    }
                } else {
                    self.add_trigger(rng, names);
                }
            }
        }
    }

    /// Makes the model valid for SQLite and for the rows: drops what refers to what is gone, and fixes
    /// what a table's options require.
    fn settle(&mut self) {
        // A table keeps at least one stored column (its generated ones may have lost their source).
        self.tables.retain(|t| t.columns.iter().any(|c| c.generated.is_none()));
        let tables: BTreeSet<usize> = self.tables.iter().map(|t| t.id).collect();
        let snapshot = self.tables.clone();
        let parent_keys = |parent: usize, columns: &[usize], child: &Table| -> bool {
            let parent = if parent == child.id { Some(child) } else { snapshot.iter().find(|t| t.id == parent) };
            let Some(parent) = parent else { return false };
            let set: BTreeSet<usize> = columns.iter().copied().collect();
            let pk: BTreeSet<usize> = parent.pk.columns().into_iter().collect();
            set == pk
                || parent
                    .uniques
                    .iter()
                    .any(|u| u.collate.is_none() && u.columns.iter().copied().collect::<BTreeSet<_>>() == set)
                || (columns.len() == 1 && parent.columns.iter().any(|c| c.unique && c.id == columns[0]))
        };
        let mut settled = Vec::new();
        for table in &self.tables {
            let mut t = table.clone();
            // Generated columns read a stored column of the table.
            let stored: BTreeSet<usize> = t.columns.iter().filter(|c| c.generated.is_none()).map(|c| c.id).collect();
            t.columns.retain(|c| c.generated.as_ref().is_none_or(|g| stored.contains(&g.source)));
            for c in &mut t.columns {
                if let Some(g) = &c.generated {
                    let source = table.column(g.source).unwrap();
                    c.class = source.class.generated(g.kind, "x").1;
                    c.default = None;
                    c.unique = false;
                    c.collate = None;
                    // The source may be NULL, and so the generated value.
                    c.not_null = false;
                }
            }
            // A primary key of stored columns; the rowid is an INTEGER column.
            let pk_ok = t.pk.columns().iter().all(|c| t.stored(*c));
            if !pk_ok {
                t.pk = Pk::None;
            }
            if let Pk::Rowid { column, autoincrement } = &mut t.pk {
                if t.without_rowid {
                    *autoincrement = false;
                }
                if let Some(c) = t.columns.iter_mut().find(|c| c.id == *column) {
                    c.ty = "INTEGER".into();
                    c.class = Class::Int;
                    c.default = None;
                    c.collate = None;
                }
            }
            if let Pk::Keys { columns, .. } = &mut t.pk {
                columns.dedup_by_key(|(c, _)| *c);
            }
            if t.pk == Pk::None {
                t.without_rowid = false;
            }
            // STRICT tables declare one of the strict types for every column.
            let strict = t.strict;
            for c in &mut t.columns {
                let allowed = if strict { c.class.strict_types() } else { c.class.loose_types() };
                if !allowed.contains(&c.ty.as_str()) {
                    c.ty = allowed[0].to_string();
                }
                if c.class != Class::Text {
                    c.collate = None;
                }
            }
            let columns: BTreeSet<usize> = t.columns.iter().map(|c| c.id).collect();
            let stored: BTreeSet<usize> = t.columns.iter().filter(|c| c.generated.is_none()).map(|c| c.id).collect();
            t.uniques.retain(|u| u.columns.iter().all(|c| stored.contains(c)));
            t.checks.retain(|k| k.columns.iter().all(|(c, _)| columns.contains(c)));
            // Foreign keys: from stored columns that are in no key, to a parent's key of the same classes.
            let keyed = t.keyed();
            let checked = t.clone();
            t.fks.retain(|f| {
                tables.contains(&f.parent)
                    && f.columns.iter().all(|c| stored.contains(c) && !keyed.contains(c))
                    && parent_keys(f.parent, &f.parent_columns, &checked)
                    && {
                        let parent = if f.parent == checked.id {
                            Some(&checked)
                        } else {
                            snapshot.iter().find(|p| p.id == f.parent)
                        };
                        parent.is_some_and(|p| {
                            f.parent_columns.iter().zip(&f.columns).all(|(pc, cc)| {
                                match (p.column(*pc), checked.column(*cc)) {
                                    (Some(pc), Some(cc)) => pc.class == cc.class && pc.generated.is_none(),
                                    _ => false,
                                }
                            })
                        })
                    }
            });
            let fk_columns = t.fk_columns();
            for f in &mut t.fks {
                let parent =
                    if f.parent == table.id { Some(table) } else { snapshot.iter().find(|p| p.id == f.parent) };
                let pk = parent.map(|p| p.pk.columns()).unwrap_or_default();
                if f.implicit && pk != f.parent_columns {
                    f.implicit = false;
                }
            }
            // Two foreign keys of one column would need values that match both parents.
            let mut seen = BTreeSet::new();
            t.fks.retain(|f| f.columns.iter().all(|c| seen.insert(*c)));
            let _ = fk_columns;
            settled.push(t);
        }
        self.tables = settled;
        let model = self.clone();
        self.indexes.retain_mut(|i| {
            let Some(table) = model.table(i.table) else { return false };
            if !i.columns().iter().all(|c| table.stored(*c)) {
                return false;
            }
            let fk = table.fk_columns();
            if i.columns().iter().any(|c| fk.contains(c)) {
                i.unique = false;
            }
            true
        });
        // Views, in order (a view reads an earlier one).
        let mut kept: Vec<View> = Vec::new();
        for view in &self.views {
            let ok = match &view.source {
                Source::Table(t) => self.table(*t).is_some_and(|table| {
                    view.columns.iter().all(|(c, _)| matches!(c, ViewColumn::Column(id) if table.column(*id).is_some()))
                }),
                Source::View(v) => kept.iter().find(|k| k.id == *v).is_some_and(|source| {
                    let partial = Model { tables: self.tables.clone(), views: kept.clone(), ..Model::default() };
                    let outputs = partial.view_outputs(source);
                    view.columns.iter().all(|(c, _)| matches!(c, ViewColumn::Output(name) if outputs.contains(name)))
                }),
            };
            if ok {
                kept.push(view.clone());
            }
        }
        // Output names of a view are distinct.
        let partial = Model { tables: self.tables.clone(), views: kept.clone(), ..Model::default() };
        kept.retain(|v| {
            let outputs = partial.view_outputs(v);
            outputs.iter().collect::<BTreeSet<_>>().len() == outputs.len() && outputs.iter().all(|o| !o.is_empty())
        });
        // A view that read a dropped one goes too.
        loop {
            let ids: BTreeSet<usize> = kept.iter().map(|v| v.id).collect();
            let before = kept.len();
            kept.retain(|v| match v.source {
                Source::View(s) => ids.contains(&s),
                Source::Table(_) => true,
            });
            if kept.len() == before {
                break;
            }
        }
        self.views = kept;
        let model = self.clone();
        self.triggers.retain(|t| {
            let target_ok = match &t.on {
                Source::Table(id) => {
                    model.table(*id).is_some_and(|table| t.update_of.iter().chain(&t.when).all(|c| table.stored(*c)))
                }
                Source::View(id) => model.view(*id).is_some(),
            };
            let body_ok = match &t.body {
                Body::Touch { table, column } => model.table(*table).is_some_and(|tb| tb.stored(*column)),
                Body::Raise | Body::Select => true,
            };
            target_ok && body_ok
        });
    }

    /// CREATE statements: tables, indexes, views, triggers (rows go between tables and the rest).
    /// `hints` writes the rename annotations of the declared side.
    fn render(&self, hints: bool) -> Vec<String> {
        let mut out: Vec<String> = self.tables.iter().map(|t| self.render_table(t, hints)).collect();
        out.extend(self.render_rest());
        out
    }

    fn render_rest(&self) -> Vec<String> {
        let mut out = Vec::new();
        for index in &self.indexes {
            let table = self.table(index.table).unwrap();
            let name = |id: usize| q(&table.column(id).unwrap().name);
            let keys: Vec<String> = index
                .keys
                .iter()
                .map(|k| match k {
                    Key::Column { column, collate, desc } => format!(
                        "{}{}{}",
                        name(*column),
                        collate.map(|c| format!(" COLLATE {c}")).unwrap_or_default(),
                        if *desc { " DESC" } else { "" }
                    ),
                    Key::Expr { column, kind } => {
                        table.column(*column).unwrap().class.index_expr(*kind, &name(*column)).0
                    }
                })
                .collect();
            let predicate = index
                .predicate
                .map(|c| format!(" WHERE {}", table.column(c).unwrap().class.predicate(&name(c))))
                .unwrap_or_default();
            out.push(format!(
                "CREATE {}INDEX {} ON {} ({}){predicate};",
                if index.unique { "UNIQUE " } else { "" },
                q(&index.name),
                q(&table.name),
                keys.join(", ")
            ));
        }
        for view in &self.views {
            out.push(self.render_view(view));
        }
        for trigger in &self.triggers {
            out.push(self.render_trigger(trigger));
        }
        out
    }

    fn render_table(&self, t: &Table, hints: bool) -> String {
        let name = |id: usize| q(&t.column(id).unwrap().name);
        let mut items = Vec::new();
        for c in &t.columns {
            let mut sql = String::new();
            if hints && let Some(old) = &c.renamed_from {
                sql.push_str(&format!("-- schema:renamed-from {old}\n    "));
            }
            sql.push_str(&q(&c.name));
            if !c.ty.is_empty() {
                sql.push_str(&format!(" {}", c.ty));
            }
            match &t.pk {
                Pk::Rowid { column, autoincrement } if *column == c.id => {
                    sql.push_str(" PRIMARY KEY");
                    if *autoincrement {
                        sql.push_str(" AUTOINCREMENT");
                    }
                }
                Pk::Keys { columns, inline: true, conflict, .. } if columns.len() == 1 && columns[0].0 == c.id => {
                    sql.push_str(if columns[0].1 { " PRIMARY KEY DESC" } else { " PRIMARY KEY" });
                    if let Some(conflict) = conflict {
                        sql.push_str(&format!(" ON CONFLICT {conflict}"));
                    }
                }
                _ => {}
            }
            if c.not_null {
                sql.push_str(" NOT NULL");
            }
            if let Some(collate) = c.collate {
                sql.push_str(&format!(" COLLATE {collate}"));
            }
            if let Some(default) = &c.default {
                sql.push_str(&format!(" DEFAULT {default}"));
            }
            if let Some(g) = &c.generated {
                let source = t.column(g.source).unwrap();
                let (expr, _) = source.class.generated(g.kind, &q(&source.name));
                sql.push_str(&format!(" GENERATED ALWAYS AS ({expr}) {}", if g.stored { "STORED" } else { "VIRTUAL" }));
            }
            if c.unique {
                sql.push_str(" UNIQUE");
            }
            if let Some(kind) = c.check {
                sql.push_str(&format!(" CHECK ({})", c.class.check(kind, &q(&c.name))));
            }
            items.push(sql);
        }
        if let Pk::Keys { name: key_name, columns, inline, conflict } = &t.pk
            && !(*inline && columns.len() == 1)
        {
            let keys: Vec<String> =
                columns.iter().map(|(c, desc)| format!("{}{}", name(*c), if *desc { " DESC" } else { "" })).collect();
            items.push(format!(
                "{}PRIMARY KEY ({}){}",
                key_name.as_ref().map(|n| format!("CONSTRAINT {} ", q(n))).unwrap_or_default(),
                keys.join(", "),
                conflict.map(|c| format!(" ON CONFLICT {c}")).unwrap_or_default()
            ));
        }
        for u in &t.uniques {
            let keys: Vec<String> = u
                .columns
                .iter()
                .map(|c| format!("{}{}", name(*c), u.collate.map(|k| format!(" COLLATE {k}")).unwrap_or_default()))
                .collect();
            items.push(format!(
                "{}UNIQUE ({}){}",
                u.name.as_ref().map(|n| format!("CONSTRAINT {} ", q(n))).unwrap_or_default(),
                keys.join(", "),
                u.conflict.map(|c| format!(" ON CONFLICT {c}")).unwrap_or_default()
            ));
        }
        for k in &t.checks {
            let parts: Vec<String> =
                k.columns.iter().map(|(c, kind)| t.column(*c).unwrap().class.check(*kind, &name(*c))).collect();
            items.push(format!(
                "{}CHECK ({})",
                k.name.as_ref().map(|n| format!("CONSTRAINT {} ", q(n))).unwrap_or_default(),
                parts.join(" AND ")
            ));
        }
        for f in &t.fks {
            let parent = if f.parent == t.id { t } else { self.table(f.parent).unwrap() };
            let columns: Vec<String> = f.columns.iter().map(|c| name(*c)).collect();
            let parent_columns: Vec<String> =
                f.parent_columns.iter().map(|c| q(&parent.column(*c).unwrap().name)).collect();
            items.push(format!(
                "{}FOREIGN KEY ({}) REFERENCES {}{} ON DELETE {} ON UPDATE {}{}",
                f.name.as_ref().map(|n| format!("CONSTRAINT {} ", q(n))).unwrap_or_default(),
                columns.join(", "),
                q(&parent.name),
                if f.implicit { String::new() } else { format!(" ({})", parent_columns.join(", ")) },
                f.on_delete,
                f.on_update,
                if f.deferred { " DEFERRABLE INITIALLY DEFERRED" } else { "" }
            ));
        }
        let mut options = Vec::new();
        if t.without_rowid {
            options.push("WITHOUT ROWID");
        }
        if t.strict {
            options.push("STRICT");
        }
        let hint = match (&t.renamed_from, hints) {
            (Some(old), true) => format!(" -- schema:renamed-from {old}\n"),
            _ => " ".to_string(),
        };
        format!("CREATE TABLE {}{hint}(\n    {}\n){};", q(&t.name), items.join(",\n    "), options.join(", "))
            .replace(")WITHOUT", ") WITHOUT")
            .replace(")STRICT", ") STRICT")
    }

    fn render_view(&self, view: &View) -> String {
        type ColumnSql<'a> = Box<dyn Fn(&ViewColumn) -> String + 'a>;
        let (from, column_sql): (String, ColumnSql) = match &view.source {
            Source::Table(t) => {
                let table = self.table(*t).unwrap();
                (
                    q(&table.name),
                    Box::new(move |c: &ViewColumn| match c {
                        ViewColumn::Column(id) => q(&table.column(*id).unwrap().name),
                        ViewColumn::Output(name) => q(name),
                    }),
                )
            }
            Source::View(v) => (
                q(&self.view(*v).unwrap().name),
                Box::new(|c: &ViewColumn| match c {
                    ViewColumn::Column(_) => String::new(),
                    ViewColumn::Output(name) => q(name),
                }),
            ),
        };
        let mut select: Vec<String> = view
            .columns
            .iter()
            .map(|(c, alias)| {
                let sql = column_sql(c);
                match alias {
                    Some(alias) if !view.column_list => format!("{sql} AS {}", q(alias)),
                    _ => sql,
                }
            })
            .collect();
        if let Some((text, alias)) = &view.literal {
            select.push(if view.column_list { lit(text) } else { format!("{} AS {}", lit(text), q(alias)) });
        }
        let filter = match (view.filter, view.columns.first()) {
            (true, Some((c, _))) => format!(" WHERE {} IS NOT NULL", column_sql(c)),
            _ => String::new(),
        };
        let list = if view.column_list {
            let outputs: Vec<String> = self.view_outputs(view).iter().map(|o| q(o)).collect();
            format!(" ({})", outputs.join(", "))
        } else {
            String::new()
        };
        format!("CREATE VIEW {}{list} AS SELECT {} FROM {from}{filter};", q(&view.name), select.join(", "))
    }

    fn render_trigger(&self, t: &Trigger) -> String {
        let (target, table) = match &t.on {
            Source::Table(id) => (q(&self.table(*id).unwrap().name), self.table(*id)),
            Source::View(id) => (q(&self.view(*id).unwrap().name), None),
        };
        let column = |id: usize| q(&table.unwrap().column(id).unwrap().name);
        let row = if t.event == Event::Delete { "OLD" } else { "NEW" };
        let timing = match (&t.on, t.before) {
            (Source::View(_), _) => "INSTEAD OF",
            (_, true) => "BEFORE",
            _ => "AFTER",
        };
        let event = match t.event {
            Event::Insert => "INSERT".to_string(),
            Event::Delete => "DELETE".to_string(),
            Event::Update if t.update_of.is_empty() => "UPDATE".to_string(),
            Event::Update => {
                format!("UPDATE OF {}", t.update_of.iter().map(|c| column(*c)).collect::<Vec<_>>().join(", "))
            }
        };
        let when = t.when.map(|c| format!(" WHEN {row}.{} IS NOT NULL", column(c))).unwrap_or_default();
        let body = match &t.body {
            Body::Raise => "SELECT RAISE(ABORT, 'it''s forbidden; --') WHERE 0;".to_string(),
            Body::Touch { table, column } => {
                let target = self.table(*table).unwrap();
                let c = q(&target.column(*column).unwrap().name);
                format!("UPDATE {} SET {c} = {c} WHERE 0;", q(&target.name))
            }
            Body::Select => "SELECT 'it''s';".to_string(),
        };
        format!("CREATE TRIGGER {} {timing} {event} ON {target} FOR EACH ROW{when} BEGIN {body} END;", q(&t.name))
    }
}

fn plain_column(id: usize, name: String, class: Class, ty: &str, not_null: bool) -> Column {
    Column {
        id,
        name,
        renamed_from: None,
        class,
        ty: ty.to_string(),
        not_null,
        default: None,
        collate: None,
        generated: None,
        check: None,
        unique: false,
    }
}

fn pick_type(rng: &mut Rng, class: Class, strict: bool) -> String {
    let types = if strict { class.strict_types() } else { class.loose_types() };
    rng.pick(types).copied().unwrap_or("").to_string()
}

fn column_edit(rng: &mut Rng, names: &mut Names, column: &mut Column, strict: bool) {
    match rng.below(8) {
        0 => column.ty = pick_type(rng, column.class, strict),
        1 => column.not_null = !column.not_null,
        2 => {
            column.default =
                if column.default.is_some() && rng.chance(50) { None } else { Some(column.class.default(rng)) }
        }
        3 if column.class == Class::Text => {
            column.collate = match column.collate {
                Some(_) if rng.chance(50) => None,
                _ => rng.pick(&["NOCASE", "RTRIM"]).copied(),
            }
        }
        4 => {
            if let Some(g) = &mut column.generated {
                if rng.chance(50) {
                    g.stored = !g.stored;
                } else {
                    g.kind = rng.below(3);
                }
            } else {
                column.check = if column.check.is_some() { None } else { Some(rng.below(3)) };
            }
        }
        5 if column.renamed_from.is_none() => {
            column.renamed_from = Some(std::mem::take(&mut column.name));
            column.name = names.fresh(rng, "c");
        }
        6 => {
            // Tightened: NOT NULL with a default (NULLs take the default).
            column.not_null = true;
            if column.default.is_none() && column.generated.is_none() {
                column.default = Some(column.class.default(rng)).filter(|d| d != "NULL");
            }
        }
        _ => column.unique = !column.unique && column.generated.is_none(),
    }
}

/// The rows of `current`, by table id: each row maps column ids to SQL literals.
struct Rows {
    tables: BTreeMap<usize, Vec<BTreeMap<usize, String>>>,
    /// Columns whose NULLs the up fills with the column's new default: their values change by design.
    filled: BTreeSet<(usize, usize)>,
    /// Tables that must refuse (see [`Pair::must_fail`]).
    refused: BTreeSet<usize>,
}

impl Rows {
    fn generate(rng: &mut Rng, current: &Model, desired: &Model, strict_rows: bool) -> Rows {
        let mut counter = 0usize;
        let mut tables: BTreeMap<usize, Vec<BTreeMap<usize, String>>> = BTreeMap::new();
        let mut filled = BTreeSet::new();
        let mut refused = BTreeSet::new();
        // Columns used by a key, constraint or index on either side never hold NULL.
        let constrained = |model: &Model, table: usize| -> BTreeSet<usize> {
            let mut out = BTreeSet::new();
            if let Some(t) = model.table(table) {
                out.extend(t.keyed());
                out.extend(t.fk_columns());
                for f in model.tables.iter().flat_map(|p| &p.fks).filter(|f| f.parent == table) {
                    out.extend(f.parent_columns.iter().copied());
                }
            }
            for i in model.indexes.iter().filter(|i| i.table == table) {
                out.extend(i.columns());
            }
            out
        };
        for table in &current.tables {
            let count = if rng.chance(10) { 0 } else { 1 + rng.below(3) };
            let mut no_null = constrained(current, table.id);
            no_null.extend(constrained(desired, table.id));
            let want = desired.table(table.id);
            let mut rows = Vec::new();
            for _ in 0..count {
                let mut row = BTreeMap::new();
                for c in table.columns.iter().filter(|c| c.generated.is_none()) {
                    counter += 1;
                    let target = want.and_then(|t| t.column(c.id));
                    let null_ok = !c.not_null && !no_null.contains(&c.id) && rng.chance(25);
                    let null = null_ok
                        && match target {
                            Some(t) if t.not_null && t.default.as_deref().is_none_or(|d| d == "NULL") => strict_rows,
                            _ => true,
                        };
                    let value = if null { "NULL".to_string() } else { value(c.class, counter) };
                    if null && let Some(t) = target.filter(|t| t.not_null) {
                        if t.default.as_deref().is_none_or(|d| d == "NULL") {
                            refused.insert(table.id);
                        } else {
                            filled.insert((table.id, c.id));
                        }
                    }
                    row.insert(c.id, value);
                }
                rows.push(row);
            }
            tables.insert(table.id, rows);
        }
        // Foreign key columns take the values of a parent row (current's keys, then desired's).
        for (side, model) in [current, desired].into_iter().enumerate() {
            for table in &model.tables {
                let Some(child_now) = current.table(table.id) else { continue };
                let keyed = child_now.keyed();
                let current_fks = child_now.fk_columns();
                for f in &table.fks {
                    // A column keeps the values of the parent it has now.
                    if side == 1 && f.columns.iter().any(|c| current_fks.contains(c)) {
                        continue;
                    }
                    let usable = f.columns.iter().all(|c| child_now.stored(*c) && !keyed.contains(c))
                        && current.table(f.parent).is_some_and(|p| f.parent_columns.iter().all(|c| p.stored(*c)));
                    if !usable {
                        continue;
                    }
                    let parents: Vec<Vec<String>> = tables[&f.parent]
                        .iter()
                        .map(|r| f.parent_columns.iter().map(|c| r[c].clone()).collect())
                        .collect();
                    let children = tables.get_mut(&table.id).unwrap();
                    for row in children.iter_mut() {
                        if f.columns.iter().any(|c| row.get(c).is_some_and(|v| v == "NULL")) {
                            continue;
                        }
                        match rng.pick(&parents) {
                            Some(values) => {
                                for (c, v) in f.columns.iter().zip(values) {
                                    row.insert(*c, v.clone());
                                }
                            }
                            None if f.columns.iter().all(|c| !child_now.column(*c).unwrap().not_null) => {
                                for c in &f.columns {
                                    row.insert(*c, "NULL".into());
                                }
                            }
                            None => {}
                        }
                    }
                }
            }
        }
        // NULLs left by the foreign keys (no parent row to point at) meet a NOT NULL column of the
        // desired side like any other.
        for (table, rows) in &tables {
            let Some(want) = desired.table(*table) else { continue };
            for (c, _) in rows.iter().flat_map(|r| r.iter()).filter(|(_, v)| *v == "NULL") {
                let Some(t) = want.column(*c).filter(|t| t.not_null && t.generated.is_none()) else { continue };
                if t.default.as_deref().is_none_or(|d| d == "NULL") {
                    refused.insert(*table);
                } else {
                    filled.insert((*table, *c));
                }
            }
        }
        // A new NOT NULL column without a default on a table with rows.
        for table in &desired.tables {
            let Some(rows) = tables.get(&table.id) else { continue };
            let added =
                table.columns.iter().filter(|c| current.table(table.id).is_some_and(|t| t.column(c.id).is_none()));
            for c in added {
                if c.not_null
                    && c.generated.is_none()
                    && c.default.as_deref().is_none_or(|d| d == "NULL")
                    && !rows.is_empty()
                {
                    refused.insert(table.id);
                }
            }
        }
        if !strict_rows {
            refused.clear();
        }
        // A new key column of a WITHOUT ROWID table is NOT NULL whatever it says, and the repair's
        // default cannot be given to it: the rows cannot take it.
        for table in desired.tables.iter().filter(|t| t.without_rowid) {
            let Some(rows) = tables.get(&table.id).filter(|r| !r.is_empty()) else { continue };
            let added = |c: &usize| !rows[0].contains_key(c) && table.column(*c).is_some_and(|c| c.generated.is_none());
            let key = table.pk.columns();
            if key
                .iter()
                .any(|c| added(c) && table.column(*c).is_some_and(|c| c.default.as_deref().is_none_or(|d| d == "NULL")))
            {
                refused.insert(table.id);
            }
        }
        Rows { tables, filled, refused }
    }

    /// Takes out of `desired` what the rows cannot satisfy (unless the pair is one that must refuse):
    /// foreign keys whose parent rows are missing, keys over repeated values, NOT NULL columns without
    /// a value.
    fn repair(&self, desired: &mut Model) {
        let rows = &self.tables;
        let fresh: BTreeSet<usize> = desired.tables.iter().map(|t| t.id).filter(|t| !rows.contains_key(t)).collect();
        for table in &mut desired.tables {
            let Some(own) = rows.get(&table.id) else { continue };
            let values = |columns: &[usize], folded: bool| -> Option<Vec<Vec<String>>> {
                own.iter()
                    .map(|r| {
                        columns
                            .iter()
                            .map(|c| r.get(c).map(|v| if folded { v.to_lowercase() } else { v.clone() }))
                            .collect::<Option<Vec<String>>>()
                    })
                    .collect()
            };
            let distinct = |columns: &[usize], folded: bool| -> bool {
                let Some(all) = values(columns, folded) else { return true };
                let non_null: Vec<&Vec<String>> = all.iter().filter(|v| !v.iter().any(|x| x == "NULL")).collect();
                non_null.iter().collect::<BTreeSet<_>>().len() == non_null.len()
            };
            if !distinct(&table.pk.columns(), false) {
                table.pk = Pk::None;
                table.without_rowid = false;
            }
            table.uniques.retain(|u| distinct(&u.columns, true));
            let single: Vec<usize> = table.columns.iter().filter(|c| c.unique).map(|c| c.id).collect();
            for id in single {
                if !distinct(&[id], true)
                    && let Some(c) = table.columns.iter_mut().find(|c| c.id == id)
                {
                    c.unique = false;
                }
            }
            table.fks.retain(|f| {
                if fresh.contains(&f.parent) {
                    return own.iter().all(|r| f.columns.iter().any(|c| r.get(c).is_none_or(|v| v == "NULL")));
                }
                let Some(parent_rows) = rows.get(&f.parent) else { return true };
                let parents: BTreeSet<Vec<String>> = parent_rows
                    .iter()
                    .filter_map(|r| f.parent_columns.iter().map(|c| r.get(c).cloned()).collect::<Option<Vec<_>>>())
                    .collect();
                own.iter().all(|r| {
                    let child: Option<Vec<String>> = f.columns.iter().map(|c| r.get(c).cloned()).collect();
                    match child {
                        None => parent_rows.is_empty() || own.is_empty(),
                        Some(v) if v.iter().any(|x| x == "NULL") => true,
                        Some(v) => parents.contains(&v),
                    }
                })
            });
            if self.refused.is_empty() {
                // NOT NULL columns that the rows leave without a value get a default; a foreign key
                // column becomes nullable instead (a default would point at no parent row).
                let fk_columns = table.fk_columns();
                for c in &mut table.columns {
                    let holds_null = own.iter().any(|r| r.get(&c.id).is_some_and(|v| v == "NULL"));
                    let new = own.first().is_some_and(|r| !r.contains_key(&c.id)) && c.generated.is_none();
                    if c.not_null && c.default.as_deref().is_none_or(|d| d == "NULL") && (holds_null || new) {
                        if fk_columns.contains(&c.id) {
                            c.not_null = false;
                        } else {
                            c.default = Some(value(c.class, 0));
                        }
                    }
                }
            }
        }
        let model = desired.clone();
        for index in &mut desired.indexes {
            let Some(own) = rows.get(&index.table) else { continue };
            if !index.unique {
                continue;
            }
            let Some(table) = model.table(index.table) else { continue };
            let exprs = index.keys.iter().any(|k| matches!(k, Key::Expr { .. }));
            let columns: Vec<usize> = index
                .keys
                .iter()
                .map(|k| match k {
                    Key::Column { column, .. } | Key::Expr { column, .. } => *column,
                })
                .collect();
            let tuples: Vec<Vec<String>> = own
                .iter()
                .map(|r| columns.iter().map(|c| r.get(c).cloned().unwrap_or_default().to_lowercase()).collect())
                .collect();
            let non_null: Vec<&Vec<String>> = tuples.iter().filter(|t| !t.iter().any(|v| v == "null")).collect();
            if non_null.iter().collect::<BTreeSet<_>>().len() != non_null.len()
                || (exprs && own.len() > 1 && table.fk_columns().iter().any(|c| columns.contains(c)))
            {
                index.unique = false;
            }
        }
        desired.settle();
    }

    fn must_fail(&self, current: &Model, desired: &Model) -> Vec<String> {
        self.refused.iter().filter_map(|id| current.table(*id).or(desired.table(*id)).map(|t| t.name.clone())).collect()
    }

    /// The tables of both sides and the columns whose values must survive.
    fn kept(&self, current: &Model, desired: &Model) -> Vec<super::sqlite::Kept> {
        let mut out = Vec::new();
        for table in &current.tables {
            let Some(want) = desired.table(table.id) else { continue };
            let mut before = Vec::new();
            let mut after = Vec::new();
            for c in table.columns.iter().filter(|c| c.generated.is_none()) {
                let Some(w) = want.column(c.id).filter(|w| w.generated.is_none()) else { continue };
                // NULLs under a column that becomes NOT NULL take its default (one [`Rows::repair`]
                // may have given it): their values change by design.
                let holds_null =
                    self.tables.get(&table.id).into_iter().flatten().any(|r| r.get(&c.id).is_some_and(|v| v == "NULL"));
                if self.filled.contains(&(table.id, c.id)) || (holds_null && w.not_null) {
                    continue;
                }
                before.push(c.name.clone());
                after.push(w.name.clone());
            }
            let autoincrement = |t: &Table| matches!(t.pk, Pk::Rowid { autoincrement: true, .. });
            out.push(super::sqlite::Kept {
                before: (table.name.clone(), before),
                after: (want.name.clone(), after),
                sequence: autoincrement(table) && autoincrement(want),
            });
        }
        out
    }

    fn render(&self, current: &Model) -> String {
        let mut out = Vec::new();
        for table in &current.tables {
            for row in self.tables.get(&table.id).into_iter().flatten() {
                let columns: Vec<String> = row.keys().map(|c| q(&table.column(*c).unwrap().name)).collect();
                let values: Vec<&str> = row.values().map(String::as_str).collect();
                out.push(format!(
                    "INSERT INTO {} ({}) VALUES ({});",
                    q(&table.name),
                    columns.join(", "),
                    values.join(", ")
                ));
            }
        }
        out.join("\n")
    }
}

/// The `n`th value of a class, as an SQL literal: distinct for distinct `n`, passing every check of the
/// class, and never a number when it is text.
fn value(class: Class, n: usize) -> String {
    match class {
        Class::Int => (n * 7 + 1).to_string(),
        Class::Real => format!("{n}.5"),
        Class::Text => {
            let templates = ["v{}", "it's {}", "a;b {}", "x'); DROP TABLE canary; --{}", "é{}", "--{}", "\"{}\""];
            lit(&templates[n % templates.len()].replace("{}", &n.to_string()))
        }
        Class::Blob => format!("x'{:04x}'", n),
    }
}

/// What happened to one pair. A stage not reached is `false`.
#[derive(Debug, Default)]
pub struct PairOutcome {
    pub seed: u64,
    pub up: bool,
    pub noop: bool,
    pub down: bool,
    /// The pair must be refused, and was.
    pub refused: bool,
    /// The down failed whole where its up reported data loss it cannot give back.
    pub down_refused: bool,
    /// Why a pair was refused (the error it failed with).
    pub note: Option<String>,
    pub files: Vec<(String, String)>,
    pub failure: Option<String>,
}

/// Runs the pairs of `seeds`, `jobs` at a time (each pair has its own database files), in seed order.
pub async fn check_pairs(seeds: impl IntoIterator<Item = u64>, jobs: usize) -> anyhow::Result<Vec<PairOutcome>> {
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            let mut tasks = Vec::new();
            for seed in seeds {
                let permit = semaphore.clone().acquire_owned().await?;
                tasks.push(tokio::task::spawn_local(async move {
                    let outcome = check_pair(&pair(seed)).await;
                    drop(permit);
                    outcome
                }));
            }
            let mut outcomes = Vec::new();
            for task in tasks {
                outcomes.push(task.await?);
            }
            anyhow::Ok(outcomes)
        })
        .await
}

/// Both sides of every pair load in SQLite as they are written (rows included): a check of the grammar.
pub async fn validate(seed: u64) -> anyhow::Result<()> {
    let pair = pair(seed);
    let dir = tempfile::tempdir()?;
    let (a, b) = (super::sqlite::url(&dir.path().join("a.db")), super::sqlite::url(&dir.path().join("b.db")));
    let (tables, rest) = split_current(&pair.current);
    super::sqlite::load_sql(&a, &format!("{tables}\n{}\n{rest}", pair.rows))
        .await
        .map_err(|e| anyhow::anyhow!("current: {e:#}"))?;
    let problems = super::sqlite::problems(&a).await?;
    anyhow::ensure!(problems.is_empty(), "current's rows: {problems:?}");
    super::sqlite::load_sql(&b, &pair.desired).await.map_err(|e| anyhow::anyhow!("desired: {e:#}"))?;
    Ok(())
}

/// The CREATE TABLE statements of a rendered side, apart from the rest (rows go between).
fn split_current(sql: &str) -> (String, String) {
    let at = sql
        .find("\nCREATE INDEX ")
        .into_iter()
        .chain(sql.find("\nCREATE UNIQUE INDEX "))
        .chain(sql.find("\nCREATE VIEW "))
        .chain(sql.find("\nCREATE TRIGGER "))
        .min()
        .unwrap_or(sql.len());
    (sql[..at].to_string(), sql[at..].to_string())
}

/// One pair through the round trip as a user runs it: current (with its rows) in a file, the declared
/// side in a schema directory, plan, write the files, `migrate up --contract` with the tool's runner,
/// compare the schema with the desired side loaded alone and the rows with what was there, plan again
/// (nothing), `migrate down --all`, compare schema and rows with the current side.
pub async fn check_pair(pair: &Pair) -> PairOutcome {
    let mut outcome = PairOutcome { seed: pair.seed, ..PairOutcome::default() };
    if let Err(e) = stages(pair, &mut outcome).await {
        outcome.failure = Some(format!("{e:#}"));
    }
    outcome
}

async fn stages(pair: &Pair, outcome: &mut PairOutcome) -> anyhow::Result<()> {
    use super::roundtrip::{self, TRACKING};
    use super::sqlite::{fingerprint, lost_rows, problems};
    use anyhow::{Context, bail};
    let dir = tempfile::tempdir()?;
    let path = |name: &str| super::sqlite::url(&dir.path().join(name));
    let (db, original, reference) = (path("app.db"), path("original.db"), path("desired.db"));
    let (tables, rest) = split_current(&pair.current);
    let current = format!("{tables}\n{}\n{rest}", pair.rows);
    super::sqlite::load_sql(&db, &current).await.context("loading current")?;
    super::sqlite::load_sql(&original, &current).await.context("loading current")?;
    super::sqlite::load_sql(&reference, &pair.desired).await.context("loading desired")?;
    let (expected_up, expected_down) = (fingerprint(&reference, None).await?, fingerprint(&original, None).await?);

    let work = dir.path().join("work");
    let mut settings = roundtrip::file_settings(&db, &work)?;
    settings.migrate.table = crate::model::QualifiedName::new("main", TRACKING);
    std::fs::write(settings.schema_dir.join("schema.sql"), &pair.declared)?;
    let migration = crate::pipeline::migration(&settings).await.context("planning")?;
    outcome.files = roundtrip::write_generated(&settings, &migration)?;
    if !pair.must_fail.is_empty() {
        let flagged: BTreeSet<String> = migration
            .up
            .hazards()
            .filter(|(_, h)| h.id == crate::safety::HazardId::NotNullWithoutDefault)
            .filter_map(|(_, h)| h.table.as_ref().map(|t| t.name.as_str().to_string()))
            .collect();
        for table in &pair.must_fail {
            if !flagged.contains(table) {
                bail!(
                    "the rows of {table} cannot take the desired schema, and the plan does not report not-null-without-default for it"
                );
            }
        }
        if roundtrip::run_migrations(&settings, true).await.is_ok() {
            bail!("the rows of {:?} cannot take the desired schema, yet migrate up succeeded", pair.must_fail);
        }
        let after = fingerprint(&db, Some(TRACKING)).await?;
        if after != expected_down {
            bail!("a failed migrate up changed the schema:\n{}", roundtrip::fingerprint_diff(&expected_down, &after));
        }
        let keep: Vec<super::sqlite::Kept> = pair
            .kept
            .iter()
            .map(|k| super::sqlite::Kept { before: k.before.clone(), after: k.before.clone(), sequence: k.sequence })
            .collect();
        let lost = lost_rows(&original, &db, &keep).await?;
        if !lost.is_empty() {
            bail!("a failed migrate up changed rows:\n{lost}");
        }
        outcome.refused = true;
        return Ok(());
    }
    if let Err(e) = roundtrip::run_migrations(&settings, true).await {
        // The rows may hold what the plan warned cannot be copied (a new UNIQUE column with one
        // constant default on a table of two rows or more): a failure it reported, if it fails whole.
        use crate::safety::HazardId;
        let warned = migration
            .up
            .hazards()
            .any(|(_, h)| matches!(h.id, HazardId::UniqueConstantDefault | HazardId::NotNullWithoutDefault));
        if warned && fingerprint(&db, Some(TRACKING)).await? == expected_down {
            outcome.refused = true;
            outcome.note = Some(format!("{e:#}"));
            return Ok(());
        }
        return Err(e).context("schema migrate up");
    }
    let after_up = fingerprint(&db, Some(TRACKING)).await?;
    if after_up != expected_up {
        bail!("after up, the database differs from desired:\n{}", roundtrip::fingerprint_diff(&expected_up, &after_up));
    }
    let lost = lost_rows(&original, &db, &pair.kept).await?;
    if !lost.is_empty() {
        bail!("after up, rows were lost or changed:\n{lost}");
    }
    let broken = problems(&db).await?;
    if !broken.is_empty() {
        bail!("after up: {broken:?}");
    }
    outcome.up = true;
    let again = crate::pipeline::migration(&settings).await.context("planning again")?;
    if !again.up.is_empty() {
        let steps: Vec<String> = again.up.steps.iter().map(|s| s.description.clone()).collect();
        bail!("after up, a second plan is not empty: {}", steps.join("; "));
    }
    outcome.noop = true;
    if let Err(e) = roundtrip::run_migrations(&settings, false).await {
        // A down cannot give back what its up destroyed: a dropped column that comes back NOT NULL
        // without a default, or UNIQUE with a default, or rows whose parent table was dropped. Such a
        // down may fail when the up reported the data loss, as long as it fails whole.
        use crate::safety::HazardId;
        let lost =
            migration.up.hazards().any(|(_, h)| matches!(h.id, HazardId::DataLossTable | HazardId::DataLossColumn))
                || migration
                    .down
                    .hazards()
                    .any(|(_, h)| matches!(h.id, HazardId::UniqueConstantDefault | HazardId::NotNullWithoutDefault));
        let unchanged = fingerprint(&db, Some(TRACKING)).await? == expected_up;
        if lost && unchanged {
            outcome.down_refused = true;
            outcome.note = Some(format!("{e:#}"));
            return Ok(());
        }
        return Err(e).context("schema migrate down");
    }
    let after_down = fingerprint(&db, Some(TRACKING)).await?;
    if after_down != expected_down {
        bail!(
            "after down, the database differs from current:\n{}",
            roundtrip::fingerprint_diff(&expected_down, &after_down)
        );
    }
    let back: Vec<super::sqlite::Kept> = pair
        .kept
        .iter()
        .map(|k| super::sqlite::Kept { before: k.before.clone(), after: k.before.clone(), sequence: k.sequence })
        .collect();
    let lost = lost_rows(&original, &db, &back).await?;
    if !lost.is_empty() {
        bail!("after down, rows were lost or changed:\n{lost}");
    }
    let broken = problems(&db).await?;
    if !broken.is_empty() {
        bail!("after down: {broken:?}");
    }
    outcome.down = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_pair() {
        for seed in 0..50 {
            let (a, b) = (pair(seed), pair(seed));
            assert_eq!((a.current, a.rows, a.declared), (b.current, b.rows, b.declared));
        }
    }

    #[test]
    fn pairs_differ_across_seeds() {
        let distinct: BTreeSet<String> = (0..50).map(|s| pair(s).current).collect();
        assert!(distinct.len() > 45, "{}", distinct.len());
    }
}
