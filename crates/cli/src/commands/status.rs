//! `trawl status`.

use std::io::Write;
use std::path::Path;

use chrono::DateTime;
use comfy_table::{ContentArrangement, Table, presets};
use serde_json::json;
use trawl_ingest::Target;
use trawl_ingest::status::LakeStatus;

use super::s3_args::S3Args;
use crate::{Outcome, config};

/// Arguments of `trawl status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// table, or json for monitoring.
    #[arg(long, value_name = "F", default_value = "table", value_parser = ["table", "json"])]
    pub format: String,

    /// Also list every partition (region, date, files, rows, bytes).
    #[arg(long)]
    pub partitions: bool,

    /// Runs of the run log to show.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub runs: usize,
}

/// Runs `trawl status`.
pub fn run(lake: Option<&Path>, s3: &S3Args, args: Args) -> anyhow::Result<Outcome> {
    let target = Target::open(config::lake(lake)?, &s3.settings())?;
    let s = target.status(args.runs)?;
    if args.format == "json" {
        writeln!(std::io::stdout(), "{}", as_json(&s))?;
    } else {
        print_tables(&s, &target.show(), args.partitions)?;
    }
    for p in &s.problems {
        eprintln!("problem: {p}");
    }
    if s.problems.is_empty() {
        Ok(Outcome::Success)
    } else {
        anyhow::bail!(
            "{} problem(s) reading the lake (listed above)",
            s.problems.len()
        )
    }
}

fn time(micros: Option<i64>) -> Option<String> {
    micros
        .and_then(DateTime::from_timestamp_micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn as_json(s: &LakeStatus) -> serde_json::Value {
    json!({
        "regions": s.by_region().iter().map(|r| json!({
            "region": r.region,
            "partitions": r.partitions,
            "files": r.files,
            "rows": r.rows,
            "bytes": r.bytes,
            "first_date": r.first_date,
            "last_date": r.last_date,
            "newest_event": time(r.newest_micros),
        })).collect::<Vec<_>>(),
        "partitions": s.partitions.iter().map(|p| json!({
            "region": p.region,
            "date": p.date,
            "files": p.files,
            "rows": p.rows,
            "bytes": p.bytes,
            "newest_event": time(p.newest_micros),
        })).collect::<Vec<_>>(),
        "runs": s.runs.iter().map(|r| json!({
            "run_id": r.run_id,
            "command": r.command,
            "started": r.started,
            "ended": r.ended,
            "exit_code": r.exit_code,
            "files_read": r.files_read,
            "files_unchanged": r.files_unchanged,
            "files_rejected": r.files_rejected,
            "events_written": r.events_written,
            "records_quarantined": r.records_quarantined,
            "files_before": r.files_before,
            "files_after": r.files_after,
            "error": r.error,
        })).collect::<Vec<_>>(),
        "quarantine": s.quarantine.iter().map(|(f, n)| json!({"file": f, "records": n})).collect::<Vec<_>>(),
        "sources_held": s.sources_held,
        "problems": s.problems,
    })
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

fn print_tables(s: &LakeStatus, root: &str, partitions: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "lake {root}: {} source files held", s.sources_held)?;
    let mut t = table(&[
        "region",
        "days",
        "files",
        "rows",
        "MB",
        "first day",
        "last day",
        "newest event",
    ]);
    for r in s.by_region() {
        t.add_row(vec![
            r.region.clone(),
            r.partitions.to_string(),
            r.files.to_string(),
            r.rows.to_string(),
            format!("{:.1}", r.bytes as f64 / 1e6),
            r.first_date.clone(),
            r.last_date.clone(),
            time(r.newest_micros).unwrap_or_default(),
        ]);
    }
    writeln!(out, "{t}")?;
    if partitions {
        let mut t = table(&["region", "date", "files", "rows", "MB"]);
        for p in &s.partitions {
            t.add_row(vec![
                p.region.clone(),
                p.date.clone(),
                p.files.to_string(),
                p.rows.to_string(),
                format!("{:.1}", p.bytes as f64 / 1e6),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    let mut t = table(&[
        "run",
        "command",
        "started",
        "ended",
        "read",
        "unchanged",
        "events",
        "rejected",
        "exit",
    ]);
    for r in &s.runs {
        t.add_row(vec![
            r.run_id.clone(),
            r.command.clone(),
            r.started.clone(),
            r.ended.clone(),
            r.files_read.to_string(),
            r.files_unchanged.to_string(),
            r.events_written.to_string(),
            r.files_rejected.to_string(),
            r.exit_code.to_string(),
        ]);
    }
    writeln!(out, "last runs:\n{t}")?;
    let quarantined: u64 = s.quarantine.iter().map(|(_, n)| n).sum();
    writeln!(
        out,
        "quarantine: {quarantined} record(s) in {} file(s)",
        s.quarantine.len()
    )?;
    for (f, n) in &s.quarantine {
        writeln!(out, "  {f}: {n}")?;
    }
    Ok(())
}
