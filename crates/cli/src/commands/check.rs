//! `trawl check`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use comfy_table::{ContentArrangement, Table, presets};
use tokio::runtime::Runtime;
use trawl_lake::check_state;
use trawl_query::saved::notify::{NotifyFormat, notify};
use trawl_query::saved::{CheckReport, Severity, run_check};

use super::s3_args::S3Args;
use crate::{Outcome, UsageError, config};

/// Findings listed in the table format; `--format json` gives them all.
const TABLE_FINDINGS: usize = 50;

/// Arguments of `trawl check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Start of the window: a span back from now (24h, 7d), a day (2024-03-11), a time
    /// (RFC 3339), or `last` for the end of the previous complete check (remembered in the lake;
    /// 24h when there was none).
    #[arg(long, value_name = "WHEN", default_value = "24h")]
    pub since: String,

    /// End of the window (excluded; a bare day is included whole). Default: now.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// Exit 3 when a finding is at least this severe: info, low, medium, high, critical, or
    /// never.
    #[arg(long, value_name = "SEV", default_value = "high", value_parser = parse_fail_on)]
    pub fail_on: FailOn,

    /// table: a summary per detection and the first findings; json (or ndjson): one finding per
    /// line (query, title, severity, controls, eventid, eventtime, principal, sourceipaddress,
    /// region, details); csv or tsv: one finding per row, details left out.
    #[arg(long, value_name = "F", default_value = "table",
          value_parser = ["table", "json", "ndjson", "csv", "tsv"])]
    pub format: String,

    /// POST the findings as JSON to this webhook URL when there are any.
    #[arg(long, value_name = "URL")]
    pub notify: Option<String>,

    /// Body of the webhook: json (everything) or slack (a `text` message, for Slack-compatible
    /// incoming webhooks).
    #[arg(long, value_name = "F", default_value = "json", value_parser = parse_notify_format)]
    pub notify_format: NotifyFormat,
}

/// The `--fail-on` threshold.
#[derive(Debug, Clone, Copy)]
pub struct FailOn(Option<Severity>);

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s == "never" {
        return Ok(FailOn(None));
    }
    s.parse().map(|sev| FailOn(Some(sev)))
}

fn parse_notify_format(s: &str) -> Result<NotifyFormat, String> {
    s.parse()
}

