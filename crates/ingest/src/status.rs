//! `trawl status`: what the lake holds and how fresh it is, read from folder listings and
//! Parquet footers (no data pages), plus the run log and the quarantine.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::statistics::Statistics;
use trawl_lake::Lake;
use trawl_lake::ledger::Ledger;
use trawl_lake::run_log::{self, RunRecord};
use trawl_lake::schema::SORT_COLUMN;

use crate::error::IngestError;

/// One partition folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionStatus {
    /// The region folder's value (Hive-escaped).
    pub region: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Parquet files.
    pub files: u64,
    /// Rows, from the footers.
    pub rows: u64,
    /// Bytes on disk.
    pub bytes: u64,
    /// Newest eventtime, microseconds since the epoch, from the footers' statistics.
    pub newest_micros: Option<i64>,
}

/// The whole report.
#[derive(Debug, Clone, Default)]
pub struct LakeStatus {
    /// Every partition, by region then date.
    pub partitions: Vec<PartitionStatus>,
    /// The last runs, newest first.
    pub runs: Vec<RunRecord>,
    /// Quarantine files and the records in each.
    pub quarantine: Vec<(String, u64)>,
    /// Source files the ledger holds.
    pub sources_held: usize,
    /// Problems met while reading (a damaged footer, run record or ledger), each naming its
    /// file; the rest of the report is still given.
    pub problems: Vec<String>,
}

/// One region, summed over its partitions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionStatus {
    /// The region folder's value.
    pub region: String,
    /// Partitions (days).
    pub partitions: u64,
    /// Parquet files.
    pub files: u64,
    /// Rows.
    pub rows: u64,
    /// Bytes on disk.
    pub bytes: u64,
    /// First day held.
    pub first_date: String,
    /// Last day held.
    pub last_date: String,
    /// Newest eventtime, microseconds since the epoch: how fresh the region is.
    pub newest_micros: Option<i64>,
}

impl LakeStatus {
    /// Per region sums, by region.
    pub fn by_region(&self) -> Vec<RegionStatus> {
        let mut out: BTreeMap<&str, RegionStatus> = BTreeMap::new();
        for p in &self.partitions {
            let r = out
                .entry(p.region.as_str())
                .or_insert_with(|| RegionStatus {
                    region: p.region.clone(),
                    first_date: p.date.clone(),
                    ..Default::default()
                });
            r.partitions += 1;
            r.files += p.files;
            r.rows += p.rows;
            r.bytes += p.bytes;
            r.last_date = p.date.clone();
            r.newest_micros = r.newest_micros.max(p.newest_micros);
        }
        out.into_values().collect()
    }
}

/// Reads the status of `lake`, with the last `runs` runs.
pub fn status(lake: &Lake, runs: usize) -> Result<LakeStatus, IngestError> {
    let mut status = LakeStatus::default();
    let table = lake.table_dir();
    for region in dirs(&table)? {
        let region_name = name(&region);
        let Some(region_value) = region_name.strip_prefix("region=") else {
            continue;
        };
        for date in dirs(&region)? {
            let date_name = name(&date);
            let Some(day) = date_name.strip_prefix("date=") else {
                continue;
            };
            let mut p = PartitionStatus {
                region: region_value.to_string(),
                date: day.to_string(),
                ..Default::default()
            };
            for file in std::fs::read_dir(&date).map_err(|e| IngestError::io(&date, e))? {
                let path = file.map_err(|e| IngestError::io(&date, e))?.path();
                if path.extension().is_none_or(|e| e != "parquet") || name(&path).starts_with('.') {
                    continue;
                }
                p.files += 1;
                match footer(&path) {
                    Ok((bytes, rows, newest)) => {
                        p.bytes += bytes;
                        p.rows += rows;
                        p.newest_micros = p.newest_micros.max(newest);
                    }
                    Err(e) => status.problems.push(format!("{}: {e}", path.display())),
                }
            }
            status.partitions.push(p);
        }
    }
    match run_log::last(lake, runs) {
        Ok(r) => status.runs = r,
        Err(e) => status.problems.push(e.to_string()),
    }
    match Ledger::load(lake) {
        Ok(l) => status.sources_held = l.len(),
        Err(e) => status.problems.push(e.to_string()),
    }
    let quarantine = lake.quarantine_dir();
    if let Ok(entries) = std::fs::read_dir(&quarantine) {
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let lines = std::fs::File::open(&f)
                .map(|file| std::io::BufReader::new(file).lines().count() as u64)
                .unwrap_or(0);
            status.quarantine.push((f.display().to_string(), lines));
        }
    }
    Ok(status)
}

/// Size, rows and newest eventtime of one file, from its footer.
fn footer(path: &Path) -> Result<(u64, u64, Option<i64>), parquet::errors::ParquetError> {
    let file = std::fs::File::open(path)?;
    let bytes = file.metadata()?.len();
    let reader = SerializedFileReader::new(file)?;
    let (rows, newest) = figures(reader.metadata());
    Ok((bytes, rows, newest))
}

/// Rows and newest eventtime, from a file's footer.
pub(crate) fn figures(meta: &ParquetMetaData) -> (u64, Option<i64>) {
    let rows = meta.file_metadata().num_rows().max(0) as u64;
    let column = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.path().string() == SORT_COLUMN);
    let newest = column.and_then(|i| {
        meta.row_groups()
            .iter()
            .filter_map(|rg| match rg.column(i).statistics() {
                Some(Statistics::Int64(s)) => s.max_opt().copied(),
                _ => None,
            })
            .max()
    });
    (rows, newest)
}

fn dirs(dir: &Path) -> Result<Vec<std::path::PathBuf>, IngestError> {
    let mut out = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for e in entries {
                let e = e.map_err(|e| IngestError::io(dir, e))?;
                if e.file_type().is_ok_and(|t| t.is_dir()) {
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

fn name(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}
