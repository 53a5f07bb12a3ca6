//! `trawl query`.

use std::path::{Path, PathBuf};

use trawl_query::exec::{execute_statement, footer};
use trawl_query::saved::{PrepareError, Window, parse_assignments, prepare};

use super::results::ResultArgs;
use super::s3_args::S3Args;
use crate::{Outcome, UsageError, config};

/// Arguments of `trawl query`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The saved query, e.g. `cis/root-account-use` (or just `root-account-use`).
    #[arg(value_name = "NAME")]
    pub name: String,

    /// A parameter of the query (repeatable); `trawl queries NAME` lists them.
    #[arg(short, long = "param", value_name = "K=V")]
    pub params: Vec<String>,

    /// Start of the window: a day (2024-03-11), a time (RFC 3339) or a span back from now
    /// (24h, 7d). Default: the beginning of the lake.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// End of the window (excluded; a bare day is included whole). Default: no end.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    #[command(flatten)]
    pub results: ResultArgs,
}

/// Runs `trawl query`.
pub fn run(
    lake: Option<&Path>,
    s3: &S3Args,
    query_dirs: &[PathBuf],
    args: Args,
) -> anyhow::Result<Outcome> {
    let lake = config::lake(lake)?;
    let (catalog, _) = super::catalog(query_dirs)?;
    let query = catalog.get(&args.name).map_err(UsageError)?;
    let params = parse_assignments(&args.params).map_err(UsageError)?;
    let all = Window::all();
    let window = super::window(
        args.since.as_deref(),
        args.until.as_deref(),
        all.since,
        all.until,
    )?;
    let statement = prepare(query, &params, window).map_err(|e| match e {
        PrepareError::Param(p) => anyhow::Error::new(UsageError(p.to_string())),
        other => other.into(),
    })?;
    let options = args.results.print_options();
    let mut out = args.results.writer()?;
    let done = super::runtime()?.block_on(async {
        let ctx = trawl_query::open_session(&lake, &s3.settings()).await?;
        let done = execute_statement(&ctx, statement, &options, &mut out).await?;
        out.flush()?;
        Ok::<_, anyhow::Error>(done)
    })?;
    if !args.results.quiet {
        eprintln!("{}", footer(&done));
    }
    Ok(Outcome::Success)
}
