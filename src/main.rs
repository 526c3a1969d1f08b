//! The `schema` binary: parse arguments, resolve settings, dispatch, map the outcome to an exit code
//! (0 success / no differences, 1 differences found, 2 trouble).

use clap::Parser;
use schema::cli::{self, Cli, Command};

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let outcome = runtime.block_on(async {
        let settings = cli::resolve(&cli.global)?;
        match &cli.command {
            Command::Generate(args) => cli::generate::run(&settings, args).await,
            Command::Plan(args) => cli::plan::run(&settings, args).await,
            Command::Inspect => cli::inspect::run(&settings).await,
            Command::Drift(args) => cli::drift::run(&settings, args).await,
            Command::Diff(args) => cli::diff::run(&settings, args).await,
            Command::Apply(args) => cli::apply::run(&settings, args).await,
            Command::Migrate(args) => cli::migrate::run(&settings, args).await,
            Command::Lint(args) => cli::lint::run(&settings, args),
            Command::Fleet(args) => cli::fleet::run(&settings, args).await,
        }
    });
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
