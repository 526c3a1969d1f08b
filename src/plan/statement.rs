//! One SQL statement of a plan and the facts known where it was written: whether it runs long, whether it
//! can run in a transaction block, and the table locks it takes. Nothing here is guessed back from the
//! statement's text; the dialect that writes the SQL states them.

use crate::model::QualifiedName;
use serde::Serialize;

/// One SQL statement of a plan, with what is known about it where it was written (never guessed back
/// from its text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement, ending in `;`.
    pub sql: String,
    /// Runs long without blocking the application (a concurrent index build, a validation, a backfill),
    /// rather than holding a blocking lock briefly: outside a transaction it gets the online statement
    /// timeout instead of the one for blocking statements.
    pub long_running: bool,
    /// Can run inside a transaction block. `CREATE INDEX CONCURRENTLY` and a backfill that commits after
    /// every batch cannot: a plan or part holding one runs statement by statement.
    pub transactional: bool,
    /// The table locks the statement takes on tables, views and sequences that exist before it runs,
    /// from the weakest mode that keeps other sessions from changing the table's definition up (weaker
    /// ones are what the application's own queries take), when it runs as planned: a guard that drops
    /// what a failed run left behind takes nothing on a first run and states nothing. What the database
    /// locks along with a table (its inheritance children and partitions, the sequences of its identity
    /// and serial columns) is not listed.
    pub locks: Vec<Lock>,
}

/// A table lock one statement takes. In JSON: `{"mode": "ACCESS EXCLUSIVE", "blocks": "reads_and_writes",
/// "table": {"schema": "public", "name": "t"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lock {
    #[serde(flatten)]
    pub mode: LockMode,
    pub table: QualifiedName,
}

/// A lock mode as its database names it, with its place among that database's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LockMode {
    /// Higher conflicts with more: of two modes on one table, the higher is what the table is held in.
    #[serde(skip)]
    pub strength: u8,
    /// `ACCESS EXCLUSIVE`, `SHARE UPDATE EXCLUSIVE`, …
    #[serde(rename = "mode")]
    pub name: &'static str,
    /// What the lock keeps the application's own queries from doing while it is held or waited for.
    pub blocks: Blocks,
}

/// What a lock keeps the application's queries from doing while it is held, or while it waits in the
/// queue in front of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Blocks {
    /// Reads and writes go on; only other schema changes and maintenance wait.
    SchemaChanges,
    /// Reads go on; writes wait.
    Writes,
    /// Reads and writes wait.
    ReadsAndWrites,
}

impl Statement {
    /// A statement that takes its lock briefly: most DDL.
    pub fn locking(sql: impl Into<String>) -> Statement {
        Statement { sql: sql.into(), long_running: false, transactional: true, locks: Vec::new() }
    }

    /// A statement that runs long without blocking the application.
    pub fn long_running(sql: impl Into<String>) -> Statement {
        Statement { sql: sql.into(), long_running: true, transactional: true, locks: Vec::new() }
    }

    /// A statement that runs long and must not run inside a transaction block (a concurrent index build
    /// or drop, a backfill that commits its batches).
    pub fn outside_transaction(sql: impl Into<String>) -> Statement {
        Statement { sql: sql.into(), long_running: true, transactional: false, locks: Vec::new() }
    }

    /// Each of `sql` as a [`Statement::locking`].
    pub fn all_locking(sql: Vec<String>) -> Vec<Statement> {
        sql.into_iter().map(Statement::locking).collect()
    }

    /// The statement, stating that it takes `mode` on `table`. A table is listed once, in the stronger of
    /// the modes stated for it.
    pub fn taking(mut self, mode: LockMode, table: &QualifiedName) -> Statement {
        hold(&mut self.locks, &Lock { mode, table: table.clone() });
        self
    }

    /// The mode the statement holds `table` in, when it locks it.
    pub fn lock_on(&self, table: &QualifiedName) -> Option<LockMode> {
        self.locks.iter().filter(|l| &l.table == table).map(|l| l.mode).max()
    }
}

/// The locks a step's statements hold on `table`, as a hazard names them: `ACCESS EXCLUSIVE on public.t`.
/// The other tables those statements lock follow, each in its strongest mode and in the order the
/// statements name them, with tables held in the same mode joined: `SHARE ROW EXCLUSIVE on public.t and
/// public.r`, `ACCESS EXCLUSIVE on public.c, SHARE UPDATE EXCLUSIVE on public.p`. `None` when no
/// statement locks `table`.
pub fn lock_text(statements: &[Statement], table: &QualifiedName) -> Option<String> {
    let mut held = strongest(statements.iter().filter(|s| s.lock_on(table).is_some()));
    let first = held.iter().position(|l| &l.table == table)?;
    let first = held.remove(first);
    let mut groups: Vec<(LockMode, Vec<&QualifiedName>)> = vec![(first.mode, vec![table])];
    for lock in &held {
        match groups.last_mut() {
            Some((last, tables)) if *last == lock.mode => tables.push(&lock.table),
            _ => groups.push((lock.mode, vec![&lock.table])),
        }
    }
    let text: Vec<String> = groups
        .into_iter()
        .map(|(mode, tables)| {
            let tables: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
            format!("{} on {}", mode.name, tables.join(" and "))
        })
        .collect();
    Some(text.join(", "))
}

