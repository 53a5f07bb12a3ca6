//! `trawl compact`.

use std::io::Write;
use std::path::Path;

use trawl_ingest::{CompactOptions, Target};
use trawl_lake::lock::Wait;
use trawl_lake::run_log::{self, RunRecord};
use trawl_lake::time_arg::{self, Edge};

use super::s3_args::S3Args;
use crate::{Outcome, UsageError, config};

/// Arguments of `trawl compact`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only partitions whose day is older than this span or before this day (2d, 2024-03-01),
    /// so days still receiving events are left alone. Default: every partition.
    #[arg(long, value_name = "WHEN")]
    pub older_than: Option<String>,

    /// If another ingest or compact is writing to the lake, wait for it instead of exiting.
    #[arg(long)]
    pub wait: bool,

    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `trawl compact`.
pub fn run(lake: Option<&Path>, s3: &S3Args, args: Args) -> anyhow::Result<Outcome> {
    let target = Target::open(config::lake(lake)?, &s3.settings())?;
    let started = chrono::Utc::now();
    let before = args
        .older_than
        .as_deref()
        .map(|t| {
            time_arg::parse_instant(t, started, Edge::Start)
                .map(|at| at.date_naive())
                .map_err(|e| UsageError(format!("--older-than: {e}")))
        })
        .transpose()?;
    let wait = if args.wait { Wait::Yes } else { Wait::No };
    let access = target.open_for_writing("trawl compact", wait, |holder| {
        eprintln!("waiting: another trawl is writing to this lake ({holder})")
    })?;
    super::ingest::report_recovery(&access);
    let result = target.compact(&access, CompactOptions { before });
    let secs =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut record = RunRecord {
        version: run_log::VERSION,
        run_id: format!("{}-compact", trawl_ingest::run::new_run_id()),
        command: "compact".into(),
        started: secs(started),
        ended: secs(chrono::Utc::now()),
        exit_code: i32::from(result.is_err()),
        error: result.as_ref().err().map(ToString::to_string),
        ..RunRecord::default()
    };
    if let Ok(s) = &result {
        record.files_before = s.files_before;
        record.files_after = s.files_after;
        record.events_written = s.rows;
    }
    if let Err(e) = target.log_run(&record) {
        eprintln!("warning: the run log was not written: {e}");
    }
    let s = result?;
    drop(access);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "partitions_seen": s.partitions_seen,
                "partitions_compacted": s.partitions_compacted,
                "files_before": s.files_before,
                "files_after": s.files_after,
                "rows": s.rows,
                "duplicates_dropped": s.duplicates_dropped,
            })
        )?;
    } else {
        writeln!(
            out,
            "compacted {} of {} partitions: {} files became {}; {} rows kept, {} duplicate \
             deliveries dropped",
            s.partitions_compacted,
            s.partitions_seen,
            s.files_before,
            s.files_after,
            s.rows,
            s.duplicates_dropped
        )?;
    }
    Ok(Outcome::Success)
}
