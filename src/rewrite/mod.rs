//! Safe rewrites and expand/contract phases: turns an ordered, rendered [`Plan`] (and its down plan)
//! into the migration files `generate` writes, each a [`Part`].
//!
//! - Online rewrites (the default): a change on a table that exists before the plan, which the dialect
//!   can make without blocking writers ([`LiveRenderer::online`]: `CREATE INDEX CONCURRENTLY`, `NOT VALID`
//!   then `VALIDATE`…), goes into a non-transactional part after the transactional one, together with
//!   every change that depends on it. Objects created by the same plan stay plain and transactional.
//! - Expand/contract (when asked): a change running application code cannot survive in one step
//!   ([`LiveRenderer::expand_contract`]: a table or column rename, a type change, a NOT NULL column with a
//!   `[[backfill]]` value) becomes an expand part (new shape, and a dual-write trigger or a view under the
//!   old name), a batched backfill part and a contract part (old shape removed); dropped columns and
//!   tables move to the contract part.
//!
//! The down of each part reverts exactly that part: each step of the down plan goes with the up step
//! that touches the same object ([`crate::plan::same_object`]).
//!
//! This module is generic; what the statements are is the dialect's business.

use crate::diff::Change;
use crate::diff::{ColumnChange, ConstraintChange, IndexChange, TableChange};
use crate::model::{Catalog, ColumnRef, QualifiedName};
pub use crate::model::{helper_name, helper_object};
use crate::plan::estimate::StepForm;
use crate::plan::{Plan, SqlRenderer, Statement, Step};
use crate::safety::{Context, Hazard};
use indexmap::{IndexMap, IndexSet};
use serde::Serialize;
use std::time::Duration;

/// Name prefix of the dual-write functions and triggers of expand/contract. Objects with it are left out of
/// the live catalog (like the tracking table): they belong to the migrations that create and drop them.
pub const SYNC_PREFIX: &str = "schema_sync_";

/// How the compatibility view of a phased table rename starts its comment. The view must keep the old
/// name (that is the name the old application uses), so it is recognised by this mark instead of a name
/// prefix, and left out of the live catalog like the [`SYNC_PREFIX`] objects.
pub const COMPAT_VIEW_MARK: &str = "schema:compat-view";

/// Leaves the helper objects of expand/contract out of a live catalog: the dual-write functions and
/// triggers ([`SYNC_PREFIX`]) and the compatibility views of table renames ([`COMPAT_VIEW_MARK`]). They
/// belong to the migrations that create and drop them, never to the declared schema.
pub fn retain_declared(catalog: &mut Catalog) {
    let compat: IndexSet<QualifiedName> = catalog
        .views
        .values()
        .filter(|v| !v.materialized && v.comment.as_deref().is_some_and(|c| c.starts_with(COMPAT_VIEW_MARK)))
        .map(|v| v.name.clone())
        .collect();
    catalog.retain_names(|name| !name.name.starts_with(SYNC_PREFIX) && !compat.contains(name));
}

/// A `[[backfill]]` entry of diff.toml: the value a new NOT NULL column without a default gets in the
/// rows that exist, which lets expand/contract add it in phases.
#[derive(Debug, Clone, PartialEq)]
pub struct BackfillValue {
    pub table: QualifiedName,
    pub column: String,
    /// A SQL expression over the row's columns, e.g. `lower(email)` or `'unknown'`.
    pub value: String,
}

/// How `generate` and `plan` shape the migration, from `[hazards]` in diff.toml and the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Rewrite changes on existing tables into their online form (`safe_rewrites`, default true).
    pub online: bool,
    /// Split renames, type changes and drops into expand / backfill / contract (`expand_contract`).
    pub phased: bool,
    /// `SET lock_timeout` before the statements of generated migrations (`lock_timeout`).
    pub lock_timeout: Option<Duration>,
    /// `SET statement_timeout` for statements that hold a lock that blocks the application
    /// (`statement_timeout`).
    pub statement_timeout: Option<Duration>,
    /// `SET statement_timeout` for online statements: concurrent index builds, validations, backfills
    /// (`online_statement_timeout`, default none when `statement_timeout` is set).
    pub online_statement_timeout: Option<Duration>,
    /// Rows per backfill batch, each committed on its own (`backfill_batch_size`, default 1000).
    pub backfill_batch: u32,
    /// `[[backfill]]` entries: values for new NOT NULL columns without a default.
    pub backfills: Vec<BackfillValue>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            online: true,
            phased: false,
            lock_timeout: None,
            statement_timeout: None,
            online_statement_timeout: None,
            backfill_batch: 1000,
            backfills: Vec::new(),
        }
    }
}

