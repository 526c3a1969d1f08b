//! PostgreSQL's table lock modes (the "Table-Level Lock Modes" of its documentation), as the renderers
//! state them on the statements they write ([`crate::plan::Statement::taking`]). Which statement takes
//! which mode was read from `pg_locks` after running each statement in a transaction; the test
//! `locks::every_statement_states_the_locks_postgresql_takes` checks it on every plan it builds.

use crate::plan::{Blocks, LockMode};

/// `VALIDATE CONSTRAINT`, `CREATE INDEX CONCURRENTLY`, `ATTACH PARTITION` (on the parent), comments,
/// statistics targets and most storage parameters: reads and writes go on.
pub const SHARE_UPDATE_EXCLUSIVE: LockMode =
    LockMode { strength: 4, name: "SHARE UPDATE EXCLUSIVE", blocks: Blocks::SchemaChanges };
/// `CREATE INDEX`: writes wait for the whole build.
pub const SHARE: LockMode = LockMode { strength: 5, name: "SHARE", blocks: Blocks::Writes };
/// `ADD FOREIGN KEY` (on both tables), `CREATE TRIGGER`, `ALTER SEQUENCE`: writes wait.
pub const SHARE_ROW_EXCLUSIVE: LockMode = LockMode { strength: 6, name: "SHARE ROW EXCLUSIVE", blocks: Blocks::Writes };
/// Most of `ALTER TABLE`, `DROP`, `RENAME`, policies: reads and writes wait.
pub const ACCESS_EXCLUSIVE: LockMode =
    LockMode { strength: 8, name: "ACCESS EXCLUSIVE", blocks: Blocks::ReadsAndWrites };
