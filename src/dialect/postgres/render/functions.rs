//! Functions, procedures and aggregates: created or replaced from PostgreSQL's own definition
//! (`pg_get_functiondef`, or the aggregate's `CREATE AGGREGATE`), dropped, and the ways other statements
//! name a routine (`GRANT`, `COMMENT ON`, `ALTER … OWNER TO`).

use super::qualified;
use crate::diff::FunctionChange;
use crate::model::*;

pub(super) fn render(change: &FunctionChange) -> Vec<String> {
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