/// The tables `statements` lock, each once in the strongest mode stated for it, in the order they are named.
pub fn strongest<'a>(statements: impl IntoIterator<Item = &'a Statement>) -> Vec<Lock> {
    let mut held = Vec::new();
    for lock in statements.into_iter().flat_map(|s| &s.locks) {
        hold(&mut held, lock);
    }
    held
}

/// Adds `lock` to `held`, or raises the mode `held` has for its table.
fn hold(held: &mut Vec<Lock>, lock: &Lock) {
    match held.iter_mut().find(|l| l.table == lock.table) {
        Some(l) => l.mode = l.mode.max(lock.mode),
        None => held.push(lock.clone()),
    }
}

/// Plans serialize (`plan --format json`) each statement as its SQL, as before statements had facts.
impl serde::Serialize for Statement {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.sql)
    }
}

impl std::fmt::Display for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sql)
    }
}

impl std::borrow::Borrow<str> for Statement {
    fn borrow(&self) -> &str {
        &self.sql
    }
}

impl std::ops::Deref for Statement {
    type Target = str;
    fn deref(&self) -> &str {
        &self.sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARE_UPDATE_EXCLUSIVE: LockMode =
        LockMode { strength: 4, name: "SHARE UPDATE EXCLUSIVE", blocks: Blocks::SchemaChanges };
    const SHARE_ROW_EXCLUSIVE: LockMode = LockMode { strength: 6, name: "SHARE ROW EXCLUSIVE", blocks: Blocks::Writes };
    const ACCESS_EXCLUSIVE: LockMode =
        LockMode { strength: 8, name: "ACCESS EXCLUSIVE", blocks: Blocks::ReadsAndWrites };

    fn name(n: &str) -> QualifiedName {
        QualifiedName::new("public", n)
    }

    #[test]
    fn a_hazard_names_the_strongest_lock_on_its_table_then_the_other_tables_of_those_statements() {
        let (t, r, p, u) = (name("t"), name("r"), name("p"), name("u"));
        let fk = Statement::locking("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY …;")
            .taking(SHARE_ROW_EXCLUSIVE, &t)
            .taking(SHARE_ROW_EXCLUSIVE, &r);
        assert_eq!(
            lock_text(std::slice::from_ref(&fk), &t).as_deref(),
            Some("SHARE ROW EXCLUSIVE on public.t and public.r")
        );

        let statements = [
            Statement::locking("ALTER TABLE u …;").taking(ACCESS_EXCLUSIVE, &u),
            Statement::long_running("ALTER TABLE t VALIDATE …;").taking(SHARE_UPDATE_EXCLUSIVE, &t),
            Statement::locking("ALTER TABLE t INHERIT p;")
                .taking(ACCESS_EXCLUSIVE, &t)
                .taking(SHARE_UPDATE_EXCLUSIVE, &p),
        ];
        // The statement on `u` does not lock `t`: it is not named.
        assert_eq!(
            lock_text(&statements, &t).as_deref(),
            Some("ACCESS EXCLUSIVE on public.t, SHARE UPDATE EXCLUSIVE on public.p")
        );
        assert_eq!(lock_text(&statements, &r), None);
    }

    #[test]
    fn a_table_stated_twice_is_listed_once_in_the_stronger_mode() {
        let t = name("t");
        let self_reference = Statement::locking("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES t …;")
            .taking(SHARE_ROW_EXCLUSIVE, &t)
            .taking(SHARE_ROW_EXCLUSIVE, &t);
        assert_eq!(self_reference.locks, [Lock { mode: SHARE_ROW_EXCLUSIVE, table: t.clone() }]);
        let raised = self_reference.taking(ACCESS_EXCLUSIVE, &t).taking(SHARE_UPDATE_EXCLUSIVE, &t);
        assert_eq!(raised.locks, [Lock { mode: ACCESS_EXCLUSIVE, table: t.clone() }]);
        assert_eq!(lock_text(std::slice::from_ref(&raised), &t).as_deref(), Some("ACCESS EXCLUSIVE on public.t"));
    }
}
