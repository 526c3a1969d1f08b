//! SQL text as tokens that know their exact bytes: sqlparser's tokenizer reports (line, column in
//! characters); readers that cut or splice the text need byte ranges, and need the tokens to cover the
//! text exactly, so that every byte they do not change is written back as it was read.

use sqlparser::dialect::Dialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer};
use std::ops::Range;

/// One token (whitespace and comments included) and the bytes of the text it was read from.
#[derive(Debug)]
pub struct Spanned {
    pub token: Token,
    pub bytes: Range<usize>,
}

/// Every token of `sql` with its byte range; an error when `sql` does not tokenize, or when the tokens
/// do not cover it exactly. `unescape` as [`Tokenizer::with_unescape`].
pub fn spanned(dialect: &dyn Dialect, sql: &str, unescape: bool) -> Result<Vec<Spanned>, String> {
    let tokens =
        Tokenizer::new(dialect, sql).with_unescape(unescape).tokenize_with_location().map_err(|e| e.to_string())?;
    let mut cursor = Cursor { sql, byte: 0, line: 1, column: 1 };
    let mut out = Vec::with_capacity(tokens.len());
    let mut covered = 0;
    for t in tokens {
        if t.token == Token::EOF {
            continue;
        }
        let start = cursor.seek(t.span.start)?;
        let end = cursor.seek(t.span.end)?;
        if start != covered || end < start {
            return Err("the tokens do not cover the text".to_string());
        }
        covered = end;
        out.push(Spanned { token: t.token, bytes: start..end });
    }
    if covered != sql.len() {
        return Err("the tokens do not cover the text".to_string());
    }
    Ok(out)
}

/// Turns the tokenizer's (line, column-in-characters) locations into byte offsets, walking forward.
struct Cursor<'a> {
    sql: &'a str,
    byte: usize,
    line: u64,
    column: u64,
}

impl Cursor<'_> {
    fn seek(&mut self, to: Location) -> Result<usize, String> {
        while (self.line, self.column) < (to.line, to.column) {
            let Some(c) = self.sql[self.byte..].chars().next() else { break };
            self.byte += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        if (self.line, self.column) == (to.line, to.column) {
            Ok(self.byte)
        } else {
            Err(format!("the tokenizer's position {to} is not in the text"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_cover_multibyte_text_exactly() {
        let sql = "SELECT 'é' AS \"ß\", $b$ x\ny $b$ -- c\n";
        let tokens = spanned(&sqlparser::dialect::PostgreSqlDialect {}, sql, true).unwrap();
        let joined: String = tokens.iter().map(|t| &sql[t.bytes.clone()]).collect();
        assert_eq!(joined, sql);
        assert!(tokens.iter().any(|t| &sql[t.bytes.clone()] == "\"ß\""));
    }
}
