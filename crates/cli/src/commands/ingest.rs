//! `trawl ingest`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use trawl_ingest::{IngestOptions, Progress, Summary};

use crate::Outcome;
use crate::config;
use crate::progress_bar::Bar;

/// Arguments of `trawl ingest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files, folders (walked recursively) or glob patterns. Default: `sources` in ./trawl.toml.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// Decoding threads. Default: one per core.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Memory for rows waiting to be written, in MiB; more gives fewer, larger files.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub memory_mib: usize,

    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `trawl ingest`.
pub fn run(lake: Option<&Path>, args: Args) -> anyhow::Result<Outcome> {
    let lake = config::lake(lake)?;
    let sources = if args.sources.is_empty() {
        config::configured_sources()?
    } else {
        args.sources
    };
    if sources.is_empty() {
        bail!(
            "nothing to ingest: name files or folders, or list `sources` in {}",
            config::CONFIG_FILE
        );
    }
    let listing = trawl_ingest::list(&sources)?;
    let mut options = IngestOptions {
        memory_budget: args.memory_mib.max(16) << 20,
        ..Default::default()
    };
    if let Some(t) = args.threads {
        options.threads = t.max(1);
    }
    let progress = Arc::new(Progress::default());
    let bar = Bar::start(Arc::clone(&progress));
    let summary = trawl_ingest::ingest(&lake, listing, &options, &progress)
        .with_context(|| format!("ingesting into {}", lake.root().display()))?;
    drop(bar);

    for p in &summary.problems {
        eprintln!("refused: {}", p.describe());
    }
    if args.json {
        println!("{}", summary_json(&summary));
    } else {
        print_summary(&summary, lake.root());
    }
    Ok(if summary.is_complete() {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}

fn summary_json(s: &Summary) -> serde_json::Value {
    serde_json::json!({
        "run_id": s.run_id,
        "files_read": s.files_read,
        "files_with_problems": s.files_with_problems(),
        "digests_skipped": s.digests_skipped,
        "other_files_skipped": s.others_skipped,
        "bytes_read": s.bytes_read,
        "events_written": s.events_written,
        "duplicates_dropped": s.duplicates_dropped,
        "records_quarantined": s.records_quarantined,
        "quarantine_file": s.quarantine_file,
        "partitions_touched": s.partitions.len(),
        "parquet_files_written": s.files_written,
        "seconds": s.elapsed.as_secs_f64(),
        "problems": s.problems.iter().map(|p| p.describe()).collect::<Vec<_>>(),
    })
}

fn print_summary(s: &Summary, lake: &Path) {
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    println!("ingested into {} (run {})", lake.display(), s.run_id);
    println!(
        "  files:      {} read, {} with problems, {} digest and {} other files skipped",
        s.files_read,
        s.files_with_problems(),
        s.digests_skipped,
        s.others_skipped
    );
    println!(
        "  events:     {} written, {} duplicate deliveries dropped, {} quarantined",
        s.events_written, s.duplicates_dropped, s.records_quarantined
    );
    println!(
        "  partitions: {} touched, {} Parquet files written",
        s.partitions.len(),
        s.files_written
    );
    println!(
        "  time:       {:.2}s, {:.0} events/s, {:.1} MB/s read",
        secs,
        s.events_written as f64 / secs,
        s.bytes_read as f64 / secs / 1e6
    );
    if let Some(q) = &s.quarantine_file {
        println!("  quarantine: {}", q.display());
    }
}
