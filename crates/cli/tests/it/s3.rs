//! Sources in S3, against a real S3-compatible server (moto) started on 127.0.0.1 for each
//! test and stopped when it ends.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

/// A moto server, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server runs (scripts/test.sh installs moto[server])");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Uploads `dir` to `s3://bucket/prefix…`.
    fn put(&self, bucket: &str, prefix: &str, dir: &Path) {
        self.upload(bucket, prefix, dir, &[]);
    }

    /// Uploads `dir` as [`Moto::put`] does, with the zero-byte `folder/` keys some tools
    /// leave.
    fn put_with_folder_markers(&self, bucket: &str, prefix: &str, dir: &Path) {
        self.upload(bucket, prefix, dir, &["--markers"]);
    }

    fn upload(&self, bucket: &str, prefix: &str, dir: &Path, flags: &[&str]) {
        let script = repo().join("crates/cli/tests/it/s3_put.py");
        let status = Command::new("python3")
            .arg(script)
            .args([&self.endpoint, bucket, prefix, dir.to_str().unwrap()])
            .args(flags)
            .status()
            .unwrap();
        assert!(status.success(), "upload to moto failed");
    }

    /// Runs trawl against this server, with test credentials in the environment.
    fn trawl(&self, lake: &Path, args: &[&str]) -> Run {
        let out = self.command(lake, args).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs trawl with `TRAWL_CRASH_AT=step`: it ends abruptly at that step, as if killed.
    fn crash_at(&self, step: &str, lake: &Path, args: &[&str]) {
        let out = self
            .command(lake, args)
            .env("TRAWL_CRASH_AT", step)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            None,
            "trawl {args:?} did not reach step {step}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Every record of a lake in S3, via `trawl export`, as canonical JSON text.
    fn export_all(&self, lake: &str) -> Vec<String> {
        exported_records(&self.trawl(Path::new(lake), &["export"]))
    }

    /// The trawl command against this server.
    fn command(&self, lake: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_trawl"));
        command
            .arg("--lake")
            .arg(lake)
            .args(["--s3-endpoint", &self.endpoint, "--s3-retry-secs", "3"])
            .args(args)
            // A lake in S3 has no local parent: run where the test's scratch files are.
            .current_dir(match lake.parent().filter(|p| p.is_dir()) {
                Some(p) => p.to_path_buf(),
                None => std::env::temp_dir(),
            })
            .env_remove("TRAWL_LAKE")
            .env_remove("AWS_PROFILE")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "s3cr3t-never-printed")
            .env("AWS_REGION", "us-east-1")
            .env_remove("TRAWL_CRASH_AT");
        command
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn summary(run: &Run) -> Value {
    run.assert_code(0);
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn ingest_from_s3_gives_the_lake_ingest_from_disk_gives() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (tree, manifest) = generate(dir.path(), 1500, 2, 31);
    moto.put("trail-bucket", "org/", &tree);

    let from_disk = dir.path().join("disk");
    trawl(&from_disk, &["ingest", tree.to_str().unwrap()]).assert_code(0);
    let from_s3 = dir.path().join("s3");
    let run = moto.trawl(&from_s3, &["ingest", "--json", "s3://trail-bucket/org/"]);
    let s = summary(&run);
    assert_eq!(s["events_written"], manifest["events"], "{s}");
    assert_eq!(
        s["digests_skipped"], 0,
        "digest folders are not even listed: {s}"
    );
    assert_eq!(
        multiset(export_all(&from_s3, None)),
        multiset(export_all(&from_disk, None))
    );
    // The ledger remembers objects by their s3:// key and ETag: a re-run fetches nothing.
    let again = summary(&moto.trawl(&from_s3, &["ingest", "--json", "s3://trail-bucket/org/"]));
    assert_eq!(again["files_read"], 0, "{again}");
    assert_eq!(again["files_unchanged"], s["files_read"], "{again}");
}

#[test]
fn a_nightly_run_lists_only_recent_days_however_long_the_history() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let recent = dir.path().join("recent");
    std::fs::create_dir_all(&recent).unwrap();
    let (tree, _) = generate(&recent, 1500, 2, 32);
    moto.put("logs", "", &tree);
    let lake = dir.path().join("lake");
    let first = summary(&moto.trawl(
        &lake,
        &["ingest", "--json", "--since", "2024-03-02", "s3://logs/"],
    ));
    assert!(first["files_read"].as_u64().unwrap() > 0, "{first}");

    // Years of older history arrive in the bucket; tonight's run lists no more than before.
    let old = dir.path().join("old");
    std::fs::create_dir_all(&old).unwrap();
    let out = trawl_in(
        &old,
        &[
            "generate",
            "--out",
            "tree",
            "--events",
            "600",
            "--days",
            "30",
            "--start",
            "2021-01-01",
            "--seed",
            "33",
        ],
    );
    out.assert_code(0);
    moto.put("logs", "", &old.join("tree"));
    let second = summary(&moto.trawl(
        &lake,
        &["ingest", "--json", "--since", "2024-03-02", "s3://logs/"],
    ));
    assert_eq!(second["files_read"], 0, "{second}");
    assert_eq!(
        second["listings"], first["listings"],
        "listings grew with old history"
    );
    let everything = summary(&moto.trawl(&lake, &["ingest", "--json", "s3://logs/"]));
    assert!(
        everything["listings"].as_u64().unwrap() > 3 * first["listings"].as_u64().unwrap(),
        "{everything}"
    );
}

#[test]
fn s3_errors_name_the_bucket_and_the_fix_and_never_the_secret() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let run = moto.trawl(&lake, &["ingest", "s3://no-such-bucket/AWSLogs/"]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("s3://no-such-bucket/"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);

    // An endpoint nobody answers on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["--lake", lake.to_str().unwrap(), "--s3-retry-secs", "1"])
        .args(["--s3-endpoint", &format!("http://127.0.0.1:{port}")])
        .args(["ingest", "s3://bucket/AWSLogs/"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "s3cr3t-never-printed")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("s3://bucket/AWSLogs/"), "{stderr}");
    assert!(stderr.contains("--s3-endpoint"), "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
}

#[test]
fn a_lake_in_s3_answers_as_the_local_one() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (tree, _) = generate(dir.path(), 1500, 2, 34);
    let local = dir.path().join("local");
    trawl(&local, &["ingest", tree.to_str().unwrap()]).assert_code(0);
    // Copied up by a tool that leaves folder markers, which readers must pass over.
    moto.put_with_folder_markers("lakes", "team/lake/", &local);
    let remote = "s3://lakes/team/lake";
    let sql = "SELECT region, CAST(date AS VARCHAR) AS d, count(*) AS n, \
               count(DISTINCT useridentity.arn) AS who FROM cloudtrail \
               WHERE eventtime >= '2024-03-01T12:00:00Z' GROUP BY 1, 2 ORDER BY 1, 2";
    let want = trawl(&local, &["sql", "--format", "csv", "-c", sql]);
    want.assert_code(0);
    let got = moto.trawl(Path::new(remote), &["sql", "--format", "csv", "-c", sql]);
    got.assert_code(0);
    assert_eq!(got.stdout, want.stdout);
    assert!(want.stdout.lines().count() > 5);

    let check = [
        "check",
        "--since",
        "2024-03-01",
        "--until",
        "2024-03-03",
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    let want = trawl(&local, &check);
    let got = moto.trawl(Path::new(remote), &check);
    got.assert_code(0);
    assert_eq!(got.stdout, want.stdout);
    assert!(!got.stdout.is_empty());

    assert_eq!(
        multiset(moto.export_all(remote)),
        multiset(export_all(&local, None))
    );
}

#[test]
fn a_lake_in_s3_is_written_as_a_local_one_and_answers_the_same() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (tree, manifest) = generate(dir.path(), 1500, 2, 35);
    moto.put("trails", "org/", &tree);
    moto.put("lakes", "", &dir.path().join("no-such-folder"));
    let local = dir.path().join("local");
    trawl(&local, &["ingest", tree.to_str().unwrap()]).assert_code(0);
    let remote = "s3://lakes/team/lake/";
    let lake = Path::new(remote);
    let s = summary(&moto.trawl(lake, &["ingest", "--json", "s3://trails/org/"]));
    assert_eq!(s["events_written"], manifest["events"], "{s}");
    assert_eq!(
        multiset(moto.export_all(remote)),
        multiset(export_all(&local, None))
    );
    let sql = "SELECT region, count(*) AS n, count(DISTINCT eventid) AS ids FROM cloudtrail \
               GROUP BY 1 ORDER BY 1";
    let want = trawl(&local, &["sql", "--format", "csv", "-c", sql]);
    let got = moto.trawl(lake, &["sql", "--format", "csv", "-c", sql]);
    got.assert_code(0);
    assert_eq!(got.stdout, want.stdout);

    // A second batch makes two files per partition; compaction merges them in S3.
    let (more, more_manifest) = generate(&subdir(dir.path(), "more"), 600, 2, 36);
    moto.put("trails", "more/", &more);
    trawl(&local, &["ingest", more.to_str().unwrap()]).assert_code(0);
    summary(&moto.trawl(lake, &["ingest", "--json", "s3://trails/more/"]));
    let compacted = moto.trawl(lake, &["compact", "--json"]);
    let c = summary(&compacted);
    assert!(c["partitions_compacted"].as_u64().unwrap() > 0, "{c}");
    assert_eq!(c["files_after"], c["partitions_compacted"], "{c}");
    assert_eq!(
        multiset(moto.export_all(remote)),
        multiset(export_all(&local, None))
    );

    let status = moto.trawl(lake, &["status", "--format", "json"]);
    let status: Value = serde_json::from_str(&status.assert_code(0).stdout).unwrap();
    let rows: u64 = status["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rows"].as_u64().unwrap())
        .sum();
    let events = manifest["events"].as_u64().unwrap() + more_manifest["events"].as_u64().unwrap();
    assert_eq!(rows, events, "{status}");
    assert_eq!(status["runs"].as_array().unwrap().len(), 3, "{status}");
    assert_eq!(status["runs"][0]["command"], "compact", "{status}");

    // `check --since last` keeps its mark in the lake.
    let first = moto.trawl(lake, &["check", "--since", "last", "--fail-on", "never"]);
    first.assert_code(0);
    assert!(
        first.stderr.contains("no previous check"),
        "{}",
        first.stderr
    );
    let second = moto.trawl(lake, &["check", "--since", "last", "--fail-on", "never"]);
    second.assert_code(0);
    assert!(
        !second.stderr.contains("no previous check"),
        "{}",
        second.stderr
    );
    // Nothing was written beside the commands' working folder.
    assert!(!std::env::temp_dir().join("s3:").exists());
}

