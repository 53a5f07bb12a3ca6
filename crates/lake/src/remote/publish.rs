//! How a writer changes a lake in S3 so that a crash at any moment, followed by the next
//! writer's [`recover`], leaves exactly what a clean run would have.
//!
//! **Ingest.** The run's files are uploaded under `_trawl/staging/<run>/` (invisible to
//! readers, who list only `cloudtrail/`). Creating the run's ledger record with
//! `If-None-Match: *` is the commit point; then each file is copied into the table (a copy
//! appears whole) and staging is deleted. Staging with a ledger record is rolled forward,
//! staging without one is deleted.
//!
//! **Compaction.** The merged files are uploaded to staging and a compaction record naming
//! the old and new files is created (the commit point); the new files are copied in and the
//! record is marked copied. S3 has no atomic swap of a folder, so readers go by the records
//! ([`CompactionState`]): before the mark they hide the new files, after it the old ones. The
//! old files and the record are deleted [`GRACE`] after the mark, by a later writer, so that a
//! query planned before the mark can still read the old files.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::Path;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::buffered::BufWriter;
use object_store::path::Path as Key;
use object_store::{ObjectStoreExt, PutMode};

use super::lease::Lease;
use super::{RemoteError, RemoteLake, crash_point, record_id};
use crate::commit::{CompactionRecord, Recovered};
use crate::ledger::{self, LedgerRecord};

/// Files uploaded or copied at once.
const PARALLEL_FILES: usize = 8;
/// Bytes read from a local file per upload call.
const UPLOAD_CHUNK: usize = 8 << 20;

fn staging(run: &str) -> String {
    format!("_trawl/staging/{run}")
}

/// The key a run's file `rel` (relative to the table) is staged under.
fn staged_table_key(lake: &RemoteLake, run: &str, rel: &str) -> Key {
    lake.key(&format!("{}/table/{rel}", staging(run)))
}

fn staged_quarantine_key(lake: &RemoteLake, run: &str) -> Key {
    lake.key(&format!("{}/quarantine.jsonl", staging(run)))
}

/// The key of run `run`'s ledger record.
pub fn ledger_key(lake: &RemoteLake, run: &str) -> Key {
    lake.meta_key(&format!("ledger/{run}.json"))
}

fn compaction_key(lake: &RemoteLake, id: &str) -> Key {
    lake.meta_key(&format!("compactions/{id}.json"))
}

/// Uploads the local file `from` to `to`, in parts when large.
pub async fn upload(lake: &RemoteLake, from: &Path, to: &Key) -> Result<(), RemoteError> {
    let local = |e: std::io::Error| RemoteError::Request(format!("{}: {e}", from.display()));
    let mut file = std::fs::File::open(from).map_err(local)?;
    let mut writer = BufWriter::new(lake.store().clone(), to.clone());
    let failed = |e: object_store::Error| lake.failed(to, &e);
    loop {
        let mut chunk = Vec::with_capacity(UPLOAD_CHUNK);
        let n = (&mut file)
            .take(UPLOAD_CHUNK as u64)
            .read_to_end(&mut chunk)
            .map_err(local)?;
        if n == 0 {
            break;
        }
        if let Err(e) = writer.put(Bytes::from(chunk)).await {
            let _ = writer.abort().await;
            return Err(failed(e));
        }
    }
    tokio::io::AsyncWriteExt::shutdown(&mut writer)
        .await
        .map_err(|e| RemoteError::Request(format!("{}: {e}", lake.show(to))))
}

/// Creates `key` holding `value` with `If-None-Match: *`. A conflict is checked by reading it
/// back: a create that succeeded but whose answer was lost is retried by the client and then
/// conflicts with itself, which is success.
pub async fn create_checked<T>(lake: &RemoteLake, key: &Key, value: &T) -> Result<(), RemoteError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq,
{
    match lake.put_json(key, value, PutMode::Create).await {
        Err(RemoteError::Exists(what)) => match lake.get_json::<T>(key).await? {
            Some(current) if &current == value => Ok(()),
            _ => Err(RemoteError::Exists(what)),
        },
        other => other.map(|_| ()),
    }
}

/// Uploads the files `rels` of the local `staged_table` folder to `id`'s staging, several at
/// once.
async fn upload_staged(
    lake: &RemoteLake,
    id: &str,
    rels: &[String],
    staged_table: &Path,
) -> Result<(), RemoteError> {
    futures::stream::iter(rels)
        .map(|rel| async move {
            upload(
                lake,
                &staged_table.join(rel),
                &staged_table_key(lake, id, rel),
            )
            .await
        })
        .buffer_unordered(PARALLEL_FILES)
        .try_collect()
        .await
}

