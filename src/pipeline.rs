//! The main job, independent of the command line: declared files and a live database in, the up and
//! down plans out. Commands and tests both go through here.

use crate::config::Config;
use crate::declared;
use crate::dialect::{self, Kind};
use crate::diff::{self, RenameHints};
use crate::model::{Catalog, QualifiedName, UnmanagedObject};
use crate::plan::{self, Plan};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;

/// Settings after merging flags, environment and diff.toml.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub url: Option<String>,
    pub dev_url: Option<String>,
    pub schema_dir: PathBuf,
    pub out_dir: PathBuf,
    pub schemas: Vec<String>,
    pub ignore: Vec<glob::Pattern>,
    pub renames: RenameHints,
    /// `schema migrate`: tracking table, timeouts, lock wait, retries.
    pub migrate: crate::runner::Options,
    /// `[hazards]` in diff.toml, with `--allow-hazard` applied by the commands that take it.
    pub hazards: crate::safety::policy::Policy,
    /// `[privileges] roles`: grantees managed even when the declared files grant them nothing.
    pub privilege_roles: Vec<String>,
    /// `[ownership] manage`: owners are compared.
    pub manage_owners: bool,
}

impl Settings {
    pub fn url(&self) -> Result<&str> {
        self.url.as_deref().context("no database URL: pass --url, set DATABASE_URL, or set `url` in diff.toml")
    }

    /// Builds settings from a parsed diff.toml (paths relative to `base`).
    pub fn from_config(config: &Config, base: &std::path::Path) -> Result<Settings> {
        let ignore = config
            .ignore
            .iter()
            .map(|p| glob::Pattern::new(p).with_context(|| format!("invalid ignore pattern {p:?} in diff.toml")))
            .collect::<Result<Vec<_>>>()?;
        let mut renames = RenameHints::default();
        for r in &config.rename.table {
            renames.tables.push((parse_name(&r.from), parse_name(&r.to)));
        }
        for r in &config.rename.column {
            renames.columns.push((parse_name(&r.table), r.from.clone(), r.to.clone()));
        }
        renames.conversions = config.conversions().map_err(anyhow::Error::msg)?;
        Ok(Settings {
            url: config.url.clone(),
            dev_url: config.dev_url.clone(),
            schema_dir: base.join(config.schema_dir.clone().unwrap_or_else(|| "schema".into())),
            out_dir: base.join(config.out_dir.clone().unwrap_or_else(|| "generated".into())),
            schemas: config.schemas.clone(),
            ignore,
            renames,
            migrate: crate::runner::Options::from_config(&config.migrate)?,
            hazards: crate::safety::policy::Policy {
                rewrite: crate::safety::rewrite::Options {
                    backfills: config.backfills().map_err(anyhow::Error::msg)?,
                    ..config.hazards.0.rewrite.clone()
                },
                ..config.hazards.0.clone()
            },
            privilege_roles: config.privileges.roles.clone(),
            manage_owners: config.ownership.manage,
        })
    }
}

/// `schema.name`, or `name` in `public`. Names are exact (no case folding).
pub fn parse_name(text: &str) -> QualifiedName {
    match text.split_once('.') {
        Some((schema, name)) => QualifiedName::new(schema, name),
        None => QualifiedName::new("public", text),
    }
}

/// Both directions of a migration.
#[derive(Debug, Clone)]
pub struct Migration {
    pub up: Plan,
    pub down: Plan,
    /// Objects in the live database that are left alone because they are not managed yet.
    pub unmanaged: Vec<UnmanagedObject>,
    /// The files `generate` writes: `up`/`down` with online rewrites and expand/contract phases as
    /// `[hazards]` asks (see [`crate::safety::rewrite`]); one part holding `up`/`down` when none apply.
    pub parts: Vec<crate::safety::rewrite::Part>,
}

/// Reads and loads the declared schema into a catalog.
pub async fn declared_catalog(settings: &Settings) -> Result<(Catalog, RenameHints)> {
    declared_catalog_then(settings, async |_, catalog, hints| Ok((catalog, hints))).await
}

