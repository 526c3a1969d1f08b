//! A migration written for the template schema, made to run on one tenant's schema (`[fleet] schemas`).
//!
//! The generated files name every object with its schema (`"public"."users"`, `REFERENCES public.t(id)`,
//! `nextval('public.users_id_seq'::regclass)`), so running them under another `search_path` would change
//! the template's objects, not the tenant's. Each tenant gets a copy in which every place the template
//! schema is named *as a schema* names the tenant's instead, and nothing else changes: the text is read
//! with the tokenizer, and only those tokens are replaced: by the quoted name where the template's was
//! quoted, else by the name as PostgreSQL writes it (`quote_ident`, so that a function body reads as
//! the database would have written it), or by a literal holding one; every other byte is written as it
//! was read. The places are:
//! - a qualifier: the first part of a dotted name (`public.users`, `public.f(public.t)`);
//! - a name after the keyword `SCHEMA` (`GRANT USAGE ON SCHEMA public`, `COMMENT ON SCHEMA public`);
//! - an item of a `search_path` setting (`SET search_path TO public`, `SET search_path = 'public'`);
//! - the text of a `'…'::regclass` literal (and the other `reg*` types), mapped the same way;
//! - the body of a dollar-quoted function, mapped the same way.
//!
//! The template's name elsewhere (a column, an alias or the role `PUBLIC` spelt like it) is left alone.
//! Refused, with the place: statements that act on the whole database (extensions, schemas, roles, …),
//! which would run once per tenant; a qualifier naming another schema of the database that is not
//! shared (another tenant's); a string that names the template qualified (`'public.users'` handed to
//! dynamic SQL), which cannot be told apart from data; `set_config('search_path', …)`.

use crate::dialect::postgres::render::{ident, literal};
use crate::dialect::tokens::{Spanned, spanned};
use sqlparser::tokenizer::Token;
use std::ops::Range;

/// The schemas one tenant's copy of a migration is made for.
#[derive(Debug, Clone)]
pub struct TenantSchemas<'a> {
    /// The schema the migrations were written for (`[fleet] template_schema`).
    pub template: &'a str,
    /// The tenant's schema, which takes its place.
    pub tenant: &'a str,
    /// The tenant's name as PostgreSQL writes it where a name needs no quotes (`quote_ident`): what
    /// replaces the template's name where that was written bare.
    pub written: &'a str,
    /// The database's other schemas that are neither the template nor shared: the other tenants', and
    /// any other that a tenant's migration has no business naming.
    pub foreign: &'a [String],
}

/// Why a migration cannot be made to run on a tenant's schema, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 1-based line and column (in characters) in the migration's text.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The `reg*` types whose literals hold a (possibly qualified) object name.
const NAME_TYPES: [&str; 10] = [
    "regclass",
    "regtype",
    "regproc",
    "regprocedure",
    "regoper",
    "regoperator",
    "regconfig",
    "regdictionary",
    "regcollation",
    "regnamespace",
];

