//! Functions, procedures and aggregates. Their text is the database's own rendering
//! (PostgreSQL's `pg_get_functiondef`).

use super::{ObjectRef, QualifiedName};
use serde::Serialize;
use std::fmt;

/// A function or procedure is identified by its schema, name and argument types, as overloads share
/// a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FunctionId {
    pub name: QualifiedName,
    /// The identity arguments as the database prints them, e.g. `a integer, b text`.
    pub arguments: String,
}

impl fmt::Display for FunctionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name, self.arguments)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum FunctionKind {
    Function,
    Procedure,
    /// An aggregate (`CREATE AGGREGATE`): its definition names its support functions instead of a body.
    Aggregate,
}

impl FunctionKind {
    pub fn keyword(self) -> &'static str {
        match self {
            FunctionKind::Function => "FUNCTION",
            FunctionKind::Procedure => "PROCEDURE",
            FunctionKind::Aggregate => "AGGREGATE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Function {
    pub id: FunctionId,
    pub kind: FunctionKind,
    /// The complete `CREATE OR REPLACE …` statement as the database renders it (no trailing `;`).
    pub definition: String,
    /// Every argument with names, modes and defaults: what `CREATE OR REPLACE` must keep unchanged.
    pub signature: String,
    /// The result type (`integer`, `SETOF t`, `TABLE(…)`); empty for procedures.
    pub returns: String,
    pub comment: Option<String>,
    /// Types, relations and other functions it needs, from the database's dependency records (a body
    /// in a string, as PL/pgSQL or `AS $$…$$`, records none).
    pub depends_on: Vec<ObjectRef>,
    /// False when what the body uses is unknown (a PL/pgSQL body, or a SQL body the parser could not
    /// read): the function is then ordered conservatively, and its statement says so.
    pub body_dependencies_known: bool,
    /// Functions a body in a string calls, which PostgreSQL checks when the function is created but does
    /// not record (`LANGUAGE sql … AS $$ SELECT b(1) $$`): known from the body and the order in which the
    /// database created them. Only creating the function waits for them; its text says the rest, so
    /// neither the diff nor drops look at them.
    pub calls: Vec<FunctionId>,
    /// The name and argument types calls resolve by, as the database prints them (`public.pos(integer)`):
    /// argument names are not part of it, so a function whose arguments are renamed takes the place of
    /// the old one, which must be gone first.
    pub call_signature: String,
}
