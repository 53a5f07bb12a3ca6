//! One ingest run: read the inputs in parallel, write partitioned files to staging, then
//! commit them (ledger record first, then atomic renames: see [`trawl_lake::commit`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::{Duration, Instant};

use trawl_lake::commit;
use trawl_lake::ledger::{self, LedgerRecord};
use trawl_lake::{Lake, PartitionKey};

use crate::decode::{DecodedBatch, Decoder};
use crate::dedup::DedupSet;
use crate::error::IngestError;
use crate::feed::{Feed, Fetched, fetch_all};
use crate::progress::Progress;
use crate::quarantine::{QuarantineFile, QuarantinedRecord};
use crate::read;
use crate::source::{Listing, SourceFile};
use crate::split::Piece;
use crate::writer::{PartitionWriter, StagedFile};

/// Rows a worker gathers before handing them to the writer.
const BATCH_ROWS: usize = 8192;

/// File reports a worker gathers before handing them over: one message per file would wake
/// the writer thousands of times a second for CloudTrail's many small files.
const REPORTS_PER_MESSAGE: usize = 256;

/// How a run is carried out.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Threads decoding input files.
    pub threads: usize,
    /// About how many bytes of decoded rows may be held before files are written.
    pub memory_budget: usize,
    /// Objects fetched at once from object stores.
    pub concurrency: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self {
            threads,
            memory_budget: 128 << 20,
            concurrency: 32,
        }
    }
}

/// What went wrong with one input file.
#[derive(Debug, Clone)]
pub struct FileProblem {
    /// The input file.
    pub path: PathBuf,
    /// Why reading stopped early, if it did. Records before that point were kept.
    pub error: Option<String>,
    /// Records quarantined from this file.
    pub quarantined: u64,
    /// Records stored from this file.
    pub stored: u64,
    /// The first quarantined records: position and reason.
    pub examples: Vec<(u64, String)>,
}

impl FileProblem {
    /// A one-line account for the user: the file, and what happened.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = &self.error {
            parts.push(e.clone());
        }
        if self.quarantined > 0 {
            let first = self
                .examples
                .first()
                .map(|(n, why)| format!(" (record {n}: {why})"))
                .unwrap_or_default();
            parts.push(format!("{} record(s) quarantined{first}", self.quarantined));
        }
        if self.stored == 0 && self.error.is_none() && self.quarantined > 0 {
            parts.push("no CloudTrail records".to_string());
        }
        parts.push(format!("{} stored", self.stored));
        format!("{}: {}", self.path.display(), parts.join("; "))
    }
}

/// The outcome of a run.
#[derive(Debug, Default)]
pub struct Summary {
    /// The run's id; its files are named after it.
    pub run_id: String,
    /// Input files read to the end.
    pub files_read: u64,
    /// Digest files passed over.
    pub digests_skipped: u64,
    /// Non-JSON files in walked folders passed over.
    pub others_skipped: u64,
    /// Folder listings made to find the inputs.
    pub listings: u64,
    /// Files left out because the lake already holds them unchanged.
    pub files_unchanged: u64,
    /// Input bytes read.
    pub bytes_read: u64,
    /// Events written to the table.
    pub events_written: u64,
    /// Events dropped because the same event had already been stored in this run.
    pub duplicates_dropped: u64,
    /// Records kept in quarantine.
    pub records_quarantined: u64,
    /// Where the quarantined records are.
    pub quarantine_file: Option<PathBuf>,
    /// Partitions that received files.
    pub partitions: BTreeSet<PartitionKey>,
    /// Parquet files published.
    pub files_written: u64,
    /// Every input file with a problem.
    pub problems: Vec<FileProblem>,
    /// Inputs that could not be opened or fetched: left out of the ledger, so the next run
    /// tries them again.
    pub unread: BTreeSet<PathBuf>,
    /// Wall time of the run.
    pub elapsed: Duration,
    staged: Vec<StagedFile>,
}

impl Summary {
    /// Input files with a problem (each listed in `problems`).
    pub fn files_with_problems(&self) -> usize {
        self.problems.len()
    }

    /// Whether everything given was stored (no file or record refused).
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
    }
}

