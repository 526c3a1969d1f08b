//! A schema (PostgreSQL namespace) the tool manages.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Namespace {
    pub name: String,
    pub comment: Option<String>,
}
