//! Opening a lake for writing: one writer at a time, and whatever an interrupted writer left is
//! finished or removed first, so every run starts from a lake a clean run could have made.

use trawl_lake::Lake;
use trawl_lake::commit::{self, Recovered};
use trawl_lake::lock::{Wait, WriterLock};

use crate::error::IngestError;

/// The lake, locked for one writer and recovered.
#[derive(Debug)]
pub struct WriteAccess {
    /// Released when this is dropped.
    pub lock: WriterLock,
    /// What recovery did.
    pub recovered: Recovered,
}

/// Takes the writer lock (waiting for it with [`Wait::Yes`], telling `on_wait` who holds it)
/// and recovers interrupted work.
pub fn open_for_writing(
    lake: &Lake,
    command: &str,
    wait: Wait,
    on_wait: impl FnOnce(&str),
) -> Result<WriteAccess, IngestError> {
    let lock = WriterLock::acquire(lake, command, wait, on_wait)?;
    let recovered = commit::recover(lake)?;
    Ok(WriteAccess { lock, recovered })
}
