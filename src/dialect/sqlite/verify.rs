//! The scratch database that verification runs migrations in (see [`crate::verify`]): a private
//! in-memory database, opened through the runner's own session setup ([`SqliteDatabase`]: foreign keys
//! off, checked before each migration is released) and introspected through the same connection.

use super::introspect;
use crate::model::Catalog;
use crate::runner::sqlite::SqliteDatabase;
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
