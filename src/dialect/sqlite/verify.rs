//! The scratch database that verification runs migrations in (see [`crate::verify`]): a private
//! in-memory database, opened through the runner's own session setup ([`SqliteDatabase`]: foreign keys
//! off, checked before each migration is released) and introspected through the same connection.

use super::introspect;
use crate::dialect::sqlite::runner::SqliteDatabase;
use crate::model::Catalog;
use crate::verify::{Rejected, Scratch};
use anyhow::Context;
use sqlx::{AssertSqlSafe, Connection};

pub struct SqliteScratch {
    runner: SqliteDatabase,
    options: crate::runner::Options,
}

impl SqliteScratch {
    pub async fn open(options: &crate::runner::Options) -> anyhow::Result<SqliteScratch> {
        let runner = SqliteDatabase::connect("sqlite::memory:", options).await?;
        Ok(SqliteScratch { runner, options: options.clone() })
    }
}

fn message(e: &sqlx::Error) -> String {
    e.as_database_error().map_or_else(|| e.to_string(), |d| d.message().to_string())
}

impl Scratch for SqliteScratch {
    type Db = SqliteDatabase;

    async fn session(&mut self) -> anyhow::Result<&mut SqliteDatabase> {
        Ok(&mut self.runner)
    }

    async fn load(&mut self, statements: &[String]) -> anyhow::Result<Result<(), Rejected>> {
        let trouble = |e: sqlx::Error| anyhow::anyhow!("scratch database: {}", message(&e));
        let mut tx = self.runner.connection().begin().await.map_err(trouble)?;
        for statement in statements {
            if let Err(e) = sqlx::raw_sql(AssertSqlSafe(statement.clone())).execute(&mut *tx).await {
                return Ok(Err(Rejected { statement: statement.clone(), error: message(&e) }));
            }
        }
        tx.commit().await.map_err(trouble)?;
        Ok(Ok(()))
    }

    async fn reset(&mut self) -> anyhow::Result<()> {
        *self = SqliteScratch::open(&self.options).await?;
        Ok(())
    }

    async fn catalog(&mut self) -> anyhow::Result<Catalog> {
        introspect::introspect(self.runner.connection()).await.context("introspecting the scratch database")
    }
}

#[cfg(test)]
mod tests {
    //! The verification algorithm ([`crate::verify::run`]) on this in-memory scratch database, with
    //! hand-written files standing in for wrong plans: the generator's own output is verified end to end
    //! by the CLI tests.

    use super::*;
    use crate::migrations::{Direction, RenderedPair};
    use crate::runner;
    use crate::verify::{Comparison, DifferingObject, Failure, Verification, run};

    const CURRENT: &str = "CREATE TABLE t (id integer PRIMARY KEY)";
    const DESIRED: [&str; 2] =
        ["CREATE TABLE t (id integer PRIMARY KEY, note text)", "CREATE INDEX t_note ON t (note)"];

    async fn catalog_of(statements: &[&str]) -> (SqliteScratch, Catalog) {
        let mut scratch = SqliteScratch::open(&runner::Options::default()).await.expect("in-memory database");
        let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
        scratch.load(&statements).await.expect("load").expect("statements accepted");
        let catalog = scratch.catalog().await.expect("introspect");
        (scratch, catalog)
    }

    fn pair(suffix: &str, up: &str, down: &str) -> RenderedPair {
        RenderedPair {
            version: "20240101000000".into(),
            name: format!("add_note{suffix}"),
            up: up.into(),
            down: down.into(),
        }
    }

    /// Verifies `pairs` from [`CURRENT`] to [`DESIRED`].
    async fn verify(pairs: &[RenderedPair]) -> Verification {
        let (mut scratch, current) = catalog_of(&[CURRENT]).await;
        let (_, desired) = catalog_of(&DESIRED).await;
        let renderer = crate::dialect::Kind::Sqlite.renderer();
        let comparison = Comparison { renderer: renderer.as_ref(), normalize: &|_| {} };
        run(&mut scratch, pairs, &current, &desired, &comparison).await.expect("verification runs")
    }

    const UP: &str = "-- header\nALTER TABLE t ADD COLUMN note text;\nCREATE INDEX t_note ON t (note);\n";
    const DOWN: &str = "DROP INDEX t_note;\nALTER TABLE t DROP COLUMN note;\n";