/// [`declared_catalog`], then `then` with the catalog and the hints while the database the declared files
/// were loaded into still exists: with PostgreSQL, a connection to it, to ask what only the declared
/// schema can answer (whether a planned type conversion runs).
pub async fn declared_catalog_then<T>(
    settings: &Settings,
    then: impl AsyncFnOnce(Option<&mut sqlx::PgConnection>, Catalog, RenameHints) -> Result<T>,
) -> Result<T> {
    let url = settings.url()?;
    // The parser dialect is not Send; it is dropped before the first await.
    let (statements, annotations, conversions, pinned) = {
        let sql_dialect = Kind::from_url(url)?.sql_dialect();
        let statements = declared::read_dir(&settings.schema_dir, sql_dialect.as_ref())?;
        let prepared = declared::prepare(statements, settings.manage_owners, sql_dialect.as_ref());
        for note in &prepared.notes {
            eprintln!("{note}");
        }
        let statements = prepared.statements;
        let annotations = declared::renames(&statements, sql_dialect.as_ref())?;
        let conversions = declared::conversions(&statements, sql_dialect.as_ref())?;
        let pinned = declared::types::pinned_extensions(&statements, sql_dialect.as_ref());
        (declared::order(statements), annotations, conversions, pinned)
    };
    let finish = |catalog: &mut Catalog| {
        // The scratch database installs the server's default version of an extension that pins none.
        for extension in catalog.extensions.values_mut() {
            if !pinned.contains(&extension.name) {
                extension.version = None;
            }
        }
        apply_ignore(catalog, settings);
    };
    let mut hints = settings.renames.clone();
    // diff.toml names without a schema mean `public`; a SQLite database has only `main`.
    if Kind::from_url(url)? == Kind::Sqlite {
        let to_main = |name: &mut QualifiedName| {
            if name.schema == "public" {
                name.schema = "main".into();
            }
        };
        for (from, to) in &mut hints.tables {
            to_main(from);
            to_main(to);
        }
        for (table, _, _) in &mut hints.columns {
            to_main(table);
        }
    }
    for ((fs, fname), (ts, tname)) in annotations.tables {
        hints.tables.push((QualifiedName::new(fs, fname), QualifiedName::new(ts, tname)));
    }
    for (schema, table, from, to) in annotations.columns {
        hints.columns.push((QualifiedName::new(schema, table), from, to));
    }
    add_declared_conversions(&mut hints.conversions, conversions)?;
    match Kind::from_url(url)? {
        Kind::Postgres => {
            let (dev_url, schemas) = (settings.dev_url.as_deref(), &settings.schemas);
            let retry = declared::Retry::MissingObjects;
            dialect::postgres::scratch::load_then(
                url,
                dev_url,
                &statements,
                schemas,
                retry,
                async |conn, mut catalog| {
                    finish(&mut catalog);
                    then(Some(conn), catalog, hints).await
                },
            )
            .await
        }
        Kind::Sqlite => {
            let retry = declared::Retry::MissingObjects;
            let mut catalog = dialect::load_declared(url, None, &statements, &settings.schemas, retry).await?;
            finish(&mut catalog);
            then(None, catalog, hints).await
        }
    }
}

/// Adds the conversions annotated in the schema files to those of diff.toml; a column may get each
/// direction's expression from one place only.
fn add_declared_conversions(
    conversions: &mut Vec<diff::ColumnConversion>,
    declared: Vec<declared::DeclaredConversion>,
) -> Result<()> {
    for annotated in declared {
        let table = QualifiedName::new(annotated.schema, annotated.table);
        let at = annotated.location.map(|l| format!("{l}: ")).unwrap_or_default();
        let Some(entry) = conversions.iter_mut().find(|c| c.table == table && c.column == annotated.column) else {
            conversions.push(diff::ColumnConversion {
                table,
                column: annotated.column,
                using: annotated.using,
                down_using: annotated.down_using,
            });
            continue;
        };
        for (slot, value, key) in
            [(&mut entry.using, annotated.using, "using"), (&mut entry.down_using, annotated.down_using, "down_using")]
        {
            match (&slot, value) {
                (Some(_), Some(_)) => bail!(
                    "{at}the conversion of column {table}.{} is declared both in the schema files and as `{key}` in a \
                     [[conversion]] entry of diff.toml; keep one",
                    entry.column
                ),
                (None, Some(value)) => *slot = Some(value),
                (_, None) => {}
            }
        }
    }
    Ok(())
}

