//! The ledger: which source objects the lake already holds, so a re-run reads only what is new
//! or changed.
//!
//! Each committed run leaves one record, `_trawl/ledger/<run>.json`, naming the sources it read
//! (path or key, size, and modification stamp) and the Parquet files it published. Writing
//! that record is the run's commit point: see [`crate::commit`].

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Lake;
use crate::meta_file::{self, MetaError};

/// Format version of ledger records.
pub const VERSION: u32 = 1;

/// One source object as it was when read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceStamp {
    /// Absolute path, or the object's URL.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification stamp: nanoseconds since the epoch for files, the ETag for objects.
    pub stamp: String,
}

/// What one committed run added to the lake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerRecord {
    /// Format version.
    pub version: u32,
    /// The run.
    pub run_id: String,
    /// When it committed, RFC 3339.
    pub committed_at: String,
    /// Every source it read to the end, including ones that held no events.
    pub sources: Vec<SourceStamp>,
    /// The Parquet files it published, relative to the table folder.
    pub files: Vec<String>,
    /// Its quarantine file's name under `_trawl/quarantine/`, if it had one.
    pub quarantine: Option<String>,
}

impl LedgerRecord {
    /// The record's path in `lake`.
    pub fn path(lake: &Lake, run_id: &str) -> PathBuf {
        lake.ledger_dir().join(format!("{run_id}.json"))
    }
}

/// A ledger record that cannot be trusted: the message names the file and the way out.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0}\nThe ledger decides what is already in the lake, so trawl will not guess. Rebuild it \
     from the lake's files with `trawl ingest --rebuild-ledger SOURCE…`."
)]
pub struct DamagedLedger(pub MetaError);

/// Every source the lake holds, from all ledger records.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    sources: HashMap<String, (u64, String)>,
    records: usize,
}

impl Ledger {
    /// Reads every record; a damaged one is an error naming it.
    pub fn load(lake: &Lake) -> Result<Ledger, DamagedLedger> {
        let mut ledger = Ledger::default();
        for record in records(lake)? {
            ledger.add(&record);
        }
        Ok(ledger)
    }

    /// Counts `record`'s sources as held.
    pub fn add(&mut self, record: &LedgerRecord) {
        self.records += 1;
        for s in &record.sources {
            self.sources
                .insert(s.key.clone(), (s.size, s.stamp.clone()));
        }
    }

    /// Whether the lake already holds `source` as it is now.
    pub fn holds(&self, source: &SourceStamp) -> bool {
        self.sources
            .get(&source.key)
            .is_some_and(|(size, stamp)| *size == source.size && *stamp == source.stamp)
    }

    /// Sources held.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// Whether no source is held.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
}

/// Every ledger record, oldest run first.
pub fn records(lake: &Lake) -> Result<Vec<LedgerRecord>, DamagedLedger> {
    let dir = lake.ledger_dir();
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(DamagedLedger(MetaError::Io { path: dir, source })),
    };
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let record: LedgerRecord =
            meta_file::read(&path)
                .map_err(DamagedLedger)?
                .ok_or_else(|| {
                    DamagedLedger(MetaError::Damaged {
                        path: path.clone(),
                        reason: "vanished while being read".into(),
                    })
                })?;
        let expected = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if let Err(reason) = validate(&record, &expected) {
            return Err(DamagedLedger(MetaError::Damaged { path, reason }));
        }
        out.push(record);
    }
    Ok(out)
}

/// Checks that `record`, found under the name of run `expected`, is one this trawl wrote.
pub fn validate(record: &LedgerRecord, expected: &str) -> Result<(), String> {
    if record.version != VERSION || record.run_id != expected {
        return Err(format!(
            "version {} of run `{}` in a file named for run `{expected}`",
            record.version, record.run_id
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(key: &str, size: u64, stamp: &str) -> SourceStamp {
        SourceStamp {
            key: key.into(),
            size,
            stamp: stamp.into(),
        }
    }

    #[test]
    fn holds_what_records_name_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path());
        let record = LedgerRecord {
            version: VERSION,
            run_id: "r1".into(),
            committed_at: "2024-03-11T00:00:00Z".into(),
            sources: vec![stamp("/a.json.gz", 10, "1")],
            files: vec![],
            quarantine: None,
        };
        meta_file::write(&LedgerRecord::path(&lake, "r1"), &record).unwrap();
        let ledger = Ledger::load(&lake).unwrap();
        assert!(ledger.holds(&stamp("/a.json.gz", 10, "1")));
        assert!(!ledger.holds(&stamp("/a.json.gz", 11, "1")), "size changed");
        assert!(!ledger.holds(&stamp("/a.json.gz", 10, "2")), "rewritten");
        assert!(!ledger.holds(&stamp("/b.json.gz", 10, "1")));
    }

    #[test]
    fn a_damaged_record_is_reported_with_the_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path());
        std::fs::create_dir_all(lake.ledger_dir()).unwrap();
        std::fs::write(lake.ledger_dir().join("r1.json"), "{\"version\":1,").unwrap();
        let e = Ledger::load(&lake).unwrap_err().to_string();
        assert!(e.contains("r1.json is damaged"), "{e}");
        assert!(e.contains("--rebuild-ledger"), "{e}");
    }
}
