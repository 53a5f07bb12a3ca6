//! Ingest as a nightly job: incremental, killable at any moment, one writer at a time,
//! compacted, observable.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

/// Every eventID in the lake with how often it is stored, via SQL.
fn lake_events(lake: &Path) -> Vec<String> {
    let run = trawl(
        lake,
        &[
            "sql",
            "-q",
            "--format",
            "csv",
            "-c",
            "SELECT eventid FROM cloudtrail ORDER BY eventid",
        ],
    );
    run.assert_code(0);
    run.stdout.lines().skip(1).map(String::from).collect()
}

/// Every eventID in the source files below `dir` (gzipped `{"Records": […]}`), each once.
fn source_events(dir: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for f in files_below(dir) {
        let name = f.to_string_lossy();
        if !name.ends_with(".json.gz") || name.contains("CloudTrail-Digest") {
            continue;
        }
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&f).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        for r in v["Records"].as_array().unwrap() {
            ids.insert(r["eventID"].as_str().unwrap().to_string());
        }
    }
    ids
}

/// Files and folders trawl may leave in a lake once no writer runs: no staging, no temporary
/// files, nothing half-written.
fn assert_no_orphans(lake: &Path) {
    for f in files_below(lake) {
        let rel = f.strip_prefix(lake).unwrap().to_string_lossy().into_owned();
        let ok = (rel.starts_with("cloudtrail/") && rel.ends_with(".parquet"))
            || rel.starts_with("_trawl/ledger/")
            || rel.starts_with("_trawl/runs/")
            || rel.starts_with("_trawl/quarantine/")
            || rel == "_trawl/lock";
        assert!(
            ok && !rel.contains(".tmp"),
            "orphan left in the lake: {rel}"
        );
    }
}

fn copy_tree(from: &Path, to: &Path, keep: impl Fn(&str) -> bool) {
    for f in files_below(from) {
        let rel = f.strip_prefix(from).unwrap();
        if !keep(&rel.to_string_lossy()) {
            continue;
        }
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

fn spawn(lake: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .arg("--lake")
        .arg(lake)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A small deterministic sequence of delays in `0..max`.
fn delays(n: usize, max: Duration) -> Vec<Duration> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            max.mul_f64((x % 10_000) as f64 / 10_000.0)
        })
        .collect()
}

#[test]
fn kill_9_at_any_moment_then_rerun_gives_the_clean_lake() {
    let dir = tempfile::tempdir().unwrap();
    let (tree, _) = generate(dir.path(), 3000, 2, 21);
    let tree_arg = tree.to_str().unwrap();
    let clean = dir.path().join("clean");
    let started = Instant::now();
    trawl(&clean, &["ingest", tree_arg]).assert_code(0);
    let clean_time = started.elapsed();
    let want = lake_events(&clean);
    assert_eq!(want.len(), source_events(&tree).len());

    for (i, delay) in delays(20, clean_time).into_iter().enumerate() {
        let lake = dir.path().join(format!("killed-{i}"));
        let mut child = spawn(&lake, &["ingest", tree_arg]);
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let rerun = trawl(&lake, &["ingest", tree_arg]);
        rerun.assert_code(0);
        assert_eq!(lake_events(&lake), want, "kill after {delay:?} then re-run");
        assert_no_orphans(&lake);
        std::fs::remove_dir_all(&lake).unwrap();
    }
}

#[test]
fn kill_9_during_compaction_then_rerun_gives_the_clean_lake() {
    let dir = tempfile::tempdir().unwrap();
    let (tree, _) = generate(dir.path(), 2000, 2, 22);
    // The same files under a second path: a second delivery of every event.
    let again = dir.path().join("again");
    copy_tree(&tree, &again, |_| true);
    let base = dir.path().join("base");
    trawl(&base, &["ingest", tree.to_str().unwrap()]).assert_code(0);
    let want = lake_events(&base);
    trawl(&base, &["ingest", again.to_str().unwrap()]).assert_code(0);
    assert_eq!(lake_events(&base).len(), want.len() * 2);

    let timing = dir.path().join("timing");
    copy_tree(&base, &timing, |_| true);
    let started = Instant::now();
    trawl(&timing, &["compact"]).assert_code(0);
    let compact_time = started.elapsed();
    assert_eq!(lake_events(&timing), want);

    for (i, delay) in delays(10, compact_time).into_iter().enumerate() {
        let lake = dir.path().join(format!("killed-{i}"));
        copy_tree(&base, &lake, |_| true);
        let mut child = spawn(&lake, &["compact"]);
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        // Whatever the moment, readers see each partition whole: once or twice, never partly.
        let seen = lake_events(&lake);
        assert!(
            seen.len() >= want.len(),
            "events lost after kill at {delay:?}"
        );
        trawl(&lake, &["compact"]).assert_code(0);
        assert_eq!(lake_events(&lake), want, "kill after {delay:?} then re-run");
        assert_no_orphans(&lake);
        std::fs::remove_dir_all(&lake).unwrap();
    }
}

