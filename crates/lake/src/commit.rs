//! How a writer changes the lake so that a crash at any moment, followed by the next writer's
//! [`recover`], leaves exactly what a clean run would have.
//!
//! **Ingest.** Files are written under `_trawl/staging/<run>/table/…` (invisible to readers).
//! Writing the run's ledger record is the commit point; then each file is renamed into the
//! table (a rename is atomic, so readers see whole files only) and staging is removed. A
//! staging folder with a ledger record is rolled forward; one without is deleted.
//!
//! **Compaction.** The new files of a partition are written into a complete copy of its folder
//! under `_trawl/staging/<id>/`, a compaction record names the old and new files, and the two
//! folders are swapped with one atomic `renameat2(RENAME_EXCHANGE)`: a reader listing the
//! partition sees the old files or the new ones, never both or neither (on file systems without
//! that exchange, such as NFS, two renames: see [`exchange`]). Recovery finishes any swap the
//! record names and not yet done, then deletes the old files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Lake;
use crate::ledger::{self, LedgerRecord};
use crate::meta_file::{self, MetaError};

/// A failure while committing or recovering; the lake stays recoverable.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A bookkeeping file could not be read or written.
    #[error(transparent)]
    Meta(#[from] MetaError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CommitError + '_ {
    move |source| CommitError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where a run's staged table files live.
pub fn staged_table(staging: &Path) -> PathBuf {
    staging.join("table")
}

/// Where a run's staged quarantine lives.
pub fn staged_quarantine(staging: &Path) -> PathBuf {
    staging.join("quarantine.jsonl")
}

/// Commits an ingest run: the ledger record first, then the staged files into the table.
pub fn commit_run(lake: &Lake, record: &LedgerRecord) -> Result<(), CommitError> {
    // The staged files' folder entries must be durable before the record says they exist.
    let table = staged_table(&lake.staging_dir(&record.run_id));
    let dirs: BTreeSet<PathBuf> = record
        .files
        .iter()
        .filter_map(|rel| table.join(rel).parent().map(Path::to_path_buf))
        .collect();
    for dir in &dirs {
        sync_dir(dir)?;
    }
    meta_file::write(&LedgerRecord::path(lake, &record.run_id), record)?;
    publish_run(lake, record)
}

/// Moves what is still staged for a committed run into place, then removes its staging.
fn publish_run(lake: &Lake, record: &LedgerRecord) -> Result<(), CommitError> {
    let staging = lake.staging_dir(&record.run_id);
    let table = staged_table(&staging);
    let mut dirs = BTreeSet::new();
    for rel in &record.files {
        let from = table.join(rel);
        let to = lake.table_dir().join(rel);
        if !from.exists() {
            if to.exists() {
                continue; // Published before a crash.
            }
            return Err(CommitError::Io {
                path: from,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "a file of committed run {} is neither staged nor in the table; restore \
                         it from a backup, or move the run's ledger record aside and run \
                         `trawl ingest --rebuild-ledger`",
                        record.run_id
                    ),
                ),
            });
        }
        let dir = to.parent().expect("files sit in partition folders");
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        std::fs::rename(&from, &to).map_err(io(&to))?;
        dirs.insert(dir.to_path_buf());
    }
    for dir in &dirs {
        sync_dir(dir)?;
    }
    if let Some(name) = &record.quarantine {
        let from = staged_quarantine(&staging);
        if from.exists() {
            let dir = lake.quarantine_dir();
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            std::fs::rename(&from, dir.join(name)).map_err(io(&dir))?;
            sync_dir(&dir)?;
        }
    }
    remove_dir(&staging)
}

/// One partition a compaction rewrites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionSwap {
    /// The partition folder, relative to the table folder.
    pub partition: String,
    /// File names there before.
    pub old: Vec<String>,
    /// File names there after.
    pub new: Vec<String>,
}

/// What one compaction changes; written before the first swap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompactionRecord {
    /// Format version.
    pub version: u32,
    /// The compaction's id (also its staging folder's name).
    pub id: String,
    /// The partitions it swaps.
    pub swaps: Vec<PartitionSwap>,
    /// In a lake in S3: when every new file was in place (RFC 3339). From then on readers
    /// hide the old files, which are deleted [`crate::remote::publish::GRACE`] later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copied_at: Option<String>,
}

impl CompactionRecord {
    /// The record's path in `lake`.
    pub fn path(lake: &Lake, id: &str) -> PathBuf {
        lake.compactions_dir().join(format!("{id}.json"))
    }

    /// A record of compaction `id` swapping one partition's `old` files for `new` ones, as
    /// the tests of local and S3 recovery set it up.
    #[cfg(test)]
    pub(crate) fn one_swap(id: &str, partition: &str, old: &[&str], new: &[&str]) -> Self {
        let names = |files: &[&str]| files.iter().map(|f| f.to_string()).collect();
        Self {
            version: 1,
            id: id.into(),
            swaps: vec![PartitionSwap {
                partition: partition.into(),
                old: names(old),
                new: names(new),
            }],
            copied_at: None,
        }
    }

