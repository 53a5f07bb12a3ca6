//! Errors that stop an ingest run (per-file problems are reported, not raised).

use std::path::{Path, PathBuf};

/// An error that ends the run before it commits.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Reading or writing a file of the lake, or listing a source, failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A source named on the command line does not exist or matches nothing.
    #[error("{0}: no such file, folder or glob match")]
    MissingSource(String),
    /// A glob pattern is malformed.
    #[error("bad glob pattern {pattern}: {source}")]
    Glob {
        pattern: String,
        source: glob::PatternError,
    },
    /// Building or sorting Arrow data failed.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    /// Encoding Parquet failed.
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Another writer holds the lake, or its lock could not be taken.
    #[error(transparent)]
    Lock(#[from] trawl_lake::lock::LockError),
    /// Committing, or recovering an interrupted writer's work, failed.
    #[error(transparent)]
    Commit(#[from] trawl_lake::commit::CommitError),
    /// The ledger cannot be trusted.
    #[error(transparent)]
    Ledger(#[from] trawl_lake::ledger::DamagedLedger),
    /// An object store refused or failed a listing.
    #[error("{0}")]
    Remote(String),
    /// A bookkeeping file could not be read or written.
    #[error(transparent)]
    Meta(#[from] trawl_lake::meta_file::MetaError),
    /// A lake in S3 could not be read or changed.
    #[error(transparent)]
    Lake(#[from] trawl_lake::remote::RemoteError),
    /// A worker thread died.
    #[error("an ingest worker stopped unexpectedly: {0}")]
    Worker(String),
}

impl IngestError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        IngestError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
