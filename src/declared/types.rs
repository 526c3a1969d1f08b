//! Facts about declared statements that the loaded catalog cannot tell: which extensions pin a
//! version (`CREATE EXTENSION … VERSION '1.2'`). Without a pin, the version the scratch database
//! installed is only the server's default and is not compared.

use super::DeclaredStatement;
use sqlparser::dialect::Dialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// Names of the extensions whose declared `CREATE EXTENSION` gives a version. Read from the tokens:
/// sqlparser does not accept every spelling of the version (a string literal, for one).
pub fn pinned_extensions(statements: &[DeclaredStatement], dialect: &dyn Dialect) -> Vec<String> {
    let mut pinned = Vec::new();
    for statement in statements {
        let Ok(tokens) = Tokenizer::new(dialect, &statement.sql).tokenize() else { continue };
        let words: Vec<(String, bool)> = tokens
            .iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some((w.value.clone(), w.quote_style.is_some())),
                Token::Whitespace(_) => None,
                other => Some((other.to_string(), true)),
            })
            .collect();
        let keyword = |i: usize, k: &str| words.get(i).is_some_and(|(w, quoted)| !quoted && w.eq_ignore_ascii_case(k));
        if !(keyword(0, "CREATE") && keyword(1, "EXTENSION")) {
            continue;
        }
        let at = if keyword(2, "IF") && keyword(3, "NOT") && keyword(4, "EXISTS") { 5 } else { 2 };
        let Some((name, quoted)) = words.get(at) else { continue };
        if (at + 1..words.len()).any(|i| keyword(i, "VERSION")) {
            pinned.push(if *quoted { name.clone() } else { name.to_lowercase() });
        }
    }
    pinned
}
