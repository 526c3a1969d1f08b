//! Fleets: the same migrations directory run on many databases. Each target is a `schema migrate` of its
//! own (its tracking table, lock, dirty state, timeouts and retries, see [`crate::runner`]); the fleet adds
//! the scheduling: canaries first, then at most `parallel` targets at a time, no new start once
//! `max_failures` targets have failed or the user interrupts. Targets run concurrently on connections of
//! this one process.

mod neutral;

use crate::dialect;
use crate::migrations::{LocalMigration, SumProblem};
use crate::runner::{self, State, UpTarget};
use crate::settings::Settings;
use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// One target: a database, or one tenant's schema in it (`[fleet] schemas`).
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    /// The tenant's schema; `None` for a whole database.
    pub schema: Option<String>,
    /// The tenant's schema as the database writes it (`quote_ident`).
    written: String,
    /// The database's schemas a tenant's migrations may not name: the other tenants' and any other that
    /// is neither the template nor shared.
    foreign: Vec<String>,
    /// Why the database's schemas could not be listed; it is then reported unreachable.
    unreachable: Option<String>,
}

impl Target {
    fn database(url: String) -> Target {
        Target { url, schema: None, written: String::new(), foreign: Vec::new(), unreachable: None }
    }

    /// The URL (password redacted), and the tenant's schema: how reports name the target.
    pub fn label(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{} schema {schema}", dialect::redact(&self.url)),
            None => dialect::redact(&self.url),
        }
    }

    /// `[migrate]` as this target runs it: a tenant's tracking table (hence its lock) is in its own
    /// schema, and unqualified names resolve there first, then in the shared schemas.
    fn options(&self, settings: &Settings) -> runner::Options {
        let mut options = settings.migrate.clone();
        if let (Some(schema), Some(tenants)) = (&self.schema, &settings.fleet.tenants) {
            options.table = crate::model::QualifiedName::new(schema.as_str(), options.table.name.clone());
            options.search_path = std::iter::once(schema.clone()).chain(tenants.shared.iter().cloned()).collect();
        }
        options
    }
}

/// The fleet's targets: `[fleet] urls`, then `urls_file`, then the rows of `query`, each once, in that
/// order; with `[fleet] schemas`, each matching schema of those databases instead (listed at most
/// `parallel` databases at once), in name order.
pub async fn targets(settings: &Settings, parallel: usize) -> Result<Vec<Target>> {
    let fleet = &settings.fleet;
    let mut urls: Vec<String> = fleet.urls.clone();
    if let Some(file) = &fleet.urls_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read [fleet] urls_file {}", file.display()))?;
        let lines = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
        urls.extend(lines.map(|l| crate::settings::file::expand_env(l).unwrap_or_else(|_| l.to_string())));
    }
    if let Some((query, catalog)) = &fleet.query {
        let found = dialect::query_texts(catalog, query)
            .await
            .with_context(|| format!("cannot run [fleet] query on {}", dialect::redact(catalog)))?;
        urls.extend(found);
    }
    let mut seen = indexmap::IndexSet::new();
    urls.retain(|u| seen.insert(u.clone()));
    if urls.is_empty() {
        bail!("no fleet targets: set urls, urls_file or query (with catalog_url) in [fleet] of diff.toml");
    }
    let Some(tenants) = &fleet.tenants else { return Ok(urls.into_iter().map(Target::database).collect()) };
    for url in &urls {
        if dialect::Kind::from_url(url)? != dialect::Kind::Postgres {
            bail!("[fleet] schemas: a schema per tenant needs PostgreSQL; {} is not", dialect::redact(url));
        }
    }
    let listed = each_bounded(urls.len(), parallel, |i| schema_names(&urls[i])).await;
    let mut targets = Vec::new();
    for (url, names) in urls.iter().zip(listed) {
        let names = match names {
            Ok(names) => names,
            Err(error) => {
                targets.push(Target { unreachable: Some(error), ..Target::database(url.clone()) });
                continue;
            }
        };
        let is_tenant = |name: &String| tenants.pattern.matches(name) && *name != tenants.template;
        for (schema, written) in names.iter().filter(|(n, _)| is_tenant(n)) {
            let foreign = names
                .iter()
                .map(|(n, _)| n)
                .filter(|n| *n != schema && **n != tenants.template && !tenants.shared.contains(n))
                .cloned()
                .collect();
            let (schema, written) = (Some(schema.clone()), written.clone());
            targets.push(Target { url: url.clone(), schema, written, foreign, unreachable: None });
        }
    }
    if targets.is_empty() {
        bail!("[fleet] schemas = {:?}: no schema of the fleet's databases matches", tenants.pattern.as_str());
    }
    Ok(targets)
}

