//! Records that could not be stored, kept byte for byte with where they came from and why.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Serialize;

use crate::error::IngestError;

/// One refused record.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantinedRecord {
    /// The input file.
    pub source: String,
    /// The record's position in its file, from 1.
    pub record: u64,
    /// Why it was refused.
    pub reason: String,
    /// The record's text, when it is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// The record's bytes in base64, when they are not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_base64: Option<String>,
}

impl QuarantinedRecord {
    /// Keeps `bytes` exactly.
    pub fn new(source: &Path, record: u64, reason: String, bytes: &[u8]) -> Self {
        let (raw, raw_base64) = match std::str::from_utf8(bytes) {
            Ok(s) => (Some(s.to_string()), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            ),
        };
        Self {
            source: source.display().to_string(),
            record,
            reason,
            raw,
            raw_base64,
        }
    }
}

/// Appends quarantined records to a JSON Lines file, created on the first record.
#[derive(Debug)]
pub struct QuarantineFile {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    count: u64,
}

impl QuarantineFile {
    /// A quarantine file at `path` (not created until needed).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            out: None,
            count: 0,
        }
    }

    /// Writes one record.
    pub fn add(&mut self, record: &QuarantinedRecord) -> Result<(), IngestError> {
        let path = &self.path;
        if self.out.is_none() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, e))?;
            }
            let file = File::create(path).map_err(|e| IngestError::io(path, e))?;
            self.out = Some(BufWriter::new(file));
        }
        let out = self.out.as_mut().expect("opened above");
        serde_json::to_writer(&mut *out, record).map_err(|e| IngestError::io(path, e.into()))?;
        out.write_all(b"\n").map_err(|e| IngestError::io(path, e))?;
        self.count += 1;
        Ok(())
    }

    /// Flushes and syncs; returns the path and count if anything was written.
    pub fn finish(self) -> Result<Option<(PathBuf, u64)>, IngestError> {
        let Some(out) = self.out else { return Ok(None) };
        let file = out
            .into_inner()
            .map_err(|e| IngestError::io(&self.path, e.into_error()))?;
        file.sync_all()
            .map_err(|e| IngestError::io(&self.path, e))?;
        Ok(Some((self.path, self.count)))
    }
}
