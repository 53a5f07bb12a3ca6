//! `trawl ingest`.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use trawl_ingest::{IngestOptions, Progress, Summary};

use trawl_ingest::{Access, DeliveryWindow, Listing, Target};
use trawl_lake::lock::Wait;
use trawl_lake::run_log::{self, RunRecord};
use trawl_lake::s3::S3Url;
use trawl_lake::time_arg::{self, Edge};

use super::s3_args::S3Args;
use crate::config;
use crate::progress_bar::Bar;
use crate::{Outcome, UsageError};

/// Arguments of `trawl ingest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files, folders (walked recursively), glob patterns, or `s3://bucket/prefix/` (listed
    /// folder by folder in CloudTrail's layout). Default: `sources` in ./trawl.toml.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// Objects fetched at once from S3.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,

    /// Decoding threads. Default: one per core.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Memory for rows waiting to be written, in MiB; more gives fewer, larger files.
    #[arg(long, value_name = "MIB", default_value_t = 128)]
    pub memory_mib: usize,

    /// Only list CloudTrail date folders (`…/CloudTrail/<region>/YYYY/MM/DD/`) delivered on or
    /// after this day: a day (2024-03-11) or a span back from now (2d). For nightly runs over
    /// long histories; files already in the lake are skipped either way.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// Only list date folders delivered on or before this day.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// If another ingest or compact is writing to the lake, wait for it instead of exiting.
    #[arg(long)]
    pub wait: bool,

    /// Before ingesting, rebuild the ledger of what the lake holds: damaged ledger records are
    /// moved to _trawl/ledger-damaged/, and each listed source whose events are all in the lake
    /// is recorded as held. Run `trawl compact` afterwards to drop events stored twice.
    #[arg(long)]
    pub rebuild_ledger: bool,

    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `trawl ingest`.
pub fn run(lake: Option<&Path>, s3: &S3Args, args: Args) -> anyhow::Result<Outcome> {
    let target = Target::open(config::lake(lake)?, &s3.settings())?;
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
    let started = chrono::Utc::now();
    let window = delivery_window(args.since.as_deref(), args.until.as_deref())?;
    let wait = if args.wait { Wait::Yes } else { Wait::No };
    let rebuild = if args.rebuild_ledger {
        Some(target.local("--rebuild-ledger")?)
    } else {
        None
    };
    let access = target.open_for_writing("trawl ingest", wait, |holder| {
        eprintln!("waiting: another trawl is writing to this lake ({holder})")
    })?;
    report_recovery(&access);
    let mut listing = list_sources(&sources, window, s3, args.concurrency)?;
    let threads = args
        .threads
        .unwrap_or_else(|| IngestOptions::default().threads)
        .max(1);
    if let Some(lake) = rebuild {
        let r = trawl_ingest::rebuild::rebuild_ledger(lake, &listing, threads)?;
        for p in &r.moved_aside {
            eprintln!("moved a damaged ledger record aside: {}", p.display());
        }
        eprintln!(
            "ledger rebuilt from {} events in the lake: {} listed source files held, {} to ingest",
            r.events_in_lake, r.sources_held, r.sources_missing
        );
    }
    let ledger = target.ledger()?;
    listing.skip_held(&ledger);
    let mut options = IngestOptions {
        memory_budget: args.memory_mib.max(16) << 20,
        ..Default::default()
    };
    options.threads = threads;
    options.concurrency = args.concurrency.max(1);
    let progress = Arc::new(Progress::default());
    let bar = Bar::start(Arc::clone(&progress));
    let result = target.ingest(&access, listing, &options, &progress);
    drop(bar);
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            log_run(&target, started, None, Some(&e.to_string()), 1);
            return Err(e).with_context(|| format!("ingesting into {}", target.show()));
        }
    };
    let outcome = if summary.is_complete() {
        Outcome::Success
    } else {
        Outcome::Partial
    };
    log_run(&target, started, Some(&summary), None, outcome.exit_code());
    drop(access);

    for p in &summary.problems {
        eprintln!("refused: {}", p.describe());
    }
    if args.json {
        writeln!(std::io::stdout(), "{}", summary_json(&summary))?;
    } else {
        print_summary(&summary, &target.show())?;
    }
    Ok(outcome)
}

