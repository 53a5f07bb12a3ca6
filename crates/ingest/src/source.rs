//! Finding the input files: named files, folders walked recursively, and globs.
//!
//! In walked folders only JSON-looking files count (`.json`, `.json.gz`, `.jsonl`, `.ndjson`,
//! each optionally gzipped); names starting with `.` or `_` are skipped as hidden, the way Hive
//! and Spark do. CloudTrail digest files (under `CloudTrail-Digest/`) are counted and skipped.
//! A file named explicitly is always read.
//!
//! With a [`DeliveryWindow`], the date folders of CloudTrail's layout
//! (`…/CloudTrail/<region>/YYYY/MM/DD/`) outside it are not even listed, so a nightly run over
//! years of history reads a few folders, not all of them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use chrono::NaiveDate;
use trawl_lake::ledger::{Ledger, SourceStamp};
use walkdir::WalkDir;

use crate::error::IngestError;

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    /// Its absolute path, or its `s3://bucket/key`.
    pub path: PathBuf,
    /// Its size in bytes, as listed.
    pub size: u64,
    /// What changes when it is rewritten: the modification time in nanoseconds since the epoch
    /// for a file, the ETag for an object.
    pub version: String,
    /// For an object: the index of its store in [`Listing::stores`], and its key.
    pub object: Option<(usize, String)>,
}

impl SourceFile {
    /// How the ledger remembers this file.
    pub fn stamp(&self) -> SourceStamp {
        SourceStamp {
            key: self.path.to_string_lossy().into_owned(),
            size: self.size,
            stamp: self.version.clone(),
        }
    }
}

/// The delivery days to list (both ends included; `None` is open).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryWindow {
    /// First day listed.
    pub since: Option<NaiveDate>,
    /// Last day listed.
    pub until: Option<NaiveDate>,
}

impl DeliveryWindow {
    /// Whether the date folder at `path` (a year, month or day of CloudTrail's layout) can hold
    /// days in the window. Folders that are not date folders are always kept.
    pub(crate) fn keeps(&self, path: &Path) -> bool {
        let Some((first, last)) = date_folder_span(path) else {
            return true;
        };
        self.since.is_none_or(|s| last >= s) && self.until.is_none_or(|u| first <= u)
    }
}

/// The components of `path` as bytes, split at its separators, empty ones skipped. Listing
/// takes a few apart for each of thousands of files: `Path::components` parsed each one and
/// cost more than the rest of listing a file.
fn parts(path: &Path) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.as_os_str()
        .as_encoded_bytes()
        .split(|&b| std::path::is_separator(char::from(b)))
        .filter(|c| !c.is_empty())
}

/// The components of `path` after its last folder named one of `trails` (CloudTrail's
/// `CloudTrail`, `CloudTrail-Insight`…): the region, the date folders and the file name.
fn after_trail_folder<'p>(path: &'p Path, trails: &[&str]) -> Option<Vec<&'p [u8]>> {
    let mut parts: Vec<&[u8]> = parts(path).collect();
    let trail = parts
        .iter()
        .rposition(|c| trails.iter().any(|t| *c == t.as_bytes()))?;
    parts.drain(..=trail);
    Some(parts)
}

/// The order a run reads `path` in: files outside CloudTrail's layout first, then those of
/// `…/CloudTrail/<region>/YYYY/MM/DD/<file>` by region and day folders; then by path. As one
/// string of bytes, compared without taking the path apart again.
fn reading_key(path: &Path) -> Vec<u8> {
    let bytes = path.as_os_str().as_encoded_bytes();
    let parts = after_trail_folder(path, &["CloudTrail", "CloudTrail-Insight"]);
    // The region, year, month and day, then the file name.
    let Some([region, year, month, day, _file]) = parts.as_deref() else {
        return [&[0][..], bytes].concat();
    };
    // A zero byte (never in a path) ends the region, so a region that is a prefix of another
    // sorts first, as it does alone.
    [
        &[1][..],
        region,
        &[0],
        year,
        b"/",
        month,
        b"/",
        day,
        &[0],
        bytes,
    ]
    .concat()
}

