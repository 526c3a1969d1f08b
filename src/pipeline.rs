//! The main job, independent of the command line: declared files and a live database in, the up and
//! down plans out. Commands and tests both go through here.

use crate::declared;
use crate::dialect::{self, Kind};
use crate::diff::{self, RenameHints};
use crate::model::{Catalog, QualifiedName, UnmanagedObject};
use crate::plan::{self, Plan};
use crate::settings::Settings;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;

/// Both directions of a migration.
#[derive(Debug, Clone)]
pub struct Migration {
    pub up: Plan,
    pub down: Plan,
    /// Objects in the live database that are left alone because they are not managed yet.
    pub unmanaged: Vec<UnmanagedObject>,
    /// The files `generate` writes: `up`/`down` with online rewrites and expand/contract phases as
    /// `[hazards]` asks (see [`crate::rewrite`]); one part holding `up`/`down` when none apply.
    pub parts: Vec<crate::rewrite::Part>,
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
    then: impl AsyncFnOnce(dialect::DeclaredDatabase<'_>, Catalog, RenameHints) -> Result<T>,
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
    if let Some(only) = Kind::from_url(url)?.only_schema() {
        let to_only = |name: &mut QualifiedName| {
            if name.schema == "public" {
                name.schema = only.into();
            }
        };
        for (from, to) in &mut hints.tables {
            to_only(from);
            to_only(to);
        }
        for (table, _, _) in &mut hints.columns {
            to_only(table);
        }
    }
    for ((fs, fname), (ts, tname)) in annotations.tables {
        hints.tables.push((QualifiedName::new(fs, fname), QualifiedName::new(ts, tname)));
    }
    for (schema, table, from, to) in annotations.columns {
        hints.columns.push((QualifiedName::new(schema, table), from, to));
    }
    add_declared_conversions(&mut hints.conversions, conversions)?;
    let retry = declared::Retry::MissingObjects;
    let (dev_url, schemas) = (settings.dev_url.as_deref(), &settings.schemas);
    dialect::load_declared_then(url, dev_url, &statements, schemas, retry, async |declared, mut catalog| {
        finish(&mut catalog);
        then(declared, catalog, hints).await
    })
    .await
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
    filter_read(&mut catalog, Kind::from_url(url)?, settings);
    Ok(catalog)
}

/// Leaves out of a catalog read from a database what is never compared with the declared schema.
fn filter_read(catalog: &mut Catalog, kind: Kind, settings: &Settings) {
    apply_ignore(catalog, settings);
    // The runner's tracking table belongs to `schema migrate`, never to the declared schema.
    let tracking = kind.tracking_table(&settings.migrate);
    catalog.retain_names(|name| *name != tracking);
    // The helper objects of expand/contract belong to the migrations that create and drop them.
    crate::rewrite::retain_declared(catalog);
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
    let problems = diff::unsupported(current, desired);
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
        let (up, mut down) = (up?, down?);
        // The down of a drop + add that looks like a rename is the same drop + add reversed: it is decided
        // with the up, where a declared hint makes both directions renames, and not reported twice.
        for step in &mut down.steps {
            step.hazards.retain(|h| h.id != crate::safety::HazardId::ProbableRename);
        }
        Ok((up, down))
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
    let url = settings.url()?;
    let live = !matches!(baseline, Baseline::Migrations);
    let mut current = match baseline {
        Baseline::Live => live_catalog(url, settings).await?,
        Baseline::Read(catalog) => *catalog,
        Baseline::Migrations => replayed_catalog(settings).await?,
    };
    let kind = Kind::from_url(url)?;
    declared_catalog_then(settings, async |mut declared, mut desired, hints| {
        check_declared_conversions(kind, &hints, &desired)?;
        retain_managed(&mut current, &mut desired, settings);
        let migration = planned(settings, &current, &desired, &hints, live).await?;
        // Before anything is written: every type conversion must run (judged where the declared schema is).
        declared.check_conversions(&desired, &current, &migration.up, &migration.down).await?;
        Ok(migration)
    })
    .await
}

/// The conversions declared (in diff.toml or the schema files) are ones the plan can use: with
/// PostgreSQL, and for columns the schema files have.
fn check_declared_conversions(kind: Kind, hints: &RenameHints, desired: &Catalog) -> Result<()> {
    // SQLite copies the values into a rebuilt table as they are: a declared conversion would be ignored.
    if !kind.converts_column_values()
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
    Ok(())
}

/// Every type conversion of a migration planned apart from the declared load (see [`checked_in`]) runs:
/// the declared schema is loaded again to try them, which only a plan that changes a column's type pays.
async fn check_conversions(settings: &Settings, current: &Catalog, migration: &Migration) -> Result<()> {
    if !dialect::plans_convert_values(Kind::from_url(settings.url()?)?, &migration.up, &migration.down) {
        return Ok(());
    }
    declared_catalog_then(settings, async |mut declared, desired, _| {
        declared.check_conversions(&desired, current, &migration.up, &migration.down).await
    })
    .await
}

/// The migration between two catalogs already filtered for comparison ([`retain_managed`]). `live`: the
/// current catalog is the live database's, whose rows are then checked against the plan.
async fn planned(
    settings: &Settings,
    current: &Catalog,
    desired: &Catalog,
    hints: &RenameHints,
    live: bool,
) -> Result<Migration> {
    let url = settings.url()?;
    let kind = Kind::from_url(url)?;
    let (mut up, down) = plan_between(kind, current, desired, hints)?;
    let mut parts =
        crate::rewrite::rewrite(&up, &down, current, desired, kind.renderer().as_ref(), &settings.hazards.rewrite);
    attach_live_stats(url, &mut up).await?;
    for part in &mut parts {
        attach_live_stats(url, &mut part.up).await?;
    }
    if live {
        let mut plans: Vec<&mut Plan> = std::iter::once(&mut up).chain(parts.iter_mut().map(|p| &mut p.up)).collect();
        check_existing_rows(url, current, desired, &mut plans, settings.hazards.existing_rows).await?;
        // The renderer is not held across the awaits (it is not Send).
        let work = {
            let renderer = kind.renderer();
            plans.iter().map(|p| p.steps.iter().map(|s| renderer.work(s)).collect()).collect()
        };
        estimate(url, work, &mut plans).await?;
    }
    Ok(Migration { up, down, unmanaged: current.unmanaged.clone(), parts })
}

/// Counts the live rows that would make a step fail ([`crate::safety::existing_rows`]) and reports them
/// as hazards on the steps of `plans` (a plan and its parts: each condition is counted once). `current`
/// is the live catalog the plans start from, `desired` the one they reach.
pub async fn check_existing_rows(
    url: &str,
    current: &Catalog,
    desired: &Catalog,
    plans: &mut [&mut Plan],
    limits: crate::safety::existing_rows::Limits,
) -> Result<()> {
    use crate::safety::existing_rows;
    let per_plan: Vec<Vec<(usize, existing_rows::RowCheck)>> = plans
        .iter()
        .map(|p| existing_rows::checks(&p.steps.iter().map(|s| &s.change).collect::<Vec<_>>(), current, desired))
        .collect();
    let mut unique: Vec<existing_rows::RowCheck> = Vec::new();
    for (_, check) in per_plan.iter().flatten() {
        if !unique.contains(check) {
            unique.push(check.clone());
        }
    }
    if unique.is_empty() {
        return Ok(());
    }
    let outcomes = dialect::count_violations(url, &unique, current, limits)
        .await
        .context("cannot count the live rows that the plan's changes must accept")?;
    for (plan, checks) in plans.iter_mut().zip(&per_plan) {
        let found: Vec<existing_rows::Outcome> = checks
            .iter()
            .filter_map(|(_, c)| unique.iter().position(|u| u == c).map(|i| outcomes[i].clone()))
            .collect();
        for (step, hazard) in existing_rows::hazards(checks, &found) {
            plan.steps[step].hazards.push(hazard);
        }
    }
    Ok(())
}

/// Sets each step's `estimate_ms` from the work it does (`work`, per plan and step), the live sizes of
/// its tables and the server's measured throughput ([`crate::plan::estimate`]). The probe runs only
/// when a step has work to price.
async fn estimate(url: &str, work: Vec<Vec<Vec<plan::estimate::Work>>>, plans: &mut [&mut Plan]) -> Result<()> {
    let tables = plan::estimate::tables(&work.iter().flatten().cloned().collect::<Vec<_>>());
    let Some(first) = tables.first() else { return Ok(()) };
    let Some((throughput, sizes)) = dialect::throughput_and_sizes(url, &first.schema, &tables)
        .await
        .context("cannot measure the server's throughput for the plan's estimates")?
    else {
        return Ok(());
    };
    for (plan, work) in plans.iter_mut().zip(&work) {
        for (step, work) in plan.steps.iter_mut().zip(work) {
            step.estimate_ms = plan::estimate::estimate_ms(work, &sizes, &throughput);
        }
    }
    Ok(())
}

/// Grades the plan's hazards with the live sizes of their tables, where the database keeps statistics
/// (PostgreSQL; one catalog query for all tables).
pub async fn attach_live_stats(url: &str, plan: &mut Plan) -> Result<()> {
    let tables = crate::safety::tables_of(plan.steps.iter().flat_map(|s| &s.hazards));
    if tables.is_empty() {
        return Ok(());
    }
    let stats = dialect::table_stats(url, &tables).await.context("cannot read table statistics for the hazards")?;
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
    let kind = Kind::from_url(url)?;
    let changes = creation_changes(kind, &live);
    // The changes hold a copy of every object: the catalog is no longer needed.
    let unmanaged = live.unmanaged.clone();
    drop(live);
    let mut out = String::new();
    // Each step is freed once its text is copied.
    for statement in creation_plan(kind, changes)?.steps.into_iter().flat_map(|step| step.statements) {
        out.push_str(&statement);
        out.push_str("\n\n");
    }
    Ok((out, unmanaged))
}

/// The changes that create `catalog`'s objects in a new database (with its owners, unless they were
/// emptied): what `schema inspect` prints, and how verification rebuilds the current schema.
fn creation_changes(kind: Kind, catalog: &Catalog) -> diff::ChangeSet {
    let mut empty = Catalog::default();
    // What the connecting role owns needs no OWNER TO: whoever loads the output owns it.
    empty.owners.session_role = catalog.owners.session_role.clone();
    // `public` exists in every new database; it is not created by the schema files.
    if let Some(public) = catalog.schemas.get("public") {
        empty.schemas.insert(
            "public".into(),
            crate::model::Namespace { name: "public".into(), comment: public.comment.clone() },
        );
    }
    kind.renderer().adapt(diff::diff(&empty, catalog, &RenameHints::default()), &empty, catalog)
}

/// The statements of [`creation_plan`].
fn creation_statements(kind: Kind, catalog: &Catalog) -> Result<Vec<String>> {
    let plan = creation_plan(kind, creation_changes(kind, catalog))?;
    Ok(plan.steps.into_iter().flat_map(|step| step.statements).map(|statement| statement.sql).collect())
}

fn creation_plan(kind: Kind, changes: diff::ChangeSet) -> Result<Plan> {
    let plan = plan::build_from(changes, kind.renderer().as_ref())?;
    if !plan.transactional {
        bail!("internal error: a plan that only creates objects must run in one transaction");
    }
    Ok(plan)
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

/// A migration, the files it is written as, and what verifying them found.
#[derive(Debug)]
pub struct Checked {
    pub migration: Migration,
    /// The files as the caller rendered them; none when there are no changes.
    pub files: Vec<crate::migrations::RenderedPair>,
    pub verification: crate::verify::Verification,
}

/// [`migration_from`], verified unless `verify` is false: `files` renders the migration as the files
/// that will be written (or run), and they are run in a scratch database that holds the current schema
/// (see [`crate::verify`]) before the caller writes anything.
pub async fn checked_migration(
    settings: &Settings,
    baseline: Baseline,
    verify: bool,
    files: impl FnOnce(&Migration) -> Vec<crate::migrations::RenderedPair>,
) -> Result<Checked> {
    use crate::verify::Verification;
    if !verify {
        let migration = migration_from(settings, baseline).await?;
        let files = if migration.up.is_empty() { Vec::new() } else { files(&migration) };
        return Ok(Checked { migration, files, verification: Verification::Skipped });
    }
    let job = CheckedIn { settings, baseline, files };
    dialect::with_verify_scratch(settings.url()?, &settings.migrate, &settings.schemas, job).await
}

/// [`checked`]'s work in the verification's scratch database.
struct CheckedIn<'a, F> {
    settings: &'a Settings,
    baseline: Baseline,
    files: F,
}

impl<F: FnOnce(&Migration) -> Vec<crate::migrations::RenderedPair>> dialect::ScratchJob for CheckedIn<'_, F> {
    type Output = Checked;
    async fn run<S: crate::verify::Scratch>(self, scratch: &mut S) -> Result<Checked> {
        checked_in(scratch, self.settings, self.baseline, self.files).await
    }
}

