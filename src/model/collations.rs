//! Collations created in managed schemas.

use super::QualifiedName;
use serde::Serialize;

/// A collation object created in a managed schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collation {
    pub name: QualifiedName,
    /// `libc`, `icu` or `builtin`.
    pub provider: String,
    pub deterministic: bool,
    /// libc: LC_COLLATE and LC_CTYPE; ICU: the locale in both.
    pub lc_collate: Option<String>,
    pub lc_ctype: Option<String>,
    pub locale: Option<String>,
}
