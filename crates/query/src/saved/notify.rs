//! Sending `trawl check` findings to a webhook, so a nightly `ingest && check` alerts someone.

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Duration;

use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::check::CheckReport;

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NotifyFormat {
    /// The window, a summary per detection, and every finding.
    #[default]
    Json,
    /// `{"text": …}`, which Slack, Mattermost and Teams incoming webhooks accept.
    Slack,
}

impl FromStr for NotifyFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(NotifyFormat::Json),
            "slack" => Ok(NotifyFormat::Slack),
            _ => Err(format!("unknown notify format `{s}`: use json or slack")),
        }
    }
}

/// Findings listed one by one in a Slack message; the rest are counted.
const SLACK_LINES: usize = 20;

/// The request body for `report`.
pub fn body(report: &CheckReport, format: NotifyFormat) -> Value {
    let since = report
        .window
        .since
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let until = report
        .window
        .until
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    match format {
        NotifyFormat::Json => json!({
            "source": "trawl check",
            "window": {"since": since, "until": until},
            "summary": report.runs.iter().map(|r| json!({
                "query": r.query,
                "severity": r.severity.as_str(),
                "findings": r.result.as_ref().map(Vec::len).ok(),
                "error": r.result.as_ref().err(),
            })).collect::<Vec<_>>(),
            "findings": report.findings().map(|f| f.to_json()).collect::<Vec<_>>(),
        }),
        NotifyFormat::Slack => {
            let total = report.findings().count();
            let mut text = format!("*trawl check*: {total} finding(s) from {since} to {until}");
            for run in &report.runs {
                match &run.result {
                    Ok(f) if f.is_empty() => {}
                    Ok(f) => {
                        let _ = write!(text, "\n• [{}] {}: {}", run.severity, run.query, f.len());
                    }
                    Err(e) => {
                        let _ = write!(text, "\n• {} failed: {e}", run.query);
                    }
                }
            }
            for f in report.findings().take(SLACK_LINES) {
                let _ = write!(
                    text,
                    "\n`{}` {} {} by {} from {}",
                    f.query,
                    f.get("eventtime").unwrap_or("-"),
                    f.get("eventname")
                        .unwrap_or(f.get("eventid").unwrap_or("-")),
                    f.get("principal").unwrap_or("-"),
                    f.get("sourceipaddress").unwrap_or("-"),
                );
            }
            if total > SLACK_LINES {
                let _ = write!(text, "\n… and {} more", total - SLACK_LINES);
            }
            json!({ "text": text })
        }
    }
}

/// POSTs `report` to `url`. Errors name the host only: a webhook URL's path is its secret.
pub fn notify(url: &str, format: NotifyFormat, report: &CheckReport) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let body = body(report, format).to_string();
    agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", concat!("trawl/", env!("CARGO_PKG_VERSION")))
        .send(body)
        .map(|_| ())
        .map_err(|e| format!("notifying {}: {}", redact(url), redact_error(&e, url)))
}

/// `https://hooks.example.com/services/T/B/secret` → `https://hooks.example.com/…`.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let host = host.rsplit('@').next().unwrap_or(host);
            format!("{scheme}://{host}/…")
        }
        None => "the webhook URL (not a URL: write https://…)".into(),
    }
}

fn redact_error(e: &ureq::Error, url: &str) -> String {
    let text = e.to_string();
    if text.contains(url) {
        text.replace(url, &redact(url))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_the_url_stay_out_of_errors() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T0/B0/XyZ?x=1"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact("http://user:pw@127.0.0.1:9/x"),
            "http://127.0.0.1:9/…"
        );
    }
}
