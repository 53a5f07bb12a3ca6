//! One module per subcommand, each with its arguments and one `run`.

pub mod check;
pub mod compact;
pub mod ddl;
pub mod export;
pub mod generate;
pub mod ingest;
pub mod queries;
pub mod query;
pub mod results;
pub mod s3_args;
pub mod sql;
pub mod status;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use trawl_lake::time_arg::{self, Edge};
use trawl_query::saved::{Catalog, Window};

use crate::cli::{Cli, Command};
use crate::config;
use crate::{Outcome, UsageError};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let lake = cli.lake.as_deref();
    match cli.command {
        Command::Ingest(args) => ingest::run(lake, &cli.s3, args),
        Command::Sql(args) => sql::run(lake, &cli.s3, &cli.queries, args),
        Command::Queries(args) => queries::run(&cli.queries, args),
        Command::Query(args) => query::run(lake, &cli.s3, &cli.queries, args),
        Command::Check(args) => check::run(lake, &cli.s3, &cli.queries, args),
        Command::Compact(args) => compact::run(lake, &cli.s3, args),
        Command::Status(args) => status::run(lake, &cli.s3, args),
        Command::Export(args) => export::run(lake, &cli.s3, args),
        Command::Ddl(args) => ddl::run(lake, args),
        Command::Generate(args) => generate::run(args),
    }
}

/// The saved queries: built in, then the user's folders. Files that cannot be read are
/// reported on stderr and left out; the count of them is returned too.
pub fn catalog(flags: &[PathBuf]) -> anyhow::Result<(Catalog, usize)> {
    let dirs = config::query_dirs(flags)?;
    let (catalog, errors) = Catalog::load(&dirs);
    for e in &errors {
        eprintln!("warning: saved query left out: {e}");
    }
    Ok((catalog, errors.len()))
}

/// Where results go: the file of `-o`, else stdout.
pub fn output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}

/// The window of `--since`/`--until`, each defaulting as given.
pub fn window(
    since: Option<&str>,
    until: Option<&str>,
    default_since: DateTime<Utc>,
    default_until: DateTime<Utc>,
) -> Result<Window, UsageError> {
    let now = Utc::now();
    let at = |text: Option<&str>, edge, default, flag| match text {
        Some(t) => {
            time_arg::parse_instant(t, now, edge).map_err(|e| UsageError(format!("{flag}: {e}")))
        }
        None => Ok(default),
    };
    let window = Window {
        since: at(since, Edge::Start, default_since, "--since")?,
        until: at(until, Edge::End, default_until, "--until")?,
    };
    if window.since >= window.until {
        return Err(UsageError(format!(
            "the window is empty: --since {} is not before --until {}",
            window.since, window.until
        )));
    }
    Ok(window)
}

/// A Tokio runtime for the commands that query.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
