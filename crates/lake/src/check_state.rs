//! What `trawl check --since last` starts from: the end of the window of the last such check
//! that completed, and the findings it reported near that end, kept in `_trawl/check.json`.
//!
//! CloudTrail delivers events minutes after they happen, so the next window starts
//! [`OVERLAP`] before the last one ended, and the findings already reported in that overlap
//! are not reported again.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use object_store::PutMode;

use crate::Lake;
use crate::meta_file::{self, MetaError};
use crate::remote::{RemoteError, RemoteLake};

/// The content of `_trawl/check.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckState {
    /// Format version, for readers of older or newer lakes.
    pub version: u32,
    /// The `until` of the last complete check, RFC 3339.
    pub last_until: String,
    /// Findings (`query eventid`) that check reported within [`OVERLAP`] of its end.
    #[serde(default)]
    pub recent: Vec<String>,
}

/// How far the next window reaches back before the last one's end, for late deliveries.
pub const OVERLAP: chrono::TimeDelta = chrono::TimeDelta::hours(2);

/// Where the last check ended, and what it reported near there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCheck {
    /// The end of its window.
    pub until: DateTime<Utc>,
    /// Findings reported within [`OVERLAP`] of that end, as `query eventid`.
    pub recent: Vec<String>,
}

const VERSION: u32 = 1;

impl CheckState {
    fn new(until: DateTime<Utc>, recent: Vec<String>) -> Self {
        CheckState {
            version: VERSION,
            last_until: until.to_rfc3339_opts(SecondsFormat::Micros, true),
            recent,
        }
    }

    fn into_last(self) -> Result<LastCheck, String> {
        if self.version != VERSION {
            return Err(format!(
                "version {} is not one this trawl reads",
                self.version
            ));
        }
        DateTime::parse_from_rfc3339(&self.last_until)
            .map(|t| LastCheck {
                until: t.with_timezone(&Utc),
                recent: self.recent,
            })
            .map_err(|e| format!("last_until `{}`: {e}", self.last_until))
    }
}

/// The last complete check, if any.
pub fn last(lake: &Lake) -> Result<Option<LastCheck>, MetaError> {
    let path = lake.check_state_path();
    meta_file::read::<CheckState>(&path)?
        .map(|s| {
            s.into_last()
                .map_err(|reason| MetaError::Damaged { path, reason })
        })
        .transpose()
}

/// Records that a check covered everything up to `until`, reporting `recent` near its end.
pub fn record(lake: &Lake, until: DateTime<Utc>, recent: Vec<String>) -> Result<(), MetaError> {
    meta_file::write(&lake.check_state_path(), &CheckState::new(until, recent))
}

const REMOTE_KEY: &str = "check.json";

/// [`last`] of a lake in S3.
pub async fn last_remote(lake: &RemoteLake) -> Result<Option<LastCheck>, RemoteError> {
    let key = lake.meta_key(REMOTE_KEY);
    lake.get_json::<CheckState>(&key)
        .await?
        .map(|s| {
            s.into_last().map_err(|reason| RemoteError::Damaged {
                url: lake.show(&key),
                reason,
            })
        })
        .transpose()
}

/// [`record`] for a lake in S3 (a PUT replaces the object whole).
pub async fn record_remote(
    lake: &RemoteLake,
    until: DateTime<Utc>,
    recent: Vec<String>,
) -> Result<(), RemoteError> {
    let key = lake.meta_key(REMOTE_KEY);
    lake.put_json(&key, &CheckState::new(until, recent), PutMode::Overwrite)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_window() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path());
        assert_eq!(last(&lake).unwrap(), None);
        let t: DateTime<Utc> = "2024-03-11T08:00:00.123456Z".parse().unwrap();
        record(&lake, t, vec!["q e".into()]).unwrap();
        assert_eq!(
            last(&lake).unwrap(),
            Some(LastCheck {
                until: t,
                recent: vec!["q e".into()]
            })
        );
        std::fs::write(
            lake.check_state_path(),
            r#"{"version":1,"last_until":"soon"}"#,
        )
        .unwrap();
        assert!(last(&lake).is_err());
    }
}
