//! The metadata header of a saved query: the leading `-- key: value` comment lines.
//!
//! ```sql
//! -- title: Root account used
//! -- severity: high
//! -- controls: CIS AWS 1.2.0 3.3; Security Hub CloudWatch.1
//! -- description: Root credentials should never be used for daily work.
//! -- param: threshold int = 20 — calls in one hour that make a burst
//! ```

use std::fmt;
use std::str::FromStr;

use super::param::ParamSpec;

/// How urgent a finding is; `check --fail-on` compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, least urgent first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lower-case name used in headers and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown severity `{s}`: use one of info, low, medium, high, critical")
            })
    }
}

/// What a saved query says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// One line for listings.
    pub title: String,
    /// Set on detections: `trawl check` runs those and reports each row as a finding.
    pub severity: Option<Severity>,
    /// Compliance controls the query covers, e.g. `CIS AWS 1.4.0 4.3`.
    pub controls: Vec<String>,
    /// What the query finds and why it matters.
    pub description: String,
    /// Parameters besides the `$since`/`$until` window every query gets.
    pub params: Vec<ParamSpec>,
}

/// Why a header could not be read; the caller adds the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct HeaderError {
    /// 1-based line of the query file.
    pub line: usize,
    /// What is wrong and how to write it.
    pub message: String,
}

impl Header {
    /// Reads the header from the start of `sql`. Lines after the header are ignored.
    pub fn parse(sql: &str) -> Result<Header, HeaderError> {
        let mut header = Header::default();
        let mut last_key: Option<&str> = None;
        for (i, line) in sql.lines().enumerate() {
            let line_no = i + 1;
            let trimmed = line.trim();
            if trimmed.is_empty() {
                if header.title.is_empty() {
                    continue;
                }
                break;
            }
            let Some(comment) = trimmed.strip_prefix("--") else {
                break;
            };
            let comment = comment.trim();
            let err = |message: String| HeaderError {
                line: line_no,
                message,
            };
            match split_key(comment) {
                Some((key, value)) => {
                    match key {
                        "title" => header.title = value.to_string(),
                        "severity" => header.severity = Some(value.parse().map_err(err)?),
                        "controls" => header.controls.extend(
                            value
                                .split(';')
                                .map(str::trim)
                                .filter(|c| !c.is_empty())
                                .map(String::from),
                        ),
                        "description" => header.description = value.to_string(),
                        "param" => {
                            let spec: ParamSpec = value.parse().map_err(err)?;
                            if header.params.iter().any(|p| p.name == spec.name) {
                                return Err(err(format!("parameter `{}` twice", spec.name)));
                            }
                            header.params.push(spec);
                        }
                        other => {
                            return Err(err(format!(
                                "unknown header key `{other}`: use title, severity, controls, \
                                 description or param"
                            )));
                        }
                    }
                    last_key = Some(key);
                }
                // A description runs on over the comment lines after it; other comments end
                // the header.
                None if last_key == Some("description") && !comment.is_empty() => {
                    header.description.push(' ');
                    header.description.push_str(comment);
                }
                None => break,
            }
        }
        if header.title.is_empty() {
            return Err(HeaderError {
                line: 1,
                message: "no `-- title: …` line at the top of the file".into(),
            });
        }
        Ok(header)
    }
}

/// `key: value` where key is a lower-case word, else None.
fn split_key(comment: &str) -> Option<(&str, &str)> {
    let (key, value) = comment.split_once(':')?;
    let key = key.trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .then(|| (key, value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saved::param::ParamType;

    const ROOT: &str = "\
-- title: Root account used
-- severity: high
-- controls: CIS AWS 1.2.0 3.3; CIS AWS 1.4.0 4.3;  Security Hub CloudWatch.1
-- description: Root credentials should never be used
--   for daily work.
-- param: threshold int = 20 — calls per hour
-- Athena's filter differs: see below.
SELECT 1
";

    #[test]
    fn reads_every_key() {
        let h = Header::parse(ROOT).unwrap();
        assert_eq!(h.title, "Root account used");
        assert_eq!(h.severity, Some(Severity::High));
        assert_eq!(
            h.controls,
            [
                "CIS AWS 1.2.0 3.3",
                "CIS AWS 1.4.0 4.3",
                "Security Hub CloudWatch.1"
            ]
        );
        assert_eq!(
            h.description,
            "Root credentials should never be used for daily work."
        );
        assert_eq!(h.params.len(), 1);
        assert_eq!(h.params[0].ty, ParamType::Int);
    }

    #[test]
    fn stops_at_the_first_line_that_is_not_header() {
        let h = Header::parse("-- title: T\nSELECT 1\n-- severity: high\n").unwrap();
        assert_eq!(h.severity, None);
    }

    #[test]
    fn errors_name_the_line() {
        let e = Header::parse("-- title: T\n-- severity: urgent\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("info, low, medium, high, critical"));
        let e = Header::parse("-- titel: T\n").unwrap_err();
        assert!(e.message.contains("unknown header key `titel`"));
        let e = Header::parse("SELECT 1").unwrap_err();
        assert!(e.message.contains("title"));
        let e = Header::parse("-- title: T\n-- param: a int\n-- param: a int\n").unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn severities_order_by_urgency() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Info < Severity::Low);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
    }
}