#[test]
fn a_second_writer_is_refused_or_waits() {
    let dir = tempfile::tempdir().unwrap();
    let (tree, _) = generate(dir.path(), 1000, 1, 23);
    let lake = dir.path().join("lake");
    let tree_arg = tree.to_str().unwrap();
    trawl(&lake, &["ingest", tree_arg]).assert_code(0);
    let events = lake_events(&lake);

    // The test itself holds the writer lock, the way a running ingest does.
    let path = lake.join("_trawl/lock");
    let mut holder = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    holder.lock().unwrap();
    std::io::Write::write_all(
        &mut holder,
        b"pid 4242 running `trawl ingest` since 2024-03-11T02:30:00Z",
    )
    .unwrap();
    let refused = trawl(&lake, &["ingest", tree_arg]);
    refused.assert_code(1);
    assert!(
        refused
            .stderr
            .contains("another trawl is writing to this lake"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("pid 4242 running `trawl ingest`"),
        "{}",
        refused.stderr
    );
    trawl(&lake, &["compact"]).assert_code(1);

    // --wait queues: the waiter says so, and runs once the lock is free.
    let log = dir.path().join("waiter.log");
    let mut waiter = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["--lake", lake.to_str().unwrap(), "compact", "--wait"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("waiting")
    {
        assert!(Instant::now() < deadline, "the waiter never said it waits");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        waiter.try_wait().unwrap().is_none(),
        "the waiter ran while the lock was held"
    );
    drop(holder);
    assert!(waiter.wait().unwrap().success());
    assert_eq!(lake_events(&lake), events);

    // A killed holder leaves no lock behind.
    let mut killed = spawn(&lake, &["ingest", tree_arg]);
    killed.kill().unwrap();
    killed.wait().unwrap();
    trawl(&lake, &["compact"]).assert_code(0);
}

/// Day 1's delivery folders, then day 2's (with events of day 1 delivered late), then
/// compaction: the lake holds exactly the delivered events after each step.
#[test]
fn a_nightly_sequence_holds_exactly_what_was_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let (tree, manifest) = generate(dir.path(), 4000, 3, 24);
    let start = manifest["partitions"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k[k.len() - 10..].to_string())
        .min()
        .unwrap();
    let day = |n: i64| {
        let d = chrono::NaiveDate::parse_from_str(&start, "%Y-%m-%d").unwrap()
            + chrono::TimeDelta::days(n);
        d.format("%Y/%m/%d").to_string()
    };
    let bucket = dir.path().join("bucket");
    let lake = dir.path().join("lake");
    let mut runs = Vec::new();
    for n in 0..3 {
        let folder = day(n);
        copy_tree(&tree, &bucket, |rel| rel.contains(&folder));
        let since = day(n).replace('/', "-");
        let run = trawl(
            &lake,
            &[
                "ingest",
                "--json",
                "--since",
                &since,
                bucket.to_str().unwrap(),
            ],
        );
        run.assert_code(0);
        let summary: Value = serde_json::from_str(&run.stdout).unwrap();
        runs.push(summary);
        let want: Vec<String> = source_events(&bucket).into_iter().collect();
        assert_eq!(lake_events(&lake), want, "after day {n}");
    }
    // Each night read only that night's new files, and listed only recent folders.
    for s in &runs {
        assert!(s["files_read"].as_u64().unwrap() > 0, "{s}");
    }
    assert_eq!(
        runs[0]["listings"], runs[2]["listings"],
        "listings grew with history: {runs:?}"
    );
    // A re-run the same night reads nothing.
    let again = trawl(&lake, &["ingest", "--json", bucket.to_str().unwrap()]);
    again.assert_code(0);
    let again: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(again["files_read"], 0, "{again}");
    assert!(again["files_unchanged"].as_u64().unwrap() > 0);
    // A file rewritten in place is read again; its events are not doubled once compacted.
    let rewritten = files_below(&bucket)
        .into_iter()
        .find(|f| {
            let name = f.to_string_lossy();
            name.ends_with(".json.gz") && !name.contains("Digest")
        })
        .unwrap();
    let bytes = std::fs::read(&rewritten).unwrap();
    std::fs::write(&rewritten, &bytes).unwrap();
    // Rewritten in place: a new modification time, whatever the file system's granularity.
    std::fs::File::options()
        .write(true)
        .open(&rewritten)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    let run = trawl(&lake, &["ingest", "--json", bucket.to_str().unwrap()]);
    run.assert_code(0);
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap()["files_read"],
        1
    );

    let before = status_json(&lake);
    trawl(&lake, &["compact"]).assert_code(0);
    let want: Vec<String> = source_events(&bucket).into_iter().collect();
    assert_eq!(lake_events(&lake), want, "after compaction");
    let after = status_json(&lake);
    let files = |s: &Value| {
        s["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["files"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert!(files(&after).iter().all(|f| *f == 1), "{after}");
    assert!(files(&before).iter().sum::<u64>() > files(&after).iter().sum::<u64>());
    let rows: u64 = after["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows as usize, want.len());
    let commands: Vec<&str> = after["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands[0], "compact", "{commands:?}");
    assert!(
        after["regions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["newest_event"].is_string())
    );
}

fn status_json(lake: &Path) -> Value {
    let run = trawl(lake, &["status", "--format", "json"]);
    run.assert_code(0);
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn damaged_bookkeeping_is_reported_never_reset() {
    let dir = tempfile::tempdir().unwrap();
    let (tree, _) = generate(dir.path(), 500, 1, 25);
    let lake = dir.path().join("lake");
    trawl(&lake, &["ingest", tree.to_str().unwrap()]).assert_code(0);
    let ledger: PathBuf = files_below(&lake.join("_trawl/ledger")).remove(0);
    std::fs::write(&ledger, "{\"version\": 1, \"run_id\": ").unwrap();
    let run = trawl(&lake, &["ingest", tree.to_str().unwrap()]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains(&ledger.file_name().unwrap().to_string_lossy().to_string()),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--rebuild-ledger"), "{}", run.stderr);
    // Nothing was written, and the damaged file is still there for the operator.
    assert_eq!(
        std::fs::read_to_string(&ledger).unwrap(),
        "{\"version\": 1, \"run_id\": "
    );
    let status = trawl(&lake, &["status"]);
    status.assert_code(1);
    assert!(status.stderr.contains("is damaged"), "{}", status.stderr);

    // The way out: the ledger is rebuilt from the lake's files, nothing is read twice.
    let events = lake_events(&lake);
    let rebuilt = trawl(
        &lake,
        &[
            "ingest",
            "--json",
            "--rebuild-ledger",
            tree.to_str().unwrap(),
        ],
    );
    rebuilt.assert_code(0);
    assert!(
        rebuilt
            .stderr
            .contains("moved a damaged ledger record aside"),
        "{}",
        rebuilt.stderr
    );
    let summary: Value = serde_json::from_str(&rebuilt.stdout).unwrap();
    assert_eq!(summary["files_read"], 0, "{summary}");
    assert_eq!(lake_events(&lake), events);
    let aside = lake
        .join("_trawl/ledger-damaged")
        .join(ledger.file_name().unwrap());
    assert!(
        aside.exists(),
        "the damaged record is kept for the operator"
    );
    // A source the lake does not hold is still ingested after a rebuild.
    let extra = dir.path().join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(
        extra.join("new.json"),
        r#"{"Records":[{"eventTime":"2024-03-11T08:00:00Z","eventID":"rebuild-new-1"}]}"#,
    )
    .unwrap();
    let run = trawl(
        &lake,
        &[
            "ingest",
            "--json",
            "--rebuild-ledger",
            tree.to_str().unwrap(),
            extra.to_str().unwrap(),
        ],
    );
    run.assert_code(0);
    let summary: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["files_read"], 1, "{summary}");
    assert_eq!(lake_events(&lake).len(), events.len() + 1);
}