async fn checked_in<S: crate::verify::Scratch>(
    scratch: &mut S,
    settings: &Settings,
    baseline: Baseline,
    files: impl FnOnce(&Migration) -> Vec<crate::migrations::RenderedPair>,
) -> Result<Checked> {
    use crate::verify::{self, Verification};
    let url = settings.url()?;
    let kind = Kind::from_url(url)?;
    // The declared files load into their scratch database while the current schema is read and built in
    // the verification's: the two are independent, and each keeps a server process busy. The declared
    // load is never abandoned halfway (its scratch database is dropped only when it ends).
    let mut declared = Box::pin(declared_catalog(settings));
    let mut declared_out = None;
    let read = async {
        match baseline {
            Baseline::Migrations => {
                verify::replay(scratch, &crate::migrations::read_dir(&settings.out_dir)?).await?;
                // The scratch database is the current schema itself: nothing to build or compare.
                Ok((scratch.catalog().await?, false))
            }
            Baseline::Read(catalog) => Ok((*catalog, true)),
            // Unfiltered: ignored objects are rebuilt too, for the managed ones that use them. The
            // scratch database is created meanwhile.
            Baseline::Live => {
                let create = async { scratch.session().await.map(drop) };
                Ok((tokio::try_join!(dialect::introspect(url, &settings.schemas), create)?.0, true))
            }
        }
    };
    let (mut current, build) = match alongside(read, &mut declared, &mut declared_out).await {
        Ok(read) => read,
        Err(e) => {
            finish(declared, declared_out).await;
            return Err(e);
        }
    };
    if !settings.manage_owners {
        current.owners = Default::default();
    }
    let statements = if build { creation_statements(kind, &current)? } else { Vec::new() };
    let mut load = Box::pin(scratch.load(&statements));
    let mut loaded = None;
    let declared = match declared_out {
        Some(declared) => declared,
        None if build => alongside(declared, &mut load, &mut loaded).await,
        None => declared.await,
    };
    let (mut desired, hints) = declared?;
    check_declared_conversions(kind, &hints, &desired)?;
    let unmanaged = current.unmanaged.clone();
    filter_read(&mut current, kind, settings);
    let managed = managed_grantees(&desired, &settings.privilege_roles);
    retain_managed(&mut current, &mut desired, settings);
    let migration = planned(settings, &current, &desired, &hints, build).await?;
    if migration.up.is_empty() {
        // What is left of building the current schema is abandoned: nothing to verify.
        return Ok(Checked { migration, files: Vec::new(), verification: Verification::NoChanges });
    }
    if kind.converts_column_values() {
        check_conversions(settings, &current, &migration).await?;
    }
    let loaded = match loaded {
        Some(loaded) => {
            drop(load);
            loaded
        }
        None => load.await,
    }?;
    let rebuilt = match loaded {
        _ if !build => None,
        Ok(()) => Some(Ok(Rebuild { statements, unmanaged })),
        // A managed object may use one outside `schemas` (a foreign key to another schema's table): then
        // the scratch database is built again from every schema.
        Err(rejected) if !settings.schemas.is_empty() => {
            scratch.reset().await?;
            let mut all = dialect::introspect(url, &[]).await?;
            if !settings.manage_owners {
                all.owners = Default::default();
            }
            let statements = creation_statements(kind, &all)?;
            Some(match scratch.load(&statements).await? {
                Ok(()) => Ok(Rebuild { statements, unmanaged: all.unmanaged }),
                Err(_) => Err(unrebuildable(&rejected, &unmanaged)),
            })
        }
        Err(rejected) => Some(Err(unrebuildable(&rejected, &unmanaged))),
    };
    let files = files(&migration);
    let normalize = |catalog: &mut Catalog| {
        filter_read(catalog, kind, settings);
        catalog.retain_grantees(&managed);
        if !settings.manage_owners {
            catalog.owners = Default::default();
        }
    };
    let renderer = kind.renderer();
    let comparison = verify::Comparison { renderer: renderer.as_ref(), normalize: &normalize };
    let verification = match rebuilt {
        Some(Err(reason)) => Verification::Unverifiable { reason },
        None => verify::run(scratch, &files, &current, &desired, &comparison).await?,
        Some(Ok(rebuild)) => match verify::run(scratch, &files, &current, &desired, &comparison).await? {
            // Whether the rebuilt schema is the live one is asked only when the migration failed on it:
            // one introspection fewer when it passes, and a pass on it is a pass (both ends compared).
            Verification::Failed { failure } => match rebuild.differs(scratch, &current, &comparison).await? {
                Some(reason) => {
                    Verification::Unverifiable { reason: format!("{reason}\nthe migration failed in it: {failure}") }
                }
                None => Verification::Failed { failure },
            },
            verification => verification,
        },
    };
    Ok(Checked { migration, files, verification })
}

