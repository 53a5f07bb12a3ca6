//! Finding saved queries: the ones built into trawl (the repository's `queries/` folder) and
//! the user's own folders, each `<group>/<name>.sql` run as `group/name`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::header::Header;

include!(concat!(env!("OUT_DIR"), "/builtin_queries.rs"));

/// Where a saved query came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Built into the binary.
    Builtin,
    /// A file in one of the user's folders.
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin => f.write_str("built in"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A saved query, its header read.
#[derive(Debug, Clone)]
pub struct SavedQuery {
    /// `group/name`.
    pub name: String,
    /// Built in, or the file it was read from.
    pub origin: Origin,
    /// Title, severity, controls, parameters.
    pub header: Header,
    /// The whole file.
    pub sql: String,
}

/// A saved query that could not be read, kept so the others still run.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct LoadError {
    /// The file (or built-in name).
    pub origin: String,
    /// What is wrong, with the line where known.
    pub message: String,
}

/// Every saved query by name; a user's query replaces a built-in one of the same name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    queries: BTreeMap<String, SavedQuery>,
}

impl Catalog {
    /// The built-in queries, then each folder of `dirs` in order (later ones win).
    pub fn load(dirs: &[PathBuf]) -> (Catalog, Vec<LoadError>) {
        let mut catalog = Catalog::default();
        let mut errors = Vec::new();
        for (name, sql) in BUILTIN {
            catalog.add(name, Origin::Builtin, sql.to_string(), &mut errors);
        }
        for dir in dirs {
            let mut files = Vec::new();
            if let Err(e) = sql_files(dir, &mut files) {
                errors.push(LoadError {
                    origin: dir.display().to_string(),
                    message: format!("cannot read the queries folder: {e}"),
                });
                continue;
            }
            files.sort();
            for file in files {
                let name = query_name(dir, &file);
                match std::fs::read_to_string(&file) {
                    Ok(sql) => catalog.add(&name, Origin::File(file), sql, &mut errors),
                    Err(e) => errors.push(LoadError {
                        origin: file.display().to_string(),
                        message: e.to_string(),
                    }),
                }
            }
        }
        (catalog, errors)
    }

    fn add(&mut self, name: &str, origin: Origin, sql: String, errors: &mut Vec<LoadError>) {
        match Header::parse(&sql) {
            Ok(header) => {
                self.queries.insert(
                    name.to_string(),
                    SavedQuery {
                        name: name.to_string(),
                        origin,
                        header,
                        sql,
                    },
                );
            }
            Err(e) => errors.push(LoadError {
                origin: match origin {
                    Origin::Builtin => format!("built-in query {name}"),
                    Origin::File(p) => p.display().to_string(),
                },
                message: e.to_string(),
            }),
        }
    }

    /// Every query, by name.
    pub fn iter(&self) -> impl Iterator<Item = &SavedQuery> {
        self.queries.values()
    }

    /// Names, for completion.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.queries.keys().map(String::as_str)
    }

    /// The query called `name`, or named `<group>/name` in exactly one group.
    pub fn get(&self, name: &str) -> Result<&SavedQuery, String> {
        let name = name.trim().trim_end_matches(".sql");
        if let Some(q) = self.queries.get(name) {
            return Ok(q);
        }
        let suffix = format!("/{name}");
        let matches: Vec<&SavedQuery> = self
            .queries
            .values()
            .filter(|q| q.name.ends_with(&suffix))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(match self.closest(name) {
                Some(s) => format!("no saved query `{name}`: did you mean `{s}`?"),
                None => format!("no saved query `{name}`: `trawl queries` lists them"),
            }),
            many => Err(format!(
                "`{name}` is ambiguous: {}",
                many.iter()
                    .map(|q| q.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    fn closest(&self, given: &str) -> Option<&str> {
        self.names()
            .map(|n| {
                let short = n.rsplit('/').next().unwrap_or(n);
                let d = crate::command::edit_distance(given, n)
                    .min(crate::command::edit_distance(given, short));
                (d, n)
            })
            .filter(|(d, _)| *d <= 3.max(given.len() / 3))
            .min()
            .map(|(_, n)| n)
    }
}

/// Every `.sql` file under `dir`, hidden names skipped.
fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            sql_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

/// `dir/cis/root.sql` → `cis/root`.
fn query_name(dir: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(dir).unwrap_or(file).with_extension("");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_folders_add_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("mine")).unwrap();
        std::fs::write(
            dir.path().join("mine/odd-hours.sql"),
            "-- title: Odd hours\n-- severity: low\nSELECT 1",
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.sql"), "SELECT 1").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a query").unwrap();
        let (catalog, errors) = Catalog::load(&[dir.path().to_path_buf()]);
        let q = catalog.get("mine/odd-hours").unwrap();
        assert_eq!(q.header.title, "Odd hours");
        assert_eq!(catalog.get("odd-hours").unwrap().name, "mine/odd-hours");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].origin.ends_with("broken.sql"));
        let e = catalog.get("odd-hour").unwrap_err();
        assert!(e.contains("did you mean `mine/odd-hours`"), "{e}");
    }

    #[test]
    fn a_missing_folder_is_reported() {
        let (_, errors) = Catalog::load(&[PathBuf::from("/no/such/folder")]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("cannot read"));
    }

    #[test]
    fn every_builtin_query_has_a_valid_header() {
        let (catalog, errors) = Catalog::load(&[]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(catalog.iter().count(), BUILTIN.len());
    }
}
