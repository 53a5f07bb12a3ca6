//! `trawl export`.

use std::path::{Path, PathBuf};

use super::s3_args::S3Args;
use crate::Outcome;
use crate::config;

/// Arguments of `trawl export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only records matching this SQL predicate over the table's columns,
    /// e.g. "eventname = 'ConsoleLogin' AND date = DATE '2024-03-11'".
    #[arg(long = "where", value_name = "PREDICATE")]
    pub predicate: Option<String>,

    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `trawl export`.
pub fn run(lake: Option<&Path>, s3: &S3Args, args: Args) -> anyhow::Result<Outcome> {
    let lake = config::lake(lake)?;
    let rt = super::runtime()?;
    let count = rt.block_on(async {
        let ctx = trawl_query::open_session(&lake, &s3.settings()).await?;
        let mut out = super::output(args.output.as_deref())?;
        let n = trawl_query::export::export(&ctx, args.predicate.as_deref(), &mut out).await?;
        Ok::<_, anyhow::Error>(n)
    })?;
    eprintln!("exported {count} record(s)");
    Ok(Outcome::Success)
}
