//! A deterministic generator of large, realistic schemas for benchmarks: N tables over several schemas
//! with 5–15 columns of varied types, identity keys, defaults, NOT NULL, unique and check constraints,
//! foreign keys, 1–3 indexes per table (partial, expression, multi-column), enums, sequences, views and
//! comments; and a "desired" variant with a given share of realistic edits. The same seed always gives
//! the same catalog. SQL for loading it into a database comes from rendering the catalog.

use crate::model::*;
use indexmap::IndexMap;

/// A small, fast, deterministic pseudo-random generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const TYPES: &[(&str, Option<&str>)] = &[
    ("integer", Some("0")),
    ("bigint", None),
    ("text", Some("''::text")),
    ("character varying(80)", None),
    ("boolean", Some("false")),
    ("timestamp with time zone", Some("now()")),
    ("numeric(12,2)", Some("0")),
    ("jsonb", Some("'{}'::jsonb")),
    ("uuid", None),
    ("date", None),
];

fn schema_name(i: usize) -> String {
    format!("app{}", i % 4)
}

/// The catalog of `tables` tables, generated from `seed`.
pub fn catalog(tables: usize, seed: u64) -> Catalog {
    let mut rng = Rng(seed);
    let mut catalog = Catalog::default();
    for s in 0..tables.min(4) {
        let name = schema_name(s);
        catalog.schemas.insert(name.clone(), Namespace { name, comment: None });
    }
    let enum_count = (tables / 50).max(1);
    for e in 0..enum_count {
        let name = QualifiedName::new(schema_name(e), format!("status_{e}"));
        let labels = (0..3 + e % 4).map(|l| format!("state_{l}")).collect();
        catalog.enums.insert(name.clone(), EnumType { name, labels, comment: None });
    }
    for t in 0..tables {
        let name = QualifiedName::new(schema_name(t), format!("table_{t}"));
        let mut columns = IndexMap::new();
        columns.insert(Name::from("id"), Column::new("id", "bigint").not_null().identity(IdentityKind::ByDefault));
        let width = 5 + rng.below(11);
        for c in 1..width {
            let (data_type, default) = TYPES[rng.below(TYPES.len())];
            // The random draws stay in this order: the generated schema is fixed by its seed.
            let mut column = Column::new(format!("col_{c}"), data_type);
            column.not_null = rng.chance(40);
            column.default = default.filter(|_| rng.chance(50)).map(Box::from);
            column.set_comment(rng.chance(10).then(|| format!("column {c} of table {t}")));
            columns.insert(column.name.clone(), column);
        }
        if rng.chance(20) {
            let e = rng.below(enum_count);
            let enum_name = QualifiedName::new(schema_name(e), format!("status_{e}"));
            columns.insert(
                "status".into(),
                Column::new("status", enum_name.to_string()).depending_on([ObjectRef::Type(enum_name.clone())]),
            );
        }
        let mut constraints = IndexMap::new();
        let pk = format!("table_{t}_pkey");
        constraints.insert(
            Name::from(pk.as_str()),
            constraint(&pk, ConstraintKind::PrimaryKey, "PRIMARY KEY (id)", &["id"], None),
        );
        if rng.chance(30) {
            let n = format!("table_{t}_col_1_key");
            constraints.insert(
                Name::from(n.as_str()),
                constraint(&n, ConstraintKind::Unique, "UNIQUE (col_1)", &["col_1"], None),
            );
        }
        if rng.chance(20) {
            let n = format!("table_{t}_id_check");
            constraints.insert(
                Name::from(n.as_str()),
                constraint(&n, ConstraintKind::Check, "CHECK ((id > 0))", &["id"], None),
            );
        }
        if t > 0 && rng.chance(60) {
            let target = QualifiedName::new(schema_name(t / 2), format!("table_{}", t / 2));
            columns.insert("parent_id".into(), Column::new("parent_id", "bigint"));
            let n = format!("table_{t}_parent_id_fkey");
            let def = format!("FOREIGN KEY (parent_id) REFERENCES {target}(id)");
            let fk = ForeignKeyTarget { table: target, columns: vec!["id".into()] };
            constraints.insert(
                Name::from(n.as_str()),
                constraint(&n, ConstraintKind::ForeignKey, &def, &["parent_id"], Some(fk)),
            );
        }
        let indexes = 1 + rng.below(3);
        for i in 0..indexes {
            let index_name = QualifiedName::new(name.schema.clone(), format!("table_{t}_idx_{i}"));
            let (definition, columns_used) = match i {
                0 => ("btree (col_1)".to_string(), vec![Name::from("col_1")]),
                1 => ("btree (col_1, id) WHERE (id > 100)".to_string(), vec!["col_1".into(), "id".into()]),
                // Casts of timestamptz and date to text depend on settings (not IMMUTABLE), which
                // PostgreSQL refuses in an index expression; index an expression of the key there.
                _ if matches!(
                    columns.get("col_1").map(|c| c.data_type.as_str()),
                    Some("timestamp with time zone" | "date")
                ) =>
                {
                    ("btree (((id % (1000)::bigint)))".to_string(), vec!["id".into()])
                }
                _ => ("btree (((col_1)::text))".to_string(), vec!["col_1".into()]),
            };
            catalog.indexes.insert(
                index_name.clone(),
                Index {
                    name: index_name,
                    table: name.clone(),
                    unique: false,
                    definition,
                    columns: columns_used,
                    comment: None,
                    depends_on: Vec::new(),
                    partitions: Vec::new(),
                },
            );
        }
        let comment = rng.chance(30).then(|| format!("table {t}"));
        catalog.tables.insert(name.clone(), Table { columns, constraints, comment, ..Table::new(name) });
        if t % 10 == 0 {
            let seq = QualifiedName::new(schema_name(t), format!("counter_{t}"));
            catalog.sequences.insert(
                seq.clone(),
                Sequence {
                    name: seq,
                    data_type: "bigint".into(),
                    start: 1,
                    increment: 1,
                    min_value: 1,
                    max_value: i64::MAX,
                    cache: 1,
                    cycle: false,
                    owned_by: None,
                    comment: None,
                },
            );
        }
        if t % 20 == 5 {
            let table = QualifiedName::new(schema_name(t), format!("table_{t}"));
            let view = QualifiedName::new(schema_name(t), format!("view_{t}"));
            catalog.views.insert(
                view.clone(),
                View {
                    name: view,
                    materialized: false,
                    definition: format!(" SELECT table_{t}.id,\n    table_{t}.col_1\n   FROM {table}"),
                    columns: vec!["id".into(), "col_1".into()],
                    depends_on: vec![
                        ObjectRef::Relation(table.clone()),
                        ObjectRef::Column(ColumnRef { table: table.clone(), column: "id".into() }),
                        ObjectRef::Column(ColumnRef { table, column: "col_1".into() }),
                    ],
                    comment: None,
                    column_comments: Default::default(),
                    options: Vec::new(),
                },
            );
        }
    }
    catalog
}

