//! `trawl generate`.

use std::path::PathBuf;

use std::io::Write;

use anyhow::Context;
use chrono::NaiveDate;

use crate::Outcome;

/// Arguments of `trawl generate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder; CloudTrail's `AWSLogs/…` tree and `_manifest.json` are written inside.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Records to generate in all (at least the planted ones).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub events: u64,

    /// Seed: the same seed gives the same files.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,

    /// First UTC day.
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2024-03-01")]
    pub start: NaiveDate,

    /// Number of days.
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub days: u32,
}

/// Runs `trawl generate`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let options = trawl_synth::Options {
        out: args.out.clone(),
        events: args.events,
        seed: args.seed,
        start: args.start,
        days: args.days,
    };
    let started = std::time::Instant::now();
    let m = trawl_synth::generate(&options).context("generating CloudTrail files")?;
    writeln!(
        std::io::stdout(),
        "generated {} records in {} files ({} Insight, {} digest) over {} partitions in {:.1}s; manifest: {}",
        m.events,
        m.files,
        m.insight_files,
        m.digest_files,
        m.partitions.len(),
        started.elapsed().as_secs_f64(),
        args.out.join("_manifest.json").display()
    )?;
    Ok(Outcome::Success)
}
