//! Functions, procedures and aggregates: what PostgreSQL reads of them, the SQL that changes them, and the
//! hazards of that SQL.
//!
//! Read (`queries/functions.sql`, `queries/function_uses.sql`): definition, signature, result, comments, and
//! what each depends on (types, relations and columns, the functions it calls, and what a SQL body in a string
//! reads, which PostgreSQL does not record); and which other objects call which functions (column defaults and
//! generated columns, constraints, indexes, views), so that each is ordered after what it calls.
//!
//! Render: created or replaced from PostgreSQL's own definition (`pg_get_functiondef`, or the aggregate's
//! `CREATE AGGREGATE`), dropped, and the ways other statements name a routine (`GRANT`, `COMMENT ON`,
//! `ALTER … OWNER TO`).
//!
//! Hazards: none of PostgreSQL's own; the shared rules cover them ([`crate::safety`]).

use crate::dialect::postgres::introspect::{IntrospectError, fetch, get, get_qualified, json_pairs};
use crate::dialect::postgres::render::qualified;
use crate::diff::FunctionChange;
use crate::model::*;
use sqlx::postgres::PgConnection;

// ------------------------------------------------------------------------------------------------
// Read.

const QUERY: (&str, &str) = ("functions", include_str!("../queries/functions.sql"));
const USES: (&str, &str) = ("function uses", include_str!("../queries/function_uses.sql"));

/// Reads the functions, procedures and aggregates, and then what each SQL body in a string calls.
pub(crate) async fn read(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    // The SQL bodies in strings, with when each function was created: what they call is resolved once
    // every function is known.
    let mut created: Vec<(FunctionId, i64)> = Vec::new();
    let mut sql_bodies: Vec<SqlBody> = Vec::new();
    for row in fetch(conn, QUERY, schemas).await? {
        let q = "functions";
        let id = FunctionId { name: get_qualified(&row, q, "name")?, arguments: get(&row, q, "arguments")? };
        let kind = match get::<String>(&row, q, "kind")?.as_str() {
            "p" => FunctionKind::Procedure,
            "a" => FunctionKind::Aggregate,
            _ => FunctionKind::Function,
        };
        let mut depends_on: Vec<ObjectRef> = json_pairs(q, &get::<String>(&row, q, "types")?)?
            .into_iter()
            .map(|(s, n)| ObjectRef::Type(QualifiedName::new(s, n)))
            .collect();
        let relations: Vec<(Name, Name, Option<Name>)> = serde_json::from_str(&get::<String>(&row, q, "relations")?)
            .map_err(|e| IntrospectError::Decode { query: q, detail: e.to_string() })?;
        for (schema, relation, column) in relations {
            let relation = QualifiedName::new(schema, relation);
            depends_on.push(match column {
                Some(column) => ObjectRef::Column(ColumnRef { table: relation, column }),
                None => ObjectRef::Relation(relation),
            });
        }
        // PostgreSQL checks a SQL body in a string when the function is created, but records nothing
        // of what it reads: find the relations in it, so the function is created after them.
        let source: Option<String> = get(&row, q, "source")?;
        created.push((id.clone(), get(&row, q, "created")?));
        let body_dependencies_known = match (get::<String>(&row, q, "language")?.as_str(), source) {
            // A SQL-standard body (BEGIN ATOMIC, RETURN): PostgreSQL records what it uses.
            (_, None) => true,
            ("sql", Some(source)) => {
                let references = crate::declared::sql_body_references(&source);
                let named = references.as_ref().map(|r| r.functions.clone());
                sql_bodies.push(SqlBody { id: id.clone(), source, named });
                match references {
                    Some(references) => {
                        for (schema, name) in references.relations {
                            depends_on.push(ObjectRef::Relation(QualifiedName::new(schema, name)));
                        }
                        for (schema, name) in references.types {
                            depends_on.push(ObjectRef::Type(QualifiedName::new(schema, name)));
                        }
                        true
                    }
                    None => false,
                }
            }
            // C and internal functions call no SQL objects; other languages' bodies are opaque.
            ("c" | "internal", Some(_)) => true,
            (_, Some(_)) => false,
        };
        depends_on.extend(function_triples(q, &get::<String>(&row, q, "functions")?)?);
        depends_on.sort();
        depends_on.dedup();
        let definition: String = get(&row, q, "definition")?;
        let function = Function {
            id: id.clone(),
            kind,
            definition: definition.trim_end().to_string(),
            signature: get(&row, q, "signature")?,
            returns: get(&row, q, "returns")?,
            comment: get(&row, q, "comment")?,
            depends_on,
            body_dependencies_known,
            calls: Vec::new(),
            call_signature: get(&row, q, "call_signature")?,
        };
        catalog.functions.insert(id, function);
    }
    for SqlBody { id, source, named } in sql_bodies {
        let calls = sql_body_calls(&id, &source, named.as_deref(), &created);
        if let Some(function) = catalog.functions.get_mut(&id) {
            function.calls = calls;
        }
    }
    Ok(())
}