/// The first and last day a CloudTrail date folder (`…/CloudTrail/<region>/YYYY[/MM[/DD]]`)
/// covers.
fn date_folder_span(path: &Path) -> Option<(NaiveDate, NaiveDate)> {
    let after = after_trail_folder(
        path,
        &["CloudTrail", "CloudTrail-Insight", "CloudTrail-Digest"],
    )?;
    let folders: Vec<&str> = after
        .get(1..)?
        .iter()
        .map(|c| std::str::from_utf8(c).ok())
        .collect::<Option<_>>()?;
    let date: Vec<u32> = folders
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let digits_ok = folders.iter().zip([4, 2, 2]).all(|(p, n)| p.len() == n);
    if !digits_ok {
        return None;
    }
    match date.as_slice() {
        [y] => Some((
            NaiveDate::from_ymd_opt(*y as i32, 1, 1)?,
            NaiveDate::from_ymd_opt(*y as i32, 12, 31)?,
        )),
        [y, m] => {
            let first = NaiveDate::from_ymd_opt(*y as i32, *m, 1)?;
            let next = first.checked_add_months(chrono::Months::new(1))?;
            Some((first, next.pred_opt()?))
        }
        [y, m, d] => {
            let day = NaiveDate::from_ymd_opt(*y as i32, *m, *d)?;
            Some((day, day))
        }
        _ => None,
    }
}

/// The inputs of a run.
#[derive(Debug, Default)]
pub struct Listing {
    /// Files to read, each once: sorted by path as listed, put in reading order by
    /// [`Listing::order_for_reading`] when a run starts.
    pub files: Vec<SourceFile>,
    /// CloudTrail digest files passed over.
    pub digests_skipped: u64,
    /// Other files in walked folders that are not JSON.
    pub others_skipped: u64,
    /// Folder listings made (one per folder read), to show that old history is not walked.
    pub listings: u64,
    /// Files left out because the lake already holds them as they are.
    pub unchanged: u64,
    /// The object stores the listed objects are read from.
    pub stores: Vec<std::sync::Arc<dyn object_store::ObjectStore>>,
}

impl Listing {
    /// Leaves out the files `ledger` holds unchanged; a file whose size or modification time
    /// changed is read again.
    pub fn skip_held(&mut self, ledger: &Ledger) {
        let before = self.files.len();
        self.files.retain(|f| !ledger.holds(&f.stamp()));
        self.unchanged += (before - self.files.len()) as u64;
    }
}

impl Listing {
    /// Puts the files in the order a run reads them: grouped by the region and day folders of
    /// CloudTrail's layout, then by path. An organization trail holds one folder per account for
    /// every region and day; read account by account, the rows of one partition would arrive
    /// in as many pieces, to be written as as many small files.
    pub fn order_for_reading(&mut self) {
        // Paths compared as bytes: `Path`'s own order walks components, which made this sort
        // a tenth of a second of one core, before any file was read, for 20,000 files.
        self.files.sort_by_cached_key(|f| reading_key(&f.path));
    }

    /// Sorts the files by path and lists each path once. Paths compared as bytes: a
    /// `PathBuf` compares (and tests equality) component by component.
    pub fn sort_and_dedup(&mut self) {
        fn bytes(f: &SourceFile) -> &[u8] {
            f.path.as_os_str().as_encoded_bytes()
        }
        self.files.sort_by(|a, b| bytes(a).cmp(bytes(b)));
        self.files
            .dedup_by(|a, b| a.path.as_os_str() == b.path.as_os_str());
    }

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

pub(crate) fn is_digest(path: &Path) -> bool {
    parts(path).any(|c| c == b"CloudTrail-Digest")
}

pub(crate) fn looks_like_json(path: &Path) -> bool {
    let Some(name) = parts(path).next_back() else {
        return false;
    };
    JSON_SUFFIXES.iter().any(|s| {
        name.len() >= s.len() && name[name.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes())
    })
}

pub(crate) fn is_hidden(name: &OsStr) -> bool {
    matches!(name.as_encoded_bytes().first(), Some(b'.' | b'_'))
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Lists the files behind `sources` (paths or glob patterns), skipping date folders outside
/// `window`.
pub fn list(sources: &[String], window: DeliveryWindow) -> Result<Listing, IngestError> {
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
                add_path(&path, true, window, &mut listing)?;
            }
            if !matched {
                return Err(IngestError::MissingSource(source.clone()));
            }
        } else {
            let path = Path::new(source);
            if !path.exists() {
                return Err(IngestError::MissingSource(source.clone()));
            }
            add_path(path, true, window, &mut listing)?;
        }
    }
    listing.sort_and_dedup();
    Ok(listing)
}