/// A change as the dialect runs it on a live table: statements run one by one outside a transaction,
/// and the hazards that remain.
#[derive(Debug, Clone)]
pub struct Online {
    pub statements: Vec<Statement>,
    pub hazards: Vec<Hazard>,
}

/// A change split into phases. Expand runs in a transaction; backfill and contract outside one.
#[derive(Debug, Clone, Default)]
pub struct Phased {
    /// What the phases do, for the headers: `rename column public.t.a to b`.
    pub description: String,
    pub expand: Vec<Statement>,
    pub expand_down: Vec<Statement>,
    pub backfill: Vec<Statement>,
    pub contract: Vec<Statement>,
    /// Runs outside a transaction when one of its statements is long running (a batched copy back).
    pub contract_down: Vec<Statement>,
    pub hazards: Vec<Hazard>,
}

/// What a dialect adds to the planner's [`SqlRenderer`] for tables that exist and are in use: the
/// forms that keep the application running, and the timeouts around them. The defaults have none:
/// the one-step plan is used as it is.
pub trait LiveRenderer: SqlRenderer {
    /// The online form of a change to a table that exists before the plan: statements that do not block
    /// the application for longer than a brief lock (see [`rewrite`]). `None`: the plain
    /// statements are used.
    fn online(&self, _change: &Change, _context: &Context) -> Option<Online> {
        None
    }
    /// The change split into expand / backfill / contract, when running application code cannot survive it
    /// in one step and the database can keep both shapes in sync. `None`: the one-step plan is used.
    fn expand_contract(&self, _change: &Change, _context: &Context, _options: &Options) -> Option<Phased> {
        None
    }
    /// Statements that set the lock and statement timeouts (for the rest of the transaction when
    /// `in_transaction`, for the session otherwise). `Some(ZERO)` means no limit.
    fn timeouts(
        &self,
        _lock: Option<std::time::Duration>,
        _statement: Option<std::time::Duration>,
        _in_transaction: bool,
    ) -> Vec<String> {
        Vec::new()
    }
}

/// Which phase a part belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Expand,
    Backfill,
    Contract,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Expand => "expand",
            Phase::Backfill => "backfill",
            Phase::Contract => "contract",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One migration file pair of a rewritten plan.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    /// Set when the plan has expand/contract phases.
    pub phase: Option<Phase>,
    /// Suffix for the migration's name: `""`, `"online"`, `"expand"`, `"backfill"`, `"contract"`…
    pub suffix: &'static str,
    /// Why the part runs outside a transaction, when it does.
    pub why_no_transaction: Option<String>,
    pub up: Plan,
    pub down: Plan,
}

/// The slots parts are made of, in the order they run.
const SLOTS: [(Option<Phase>, &str, bool); 5] = [
    (None, "", false),
    (None, "online", true),
    (Some(Phase::Backfill), "backfill", true),
    (Some(Phase::Contract), "contract", false),
    (Some(Phase::Contract), "contract_online", true),
];
const TX: usize = 0;
const ONLINE: usize = 1;
const BACKFILL: usize = 2;
const CONTRACT_TX: usize = 3;
const CONTRACT_ONLINE: usize = 4;

/// Moves a slot to the nearest later one that can hold a step (online or not).
fn fit(slot: usize, online: bool) -> usize {
    match (slot, online) {
        (TX, true) => ONLINE,
        (BACKFILL, false) => CONTRACT_TX,
        (BACKFILL, true) => CONTRACT_ONLINE,
        (CONTRACT_TX, true) => CONTRACT_ONLINE,
        (s, _) => s,
    }
}

enum Form {
    Plain,
    Online(Online),
    Phased(Box<Phased>),
}