/// A database's schemas (and how it writes them), or why they cannot be read.
async fn schema_names(url: &str) -> Result<Vec<(String, String)>, String> {
    within_connect_timeout(url, dialect::schema_names(url)).await
}

/// `work` on `url`, or why it failed: its error, or no answer within [`CONNECT_TIMEOUT`].
async fn within_connect_timeout<T>(url: &str, work: impl std::future::Future<Output = Result<T>>) -> Result<T, String> {
    match tokio::time::timeout(CONNECT_TIMEOUT, work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(_) => Err(format!("{}: no connection within {CONNECT_TIMEOUT:?}", dialect::redact(url))),
    }
}

/// What became of one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// `up` applied migrations.
    Applied,
    /// Nothing to apply / nothing pending.
    UpToDate,
    /// `status`: migrations are pending.
    Pending,
    /// `status`: a migration is dirty (it failed outside a transaction and awaits `migrate resolve`).
    Dirty,
    /// `status`: the tracking table disagrees with the directory (changed, missing or out-of-order).
    Problem,
    /// `up` failed; the target is left where its last migration left it.
    Failed,
    /// It cannot be reached (or its tracking table read).
    Unreachable,
    /// `up` did not start it: a canary failed, `max_failures` was reached, or the run was interrupted.
    Skipped,
}

/// One target's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    /// The URL, password redacted.
    pub target: String,
    /// The tenant's schema, for a target of `[fleet] schemas`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub status: Outcome,
    /// Migrations applied by this run (`up`), or applied so far (`status`).
    pub applied: usize,
    /// Migrations pending after the run.
    pub pending: Option<usize>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// How `up` schedules the targets.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Targets running at once.
    pub parallel: usize,
    /// Targets run first, in order; any failure among them stops the run before the others start.
    pub canary: usize,
    /// No new target starts once this many have failed (unreachable counts).
    pub max_failures: Option<usize>,
}

/// The migrations directory, read once for every target.
struct Directory {
    local: Vec<LocalMigration>,
    sum: Vec<SumProblem>,
}

impl Directory {
    /// The migrations as `target` runs them: a tenant's copy of each (see [`dialect::for_tenant`]). A
    /// migration that cannot be mapped is an error only if it is still to run there (`pending`): one
    /// applied before the database had tenants does not stop the later ones.
    fn for_target(
        &self,
        settings: &Settings,
        target: &Target,
        pending: impl Fn(&LocalMigration) -> bool,
    ) -> Result<Vec<LocalMigration>> {
        let (Some(schema), Some(tenants)) = (&target.schema, &settings.fleet.tenants) else {
            return Ok(self.local.clone());
        };
        let schemas = dialect::TenantSchemas {
            template: &tenants.template,
            tenant: schema,
            written: &target.written,
            foreign: &target.foreign,
        };
        let kind = dialect::Kind::from_url(&target.url)?;
        let mut local = self.local.clone();
        for m in &mut local {
            match dialect::for_tenant(kind, &m.up.path, &m.up.text, &schemas) {
                Ok(text) => m.up.text = text,
                Err(e) if pending(m) => return Err(e),
                Err(_) => {}
            }
        }
        Ok(local)
    }
}

fn directory(settings: &Settings) -> Result<Directory> {
    let (local, sum) = runner::local(&settings.out_dir)?;
    Ok(Directory { local, sum })
}

