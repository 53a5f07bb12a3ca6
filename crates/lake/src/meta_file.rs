//! trawl's own small JSON files under `_trawl/` (check state, and the like): written whole by
//! rename so a crash leaves the old file or the new one, and validated when read so a damaged
//! file is reported with its path and the fix instead of being trusted.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A bookkeeping file that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not what trawl wrote.
    #[error("{path} is damaged ({reason})")]
    Damaged { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MetaError + '_ {
    move |source| MetaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads `path` as JSON of type `T`; `None` when it does not exist.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, MetaError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| MetaError::Damaged {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

/// Writes `value` to `path` atomically: a temporary file beside it, synced, then renamed over.
pub fn write<T: Serialize>(path: &Path, value: &T) -> Result<(), MetaError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        // Serialized in memory first: written straight to the file, a ledger record of tens of
        // thousands of sources costs a system call per token.
        let mut text = serde_json::to_vec_pretty(value).map_err(|e| io(&tmp)(e.into()))?;
        text.push(b'\n');
        let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(&text).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io(path))?;
        // The rename is durable once the folder is.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("_trawl/state.json");
        assert_eq!(read::<u32>(&path).unwrap(), None);
        write(&path, &7u32).unwrap();
        assert_eq!(read::<u32>(&path).unwrap(), Some(7));
        std::fs::write(&path, "{half").unwrap();
        let e = read::<u32>(&path).unwrap_err().to_string();
        assert!(e.contains("state.json is damaged"), "{e}");
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }
}
