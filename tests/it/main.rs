//! The integration tests: one binary, so the crate is linked once and one throwaway PostgreSQL cluster
//! serves every test of a run (see `schema::testkit`). One module per area; `support` holds what
//! several of them share.

mod cli;
mod drift;
mod errors;
mod estimates;
mod example;
mod existing_rows;
mod expand_contract;
mod fleet;
mod layout;
mod locks;
mod pg_access;
mod pg_introspect;
mod pg_program;
mod pg_types;
mod progress;
mod renames_probable;
mod roundtrip;
mod runner;
mod runner_sqlite;
mod safe_rewrites;
mod safety;
mod safety_cli;
mod scratch_load;
mod sqlite_example;
mod sqlite_roundtrip;
mod support;
mod testkit;