/// `fleet status`: every target's migration state, read concurrently (at most `parallel` at once).
pub async fn status(settings: &Settings, targets: &[Target], parallel: usize) -> Result<Vec<TargetReport>> {
    let dir = directory(settings)?;
    let idle = Idle::new(parallel);
    Ok(each_bounded(targets.len(), parallel, |i| status_of(settings, &targets[i], &dir, &idle)).await)
}

/// Connections whose last run ended without error, kept for the next tenant schema of the same
/// database: a new server process costs several milliseconds, far more than reading or migrating a
/// small tenant. At most `capacity` are kept; the oldest is closed first.
struct Idle {
    capacity: usize,
    connections: std::cell::RefCell<Vec<(String, dialect::Runner)>>,
}

impl Idle {
    fn new(capacity: usize) -> Idle {
        Idle { capacity, connections: Default::default() }
    }

    fn take(&self, url: &str) -> Option<dialect::Runner> {
        let mut connections = self.connections.borrow_mut();
        let i = connections.iter().rposition(|(u, _)| u == url)?;
        Some(connections.remove(i).1)
    }

    /// Keeps `db` after a run on `target` that ended without error; database targets are not kept (the
    /// next target is another database).
    fn give(&self, target: &Target, db: dialect::Runner) {
        if target.schema.is_none() {
            return;
        }
        let mut connections = self.connections.borrow_mut();
        connections.push((target.url.clone(), db));
        if connections.len() > self.capacity {
            connections.remove(0);
        }
    }
}

/// `work(i)` for every `i` below `n`, at most `parallel` at once, on this task; results in index order.
async fn each_bounded<T, F: std::future::Future<Output = T>>(
    n: usize,
    parallel: usize,
    work: impl Fn(usize) -> F,
) -> Vec<T> {
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let mut running = FuturesUnordered::new();
    let mut next = 0;
    while next < n || !running.is_empty() {
        while next < n && running.len() < parallel.max(1) {
            let (i, future) = (next, work(next));
            next += 1;
            running.push(async move { (i, future.await) });
        }
        if let Some((i, value)) = running.next().await {
            out[i] = Some(value);
        }
    }
    out.into_iter().flatten().collect()
}

/// Reports on one target, timed from its start.
struct Reporter<'a> {
    target: &'a Target,
    started: Instant,
}

impl Reporter<'_> {
    fn report(&self, status: Outcome, applied: usize, pending: Option<usize>, error: Option<String>) -> TargetReport {
        TargetReport {
            target: dialect::redact(&self.target.url),
            schema: self.target.schema.clone(),
            status,
            applied,
            pending,
            error,
            duration_ms: self.started.elapsed().as_millis() as u64,
        }
    }
}

/// The target's runner connection, or its report as unreachable.
async fn connected<'a>(
    settings: &Settings,
    target: &'a Target,
    idle: &Idle,
) -> Result<(dialect::Runner, Reporter<'a>), TargetReport> {
    let reporter = Reporter { target, started: Instant::now() };
    if let Some(error) = &target.unreachable {
        return Err(reporter.report(Outcome::Unreachable, 0, None, Some(error.clone())));
    }
    let options = target.options(settings);
    if let Some(mut db) = idle.take(&target.url)
        && db.reuse(&options).await.is_ok()
    {
        return Ok((db, reporter));
    }
    match connect(&target.url, &options).await {
        Ok(db) => Ok((db, reporter)),
        Err(e) => Err(reporter.report(Outcome::Unreachable, 0, None, Some(e))),
    }
}