/// Copies the files `rels` (relative to the table) staged by `id` into the table, several at
/// once, and returns every key staged. A file no longer staged must be in the table already
/// (copied before a crash); if it is not, `missing` says why, given its table key and the
/// error of looking for it.
async fn copy_staged_in(
    lake: &RemoteLake,
    id: &str,
    rels: &[String],
    missing: impl Fn(&Key, object_store::Error) -> RemoteError + Sync,
) -> Result<HashSet<Key>, RemoteError> {
    let staged: HashSet<Key> = lake
        .list(&staging(id))
        .await?
        .into_iter()
        .map(|m| m.location)
        .collect();
    let (staged_ref, missing) = (&staged, &missing);
    futures::stream::iter(rels)
        .map(|rel| async move {
            let (from, to) = (staged_table_key(lake, id, rel), lake.table_key(rel));
            if staged_ref.contains(&from) {
                return lake.copy(&from, &to).await;
            }
            match lake.store().head(&to).await {
                Ok(_) => Ok(()),
                Err(e) => Err(missing(&to, e)),
            }
        })
        .buffer_unordered(PARALLEL_FILES)
        .try_collect::<()>()
        .await?;
    Ok(staged)
}

/// Commits an ingest run whose files were written under the local `staged_table` folder (and
/// its quarantine to `staged_quarantine`): upload to staging, create the ledger record, publish.
pub async fn commit_run(
    lake: &RemoteLake,
    lease: &Lease,
    record: &LedgerRecord,
    staged_table: &Path,
    staged_quarantine: &Path,
) -> Result<(), RemoteError> {
    let run = &record.run_id;
    upload_staged(lake, run, &record.files, staged_table).await?;
    if record.quarantine.is_some() {
        upload(lake, staged_quarantine, &staged_quarantine_key(lake, run)).await?;
    }
    crash_point("ingest-staged");
    lease.check()?;
    create_checked(lake, &ledger_key(lake, run), record).await?;
    crash_point("ingest-committed");
    publish_run(lake, record).await
}

/// Copies what is still staged for a committed run into place, then deletes its staging.
async fn publish_run(lake: &RemoteLake, record: &LedgerRecord) -> Result<(), RemoteError> {
    let run = &record.run_id;
    let staged = copy_staged_in(lake, run, &record.files, |to, _| {
        RemoteError::Request(format!(
            "{}: a file of committed run {run} is neither staged nor in the table; restore it \
             from a backup (or S3 versioning), or remove the run's ledger record {} and ingest \
             its sources again",
            lake.show(to),
            lake.show(&ledger_key(lake, run))
        ))
    })
    .await?;
    crash_point("ingest-copied");
    if let Some(name) = &record.quarantine {
        let from = staged_quarantine_key(lake, run);
        if staged.contains(&from) {
            lake.copy(&from, &lake.meta_key(&format!("quarantine/{name}")))
                .await?;
        }
    }
    lake.delete_all(staged.into_iter().collect()).await
}

/// How long the old files of a compaction stay after the new ones are in place (hidden from
/// readers), for queries planned before: they are deleted by the first writer after that.
pub const GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Commits a compaction whose new files were written under the local `staged_table` folder
/// (`<partition>/<file>`): upload, create the record, copy in, mark the record copied.
pub async fn commit_compaction(
    lake: &RemoteLake,
    lease: &Lease,
    record: &CompactionRecord,
    staged_table: &Path,
) -> Result<(), RemoteError> {
    let id = &record.id;
    upload_staged(lake, id, &new_files(record), staged_table).await?;
    lease.check()?;
    create_checked(lake, &compaction_key(lake, id), record).await?;
    crash_point("compaction-committed");
    finish_compaction(lake, record.clone()).await.map(|_| ())
}

/// A compaction's new files, relative to the table.
fn new_files(record: &CompactionRecord) -> Vec<String> {
    record
        .swaps
        .iter()
        .flat_map(|s| s.new.iter().map(move |n| format!("{}/{n}", s.partition)))
        .collect()
}

/// How far [`finish_compaction`] got.
#[derive(Debug, PartialEq, Eq)]
enum Finished {
    /// The new files were copied in by this call.
    Copied,
    /// The new files were in place already; the old ones wait out [`GRACE`].
    Waiting,
    /// The old files and the record are gone.
    Done,
}

