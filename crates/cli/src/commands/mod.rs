//! One module per subcommand, each with its arguments and one `run`.

pub mod export;
pub mod generate;
pub mod ingest;
pub mod sql;

use crate::Outcome;
use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let lake = cli.lake.as_deref();
    match cli.command {
        Command::Ingest(args) => ingest::run(lake, args),
        Command::Sql(args) => sql::run(lake, args),
        Command::Export(args) => export::run(lake, args),
        Command::Generate(args) => generate::run(args),
    }
}

/// A Tokio runtime for the commands that query.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