/// Lists local sources and `s3://` ones.
fn list_sources(
    sources: &[String],
    window: DeliveryWindow,
    s3: &S3Args,
    concurrency: usize,
) -> anyhow::Result<Listing> {
    let (remote, local): (Vec<&String>, Vec<&String>) =
        sources.iter().partition(|s| S3Url::parse(s).is_some());
    let local: Vec<String> = local.into_iter().cloned().collect();
    let mut listing = if local.is_empty() {
        Listing::default()
    } else {
        trawl_ingest::list(&local, window)?
    };
    if remote.is_empty() {
        return Ok(listing);
    }
    let settings = s3.settings();
    let rt = super::runtime()?;
    for source in remote {
        let url = S3Url::parse(source).expect("partitioned on this");
        let store = trawl_lake::s3::store(&url.bucket, &settings)?;
        rt.block_on(trawl_ingest::remote::list(
            &url,
            store,
            window,
            concurrency,
            &mut listing,
        ))?;
    }
    listing.sort_and_dedup();
    Ok(listing)
}

/// The delivery days of `--since`/`--until`.
fn delivery_window(since: Option<&str>, until: Option<&str>) -> Result<DeliveryWindow, UsageError> {
    let now = chrono::Utc::now();
    let day = |text: Option<&str>, edge, flag| {
        text.map(|t| {
            time_arg::parse_instant(t, now, edge).map_err(|e| UsageError(format!("{flag}: {e}")))
        })
        .transpose()
    };
    Ok(DeliveryWindow {
        since: day(since, Edge::Start, "--since")?.map(|t| t.date_naive()),
        // A bare day as the end takes that whole day: the instant is the next midnight.
        until: day(until, Edge::End, "--until")?
            .map(|t| (t - chrono::TimeDelta::nanoseconds(1)).date_naive()),
    })
}

/// Tells what recovery of an interrupted writer did.
pub fn report_recovery(access: &Access) {
    if let Some(holder) = access.took_over() {
        eprintln!("took over the lease of a writer that stopped: {holder}");
    }
    let r = access.recovered();
    if !r.rolled_forward.is_empty() {
        eprintln!(
            "finished committed work an interrupted writer left: {}",
            r.rolled_forward.join(", ")
        );
    }
    if !r.rolled_back.is_empty() {
        eprintln!(
            "removed uncommitted work an interrupted writer left: {}",
            r.rolled_back.join(", ")
        );
    }
}

fn log_run(
    target: &Target,
    started: chrono::DateTime<chrono::Utc>,
    summary: Option<&Summary>,
    error: Option<&str>,
    exit_code: i32,
) {
    let secs =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut record = RunRecord {
        version: run_log::VERSION,
        run_id: summary.map_or_else(trawl_ingest::run::new_run_id, |s| s.run_id.clone()),
        command: "ingest".into(),
        started: secs(started),
        ended: secs(chrono::Utc::now()),
        exit_code,
        error: error.map(String::from),
        ..RunRecord::default()
    };
    if let Some(s) = summary {
        record.files_read = s.files_read;
        record.files_unchanged = s.files_unchanged;
        record.files_rejected = s.files_with_problems() as u64;
        record.listings = s.listings;
        record.events_written = s.events_written;
        record.records_quarantined = s.records_quarantined;
        record.files_after = s.files_written;
    }
    if let Err(e) = target.log_run(&record) {
        eprintln!("warning: the run log was not written: {e}");
    }
}

fn summary_json(s: &Summary) -> serde_json::Value {
    serde_json::json!({
        "run_id": s.run_id,
        "files_read": s.files_read,
        "files_with_problems": s.files_with_problems(),
        "digests_skipped": s.digests_skipped,
        "other_files_skipped": s.others_skipped,
        "files_unchanged": s.files_unchanged,
        "listings": s.listings,
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

fn print_summary(s: &Summary, lake: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    writeln!(out, "ingested into {lake} (run {})", s.run_id)?;
    writeln!(
        out,
        "  files:      {} read, {} with problems, {} already in the lake, {} digest and {} \
         other files skipped ({} folder listings)",
        s.files_read,
        s.files_with_problems(),
        s.files_unchanged,
        s.digests_skipped,
        s.others_skipped,
        s.listings
    )?;
    writeln!(
        out,
        "  events:     {} written, {} duplicate deliveries dropped, {} quarantined",
        s.events_written, s.duplicates_dropped, s.records_quarantined
    )?;
    writeln!(
        out,
        "  partitions: {} touched, {} Parquet files written",
        s.partitions.len(),
        s.files_written
    )?;
    writeln!(
        out,
        "  time:       {:.2}s, {:.0} events/s, {:.1} MB/s read",
        secs,
        s.events_written as f64 / secs,
        s.bytes_read as f64 / secs / 1e6
    )?;
    if let Some(q) = &s.quarantine_file {
        writeln!(out, "  quarantine: {}", q.display())?;
    }
    Ok(())
}