async fn finish_compaction(
    lake: &RemoteLake,
    mut record: CompactionRecord,
) -> Result<Finished, RemoteError> {
    let id = record.id.clone();
    let mut outcome = Finished::Waiting;
    if record.copied_at.is_none() {
        copy_staged_in(lake, &id, &new_files(&record), |to, e| {
            RemoteError::Request(crate::s3::explain(&e, &lake.show(to)))
        })
        .await?;
        crash_point("compaction-copied");
        record.copied_at = Some(now_text());
        lake.put_json(&compaction_key(lake, &id), &record, PutMode::Overwrite)
            .await?;
        outcome = Finished::Copied;
    }
    lake.delete_folder(&staging(&id)).await?;
    let copied = record
        .copied_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    if copied.is_some_and(|t| chrono::Utc::now() - t.to_utc() >= GRACE) {
        let deletes = record
            .swaps
            .iter()
            .flat_map(|swap| {
                swap.old
                    .iter()
                    .filter(|o| !swap.new.contains(o))
                    .map(|o| lake.table_key(&format!("{}/{o}", swap.partition)))
            })
            .collect();
        lake.delete_all(deletes).await?;
        lake.delete(&compaction_key(lake, &id)).await?;
        outcome = Finished::Done;
    }
    Ok(outcome)
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Finishes or removes whatever an interrupted writer left. Call it holding the lease. When
/// the lease was taken from a writer that may still be at work (its lease lapsed),
/// `holder_may_run`: its staging is left alone while recent, as it may yet commit.
pub async fn recover(lake: &RemoteLake, holder_may_run: bool) -> Result<Recovered, RemoteError> {
    let mut done = Recovered::default();
    for (key, record) in lake
        .records::<CompactionRecord>("_trawl/compactions")
        .await?
    {
        if record.id != record_id(&key) {
            return Err(RemoteError::Damaged {
                url: lake.show(&key),
                reason: format!("it names compaction `{}`", record.id),
            });
        }
        let id = record.id.clone();
        if finish_compaction(lake, record).await? == Finished::Copied {
            done.rolled_forward.push(id);
        }
    }
    let base = lake.meta_key("staging");
    let mut runs: BTreeMap<String, chrono::DateTime<chrono::Utc>> = BTreeMap::new();
    for meta in lake.list("_trawl/staging").await? {
        let Some(run) =
            RemoteLake::relative(&meta.location, &base).and_then(|r| r.split('/').next())
        else {
            continue;
        };
        let newest = runs.entry(run.to_string()).or_insert(meta.last_modified);
        *newest = (*newest).max(meta.last_modified);
    }
    let recent = chrono::Utc::now()
        - chrono::TimeDelta::from_std(super::lease::TTL * 2).expect("a small duration");
    for (run, newest) in runs {
        match lake
            .get_json::<LedgerRecord>(&ledger_key(lake, &run))
            .await?
        {
            Some(record) if record.version == ledger::VERSION && record.run_id == run => {
                publish_run(lake, &record).await?;
                done.rolled_forward.push(run);
            }
            _ if holder_may_run && newest > recent => {}
            _ => {
                lake.delete_folder(&staging(&run)).await?;
                done.rolled_back.push(run);
            }
        }
    }
    Ok(done)
}

/// Every ledger record, oldest run first; a damaged one is an error naming it.
pub async fn ledger_records(lake: &RemoteLake) -> Result<Vec<LedgerRecord>, RemoteError> {
    let mut out = Vec::new();
    for (key, record) in lake.records::<LedgerRecord>("_trawl/ledger").await? {
        let id = record_id(&key);
        if let Err(reason) = ledger::validate(&record, &id) {
            return Err(RemoteError::Damaged {
                url: lake.show(&key),
                reason,
            });
        }
        out.push(record);
    }
    Ok(out)
}

/// What readers of the lake must know of compactions under way: the records (id, and whether
/// copied) and the table files to hide. A reader takes it before and after listing the table,
/// and lists again if it changed, so its listing matches one state of every compaction.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CompactionState {
    /// Each record's id, and whether its new files were all in place.
    pub records: Vec<(String, bool)>,
    /// Table files to leave out: a compaction's new files before it is marked copied (some
    /// may be missing), its old ones after (some may be deleted).
    pub hidden: HashSet<Key>,
}

