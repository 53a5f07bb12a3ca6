//! One writer at a time: `trawl ingest` and `trawl compact` hold `_trawl/lock` while they
//! change the lake.
//!
//! The lock is an advisory `flock` on that file, which the kernel releases when the holder
//! exits in any way, `kill -9` included: a lock can never go stale, so no guess about whether a
//! holder is still alive is ever needed. The file's text names the holder, for the message the
//! next writer prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

use crate::Lake;

/// Held while a writer changes the lake; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct WriterLock {
    file: File,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another writer holds it.
    #[error(
        "another trawl is writing to this lake ({holder}); wait for it to finish, or run with \
         --wait to queue behind it"
    )]
    Busy { holder: String },
    /// The lock file could not be opened or locked.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Whether to queue behind a running writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    No,
    Yes,
}

impl WriterLock {
    /// Takes the lake's writer lock for `command` (e.g. `trawl ingest`). With [`Wait::Yes`],
    /// `on_wait` is told who holds it and the call blocks until it is free.
    pub fn acquire(
        lake: &Lake,
        command: &str,
        wait: Wait,
        on_wait: impl FnOnce(&str),
    ) -> Result<WriterLock, LockError> {
        let path = lake.lock_path();
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = holder(&mut file);
                if wait == Wait::No {
                    return Err(LockError::Busy { holder });
                }
                on_wait(&holder);
                file.lock().map_err(io)?;
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let text = format!(
            "pid {} running `{command}` since {}",
            std::process::id(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        Ok(WriterLock { file })
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|_| file.read_to_string(&mut text));
    let text = text.trim();
    if text.is_empty() {
        "a writer that is just starting".into()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_until_the_first_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path());
        let first = WriterLock::acquire(&lake, "trawl ingest", Wait::No, |_| {}).unwrap();
        let e = WriterLock::acquire(&lake, "trawl compact", Wait::No, |_| {}).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("running `trawl ingest`"), "{text}");
        assert!(text.contains("--wait"), "{text}");
        drop(first);
        WriterLock::acquire(&lake, "trawl compact", Wait::No, |_| {}).unwrap();
    }

    #[test]
    fn a_waiting_writer_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path());
        let first = WriterLock::acquire(&lake, "trawl ingest", Wait::No, |_| {}).unwrap();
        let lake2 = lake.clone();
        let waiter = std::thread::spawn(move || {
            let mut told = String::new();
            WriterLock::acquire(&lake2, "trawl compact", Wait::Yes, |h| told = h.to_string())
                .map(|_| told)
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(first);
        let told = waiter.join().unwrap().unwrap();
        assert!(told.contains("trawl ingest"), "{told}");
    }
}