enum Message {
    Rows(Vec<DecodedBatch>),
    Quarantine(QuarantinedRecord),
    FilesDone(Vec<FileReport>),
}

struct FileReport {
    path: PathBuf,
    /// It could not be opened or fetched at all: not recorded as read, so the next run tries
    /// again.
    unread: bool,
    stored: u64,
    duplicates: u64,
    quarantined: u64,
    error: Option<String>,
    examples: Vec<(u64, String)>,
}

/// A fresh run id: UTC start time plus a random suffix, so names never collide.
pub fn new_run_id() -> String {
    let now = chrono::Utc::now();
    let salt = xxhash_rust::xxh3::xxh3_64(
        format!(
            "{}-{}-{:?}",
            now.timestamp_nanos_opt().unwrap_or_default(),
            std::process::id(),
            std::thread::current().id()
        )
        .as_bytes(),
    );
    // Milliseconds, so runs started in the same second still sort in order.
    format!("{}-{:08x}", now.format("%Y%m%dT%H%M%S%3fZ"), salt as u32)
}

/// Ingests the files of `listing` into `lake`.
pub fn ingest(
    lake: &Lake,
    listing: Listing,
    options: &IngestOptions,
    progress: &Progress,
) -> Result<Summary, IngestError> {
    ingest_with(
        lake,
        listing,
        options,
        progress,
        &|record: &LedgerRecord| {
            commit::commit_run(lake, record)?;
            Ok(lake.quarantine_dir())
        },
    )
}

/// Commits a run whose files are staged in the working lake: given the run's ledger record,
/// it makes the run part of the lake and returns where its quarantine file ends up.
pub type Publish<'a> = dyn Fn(&LedgerRecord) -> Result<PathBuf, IngestError> + 'a;