/// `sql` (a migration's text) with the template schema replaced by the tenant's wherever it is named as
/// a schema; a refusal when that cannot be done safely.
pub fn for_tenant(sql: &str, schemas: &TenantSchemas) -> Result<String, Refusal> {
    map(sql, schemas).map_err(|(offset, message)| {
        let before = &sql[..offset.min(sql.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Refusal { line, column, message }
    })
}

/// A refusal: the byte offset in the text being mapped, and why.
type Refused = (usize, String);

fn map(sql: &str, schemas: &TenantSchemas) -> Result<String, Refused> {
    let tokens = spanned(&super::sql_dialect(), sql, true).map_err(|e| (0, format!("cannot be read: {e}")))?;
    let significant: Vec<&Spanned> = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut in_search_path = vec![false; significant.len()];
    let mut statement_start = 0;
    // A comment's text is data, never run: it may name anything.
    let mut in_comment = false;
    for (k, t) in significant.iter().enumerate() {
        if k == statement_start {
            refuse_database_wide(&significant[k..]).map_err(|m| (t.bytes.start, m))?;
            in_comment = is_word(&t.token, "comment");
        }
        if t.token == Token::SemiColon {
            statement_start = k + 1;
        }
        let prev = k.checked_sub(1).map(|p| &significant[p].token);
        let next = significant.get(k + 1).map(|n| &n.token);
        match &t.token {
            Token::Word(_)
                if is_word(&t.token, "search_path")
                    && (matches!(next, Some(Token::Eq)) || next.is_some_and(|n| is_word(n, "to"))) =>
            {
                mark_search_path(&significant, k + 2, &mut in_search_path);
            }
            Token::Word(_) if is_word(&t.token, "set_config") => {
                let first = significant.get(k + 2).map(|a| &a.token);
                if matches!(next, Some(Token::LParen))
                    && matches!(first, Some(Token::SingleQuotedString(s)) if s.eq_ignore_ascii_case("search_path"))
                {
                    return Err((
                        t.bytes.start,
                        "sets search_path through set_config(), which cannot be mapped to each tenant's schema; \
                         use SET search_path"
                            .to_string(),
                    ));
                }
            }
            Token::Word(w) => {
                let name = if w.quote_style.is_some() { w.value.clone() } else { w.value.to_lowercase() };
                let qualifier = matches!(next, Some(Token::Period)) && !matches!(prev, Some(Token::Period));
                let after_schema = prev.is_some_and(|p| is_word(p, "schema"));
                if qualifier || after_schema || in_search_path[k] {
                    if name == schemas.template {
                        let replacement =
                            if w.quote_style.is_some() { ident(schemas.tenant) } else { schemas.written.into() };
                        edits.push((t.bytes.clone(), replacement));
                    } else if schemas.foreign.contains(&name) {
                        return Err((t.bytes.start, foreign(&name, schemas)));
                    }
                }
            }
            Token::SingleQuotedString(text)
            | Token::EscapedStringLiteral(text)
            | Token::NationalStringLiteral(text)
            | Token::UnicodeStringLiteral(text) => {
                if let Some(reg) = name_type(&significant, k) {
                    let mapped = if reg == "regnamespace" {
                        map_schema_name(text, schemas).map_err(|m| (t.bytes.start, m))?
                    } else {
                        map(text, schemas).map_err(|(at, m)| (t.bytes.start + 1 + at, m))?
                    };
                    if &mapped != text {
                        edits.push((t.bytes.clone(), literal(&mapped)));
                    }
                } else if in_search_path[k] {
                    let item = text.trim().trim_matches('"');
                    if item == schemas.template {
                        edits.push((t.bytes.clone(), literal(&ident(schemas.tenant))));
                    } else if schemas.foreign.iter().any(|f| f == item) {
                        return Err((t.bytes.start, foreign(item, schemas)));
                    }
                } else if !in_comment && names_qualified(text, schemas.template) {
                    return Err((
                        t.bytes.start,
                        format!(
                            "a string names the template schema {:?} qualified ({}), which cannot be told apart \
                             from data: name it through a `'…'::regclass` cast, or build the string without the \
                             schema",
                            schemas.template,
                            literal(text)
                        ),
                    ));
                }
            }
            Token::DollarQuotedString(quoted) => {
                let original = &sql[t.bytes.clone()];
                let delimiter = format!("${}$", quoted.tag.as_deref().unwrap_or(""));
                let body_start = t.bytes.start + delimiter.len();
                let mapped = match map(&quoted.value, schemas) {
                    Ok(mapped) => mapped,
                    // A body that is not SQL the tokenizer reads (another language) is left alone unless it
                    // names the template, which then cannot be mapped.
                    Err((0, _)) if !quoted.value.to_lowercase().contains(&schemas.template.to_lowercase()) => {
                        quoted.value.clone()
                    }
                    Err((at, message)) => return Err((body_start + at, message)),
                };
                if mapped != quoted.value {
                    if mapped.contains(&delimiter) || !original.starts_with(&delimiter) {
                        return Err((t.bytes.start, "a quoted body cannot hold the tenant's schema name".into()));
                    }
                    edits.push((t.bytes.clone(), format!("{delimiter}{mapped}{delimiter}")));
                }
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(sql.len() + edits.len() * schemas.tenant.len());
    let mut at = 0;
    for (range, replacement) in edits {
        out.push_str(&sql[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&sql[at..]);
    Ok(out)
}

fn foreign(name: &str, schemas: &TenantSchemas) -> String {
    format!(
        "names the schema {name:?}, another schema of the database: a tenant's migration may name its own schema \
         (written as the template {:?}) and the shared schemas ([fleet] shared_schemas)",
        schemas.template
    )
}

/// Whether `token` is the unquoted word `word` (any case).
fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// The `reg*` type the literal at `k` is cast to (`'…'::regclass`, `'…'::pg_catalog.regclass`).
fn name_type(significant: &[&Spanned], k: usize) -> Option<&'static str> {
    let token = |i: usize| significant.get(i).map(|t| &t.token);
    if token(k + 1) != Some(&Token::DoubleColon) {
        return None;
    }
    let type_at = if token(k + 2).is_some_and(|t| is_word(t, "pg_catalog")) && token(k + 3) == Some(&Token::Period) {
        k + 4
    } else {
        k + 2
    };
    NAME_TYPES.into_iter().find(|reg| token(type_at).is_some_and(|t| is_word(t, reg)))
}

/// Marks the items of a `search_path` list starting at `from` (names and strings separated by commas).
fn mark_search_path(significant: &[&Spanned], from: usize, marks: &mut [bool]) {
    let mut k = from;
    while k < significant.len() {
        match &significant[k].token {
            Token::Word(_) | Token::SingleQuotedString(_) => marks[k] = true,
            _ => return,
        }
        if significant.get(k + 1).map(|t| &t.token) != Some(&Token::Comma) {
            return;
        }
        k += 2;
    }
}

/// A `regnamespace` literal's text: one schema name, quoted or not.
fn map_schema_name(text: &str, schemas: &TenantSchemas) -> Result<String, String> {
    let trimmed = text.trim();
    let name = match trimmed.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => trimmed.to_lowercase(),
    };
    if name == schemas.template {
        Ok(ident(schemas.tenant))
    } else if schemas.foreign.contains(&name) {
        Err(foreign(&name, schemas))
    } else {
        Ok(text.to_string())
    }
}

/// Whether `text` holds `template.` (or `"template".`) starting a word: a qualified name in a string.
fn names_qualified(text: &str, template: &str) -> bool {
    let lower = text.to_lowercase();
    let forms = [format!("{}.", template.to_lowercase()), format!("{}.", ident(template).to_lowercase())];
    forms.iter().any(|form| {
        lower.match_indices(form.as_str()).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '"')
        })
    })
}

/// Statements that act on the whole database, not on one schema: each tenant's run would repeat them.
fn refuse_database_wide(statement: &[&Spanned]) -> Result<(), String> {
    let words: Vec<String> = statement
        .iter()
        .take(6)
        .map_while(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    // `CREATE [OR REPLACE] [TRUSTED] [PROCEDURAL] LANGUAGE`
    let language = words.first().is_some_and(|w| ["CREATE", "ALTER", "DROP"].contains(w))
        && words.iter().skip(1).find(|w| !["OR", "REPLACE", "TRUSTED", "PROCEDURAL"].contains(w)) == Some(&"LANGUAGE");
    let object = match words.as_slice() {
        _ if language => "a procedural language",
        ["CREATE" | "ALTER" | "DROP", "EXTENSION", ..] => "an extension",
        ["CREATE" | "DROP", "SCHEMA", ..] => "a schema",
        ["CREATE" | "ALTER" | "DROP", "ROLE" | "USER" | "GROUP", ..] => "a role",
        ["CREATE" | "ALTER" | "DROP", "DATABASE", ..] => "a database",
        ["CREATE" | "ALTER" | "DROP", "TABLESPACE", ..] => "a tablespace",
        ["CREATE" | "ALTER" | "DROP", "EVENT", "TRIGGER", ..] => "an event trigger",
        ["CREATE" | "ALTER" | "DROP", "PUBLICATION" | "SUBSCRIPTION", ..] => "a publication or subscription",
        ["CREATE" | "ALTER" | "DROP", "SERVER" | "FOREIGN", ..] if !words.contains(&"TABLE") => "a foreign server",
        ["ALTER", "SYSTEM", ..] => "the server's configuration",
        ["DROP" | "REASSIGN", "OWNED", ..] => "every object of a role",
        _ => return Ok(()),
    };
    Err(format!(
        "{} changes {object}, which belongs to the whole database, not to one tenant's schema: each tenant's run \
         would repeat it. Do it once per database, outside the tenant migrations",
        words.iter().take(2).copied().collect::<Vec<_>>().join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant_a(sql: &str) -> Result<String, Refusal> {
        let foreign = ["tenant_b".to_string(), "audit".to_string()];
        for_tenant(
            sql,
            &TenantSchemas { template: "public", tenant: "tenant_a", written: "tenant_a", foreign: &foreign },
        )
    }

    #[test]
    fn the_template_named_as_a_schema_becomes_the_tenants() {
        let sql = "CREATE TABLE \"public\".\"users\" (id bigint DEFAULT nextval('public.users_id_seq'::regclass), \
                   org bigint REFERENCES public.orgs(id));\n\
                   CREATE INDEX i ON public.users USING btree (public.lower2(name));\n\
                   GRANT USAGE ON SCHEMA public TO app;\nSET search_path TO public, extensions;";
        assert_eq!(
            tenant_a(sql).unwrap(),
            "CREATE TABLE \"tenant_a\".\"users\" (id bigint DEFAULT nextval('tenant_a.users_id_seq'::regclass), \
             org bigint REFERENCES tenant_a.orgs(id));\n\
             CREATE INDEX i ON tenant_a.users USING btree (tenant_a.lower2(name));\n\
             GRANT USAGE ON SCHEMA tenant_a TO app;\nSET search_path TO tenant_a, extensions;"
        );
    }

    #[test]
    fn other_uses_of_the_name_and_other_bytes_stay_as_they_were() {
        // A column called public, the role PUBLIC, a string that is data, comments and spacing.
        let sql = "-- public.users is the template\nSELECT u.public, 'public' FROM public . users u;\n\
                   GRANT SELECT ON public.t TO PUBLIC; /* public.x */";
        assert_eq!(
            tenant_a(sql).unwrap(),
            "-- public.users is the template\nSELECT u.public, 'public' FROM tenant_a . users u;\n\
             GRANT SELECT ON tenant_a.t TO PUBLIC; /* public.x */"
        );
    }

    #[test]
    fn function_bodies_and_quoted_names_are_mapped() {
        let sql = "CREATE FUNCTION public.f() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n  \
                   INSERT INTO public.log VALUES (NEW.id);\n  RETURN NEW;\nEND\n$body$;\n\
                   ALTER TABLE \"public\".t ALTER COLUMN c TYPE public.mood USING c::text::public.mood;";
        let out = tenant_a(sql).unwrap();
        assert!(out.contains("$body$\nBEGIN\n  INSERT INTO tenant_a.log VALUES (NEW.id);"), "{out}");
        assert!(
            out.contains("ALTER TABLE \"tenant_a\".t ALTER COLUMN c TYPE tenant_a.mood USING c::text::tenant_a.mood"),
            "{out}"
        );
        assert!(!out.contains("public"), "{out}");
        // A schema whose name needs quotes, in literals too.
        let odd = for_tenant(
            "SELECT 'public.s'::regclass, 'public'::regnamespace;",
            &TenantSchemas { template: "public", tenant: "Tenant's", written: "\"Tenant's\"", foreign: &[] },
        )
        .unwrap();
        assert_eq!(odd, "SELECT '\"Tenant''s\".s'::regclass, '\"Tenant''s\"'::regnamespace;");
        // Every kind of string literal is read for the name it holds.
        let kinds = tenant_a("SELECT E'public.s'::regclass, U&'public.s'::regclass;").unwrap();
        assert_eq!(kinds, "SELECT 'tenant_a.s'::regclass, 'tenant_a.s'::regclass;");
        assert!(tenant_a("DO $$BEGIN EXECUTE U&'TRUNCATE public.t'; END$$;").is_err());
        // Where the template was written bare, the tenant is written as PostgreSQL writes it.
        let out = for_tenant(
            "SELECT 1 FROM public.t, \"public\".u;",
            &TenantSchemas { template: "public", tenant: "user", written: "\"user\"", foreign: &[] },
        );
        assert_eq!(out.unwrap(), "SELECT 1 FROM \"user\".t, \"user\".u;");
    }

    #[test]
    fn what_cannot_be_mapped_is_refused_with_its_place() {
        let refusal = tenant_a("CREATE TABLE public.t (id int);\nCREATE EXTENSION citext;").unwrap_err();
        assert_eq!((refusal.line, refusal.column), (2, 1));
        assert!(refusal.message.contains("CREATE EXTENSION changes an extension"), "{}", refusal.message);
        let refusal = tenant_a("INSERT INTO public.t SELECT * FROM tenant_b.t;").unwrap_err();
        assert_eq!((refusal.line, refusal.column), (1, 36));
        assert!(refusal.message.contains("\"tenant_b\""), "{}", refusal.message);
        let refusal = tenant_a("DO $$BEGIN EXECUTE 'TRUNCATE public.t'; END$$;").unwrap_err();
        assert!(refusal.message.contains("a string names the template schema"), "{}", refusal.message);
        assert!(tenant_a("SELECT set_config('search_path', 'public', true);").is_err());
        assert!(tenant_a("CREATE SCHEMA IF NOT EXISTS reports;").is_err());
        // A comment's text is data.
        let comment = "COMMENT ON TABLE public.t IS 'copied from public.t_old';";
        assert_eq!(tenant_a(comment).unwrap(), "COMMENT ON TABLE tenant_a.t IS 'copied from public.t_old';");
        assert!(tenant_a("CREATE OR REPLACE TRUSTED LANGUAGE plv8;").is_err());
        // Shared schemas and table-level foreign objects are fine; a table called language too.
        assert!(
            tenant_a("CREATE TABLE language (x extensions.citext);\nCREATE FOREIGN TABLE public.f () SERVER s;")
                .is_ok()
        );
    }
}