async fn status_of(settings: &Settings, target: &Target, dir: &Directory, idle: &Idle) -> TargetReport {
    let (mut db, reporter) = match connected(settings, target, idle).await {
        Ok(connected) => connected,
        Err(report) => return report,
    };
    let report = |status, applied, pending, error| reporter.report(status, applied, pending, error);
    match runner::status(&mut db, &dir.local, &dir.sum).await {
        Err(e) => report(Outcome::Unreachable, 0, None, Some(e.to_string())),
        Ok(status) => {
            let applied = status.rows.iter().filter(|(_, s)| matches!(s, State::Applied { .. })).count();
            let dirty = status.rows.iter().any(|(_, s)| *s == State::Dirty);
            let problem = status.problems.first().map(|p| p.to_string());
            let outcome = match (dirty, &problem, status.pending) {
                (true, _, _) => Outcome::Dirty,
                (false, Some(_), _) => Outcome::Problem,
                (false, None, 0) => Outcome::UpToDate,
                (false, None, _) => Outcome::Pending,
            };
            idle.give(target, db);
            report(outcome, applied, Some(status.pending), problem)
        }
    }
}

/// Where a `fleet up` stands, for a progress display: given when a target ends and every second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub done: usize,
    pub running: usize,
    pub failed: usize,
    pub left: usize,
    /// The target running longest, and for how long.
    pub slowest: Option<(String, std::time::Duration)>,
}

/// `fleet up`: the pending migrations applied on every target, as `schedule` says. `on_done` sees each
/// target's report as it ends, `on_progress` where the run stands. Returns one report a target, in the
/// targets' order.
pub async fn up(
    settings: &Settings,
    targets: &[Target],
    target: &UpTarget,
    schedule: Schedule,
    mut on_done: impl FnMut(&TargetReport),
    mut on_progress: impl FnMut(&Snapshot),
) -> Result<Vec<TargetReport>> {
    let dir = directory(settings)?;
    let idle = Idle::new(schedule.parallel);
    let mut reports: Vec<Option<TargetReport>> = vec![None; targets.len()];
    let mut failures = 0;
    let mut stop: Option<&'static str> = None;
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let mut started: indexmap::IndexMap<usize, Instant> = indexmap::IndexMap::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    let snapshot = |reports: &[Option<TargetReport>], started: &indexmap::IndexMap<usize, Instant>, failures| {
        let done = reports.iter().filter(|r| r.is_some()).count();
        Snapshot {
            done,
            running: started.len(),
            failed: failures,
            left: targets.len() - done - started.len(),
            slowest: started.iter().min_by_key(|(_, at)| **at).map(|(i, at)| (targets[*i].label(), at.elapsed())),
        }
    };
    let canaries = schedule.canary.min(targets.len());
    // The canaries, then the rest: each wave starts only when the one before ended without failure.
    for wave in [0..canaries, canaries..targets.len()] {
        let mut running = FuturesUnordered::new();
        let mut next = wave.start;
        loop {
            while stop.is_none() && next < wave.end && running.len() < schedule.parallel.max(1) {
                let i = next;
                next += 1;
                let (one, dir, idle) = (&targets[i], &dir, &idle);
                started.insert(i, Instant::now());
                running.push(async move { (i, up_one(settings, one, dir, target, idle).await) });
            }
            if running.is_empty() {
                break;
            }
            tokio::select! {
                Some((i, report)) = running.next() => {
                    if matches!(report.status, Outcome::Failed | Outcome::Unreachable) {
                        failures += 1;
                        if schedule.max_failures.is_some_and(|max| failures >= max) {
                            stop.get_or_insert("max_failures reached");
                        }
                    }
                    on_done(&report);
                    reports[i] = Some(report);
                    started.shift_remove(&i);
                    on_progress(&snapshot(&reports, &started, failures));
                }
                _ = tick.tick() => on_progress(&snapshot(&reports, &started, failures)),
                _ = &mut interrupted, if stop != Some("interrupted") => {
                    // Running targets finish (or roll back) on their own; nothing new starts.
                    stop = Some("interrupted");
                }
            }
        }
        if wave.end == canaries && failures > 0 {
            stop.get_or_insert("a canary failed");
        }
    }
    let why = stop.unwrap_or("not started");
    Ok(reports
        .into_iter()
        .zip(targets)
        .map(|(report, one)| {
            report.unwrap_or_else(|| TargetReport {
                target: dialect::redact(&one.url),
                schema: one.schema.clone(),
                status: Outcome::Skipped,
                applied: 0,
                pending: None,
                error: Some(format!("not started: {why}")),
                duration_ms: 0,
            })
        })
        .collect())
}

