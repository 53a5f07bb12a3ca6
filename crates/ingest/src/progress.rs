//! Live counters of a run, for a progress display to poll.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters updated by the workers as they go. Reading them never blocks the run.
#[derive(Debug, Default)]
pub struct Progress {
    /// Input files to read.
    pub files_total: AtomicU64,
    /// Input bytes to read (as listed).
    pub bytes_total: AtomicU64,
    /// Input files finished.
    pub files_done: AtomicU64,
    /// Input bytes read from disk.
    pub bytes_done: AtomicU64,
    /// Events decoded.
    pub events: AtomicU64,
}

impl Progress {
    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