    #[tokio::test]
    async fn files_that_converge_both_ways_pass() {
        let verification = verify(&[pair("", UP, DOWN)]).await;
        assert!(matches!(verification, Verification::Passed), "{verification:?}");
    }

    #[tokio::test]
    async fn a_refused_statement_is_reported_with_its_file_part_position_and_error() {
        let up = "-- header\nALTER TABLE t ADD COLUMN note text;\n\nCREATE INDEX t_note ON missing (note);\n";
        let verification = verify(&[pair("", up, DOWN)]).await;
        let Verification::Failed { failure: Failure::Statement(failure) } = &verification else {
            panic!("expected a failed statement: {verification:?}");
        };
        assert_eq!(failure.file, "20240101000000_add_note.up.sql");
        assert_eq!((failure.direction, failure.part, failure.parts), (Direction::Up, 1, 1));
        assert_eq!((failure.statement, failure.statements), (2, 2));
        assert_eq!(failure.location, "20240101000000_add_note.up.sql:4:1");
        assert_eq!(failure.sql, "CREATE INDEX t_note ON missing (note)");
        assert!(failure.error.contains("no such table"), "{failure:?}");
        assert!(!verification.allows_writing());
        let message = verification.refusal().expect("a refusal");
        assert!(message.contains("add_note.up.sql:4:1") && message.contains("ON missing"), "{message}");
    }

    #[tokio::test]
    async fn an_up_that_does_not_reach_the_declared_schema_names_the_object_and_the_changes_left() {
        let up = "ALTER TABLE t ADD COLUMN notes text;\n";
        let verification = verify(&[pair("", up, DOWN)]).await;
        let Verification::Failed { failure: Failure::Differs { direction: Direction::Up, differences } } =
            &verification
        else {
            panic!("expected the up direction to differ: {verification:?}");
        };
        assert_eq!(differences.objects, [DifferingObject { kind: "table", name: "main.t".into() }]);
        assert!(differences.changes.iter().any(|c| c.contains("note")), "{differences:?}");
        let message = verification.refusal().expect("a refusal");
        assert!(message.contains("after the up files") && message.contains("table main.t"), "{message}");
    }

    #[tokio::test]
    async fn a_down_that_runs_but_does_not_return_is_refused() {
        let verification = verify(&[pair("", UP, "DROP INDEX t_note;\n")]).await;
        let Verification::Failed { failure: Failure::Differs { direction: Direction::Down, differences } } =
            &verification
        else {
            panic!("expected the down direction to differ: {verification:?}");
        };
        assert!(differences.changes.iter().any(|c| c.contains("note")), "{differences:?}");
    }

    #[tokio::test]
    async fn down_files_run_last_part_first() {
        // Run first part first, the first down would drop the column the second part's index uses.
        let pairs = [
            pair("", "ALTER TABLE t ADD COLUMN note text;\n", "ALTER TABLE t DROP COLUMN note;\n"),
            pair("_index", "CREATE INDEX t_note ON t (note);\n", "DROP INDEX t_note;\n"),
        ];
        let verification = verify(&pairs).await;
        assert!(matches!(verification, Verification::Passed), "{verification:?}");
        let failing = [pairs[0].clone(), pair("_index", "CREATE INDEX t_note ON t (note);\n", "SELECT 1;\n")];
        let verification = verify(&failing).await;
        let Verification::Failed { failure: Failure::Statement(failure) } = &verification else {
            panic!("expected the first part's down to fail on the index left by the second: {verification:?}");
        };
        assert_eq!((failure.file.as_str(), failure.part, failure.parts), ("20240101000000_add_note.down.sql", 1, 2));
    }

    #[tokio::test]
    async fn a_transactional_file_that_ends_its_transaction_is_refused_as_the_runner_refuses_it() {
        let up = format!("BEGIN;\n{UP}COMMIT;\n");
        let verification = verify(&[pair("", &up, DOWN)]).await;
        let Verification::Failed { failure: Failure::Statement(failure) } = &verification else {
            panic!("expected a refused statement: {verification:?}");
        };
        assert_eq!(failure.statement, 1);
        assert!(failure.error.contains("BEGIN"), "{failure:?}");
    }
}