async fn up_one(settings: &Settings, one: &Target, dir: &Directory, target: &UpTarget, idle: &Idle) -> TargetReport {
    let (mut db, reporter) = match connected(settings, one, idle).await {
        Ok(connected) => connected,
        Err(report) => return report,
    };
    let report = |status, applied, pending, error| reporter.report(status, applied, pending, error);
    // A tenant's copies are checked against what is still to run there, before anything runs.
    let applied: Vec<String> = match one.schema {
        Some(_) => match runner::status(&mut db, &dir.local, &dir.sum).await {
            Ok(status) => status
                .rows
                .into_iter()
                .filter(|(_, s)| matches!(s, State::Applied { .. } | State::Changed | State::Dirty))
                .map(|(id, _)| id)
                .collect(),
            Err(e) => return report(Outcome::Unreachable, 0, None, Some(e.to_string())),
        },
        None => Vec::new(),
    };
    let to_run =
        |m: &LocalMigration| !applied.contains(&m.id()) && target.to.as_ref().is_none_or(|to| m.version <= *to);
    let local = match dir.for_target(settings, one, to_run) {
        Ok(local) => local,
        Err(e) => return report(Outcome::Failed, 0, None, Some(format!("{e:#}"))),
    };
    // Each target's progress lines are its own; the fleet prints one line a target, and its own status.
    let mut out = Vec::new();
    let mut progress = runner::progress::Progress::off();
    let options = one.options(settings);
    let result = runner::up(&mut db, &options, &local, &dir.sum, target, &mut out, &mut progress).await;
    let pending = match runner::status(&mut db, &dir.local, &dir.sum).await {
        Ok(status) => Some(status.pending),
        Err(_) => None,
    };
    if result.is_ok() && pending.is_some() {
        idle.give(one, db);
    }
    match result {
        Ok(0) => report(Outcome::UpToDate, 0, pending, None),
        Ok(n) => report(Outcome::Applied, n, pending, None),
        Err(e) => {
            // What it applied before failing counts: the lines say which.
            let applied = String::from_utf8_lossy(&out).lines().filter(|l| l.starts_with("applied ")).count();
            report(Outcome::Failed, applied, pending, Some(e.to_string()))
        }
    }
}

/// How long a target may take to accept a connection before it counts as unreachable.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn connect(url: &str, options: &runner::Options) -> Result<dialect::Runner, String> {
    within_connect_timeout(url, dialect::Runner::connect(url, options)).await
}

/// Counts by outcome (those that occur, always in the same order), for the summary line and JSON.
pub fn summary(reports: &[TargetReport]) -> indexmap::IndexMap<&'static str, usize> {
    const ORDER: [(Outcome, &str); 8] = [
        (Outcome::Applied, "applied"),
        (Outcome::UpToDate, "up_to_date"),
        (Outcome::Pending, "pending"),
        (Outcome::Dirty, "dirty"),
        (Outcome::Problem, "problem"),
        (Outcome::Failed, "failed"),
        (Outcome::Unreachable, "unreachable"),
        (Outcome::Skipped, "skipped"),
    ];
    ORDER
        .iter()
        .map(|(outcome, key)| (*key, reports.iter().filter(|r| r.status == *outcome).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Targets whose managed schemas are identical, compared once with the declared schema.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The targets (passwords redacted), in the fleet's order.
    pub targets: Vec<String>,
    pub in_sync: bool,
    /// What would bring them to the declared schema, one line a change.
    pub changes: Vec<String>,
    /// The statements of that plan (the one-step plan, in order).
    pub statements: Vec<String>,
}

/// A target that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct Unread {
    pub target: String,
    pub error: String,
}