/// `dir/name`, created.
fn subdir(dir: &Path, name: &str) -> std::path::PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_write_to_a_lake_in_s3_killed_at_any_step_loses_and_doubles_nothing() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = generate(&subdir(dir.path(), "a"), 600, 2, 37);
    let (b, _) = generate(&subdir(dir.path(), "b"), 600, 2, 38);
    moto.put("src", "a/", &a);
    moto.put("src", "b/", &b);
    moto.put("lakes", "", &dir.path().join("no-such-folder"));
    let local = dir.path().join("local");
    trawl(
        &local,
        &["ingest", a.to_str().unwrap(), b.to_str().unwrap()],
    )
    .assert_code(0);
    let want = multiset(export_all(&local, None));

    for (step, left) in [
        ("ingest-staged", "removed uncommitted work"),
        ("ingest-committed", "finished committed work"),
        ("ingest-copied", "finished committed work"),
    ] {
        let remote = format!("s3://lakes/{step}/");
        let lake = Path::new(&remote);
        moto.crash_at(step, lake, &["ingest", "s3://src/a/"]);
        let again = moto.trawl(lake, &["ingest", "s3://src/a/"]);
        again.assert_code(0);
        assert!(
            again.stderr.contains("took over the lease") && again.stderr.contains(left),
            "{step}: {}",
            again.stderr
        );
        moto.trawl(lake, &["ingest", "s3://src/b/"]).assert_code(0);
        assert_eq!(
            multiset(moto.export_all(&remote)),
            want,
            "after a crash at {step}"
        );
    }

    // Compaction: a crash after the new files are copied in, before the old are deleted.
    let remote = "s3://lakes/ingest-copied/";
    let lake = Path::new(remote);
    moto.crash_at("compaction-copied", lake, &["compact"]);
    // Readers meanwhile see each partition once: the compaction record hides the old files.
    assert_eq!(multiset(moto.export_all(remote)), want, "mid-compaction");
    let compacted = moto.trawl(lake, &["compact", "--json"]);
    compacted.assert_code(0);
    assert!(
        compacted.stderr.contains("finished committed work"),
        "{}",
        compacted.stderr
    );
    assert_eq!(multiset(moto.export_all(remote)), want, "after compaction");
    let status = moto.trawl(lake, &["status", "--format", "json", "--partitions"]);
    let status: Value = serde_json::from_str(&status.assert_code(0).stdout).unwrap();
    for p in status["partitions"].as_array().unwrap() {
        assert_eq!(p["files"], 1, "{p}");
    }

    // And a plain kill -9 part-way through a run.
    let remote = "s3://lakes/killed/";
    let lake = Path::new(remote);
    let mut child = moto
        .command(lake, &["ingest", "s3://src/a/", "s3://src/b/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = child.kill();
    child.wait().unwrap();
    moto.trawl(lake, &["ingest", "s3://src/a/", "s3://src/b/"])
        .assert_code(0);
    assert_eq!(multiset(moto.export_all(remote)), want, "after kill -9");
}

#[test]
fn a_second_writer_to_a_lake_in_s3_is_refused_or_waits() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (tree, manifest) = generate(dir.path(), 1500, 2, 39);
    moto.put("src", "", &tree);
    moto.put("lakes", "", &dir.path().join("no-such-folder"));
    let start = |lake: &str| {
        moto.command(Path::new(lake), &["ingest", "s3://src/"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Two writers at once: the lease is created with If-None-Match, so exactly one wins.
    let (one, two) = (start("s3://lakes/shared/"), start("s3://lakes/shared/"));
    let outs = [
        one.wait_with_output().unwrap(),
        two.wait_with_output().unwrap(),
    ];
    let mut codes: Vec<_> = outs.iter().map(|o| o.status.code()).collect();
    codes.sort();
    assert_eq!(codes, [Some(0), Some(1)]);
    let loser = outs.iter().find(|o| o.status.code() == Some(1)).unwrap();
    let stderr = String::from_utf8_lossy(&loser.stderr);
    assert!(
        stderr.contains("another trawl is writing to s3://lakes/shared/")
            && stderr.contains("--wait"),
        "{stderr}"
    );
    assert_eq!(
        moto.export_all("s3://lakes/shared/").len() as u64,
        manifest["events"].as_u64().unwrap()
    );

    // With --wait the second queues behind the first, then finds nothing new to read.
    let first = start("s3://lakes/queued/");
    std::thread::sleep(Duration::from_millis(500));
    let queued = Path::new("s3://lakes/queued/");
    let second = moto.trawl(queued, &["ingest", "--wait", "--json", "s3://src/"]);
    assert!(first.wait_with_output().unwrap().status.success());
    let s = summary(&second);
    assert!(
        second.stderr.contains("waiting: another trawl"),
        "{}",
        second.stderr
    );
    assert_eq!(s["files_read"], 0, "{s}");
    assert_eq!(
        moto.export_all("s3://lakes/queued/").len() as u64,
        manifest["events"].as_u64().unwrap()
    );
}

#[test]
fn a_profile_without_keys_is_named_not_silently_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile audit]\nsso_session = corp\nregion = eu-west-1\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["--lake", dir.path().join("lake").to_str().unwrap()])
        .args(["--profile", "audit", "ingest", "s3://bucket/AWSLogs/"])
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env("AWS_ACCESS_KEY_ID", "from-the-environment")
        .env("AWS_SECRET_ACCESS_KEY", "s3cr3t-never-printed")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("profile `audit`") && stderr.contains("sso_session"),
        "{stderr}"
    );
    assert!(
        stderr.contains("export-credentials --profile audit"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
}