/// Introspects the live database.
pub async fn live_catalog(url: &str, settings: &Settings) -> Result<Catalog> {
    let mut catalog = dialect::introspect(url, &settings.schemas).await?;
    apply_ignore(&mut catalog, settings);
    // The runner's tracking table belongs to `schema migrate`, never to the declared schema.
    let tracking = settings.migrate.tracking_table(Kind::from_url(url)?);
    catalog.retain_names(|name| *name != tracking);
    // The helper objects of expand/contract belong to the migrations that create and drop them.
    crate::safety::rewrite::retain_declared(&mut catalog);
    Ok(catalog)
}

fn apply_ignore(catalog: &mut Catalog, settings: &Settings) {
    if settings.ignore.is_empty() {
        return;
    }
    let keep = |name: &QualifiedName| {
        let text = name.to_string();
        !settings.ignore.iter().any(|p| p.matches(&text))
    };
    catalog.retain_names(keep);
}

/// The grantees whose privileges are compared: those `desired` grants something explicitly, and the
/// configured roles.
pub fn managed_grantees(desired: &Catalog, privilege_roles: &[String]) -> indexmap::IndexSet<String> {
    // PUBLIC's privileges are always compared: they are what every role gets, so the declared files
    // decide them (`REVOKE EXECUTE ON FUNCTION f FROM PUBLIC`).
    let mut managed: indexmap::IndexSet<String> = std::iter::once("PUBLIC".to_string()).collect();
    managed.extend(privilege_roles.iter().cloned());
    managed.extend(desired.explicit_grantees().cloned());
    managed
}

/// Makes the two catalogs compare only what is managed, in place: the privileges of unmanaged grantees
/// stay as the database has them, and owners are dropped unless ownership is managed.
pub fn retain_managed(current: &mut Catalog, desired: &mut Catalog, settings: &Settings) {
    let managed = managed_grantees(desired, &settings.privilege_roles);
    desired.retain_grantees(&managed);
    // An unmanaged grantee's privileges are carried over to the declared side wherever their object
    // still exists: they compare equal there, an object the plan drops and creates again gets them back,
    // and the down of a plan that drops an object gives them back with it.
    for (key, grant) in &current.grants {
        if !managed.contains(&key.grantee) && desired.has_privilege_target(&key.target) {
            desired.grants.insert(key.clone(), grant.clone());
        }
    }
    for (key, privilege) in &current.default_privileges {
        if !managed.contains(&key.grantee) {
            desired.default_privileges.insert(key.clone(), privilege.clone());
        }
    }
    if !settings.manage_owners {
        current.owners = Default::default();
        desired.owners = Default::default();
    }
}

/// Plans both directions between two catalogs, in the SQL of `kind`. Callers drop the privileges of
/// unmanaged grantees first ([`retain_managed`]), so that both directions compare the same roles.
pub fn plan_between(kind: Kind, current: &Catalog, desired: &Catalog, hints: &RenameHints) -> Result<(Plan, Plan)> {
    let problems = diff::types::unsupported(current, desired);
    if !problems.is_empty() {
        bail!("the declared schema asks for changes that cannot be planned:\n  {}", problems.join("\n  "));
    }
    // Each change set is moved into its plan: at 10,000 tables the changes of a new schema are as large
    // as the catalog. The two directions are independent and planned on two threads: the databases
    // have been read by now, so the cores are free, and this is the only work left before the output.
    let plan_direction = |from: &Catalog, to: &Catalog, hints: &RenameHints| -> Result<Plan> {
        let renderer = kind.renderer();
        let changes = renderer.adapt(diff::diff(from, to, hints), from, to);
        Ok(plan::build_from(changes, renderer.as_ref())?)
    };
    let reversed = hints.reversed();
    std::thread::scope(|scope| {
        let down = scope.spawn(|| plan_direction(desired, current, &reversed));
        let up = plan_direction(current, desired, hints);
        let down = down.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok((up?, down?))
    })
}