/// `fleet drift` and `fleet plan`: every target read once (at most `parallel` at once), targets with
/// identical schemas grouped, and each group compared once with the declared schema, which is loaded on
/// the dev database or the first target's server. A tenant schema is compared with the declared schema
/// under its name (the scratch database's template schema renamed), and grouped with the tenants whose
/// changes are the same once written for the template; a group's changes and statements name the
/// template schema.
pub async fn compare(settings: &Settings, targets: &[Target], parallel: usize) -> Result<(Vec<Group>, Vec<Unread>)> {
    let read = match &settings.fleet.tenants {
        None => each_bounded(targets.len(), parallel, |i| read_catalog(settings, &targets[i])).await,
        Some(_) => read_tenants(settings, targets, parallel).await,
    };
    let mut catalogs = Vec::new();
    let mut unread = Vec::new();
    for (i, catalog) in read.into_iter().enumerate() {
        match catalog {
            Ok(mut catalog) => {
                if !settings.manage_owners {
                    catalog.owners = Default::default();
                }
                catalogs.push((i, catalog));
            }
            Err(error) => unread.push(Unread { target: targets[i].label(), error }),
        }
    }
    let Some(&(first, _)) = catalogs.first() else { return Ok((Vec::new(), unread)) };
    let server = settings.dev_url.clone().unwrap_or_else(|| targets[first].url.clone());
    let declared_settings = Settings { url: Some(server), ..settings.clone() };
    let kind = dialect::Kind::from_url(&targets[first].url)?;
    let renderer = kind.renderer();
    let compare_one = |actual: crate::model::Catalog, declared: crate::model::Catalog| {
        let (mut actual, mut desired) = (actual, declared);
        crate::pipeline::retain_managed(&mut actual, &mut desired, settings);
        let report = crate::drift::report(&actual, &desired, renderer.as_ref(), ("database", "declared"))?;
        let changes = report.plan.steps.iter().map(|s| s.description.clone()).collect();
        let statements = report.plan.statements().map(str::to_string).collect();
        anyhow::Ok(Group { targets: Vec::new(), in_sync: report.in_sync, changes, statements })
    };
    let mut groups: Vec<(Group, Vec<usize>)> = Vec::new();
    match &settings.fleet.tenants {
        None => {
            // One catalog a group: 1,000 identical databases are compared once.
            let mut identical: Vec<(crate::model::Catalog, Vec<usize>)> = Vec::new();
            for (i, catalog) in catalogs {
                match identical.iter_mut().find(|(c, _)| *c == catalog) {
                    Some((_, members)) => members.push(i),
                    None => identical.push((catalog, vec![i])),
                }
            }
            let (declared, _) = crate::pipeline::declared_catalog(&declared_settings).await?;
            for (catalog, members) in identical {
                groups.push((compare_one(catalog, declared.clone())?, members));
            }
        }
        Some(tenants) => {
            crate::pipeline::declared_catalog_then(&declared_settings, async |mut db, _, _| {
                let template_written = db.quote_ident(&tenants.template).await?;
                // A tenant's texts written for the template (where they name its schema as a schema).
                let to_template = |schema: &str, text: &str| {
                    let back = dialect::TenantSchemas {
                        template: schema,
                        tenant: &tenants.template,
                        written: &template_written,
                        foreign: &[],
                    };
                    dialect::for_tenant(kind, Path::new("catalog"), text, &back).unwrap_or_else(|_| text.to_string())
                };
                // Tenants holding the same objects, whatever their schema's name, are compared once: 1,000
                // identical tenants cost one read of the declared schema and one plan.
                let mut alike: Vec<(Vec<u8>, crate::model::Catalog, Vec<usize>)> = Vec::new();
                for (i, mut live) in catalogs {
                    let schema = targets[i].schema.clone().unwrap_or_default();
                    // The tenant's schema itself is provisioned outside the migrations.
                    without_schema_itself(&mut live, &schema);
                    let print = neutral::fingerprint(&live, &schema, &tenants.template, &|t| to_template(&schema, t));
                    match alike.iter_mut().find(|(p, _, _)| *p == print) {
                        Some((_, _, members)) => members.push(i),
                        None => alike.push((print, live, vec![i])),
                    }
                }
                for (_, live, members) in alike {
                    let schema = targets[members[0]].schema.clone().unwrap_or_default();
                    let mut declared =
                        db.catalog_renamed(&tenants.template, &schema, std::slice::from_ref(&schema)).await?;
                    without_schema_itself(&mut declared, &schema);
                    let mut group = compare_one(live, declared)?;
                    for text in group.changes.iter_mut().chain(group.statements.iter_mut()) {
                        *text = to_template(&schema, text);
                    }
                    // Written for the template, the changes of different tenants may still be the same.
                    match groups
                        .iter_mut()
                        .find(|(g, _)| g.statements == group.statements && g.changes == group.changes)
                    {
                        Some((_, all)) => all.extend(members),
                        None => groups.push((group, members)),
                    }
                }
                for (_, members) in &mut groups {
                    members.sort_unstable();
                }
                Ok(())
            })
            .await?;
        }
    }
    let out = groups
        .into_iter()
        .map(|(group, members)| Group { targets: members.iter().map(|&i| targets[i].label()).collect(), ..group })
        .collect();
    Ok((out, unread))
}

