//! Where things live inside a lake folder.
//!
//! ```text
//! <lake>/cloudtrail/region=<region>/date=<YYYY-MM-DD>/<file>.parquet   the table
//! <lake>/_trawl/staging/<run>/                                         files being written
//! <lake>/_trawl/quarantine/<run>.jsonl                                 records that could not be stored
//! <lake>/_trawl/check.json                                             where `check --since last` starts
//! <lake>/_trawl/lock                                                   held by the one writer
//! <lake>/_trawl/ledger/<run>.json                                      sources each run committed
//! <lake>/_trawl/runs/<run>.json                                        the run log
//! <lake>/_trawl/compactions/<id>.json                                  compactions under way
//! ```
//! Readers list only `cloudtrail/`, and a file enters it by an atomic rename, so no reader ever
//! sees a half-written file. A lake in S3 has the same layout (see [`crate::remote`]).

use std::path::{Path, PathBuf};

use crate::PartitionKey;

/// The folder of the `cloudtrail` table inside a lake.
pub const TABLE_DIR: &str = "cloudtrail";
/// The folder of trawl's own bookkeeping inside a lake.
pub const META_DIR: &str = "_trawl";

/// A lake on the local file system.
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

impl Lake {
    /// A lake rooted at `root` (which need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The lake's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The root of the `cloudtrail` table.
    pub fn table_dir(&self) -> PathBuf {
        self.root.join(TABLE_DIR)
    }

    /// The folder of one partition.
    pub fn partition_dir(&self, key: &PartitionKey) -> PathBuf {
        self.table_dir().join(key.relative_dir())
    }

    /// Scratch space of one ingest run; nothing here is visible to readers.
    pub fn staging_dir(&self, run_id: &str) -> PathBuf {
        self.staging_root().join(run_id)
    }

    /// The folder of quarantined records.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.root.join(META_DIR).join("quarantine")
    }

    /// Where `trawl check` remembers the end of its last window.
    pub fn check_state_path(&self) -> PathBuf {
        self.root.join(META_DIR).join("check.json")
    }

    /// The writer lock.
    pub fn lock_path(&self) -> PathBuf {
        self.root.join(META_DIR).join("lock")
    }

    /// The folder of ledger records, one per committed run.
    pub fn ledger_dir(&self) -> PathBuf {
        self.root.join(META_DIR).join("ledger")
    }

    /// The folder of the run log, one record per run.
    pub fn runs_dir(&self) -> PathBuf {
        self.root.join(META_DIR).join("runs")
    }

    /// The folder of all staging areas.
    pub fn staging_root(&self) -> PathBuf {
        self.root.join(META_DIR).join("staging")
    }

    /// The folder of records of compactions under way.
    pub fn compactions_dir(&self) -> PathBuf {
        self.root.join(META_DIR).join("compactions")
    }

    /// The lake's `s3://` location, when it lives in S3.
    pub fn s3_url(&self) -> Option<crate::s3::S3Url> {
        crate::s3::S3Url::parse(self.root.to_str()?)
    }
}