fn add_path(
    path: &Path,
    named: bool,
    window: DeliveryWindow,
    listing: &mut Listing,
) -> Result<(), IngestError> {
    let path = std::fs::canonicalize(path).map_err(|e| IngestError::io(path, e))?;
    let meta = std::fs::metadata(&path).map_err(|e| IngestError::io(&path, e))?;
    if meta.is_file() {
        add_file(path, &meta, named, listing);
        return Ok(());
    }
    // Walked in order, so the sort in `list` finds the files already sorted. Entries of one
    // folder share its path up to their names: comparing whole paths as bytes orders them by
    // name, without taking each path apart again for every comparison as `sort_by_file_name`
    // does.
    let walk = WalkDir::new(&path)
        .follow_links(true)
        .sort_by(|a, b| a.path().as_os_str().cmp(b.path().as_os_str()))
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || (!is_hidden(e.file_name())
                    && (!e.file_type().is_dir() || window.keeps(e.path())))
        });
    for entry in walk {
        let entry = entry.map_err(|e| {
            let p = e.path().unwrap_or(&path).to_path_buf();
            IngestError::io(&p, e.into())
        })?;
        if entry.file_type().is_dir() {
            listing.listings += 1;
        } else if entry.file_type().is_file() {
            let meta = entry
                .metadata()
                .map_err(|e| IngestError::io(entry.path(), e.into()))?;
            add_file(entry.into_path(), &meta, false, listing);
        }
    }
    Ok(())
}

