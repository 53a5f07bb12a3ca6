//! `trawl compact`: a partition's files merged into one, sorted by eventtime, with events that
//! were delivered more than once (same eventID, same content) kept once.
//!
//! Each partition is rebuilt in staging and swapped in whole (see [`trawl_lake::commit`]), so
//! a reader sees the old files or the new, and a crash leaves one or the other.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, RecordBatch, new_null_array};
use arrow::compute::filter_record_batch;
use arrow::row::{RowConverter, SortField};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::ChunkReader;
use trawl_lake::Lake;
use trawl_lake::commit::{self, CompactionRecord, PartitionSwap};
use trawl_lake::schema::{self, EVENT_ID};
use xxhash_rust::xxh3::xxh3_128;

use crate::error::IngestError;
use crate::sort::sort_by_event_time;
use crate::writer::{write_parquet, writer_properties};

/// Which partitions to compact.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompactOptions {
    /// Only partitions whose date is before this day (so today's stay untouched).
    pub before: Option<NaiveDate>,
}

/// What a compaction did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CompactSummary {
    /// Partitions looked at.
    pub partitions_seen: u64,
    /// Partitions rewritten.
    pub partitions_compacted: u64,
    /// Parquet files in the rewritten partitions before.
    pub files_before: u64,
    /// Parquet files in them after.
    pub files_after: u64,
    /// Rows kept.
    pub rows: u64,
    /// Duplicate deliveries dropped.
    pub duplicates_dropped: u64,
}

impl CompactSummary {
    /// Counts one partition whose `files` became one file of `rows`, `dropped` duplicates
    /// fewer.
    pub(crate) fn add_partition(&mut self, files: usize, rows: u64, dropped: u64) {
        self.partitions_compacted += 1;
        self.files_before += files as u64;
        self.files_after += 1;
        self.rows += rows;
        self.duplicates_dropped += dropped;
    }
}

/// Compacts every partition of `lake` with more than one file. Hold the writer lock.
pub fn compact(lake: &Lake, options: CompactOptions) -> Result<CompactSummary, IngestError> {
    let mut summary = CompactSummary::default();
    for (partition, day) in partitions(&lake.table_dir())? {
        summary.partitions_seen += 1;
        if options.before.is_some_and(|b| day >= b) {
            continue;
        }
        let live = lake.table_dir().join(&partition);
        let files = parquet_files(&live)?;
        if files.len() < 2 {
            continue;
        }
        let id = format!("compact-{}", crate::run::new_run_id());
        let (rows, dropped, new_name) = rewrite(lake, &id, &partition, &files)?;
        let record = CompactionRecord {
            version: 1,
            id,
            swaps: vec![PartitionSwap {
                partition,
                old: files.iter().map(|f| file_name(f)).collect(),
                new: vec![new_name],
            }],
            copied_at: None,
        };
        commit::commit_compaction(lake, &record)?;
        summary.add_partition(files.len(), rows, dropped);
    }
    Ok(summary)
}

/// Writes the merged file of `partition` into its staged copy; returns rows kept, duplicates
/// dropped and the new file's name.
fn rewrite(
    lake: &Lake,
    id: &str,
    partition: &str,
    files: &[PathBuf],
) -> Result<(u64, u64, String), IngestError> {
    let mut batches = Vec::new();
    for f in files {
        let file = std::fs::File::open(f).map_err(|e| IngestError::io(f, e))?;
        read_batches(file, &mut batches)?;
    }
    write_merged(
        batches,
        &CompactionRecord::staged_partition(lake, id, partition),
        id,
    )
}

/// Appends the rows of one Parquet file to `batches`, in the lake's current schema.
pub(crate) fn read_batches<R: ChunkReader + 'static>(
    file: R,
    batches: &mut Vec<RecordBatch>,
) -> Result<(), IngestError> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(64 * 1024)
        .build()?;
    for batch in reader {
        batches.push(conform(&batch?)?);
    }
    Ok(())
}

/// Writes a partition's rows, duplicates dropped and sorted, as `<dir>/<id>.parquet`;
/// returns rows kept, duplicates dropped and the file's name.
pub(crate) fn write_merged(
    batches: Vec<RecordBatch>,
    dir: &Path,
    id: &str,
) -> Result<(u64, u64, String), IngestError> {
    let before: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let unique = drop_duplicates(&batches)?;
    drop(batches);
    let merged = sort_by_event_time(unique)?;
    let dropped = (before - merged.num_rows()) as u64;
    std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, e))?;
    let name = format!("{id}.parquet");
    write_parquet(&dir.join(&name), &merged, writer_properties())?;
    commit::sync_dir(dir)?;
    Ok((merged.num_rows() as u64, dropped, name))
}

/// `batch` in the lake's current schema: columns matched by name, missing ones null, so files
/// written before a column was added merge with newer ones.
fn conform(batch: &RecordBatch) -> Result<RecordBatch, IngestError> {
    let target = schema::file_schema();
    if batch.schema().fields() == target.fields() {
        return Ok(batch.clone());
    }
    let columns = target
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Ok(Arc::clone(c)),
            Some(c) => arrow::compute::cast(c, f.data_type()),
            None => Ok(new_null_array(f.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(target, columns)?)
}

/// Keeps the first of rows that are equal in every column and have an eventID; rows without
/// an eventID are all kept, as ingest keeps them.
fn drop_duplicates(batches: &[RecordBatch]) -> Result<Vec<RecordBatch>, IngestError> {
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let converter = RowConverter::new(
        first
            .schema()
            .fields()
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect(),
    )?;
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let rows = converter.convert_columns(batch.columns())?;
        let ids = batch.column(EVENT_ID);
        let keep: BooleanArray = (0..batch.num_rows())
            .map(|i| Some(ids.is_null(i) || seen.insert(xxh3_128(rows.row(i).as_ref()))))
            .collect();
        out.push(filter_record_batch(batch, &keep)?);
    }
    Ok(out)
}

/// Every Parquet file of the table.
pub(crate) fn table_files(table: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    for (partition, _) in partitions(table)? {
        out.extend(parquet_files(&table.join(partition))?);
    }
    Ok(out)
}

/// Every `region=…/date=…` folder, with its day.
fn partitions(table: &Path) -> Result<Vec<(String, NaiveDate)>, IngestError> {
    let mut out = Vec::new();
    for region in sorted_dirs(table)? {
        for date in sorted_dirs(&region)? {
            let name = file_name(&date);
            let Some(day) = name
                .strip_prefix("date=")
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            else {
                continue;
            };
            out.push((format!("{}/{name}", file_name(&region)), day));
        }
    }
    Ok(out)
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for e in entries {
                let e = e.map_err(|e| IngestError::io(dir, e))?;
                if e.file_type().is_ok_and(|t| t.is_dir()) && !is_hidden(&e.path()) {
                    out.push(e.path());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(IngestError::io(dir, e)),
    }
    out.sort();
    Ok(out)
}

fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| IngestError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !is_hidden(p) && p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    out.sort();
    Ok(out)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

fn is_hidden(p: &Path) -> bool {
    is_hidden_name(&file_name(p))
}

/// Whether a file or folder name is one readers skip (`.x`, `_x`).
pub(crate) fn is_hidden_name(n: &str) -> bool {
    n.starts_with('.') || n.starts_with('_')
}
