//! Writing and inspecting a lake in S3. A run stages its files in a local scratch folder
//! exactly as it would for a local lake; [`trawl_lake::remote::publish`] then uploads and
//! commits them with conditional writes, under the lake's lease.
//!
//! These calls block: make them outside the Tokio runtime whose handle they are given.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use bytes::Bytes;
use chrono::NaiveDate;
use futures::StreamExt;
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStoreExt};
use parquet::file::metadata::ParquetMetaDataReader;
use tokio::runtime::Handle;
use trawl_lake::commit::{self, CompactionRecord, PartitionSwap, Recovered};
use trawl_lake::layout::TABLE_DIR;
use trawl_lake::ledger::{Ledger, LedgerRecord};
use trawl_lake::lock::Wait;
use trawl_lake::remote::lease::Lease;
use trawl_lake::remote::{RemoteError, RemoteLake, publish};
use trawl_lake::{Lake, run_log};

use crate::compact::{CompactOptions, CompactSummary, is_hidden_name, read_batches, write_merged};
use crate::error::IngestError;
use crate::progress::Progress;
use crate::run::{IngestOptions, Summary, ingest_with, new_run_id};
use crate::source::Listing;
use crate::status::{LakeStatus, PartitionStatus, figures};

/// Footers and objects read at once.
const PARALLEL_READS: usize = 16;

/// A lake in S3, leased for one writer and recovered.
#[derive(Debug)]
pub struct RemoteWriteAccess {
    /// Released when this is dropped.
    pub lease: Lease,
    /// What recovery did.
    pub recovered: Recovered,
}

/// Takes the lake's lease (waiting for it with [`Wait::Yes`], telling `on_wait` who holds it)
/// and recovers interrupted work.
pub fn open_for_writing(
    rt: &Handle,
    lake: &RemoteLake,
    command: &str,
    wait: Wait,
    on_wait: impl FnOnce(&str),
) -> Result<RemoteWriteAccess, IngestError> {
    let lease = rt.block_on(Lease::acquire(lake, command, wait, on_wait))?;
    let recovered = rt.block_on(publish::recover(lake, lease.holder_may_run))?;
    Ok(RemoteWriteAccess { lease, recovered })
}

/// Every source the lake holds.
pub fn load_ledger(rt: &Handle, lake: &RemoteLake) -> Result<Ledger, IngestError> {
    rt.block_on(ledger(lake)).map_err(damaged_ledger)
}

async fn ledger(lake: &RemoteLake) -> Result<Ledger, RemoteError> {
    let mut ledger = Ledger::default();
    for record in publish::ledger_records(lake).await? {
        ledger.add(&record);
    }
    Ok(ledger)
}

fn damaged_ledger(e: RemoteError) -> IngestError {
    match e {
        RemoteError::Damaged { url, reason } => IngestError::Remote(format!(
            "{url} is damaged ({reason})\nThe ledger decides what is already in the lake, so \
             trawl will not guess: restore the record from S3 versioning or a backup, or delete \
             it and ingest its sources again (duplicates are then dropped by `trawl compact`)."
        )),
        e => e.into(),
    }
}

/// A local scratch folder for files on their way to S3; removed when dropped.
fn scratch() -> Result<tempfile::TempDir, IngestError> {
    tempfile::Builder::new()
        .prefix("trawl-scratch-")
        .tempdir()
        .map_err(|e| IngestError::io(&std::env::temp_dir(), e))
}

/// Ingests the files of `listing` into the lake in S3.
pub fn ingest(
    rt: &Handle,
    lake: &RemoteLake,
    access: &RemoteWriteAccess,
    listing: Listing,
    options: &IngestOptions,
    progress: &Progress,
) -> Result<Summary, IngestError> {
    let scratch = scratch()?;
    let work = Lake::new(scratch.path());
    ingest_with(
        &work,
        listing,
        options,
        progress,
        &|record: &LedgerRecord| {
            let staging = work.staging_dir(&record.run_id);
            rt.block_on(publish::commit_run(
                lake,
                &access.lease,
                record,
                &commit::staged_table(&staging),
                &commit::staged_quarantine(&staging),
            ))?;
            Ok(PathBuf::from(format!("{}_trawl/quarantine", lake.url())))
        },
    )
}