/// A default of the column's type, for an edit that adds one (a NULL default is no default to PostgreSQL).
fn new_default(data_type: &str) -> &'static str {
    match data_type {
        "integer" | "bigint" | "numeric(12,2)" => "1",
        "boolean" => "true",
        "timestamp with time zone" => "now()",
        "jsonb" => "'[]'::jsonb",
        "uuid" => "gen_random_uuid()",
        "date" => "CURRENT_DATE",
        _ => "'none'::text",
    }
}

fn constraint(
    name: &str,
    kind: ConstraintKind,
    definition: &str,
    columns: &[&str],
    references: Option<ForeignKeyTarget>,
) -> Constraint {
    Constraint {
        name: name.into(),
        kind,
        definition: definition.into(),
        validated: true,
        columns: columns.iter().map(|&c| Name::from(c)).collect(),
        references: references.map(Box::new),
        comment: None,
        depends_on: Vec::new(),
    }
}

/// A copy of `base` with about `percent`% of its tables edited: columns added, dropped and retyped,
/// defaults changed, indexes added and dropped, foreign keys dropped, tables dropped and added, enum
/// values added.
pub fn edited(base: &Catalog, percent: u64, seed: u64) -> Catalog {
    let mut rng = Rng(seed ^ 0xA5A5_A5A5);
    let mut out = base.clone();
    let names: Vec<QualifiedName> = out.tables.keys().cloned().collect();
    for name in &names {
        if !rng.chance(percent) {
            continue;
        }
        match rng.below(7) {
            0 => {
                if let Some(t) = out.tables.get_mut(name) {
                    t.columns.insert("added".into(), Column::new("added", "text"));
                }
            }
            1 => {
                if let Some(t) = out.tables.get_mut(name)
                    && t.columns.len() > 3
                    && let Some(last) = t.columns.keys().last().cloned()
                    && last.starts_with("col_")
                {
                    t.columns.shift_remove(&last);
                }
            }
            2 => {
                if let Some(c) = out.tables.get_mut(name).and_then(|t| t.columns.get_mut("col_1")) {
                    c.data_type = "text".into();
                }
            }
            3 => {
                if let Some(c) = out.tables.get_mut(name).and_then(|t| t.columns.get_mut("col_1")) {
                    c.default = if c.default.is_some() { None } else { Some(new_default(&c.data_type).into()) };
                }
            }
            4 => {
                let index = QualifiedName::new(name.schema.clone(), format!("{}_extra_idx", name.name));
                out.indexes.insert(
                    index.clone(),
                    Index {
                        name: index,
                        table: name.clone(),
                        unique: false,
                        definition: "btree (id DESC)".into(),
                        columns: vec!["id".into()],
                        comment: None,
                        depends_on: Vec::new(),
                        partitions: Vec::new(),
                    },
                );
            }
            5 => {
                if let Some(t) = out.tables.get_mut(name) {
                    t.constraints.retain(|_, c| c.kind != ConstraintKind::ForeignKey);
                }
            }
            _ => {
                let extra = QualifiedName::new(name.schema.clone(), format!("{}_new", name.name));
                let mut table = out.tables[name].clone();
                table.name = extra.clone();
                table.constraints.clear();
                out.tables.insert(extra, table);
            }
        }
    }
    if let Some(first) = out.enums.values_mut().next() {
        first.labels.push("state_added".into());
    }
    out
}

/// The SQL text that creates `catalog` in an empty PostgreSQL database (whose `public` schema is left
/// alone): `diff(empty, catalog)` rendered for PostgreSQL, in dependency order, one statement after
/// another separated by blank lines. This is what the end-to-end benchmark loads with `psql -1 -f`
/// and writes as the declared schema files.
pub fn sql(catalog: &Catalog) -> String {
    use crate::dialect::postgres::render::PostgresRenderer;
    use crate::diff::{RenameHints, diff};
    let changes = diff(&Catalog::default(), catalog, &RenameHints::default());
    let plan = crate::plan::build(&changes, &PostgresRenderer).expect("a generated catalog has no dependency cycle");
    let mut out = String::new();
    for statement in plan.statements() {
        out.push_str(statement);
        out.push_str("\n\n");
    }
    out
}