/// What the dialect hooks get to know besides the change: the plan's context and the columns that
/// other objects depend on (which expand/contract leaves to the one-step plan).
pub fn context(ordered: &[Change], current: &Catalog) -> Context {
    let mut ctx = Context::from_changes(ordered);
    // Only expand/contract needs the rest, and only for tables whose columns are renamed or retyped: the
    // catalog of a large schema is not walked for plans that do not touch columns.
    let tables: IndexSet<&QualifiedName> = ordered
        .iter()
        .filter_map(|c| match c {
            Change::Column(ColumnChange::Rename { table, .. })
            | Change::Column(ColumnChange::Alter { table, .. })
            | Change::Column(ColumnChange::Add { table, .. }) => Some(table),
            _ => None,
        })
        .collect();
    if tables.is_empty() {
        return ctx;
    }
    // Backfills walk the primary key, unless the plan drops it (its columns may then hold duplicates).
    for table in current.tables.values().filter(|t| tables.contains(&t.name)) {
        let Some(key) = table.constraints.values().find(|c| c.kind == crate::model::ConstraintKind::PrimaryKey) else {
            continue;
        };
        let dropped = ordered.iter().any(|c| {
            matches!(c, Change::Constraint(ConstraintChange::Drop { table: t, constraint }) if *t == table.name && constraint.name == key.name)
        });
        if !dropped && !key.columns.is_empty() {
            ctx.primary_keys.insert(table.name.clone(), key.columns.clone());
        }
    }
    // Names in the plan's column changes after a column rename are the new ones; the current catalog has the
    // old ones. A column in use is in use under both.
    let renamed_to: IndexMap<ColumnRef, String> = ordered
        .iter()
        .filter_map(|c| match c {
            Change::Column(ColumnChange::Rename { table, from, to }) => {
                Some((ColumnRef { table: table.clone(), column: from.into() }, to.clone()))
            }
            _ => None,
        })
        .collect();
    let mut use_column = |table: &QualifiedName, column: &str| {
        if tables.contains(table) {
            let key = ColumnRef { table: table.clone(), column: column.into() };
            if let Some(to) = renamed_to.get(&key) {
                ctx.columns_in_use.insert(ColumnRef { table: table.clone(), column: to.into() });
            }
            ctx.columns_in_use.insert(key);
        }
    };
    for table in current.tables.values() {
        // Columns in table inheritance are one: a shadow column or trigger on one table would not be
        // the other's (a child's inherited checks are not even in its model).
        for parent in table
            .inherits
            .iter()
            .filter_map(|p| current.tables.get(p))
            .chain(Some(table).filter(|t| !t.inherits.is_empty()))
        {
            for column in parent.columns.keys() {
                use_column(&parent.name, column);
            }
        }
        for c in table.constraints.values() {
            for column in &c.columns {
                use_column(&table.name, column);
            }
            if let Some(target) = &c.references {
                for column in &target.columns {
                    use_column(&target.table, column);
                }
            }
        }
        for r in table.columns.values().flat_map(|c| &c.depends_on) {
            if let crate::model::ObjectRef::Column(c) = r {
                use_column(&c.table, &c.column);
            }
        }
    }
    // A plain index that reads a renamed or retyped column can be built again on the column that replaces
    // it (a phased rename or type change swaps it in at contract), unless the plan changes the index itself
    // or another of its columns, or changes that column more than once (renamed and retyped: each phased
    // change rebuilds its own column's indexes), or the table is partitioned or a partition (no concurrent
    // builds there). Column changes are counted under the current names.
    let current_name = |table: &QualifiedName, column: &str| {
        renamed_to
            .iter()
            .find(|(r, to)| r.table == *table && *to == column)
            .map_or_else(|| ColumnRef { table: table.clone(), column: column.into() }, |(r, _)| r.clone())
    };
    let mut rebuilt: IndexSet<ColumnRef> = IndexSet::new();
    let mut changes_of: IndexMap<ColumnRef, usize> = IndexMap::new();
    for c in ordered {
        let (column, phaseable) = match c {
            Change::Column(ColumnChange::Alter { table, from, to }) => {
                (current_name(table, &from.name), from.data_type != to.data_type)
            }
            Change::Column(ColumnChange::Rename { table, from, .. }) => {
                (ColumnRef { table: table.clone(), column: from.into() }, true)
            }
            Change::Column(ColumnChange::Drop { table, column }) => (current_name(table, &column.name), false),
            _ => continue,
        };
        if phaseable {
            rebuilt.insert(column.clone());
        }
        *changes_of.entry(column).or_default() += 1;
    }
    let planned_indexes: IndexSet<&QualifiedName> = ordered
        .iter()
        .filter_map(|c| match c {
            Change::Index(IndexChange::Create(i)) | Change::Index(IndexChange::Drop(i)) => Some(&i.name),
            _ => None,
        })
        .collect();
    let mut column_indexes: IndexMap<ColumnRef, Vec<crate::model::Index>> = IndexMap::new();
    for index in current.indexes.values() {
        let plain_table =
            current.tables.get(&index.table).is_some_and(|t| t.partition_key.is_none() && t.partition_of.is_none());
        let refs: Vec<ColumnRef> =
            index.columns.iter().map(|c| ColumnRef { table: index.table.clone(), column: c.clone() }).collect();
        let changes: Vec<usize> = refs.iter().filter_map(|r| changes_of.get(r).copied()).collect();
        let rebuildable = plain_table && !planned_indexes.contains(&index.name) && changes == [1];
        for column in refs {
            if rebuildable && rebuilt.contains(&column) {
                column_indexes.entry(column).or_default().push(index.clone());
            } else {
                use_column(&index.table, &column.column);
            }
        }
    }
    for r in
        current.views.values().flat_map(|v| &v.depends_on).chain(current.triggers.values().flat_map(|t| &t.depends_on))
    {
        if let crate::model::ObjectRef::Column(c) = r {
            use_column(&c.table, &c.column);
        }
    }
    for s in current.sequences.values() {
        if let Some(owner) = &s.owned_by {
            use_column(&owner.table, &owner.column);
        }
    }
    ctx.column_indexes = column_indexes;
    for table in current.tables.values().filter(|t| tables.contains(&t.name)) {
        for column in table.columns.values() {
            ctx.current_columns
                .insert(ColumnRef { table: table.name.clone(), column: column.name.clone() }, column.clone());
        }
    }
    // Views, triggers and policies are not column-precise (`*`, function bodies, expressions): a table
    // with any of them keeps its columns out of expand/contract.
    for t in current.triggers.values() {
        ctx.tables_in_use.insert(t.table.clone());
    }
    for p in current.policies.values() {
        ctx.tables_in_use.insert(p.table.clone());
    }
    for v in current.views.values() {
        for r in &v.depends_on {
            if let crate::model::ObjectRef::Relation(n) = r {
                ctx.tables_in_use.insert(n.clone());
            }
        }
    }
    ctx
}

