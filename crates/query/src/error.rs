//! Errors of the query side.

/// A failure to open the lake, run a statement or write its results.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// DataFusion refused or failed the statement.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// A row could not be restored to its source record.
    #[error("restoring records: {0}")]
    Restore(#[from] trawl_lake::restore::RestoreError),
    /// Writing results failed.
    #[error("writing results: {0}")]
    Io(#[from] std::io::Error),
    /// Planning refused a statement at a known place.
    #[error("{message} (at line {line}, column {column})")]
    Located {
        message: String,
        line: u64,
        column: u64,
    },
    /// A meta-command (`\d`, `\format`, …) of a script is unknown or malformed.
    #[error(transparent)]
    Command(#[from] crate::command::CommandError),
    /// A saved query could not be found or prepared.
    #[error("{0}")]
    Saved(String),
}
