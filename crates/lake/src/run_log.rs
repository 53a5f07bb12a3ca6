//! The run log: one record per `trawl ingest` or `trawl compact`, for `trawl status` and for
//! whoever is paged at night.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Lake;
use crate::meta_file::{self, MetaError};
use crate::remote::{RemoteError, RemoteLake};

/// Format version of run records.
pub const VERSION: u32 = 1;

/// How one run went.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// Format version.
    pub version: u32,
    /// The run's id (its ledger record's name when it committed).
    pub run_id: String,
    /// `ingest` or `compact`.
    pub command: String,
    /// Start, RFC 3339.
    pub started: String,
    /// End, RFC 3339.
    pub ended: String,
    /// Exit code the run ended with.
    pub exit_code: i32,
    /// Source files read.
    pub files_read: u64,
    /// Source files left out as already held.
    pub files_unchanged: u64,
    /// Source files refused in whole or part.
    pub files_rejected: u64,
    /// Folder listings made.
    pub listings: u64,
    /// Events written.
    pub events_written: u64,
    /// Records quarantined.
    pub records_quarantined: u64,
    /// Parquet files before and after (compaction).
    pub files_before: u64,
    /// Parquet files written.
    pub files_after: u64,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

impl RunRecord {
    fn path(lake: &Lake, run_id: &str) -> PathBuf {
        lake.runs_dir().join(format!("{run_id}.json"))
    }

    /// Whether this trawl reads the record's format; why not, when it does not.
    fn readable(&self) -> Result<(), String> {
        if self.version == VERSION {
            Ok(())
        } else {
            Err(format!(
                "version {} is not one this trawl reads",
                self.version
            ))
        }
    }
}

/// Adds `record` to the log.
pub fn append(lake: &Lake, record: &RunRecord) -> Result<(), MetaError> {
    meta_file::write(&RunRecord::path(lake, &record.run_id), record)
}

/// The last `n` runs, newest first. A damaged record is an error naming it.
pub fn last(lake: &Lake, n: usize) -> Result<Vec<RunRecord>, MetaError> {
    let dir = lake.runs_dir();
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(MetaError::Io { path: dir, source }),
    };
    // Run ids start with their UTC start time, so names sort by age.
    paths.sort();
    paths
        .iter()
        .rev()
        .take(n)
        .map(|p| {
            let r: RunRecord = meta_file::read(p)?.ok_or_else(|| MetaError::Damaged {
                path: p.clone(),
                reason: "vanished while being read".into(),
            })?;
            r.readable().map_err(|reason| MetaError::Damaged {
                path: p.clone(),
                reason,
            })?;
            Ok(r)
        })
        .collect()
}

/// [`append`] for a lake in S3: created with `If-None-Match: *`, as run ids are unique.
pub async fn append_remote(lake: &RemoteLake, record: &RunRecord) -> Result<(), RemoteError> {
    let key = lake.meta_key(&format!("runs/{}.json", record.run_id));
    crate::remote::publish::create_checked(lake, &key, record).await
}

/// [`last`] of a lake in S3.
pub async fn last_remote(lake: &RemoteLake, n: usize) -> Result<Vec<RunRecord>, RemoteError> {
    let base = lake.meta_key("runs");
    let keys: Vec<_> = lake
        .list("_trawl/runs")
        .await?
        .into_iter()
        .map(|m| m.location)
        .filter(|k| RemoteLake::relative(k, &base).is_some_and(|r| r.ends_with(".json")))
        .collect();
    // Listed by key, and run ids start with their UTC start time: oldest first.
    let mut out = Vec::new();
    for key in keys.iter().rev().take(n) {
        let r: RunRecord = lake
            .get_json(key)
            .await?
            .ok_or_else(|| RemoteError::Damaged {
                url: lake.show(key),
                reason: "vanished while being read".into(),
            })?;
        r.readable().map_err(|reason| RemoteError::Damaged {
            url: lake.show(key),
            reason,
        })?;
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_runs_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path());
        for id in [
            "20240301T000000Z-a",
            "20240302T000000Z-b",
            "20240303T000000Z-c",
        ] {
            append(
                &lake,
                &RunRecord {
                    version: VERSION,
                    run_id: id.into(),
                    command: "ingest".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        }
        let runs = last(&lake, 2).unwrap();
        let ids: Vec<_> = runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["20240303T000000Z-c", "20240302T000000Z-b"]);
    }
}