    /// Where the new copy of `partition` is built before the swap.
    pub fn staged_partition(lake: &Lake, id: &str, partition: &str) -> PathBuf {
        lake.staging_dir(id).join("table").join(partition)
    }
}

/// Commits a compaction whose new partition folders are complete in staging.
pub fn commit_compaction(lake: &Lake, record: &CompactionRecord) -> Result<(), CommitError> {
    meta_file::write(&CompactionRecord::path(lake, &record.id), record)?;
    finish_compaction(lake, record)
}

fn finish_compaction(lake: &Lake, record: &CompactionRecord) -> Result<(), CommitError> {
    for swap in &record.swaps {
        let live = lake.table_dir().join(&swap.partition);
        let staged = CompactionRecord::staged_partition(lake, &record.id, &swap.partition);
        let names = file_names(&live)?;
        let swapped = swap.new.iter().all(|n| names.contains(n))
            && !swap
                .old
                .iter()
                .any(|n| names.contains(n) && !swap.new.contains(n));
        if !swapped {
            let aside = lake
                .staging_dir(&record.id)
                .join("replaced")
                .join(&swap.partition);
            exchange(&staged, &live, &aside)?;
            sync_dir(live.parent().expect("partition folders have parents"))?;
        }
    }
    remove_dir(&lake.staging_dir(&record.id))?;
    let path = CompactionRecord::path(lake, &record.id);
    std::fs::remove_file(&path).map_err(io(&path))?;
    Ok(())
}

/// What [`recover`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Interrupted runs and compactions finished, because they had committed.
    pub rolled_forward: Vec<String>,
    /// Interrupted work removed, because it had not.
    pub rolled_back: Vec<String>,
}

/// Finishes or removes whatever an interrupted writer left. Call it holding the writer lock.
pub fn recover(lake: &Lake) -> Result<Recovered, CommitError> {
    let mut done = Recovered::default();
    // Half-written bookkeeping files of a writer that died mid-write (see `meta_file::write`).
    for dir in [lake.ledger_dir(), lake.runs_dir(), lake.compactions_dir()] {
        for tmp in files_named(&dir, |n| n.starts_with('.') && n.ends_with(".tmp"))? {
            std::fs::remove_file(&tmp).map_err(io(&tmp))?;
        }
    }
    let compactions = lake.compactions_dir();
    for path in json_files(&compactions)? {
        let record: CompactionRecord =
            meta_file::read(&path)?.ok_or_else(|| MetaError::Damaged {
                path: path.clone(),
                reason: "vanished while being read".into(),
            })?;
        finish_compaction(lake, &record)?;
        done.rolled_forward.push(record.id);
    }
    let root = lake.staging_root();
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(io(&root)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io(&root))?;
        let id = entry.file_name().to_string_lossy().into_owned();
        let ledger_path = LedgerRecord::path(lake, &id);
        match meta_file::read::<LedgerRecord>(&ledger_path)? {
            Some(record) if record.version == ledger::VERSION => {
                publish_run(lake, &record)?;
                done.rolled_forward.push(id);
            }
            _ => {
                remove_dir(&entry.path())?;
                done.rolled_back.push(id);
            }
        }
    }
    Ok(done)
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>, CommitError> {
    files_named(dir, |n| n.ends_with(".json") && !n.starts_with('.'))
}

fn files_named(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>, CommitError> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut out: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| keep(&p.file_name().unwrap_or_default().to_string_lossy()))
                .collect();
            out.sort();
            Ok(out)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io(dir)(e)),
    }
}

fn file_names(dir: &Path) -> Result<BTreeSet<String>, CommitError> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(io(dir)(e)),
    }
}

/// Puts the folder `staged` in place of `live`, in one step where the file system can swap
/// two folders. Where it cannot (NFS, some FUSE file systems), `live` is first moved to
/// `aside`: a reader listing in between sees the partition empty for that moment, and a crash
/// in between leaves `live` missing, which the next recovery's call here completes.
fn exchange(staged: &Path, live: &Path, aside: &Path) -> Result<(), CommitError> {
    if !live.exists() {
        if let Some(dir) = live.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        return std::fs::rename(staged, live).map_err(io(live));
    }
    let swapped = rustix::fs::renameat_with(
        rustix::fs::CWD,
        staged,
        rustix::fs::CWD,
        live,
        rustix::fs::RenameFlags::EXCHANGE,
    );
    match swapped {
        Ok(()) => Ok(()),
        Err(e)
            if e == rustix::io::Errno::INVAL
                || e == rustix::io::Errno::NOSYS
                || e == rustix::io::Errno::OPNOTSUPP =>
        {
            if let Some(dir) = aside.parent() {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
            }
            std::fs::rename(live, aside).map_err(io(live))?;
            std::fs::rename(staged, live).map_err(io(live))
        }
        Err(e) => Err(io(live)(e.into())),
    }
}

