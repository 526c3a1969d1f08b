//! `schema lint FILE…`: checks migration files (hand-written or generated) with the hazard rules and the
//! `[hazards]` policy of diff.toml. Exit 1 when a hazard is denied, 0 otherwise, 2 on trouble.

use super::Format;
use crate::dialect::Kind;
use crate::policy::Level;
use crate::safety::lint;
use crate::settings::Settings;
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Migration files to check, in the order they run
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Treat every hazard that is not allowed as denied (for CI gates without a [hazards] policy)
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub hazards: super::HazardArgs,
}

pub fn run(settings: &Settings, args: &LintArgs) -> Result<i32> {
    // The rules describe PostgreSQL's locks; SQLite files are read with SQLite's parser.
    let kind = match settings.url.as_deref() {
        Some(url) => Kind::from_url(url)?,
        None => Kind::Postgres,
    };
    for file in &args.files {
        if !file.is_file() {
            bail!("{}: no such file", file.display());
        }
    }
    let files: Vec<&std::path::Path> = args.files.iter().map(PathBuf::as_path).collect();
    let report = lint::lint_files(&files, kind.sql_dialect().as_ref())?;
    let policy = args.hazards.policy(settings);
    let level = |h: &crate::safety::Hazard| match policy.level(h) {
        Level::Warn if args.strict => Level::Deny,
        other => other,
    };
    let denied = report.findings.iter().filter(|f| level(&f.hazard) == Level::Deny).count();
    for location in &report.unparsed {
        eprintln!("warning: {location}: statement not understood by the parser; not checked");
    }
    match args.format {
        Format::Json => {
            let findings: Vec<serde_json::Value> = report
                .findings
                .iter()
                .map(|f| {
                    let mut value = serde_json::to_value(f).unwrap_or_default();
                    value["level"] = serde_json::Value::from(level(&f.hazard).as_str());
                    value
                })
                .collect();
            let value = serde_json::json!({
                "findings": findings,
                "denied": denied,
                "unparsed": report.unparsed,
                "blocks": report.blocks,
            });
            super::emit(&format!("{}\n", serde_json::to_string_pretty(&value)?));
        }
        Format::Text => {
            let mut text = String::new();
            for f in &report.findings {
                text.push_str(&format!(
                    "{}:{}:{}: [{}] {}\n",
                    f.file,
                    f.line,
                    f.column,
                    level(&f.hazard).as_str(),
                    f.hazard
                ));
                text.push_str(&format!("  statement: {}\n  help: {}\n", f.statement, f.hazard.help));
            }
            text.push_str(&format!(
                "{} file(s), {} hazard(s), {denied} denied\n",
                args.files.len(),
                report.findings.len()
            ));
            super::emit(&text);
        }
    }
    Ok(if denied > 0 { 1 } else { 0 })
}