/// What a migration starts from.
#[derive(Debug)]
pub enum Baseline {
    /// The live database.
    Live,
    /// The live database, already read by a caller that had to look at it first ([`live_catalog`]).
    Read(Box<Catalog>),
    /// The schema that replaying the out dir's migrations produces ([`replayed_catalog`]).
    Migrations,
}

/// The migration from the live database to the declared schema.
pub async fn migration(settings: &Settings) -> Result<Migration> {
    migration_from(settings, Baseline::Live).await
}

/// The migration from `baseline` to the declared schema. Hazards are graded with the live database's
/// table sizes either way.
pub async fn migration_from(settings: &Settings, baseline: Baseline) -> Result<Migration> {
    let url = settings.url()?.to_string();
    let mut current = match baseline {
        Baseline::Live => live_catalog(&url, settings).await?,
        Baseline::Read(catalog) => *catalog,
        Baseline::Migrations => replayed_catalog(settings).await?,
    };
    let kind = Kind::from_url(&url)?;
    let (mut up, down) = declared_catalog_then(settings, async |scratch, mut desired, hints| {
        // SQLite copies the values into a rebuilt table as they are: a declared conversion would be ignored.
        if kind == Kind::Sqlite
            && let Some(c) = hints.conversions.first()
        {
            bail!(
                "a conversion is declared for column {}.{}, but conversions are used with PostgreSQL only (SQLite \
                 copies the values into the rebuilt table as they are); remove it",
                c.table,
                c.column
            );
        }
        // A conversion for a column the schema files do not have is a typo, not a conversion to skip.
        for conversion in &hints.conversions {
            let table = desired.tables.get(&conversion.table);
            if !table.is_some_and(|t| t.columns.contains_key(conversion.column.as_str())) {
                bail!(
                    "[[conversion]] in diff.toml names column {}.{}, which the schema files do not have",
                    conversion.table,
                    conversion.column
                );
            }
        }
        retain_managed(&mut current, &mut desired, settings);
        let (up, down) = plan_between(kind, &current, &desired, &hints)?;
        // Before anything is written: every type conversion must run (judged where the declared schema is).
        if let Some(scratch) = scratch {
            dialect::postgres::conversions::check(scratch, &desired, &current, &up, &down).await?;
        }
        Ok((up, down))
    })
    .await?;
    let mut parts =
        crate::safety::rewrite::rewrite(&up, &down, &current, kind.renderer().as_ref(), &settings.hazards.rewrite);
    attach_live_stats(&url, &mut up).await?;
    for part in &mut parts {
        attach_live_stats(&url, &mut part.up).await?;
    }
    Ok(Migration { up, down, unmanaged: current.unmanaged, parts })
}

/// Grades the plan's hazards with the live sizes of their tables, where the database keeps statistics
/// (PostgreSQL; one catalog query for all tables).
pub async fn attach_live_stats(url: &str, plan: &mut Plan) -> Result<()> {
    if Kind::from_url(url)? != Kind::Postgres {
        return Ok(());
    }
    let tables = crate::safety::tables_of(plan.steps.iter().flat_map(|s| &s.hazards));
    if tables.is_empty() {
        return Ok(());
    }
    let mut conn = dialect::postgres::connect::connect(url).await?;
    let stats = dialect::postgres::stats::table_stats(&mut conn, &tables)
        .await
        .context("cannot read table statistics for the hazards")?;
    for step in &mut plan.steps {
        crate::safety::attach_stats(&mut step.hazards, &stats);
    }
    Ok(())
}

/// DDL that recreates the live database's managed objects, for bootstrapping schema files.
pub async fn inspect(settings: &Settings) -> Result<(String, Vec<UnmanagedObject>)> {
    let url = settings.url()?;
    let mut live = live_catalog(url, settings).await?;
    if !settings.manage_owners {
        live.owners = Default::default();
    }
    let mut empty = Catalog::default();
    // What the connecting role owns needs no OWNER TO: whoever loads the output owns it.
    empty.owners.session_role = live.owners.session_role.clone();
    // `public` exists in every new database; it is not created by the schema files.
    if let Some(public) = live.schemas.get("public") {
        empty.schemas.insert(
            "public".into(),
            crate::model::Namespace { name: "public".into(), comment: public.comment.clone() },
        );
    }
    let renderer = Kind::from_url(url)?.renderer();
    let changes = renderer.adapt(diff::diff(&empty, &live, &RenameHints::default()), &empty, &live);
    // The changes hold a copy of every object: the catalog is no longer needed.
    let unmanaged = live.unmanaged.clone();
    drop(live);
    let plan = plan::build_from(changes, renderer.as_ref())?;
    if !plan.transactional {
        bail!("internal error: a plan that only creates objects must run in one transaction");
    }
    let mut out = String::new();
    // Each step is freed once its text is copied.
    for statement in plan.steps.into_iter().flat_map(|step| step.statements) {
        out.push_str(&statement);
        out.push_str("\n\n");
    }
    Ok((out, unmanaged))
}

