//! Orders a [`ChangeSet`] by dependencies. Every change is a node in a petgraph graph; edges come from
//! what each change creates, removes, needs and held (see [`Effects`]). Ties are broken by a fixed
//! rank (see [`Rank`], which each kind's change enum gives) and then by the change's position in the change set, so the same input always produces
//! the same order.

use crate::diff::{Change, ChangeSet};
use crate::model::*;
use indexmap::{IndexMap, IndexSet};
use petgraph::graph::{DiGraph, NodeIndex};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub mod estimate;
mod statement;
use crate::diff::order::{Effects, Key, Rank};
pub use statement::{Blocks, Lock, LockMode, Statement, lock_text};
#[cfg(test)]
mod tests;

#[derive(Debug, thiserror::Error)]
#[error("the changes depend on each other in a cycle: {}", .0.join(" -> "))]
pub struct CycleError(pub Vec<String>);

/// A change a dialect cannot express. Planning stops with it, naming the change, instead of writing
/// a statement that cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{dialect} cannot {change}: {why}")]
pub struct Unsupported {
    pub dialect: &'static str,
    /// The change, described (`create policy p on public.t`).
    pub change: String,
    pub why: &'static str,
}

impl Unsupported {
    pub fn new(dialect: &'static str, change: &Change, why: &'static str) -> Unsupported {
        Unsupported { dialect, change: change.describe(), why }
    }
}

/// Why a change set could not become a plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Cycle(#[from] CycleError),
    #[error(transparent)]
    Unsupported(#[from] Unsupported),
}

/// Returns the changes in an order that respects their dependencies.
pub fn order(changes: &ChangeSet) -> Result<Vec<Change>, CycleError> {
    Ok(order_indices(changes)?.into_iter().map(|i| changes.changes[i].clone()).collect())
}

/// The positions of the changes in an order that respects their dependencies. The dependency facts
/// (a copy of every name involved) are freed before the caller copies or moves the changes themselves.
fn order_indices(changes: &ChangeSet) -> Result<Vec<usize>, CycleError> {
    let effects: Vec<Effects> = changes.changes.iter().map(Change::effects).collect();
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(effects.len(), effects.len() * 2);
    let nodes: Vec<NodeIndex> = (0..effects.len()).map(|i| graph.add_node(i)).collect();

    let edges = edges(&effects);
    for (from, to) in edges {
        if from != to {
            graph.add_edge(nodes[from], nodes[to], ());
        }
    }
    drop(effects);

    // Kahn's algorithm with a priority queue, so ties are broken the same way every time.
    let mut indegree: Vec<usize> =
        nodes.iter().map(|&n| graph.neighbors_directed(n, petgraph::Incoming).count()).collect();
    let mut ready: BinaryHeap<Reverse<(Rank, usize)>> = BinaryHeap::new();
    for (i, &deg) in indegree.iter().enumerate() {
        if deg == 0 {
            ready.push(Reverse((changes.changes[i].rank(), i)));
        }
    }
    let mut ordered = Vec::with_capacity(nodes.len());
    while let Some(Reverse((_, i))) = ready.pop() {
        ordered.push(i);
        for next in graph.neighbors_directed(nodes[i], petgraph::Outgoing) {
            let j = graph[next];
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(Reverse((changes.changes[j].rank(), j)));
            }
        }
    }
    if ordered.len() != nodes.len() {
        let stuck: Vec<String> =
            indegree.iter().enumerate().filter(|(_, d)| **d > 0).map(|(i, _)| changes.changes[i].describe()).collect();
        return Err(CycleError(stuck));
    }
    Ok(ordered)
}

