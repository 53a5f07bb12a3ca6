//! `trawl ingest --rebuild-ledger`: when a ledger record is damaged, decide again from the
//! lake's own files which listed sources it already holds.
//!
//! A source counts as held when every one of its records has an eventID and every such
//! eventID is in the lake. Damaged records are moved to `_trawl/ledger-damaged/` (never
//! deleted); readable ones are kept as they are. Sources not held are ingested by the run that
//! follows; a source stored only in part is stored again, and `trawl compact` then drops the
//! duplicate deliveries.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use arrow::array::AsArray;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use trawl_lake::Lake;
use trawl_lake::ledger::{self, Ledger, LedgerRecord, SourceStamp};
use trawl_lake::meta_file;
use xxhash_rust::xxh3::xxh3_128;

use crate::error::IngestError;
use crate::read;
use crate::source::{Listing, SourceFile};
use crate::split::Piece;

/// What the rebuild found.
#[derive(Debug, Default, Clone)]
pub struct Rebuilt {
    /// Damaged ledger records moved aside.
    pub moved_aside: Vec<PathBuf>,
    /// Distinct eventIDs in the lake.
    pub events_in_lake: usize,
    /// Listed sources found whole in the lake and recorded as held.
    pub sources_held: usize,
    /// Listed sources not (or not wholly) in the lake, left for the run to ingest.
    pub sources_missing: usize,
}

/// Rebuilds the ledger for the sources of `listing`. Hold the writer lock.
pub fn rebuild_ledger(
    lake: &Lake,
    listing: &Listing,
    threads: usize,
) -> Result<Rebuilt, IngestError> {
    if let Some(object) = listing.files.iter().find(|f| f.object.is_some()) {
        return Err(IngestError::Remote(format!(
            "{}: --rebuild-ledger reads local sources only; rebuild with a local copy of the \
             sources (aws s3 sync), or leave S3 sources out of this run",
            object.path.display()
        )));
    }
    let mut rebuilt = Rebuilt {
        moved_aside: move_damaged_aside(lake)?,
        ..Rebuilt::default()
    };
    let ledger = Ledger::load(lake)?;
    let ids = lake_event_ids(lake)?;
    rebuilt.events_in_lake = ids.len();
    let candidates: Vec<&SourceFile> = listing
        .files
        .iter()
        .filter(|f| !ledger.holds(&f.stamp()))
        .collect();
    let held = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let counter = AtomicU64::new(0);
                let mut scratch = read::Scratch::default();
                while let Some(f) = candidates.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if wholly_in_lake(f, &ids, &counter, &mut scratch) {
                        held.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(f.stamp());
                    }
                }
            });
        }
    });
    let mut held: Vec<SourceStamp> = held.into_inner().unwrap_or_else(|e| e.into_inner());
    held.sort_by(|a, b| a.key.cmp(&b.key));
    rebuilt.sources_held = held.len();
    rebuilt.sources_missing = candidates.len() - held.len();
    if !held.is_empty() {
        let run_id = format!("{}-rebuilt", crate::run::new_run_id());
        let record = LedgerRecord {
            version: ledger::VERSION,
            run_id: run_id.clone(),
            committed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            sources: held,
            files: Vec::new(),
            quarantine: None,
        };
        meta_file::write(&LedgerRecord::path(lake, &run_id), &record)
            .map_err(ledger::DamagedLedger)?;
    }
    Ok(rebuilt)
}

/// Moves every ledger record that does not read back whole to `_trawl/ledger-damaged/`.
fn move_damaged_aside(lake: &Lake) -> Result<Vec<PathBuf>, IngestError> {
    let dir = lake.ledger_dir();
    let mut moved = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(moved);
    };
    for entry in entries {
        let path = entry.map_err(|e| IngestError::io(&dir, e))?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let sound = matches!(
            meta_file::read::<LedgerRecord>(&path),
            Ok(Some(r)) if r.version == ledger::VERSION && r.run_id == stem
        );
        if !sound {
            let aside = lake
                .root()
                .join(trawl_lake::layout::META_DIR)
                .join("ledger-damaged");
            std::fs::create_dir_all(&aside).map_err(|e| IngestError::io(&aside, e))?;
            let to = aside.join(path.file_name().unwrap_or_default());
            std::fs::rename(&path, &to).map_err(|e| IngestError::io(&to, e))?;
            moved.push(to);
        }
    }
    Ok(moved)
}

/// Hashes of every eventID in the lake, sorted, read from the `eventid` column alone.
fn lake_event_ids(lake: &Lake) -> Result<Vec<u128>, IngestError> {
    let mut ids = Vec::new();
    for file in crate::compact::table_files(&lake.table_dir())? {
        let f = std::fs::File::open(&file).map_err(|e| IngestError::io(&file, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(f)?;
        let mask = ProjectionMask::columns(builder.parquet_schema(), ["eventid"]);
        for batch in builder.with_projection(mask).build()? {
            let batch = batch?;
            let column = batch.column(0).as_string::<i32>();
            ids.extend(column.iter().flatten().map(|id| xxh3_128(id.as_bytes())));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Whether every record of `file` has an eventID the lake holds.
fn wholly_in_lake(
    file: &SourceFile,
    ids: &[u128],
    counter: &AtomicU64,
    scratch: &mut read::Scratch,
) -> bool {
    #[derive(serde::Deserialize)]
    struct Id {
        #[serde(rename = "eventID")]
        event_id: Option<String>,
    }
    let Ok(read::Opened {
        records: mut splitter,
        ..
    }) = read::open(&file.path, counter, scratch)
    else {
        return false;
    };
    let whole = loop {
        match splitter.next_piece() {
            Ok(None) => break true,
            Ok(Some(Piece::Record { bytes, .. })) => {
                let present = serde_json::from_slice::<Id>(bytes)
                    .ok()
                    .and_then(|r| r.event_id)
                    .is_some_and(|id| ids.binary_search(&xxh3_128(id.as_bytes())).is_ok());
                if !present {
                    break false;
                }
            }
            Ok(Some(Piece::Broken { .. })) | Err(_) => break false,
        }
    };
    let text = splitter.into_buffer();
    scratch.recycle(text);
    whole
}