/// Adds the functions that columns, constraints, indexes and views call to their dependencies (and the
/// columns a generated column reads), once those and the functions are read.
pub(crate) async fn read_uses(
    conn: &mut PgConnection,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), IntrospectError> {
    for row in fetch(conn, USES, schemas).await? {
        let q = "function uses";
        let schema: String = get(&row, q, "schema")?;
        let relation = QualifiedName::new(schema, get::<String>(&row, q, "relation")?);
        let member: Option<String> = get(&row, q, "member")?;
        let kind = get::<&str>(&row, q, "kind")?;
        if kind == "generated" {
            let read = ObjectRef::Column(ColumnRef {
                table: relation.clone(),
                column: get::<&str>(&row, q, "column_read")?.into(),
            });
            let column = catalog
                .tables
                .get_mut(&relation)
                .and_then(|t| t.columns.get_mut(member.as_deref().unwrap_or_default()));
            if let Some(column) = column {
                column.add_dependency(read);
            }
            continue;
        }
        let function = function_ref(
            get(&row, q, "function_schema")?,
            get(&row, q, "function_name")?,
            get(&row, q, "function_arguments")?,
        );
        if kind == "column" {
            // A column's dependencies are a boxed slice (columns are many, functions in defaults few).
            let column = catalog
                .tables
                .get_mut(&relation)
                .and_then(|t| t.columns.get_mut(member.as_deref().unwrap_or_default()));
            if let Some(column) = column {
                column.add_dependency(function);
            }
            continue;
        }
        let target = match kind {
            "constraint" => catalog
                .tables
                .get_mut(&relation)
                .and_then(|t| t.constraints.get_mut(member.as_deref().unwrap_or_default()))
                .map(|c| &mut c.depends_on),
            "index" => catalog.indexes.get_mut(&relation).map(|i| &mut i.depends_on),
            "view" => catalog.views.get_mut(&relation).map(|v| &mut v.depends_on),
            _ => None,
        };
        if let Some(depends_on) = target
            && !depends_on.contains(&function)
        {
            depends_on.push(function);
        }
    }
    Ok(())
}

pub(super) fn function_ref(schema: String, name: String, arguments: String) -> ObjectRef {
    ObjectRef::Function(FunctionId { name: QualifiedName::new(schema, name), arguments })
}

/// The functions in a JSON array of [schema, name, identity arguments].
pub(super) fn function_triples(query: &'static str, text: &str) -> Result<Vec<ObjectRef>, IntrospectError> {
    let triples: Vec<(String, String, String)> =
        serde_json::from_str(text).map_err(|e| IntrospectError::Decode { query, detail: e.to_string() })?;
    Ok(triples.into_iter().map(|(s, n, a)| function_ref(s, n, a)).collect())
}

/// A `LANGUAGE sql` body in a string, with the functions it names when the parser can read it.
struct SqlBody {
    id: FunctionId,
    source: String,
    named: Option<Vec<(String, String)>>,
}

/// The functions a `LANGUAGE sql` body in a string calls. PostgreSQL checked the body when the function was
/// created, so the functions it names existed then: among overloads, those created before it (a caller
/// replaced later may call newer ones: then every overload of the name). A body the parser cannot read is
/// taken to call the earlier functions whose names it contains, and one that cannot even be split into
/// words every earlier function.
fn sql_body_calls(
    id: &FunctionId,
    body: &str,
    named: Option<&[(String, String)]>,
    created: &[(FunctionId, i64)],
) -> Vec<FunctionId> {
    let when = created.iter().find(|(f, _)| f == id).map_or(i64::MAX, |(_, c)| *c);
    let others = || created.iter().filter(|(f, _)| f != id);
    let mut calls: Vec<FunctionId> = match named {
        Some(named) => named
            .iter()
            .flat_map(|(schema, name)| {
                let named: Vec<&(FunctionId, i64)> = others()
                    .filter(|(f, _)| f.name.schema == schema.as_str() && f.name.name == name.as_str())
                    .collect();
                let earlier: Vec<&FunctionId> = named.iter().filter(|(_, c)| *c < when).map(|(f, _)| f).collect();
                if earlier.is_empty() {
                    named.into_iter().map(|(f, _)| f.clone()).collect::<Vec<_>>()
                } else {
                    earlier.into_iter().cloned().collect()
                }
            })
            .collect(),
        None => {
            let words = crate::declared::sql_body_words(body);
            others()
                .filter(|(f, c)| {
                    *c < when && words.as_ref().is_none_or(|w| w.iter().any(|w| f.name.name == w.as_str()))
                })
                .map(|(f, _)| f.clone())
                .collect()
        }
    };
    calls.sort();
    calls.dedup();
    calls
}

// ------------------------------------------------------------------------------------------------
// Render.

pub(crate) fn render(change: &FunctionChange) -> Vec<String> {
    match change {
        FunctionChange::Create(f) | FunctionChange::Replace { to: f, .. } => create(f),
        FunctionChange::Drop(f) => drop(f),
    }
}

/// A new or replaced routine: its definition as the catalog query writes it.
fn create(f: &Function) -> Vec<String> {
    let note = if f.body_dependencies_known {
        ""
    } else {
        "-- schema: what this body uses is not recorded by PostgreSQL; it is created after the tables \
         and columns of this migration\n"
    };
    vec![format!("{note}{};", f.definition)]
}

fn drop(f: &Function) -> Vec<String> {
    vec![format!("DROP {};", routine(&f.id, f.kind))]
}

/// `schema.name(arguments)` as `GRANT`, `COMMENT ON FUNCTION` and `ALTER FUNCTION` name a routine: the
/// argument list is PostgreSQL's own identity rendering, except that an ordered-set aggregate's (`double
/// precision ORDER BY double precision`) lists its arguments with commas, as those statements take them.
pub(super) fn function_name(id: &FunctionId) -> String {
    format!("{}({})", qualified(&id.name), without_order_by(&id.arguments))
}

/// `KIND schema.name(arguments)` as `DROP` and `ALTER … OWNER TO` name a routine of its own kind: an
/// aggregate's arguments as `CREATE AGGREGATE` writes them (`ORDER BY` kept, `*` for none).
pub(super) fn routine(id: &FunctionId, kind: FunctionKind) -> String {
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
    let Ok(tokens) =
        Tokenizer::new(&crate::dialect::postgres::sql_dialect(), arguments).with_unescape(false).tokenize()
    else {
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