/// The dependency edges `(before, after)` between changes, from their effects.
fn edges(effects: &[Effects]) -> IndexSet<(usize, usize)> {
    let mut providers: IndexMap<&Key, Vec<usize>> = IndexMap::new();
    let mut removers: IndexMap<&Key, Vec<usize>> = IndexMap::new();
    for (i, e) in effects.iter().enumerate() {
        for key in &e.provides {
            providers.entry(key).or_default().push(i);
        }
        for key in &e.removes {
            removers.entry(key).or_default().push(i);
        }
    }
    let mut edges: IndexSet<(usize, usize)> = IndexSet::new();
    for (i, e) in effects.iter().enumerate() {
        for key in &e.needs {
            for &p in providers.get(key).into_iter().flatten() {
                edges.insert((p, i));
            }
        }
        for key in &e.held {
            for &r in removers.get(key).into_iter().flatten() {
                // A change that uses the object before and after, while another one replaces it in place
                // (an enum type rebuilt), needs the new version: it goes after.
                if e.needs.contains(key) && effects[r].provides.contains(key) {
                    continue;
                }
                edges.insert((i, r));
            }
        }
    }
    // An object that is dropped and created again: the drop goes first. Unless the drop must follow the
    // other change (it needs what that one provides, or removes what it holds): then it drops that very
    // object (a table renamed aside, and its keys, then dropped).
    let mut drops_first = Vec::new();
    for (key, removing) in &removers {
        for &p in providers.get(key).into_iter().flatten() {
            for &r in removing {
                let replaces_itself = effects[p].removes.contains(key) || effects[r].provides.contains(key);
                if !replaces_itself && !edges.contains(&(p, r)) {
                    drops_first.push((r, p));
                }
            }
        }
    }
    edges.extend(drops_first);
    edges
}

/// For each change of an ordered list, the earlier changes it must run after (the edges [`order`] uses).
/// The safety rewrites use it to move changes between migration files without breaking an order.
pub fn dependencies(ordered: &[Change]) -> Vec<Vec<usize>> {
    let effects: Vec<Effects> = ordered.iter().map(Change::effects).collect();
    let mut deps = vec![Vec::new(); ordered.len()];
    for (before, after) in edges(&effects) {
        if before < after {
            deps[after].push(before);
        }
    }
    deps
}

/// Whether two changes create, change or remove a same object: how a change of the down plan is paired
/// with the up change it reverts.
pub fn same_object(a: &Change, b: &Change) -> bool {
    fn keys(c: &Change) -> Vec<Key<'_>> {
        let e = c.effects();
        // Namespaces and key columns are shared by different objects.
        e.provides
            .into_iter()
            .chain(e.removes)
            .filter(|k| {
                !matches!(
                    k,
                    Key::UniqueColumns(..)
                        | Key::RelationName(..)
                        | Key::FunctionSignature(..)
                        | Key::ColumnPrivileges(..)
                )
            })
            .collect()
    }
    let theirs = keys(b);
    keys(a).iter().any(|k| theirs.contains(k))
}

/// How one dialect spells changes. The only thing the generic planner needs from a database.
pub trait SqlRenderer {
    /// The statements that carry out one change, or why this database cannot.
    fn render(&self, change: &Change) -> Result<Vec<Statement>, Unsupported>;
    /// Whether a value added to an enum type can be used in the same transaction (PostgreSQL: no).
    fn enum_value_usable_before_commit(&self) -> bool {
        true
    }
    /// Rewrites changes the database cannot make in place (SQLite's limited ALTER TABLE) into ones
    /// it can, such as [`crate::diff::TableChange::Rebuild`]. Called on the diff before ordering.
    fn adapt(&self, changes: ChangeSet, _current: &Catalog, _desired: &Catalog) -> ChangeSet {
        changes
    }
    /// The hazards of one change as this database runs it: the locks it takes, whether it rewrites or
    /// scans the table. The default knows only what every database shares (see [`crate::safety`]).
    fn hazards(&self, change: &Change, context: &crate::safety::Context) -> Vec<crate::safety::Hazard> {
        crate::safety::default_hazards(change, context)
    }
    /// The work in proportion to table sizes that a step does, for its estimate ([`estimate`]):
    /// `step.change` in `step.form`, with the step's hazards (which say whether it rewrites). The default
    /// estimates nothing.
    fn work(&self, _step: &Step) -> Vec<estimate::Work> {
        Vec::new()
    }
}

/// One change of an ordered plan and its SQL.
#[derive(Debug, Clone)]
pub struct Step {
    pub description: String,
    pub statements: Vec<Statement>,
    /// What the step risks on a running database (stable ids, locks, live sizes where known).
    pub hazards: Vec<crate::safety::Hazard>,
    /// Expected duration on the live database ([`estimate`]); `None` when the step only changes the
    /// catalog, or nothing was measured (down plans, SQLite).
    pub estimate_ms: Option<u64>,
    pub change: Change,
    pub form: estimate::StepForm,
}

impl Step {
    /// Whether every statement of the step can run inside a transaction block.
    pub fn in_transaction_block(&self) -> bool {
        self.statements.iter().all(|statement| statement.transactional)
    }

