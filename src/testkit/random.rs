//! Random (current, desired) schema pairs for the generative round-trip test: a seeded grammar over every
//! kind PostgreSQL's side manages (schemas, extensions, enum, composite and range types, domains,
//! sequences, tables with every column feature, constraints, indexes, partitions, views, materialized
//! views, functions, procedures, triggers, row-level security, privileges and comments). `current` is
//! generated, `desired` is `current` after a few random edits, and each is rendered as SQL text that
//! PostgreSQL loads as it is.
//!
//! The grammar keeps its own small model and writes its own SQL (every identifier quoted here, every
//! literal doubled here), so that a bug in the tool's model or renderer cannot hide itself. Names are
//! unique within a pair, so an edit never moves a name between two different objects by accident. The
//! same seed always gives the same pair.

use std::fmt::Write;

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() { None } else { items.get(self.below(items.len())) }
    }
}

/// Roles the pairs grant privileges to and name in policies; the caller creates them.
pub const ROLES: [&str; 2] = ["gen_reader", "gen_writer"];

/// A pair of schemas, as SQL text.
#[derive(Debug, Clone)]
pub struct Pair {
    pub seed: u64,
    pub current: String,
    /// The desired schema in an order PostgreSQL accepts as it is (it builds the reference database).
    pub desired: String,
    /// The desired schema as the declared files hold it.
    pub declared: String,
}

/// The pair of `seed`.
pub fn pair(seed: u64) -> Pair {
    let mut rng = Rng::new(seed);
    let mut names = Names::default();
    let current = Model::generate(&mut rng, &mut names);
    let mut desired = current.clone();
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        desired.edit(&mut rng, &mut names);
    }
    let (mut current, mut desired) = (current, desired);
    current.settle();
    desired.settle();
    let statements = desired.render();
    let mut declared = statements.clone();
    // The declared files are in any order a team might write them: often shuffled, which the tool must
    // load anyway (the reference database is loaded in the rendered order).
    if rng.chance(40) {
        for i in (1..declared.len()).rev() {
            declared.swap(i, rng.below(i + 1));
        }
    }
    Pair { seed, current: current.render().join("\n"), desired: statements.join("\n"), declared: declared.join("\n") }
}

/// Quotes an identifier, always (independent of the tool's quoting).
fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal.
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A qualified name.
fn qn(schema: &str, name: &str) -> String {
    format!("{}.{}", q(schema), q(name))
}

/// Fresh names, unique within a pair. A few are awkward on purpose (upper case, spaces, quotes).
#[derive(Debug, Default)]
struct Names(usize);

impl Names {
    fn fresh(&mut self, rng: &mut Rng, prefix: &str) -> String {
        self.0 += 1;
        let n = self.0;
        match rng.below(20) {
            0 => format!("{prefix} {n}"),
            1 => format!("{}{n}", prefix.to_uppercase()),
            2 => format!("{prefix}\"q{n}"),
            3 => format!("{prefix}'s{n}"),
            _ => format!("{prefix}{n}"),
        }
    }