/// Splits a plan into the parts `generate` writes. With neither online rewrites nor phases that apply,
/// the result is one part holding the plan as it is.
pub fn rewrite(
    up: &Plan,
    down: &Plan,
    current: &Catalog,
    desired: &Catalog,
    renderer: &dyn LiveRenderer,
    options: &Options,
) -> Vec<Part> {
    let changes: Vec<Change> = up.steps.iter().map(|s| s.change.clone()).collect();
    let mut ctx = if options.phased { context(&changes, current) } else { Context::from_changes(&changes) };
    ctx.partitioned_tables =
        current.tables.values().filter(|t| t.partition_key.is_some()).map(|t| t.name.clone()).collect();
    // And those the plan creates partitioned (a table rebuilt partitioned keeps its name); a foreign key
    // to a partitioned table the plan creates has no online form either.
    ctx.partitioned_tables.extend(changes.iter().filter_map(|c| match c {
        Change::Table(TableChange::Create(t)) if t.partition_key.is_some() => Some(t.name.clone()),
        _ => None,
    }));
    partition_facts(&mut ctx, current, desired, &changes);
    let deps = crate::plan::dependencies(&changes);

    // The form and slot of every up step.
    let mut forms = Vec::with_capacity(up.steps.len());
    let mut slots: Vec<usize> = Vec::with_capacity(up.steps.len());
    for (i, step) in up.steps.iter().enumerate() {
        let after = deps[i].iter().map(|&d| slots[d]).max().unwrap_or(TX);
        let phased =
            if options.phased && after == TX { renderer.expand_contract(&step.change, &ctx, options) } else { None };
        let (form, slot) = if let Some(p) = phased {
            // Dependants need the expand part only (the new shape exists from then on).
            (Form::Phased(Box::new(p)), TX)
        } else if options.phased && is_contract_change(&step.change, &ctx) {
            (Form::Plain, fit(after.max(CONTRACT_TX), false))
        } else if let Some(online) = options.online.then(|| renderer.online(&step.change, &ctx)).flatten() {
            (Form::Online(online), fit(after, true))
        } else {
            (Form::Plain, fit(after, false))
        };
        forms.push(form);
        slots.push(slot);
    }
    let phased_plan = forms.iter().any(|f| matches!(f, Form::Phased(_))) || slots.iter().any(|&s| s >= CONTRACT_TX);

    let mut parts_up: Vec<Vec<Step>> = vec![Vec::new(); SLOTS.len()];
    let mut parts_down: Vec<Vec<Step>> = vec![Vec::new(); SLOTS.len()];
    // Reverts of the phased changes, by up step: expand's goes where the down plan reverts that change
    // (what the down plan orders after it needs the old shape back), or last in the expand part's down;
    // contract's goes first.
    let mut expand_downs: IndexMap<usize, Step> = IndexMap::new();
    // Contract pieces of phased changes run first in their part, before the drops moved there (a
    // compatibility view must be gone before a column it shows is dropped).
    let mut contract_pieces: Vec<Vec<Step>> = vec![Vec::new(); SLOTS.len()];
    let mut down_online = vec![false; SLOTS.len()];
    for (i, ((step, form), &slot)) in up.steps.iter().zip(&forms).zip(&slots).enumerate() {
        match form {
            Form::Plain => parts_up[slot].push(step.clone()),
            // A change whose work another step's online form does (a changed index's drop, done by
            // the swap that builds it again) leaves no step behind.
            Form::Online(online) if online.statements.is_empty() && online.hazards.is_empty() => {}
            Form::Online(online) => parts_up[slot].push(online_step(step, online)),
            Form::Phased(p) => {
                let piece = |what: &str, form: StepForm, statements: Vec<Statement>, hazards: Vec<Hazard>| Step {
                    description: format!("{what}: {}", p.description),
                    statements,
                    hazards,
                    estimate_ms: None,
                    change: step.change.clone(),
                    form,
                };
                let expand = p.expand.clone();
                parts_up[TX].push(piece("expand", StepForm::Expand, expand, Vec::new()));
                let expand_down = p.expand_down.clone();
                expand_downs.insert(i, piece("revert expand", StepForm::Revert, expand_down, Vec::new()));
                if !p.backfill.is_empty() {
                    parts_up[BACKFILL].push(piece("backfill", StepForm::Backfill, p.backfill.clone(), Vec::new()));
                }
                let contract_slot =
                    if p.contract.iter().any(|s| s.long_running) { CONTRACT_ONLINE } else { CONTRACT_TX };
                let contract = piece("contract", StepForm::Contract, p.contract.clone(), p.hazards.clone());
                contract_pieces[contract_slot].push(contract);
                let revert = piece("revert contract", StepForm::Revert, p.contract_down.clone(), Vec::new());
                parts_down[contract_slot].push(revert);
                if p.contract_down.iter().any(|s| s.long_running) {
                    down_online[contract_slot] = true;
                }
            }
        }
    }
    for (slot, mut pieces) in contract_pieces.into_iter().enumerate() {
        pieces.append(&mut parts_up[slot]);
        parts_up[slot] = pieces;
    }

    // Each down step reverts the up step that touches the same object, in that step's part; down steps
    // that pair with no up step go with the first part.
    let first = (0..SLOTS.len()).find(|&s| !parts_up[s].is_empty()).unwrap_or(TX);
    let down_changes: Vec<Change> = down.steps.iter().map(|s| s.change.clone()).collect();
    let down_deps = crate::plan::dependencies(&down_changes);
    let mut down_slots: Vec<Option<usize>> = Vec::with_capacity(down.steps.len());
    let mut phased_owners: Vec<Option<usize>> = Vec::with_capacity(down.steps.len());
    for (i, step) in down.steps.iter().enumerate() {
        let owner = up.steps.iter().position(|u| crate::plan::same_object(&u.change, &step.change));
        if let Some(o) = owner.filter(|&o| matches!(forms[o], Form::Phased(_))) {
            // Reverted by the phases' own down statements.
            down_slots.push(None);
            phased_owners.push(Some(o));
            continue;
        }
        phased_owners.push(None);
        // Down parts run last part first: a step that must follow another one of an earlier part (say,
        // dropping a unique constraint after the table whose foreign key uses it) moves to that part.
        let mut slot = owner.map(|o| slots[o]).unwrap_or(first);
        for &d in &down_deps[i] {
            if let Some(before) = down_slots[d] {
                slot = slot.min(before);
            }
        }
        down_slots.push(Some(slot));
    }
    let mut down_ctx = Context::from_changes(&down_changes);
    // The down starts from the declared schema: the tables partitioned now and the ones the up creates
    // partitioned (a partition key never changes in place), and those the down creates.
    down_ctx.partitioned_tables = ctx.partitioned_tables.clone();
    down_ctx.partitioned_tables.extend(down_changes.iter().filter_map(|c| match c {
        Change::Table(TableChange::Create(t)) if t.partition_key.is_some() => Some(t.name.clone()),
        _ => None,
    }));
    partition_facts(&mut down_ctx, desired, current, &down_changes);
    for ((step, slot), owner) in down.steps.iter().zip(&down_slots).zip(&phased_owners) {
        if let Some(piece) = owner.and_then(|o| expand_downs.shift_remove(&o)) {
            parts_down[TX].push(piece);
        }
        let Some(slot) = *slot else { continue };
        match options.online.then(|| renderer.online(&step.change, &down_ctx)).flatten() {
            Some(online) => {
                down_online[slot] = true;
                parts_down[slot].push(online_step(step, &online));
            }
            None => parts_down[slot].push(step.clone()),
        }
    }
    parts_down[TX].extend(expand_downs.into_values());

    let mut parts = Vec::new();
    for (slot, (phase, suffix, online)) in SLOTS.iter().enumerate() {
        let (up_steps, down_steps) = (std::mem::take(&mut parts_up[slot]), std::mem::take(&mut parts_down[slot]));
        if up_steps.is_empty() {
            continue;
        }
        let phase = match (slot, phased_plan) {
            (TX | ONLINE, true) => Some(Phase::Expand),
            (_, true) => *phase,
            (_, false) => None,
        };
        let suffix = match (slot, phased_plan) {
            (TX, true) => "expand",
            (ONLINE, true) => "expand_online",
            _ => suffix,
        };
        let why = if *online {
            Some(match slot {
                BACKFILL => "the backfill commits after every batch".to_string(),
                _ => "online changes (CONCURRENTLY, NOT VALID + VALIDATE) must not run in one transaction".to_string(),
            })
        } else {
            up.why_no_transaction()
        };
        // A part holds statements that can run in a transaction block, or it is not one transaction.
        let up_tx = !*online && up.transactional && up_steps.iter().all(Step::in_transaction_block);
        let down_tx =
            !*online && !down_online[slot] && down.transactional && down_steps.iter().all(Step::in_transaction_block);
        let mut up_plan = Plan { steps: up_steps, transactional: up_tx };
        let mut down_plan = Plan { steps: down_steps, transactional: down_tx };
        with_timeouts(&mut up_plan, renderer, options);
        with_timeouts(&mut down_plan, renderer, options);
        parts.push(Part { phase, suffix, why_no_transaction: why, up: up_plan, down: down_plan });
    }
    if parts.is_empty() {
        parts.push(Part { phase: None, suffix: "", why_no_transaction: None, up: up.clone(), down: down.clone() });
    }
    parts
}

