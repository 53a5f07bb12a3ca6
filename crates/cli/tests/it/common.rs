//! Running the real binary and reading its results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The outcome of one `trawl` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "a panic reached the user:\n{}",
            self.stderr
        );
        self
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `trawl` with `args` in `cwd` (so no stray trawl.toml or lake is picked up).
pub fn trawl_in(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .current_dir(cwd)
        .env_remove("TRAWL_LAKE")
        .output()
        .expect("trawl runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `trawl --lake <lake> args…`.
pub fn trawl(lake: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--lake", lake.to_str().unwrap()];
    all.extend_from_slice(args);
    trawl_in(lake.parent().unwrap(), &all)
}

/// A JSON value with object keys sorted at every level, as text: equal values, equal text.
pub fn canonical(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let sorted: BTreeMap<_, _> = m.iter().map(|(k, v)| (k.clone(), sort(v))).collect();
                Value::Object(sorted.into_iter().collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sort(v)).unwrap()
}

/// Every record in the lake, via `trawl export`, as canonical JSON text.
pub fn export_all(lake: &Path, predicate: Option<&str>) -> Vec<String> {
    let mut args = vec!["export"];
    if let Some(p) = predicate {
        args.extend(["--where", p]);
    }
    exported_records(&trawl(lake, &args))
}

/// The records of a successful `trawl export` run, as canonical JSON text.
pub fn exported_records(run: &Run) -> Vec<String> {
    run.assert_code(0);
    run.stdout
        .lines()
        .map(|l| canonical(&serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))))
        .collect()
}

/// Counts of each distinct string.
pub fn multiset(items: impl IntoIterator<Item = String>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i).or_default() += 1;
    }
    m
}

/// Every file below `dir`.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_below(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// One SQL answer as CSV-ish text lines (the table printer's rows, trimmed).
pub fn sql_rows(lake: &Path, sql: &str) -> Vec<Vec<String>> {
    let run = trawl(lake, &["sql", "-c", sql]);
    run.assert_code(0);
    run.stdout
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(1)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// Runs `trawl generate` into `<dir>/tree` and returns the tree and its manifest.
pub fn generate(dir: &Path, events: u32, days: u32, seed: u32) -> (PathBuf, Value) {
    let tree = dir.join("tree");
    let (events, days, seed) = (events.to_string(), days.to_string(), seed.to_string());
    let args = [
        "generate",
        "--out",
        tree.to_str().unwrap(),
        "--events",
        &events,
        "--days",
        &days,
        "--seed",
        &seed,
    ];
    trawl_in(dir, &args).assert_code(0);
    let manifest =
        serde_json::from_slice(&std::fs::read(tree.join("_manifest.json")).unwrap()).unwrap();
    (tree, manifest)
}

/// A fresh folder under Cargo's scratch space for integration tests, kept after the run (for
/// a look at what a failing test left) and unique to this process, so concurrent test runs
/// never share one.
pub fn scratch_dir(name: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(&format!("{name}-"))
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
        .keep()
}