    /// The tables the step's statements lock, each once in the strongest mode a statement states for it,
    /// in the order the statements name them.
    pub fn locks(&self) -> Vec<Lock> {
        statement::strongest(&self.statements)
    }
}

/// A step in `plan --format json`: its description, statements (as SQL), hazards, estimate, and the
/// locks its statements state ([`Step::locks`]).
impl serde::Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut step = serializer.serialize_struct("Step", 5)?;
        step.serialize_field("description", &self.description)?;
        step.serialize_field("statements", &self.statements)?;
        step.serialize_field("hazards", &self.hazards)?;
        step.serialize_field("estimate_ms", &self.estimate_ms)?;
        step.serialize_field("locks", &self.locks())?;
        step.end()
    }
}

/// An ordered, rendered plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// False when the plan cannot run inside one transaction: a new enum value used later in it, or a
    /// statement that cannot run in a transaction block ([`Statement::transactional`]).
    pub transactional: bool,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Why the plan runs statement by statement, when it does: the first step whose statement cannot run
    /// in a transaction block, else a new enum value used after it is added.
    pub fn why_no_transaction(&self) -> Option<String> {
        if self.transactional {
            return None;
        }
        Some(match self.steps.iter().find(|s| !s.in_transaction_block()) {
            Some(step) => format!("{}: its statement cannot run inside a transaction block", step.description),
            None => ENUM_VALUE_COMMIT.to_string(),
        })
    }

    pub fn statements(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().flat_map(|s| s.statements.iter().map(|statement| statement.sql.as_str()))
    }

    /// Every hazard of every step, with the step it belongs to.
    pub fn hazards(&self) -> impl Iterator<Item = (&Step, &crate::safety::Hazard)> {
        self.steps.iter().flat_map(|s| s.hazards.iter().map(move |h| (s, h)))
    }
}

/// Names the lock of every hazard that is the lock its change holds ([`crate::safety::Hazard::holds_lock_on`]),
/// from the locks the step's statements state ([`lock_text`]).
pub fn name_locks(hazards: &mut [crate::safety::Hazard], statements: &[Statement]) {
    for hazard in hazards.iter_mut().filter(|h| h.held_lock) {
        if let Some(table) = &hazard.table {
            hazard.lock = lock_text(statements, table);
        }
    }
}

/// Why a plan that uses a new enum value is not one transaction.
pub const ENUM_VALUE_COMMIT: &str =
    "a new enum value is used later in this migration, which the database allows only after a commit";

/// Orders the change set and renders every change.
pub fn build(changes: &ChangeSet, renderer: &dyn SqlRenderer) -> Result<Plan, PlanError> {
    build_from(changes.clone(), renderer)
}

/// [`build`] that consumes the change set: the changes move into the plan's steps instead of being
/// copied, which keeps one copy of a large schema's changes in memory instead of two.
pub fn build_from(changes: ChangeSet, renderer: &dyn SqlRenderer) -> Result<Plan, PlanError> {
    let positions = order_indices(&changes)?;
    let mut slots: Vec<Option<Change>> = changes.changes.into_iter().map(Some).collect();
    let ordered: Vec<Change> = positions.into_iter().filter_map(|i| slots[i].take()).collect();
    drop(slots);
    let mut transactional = true;
    if !renderer.enum_value_usable_before_commit() {
        let mut added: Vec<Key> = Vec::new();
        for change in &ordered {
            if let Change::Enum(crate::diff::EnumChange::AddValue { name, .. }) = change {
                added.push(Key::Type(name));
            } else if change.effects().needs.iter().any(|k| added.contains(k)) {
                transactional = false;
            }
        }
    }
    let context = crate::safety::Context::from_changes(&ordered);
    let steps = ordered
        .into_iter()
        .map(|change| {
            let statements = renderer.render(&change)?;
            let mut hazards = renderer.hazards(&change, &context);
            name_locks(&mut hazards, &statements);
            Ok(Step {
                description: change.describe(),
                statements,
                hazards,
                estimate_ms: None,
                change,
                form: estimate::StepForm::Plain,
            })
        })
        .collect::<Result<Vec<Step>, Unsupported>>()?;
    let transactional = transactional && steps.iter().all(Step::in_transaction_block);
    Ok(Plan { steps, transactional })
}