/// The partitions under each partitioned table of `target` (the catalog a plan leads to: an online form
/// runs after the partitions are created, attached or dropped) and the indexes of `start` (the catalog it
/// starts from) that the plan keeps ([`Context::partition_leaves`], [`Context::kept_indexes`]).
fn partition_facts(ctx: &mut Context, start: &Catalog, target: &Catalog, changes: &[Change]) {
    let mut children: IndexMap<&QualifiedName, Vec<&QualifiedName>> = IndexMap::new();
    for table in target.tables.values() {
        if let Some(p) = &table.partition_of {
            children.entry(&p.parent).or_default().push(&table.name);
        }
    }
    for table in target.tables.values().filter(|t| t.partition_key.is_some()) {
        let mut leaves = Vec::new();
        let mut pending: Vec<&QualifiedName> = children.get(&table.name).cloned().unwrap_or_default();
        while let Some(next) = pending.pop() {
            match children.get(next) {
                Some(below) => pending.extend(below.iter().copied()),
                None if target.tables.get(next).is_some_and(|t| t.partition_key.is_none()) => leaves.push(next.clone()),
                None => {}
            }
        }
        leaves.sort();
        ctx.partition_leaves.insert(table.name.clone(), leaves);
    }
    let dropped: IndexSet<&QualifiedName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Index(IndexChange::Drop(i)) => Some(&i.name),
            _ => None,
        })
        .collect();
    ctx.kept_indexes = start
        .indexes
        .values()
        .filter(|i| !dropped.contains(&i.name) && ctx.kept(&i.table))
        .map(|i| i.name.clone())
        .collect();
}