/// The lake's [`CompactionState`] now.
pub async fn compaction_state(lake: &RemoteLake) -> Result<CompactionState, RemoteError> {
    let mut state = CompactionState::default();
    for (_, record) in lake
        .records::<CompactionRecord>("_trawl/compactions")
        .await?
    {
        let copied = record.copied_at.is_some();
        for swap in &record.swaps {
            let hide = if copied { &swap.old } else { &swap.new };
            state.hidden.extend(
                hide.iter()
                    .filter(|n| !(copied && swap.new.contains(n)))
                    .map(|n| lake.table_key(&format!("{}/{n}", swap.partition))),
            );
        }
        state.records.push((record.id, copied));
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use object_store::PutPayload;
    use object_store::memory::InMemory;

    use super::*;
    use crate::s3::S3Url;

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn lake() -> RemoteLake {
        let url = S3Url::parse("s3://bucket/lake/").unwrap();
        RemoteLake::new(url, Arc::new(InMemory::new()))
    }

    async fn put(lake: &RemoteLake, key: &Key) {
        lake.store()
            .put(key, PutPayload::from(vec![1u8; 8]))
            .await
            .unwrap();
    }

    async fn table(lake: &RemoteLake) -> Vec<String> {
        let base = lake.key(crate::layout::TABLE_DIR);
        lake.list(crate::layout::TABLE_DIR)
            .await
            .unwrap()
            .iter()
            .filter_map(|m| RemoteLake::relative(&m.location, &base).map(String::from))
            .collect()
    }

    #[test]
    fn readers_hide_new_files_until_copied_then_old_ones_until_deleted() {
        run(async {
            let lake = lake();
            let part = "region=a/date=2024-03-01";
            for f in ["x.parquet", "y.parquet"] {
                put(&lake, &lake.table_key(&format!("{part}/{f}"))).await;
            }
            put(
                &lake,
                &staged_table_key(&lake, "c1", &format!("{part}/z.parquet")),
            )
            .await;
            let mut record =
                CompactionRecord::one_swap("c1", part, &["x.parquet", "y.parquet"], &["z.parquet"]);
            let key = compaction_key(&lake, "c1");
            create_checked(&lake, &key, &record).await.unwrap();
            // Committed, not yet copied: the new file is hidden.
            let state = compaction_state(&lake).await.unwrap();
            assert_eq!(state.records, [("c1".to_string(), false)]);
            assert_eq!(
                state.hidden,
                HashSet::from([lake.table_key(&format!("{part}/z.parquet"))])
            );
            // Recovery copies and marks it: the old files are hidden and kept for the grace.
            let done = recover(&lake, false).await.unwrap();
            assert_eq!(done.rolled_forward, ["c1"]);
            assert_eq!(table(&lake).await.len(), 3);
            let state = compaction_state(&lake).await.unwrap();
            assert_eq!(state.records, [("c1".to_string(), true)]);
            assert_eq!(state.hidden.len(), 2);
            assert_eq!(recover(&lake, false).await.unwrap(), Recovered::default());
            assert_eq!(table(&lake).await.len(), 3, "within the grace");
            // Once the grace is over, the next writer deletes the old files and the record.
            record.copied_at = Some("2020-01-01T00:00:00Z".into());
            lake.put_json(&key, &record, PutMode::Overwrite)
                .await
                .unwrap();
            recover(&lake, false).await.unwrap();
            assert_eq!(table(&lake).await, [format!("{part}/z.parquet")]);
            assert_eq!(
                compaction_state(&lake).await.unwrap(),
                CompactionState::default()
            );
        });
    }

    #[test]
    fn a_create_whose_answer_was_lost_counts_as_done_and_another_as_a_conflict() {
        run(async {
            let lake = lake();
            let key = lake.meta_key("ledger/r1.json");
            create_checked(&lake, &key, &7u32).await.unwrap();
            // The client retrying the same create after a lost answer.
            create_checked(&lake, &key, &7u32).await.unwrap();
            let e = create_checked(&lake, &key, &8u32).await.unwrap_err();
            assert!(matches!(e, RemoteError::Exists(_)), "{e}");
        });
    }

    #[test]
    fn recent_staging_of_a_writer_that_may_still_run_is_left_alone() {
        run(async {
            let lake = lake();
            put(
                &lake,
                &staged_table_key(&lake, "r1", "region=a/date=2024-03-01/f.parquet"),
            )
            .await;
            let kept = recover(&lake, true).await.unwrap();
            assert!(kept.rolled_back.is_empty());
            assert_eq!(lake.list("_trawl/staging").await.unwrap().len(), 1);
            let removed = recover(&lake, false).await.unwrap();
            assert_eq!(removed.rolled_back, ["r1"]);
            assert!(lake.list("_trawl/staging").await.unwrap().is_empty());
        });
    }
}