/// `catalog` without the schema `name` itself (its comment, owner and privileges), keeping what is in it.
fn without_schema_itself(catalog: &mut crate::model::Catalog, name: &str) {
    use crate::model::{OwnedObject, PrivilegeTarget};
    catalog.schemas.shift_remove(name);
    catalog.grants.retain(|key, _| !matches!(&key.target, PrivilegeTarget::Schema(s) if s == name));
    catalog.owners.objects.shift_remove(&OwnedObject::Schema(name.to_string()));
}

/// Each tenant's managed objects: those of its schema, without its tracking table. Each database is read
/// once for all its tenants (at most `parallel` at once), then split by schema
/// ([`crate::model::Catalog::retain_schema`]): a read costs about as much for one schema as for all.
async fn read_tenants(
    settings: &Settings,
    targets: &[Target],
    parallel: usize,
) -> Vec<Result<crate::model::Catalog, String>> {
    let mut databases: indexmap::IndexMap<&str, Vec<String>> = indexmap::IndexMap::new();
    for target in targets.iter().filter(|t| t.unreachable.is_none()) {
        databases.entry(target.url.as_str()).or_default().extend(target.schema.clone());
    }
    let databases: Vec<(&str, Vec<String>)> = databases.into_iter().collect();
    let read = each_bounded(databases.len(), parallel, |i| {
        let (url, schemas) = &databases[i];
        let whole = Target::database(url.to_string());
        let settings = Settings { schemas: schemas.clone(), ..settings.clone() };
        async move { read_catalog(&settings, &whole).await }
    })
    .await;
    let by_url: indexmap::IndexMap<&str, Result<crate::model::Catalog, String>> =
        databases.iter().map(|(url, _)| *url).zip(read).collect();
    targets
        .iter()
        .map(|target| {
            if let Some(error) = &target.unreachable {
                return Err(error.clone());
            }
            let whole = by_url[target.url.as_str()].as_ref().map_err(Clone::clone)?;
            let mut catalog = whole.in_schema(target.schema.as_deref().unwrap_or_default());
            let tracking = target.options(settings).table;
            catalog.retain_names(|name| *name != tracking);
            Ok(catalog)
        })
        .collect()
}

/// A target's managed objects: a tenant's are those of its schema, without its tracking table.
async fn read_catalog(settings: &Settings, target: &Target) -> Result<crate::model::Catalog, String> {
    if let Some(error) = &target.unreachable {
        return Err(error.clone());
    }
    let tenant_settings;
    let settings = match &target.schema {
        Some(schema) => {
            tenant_settings =
                Settings { schemas: vec![schema.clone()], migrate: target.options(settings), ..settings.clone() };
            &tenant_settings
        }
        None => settings,
    };
    let limit = CONNECT_TIMEOUT * 6;
    let catalog = tokio::time::timeout(limit, crate::pipeline::live_catalog(&target.url, settings))
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("{}: not read within {limit:?}", dialect::redact(&target.url))));
    catalog.map_err(|e| format!("{e:#}"))
}
