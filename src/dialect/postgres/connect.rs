//! Connections: URL parsing and error messages that name the server but never the password.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("invalid database URL {url}: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("cannot connect to {url}: {message}")]
    Unreachable { url: String, message: String },
}

/// The URL with any password replaced by `***`, safe to print.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("password") { "***".to_string() } else { v.into_owned() };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable URL>".to_string(),
    }
}

/// Removes the password from an error message, should the driver have echoed it.
fn scrub(message: String, url: &str) -> String {
    match url::Url::parse(url).ok().and_then(|u| u.password().map(str::to_string)) {
        Some(password) if !password.is_empty() => message.replace(&password, "***"),
        _ => message,
    }
}

pub fn options(url: &str) -> Result<PgConnectOptions, ConnectError> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("postgres" | "postgresql")) {
        return Err(ConnectError::InvalidUrl {
            url: redact(url),
            message: "expected a postgres:// or postgresql:// URL".to_string(),
        });
    }
    PgConnectOptions::from_str(url)
        .map(|o| o.disable_statement_logging())
        .map_err(|e| ConnectError::InvalidUrl { url: redact(url), message: scrub(e.to_string(), url) })
}

pub async fn connect(url: &str) -> Result<PgConnection, ConnectError> {
    let options = options(url)?;
    PgConnection::connect_with(&options)
        .await
        .map_err(|e| ConnectError::Unreachable { url: redact(url), message: scrub(describe(&e), url) })
}

/// The URL of another database on the same server (used for scratch databases).
pub fn with_database(url: &str, database: &str) -> Result<String, ConnectError> {
    let mut parsed =
        url::Url::parse(url).map_err(|e| ConnectError::InvalidUrl { url: redact(url), message: e.to_string() })?;
    parsed.set_path(&format!("/{}", urlencode(database)));
    let pairs: Vec<(String, String)> =
        parsed.query_pairs().filter(|(k, _)| k != "dbname").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    parsed.set_query(None);
    if !pairs.is_empty() {
        parsed.query_pairs_mut().extend_pairs(pairs);
    }
    Ok(parsed.to_string())
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Runs a script of several statements. In a transaction unless `transactional` is false, in which
/// case each statement runs (and commits) on its own, and a failure names the statement.
pub async fn execute_script(
    conn: &mut PgConnection,
    statements: &[String],
    transactional: bool,
) -> Result<(), ScriptError> {
    if transactional {
        let mut tx = conn.begin().await.map_err(|e| ScriptError { statement: None, error: e })?;
        for (i, sql) in statements.iter().enumerate() {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut *tx)
                .await
                .map_err(|e| ScriptError { statement: Some((i + 1, sql.clone())), error: e })?;
        }
        tx.commit().await.map_err(|e| ScriptError { statement: None, error: e })?;
    } else {
        for (i, sql) in statements.iter().enumerate() {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut *conn)
                .await
                .map_err(|e| ScriptError { statement: Some((i + 1, sql.clone())), error: e })?;
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("{}{}", match statement { Some((n, sql)) => format!("statement {n} failed ({sql}): "), None => String::new() }, describe(.error))]
pub struct ScriptError {
    pub statement: Option<(usize, String)>,
    pub error: sqlx::Error,
}

/// A database error as a person wants to read it: the server's message, detail and hint.
pub fn describe(error: &sqlx::Error) -> String {
    match error.as_database_error().and_then(|e| e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()) {
        Some(pg) => {
            let mut message = pg.message().to_string();
            if let Some(detail) = pg.detail() {
                message.push_str(&format!("\ndetail: {detail}"));
            }
            if let Some(hint) = pg.hint() {
                message.push_str(&format!("\nhint: {hint}"));
            }
            message
        }
        None => error.to_string(),
    }
}