fn online_step(step: &Step, online: &Online) -> Step {
    let mut hazards = online.hazards.clone();
    crate::plan::name_locks(&mut hazards, &online.statements);
    Step {
        description: format!("{} (online)", step.description),
        statements: online.statements.clone(),
        hazards,
        estimate_ms: None,
        change: step.change.clone(),
        form: StepForm::Online,
    }
}

/// Changes that only remove the old shape, which expand/contract defers to the contract phase: dropping
/// a column or a table that exists before the plan.
fn is_contract_change(change: &Change, ctx: &Context) -> bool {
    match change {
        Change::Column(ColumnChange::Drop { table, .. }) => ctx.kept(table),
        // The old table of a rebuild goes in the same transaction as the copy of its rows.
        Change::Table(TableChange::Drop(t)) => ctx.existing(&t.name) && !ctx.rebuilt(&t.name),
        _ => false,
    }
}

/// Puts the policy's timeouts into a part: once at the top of a transactional part (for the whole
/// transaction), and before each statement of a non-transactional part whose kind (blocking or long
/// running) differs from the one before.
fn with_timeouts(plan: &mut Plan, renderer: &dyn LiveRenderer, options: &Options) {
    if options.lock_timeout.is_none() && options.statement_timeout.is_none() {
        return;
    }
    let Some(first) = plan.steps.first_mut() else { return };
    if plan.transactional {
        let mut statements =
            Statement::all_locking(renderer.timeouts(options.lock_timeout, options.statement_timeout, true));
        statements.append(&mut first.statements);
        first.statements = statements;
        return;
    }
    let long_timeout = options.statement_timeout.map(|_| options.online_statement_timeout.unwrap_or(Duration::ZERO));
    let mut current: Option<bool> = None;
    for step in &mut plan.steps {
        let mut out = Vec::with_capacity(step.statements.len());
        for statement in std::mem::take(&mut step.statements) {
            let long = statement.long_running;
            if current != Some(long) {
                let statement_timeout = if long { long_timeout } else { options.statement_timeout };
                out.extend(Statement::all_locking(renderer.timeouts(options.lock_timeout, statement_timeout, false)));
                current = Some(long);
            }
            out.push(statement);
        }
        step.statements = out;
    }
}

/// The up plans of all parts as one plan, in the order they run (what `plan` shows and the hazards are
/// reported on). Transactional only when there is one transactional part.
pub fn flat_up(parts: &[Part]) -> Plan {
    Plan {
        steps: parts.iter().flat_map(|p| p.up.steps.iter().cloned()).collect(),
        transactional: parts.len() == 1 && parts[0].up.transactional,
    }
}

/// The down plans of all parts as one plan, in the order they run (last part first).
pub fn flat_down(parts: &[Part]) -> Plan {
    Plan {
        steps: parts.iter().rev().flat_map(|p| p.down.steps.iter().cloned()).collect(),
        transactional: parts.len() == 1 && parts[0].down.transactional,
    }
}