/// Runs `work` to its end while `other` makes progress too; `other`'s result, if it ends first, is kept
/// in `other_out`.
async fn alongside<T, O>(
    work: impl std::future::Future<Output = T>,
    other: &mut (impl std::future::Future<Output = O> + Unpin),
    other_out: &mut Option<O>,
) -> T {
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            biased;
            result = &mut work => return result,
            result = &mut *other, if other_out.is_none() => *other_out = Some(result),
        }
    }
}

/// Lets a future run to its end unless it already has.
async fn finish<O>(future: impl std::future::Future<Output = O>, out: Option<O>) {
    if out.is_none() {
        future.await;
    }
}

/// How the current schema was rebuilt in the scratch database from what was read of it.
struct Rebuild {
    statements: Vec<String>,
    /// What was read but not rebuilt.
    unmanaged: Vec<UnmanagedObject>,
}

impl Rebuild {
    /// Why the rebuilt schema is not the live one, if it is not: it is built again and compared.
    async fn differs<S: crate::verify::Scratch>(
        &self,
        scratch: &mut S,
        current: &Catalog,
        comparison: &crate::verify::Comparison<'_>,
    ) -> Result<Option<String>> {
        scratch.reset().await?;
        if let Err(rejected) = scratch.load(&self.statements).await? {
            return Ok(Some(unrebuildable(&rejected, &self.unmanaged)));
        }
        let mut rebuilt = match scratch.catalog().await {
            Ok(catalog) => catalog,
            Err(e) => return Ok(Some(unreadable(&e, &self.unmanaged))),
        };
        (comparison.normalize)(&mut rebuilt);
        Ok(comparison.differences(&rebuilt, current).map(|differences| {
            format!(
                "the current schema, rebuilt in a scratch database from what was read of it, differs from the \
                 database:{differences}{}",
                not_rebuilt(&self.unmanaged)
            )
        }))
    }
}

/// Why the current schema cannot be rebuilt: the statement the scratch database refused, and the
/// objects the tool does not manage, which it may have needed.
fn unrebuildable(rejected: &crate::verify::Rejected, unmanaged: &[UnmanagedObject]) -> String {
    format!("the current schema cannot be rebuilt in a scratch database: {rejected}{}", not_rebuilt(unmanaged))
}

/// Why the rebuilt current schema cannot be read back (SQLite accepts a view over a missing table).
fn unreadable(error: &anyhow::Error, unmanaged: &[UnmanagedObject]) -> String {
    format!(
        "the current schema, rebuilt in a scratch database, cannot be read back: {error:#}{}",
        not_rebuilt(unmanaged)
    )
}

/// The objects of the database that the scratch database lacks, which the rebuilt ones may use.
fn not_rebuilt(unmanaged: &[UnmanagedObject]) -> String {
    if unmanaged.is_empty() {
        return String::new();
    }
    let names: Vec<String> = unmanaged.iter().take(5).map(ToString::to_string).collect();
    let more = match unmanaged.len() - names.len() {
        0 => String::new(),
        more => format!(" and {more} more"),
    };
    format!("\nthe database has objects that schema does not manage, which are not rebuilt: {}{more}", names.join(", "))
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
