//! What `trawl check --since last` starts from: the end of the window of the last check that
//! completed, kept in `_trawl/check.json`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::Lake;
use crate::meta_file::{self, MetaError};

/// The content of `_trawl/check.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckState {
    /// Format version, for readers of older or newer lakes.
    pub version: u32,
    /// The `until` of the last complete check, RFC 3339.
    pub last_until: String,
}

const VERSION: u32 = 1;

/// The end of the last complete check, if any.
pub fn last_until(lake: &Lake) -> Result<Option<DateTime<Utc>>, MetaError> {
    let path = lake.check_state_path();
    match meta_file::read::<CheckState>(&path)? {
        Some(s) if s.version == VERSION => DateTime::parse_from_rfc3339(&s.last_until)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| MetaError::Damaged {
                path,
                reason: format!("last_until `{}`: {e}", s.last_until),
            }),
        Some(s) => Err(MetaError::Damaged {
            path,
            reason: format!("version {} is not one this trawl reads", s.version),
        }),
        None => Ok(None),
    }
}

/// Records that a check covered everything up to `until`.
pub fn record(lake: &Lake, until: DateTime<Utc>) -> Result<(), MetaError> {
    meta_file::write(
        &lake.check_state_path(),
        &CheckState {
            version: VERSION,
            last_until: until.to_rfc3339_opts(SecondsFormat::Micros, true),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_window() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path());
        assert_eq!(last_until(&lake).unwrap(), None);
        let t: DateTime<Utc> = "2024-03-11T08:00:00.123456Z".parse().unwrap();
        record(&lake, t).unwrap();
        assert_eq!(last_until(&lake).unwrap(), Some(t));
        std::fs::write(
            lake.check_state_path(),
            r#"{"version":1,"last_until":"soon"}"#,
        )
        .unwrap();
        assert!(last_until(&lake).is_err());
    }
}