/// One side of a comparison: a database URL, or a directory of declared schema files.
#[derive(Debug, Clone)]
pub enum Source {
    Url(String),
    Directory(PathBuf),
}

impl Source {
    /// A URL if it has a scheme (`postgres://…`, `sqlite:…`), otherwise a directory.
    pub fn parse(text: &str) -> Source {
        let has_scheme = text.split_once(':').is_some_and(|(scheme, _)| {
            scheme.len() > 1 && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-')
        });
        if has_scheme { Source::Url(text.to_string()) } else { Source::Directory(PathBuf::from(text)) }
    }
}

/// The catalog of a source. Directories are loaded through a scratch database on `server_url`.
pub async fn catalog_of(source: &Source, server_url: &str, settings: &Settings) -> Result<(Catalog, RenameHints)> {
    match source {
        Source::Url(url) => Ok((live_catalog(url, settings).await?, RenameHints::default())),
        Source::Directory(dir) => {
            let scoped = Settings { url: Some(server_url.to_string()), schema_dir: dir.clone(), ..settings.clone() };
            declared_catalog(&scoped).await
        }
    }
}

/// The `.up.sql` files of the migrations directory, in version order.
pub fn up_migration_files(dir: &std::path::Path) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read migrations directory {}", dir.display()))?;
    let mut files: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.to_string_lossy().ends_with(".up.sql")).collect();
    files.sort();
    Ok(files)
}

/// The schema that replaying every up migration in the migrations directory produces, loaded into a
/// scratch database like the declared files are.
pub async fn replayed_catalog(settings: &Settings) -> Result<Catalog> {
    let url = settings.url()?;
    let statements = {
        let sql_dialect = Kind::from_url(url)?.sql_dialect();
        let mut statements = Vec::new();
        for file in up_migration_files(&settings.out_dir)? {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let outside_transaction = !crate::migrations::is_transactional(&text);
            for raw in declared::split_statements(&file, &text, sql_dialect.as_ref())? {
                statements.push(declared::DeclaredStatement {
                    leading_comments: raw.leading_comments,
                    outside_transaction,
                    ..declared::DeclaredStatement::unanalysed(raw.location, raw.sql)
                });
            }
        }
        statements
    };
    let mut catalog = dialect::load_declared(
        url,
        settings.dev_url.as_deref(),
        &statements,
        &settings.schemas,
        declared::Retry::Never,
    )
    .await?;
    apply_ignore(&mut catalog, settings);
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_merge_from_diff_toml_and_the_schema_files_but_never_twice() {
        let from_toml = || {
            vec![diff::ColumnConversion {
                table: QualifiedName::new("public", "events"),
                column: "started".into(),
                using: Some("to_timestamp(started)".into()),
                down_using: None,
            }]
        };
        let annotated = |using: Option<&str>, down_using: Option<&str>| declared::DeclaredConversion {
            schema: "public".into(),
            table: "events".into(),
            column: "started".into(),
            using: using.map(String::from),
            down_using: down_using.map(String::from),
            ..Default::default()
        };
        let mut merged = from_toml();
        add_declared_conversions(&mut merged, vec![annotated(None, Some("extract(epoch FROM started)::int"))]).unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].down_using.as_deref(), Some("extract(epoch FROM started)::int"));
        let mut twice = from_toml();
        let err =
            add_declared_conversions(&mut twice, vec![annotated(Some("started::timestamptz"), None)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the conversion of column public.events.started is declared both in the schema files and as `using` in a \
             [[conversion]] entry of diff.toml; keep one"
        );
    }
}