fn remove_dir(dir: &Path) -> Result<(), CommitError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(dir)(e)),
    }
}

/// Makes a folder's new entries durable.
pub fn sync_dir(dir: &Path) -> Result<(), CommitError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(run: &str, files: &[&str]) -> LedgerRecord {
        LedgerRecord {
            version: ledger::VERSION,
            run_id: run.into(),
            committed_at: "2024-03-11T00:00:00Z".into(),
            sources: vec![],
            files: files.iter().map(|f| f.to_string()).collect(),
            quarantine: None,
        }
    }

    fn stage(lake: &Lake, run: &str, rel: &str) {
        let p = staged_table(&lake.staging_dir(run)).join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, rel).unwrap();
    }

    #[test]
    fn recovery_rolls_committed_runs_forward_and_others_back() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path());
        stage(&lake, "r1", "region=a/date=2024-03-01/r1-1.parquet");
        stage(&lake, "r1", "region=b/date=2024-03-01/r1-2.parquet");
        stage(&lake, "r2", "region=a/date=2024-03-01/r2-1.parquet");
        // r1 committed and published one file before the crash; r2 never committed.
        let r1 = record(
            "r1",
            &[
                "region=a/date=2024-03-01/r1-1.parquet",
                "region=b/date=2024-03-01/r1-2.parquet",
            ],
        );
        meta_file::write(&LedgerRecord::path(&lake, "r1"), &r1).unwrap();
        let live = lake.table_dir().join("region=a/date=2024-03-01");
        std::fs::create_dir_all(&live).unwrap();
        std::fs::rename(
            staged_table(&lake.staging_dir("r1")).join("region=a/date=2024-03-01/r1-1.parquet"),
            live.join("r1-1.parquet"),
        )
        .unwrap();

        let done = recover(&lake).unwrap();
        assert_eq!(done.rolled_forward, ["r1"]);
        assert_eq!(done.rolled_back, ["r2"]);
        assert!(
            lake.table_dir()
                .join("region=b/date=2024-03-01/r1-2.parquet")
                .exists()
        );
        assert!(!live.join("r2-1.parquet").exists());
        assert!(
            !lake.staging_root().exists() || file_names(&lake.staging_root()).unwrap().is_empty()
        );
    }

    #[test]
    fn a_compaction_swaps_whole_partitions_even_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path());
        let part = "region=a/date=2024-03-01";
        let live = lake.table_dir().join(part);
        std::fs::create_dir_all(&live).unwrap();
        for f in ["x.parquet", "y.parquet"] {
            std::fs::write(live.join(f), f).unwrap();
        }
        let staged = CompactionRecord::staged_partition(&lake, "c1", part);
        std::fs::create_dir_all(&staged).unwrap();
        std::fs::write(staged.join("z.parquet"), "z").unwrap();
        let record =
            CompactionRecord::one_swap("c1", part, &["x.parquet", "y.parquet"], &["z.parquet"]);
        // Crash after the record, before the swap: recovery swaps.
        meta_file::write(&CompactionRecord::path(&lake, "c1"), &record).unwrap();
        let done = recover(&lake).unwrap();
        assert_eq!(done.rolled_forward, ["c1"]);
        assert_eq!(
            file_names(&live).unwrap(),
            BTreeSet::from(["z.parquet".to_string()])
        );
        assert!(!CompactionRecord::path(&lake, "c1").exists());
        assert!(!lake.staging_dir("c1").exists());
        // A crash between the two renames of a file system without an atomic exchange leaves
        // the partition folder missing: recovery puts the staged copy there.
        let staged = CompactionRecord::staged_partition(&lake, "c2", part);
        std::fs::create_dir_all(&staged).unwrap();
        std::fs::write(staged.join("w.parquet"), "w").unwrap();
        let aside = lake.staging_dir("c2").join("replaced").join(part);
        std::fs::create_dir_all(aside.parent().unwrap()).unwrap();
        std::fs::rename(&live, &aside).unwrap();
        let record = CompactionRecord::one_swap("c2", part, &["z.parquet"], &["w.parquet"]);
        meta_file::write(&CompactionRecord::path(&lake, "c2"), &record).unwrap();
        assert_eq!(recover(&lake).unwrap().rolled_forward, ["c2"]);
        assert_eq!(
            file_names(&live).unwrap(),
            BTreeSet::from(["w.parquet".to_string()])
        );
        assert!(!lake.staging_dir("c2").exists());
        // Recovering again changes nothing.
        assert_eq!(recover(&lake).unwrap(), Recovered::default());
        assert_eq!(
            file_names(&live).unwrap(),
            BTreeSet::from(["w.parquet".to_string()])
        );
    }
}
