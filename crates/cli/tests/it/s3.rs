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
        let script = repo().join("crates/cli/tests/it/s3_put.py");
        let status = Command::new("python3")
            .arg(script)
            .args([&self.endpoint, bucket, prefix, dir.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(status.success(), "upload to moto failed");
    }

    /// Runs trawl against this server, with test credentials in the environment.
    fn trawl(&self, lake: &Path, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_trawl"))
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
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
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
    moto.put("lakes", "team/lake/", &local);
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

    let want = multiset(export_all(&local, None));
    let got = moto.trawl(Path::new(remote), &["export"]);
    got.assert_code(0);
    let got = multiset(
        got.stdout
            .lines()
            .map(|l| canonical(&serde_json::from_str(l).unwrap())),
    );
    assert_eq!(got, want);

    // Writing a lake in S3 is refused with the way out, and nothing is written locally.
    let refused = moto.trawl(Path::new(remote), &["ingest", tree.to_str().unwrap()]);
    refused.assert_code(1);
    assert!(refused.stderr.contains("aws s3 sync"), "{}", refused.stderr);
    assert!(!std::env::temp_dir().join("s3:").exists());
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