/// Ingests the files of `listing`, staging them in `lake` and committing them with `publish`
/// (which may send them elsewhere, e.g. to a lake in S3).
pub fn ingest_with(
    lake: &Lake,
    mut listing: Listing,
    options: &IngestOptions,
    progress: &Progress,
    publish: &Publish<'_>,
) -> Result<Summary, IngestError> {
    let started = Instant::now();
    listing.order_for_reading();
    let run_id = new_run_id();
    if listing.files.is_empty() {
        return Ok(Summary {
            run_id,
            digests_skipped: listing.digests_skipped,
            others_skipped: listing.others_skipped,
            listings: listing.listings,
            files_unchanged: listing.unchanged,
            elapsed: started.elapsed(),
            ..Summary::default()
        });
    }
    let staging = lake.staging_dir(&run_id);
    std::fs::create_dir_all(&staging).map_err(|e| IngestError::io(&staging, e))?;
    progress
        .files_total
        .store(listing.files.len() as u64, Ordering::Relaxed);
    progress
        .bytes_total
        .store(listing.total_bytes(), Ordering::Relaxed);

    let result = write_staged(&listing, &run_id, &staging, options, progress);
    let outcome = result.and_then(|mut summary| {
        commit(lake, &run_id, &listing, &mut summary, publish)?;
        Ok(summary)
    });
    // Once the ledger record exists the run is committed: its staged files must stay for the
    // next writer's recovery to publish, even if publishing them failed here.
    if outcome.is_err() && !LedgerRecord::path(lake, &run_id).exists() {
        // Not committed: staging holds nothing a reader can see.
        let _ = std::fs::remove_dir_all(&staging);
    }
    let mut summary = outcome?;
    summary.run_id = run_id;
    summary.digests_skipped = listing.digests_skipped;
    summary.others_skipped = listing.others_skipped;
    summary.listings = listing.listings;
    summary.files_unchanged = listing.unchanged;
    summary.bytes_read = Progress::get(&progress.bytes_done);
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn write_staged(
    listing: &Listing,
    run_id: &str,
    staging: &Path,
    options: &IngestOptions,
    progress: &Progress,
) -> Result<Summary, IngestError> {
    let files = &listing.files;
    let (feed, fetch_tx) = Feed::new(listing, options.concurrency);
    let feed = &feed;
    let dedup = Arc::new(DedupSet::default());
    let threads = options.threads.clamp(1, files.len().max(1));
    let (tx, rx) = sync_channel::<Message>(threads * 2);

    std::thread::scope(|scope| {
        if let Some(tx) = fetch_tx {
            scope.spawn(move || fetch_all(listing, feed, options.concurrency, tx));
        }
        let mut workers = Vec::new();
        for _ in 0..threads {
            let tx = tx.clone();
            let dedup = Arc::clone(&dedup);
            workers.push(scope.spawn(move || {
                let mut decoder = Decoder::new(dedup);
                let mut scratch = read::Scratch::default();
                let mut reports = Vec::new();
                while let Some((file, fetched)) = feed.next() {
                    reports.push(read_file(
                        file,
                        fetched,
                        &mut decoder,
                        &mut scratch,
                        &tx,
                        progress,
                    ));
                    progress.files_done.fetch_add(1, Ordering::Relaxed);
                    if reports.len() >= REPORTS_PER_MESSAGE
                        && tx
                            .send(Message::FilesDone(std::mem::take(&mut reports)))
                            .is_err()
                    {
                        return;
                    }
                }
                let _ = tx.send(Message::Rows(decoder.take_batches()));
                let _ = tx.send(Message::FilesDone(reports));
            }));
        }
        drop(tx);

        let mut writer = PartitionWriter::new(
            commit::staged_table(staging),
            run_id.to_string(),
            options.memory_budget,
        );
        let mut quarantine = QuarantineFile::new(commit::staged_quarantine(staging));
        let mut summary = Summary::default();
        let mut failure = None;
        for message in rx {
            if failure.is_some() {
                continue; // Drain so the workers can finish; the run will not commit.
            }
            let step = match message {
                Message::Rows(batches) => batches.into_iter().try_for_each(|b| writer.push(b)),
                Message::Quarantine(record) => quarantine.add(&record),
                Message::FilesDone(reports) => {
                    reports.into_iter().for_each(|r| account(&mut summary, r));
                    Ok(())
                }
            };
            if let Err(e) = step {
                failure = Some(e);
            }
        }
        for w in workers {
            if w.join().is_err() {
                failure.get_or_insert(IngestError::Worker("a decoding thread panicked".into()));
            }
        }
        // No worker takes inputs now; if some died early, the fetch thread must not wait on
        // them.
        feed.close();
        if let Some(e) = failure {
            return Err(e);
        }
        // Workers finish files in no fixed order: list problems by path, as the inputs are.
        summary.problems.sort_by(|a, b| a.path.cmp(&b.path));
        let files = writer.finish()?;
        summary.files_written = files.len() as u64;
        summary.events_written = files.iter().map(|f| f.rows).sum();
        summary.partitions = files.iter().map(|f| f.partition.clone()).collect();
        summary.quarantine_file = quarantine.finish()?.map(|(path, _)| path);
        summary.staged = files;
        Ok(summary)
    })
}

fn account(summary: &mut Summary, report: FileReport) {
    summary.files_read += 1;
    if report.unread {
        summary.unread.insert(report.path.clone());
    }
    summary.duplicates_dropped += report.duplicates;
    summary.records_quarantined += report.quarantined;
    let empty = report.stored == 0 && report.quarantined == 0 && report.duplicates == 0;
    if report.error.is_some() || report.quarantined > 0 || empty {
        let error = if empty && report.error.is_none() {
            Some("empty file: no records".to_string())
        } else {
            report.error
        };
        summary.problems.push(FileProblem {
            path: report.path,
            error,
            quarantined: report.quarantined,
            stored: report.stored,
            examples: report.examples,
        });
    }
}

/// How many quarantine reasons are kept per file for the report.
const EXAMPLES_PER_FILE: usize = 3;

fn read_file(
    file: &SourceFile,
    fetched: Option<Fetched>,
    decoder: &mut Decoder,
    scratch: &mut read::Scratch,
    tx: &SyncSender<Message>,
    progress: &Progress,
) -> FileReport {
    let mut report = FileReport {
        path: file.path.clone(),
        unread: false,
        stored: 0,
        duplicates: 0,
        quarantined: 0,
        error: None,
        examples: Vec::new(),
    };
    let opened = match fetched {
        None => read::open(&file.path, &progress.bytes_done, scratch)
            .map_err(|e| format!("cannot open: {e}")),
        Some(Ok(bytes)) => {
            read::open_bytes(bytes, &progress.bytes_done, scratch).map_err(|e| e.to_string())
        }
        Some(Err(e)) => Err(e),
    };
    let (mut splitter, gzip) = match opened.map(|o| (o.records, o.gzip)) {
        Ok(opened) => opened,
        Err(e) => {
            report.error = Some(e);
            report.unread = true;
            return report;
        }
    };
    let mut index = 0u64;
    loop {
        let piece = match splitter.next_piece_onto(Some(decoder.tape_mut())) {
            Ok(Some(piece)) => piece,
            Ok(None) => break,
            Err(crate::split::SplitError::Io(e)) => {
                report.error = Some(read::describe(&e, gzip));
                break;
            }
            Err(e) => {
                report.error = Some(e.to_string());
                break;
            }
        };
        index += 1;
        match piece {
            Piece::Record {
                bytes,
                top_level,
                compact,
                on_tape,
            } => match if on_tape {
                decoder.append_read(bytes, compact)
            } else {
                decoder.append_scanned(bytes, compact)
            } {
                Ok(()) => report.stored += 1,
                Err(_) if top_level && bytes.contains(&b'\n') => {
                    // A multi-line top-level value that does not parse: perhaps JSON Lines with
                    // a broken line. Give each line its own chance.
                    for line in bytes.split(|c| *c == b'\n') {
                        let line = line.trim_ascii();
                        if line.is_empty() {
                            continue;
                        }
                        match decoder.append(line) {
                            Ok(()) => report.stored += 1,
                            Err(e) => quarantine(&mut report, tx, index, e.to_string(), line),
                        }
                    }
                }
                Err(e) => quarantine(&mut report, tx, index, e.to_string(), bytes),
            },
            Piece::Broken { bytes, reason } => quarantine(
                &mut report,
                tx,
                index,
                format!("invalid JSON: {reason}"),
                bytes,
            ),
        }
        if decoder.rows() >= BATCH_ROWS {
            let _ = tx.send(Message::Rows(decoder.take_batches()));
        }
    }
    let duplicates = decoder.settle_duplicates();
    report.stored -= duplicates;
    report.duplicates += duplicates;
    let text = splitter.into_buffer();
    scratch.recycle(text);
    progress.events.fetch_add(report.stored, Ordering::Relaxed);
    report
}

fn quarantine(
    report: &mut FileReport,
    tx: &SyncSender<Message>,
    index: u64,
    reason: String,
    bytes: &[u8],
) {
    report.quarantined += 1;
    if report.examples.len() < EXAMPLES_PER_FILE {
        report.examples.push((index, reason.clone()));
    }
    let record = QuarantinedRecord::new(&report.path, index, reason, bytes);
    let _ = tx.send(Message::Quarantine(record));
}

/// Commits the run with `publish`: its ledger record (every file read, every file written),
/// then the files.
fn commit(
    lake: &Lake,
    run_id: &str,
    listing: &Listing,
    summary: &mut Summary,
    publish: &Publish<'_>,
) -> Result<(), IngestError> {
    let table = commit::staged_table(&lake.staging_dir(run_id));
    let mut files = Vec::with_capacity(summary.staged.len());
    for f in std::mem::take(&mut summary.staged) {
        let rel = f.path.strip_prefix(&table).map_err(|_| {
            IngestError::Worker(format!("{} was written outside staging", f.path.display()))
        })?;
        files.push(rel.to_string_lossy().into_owned());
    }
    let quarantine = summary
        .quarantine_file
        .take()
        .map(|_| format!("{run_id}.jsonl"));
    let record = LedgerRecord {
        version: ledger::VERSION,
        run_id: run_id.to_string(),
        committed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        sources: listing
            .files
            .iter()
            .filter(|f| !summary.unread.contains(&f.path))
            .map(SourceFile::stamp)
            .collect(),
        files,
        quarantine: quarantine.clone(),
    };
    let quarantine_dir = publish(&record)?;
    summary.quarantine_file = quarantine.map(|name| quarantine_dir.join(name));
    Ok(())
}
