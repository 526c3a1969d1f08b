//! `schema inspect`: print DDL for the live database, to start schema files from an existing database.

use crate::pipeline;
use crate::settings::Settings;
use anyhow::Result;

pub async fn run(settings: &Settings) -> Result<i32> {
    let (ddl, unmanaged) = pipeline::inspect(settings).await?;
    super::warn_unmanaged(&unmanaged);
    super::emit(&ddl);
    Ok(0)
}