    /// A plain lower-case name (for objects whose name the tool or PostgreSQL derives others from).
    fn plain(&mut self, prefix: &str) -> String {
        self.0 += 1;
        format!("{prefix}{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Int,
    BigInt,
    SmallInt,
    Text,
    Varchar(u16),
    Numeric(u8, u8),
    Bool,
    TimestampTz,
    Date,
    Jsonb,
    Uuid,
    IntArray,
    IntRange,
    /// A composite type of the model, by name.
    Composite(String),
    /// An enum type of the model, by name.
    Enum(String),
    /// A domain of the model (over integer), by name.
    Domain(String),
}

impl Ty {
    fn sql(&self, schema: &str) -> String {
        match self {
            Ty::Int => "integer".into(),
            Ty::BigInt => "bigint".into(),
            Ty::SmallInt => "smallint".into(),
            Ty::Text => "text".into(),
            Ty::Varchar(n) => format!("character varying({n})"),
            Ty::Numeric(p, s) => format!("numeric({p},{s})"),
            Ty::Bool => "boolean".into(),
            Ty::TimestampTz => "timestamp with time zone".into(),
            Ty::Date => "date".into(),
            Ty::Jsonb => "jsonb".into(),
            Ty::Uuid => "uuid".into(),
            Ty::IntArray => "integer[]".into(),
            Ty::IntRange => "int4range".into(),
            Ty::Enum(name) | Ty::Domain(name) | Ty::Composite(name) => qn(schema, name),
        }
    }

    fn is_integer(&self) -> bool {
        matches!(self, Ty::Int | Ty::BigInt | Ty::SmallInt)
    }

    fn is_text(&self) -> bool {
        matches!(self, Ty::Text | Ty::Varchar(_))
    }

    /// A default of this type, or none.
    fn default(&self, rng: &mut Rng, model: &Model) -> Option<String> {
        let literal_texts = ["", "x", "it's", "a;b", "--c", "$$d$$", "é"];
        Some(match self {
            Ty::Int | Ty::BigInt | Ty::SmallInt => (rng.below(100) as i64 - 10).to_string(),
            Ty::Text | Ty::Varchar(_) => lit(rng.pick(&literal_texts).copied().unwrap_or("x")),
            Ty::Numeric(..) => format!("{}.5", rng.below(50)),
            Ty::Bool => if rng.chance(50) { "true" } else { "false" }.into(),
            Ty::TimestampTz => if rng.chance(50) { "now()" } else { "'2020-01-01 00:00:00+00'" }.into(),
            Ty::Date => "CURRENT_DATE".into(),
            Ty::Jsonb => "'{}'::jsonb".into(),
            Ty::Uuid => "gen_random_uuid()".into(),
            Ty::IntArray => "'{1,2}'::integer[]".into(),
            Ty::IntRange => "'[1,5)'::int4range".into(),
            Ty::Composite(_) => return None,
            Ty::Enum(name) => {
                let labels = &model.enums.iter().find(|e| &e.name == name)?.labels;
                lit(rng.pick(labels)?)
            }
            Ty::Domain(_) => "1".into(),
        })
    }
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    ty: Ty,
    not_null: bool,
    default: Option<String>,
    /// `ALWAYS` or `BY DEFAULT`, with the start value.
    identity: Option<(&'static str, u32)>,
    /// Stored generated column: twice another integer column, by name.
    generated_from: Option<String>,
    comment: Option<String>,
    collate_c: bool,
    /// The default calls `nextval` of this sequence.
    sequence: Option<String>,
    /// The sequence of `sequence` is `OWNED BY` this column.
    owns_sequence: bool,
}

#[derive(Debug, Clone)]
struct Check {
    name: String,
    column: String,
    /// The column's type when the check was written: the expression only fits that type.
    ty: Ty,
    bound: i64,
    /// Added `NOT VALID` after the table (rows are not checked until it is validated).
    not_valid: bool,
}

#[derive(Debug, Clone)]
struct ForeignKey {
    name: String,
    column: String,
    target: String,
    on_delete: &'static str,
    on_update_cascade: bool,
    deferrable: bool,
}

#[derive(Debug, Clone)]
struct Index {
    name: String,
    columns: Vec<String>,
    unique: bool,
    /// `lower(column)` instead of the column (a text column).
    lower: bool,
    /// `WHERE column > bound` on an integer column.
    partial: Option<(String, i64)>,
    desc: bool,
    /// A column carried in the index (`INCLUDE`), not a key.
    include: Option<String>,
    /// `NULLS NOT DISTINCT` (a unique index).
    nulls_not_distinct: bool,
}

#[derive(Debug, Clone)]
struct Trigger {
    name: String,
    function: String,
    before: bool,
    /// `WHEN (NEW.column > 0)` on an integer column.
    when: Option<String>,
    enabled: bool,
}

#[derive(Debug, Clone)]
struct Policy {
    name: String,
    command: &'static str,
    role: &'static str,
    column: String,
    bound: i64,
    permissive: bool,
}

#[derive(Debug, Clone)]
struct Partition {
    name: String,
    year: u16,
}

#[derive(Debug, Clone)]
struct Table {
    schema: String,
    name: String,
    columns: Vec<Column>,
    primary_key: Option<(Option<String>, Vec<String>)>,
    uniques: Vec<(String, Vec<String>)>,
    checks: Vec<Check>,
    /// `EXCLUDE USING gist (column WITH &&)` on an int4range column: (constraint, column).
    exclusions: Vec<(String, String)>,
    foreign_keys: Vec<ForeignKey>,
    indexes: Vec<Index>,
    triggers: Vec<Trigger>,
    policies: Vec<Policy>,
    rls: bool,
    grants: Vec<(&'static str, Vec<&'static str>)>,
    column_grants: Vec<(&'static str, String)>,
    comment: Option<String>,
    fillfactor: Option<u8>,
    unlogged: bool,
    /// Partitioned by range of a date column `k`, with these partitions.
    partitions: Option<Vec<Partition>>,
}

#[derive(Debug, Clone)]
struct View {
    schema: String,
    name: String,
    /// The table it reads, or the view when `on_view`.
    table: String,
    on_view: bool,
    /// Indexes of a materialized view: (index, column).
    indexes: Vec<(String, String)>,
    columns: Vec<String>,
    /// `WHERE column > bound` on an integer column.
    filter: Option<(String, i64)>,
    /// A column passed through a function of the model.
    call: Option<(String, String)>,
    materialized: bool,
    comment: Option<String>,
    grant: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct Function {
    schema: String,
    name: String,
    /// `SELECT x + addend` (or calls `callee` with it).
    addend: i64,
    atomic: bool,
    callee: Option<String>,
    volatility: &'static str,
    comment: Option<String>,
    revoke_public: bool,
    /// A procedure instead of a function.
    procedure: bool,
}

/// A function that reads a table: `count(*)` in SQL (a string body, which PostgreSQL checks when the
/// function is created, or `BEGIN ATOMIC`, which it records as a dependency), or all its rows as
/// `SETOF` the table's row type in PL/pgSQL.
#[derive(Debug, Clone)]
struct Reader {
    name: String,
    table: String,
    kind: ReaderKind,
    marker: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ReaderKind {
    Counts,
    CountsAtomic,
    SetOf,
}

#[derive(Debug, Clone)]
struct TriggerFunction {
    name: String,
    /// Differs between versions of the body.
    marker: u32,
}

#[derive(Debug, Clone)]
struct Enum {
    name: String,
    labels: Vec<String>,
    comment: Option<String>,
}

#[derive(Debug, Clone)]
struct Domain {
    name: String,
    bound: i64,
    not_null: bool,
    default: Option<i64>,
}

#[derive(Debug, Clone)]
struct Composite {
    name: String,
    attributes: Vec<(String, Ty)>,
}

#[derive(Debug, Clone)]
struct Sequence {
    name: String,
    increment: i64,
    start: i64,
    cache: i64,
    cycle: bool,
}

#[derive(Debug, Clone, Default)]
struct Model {
    /// Schemas besides `public`.
    schemas: Vec<(String, Option<String>)>,
    extensions: Vec<&'static str>,
    enums: Vec<Enum>,
    domains: Vec<Domain>,
    composites: Vec<Composite>,
    ranges: Vec<(String, &'static str)>,
    sequences: Vec<Sequence>,
    functions: Vec<Function>,
    trigger_functions: Vec<TriggerFunction>,
    tables: Vec<Table>,
    readers: Vec<Reader>,
    /// `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO` this role.
    default_select: Option<&'static str>,
    views: Vec<View>,
}

/// Types of the enums, domains and sequences live in `public`.
const PUBLIC: &str = "public";

impl Model {
    fn generate(rng: &mut Rng, names: &mut Names) -> Model {
        let mut model = Model::default();
        if rng.chance(30) {
            let schema = names.fresh(rng, "sch");
            model.schemas.push((schema, rng.chance(30).then(|| "a schema".to_string())));
        }
        if rng.chance(20) {
            model.extensions.push(*rng.pick(&["pg_trgm", "citext", "hstore", "btree_gist"]).unwrap_or(&"pg_trgm"));
        }
        for _ in 0..rng.below(3) {
            model.add_enum(rng, names);
        }
        if rng.chance(30) {
            model.add_domain(rng, names);
        }
        if rng.chance(20) {
            model.add_composite(rng, names);
        }
        if rng.chance(10) {
            let name = names.fresh(rng, "rng");
            model.ranges.push((name, *rng.pick(&["integer", "numeric", "date"]).unwrap_or(&"integer")));
        }
        for _ in 0..rng.below(2) {
            model.add_sequence(rng, names);
        }
        for _ in 0..rng.below(3) {
            model.add_function(rng, names);
        }
        for _ in 0..1 + rng.below(4) {
            model.add_table(rng, names);
        }
        for _ in 0..rng.below(3) {
            model.add_view(rng, names);
        }
        if rng.chance(20) {
            model.add_reader(rng, names);
        }
        if rng.chance(8) {
            model.default_select = Some("gen_reader");
        }
        model
    }

    fn add_reader(&mut self, rng: &mut Rng, names: &mut Names) {
        let Some(table) = rng.pick(&self.tables) else { return };
        let kind = *rng
            .pick(&[ReaderKind::Counts, ReaderKind::CountsAtomic, ReaderKind::SetOf])
            .unwrap_or(&ReaderKind::Counts);
        self.readers.push(Reader { name: names.plain("reader"), table: table.name.clone(), kind, marker: 0 });
    }

    fn schema_for_table(&self, rng: &mut Rng) -> String {
        match self.schemas.first() {
            Some((schema, _)) if rng.chance(40) => schema.clone(),
            _ => PUBLIC.to_string(),
        }
    }

    fn add_enum(&mut self, rng: &mut Rng, names: &mut Names) {
        let name = names.fresh(rng, "mood");
        let labels = (0..1 + rng.below(4)).map(|i| format!("{}{i}", ["ok", "sad", "it's", "Big"][i % 4])).collect();
        self.enums.push(Enum { name, labels, comment: rng.chance(20).then(|| "an enum".into()) });
    }

    fn add_domain(&mut self, rng: &mut Rng, names: &mut Names) {
        let name = names.fresh(rng, "dom");
        let default = rng.chance(30).then(|| rng.below(5) as i64 + 1);
        self.domains.push(Domain { name, bound: rng.below(3) as i64 - 1, not_null: rng.chance(20), default });
    }

    fn add_composite(&mut self, rng: &mut Rng, names: &mut Names) {
        let name = names.fresh(rng, "pair");
        let attributes = (0..1 + rng.below(3)).map(|_| (names.plain("f"), self.simple_type(rng))).collect();
        self.composites.push(Composite { name, attributes });
    }

    fn add_sequence(&mut self, rng: &mut Rng, names: &mut Names) {
        let name = names.fresh(rng, "seq");
        self.sequences.push(Sequence {
            name,
            increment: 1 + rng.below(3) as i64,
            start: 1 + rng.below(100) as i64,
            cache: 1 + rng.below(2) as i64 * 9,
            cycle: rng.chance(10),
        });
    }

    fn add_function(&mut self, rng: &mut Rng, names: &mut Names) {
        let name = names.fresh(rng, "fn");
        // A function may call one declared before it (or after it, once edits move things around).
        let callee = if rng.chance(30) {
            rng.pick(&self.functions).filter(|f| !f.procedure).map(|f| f.name.clone())
        } else {
            None
        };
        let procedure = callee.is_none() && rng.chance(10);
        self.functions.push(Function {
            schema: PUBLIC.into(),
            name,
            addend: rng.below(10) as i64,
            atomic: rng.chance(40),
            callee,
            volatility: rng.pick(&["IMMUTABLE", "STABLE", "VOLATILE"]).unwrap_or(&"IMMUTABLE"),
            comment: rng.chance(20).then(|| "adds".into()),
            revoke_public: rng.chance(15),
            procedure,
        });
    }

    fn simple_type(&self, rng: &mut Rng) -> Ty {
        match rng.below(12) {
            0 => Ty::BigInt,
            1 => Ty::SmallInt,
            2 => Ty::Text,
            3 => Ty::Varchar(10 + rng.below(5) as u16 * 10),
            4 => Ty::Numeric(10, 2),
            5 => Ty::Bool,
            6 => Ty::TimestampTz,
            7 => Ty::Date,
            8 => Ty::Jsonb,
            9 => Ty::Uuid,
            10 => Ty::IntArray,
            _ => Ty::Int,
        }
    }

    fn column_type(&self, rng: &mut Rng) -> Ty {
        if rng.chance(12)
            && let Some(e) = rng.pick(&self.enums)
        {
            return Ty::Enum(e.name.clone());
        }
        if rng.chance(8)
            && let Some(d) = rng.pick(&self.domains)
        {
            return Ty::Domain(d.name.clone());
        }
        if rng.chance(6)
            && let Some(c) = rng.pick(&self.composites)
        {
            return Ty::Composite(c.name.clone());
        }
        if rng.chance(5) {
            return Ty::IntRange;
        }
        self.simple_type(rng)
    }

    fn new_column(&self, rng: &mut Rng, names: &mut Names, existing: &[Column]) -> Column {
        let name = names.fresh(rng, "c");
        let mut ty = self.column_type(rng);
        let mut column = Column {
            name,
            ty: ty.clone(),
            not_null: rng.chance(30),
            default: None,
            identity: None,
            generated_from: None,
            comment: rng.chance(15).then(|| "it's a column".into()),
            collate_c: false,
            sequence: None,
            owns_sequence: false,
        };
        if rng.chance(35) {
            column.default = ty.default(rng, self);
        }
        if ty.is_text() && rng.chance(10) {
            column.collate_c = true;
        }
        if ty.is_integer() && rng.chance(10) {
            let source =
                existing.iter().find(|c| c.ty == Ty::Int && c.generated_from.is_none()).map(|c| c.name.clone());
            if let Some(source) = source {
                ty = Ty::BigInt;
                column.ty = ty;
                column.generated_from = Some(source);
                column.default = None;
                column.not_null = false;
            }
        } else if ty.is_integer()
            && rng.chance(10)
            && let Some(seq) = rng.pick(&self.sequences)
        {
            column.ty = Ty::BigInt;
            column.sequence = Some(seq.name.clone());
            column.owns_sequence = rng.chance(40);
            column.default = None;
        }
        column
    }

    fn add_table(&mut self, rng: &mut Rng, names: &mut Names) {
        let schema = self.schema_for_table(rng);
        let name = names.fresh(rng, "t");
        let partitioned = rng.chance(10);
        let mut columns = vec![Column {
            name: "id".into(),
            ty: if rng.chance(50) { Ty::Int } else { Ty::BigInt },
            not_null: true,
            default: None,
            identity: (!partitioned && rng.chance(40))
                .then(|| (*rng.pick(&["ALWAYS", "BY DEFAULT"]).unwrap_or(&"ALWAYS"), 1 + rng.below(5) as u32 * 10)),
            generated_from: None,
            comment: None,
            collate_c: false,
            sequence: None,
            owns_sequence: false,
        }];
        if partitioned {
            columns.push(Column {
                name: "k".into(),
                ty: Ty::Date,
                not_null: true,
                default: None,
                identity: None,
                generated_from: None,
                comment: None,
                collate_c: false,
                sequence: None,
                owns_sequence: false,
            });
        }
        for _ in 0..1 + rng.below(5) {
            let column = self.new_column(rng, names, &columns);
            columns.push(column);
        }
        let primary_key = if partitioned {
            rng.chance(50).then(|| (None, vec!["id".to_string(), "k".to_string()]))
        } else if rng.chance(85) {
            Some((rng.chance(30).then(|| names.plain("pk")), vec!["id".to_string()]))
        } else {
            None
        };
        let mut table = Table {
            schema,
            name,
            columns,
            primary_key,
            uniques: Vec::new(),
            checks: Vec::new(),
            exclusions: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            triggers: Vec::new(),
            policies: Vec::new(),
            rls: false,
            grants: Vec::new(),
            column_grants: Vec::new(),
            comment: rng.chance(20).then(|| "a table; with 'quotes'".into()),
            fillfactor: (!partitioned && rng.chance(10)).then(|| 70 + rng.below(3) as u8 * 10),
            unlogged: !partitioned && rng.chance(5),
            partitions: partitioned.then(|| {
                (0..1 + rng.below(3)).map(|i| Partition { name: names.plain("part"), year: 2020 + i as u16 }).collect()
            }),
        };
        for _ in 0..rng.below(3) {
            self.add_table_feature(rng, names, &mut table);
        }
        self.tables.push(table);
    }

    /// One of a constraint, index, trigger, policy or grant on `table`.
    fn add_table_feature(&mut self, rng: &mut Rng, names: &mut Names, table: &mut Table) {
        let partitioned = table.partitions.is_some();
        let integer_columns: Vec<String> = table
            .columns
            .iter()
            .filter(|c| c.ty.is_integer() && c.generated_from.is_none())
            .map(|c| c.name.clone())
            .collect();
        let text_columns: Vec<String> =
            table.columns.iter().filter(|c| c.ty.is_text()).map(|c| c.name.clone()).collect();
        let other = |c: &&Column| {
            c.name != "id"
                && c.name != "k"
                && !matches!(c.ty, Ty::Jsonb | Ty::IntArray | Ty::IntRange | Ty::Composite(_))
        };
        let indexable: Vec<String> = table.columns.iter().filter(other).map(|c| c.name.clone()).collect();
        match rng.below(9) {
            0 if !indexable.is_empty() && !partitioned => {
                let column = rng.pick(&indexable).cloned().unwrap_or_default();
                table.uniques.push((names.plain("uq"), vec![column]));
            }
            1 if !integer_columns.is_empty() => {
                let column = rng.pick(&integer_columns).cloned().unwrap_or_default();
                let ty = table.columns.iter().find(|c| c.name == column).map(|c| c.ty.clone()).unwrap_or(Ty::Int);
                // Not on a partitioned table: partitions created after a NOT VALID check get it validated,
                // those that exist when it is added do not, and the tool does not model that per partition
                // (partitions are issue 16).
                let (bound, not_valid) = (rng.below(5) as i64 - 2, rng.chance(20) && !partitioned);
                table.checks.push(Check { name: names.fresh(rng, "ck"), column, ty, bound, not_valid });
            }
            2 if !partitioned => {
                let targets: Vec<String> = self
                    .tables
                    .iter()
                    .filter(|t| t.partitions.is_none() && t.primary_key.as_ref().is_some_and(|(_, c)| c.len() == 1))
                    .map(|t| t.name.clone())
                    .collect();
                if let Some(target) = rng.pick(&targets).cloned() {
                    let target_ty = self.tables.iter().find(|t| t.name == target).map(|t| t.columns[0].ty.clone());
                    let column = names.plain("ref");
                    table.columns.push(Column {
                        name: column.clone(),
                        ty: target_ty.unwrap_or(Ty::Int),
                        not_null: rng.chance(30),
                        default: None,
                        identity: None,
                        generated_from: None,
                        comment: None,
                        collate_c: false,
                        sequence: None,
                        owns_sequence: false,
                    });
                    table.foreign_keys.push(ForeignKey {
                        name: names.plain("fk"),
                        column,
                        target,
                        on_delete: rng.pick(&["NO ACTION", "CASCADE", "SET NULL", "RESTRICT"]).unwrap_or(&"NO ACTION"),
                        on_update_cascade: rng.chance(15),
                        deferrable: rng.chance(15),
                    });
                }
            }
            3 | 4 if !indexable.is_empty() => {
                let lower = !text_columns.is_empty() && rng.chance(25);
                let columns = if lower {
                    vec![rng.pick(&text_columns).cloned().unwrap_or_default()]
                } else {
                    let first = rng.pick(&indexable).cloned().unwrap_or_default();
                    let mut columns = vec![first.clone()];
                    if let Some(second) = rng.pick(&indexable).filter(|c| **c != first) {
                        columns.push(second.clone());
                    }
                    columns
                };
                let partial = (rng.chance(25) && !integer_columns.is_empty())
                    .then(|| (rng.pick(&integer_columns).cloned().unwrap_or_default(), rng.below(3) as i64));
                let unique = !partitioned && rng.chance(20);
                let include = rng.pick(&indexable).filter(|c| rng.chance(15) && !columns.contains(c)).cloned();
                table.indexes.push(Index {
                    name: names.fresh(rng, "ix"),
                    columns,
                    unique,
                    lower,
                    partial,
                    desc: rng.chance(15),
                    include,
                    nulls_not_distinct: unique && rng.chance(25),
                });
            }
            5 => {
                if self.trigger_functions.is_empty() || rng.chance(30) {
                    let name = names.plain("trg_fn");
                    self.trigger_functions.push(TriggerFunction { name, marker: 0 });
                }
                let function = rng.pick(&self.trigger_functions).map(|f| f.name.clone()).unwrap_or_default();
                let when = rng.chance(30).then(|| rng.pick(&integer_columns).cloned()).flatten();
                table.triggers.push(Trigger {
                    name: names.fresh(rng, "tr"),
                    function,
                    before: rng.chance(60),
                    when,
                    enabled: rng.chance(90),
                });
            }
            6 if !integer_columns.is_empty() => {
                table.rls = true;
                table.policies.push(Policy {
                    name: names.fresh(rng, "pol"),
                    command: rng.pick(&["ALL", "SELECT", "UPDATE"]).unwrap_or(&"ALL"),
                    role: rng.pick(&ROLES).unwrap_or(&"gen_reader"),
                    column: rng.pick(&integer_columns).cloned().unwrap_or_default(),
                    bound: rng.below(3) as i64,
                    permissive: rng.chance(80),
                });
            }
            7 if !partitioned && rng.chance(30) => {
                let ranges: Vec<String> =
                    table.columns.iter().filter(|c| c.ty == Ty::IntRange).map(|c| c.name.clone()).collect();
                if let Some(column) = rng.pick(&ranges) {
                    table.exclusions.push((names.plain("ex"), column.clone()));
                }
            }
            7 => {
                let role = *rng.pick(&ROLES).unwrap_or(&"gen_reader");
                let privileges = match rng.below(3) {
                    0 => vec!["SELECT"],
                    1 => vec!["SELECT", "INSERT"],
                    _ => vec!["DELETE", "UPDATE"],
                };
                table.grants.retain(|(r, _)| *r != role);
                table.grants.push((role, privileges));
            }
            _ => {
                if let Some(column) = rng.pick(&table.columns).map(|c| c.name.clone()) {
                    table.column_grants.push(("gen_writer", column));
                    table.column_grants.sort();
                    table.column_grants.dedup();
                }
            }
        }
    }

    fn add_view(&mut self, rng: &mut Rng, names: &mut Names) {
        if rng.chance(25)
            && let Some(source) = rng.pick(&self.views).cloned()
        {
            let columns: Vec<String> = source.columns.iter().filter(|_| rng.chance(70)).cloned().collect();
            self.views.push(View {
                schema: source.schema.clone(),
                name: names.fresh(rng, "vv"),
                table: source.name.clone(),
                on_view: true,
                indexes: Vec::new(),
                columns: if columns.is_empty() { source.columns.clone() } else { columns },
                filter: None,
                call: None,
                materialized: rng.chance(20),
                comment: None,
                grant: rng.chance(20).then(|| *rng.pick(&ROLES).unwrap_or(&"gen_reader")),
            });
            return;
        }
        let Some(table) = rng.pick(&self.tables).cloned() else { return };
        let mut columns: Vec<String> =
            table.columns.iter().filter(|_| rng.chance(60)).map(|c| c.name.clone()).collect();
        if columns.is_empty() {
            columns.push("id".into());
        }
        let integer: Vec<&Column> = table.columns.iter().filter(|c| c.ty == Ty::Int).collect();
        let filter =
            rng.chance(30).then(|| rng.pick(&integer).map(|c| (c.name.clone(), rng.below(3) as i64))).flatten();
        let functions: Vec<String> = self.functions.iter().filter(|f| !f.procedure).map(|f| f.name.clone()).collect();
        let call = rng
            .chance(30)
            .then(|| match (rng.pick(&functions).cloned(), rng.pick(&integer).map(|c| c.name.clone())) {
                (Some(f), Some(c)) => Some((f, c)),
                _ => None,
            })
            .flatten();
        let materialized = rng.chance(20);
        let indexes = match rng.pick(&columns) {
            Some(column) if materialized && rng.chance(50) => vec![(names.plain("mvix"), column.clone())],
            _ => Vec::new(),
        };
        self.views.push(View {
            schema: table.schema.clone(),
            name: names.fresh(rng, "v"),
            table: table.name.clone(),
            on_view: false,
            indexes,
            columns,
            filter,
            call,
            materialized,
            comment: rng.chance(15).then(|| "a view".into()),
            grant: rng.chance(20).then(|| *rng.pick(&ROLES).unwrap_or(&"gen_reader")),
        });
    }

    /// One random edit.
    fn edit(&mut self, rng: &mut Rng, names: &mut Names) {
        match rng.below(26) {
            0 => self.add_table(rng, names),
            1 if self.tables.len() > 1 => {
                let i = rng.below(self.tables.len());
                self.tables.remove(i);
            }
            2 | 3 => {
                if let Some(i) = self.some_table(rng) {
                    let mut table = self.tables[i].clone();
                    let column = self.new_column(rng, names, &table.columns);
                    table.columns.push(column);
                    self.tables[i] = table;
                }
            }
            4 => {
                if let Some(i) = self.some_table(rng) {
                    let table = &mut self.tables[i];
                    let candidates: Vec<usize> = (0..table.columns.len())
                        .filter(|&c| !matches!(table.columns[c].name.as_str(), "id" | "k"))
                        .collect();
                    if let Some(&c) = rng.pick(&candidates) {
                        table.columns.remove(c);
                    }
                }
            }
            5 | 6 => {
                if let Some(i) = self.some_table(rng) {
                    let enums = self.enums.clone();
                    let table = &mut self.tables[i];
                    if let Some(column) = pick_mut(rng, &mut table.columns).filter(|c| c.name != "k") {
                        column_edit(rng, column, &enums);
                    }
                }
            }
            7 | 8 => {
                if let Some(i) = self.some_table(rng) {
                    let mut table = self.tables[i].clone();
                    self.add_table_feature(rng, names, &mut table);
                    self.tables[i] = table;
                }
            }
            9 => {
                if let Some(i) = self.some_table(rng) {
                    let table = &mut self.tables[i];
                    match rng.below(7) {
                        0 => drop_one(rng, &mut table.uniques),
                        1 if rng.chance(50) => drop_one(rng, &mut table.exclusions),
                        1 => drop_one(rng, &mut table.checks),
                        2 => drop_one(rng, &mut table.foreign_keys),
                        3 => drop_one(rng, &mut table.indexes),
                        4 => drop_one(rng, &mut table.triggers),
                        5 => drop_one(rng, &mut table.policies),
                        _ => drop_one(rng, &mut table.grants),
                    }
                }
            }
            10 => {
                if let Some(i) = self.some_table(rng) {
                    let table = &mut self.tables[i];
                    if let Some(index) = pick_mut(rng, &mut table.indexes) {
                        match rng.below(3) {
                            0 => index.desc = !index.desc,
                            1 => index.partial = index.partial.take().map(|(c, b)| (c, b + 1)),
                            _ => index.unique = !index.unique && table.partitions.is_none(),
                        }
                    } else if let Some(check) = pick_mut(rng, &mut table.checks) {
                        if check.not_valid && rng.chance(50) {
                            check.not_valid = false;
                        } else {
                            check.bound += 1;
                        }
                    }
                }
            }
            11 => {
                if let Some(i) = self.some_table(rng) {
                    let table = &mut self.tables[i];
                    match rng.below(4) {
                        0 => table.comment = if table.comment.is_some() { None } else { Some("new 'comment'".into()) },
                        1 => {
                            table.fillfactor =
                                if table.fillfactor.is_some() || table.partitions.is_some() { None } else { Some(90) }
                        }
                        2 => table.unlogged = !table.unlogged && table.partitions.is_none(),
                        _ => {
                            table.rls = !table.rls;
                            if !table.rls {
                                table.policies.clear();
                            }
                        }
                    }
                }
            }
            12 => {
                if let Some(i) = self.some_table(rng) {
                    let table = &mut self.tables[i];
                    match &mut table.partitions {
                        Some(parts) if rng.chance(50) && parts.len() > 1 => {
                            let i = rng.below(parts.len());
                            parts.remove(i);
                        }
                        Some(parts) => {
                            let year = parts.iter().map(|p| p.year).max().unwrap_or(2019) + 1;
                            parts.push(Partition { name: names.plain("part"), year });
                        }
                        None => {
                            if let Some(pk) = &mut table.primary_key {
                                pk.0 = if pk.0.is_some() { None } else { Some(names.plain("pk")) };
                            }
                        }
                    }
                }
            }
            13 => self.add_view(rng, names),
            14 => {
                if !self.views.is_empty() {
                    let i = rng.below(self.views.len());
                    if rng.chance(40) {
                        self.views.remove(i);
                    } else {
                        let tables = self.tables.clone();
                        let view = &mut self.views[i];
                        match rng.below(4) {
                            0 => view.filter = view.filter.take().map(|(c, b)| (c, b + 1)),
                            1 => view.comment = if view.comment.is_some() { None } else { Some("changed".into()) },
                            2 => view.materialized = !view.materialized,
                            _ => {
                                if let Some(table) = tables.iter().find(|t| t.name == view.table)
                                    && let Some(extra) = rng.pick(&table.columns)
                                    && !view.columns.contains(&extra.name)
                                {
                                    view.columns.push(extra.name.clone());
                                }
                            }
                        }
                    }
                }
            }
            15 => {
                if let Some(f) = pick_mut(rng, &mut self.functions) {
                    match rng.below(5) {
                        0 => f.atomic = !f.atomic,
                        1 => f.volatility = if f.volatility == "IMMUTABLE" { "STABLE" } else { "IMMUTABLE" },
                        2 => f.comment = if f.comment.is_some() { None } else { Some("now with 'comment'".into()) },
                        3 => f.revoke_public = !f.revoke_public,
                        _ => f.addend += 1,
                    }
                } else {
                    self.add_function(rng, names);
                }
            }
            16 => {
                if rng.chance(50) || self.functions.is_empty() {
                    self.add_function(rng, names);
                } else {
                    let i = rng.below(self.functions.len());
                    self.functions.remove(i);
                }
            }
            17 => {
                if let Some(e) = pick_mut(rng, &mut self.enums) {
                    match rng.below(4) {
                        0 => e.labels.push(names.plain("new")),
                        1 => {
                            let at = rng.below(e.labels.len() + 1);
                            e.labels.insert(at, names.plain("mid"));
                        }
                        2 if e.labels.len() > 1 => {
                            let at = rng.below(e.labels.len());
                            e.labels.remove(at);
                        }
                        _ => e.comment = if e.comment.is_some() { None } else { Some("mood".into()) },
                    }
                } else {
                    self.add_enum(rng, names);
                }
                // Now and then an enum goes away and its columns become text.
                if rng.chance(25) && !self.enums.is_empty() {
                    let gone = self.enums.remove(rng.below(self.enums.len())).name;
                    for column in self.tables.iter_mut().flat_map(|t| t.columns.iter_mut()) {
                        if column.ty == Ty::Enum(gone.clone()) {
                            column.ty = Ty::Text;
                            column.default = None;
                        }
                    }
                }
            }
            18 => {
                if let Some(d) = pick_mut(rng, &mut self.domains) {
                    match rng.below(3) {
                        0 => d.bound -= 1,
                        1 => d.default = if d.default.is_some() { None } else { Some(3) },
                        _ => d.not_null = !d.not_null,
                    }
                } else {
                    self.add_domain(rng, names);
                }
            }
            19 => {
                if let Some(s) = pick_mut(rng, &mut self.sequences) {
                    match rng.below(3) {
                        0 => s.increment += 1,
                        1 => s.cache = if s.cache == 1 { 5 } else { 1 },
                        _ => s.cycle = !s.cycle,
                    }
                } else {
                    self.add_sequence(rng, names);
                }
            }
            20 => {
                if let Some(c) = pick_mut(rng, &mut self.composites) {
                    if rng.chance(50) || c.attributes.len() < 2 {
                        c.attributes.push((names.plain("f"), Ty::Text));
                    } else {
                        c.attributes.pop();
                    }
                } else {
                    self.add_composite(rng, names);
                }
            }
            21 => {
                if let Some(f) = pick_mut(rng, &mut self.trigger_functions) {
                    f.marker += 1;
                }
            }
            22 => {
                if self.schemas.is_empty() {
                    let schema = names.fresh(rng, "sch");
                    self.schemas.push((schema, None));
                } else if let Some((_, comment)) = self.schemas.first_mut() {
                    *comment = if comment.is_some() { None } else { Some("commented".into()) };
                }
            }
            23 => {
                if !self.readers.is_empty() && rng.chance(60) {
                    let i = rng.below(self.readers.len());
                    self.readers[i].marker += 1;
                } else if !self.readers.is_empty() && rng.chance(50) {
                    let i = rng.below(self.readers.len());
                    self.readers.remove(i);
                } else {
                    self.add_reader(rng, names);
                }
            }
            24 => self.default_select = if self.default_select.is_some() { None } else { Some("gen_reader") },
            _ => {
                if self.extensions.is_empty() {
                    self.extensions.push("citext");
                } else {
                    self.extensions.clear();
                }
            }
        }
    }

    fn some_table(&self, rng: &mut Rng) -> Option<usize> {
        (!self.tables.is_empty()).then(|| rng.below(self.tables.len()))
    }

    /// Removes what no longer fits after edits: anything that names a column, table, function, type or
    /// schema that is gone, or a column whose type changed under it.
    fn settle(&mut self) {
        let schemas: Vec<String> = self.schemas.iter().map(|(s, _)| s.clone()).collect();
        for table in &mut self.tables {
            if table.schema != PUBLIC && !schemas.contains(&table.schema) {
                table.schema = PUBLIC.into();
            }
        }
        let enums: Vec<String> = self.enums.iter().map(|e| e.name.clone()).collect();
        let domains: Vec<String> = self.domains.iter().map(|d| d.name.clone()).collect();
        let sequences: Vec<String> = self.sequences.iter().map(|s| s.name.clone()).collect();
        let model_enums = self.enums.clone();
        // Functions: a callee that is gone, or declared later (a cycle otherwise), is dropped from the call.
        let mut seen: Vec<String> = Vec::new();
        for f in &mut self.functions {
            if f.callee.as_ref().is_some_and(|c| !seen.contains(c)) {
                f.callee = None;
            }
            seen.push(f.name.clone());
        }
        let procedures: Vec<String> = self.functions.iter().filter(|f| f.procedure).map(|f| f.name.clone()).collect();
        for f in &mut self.functions {
            if f.callee.as_ref().is_some_and(|c| procedures.contains(c)) {
                f.callee = None;
            }
        }
        let trigger_functions: Vec<String> = self.trigger_functions.iter().map(|f| f.name.clone()).collect();
        for table in &mut self.tables {
            table.columns.retain(|c| match &c.ty {
                Ty::Enum(name) => enums.contains(name),
                Ty::Domain(name) => domains.contains(name),
                _ => true,
            });
            let columns: Vec<Column> = table.columns.clone();
            for column in &mut table.columns {
                if let Some(seq) = &column.sequence
                    && !sequences.contains(seq)
                {
                    column.sequence = None;
                }
                if let Some(source) = &column.generated_from
                    && !columns.iter().any(|c| &c.name == source && c.ty == Ty::Int && c.generated_from.is_none())
                {
                    column.generated_from = None;
                }
                if let (Ty::Enum(name), Some(default)) = (&column.ty, &column.default)
                    && !model_enums.iter().any(|e| &e.name == name && e.labels.iter().any(|l| &lit(l) == default))
                {
                    column.default = None;
                }
                if column.identity.is_some() && !column.ty.is_integer() {
                    column.identity = None;
                }
                if column.identity.is_some() || column.generated_from.is_some() || column.sequence.is_some() {
                    column.default = None;
                }
                if column.collate_c && !column.ty.is_text() {
                    column.collate_c = false;
                }
            }
            let has = |name: &str| table.columns.iter().any(|c| c.name == name);
            let ty_of = |name: &str| table.columns.iter().find(|c| c.name == name).map(|c| c.ty.clone());
            let plain_int = |name: &str| {
                table.columns.iter().any(|c| c.name == name && c.ty.is_integer() && c.generated_from.is_none())
            };
            let indexable = |name: &str| {
                table.columns.iter().any(|c| {
                    c.name == name && !matches!(c.ty, Ty::Jsonb | Ty::IntArray | Ty::IntRange | Ty::Composite(_))
                })
            };
            table.uniques.retain(|(_, cols)| cols.iter().all(|c| indexable(c)));
            table.checks.retain(|c| ty_of(&c.column).as_ref() == Some(&c.ty));
            table.exclusions.retain(|(_, c)| ty_of(c) == Some(Ty::IntRange));
            for index in &mut table.indexes {
                if index.include.as_ref().is_some_and(|c| !indexable(c) || index.columns.contains(c)) {
                    index.include = None;
                }
                index.nulls_not_distinct &= index.unique;
            }
            table.indexes.retain(|i| {
                i.columns.iter().all(|c| indexable(c))
                    && (!i.lower || i.columns.iter().all(|c| ty_of(c).is_some_and(|t| t.is_text())))
                    && i.partial.as_ref().is_none_or(|(c, _)| plain_int(c))
            });
            table.policies.retain(|p| plain_int(&p.column));
            if table.policies.is_empty() && !table.rls {
                table.policies.clear();
            }
            if !table.policies.is_empty() {
                table.rls = true;
            }
            table.triggers.retain(|t| trigger_functions.contains(&t.function));
            for trigger in &mut table.triggers {
                if trigger.when.as_ref().is_some_and(|c| !plain_int(c)) {
                    trigger.when = None;
                }
            }
            table.column_grants.retain(|(_, c)| has(c));
            table.foreign_keys.retain(|fk| has(&fk.column));
        }
        // Foreign keys need their target, with a one-column primary key of the same type.
        let keys: Vec<(String, Option<Ty>)> = self
            .tables
            .iter()
            .map(|t| {
                let key = t.primary_key.as_ref().filter(|(_, c)| c.len() == 1 && t.partitions.is_none());
                (
                    t.name.clone(),
                    key.and_then(|(_, c)| t.columns.iter().find(|col| col.name == c[0]).map(|col| col.ty.clone())),
                )
            })
            .collect();
        // A permanent table may reference only permanent tables.
        let unlogged: Vec<String> = self.tables.iter().filter(|t| t.unlogged).map(|t| t.name.clone()).collect();
        for table in &mut self.tables {
            let types: Vec<(String, Ty)> = table.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
            let own_unlogged = table.unlogged;
            table.foreign_keys.retain(|fk| {
                let target = keys.iter().find(|(name, _)| name == &fk.target).and_then(|(_, ty)| ty.clone());
                let own = types.iter().find(|(name, _)| name == &fk.column).map(|(_, ty)| ty.clone());
                target.is_some() && target == own && (own_unlogged || !unlogged.contains(&fk.target))
            });
            for fk in &mut table.foreign_keys {
                let nullable = table.columns.iter().any(|c| c.name == fk.column && !c.not_null);
                if fk.on_delete == "SET NULL" && !nullable {
                    fk.on_delete = "NO ACTION";
                }
            }
        }
        // Views: their table, columns and functions must exist.
        let tables = self.tables.clone();
        let functions: Vec<String> = self.functions.iter().filter(|f| !f.procedure).map(|f| f.name.clone()).collect();
        let mut settled: Vec<View> = Vec::new();
        for mut view in std::mem::take(&mut self.views) {
            if view.on_view {
                let Some(source) = settled.iter().find(|v| v.name == view.table) else { continue };
                view.schema = source.schema.clone();
                view.columns.retain(|c| source.columns.contains(c));
                if !view.columns.is_empty() {
                    settled.push(view);
                }
                continue;
            }
            let Some(table) = tables.iter().find(|t| t.name == view.table) else { continue };
            view.schema = table.schema.clone();
            view.columns.retain(|c| table.columns.iter().any(|col| &col.name == c));
            if view
                .filter
                .as_ref()
                .is_some_and(|(c, _)| !table.columns.iter().any(|col| &col.name == c && col.ty == Ty::Int))
            {
                view.filter = None;
            }
            if view.call.as_ref().is_some_and(|(f, c)| {
                !functions.contains(f) || !table.columns.iter().any(|col| &col.name == c && col.ty == Ty::Int)
            }) {
                view.call = None;
            }
            if !view.columns.is_empty() {
                settled.push(view);
            }
        }
        for view in &mut settled {
            let (materialized, columns) = (view.materialized, view.columns.clone());
            view.indexes.retain(|(_, c)| materialized && columns.contains(c));
        }
        self.views = settled;
        self.readers.retain(|r| tables.iter().any(|t| t.name == r.table));
        // A sequence is owned by one column at most, of a table in its schema.
        let mut owned: Vec<String> = Vec::new();
        for table in &mut self.tables {
            let schema = table.schema.clone();
            for column in &mut table.columns {
                match &column.sequence {
                    Some(seq) if column.owns_sequence && schema == PUBLIC && !owned.contains(seq) => {
                        owned.push(seq.clone())
                    }
                    _ => column.owns_sequence = false,
                }
            }
        }
    }

    /// The statements that build the model, in an order PostgreSQL accepts.
    fn render(&self) -> Vec<String> {
        let mut out = Vec::new();
        for extension in &self.extensions {
            out.push(format!("CREATE EXTENSION {};", q(extension)));
        }
        for (schema, comment) in &self.schemas {
            out.push(format!("CREATE SCHEMA {};", q(schema)));
            if let Some(comment) = comment {
                out.push(format!("COMMENT ON SCHEMA {} IS {};", q(schema), lit(comment)));
            }
        }
        if let Some(role) = self.default_select {
            out.push(format!(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {};",
                q(PUBLIC),
                q(role)
            ));
        }
        for e in &self.enums {
            let labels: Vec<String> = e.labels.iter().map(|l| lit(l)).collect();
            out.push(format!("CREATE TYPE {} AS ENUM ({});", qn(PUBLIC, &e.name), labels.join(", ")));
            if let Some(comment) = &e.comment {
                out.push(format!("COMMENT ON TYPE {} IS {};", qn(PUBLIC, &e.name), lit(comment)));
            }
        }
        for d in &self.domains {
            let mut sql = format!("CREATE DOMAIN {} AS integer", qn(PUBLIC, &d.name));
            if let Some(default) = d.default {
                let _ = write!(sql, " DEFAULT {default}");
            }
            if d.not_null {
                sql.push_str(" NOT NULL");
            }
            let _ = write!(sql, " CONSTRAINT {} CHECK (VALUE > {});", q(&format!("{}_check", d.name)), d.bound);
            out.push(sql);
        }
        for c in &self.composites {
            let attributes: Vec<String> =
                c.attributes.iter().map(|(n, t)| format!("{} {}", q(n), t.sql(PUBLIC))).collect();
            out.push(format!("CREATE TYPE {} AS ({});", qn(PUBLIC, &c.name), attributes.join(", ")));
        }
        for (name, subtype) in &self.ranges {
            out.push(format!("CREATE TYPE {} AS RANGE (SUBTYPE = {subtype});", qn(PUBLIC, name)));
        }
        for s in &self.sequences {
            out.push(format!(
                "CREATE SEQUENCE {} INCREMENT BY {} START WITH {} CACHE {}{};",
                qn(PUBLIC, &s.name),
                s.increment,
                s.start,
                s.cache,
                if s.cycle { " CYCLE" } else { "" }
            ));
        }
        for f in &self.functions {
            render_function(&mut out, f);
        }
        for f in &self.trigger_functions {
            out.push(format!("CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n  -- version {}\n  RETURN NEW;\nEND\n$body$;",
                qn(PUBLIC, &f.name),
                f.marker
            ));
        }
        for table in &self.tables {
            render_table(&mut out, table);
        }
        for table in &self.tables {
            for fk in &table.foreign_keys {
                let target = self.tables.iter().find(|t| t.name == fk.target).expect("settled");
                out.push(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {}{}{};",
                    qn(&table.schema, &table.name),
                    q(&fk.name),
                    q(&fk.column),
                    qn(&target.schema, &target.name),
                    q(&target.primary_key.as_ref().expect("settled").1[0]),
                    fk.on_delete,
                    if fk.on_update_cascade { " ON UPDATE CASCADE" } else { "" },
                    if fk.deferrable { " DEFERRABLE INITIALLY DEFERRED" } else { "" }
                ));
            }
        }
        for reader in &self.readers {
            let table = self.tables.iter().find(|t| t.name == reader.table).expect("settled");
            let (name, target) = (qn(PUBLIC, &reader.name), qn(&table.schema, &table.name));
            out.push(match reader.kind {
                ReaderKind::Counts => format!(
                    "CREATE FUNCTION {name}() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) + {} FROM {target} $$;",
                    reader.marker
                ),
                ReaderKind::CountsAtomic => format!(
                    "CREATE FUNCTION {name}() RETURNS bigint LANGUAGE sql STABLE\nBEGIN ATOMIC\n  SELECT count(*) + {} FROM {target};\nEND;",
                    reader.marker
                ),
                ReaderKind::SetOf => format!(
                    "CREATE FUNCTION {name}() RETURNS SETOF {target} LANGUAGE plpgsql STABLE AS $body$\nBEGIN\n  -- {}\n  RETURN QUERY SELECT * FROM {target};\nEND\n$body$;",
                    reader.marker
                ),
            });
        }
        for view in &self.views {
            render_view(&mut out, view);
        }
        out
    }
}

fn pick_mut<'a, T>(rng: &mut Rng, items: &'a mut [T]) -> Option<&'a mut T> {
    if items.is_empty() {
        return None;
    }
    let i = rng.below(items.len());
    items.get_mut(i)
}

fn drop_one<T>(rng: &mut Rng, items: &mut Vec<T>) {
    if !items.is_empty() {
        let i = rng.below(items.len());
        items.remove(i);
    }
}

/// One change to a column: a type PostgreSQL can cast to, nullability, default, comment, collation.
fn column_edit(rng: &mut Rng, column: &mut Column, enums: &[Enum]) {
    match rng.below(6) {
        0 => {
            column.ty = match &column.ty {
                // Conversions through text: an enum's labels, text to an enum, numbers to text, and a
                // narrowing (schema only: the pairs have no rows).
                Ty::Enum(_) if rng.chance(50) => Ty::Text,
                Ty::Text if rng.chance(20) && !enums.is_empty() => {
                    rng.pick(enums).map_or(Ty::Text, |e| Ty::Enum(e.name.clone()))
                }
                Ty::Int if rng.chance(15) && column.generated_from.is_none() => Ty::Text,
                Ty::BigInt if rng.chance(15) => Ty::Int,
                Ty::SmallInt => Ty::Int,
                Ty::Int => Ty::BigInt,
                Ty::BigInt => Ty::Numeric(20, 0),
                Ty::Varchar(n) if rng.chance(50) => Ty::Varchar(n + 10),
                Ty::Varchar(_) => Ty::Text,
                Ty::Text => Ty::Varchar(200),
                Ty::Numeric(p, s) => Ty::Numeric(p + 2, *s),
                Ty::Date => Ty::TimestampTz,
                other => other.clone(),
            };
            if column.default.is_some() {
                column.default = None;
            }
            if column.identity.is_some() && !column.ty.is_integer() {
                column.identity = None;
            }
            if column.ty.is_text() && column.generated_from.is_some() {
                column.generated_from = None;
            }
        }
        1 if column.name != "id" => column.not_null = !column.not_null,
        2 if column.identity.is_none() && column.generated_from.is_none() => {
            let model = Model { enums: enums.to_vec(), ..Model::default() };
            column.default =
                if column.default.is_some() && rng.chance(50) { None } else { column.ty.default(rng, &model) };
        }
        3 => column.comment = if column.comment.is_some() { None } else { Some("commented; 'yes'".into()) },
        4 if column.ty.is_text() => column.collate_c = !column.collate_c,
        _ => {
            if let Some((kind, start)) = &mut column.identity {
                match rng.below(3) {
                    0 => *start += 5,
                    1 => *kind = if *kind == "ALWAYS" { "BY DEFAULT" } else { "ALWAYS" },
                    _ => column.identity = None,
                }
            } else if column.ty.is_integer()
                && column.default.is_none()
                && column.generated_from.is_none()
                && column.sequence.is_none()
            {
                column.identity = Some(("BY DEFAULT", 1));
                column.not_null = true;
            }
        }
    }
}

fn render_function(out: &mut Vec<String>, f: &Function) {
    let name = qn(&f.schema, &f.name);
    let expression = match &f.callee {
        Some(callee) => format!("{}(x) + {}", qn(PUBLIC, callee), f.addend),
        None => format!("x + {}", f.addend),
    };
    if f.procedure {
        out.push(format!("CREATE PROCEDURE {name}(x integer) LANGUAGE sql AS $$ SELECT {expression} $$;"));
    } else if f.atomic {
        out.push(format!("CREATE FUNCTION {name}(x integer) RETURNS integer LANGUAGE sql {}\nBEGIN ATOMIC\n  SELECT {expression};\nEND;",
            f.volatility
        ));
    } else {
        out.push(format!(
            "CREATE FUNCTION {name}(x integer) RETURNS integer LANGUAGE sql {} AS $$ SELECT {expression} $$;",
            f.volatility
        ));
    }
    let kind = if f.procedure { "PROCEDURE" } else { "FUNCTION" };
    if let Some(comment) = &f.comment {
        out.push(format!("COMMENT ON {kind} {name}(integer) IS {};", lit(comment)));
    }
    if f.revoke_public {
        out.push(format!("REVOKE EXECUTE ON {kind} {name}(integer) FROM PUBLIC;"));
    }
}

fn render_table(out: &mut Vec<String>, table: &Table) {
    let name = qn(&table.schema, &table.name);
    let mut items: Vec<String> = Vec::new();
    for column in &table.columns {
        let mut text = format!("{} {}", q(&column.name), column.ty.sql(PUBLIC));
        if column.collate_c {
            text.push_str(" COLLATE \"C\"");
        }
        if let Some(source) = &column.generated_from {
            let _ = write!(text, " GENERATED ALWAYS AS ({} * 2) STORED", q(source));
        }
        if let Some((kind, start)) = column.identity {
            let _ = write!(text, " GENERATED {kind} AS IDENTITY (START WITH {start})");
        }
        if let Some(default) = &column.default {
            let _ = write!(text, " DEFAULT {default}");
        }
        if let Some(seq) = &column.sequence {
            let _ = write!(text, " DEFAULT nextval({})", lit(&qn(PUBLIC, seq)));
        }
        if column.not_null || column.identity.is_some() {
            text.push_str(" NOT NULL");
        }
        items.push(text);
    }
    if let Some((constraint, columns)) = &table.primary_key {
        let columns: Vec<String> = columns.iter().map(|c| q(c)).collect();
        let named = constraint.as_ref().map(|c| format!("CONSTRAINT {} ", q(c))).unwrap_or_default();
        items.push(format!("{named}PRIMARY KEY ({})", columns.join(", ")));
    }
    for (constraint, columns) in &table.uniques {
        let columns: Vec<String> = columns.iter().map(|c| q(c)).collect();
        items.push(format!("CONSTRAINT {} UNIQUE ({})", q(constraint), columns.join(", ")));
    }
    for check in table.checks.iter().filter(|c| !c.not_valid) {
        items.push(format!("CONSTRAINT {} CHECK ({} > {})", q(&check.name), q(&check.column), check.bound));
    }
    for (constraint, column) in &table.exclusions {
        items.push(format!("CONSTRAINT {} EXCLUDE USING gist ({} WITH &&)", q(constraint), q(column)));
    }
    let mut sql =
        format!("CREATE {}TABLE {name} (\n  {}\n)", if table.unlogged { "UNLOGGED " } else { "" }, items.join(",\n  "));
    if table.partitions.is_some() {
        sql.push_str(" PARTITION BY RANGE (\"k\")");
    }
    if let Some(fillfactor) = table.fillfactor {
        let _ = write!(sql, " WITH (fillfactor = {fillfactor})");
    }
    sql.push(';');
    out.push(sql);
    for check in table.checks.iter().filter(|c| c.not_valid) {
        out.push(format!(
            "ALTER TABLE {name} ADD CONSTRAINT {} CHECK ({} > {}) NOT VALID;",
            q(&check.name),
            q(&check.column),
            check.bound
        ));
    }
    for column in table.columns.iter().filter(|c| c.owns_sequence) {
        if let Some(seq) = &column.sequence {
            out.push(format!("ALTER SEQUENCE {} OWNED BY {name}.{};", qn(PUBLIC, seq), q(&column.name)));
        }
    }
    for partition in table.partitions.iter().flatten() {
        out.push(format!(
            "CREATE TABLE {} PARTITION OF {name} FOR VALUES FROM ('{}-01-01') TO ('{}-01-01');",
            qn(&table.schema, &partition.name),
            partition.year,
            partition.year + 1
        ));
    }
    for index in &table.indexes {
        let keys: Vec<String> = index
            .columns
            .iter()
            .map(|c| {
                let key = if index.lower { format!("lower({})", q(c)) } else { q(c) };
                if index.desc { format!("{key} DESC") } else { key }
            })
            .collect();
        let mut sql = format!(
            "CREATE {}INDEX {} ON {name} ({})",
            if index.unique { "UNIQUE " } else { "" },
            q(&index.name),
            keys.join(", ")
        );
        if let Some(column) = &index.include {
            let _ = write!(sql, " INCLUDE ({})", q(column));
        }
        if index.nulls_not_distinct {
            sql.push_str(" NULLS NOT DISTINCT");
        }
        if let Some((column, bound)) = &index.partial {
            let _ = write!(sql, " WHERE {} > {bound}", q(column));
        }
        sql.push(';');
        out.push(sql);
    }
    for trigger in &table.triggers {
        let mut sql = format!(
            "CREATE TRIGGER {} {} INSERT OR UPDATE ON {name} FOR EACH ROW",
            q(&trigger.name),
            if trigger.before { "BEFORE" } else { "AFTER" }
        );
        if let Some(column) = &trigger.when {
            let _ = write!(sql, " WHEN (NEW.{} > 0)", q(column));
        }
        let _ = write!(sql, " EXECUTE FUNCTION {}();", qn(PUBLIC, &trigger.function));
        out.push(sql);
        if !trigger.enabled {
            out.push(format!("ALTER TABLE {name} DISABLE TRIGGER {};", q(&trigger.name)));
        }
    }
    if table.rls {
        out.push(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;"));
    }
    for policy in &table.policies {
        out.push(format!(
            "CREATE POLICY {} ON {name} AS {} FOR {} TO {} USING ({} > {});",
            q(&policy.name),
            if policy.permissive { "PERMISSIVE" } else { "RESTRICTIVE" },
            policy.command,
            q(policy.role),
            q(&policy.column),
            policy.bound
        ));
    }
    for (role, privileges) in &table.grants {
        out.push(format!("GRANT {} ON {name} TO {};", privileges.join(", "), q(role)));
    }
    for (role, column) in &table.column_grants {
        out.push(format!("GRANT UPDATE ({}) ON {name} TO {};", q(column), q(role)));
    }
    if let Some(comment) = &table.comment {
        out.push(format!("COMMENT ON TABLE {name} IS {};", lit(comment)));
    }
    for column in &table.columns {
        if let Some(comment) = &column.comment {
            out.push(format!("COMMENT ON COLUMN {name}.{} IS {};", q(&column.name), lit(comment)));
        }
    }
}

fn render_view(out: &mut Vec<String>, view: &View) {
    let name = qn(&view.schema, &view.name);
    let mut columns: Vec<String> = view.columns.iter().map(|c| q(c)).collect();
    if let Some((function, column)) = &view.call {
        columns.push(format!("{}({}) AS \"called\"", qn(PUBLIC, function), q(column)));
    }
    let mut sql = format!(
        "CREATE {}VIEW {name} AS SELECT {} FROM {}",
        if view.materialized { "MATERIALIZED " } else { "" },
        columns.join(", "),
        qn(&view.schema, &view.table)
    );
    if let Some((column, bound)) = &view.filter {
        let _ = write!(sql, " WHERE {} > {bound}", q(column));
    }
    sql.push(';');
    out.push(sql);
    for (index, column) in &view.indexes {
        out.push(format!("CREATE INDEX {} ON {name} ({});", q(index), q(column)));
    }
    let kind = if view.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
    if let Some(comment) = &view.comment {
        out.push(format!("COMMENT ON {kind} {name} IS {};", lit(comment)));
    }
    if let Some(role) = view.grant {
        out.push(format!("GRANT SELECT ON {name} TO {};", q(role)));
    }
}

/// How a pair fared: the round trip's outcome, or why it could not even be set up.
#[derive(Debug)]
pub struct PairOutcome {
    pub seed: u64,
    pub outcome: super::roundtrip::Outcome,
}

/// Runs the pairs of `seeds` through the round trip as a user runs it (generate, `migrate up`, plan
/// again, `migrate down`; see [`super::roundtrip::run_generated`]), `jobs` at a time, and returns every
/// outcome in seed order. The roles of [`ROLES`] are created first. The pairs share one thread (the
/// runner's futures are not `Send`); their time is spent waiting for the server.
pub async fn check_pairs(
    server: &'static super::PgServer,
    seeds: impl IntoIterator<Item = u64>,
    jobs: usize,
) -> anyhow::Result<Vec<PairOutcome>> {
    server.ensure_roles(&ROLES).await?;
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let local = tokio::task::LocalSet::new();
    let outcomes = local
        .run_until(async move {
            let mut tasks = Vec::new();
            for seed in seeds {
                let permit = semaphore.clone().acquire_owned().await?;
                tasks.push(tokio::task::spawn_local(async move {
                    let pair = pair(seed);
                    let label = format!("gen{seed}");
                    let outcome = super::roundtrip::run_generated(
                        server,
                        &label,
                        &pair.current,
                        &pair.desired,
                        &pair.declared,
                        // The pairs' roles are managed: a privilege the desired side no longer grants is
                        // revoked (the reference database is the desired side loaded on its own).
                        |settings| settings.privilege_roles = ROLES.iter().map(|r| r.to_string()).collect(),
                    )
                    .await
                    .unwrap_or_else(|e| super::roundtrip::Outcome {
                        failure: Some(format!("setup: {e:#}")),
                        ..Default::default()
                    });
                    drop(permit);
                    PairOutcome { seed, outcome }
                }));
            }
            let mut outcomes = Vec::new();
            for task in tasks {
                outcomes.push(task.await?);
            }
            anyhow::Ok(outcomes)
        })
        .await?;
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_pair() {
        for seed in 0..50 {
            let (a, b) = (pair(seed), pair(seed));
            assert_eq!((a.current, a.desired), (b.current, b.desired));
        }
    }

    #[test]
    fn pairs_differ_across_seeds() {
        let distinct: std::collections::BTreeSet<String> = (0..50).map(|s| pair(s).current).collect();
        assert!(distinct.len() > 45, "{}", distinct.len());
    }
}