/// Runs `trawl check`.
pub fn run(
    lake: Option<&Path>,
    s3: &S3Args,
    query_dirs: &[PathBuf],
    args: Args,
) -> anyhow::Result<Outcome> {
    let lake = config::lake(lake)?;
    let (catalog, broken) = super::catalog(query_dirs)?;
    let now = Utc::now();
    let remember = args.since == "last";
    let rt = super::runtime()?;
    let marks = CheckMarks::new(&lake, &s3.settings())?;
    let last = if remember {
        marks
            .last(&rt)
            .context("reading where the last check ended")?
    } else {
        None
    };
    let since = if remember {
        match &last {
            // Back over the overlap, for events delivered after the last check ran.
            Some(l) => l.until - check_state::OVERLAP,
            None => {
                eprintln!("no previous check in this lake: checking the last 24h");
                now - TimeDelta::hours(24)
            }
        }
    } else {
        super::window(Some(&args.since), None, now, now + TimeDelta::seconds(1))?.since
    };
    let until = match &args.until {
        Some(_) => super::window(None, args.until.as_deref(), since, now)?.until,
        None => now,
    };
    if since >= until {
        return Err(UsageError(format!(
            "the window is empty: --since {since} is not before --until {until}"
        ))
        .into());
    }
    let window = trawl_query::saved::Window { since, until };
    let show_progress = std::io::stderr().is_terminal();
    let report = rt.block_on(async {
        let ctx = trawl_query::open_session(&lake, &s3.settings()).await?;
        Ok::<_, anyhow::Error>(
            run_check(&ctx, &catalog, window, |run| {
                if show_progress {
                    let found = match &run.result {
                        Ok(f) => format!("{} finding(s)", f.len()),
                        Err(_) => "failed".into(),
                    };
                    eprintln!(
                        "  {:<48} {found} in {:.2}s",
                        run.query,
                        run.elapsed.as_secs_f64()
                    );
                }
            })
            .await,
        )
    })?;

    let mut report = report;
    // What the last check reported already is not reported again.
    let recent: Vec<String> = report
        .findings()
        .filter(|f| {
            f.get("eventtime")
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t >= until - check_state::OVERLAP)
        })
        .map(finding_key)
        .collect();
    if let Some(l) = &last {
        for run in &mut report.runs {
            if let Ok(found) = &mut run.result {
                found.retain(|f| !l.recent.contains(&finding_key(f)));
            }
        }
    }

    let failures: Vec<_> = report.failures().collect();
    for (query, error) in &failures {
        eprintln!("error: {query}: {error}");
    }
    for (query, why) in &report.skipped {
        eprintln!("note: {query} not run: {why}");
    }
    let findings = report.findings().count();
    if let Some(url) = &args.notify
        && (findings > 0 || !failures.is_empty())
    {
        notify(url, args.notify_format, &report).map_err(anyhow::Error::msg)?;
        eprintln!(
            "sent {findings} finding(s) to {}",
            trawl_query::saved::notify::redact(url)
        );
    }
    let complete = failures.is_empty() && broken == 0;
    // Only a `--since last` check moves the mark, so ad-hoc checks leave the nightly one alone.
    if complete
        && remember
        && let Err(e) = marks.record(&rt, until.min(now), recent)
    {
        eprintln!("warning: where this check ended was not remembered for --since last: {e}");
    }
    // Reader gone (`| head`): the exit code still tells the findings.
    if let Err(e) = print(&report, &args.format) {
        let closed = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe);
        if !closed {
            return Err(e);
        }
    }
    if !complete {
        anyhow::bail!(
            "{} detection(s) failed and {broken} saved query file(s) could not be read: fix \
             them (named above) and run again",
            failures.len()
        );
    }
    let fail = args
        .fail_on
        .0
        .is_some_and(|level| report.any_at_or_above(level));
    Ok(if fail {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

/// `query eventid`: how a finding is known across checks.
fn finding_key(f: &trawl_query::saved::Finding) -> String {
    format!("{} {}", f.query, f.get("eventid").unwrap_or_default())
}

/// The report on stdout in `format`.
fn print(report: &CheckReport, format: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        "json" | "ndjson" => {
            for f in report.findings() {
                writeln!(out, "{}", f.to_json())?;
            }
        }
        "csv" => print_delimited(report, ',', &mut out)?,
        "tsv" => print_delimited(report, '\t', &mut out)?,
        _ => print_summary(report, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// Findings as CSV or TSV with a header; fields holding the separator, a quote or a line break
/// are quoted.
fn print_delimited(report: &CheckReport, sep: char, out: &mut impl Write) -> anyhow::Result<()> {
    const COLUMNS: [&str; 9] = [
        "query",
        "severity",
        "eventtime",
        "eventid",
        "principal",
        "sourceipaddress",
        "region",
        "title",
        "controls",
    ];
    let field = |v: &str| {
        if v.contains([sep, '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_string()
        }
    };
    writeln!(out, "{}", COLUMNS.join(&sep.to_string()))?;
    for f in report.findings() {
        let json = f.to_json();
        let row: Vec<String> = COLUMNS
            .iter()
            .map(|c| match &json[*c] {
                serde_json::Value::String(s) => field(s),
                serde_json::Value::Array(a) => field(
                    &a.iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                serde_json::Value::Null => String::new(),
                other => field(&other.to_string()),
            })
            .collect();
        writeln!(out, "{}", row.join(&sep.to_string()))?;
    }
    Ok(())
}

fn print_summary(report: &CheckReport, out: &mut impl Write) -> anyhow::Result<()> {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["query", "severity", "findings"]);
    for run in &report.runs {
        let findings = match &run.result {
            Ok(f) => f.len().to_string(),
            Err(_) => "error".into(),
        };
        table.add_row([run.query.clone(), run.severity.to_string(), findings]);
    }
    writeln!(out, "{table}")?;
    let total = report.findings().count();
    writeln!(
        out,
        "{total} finding(s) from {} to {} across {} detection(s)",
        report
            .window
            .since
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        report
            .window
            .until
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        report.runs.len()
    )?;
    if total == 0 {
        return Ok(());
    }
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "severity",
            "query",
            "eventtime",
            "eventname",
            "principal",
            "sourceipaddress",
            "region",
        ]);
    let mut sorted: Vec<_> = report.findings().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in sorted.iter().take(TABLE_FINDINGS) {
        let cell = |k: &str| f.get(k).unwrap_or("").to_string();
        table.add_row([
            f.severity.to_string(),
            f.query.clone(),
            cell("eventtime"),
            cell("eventname"),
            cell("principal"),
            cell("sourceipaddress"),
            cell("awsregion"),
        ]);
    }
    writeln!(out, "{table}")?;
    if total > TABLE_FINDINGS {
        writeln!(
            out,
            "… {} more: --format json lists every finding",
            total - TABLE_FINDINGS
        )?;
    }
    Ok(())
}

/// Where `--since last` is kept: `_trawl/check.json` of the lake, local or in S3.
enum CheckMarks<'a> {
    Local(&'a trawl_lake::Lake),
    S3(trawl_lake::remote::RemoteLake),
}

impl<'a> CheckMarks<'a> {
    fn new(lake: &'a trawl_lake::Lake, s3: &trawl_lake::s3::S3Settings) -> anyhow::Result<Self> {
        Ok(match lake.s3_url() {
            None => CheckMarks::Local(lake),
            Some(url) => {
                let store = trawl_lake::s3::store(&url.bucket, s3)?;
                CheckMarks::S3(trawl_lake::remote::RemoteLake::new(url, store))
            }
        })
    }

    fn last(&self, rt: &Runtime) -> anyhow::Result<Option<check_state::LastCheck>> {
        Ok(match self {
            CheckMarks::Local(l) => check_state::last(l)?,
            CheckMarks::S3(r) => rt.block_on(check_state::last_remote(r))?,
        })
    }

    fn record(
        &self,
        rt: &Runtime,
        until: DateTime<Utc>,
        recent: Vec<String>,
    ) -> anyhow::Result<()> {
        match self {
            CheckMarks::Local(l) => check_state::record(l, until, recent)?,
            CheckMarks::S3(r) => rt.block_on(check_state::record_remote(r, until, recent))?,
        }
        Ok(())
    }
}
