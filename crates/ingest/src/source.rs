//! Finding the input files: named files, folders walked recursively, and globs.
//!
//! In walked folders only JSON-looking files count (`.json`, `.json.gz`, `.jsonl`, `.ndjson`,
//! each optionally gzipped); names starting with `.` or `_` are skipped as hidden, the way Hive
//! and Spark do. CloudTrail digest files (under `CloudTrail-Digest/`) are counted and skipped.
//! A file named explicitly is always read.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::IngestError;

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes, as listed.
    pub size: u64,
}

/// The inputs of a run.
#[derive(Debug, Default)]
pub struct Listing {
    /// Files to read, sorted by path, each once.
    pub files: Vec<SourceFile>,
    /// CloudTrail digest files passed over.
    pub digests_skipped: u64,
    /// Other files in walked folders that are not JSON.
    pub others_skipped: u64,
}

impl Listing {
    /// Total bytes to read.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

const JSON_SUFFIXES: &[&str] = &[
    ".json",
    ".json.gz",
    ".jsonl",
    ".jsonl.gz",
    ".ndjson",
    ".ndjson.gz",
];

fn is_digest(path: &Path) -> bool {
    path.components()
        .any(|c| c.as_os_str() == "CloudTrail-Digest")
}

fn looks_like_json(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase());
    name.is_some_and(|n| JSON_SUFFIXES.iter().any(|s| n.ends_with(s)))
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    let n = name.to_string_lossy();
    n.starts_with('.') || n.starts_with('_')
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Lists the files behind `sources` (paths or glob patterns).
pub fn list(sources: &[String]) -> Result<Listing, IngestError> {
    let mut listing = Listing::default();
    for source in sources {
        if is_glob(source) && !Path::new(source).exists() {
            let paths = glob::glob(source).map_err(|e| IngestError::Glob {
                pattern: source.clone(),
                source: e,
            })?;
            let mut matched = false;
            for entry in paths {
                let path = entry.map_err(|e| {
                    let path = e.path().to_path_buf();
                    IngestError::io(&path, e.into())
                })?;
                matched = true;
                add_path(&path, true, &mut listing)?;
            }
            if !matched {
                return Err(IngestError::MissingSource(source.clone()));
            }
        } else {
            let path = Path::new(source);
            if !path.exists() {
                return Err(IngestError::MissingSource(source.clone()));
            }
            add_path(path, true, &mut listing)?;
        }
    }
    listing.files.sort();
    listing.files.dedup_by(|a, b| a.path == b.path);
    Ok(listing)
}

fn add_path(path: &Path, named: bool, listing: &mut Listing) -> Result<(), IngestError> {
    let meta = std::fs::metadata(path).map_err(|e| IngestError::io(path, e))?;
    if meta.is_file() {
        add_file(path.to_path_buf(), meta.len(), named, listing);
        return Ok(());
    }
    let walk = WalkDir::new(path)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
    for entry in walk {
        let entry = entry.map_err(|e| {
            let p = e.path().unwrap_or(path).to_path_buf();
            IngestError::io(&p, e.into())
        })?;
        if entry.file_type().is_file() {
            let size = entry
                .metadata()
                .map_err(|e| IngestError::io(entry.path(), e.into()))?
                .len();
            add_file(entry.into_path(), size, false, listing);
        }
    }
    Ok(())
}

fn add_file(path: PathBuf, size: u64, named: bool, listing: &mut Listing) {
    if is_digest(&path) {
        listing.digests_skipped += 1;
    } else if named || looks_like_json(&path) {
        listing.files.push(SourceFile { path, size });
    } else {
        listing.others_skipped += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_cloudtrail_layout_and_skips_digests_and_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("AWSLogs/o-abc/111122223333");
        let trail = base.join("CloudTrail/us-east-1/2024/03/11");
        let digest = base.join("CloudTrail-Digest/us-east-1/2024/03/11");
        for d in [&trail, &digest, &dir.path().join("_hidden")] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(trail.join("a.json.gz"), b"x").unwrap();
        std::fs::write(trail.join("b.json"), b"x").unwrap();
        std::fs::write(trail.join("notes.txt"), b"x").unwrap();
        std::fs::write(digest.join("d.json.gz"), b"x").unwrap();
        std::fs::write(dir.path().join("_hidden/c.json"), b"x").unwrap();
        std::fs::write(dir.path().join("_manifest.json"), b"x").unwrap();

        let l = list(&[dir.path().to_string_lossy().into_owned()]).unwrap();
        let names: Vec<_> = l
            .files
            .iter()
            .map(|f| f.path.file_name().unwrap())
            .collect();
        assert_eq!(names, ["a.json.gz", "b.json"]);
        assert_eq!((l.digests_skipped, l.others_skipped), (1, 1));

        let pattern = format!("{}/**/*.json.gz", dir.path().display());
        assert_eq!(list(&[pattern]).unwrap().files.len(), 1);
        assert!(matches!(
            list(&["/no/such/dir".into()]),
            Err(IngestError::MissingSource(_))
        ));
    }
}