fn add_file(path: PathBuf, meta: &std::fs::Metadata, named: bool, listing: &mut Listing) {
    if is_digest(&path) {
        listing.digests_skipped += 1;
    } else if named || looks_like_json(&path) {
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        listing.files.push(SourceFile {
            path,
            size: meta.len(),
            version: modified_ns.to_string(),
            object: None,
        });
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

        let l = list(
            &[dir.path().to_string_lossy().into_owned()],
            DeliveryWindow::default(),
        )
        .unwrap();
        let names: Vec<_> = l
            .files
            .iter()
            .map(|f| f.path.file_name().unwrap())
            .collect();
        assert_eq!(names, ["a.json.gz", "b.json"]);
        assert_eq!((l.digests_skipped, l.others_skipped), (1, 1));

        let pattern = format!("{}/**/*.json.gz", dir.path().display());
        assert_eq!(
            list(&[pattern], DeliveryWindow::default())
                .unwrap()
                .files
                .len(),
            1
        );
        assert!(matches!(
            list(&["/no/such/dir".into()], DeliveryWindow::default()),
            Err(IngestError::MissingSource(_))
        ));
    }

    #[test]
    fn files_are_read_partition_by_partition_across_accounts() {
        let file = |p: &str| SourceFile {
            path: PathBuf::from(p),
            size: 1,
            version: String::new(),
            object: None,
        };
        let paths = [
            "/t/AWSLogs/o-1/111/CloudTrail/us-east-1/2024/03/11/a.json.gz",
            "/t/AWSLogs/o-1/111/CloudTrail/us-east-1/2024/03/12/b.json.gz",
            "/t/AWSLogs/o-1/111/CloudTrail/us-west-2/2024/03/11/c.json.gz",
            "/t/AWSLogs/o-1/222/CloudTrail/us-east-1/2024/03/11/d.json.gz",
            "/t/AWSLogs/o-1/222/CloudTrail-Insight/us-east-1/2024/03/12/e.json.gz",
            "/t/loose/z.json",
            "s3://b/AWSLogs/333/CloudTrail/us-east-1/2024/03/11/f.json.gz",
        ];
        let mut listing = Listing {
            files: paths.iter().map(|p| file(p)).collect(),
            ..Listing::default()
        };
        listing.order_for_reading();
        let names: Vec<_> = listing
            .files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "z.json",
                "a.json.gz",
                "d.json.gz",
                "f.json.gz",
                "b.json.gz",
                "e.json.gz",
                "c.json.gz"
            ]
        );
    }

    #[test]
    fn names_and_folders_are_recognised_from_the_path_bytes() {
        for (name, json) in [
            ("/t/a.json.gz", true),
            ("/t/A.JSON.GZ", true),
            ("/t/x.ndjson", true),
            ("/t/x.jsonl.gz", true),
            ("/t/x.json.bz2", false),
            ("/t/json", false),
            ("/t/.json/", true),
            ("", false),
        ] {
            assert_eq!(looks_like_json(Path::new(name)), json, "{name}");
        }
        assert!(is_digest(Path::new(
            "/t/AWSLogs/111/CloudTrail-Digest/us-east-1/2024/03/11/d.json.gz"
        )));
        assert!(!is_digest(Path::new(
            "/t/AWSLogs/111/CloudTrail-Digests/d.json.gz"
        )));
        assert!(is_hidden(OsStr::new(".x")) && is_hidden(OsStr::new("_x")));
        assert!(!is_hidden(OsStr::new("x_")));

        let file = |p: &str, size| SourceFile {
            path: PathBuf::from(p),
            size,
            version: String::new(),
            object: None,
        };
        let mut listing = Listing {
            files: vec![
                file("/t/b", 1),
                file("/t/a/c", 1),
                file("/t/a", 1),
                file("/t/b", 2),
            ],
            ..Listing::default()
        };
        listing.sort_and_dedup();
        let kept: Vec<_> = listing
            .files
            .iter()
            .map(|f| (f.path.to_str().unwrap(), f.size))
            .collect();
        assert_eq!(kept, [("/t/a", 1), ("/t/a/c", 1), ("/t/b", 1)]);
    }

    #[test]
    fn a_region_named_like_the_start_of_another_is_read_first() {
        let key = |p: &str| reading_key(Path::new(p));
        let short = key("/t/CloudTrail/us-east/2024/03/12/a.json");
        let long = key("/t/CloudTrail/us-east-1/2024/03/11/a.json");
        assert!(short < long);
        assert!(key("/t/loose/z.json") < long);
    }

    #[test]
    fn a_window_prunes_date_folders_before_listing_them() {
        let dir = tempfile::tempdir().unwrap();
        let region = dir.path().join("AWSLogs/111122223333/CloudTrail/us-east-1");
        let mut days = 0;
        for year in 2019..2025 {
            for month in 1..=12 {
                for day in [1, 15, 28] {
                    let d = region.join(format!("{year}/{month:02}/{day:02}"));
                    std::fs::create_dir_all(&d).unwrap();
                    std::fs::write(d.join("x.json.gz"), b"x").unwrap();
                    days += 1;
                }
            }
        }
        let all = list(
            &[dir.path().to_string_lossy().into_owned()],
            DeliveryWindow::default(),
        )
        .unwrap();
        assert_eq!(all.files.len(), days);
        let window = DeliveryWindow {
            since: NaiveDate::from_ymd_opt(2024, 12, 14),
            until: None,
        };
        let recent = list(&[dir.path().to_string_lossy().into_owned()], window).unwrap();
        let names: Vec<String> = recent
            .files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(region.canonicalize().unwrap())
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["2024/12/15/x.json.gz", "2024/12/28/x.json.gz"]);
        // root, AWSLogs, account, CloudTrail, region, 2024, 2024/12, and the two days.
        assert_eq!(recent.listings, 9, "{}", all.listings);
        assert!(all.listings > 200);
    }

    #[test]
    fn date_folders_are_recognised_only_in_the_layout() {
        let span = |p: &str| date_folder_span(Path::new(p));
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            span("/x/CloudTrail/us-east-1/2024"),
            Some((day(2024, 1, 1), day(2024, 12, 31)))
        );
        assert_eq!(
            span("/x/CloudTrail/us-east-1/2024/02"),
            Some((day(2024, 2, 1), day(2024, 2, 29)))
        );
        assert_eq!(
            span("/x/CloudTrail-Insight/eu-west-1/2024/03/11"),
            Some((day(2024, 3, 11), day(2024, 3, 11)))
        );
        assert_eq!(span("/x/CloudTrail/us-east-1"), None);
        assert_eq!(span("/x/backup/2024/03/11"), None);
        assert_eq!(span("/x/CloudTrail/us-east-1/24/3"), None);
    }
}