/// Adds `record` to the lake's run log.
pub fn log_run(
    rt: &Handle,
    lake: &RemoteLake,
    record: &run_log::RunRecord,
) -> Result<(), IngestError> {
    Ok(rt.block_on(run_log::append_remote(lake, record))?)
}

/// The table's Parquet files by partition (`region=…/date=…`), hidden files left out.
async fn table_files(lake: &RemoteLake) -> Result<BTreeMap<String, Vec<ObjectMeta>>, IngestError> {
    let base = lake.key(TABLE_DIR);
    let mut out: BTreeMap<String, Vec<ObjectMeta>> = BTreeMap::new();
    for meta in lake.list(TABLE_DIR).await? {
        let Some(rel) = RemoteLake::relative(&meta.location, &base) else {
            continue;
        };
        let parts: Vec<&str> = rel.split('/').collect();
        let [region, date, name] = parts[..] else {
            continue;
        };
        if !region.starts_with("region=")
            || !date.starts_with("date=")
            || is_hidden_name(name)
            || !name.ends_with(".parquet")
        {
            continue;
        }
        out.entry(format!("{region}/{date}"))
            .or_default()
            .push(meta);
    }
    Ok(out)
}

/// Compacts every partition of the lake in S3 with more than one file (see
/// [`crate::compact`]).
pub fn compact(
    rt: &Handle,
    lake: &RemoteLake,
    access: &RemoteWriteAccess,
    options: CompactOptions,
) -> Result<CompactSummary, IngestError> {
    let mut summary = CompactSummary::default();
    let scratch = scratch()?;
    // Old files of earlier compactions wait out their grace period hidden: not merged again.
    let hidden = rt.block_on(publish::compaction_state(lake))?.hidden;
    for (partition, files) in rt.block_on(table_files(lake))? {
        summary.partitions_seen += 1;
        let files: Vec<ObjectMeta> = files
            .into_iter()
            .filter(|m| !hidden.contains(&m.location))
            .collect();
        let day = partition
            .split_once("/date=")
            .and_then(|(_, d)| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        if options.before.is_some_and(|b| day.is_none_or(|d| d >= b)) || files.len() < 2 {
            continue;
        }
        let id = format!("compact-{}", new_run_id());
        let mut batches = Vec::new();
        for meta in &files {
            let bytes = rt.block_on(get(lake, &meta.location))?;
            read_batches(bytes, &mut batches)?;
        }
        let staged = scratch.path().join(&id);
        let (rows, dropped, new_name) = write_merged(batches, &staged.join(&partition), &id)?;
        let record = CompactionRecord {
            version: 1,
            id,
            swaps: vec![PartitionSwap {
                partition,
                old: files
                    .iter()
                    .filter_map(|m| m.location.filename().map(String::from))
                    .collect(),
                new: vec![new_name],
            }],
            copied_at: None,
        };
        rt.block_on(publish::commit_compaction(
            lake,
            &access.lease,
            &record,
            &staged,
        ))?;
        let _ = std::fs::remove_dir_all(&staged);
        summary.add_partition(files.len(), rows, dropped);
    }
    Ok(summary)
}

async fn get(lake: &RemoteLake, key: &Key) -> Result<Bytes, IngestError> {
    let explain =
        |e: object_store::Error| IngestError::Remote(trawl_lake::s3::explain(&e, &lake.show(key)));
    lake.store()
        .get(key)
        .await
        .map_err(explain)?
        .bytes()
        .await
        .map_err(explain)
}

/// Rows and newest eventtime of one object, from its footer (one or two range reads).
async fn footer(lake: &RemoteLake, meta: &ObjectMeta) -> Result<(u64, Option<i64>), String> {
    const GUESS: u64 = 64 << 10;
    let key = &meta.location;
    let explain = |e: object_store::Error| trawl_lake::s3::explain(&e, &lake.show(key));
    let range = |r: GetRange| GetOptions {
        range: Some(r),
        ..Default::default()
    };
    let tail = lake
        .store()
        .get_opts(key, range(GetRange::Suffix(GUESS.min(meta.size))))
        .await
        .map_err(explain)?
        .bytes()
        .await
        .map_err(explain)?;
    let n = tail.len();
    if n < 8 || &tail[n - 4..] != b"PAR1" {
        return Err(format!("{}: not a Parquet file", lake.show(key)));
    }
    let len = u32::from_le_bytes(tail[n - 8..n - 4].try_into().expect("4 bytes")) as usize;
    let metadata = if len + 8 <= n {
        tail.slice(n - 8 - len..n - 8)
    } else {
        let end = meta.size - 8;
        let start = end
            .checked_sub(len as u64)
            .ok_or_else(|| format!("{}: damaged footer", lake.show(key)))?;
        lake.store()
            .get_range(key, start..end)
            .await
            .map_err(explain)?
    };
    let parsed = ParquetMetaDataReader::decode_metadata(&metadata)
        .map_err(|e| format!("{}: {e}", lake.show(key)))?;
    Ok(figures(&parsed))
}

/// The status of the lake in S3, with the last `runs` runs (see [`crate::status`]).
pub fn status(rt: &Handle, lake: &RemoteLake, runs: usize) -> Result<LakeStatus, IngestError> {
    rt.block_on(async {
        let mut status = LakeStatus::default();
        let hidden: HashSet<Key> = publish::compaction_state(lake).await?.hidden;
        for (partition, files) in table_files(lake).await? {
            let (region, date) = partition.split_once('/').expect("region=…/date=…");
            let mut p = PartitionStatus {
                region: region.trim_start_matches("region=").to_string(),
                date: date.trim_start_matches("date=").to_string(),
                ..Default::default()
            };
            let files: Vec<ObjectMeta> = files
                .into_iter()
                .filter(|m| !hidden.contains(&m.location))
                .collect();
            let footers: Vec<_> = futures::stream::iter(&files)
                .map(|m| footer(lake, m))
                .buffered(PARALLEL_READS)
                .collect()
                .await;
            for (meta, footer) in files.iter().zip(footers) {
                p.files += 1;
                p.bytes += meta.size;
                match footer {
                    Ok((rows, newest)) => {
                        p.rows += rows;
                        p.newest_micros = p.newest_micros.max(newest);
                    }
                    Err(e) => status.problems.push(e),
                }
            }
            status.partitions.push(p);
        }
        match run_log::last_remote(lake, runs).await {
            Ok(r) => status.runs = r,
            Err(e) => status.problems.push(e.to_string()),
        }
        match ledger(lake).await {
            Ok(l) => status.sources_held = l.len(),
            Err(e) => status.problems.push(e.to_string()),
        }
        let quarantine: Vec<ObjectMeta> = lake.list("_trawl/quarantine").await?;
        let counts: Vec<Result<u64, IngestError>> = futures::stream::iter(&quarantine)
            .map(|m| async move {
                let bytes = get(lake, &m.location).await?;
                Ok(memchr::memchr_iter(b'\n', &bytes).count() as u64)
            })
            .buffered(PARALLEL_READS)
            .collect()
            .await;
        for (m, count) in quarantine.iter().zip(counts) {
            match count {
                Ok(n) => status.quarantine.push((lake.show(&m.location), n)),
                Err(e) => status.problems.push(e.to_string()),
            }
        }
        Ok::<_, IngestError>(status)
    })
}

/// The error for a step that reads the lake's files from disk (`--rebuild-ledger`).
pub fn refuse_local_only(lake: &RemoteLake, what: &str) -> IngestError {
    IngestError::Remote(format!(
        "{}: {what} works on a local lake only; copy the lake down (aws s3 sync), run it \
         there, and copy it back",
        lake.url()
    ))
}
