//! Saved queries end to end: every detection finds what `trawl generate` planted and none of
//! its near misses, every query file is covered, parameters are typed and bound, and `check`
//! reports, remembers and notifies as a nightly job needs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::*;

/// Which detections must report each planted scenario.
const DETECTIONS: &[(&str, &[&str])] = &[
    (
        "root_console_login_no_mfa",
        &["cis/root-account-use", "cis/console-signin-without-mfa"],
    ),
    ("root_api_call", &["cis/root-account-use", "ir/persistence"]),
    ("console_login_no_mfa", &["cis/console-signin-without-mfa"]),
    (
        "console_login_failure",
        &[
            "cis/console-auth-failures",
            "cis/console-signin-without-mfa",
        ],
    ),
    ("unauthorized_api_call", &["cis/unauthorized-api-calls"]),
    ("iam_policy_change", &["cis/iam-policy-changes"]),
    (
        "cloudtrail_change",
        &["cis/cloudtrail-config-changes", "ir/defense-evasion"],
    ),
    (
        "kms_key_disabled_or_deleted",
        &["cis/cmk-disabled-or-scheduled-deletion"],
    ),
    ("s3_bucket_policy_change", &["cis/s3-bucket-policy-changes"]),
    (
        "config_change",
        &["cis/config-changes", "ir/defense-evasion"],
    ),
    ("security_group_change", &["cis/security-group-changes"]),
    ("nacl_change", &["cis/nacl-changes"]),
    ("network_gateway_change", &["cis/network-gateway-changes"]),
    ("route_table_change", &["cis/route-table-changes"]),
    ("vpc_change", &["cis/vpc-changes"]),
    ("organizations_change", &["cis/organizations-changes"]),
    (
        "lambda_permission_public",
        &["lambda/permission-public-or-foreign"],
    ),
    (
        "lambda_permission_foreign_account",
        &["lambda/permission-public-or-foreign"],
    ),
    (
        "lambda_function_created_deleted",
        &["lambda/function-created-or-deleted"],
    ),
    (
        "lambda_code_or_config_updated",
        &["lambda/code-or-config-updated"],
    ),
    (
        "lambda_event_source_mapping",
        &["lambda/event-source-mapping-changes"],
    ),
    (
        "s3_notification_to_lambda",
        &["lambda/s3-notification-to-function"],
    ),
    ("lambda_url_auth_none", &["lambda/function-url-auth-none"]),
    (
        "lambda_layer_added",
        &["lambda/layer-added", "lambda/code-or-config-updated"],
    ),
    ("iam_persistence", &["ir/persistence"]),
    (
        "defense_evasion",
        &[
            "ir/defense-evasion",
            "cis/cloudtrail-config-changes",
            "cis/config-changes",
        ],
    ),
    (
        "cross_account_assume_role",
        &["ir/cross-account-assume-role"],
    ),
    (
        "access_denied_burst",
        &["ir/access-denied-burst", "cis/unauthorized-api-calls"],
    ),
];

/// Saved queries that are reports or hunting queries (no severity), with the parameters a
/// run needs and a scenario whose planted events they must list (if any).
const REPORTS: &[(&str, &[&str], Option<&str>)] = &[
    ("lambda/invocations", &[], None),
    (
        "lambda/permissions",
        &[],
        Some("lambda_permission_same_account_service"),
    ),
    (
        "ir/access-key-activity",
        &["access_key_id=AKIAPLANTEDSUSPECT01"],
        Some("iam_persistence"),
    ),
    (
        "ir/principal-ips-and-agents",
        &["principal=ci-legacy"],
        None,
    ),
    ("ir/new-api-calls", &[], None),
];

/// A generated lake shared by the tests here, built once per test run under Cargo's
/// scratch folder for integration tests.
fn lake() -> (&'static Path, &'static Value) {
    static LAKE: OnceLock<(PathBuf, Value)> = OnceLock::new();
    let (lake, manifest) = LAKE.get_or_init(|| {
        let dir = scratch_dir("saved-queries");
        let (tree, manifest) = generate(&dir, 8000, 7, 11);
        let lake = dir.join("lake");
        trawl(&lake, &["ingest", tree.to_str().unwrap()]).assert_code(0);
        (lake, manifest)
    });
    (lake, manifest)
}

/// Planted eventIDs by scenario, and whether the scenario is a near miss.
fn planted(manifest: &Value) -> BTreeMap<String, (bool, BTreeSet<String>)> {
    let mut out: BTreeMap<String, (bool, BTreeSet<String>)> = BTreeMap::new();
    for p in manifest["planted"].as_array().unwrap() {
        let entry = out
            .entry(p["scenario"].as_str().unwrap().to_string())
            .or_insert_with(|| (p["near_miss"].as_bool().unwrap(), BTreeSet::new()));
        entry.1.insert(p["event_id"].as_str().unwrap().to_string());
    }
    out
}

/// Everything the generated lake holds.
const ALL: (&str, &str) = ("2000-01-01", "2100-01-01");
/// The generated lake's first two days only, for tests about how findings are delivered.
const FIRST_DAY: (&str, &str) = ("2024-03-01", "2024-03-02");

/// `check --format json` findings over `window`.
fn findings(lake: &Path, window: (&str, &str), extra: &[&str]) -> (Run, Vec<Value>) {
    let mut args = vec!["check", "--since", window.0, "--until", window.1];
    args.extend_from_slice(extra);
    args.extend(["--format", "json"]);
    let run = trawl(lake, &args);
    let found = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (run, found)
}

fn saved_query_files() -> Vec<String> {
    let root = repo().join("queries");
    let mut names: Vec<String> = files_below(&root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| {
            p.strip_prefix(&root)
                .unwrap()
                .with_extension("")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_planted_event_is_found_and_no_near_miss_is() {
    let (lake, manifest) = lake();
    let (run, found) = findings(lake, ALL, &["--fail-on", "never"]);
    run.assert_code(0);
    let by_query: BTreeMap<&str, BTreeSet<&str>> =
        found.iter().fold(BTreeMap::new(), |mut m, f| {
            m.entry(f["query"].as_str().unwrap())
                .or_default()
                .insert(f["eventid"].as_str().unwrap());
            m
        });
    let all: BTreeSet<&str> = by_query.values().flatten().copied().collect();
    for (scenario, (near_miss, ids)) in planted(manifest) {
        for id in &ids {
            if near_miss {
                let hits: Vec<_> = by_query
                    .iter()
                    .filter(|(_, s)| s.contains(id.as_str()))
                    .map(|(q, _)| *q)
                    .collect();
                assert!(
                    hits.is_empty(),
                    "near miss {scenario} {id} reported by {hits:?}"
                );
            } else {
                assert!(
                    all.contains(id.as_str()),
                    "planted {scenario} {id} not found"
                );
            }
        }
        if near_miss {
            continue;
        }
        let expected = DETECTIONS
            .iter()
            .find(|(s, _)| *s == scenario)
            .unwrap_or_else(|| panic!("no detection listed for scenario {scenario}"))
            .1;
        for query in expected {
            let got = by_query.get(query).cloned().unwrap_or_default();
            assert!(
                ids.iter().any(|id| got.contains(id.as_str())),
                "{query} does not report {scenario}"
            );
        }
    }
    for f in &found {
        for key in [
            "query",
            "severity",
            "controls",
            "eventid",
            "eventtime",
            "principal",
        ] {
            assert!(!f[key].is_null(), "finding without {key}: {f}");
        }
        assert!(f["region"].is_string(), "{f}");
    }
}

#[test]
fn every_saved_query_file_is_tested() {
    let listed: BTreeSet<&str> = DETECTIONS
        .iter()
        .flat_map(|(_, qs)| qs.iter().copied())
        .chain(REPORTS.iter().map(|(q, _, _)| *q))
        .collect();
    let run = trawl_in(&repo(), &["queries", "--format", "json"]);
    run.assert_code(0);
    let severities: BTreeMap<String, bool> = run
        .stdout
        .lines()
        .map(|l| {
            let q: Value = serde_json::from_str(l).unwrap();
            (
                q["name"].as_str().unwrap().to_string(),
                !q["severity"].is_null(),
            )
        })
        .collect();
    for name in saved_query_files() {
        assert!(
            listed.contains(name.as_str()),
            "queries/{name}.sql is not covered by a test: add it to DETECTIONS or REPORTS"
        );
        let is_detection = severities[&name];
        assert_eq!(
            is_detection,
            REPORTS.iter().all(|(q, _, _)| *q != name),
            "{name}: detections have a severity, reports do not"
        );
    }
}

#[test]
fn reports_run_and_list_what_was_planted() {
    let (lake, manifest) = lake();
    let planted = planted(manifest);
    for (query, params, scenario) in REPORTS {
        let mut args = vec!["query", query, "--format", "ndjson", "-q"];
        for p in *params {
            args.extend(["--param", p]);
        }
        let run = trawl(lake, &args);
        run.assert_code(0);
        if let Some(scenario) = scenario {
            let ids = &planted[*scenario].1;
            assert!(
                ids.iter().any(|id| run.stdout.contains(id.as_str())),
                "{query} does not list {scenario}:\n{}",
                run.stdout
            );
        }
    }
}

#[test]
fn exit_code_follows_fail_on() {
    let (lake, _) = lake();
    let (run, found) = findings(lake, FIRST_DAY, &[]);
    assert!(found.iter().any(|f| f["severity"] == "high"), "{found:?}");
    run.assert_code(3);
    // Failing above the worst finding passes.
    let worst = found
        .iter()
        .map(|f| severity_rank(&f["severity"]))
        .max()
        .unwrap();
    if worst < 4 {
        let above = ["info", "low", "medium", "high", "critical"][worst + 1];
        findings(lake, FIRST_DAY, &["--fail-on", above])
            .0
            .assert_code(0);
    }
    trawl(lake, &["check", "--fail-on", "urgent"]).assert_code(2);
    // The same findings as CSV, one row each under a header.
    let csv = trawl(
        lake,
        &[
            "check",
            "--since",
            FIRST_DAY.0,
            "--until",
            FIRST_DAY.1,
            "--format",
            "csv",
        ],
    );
    csv.assert_code(3);
    let mut lines = csv.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("query,severity,eventtime,eventid,principal,sourceipaddress,region,title,controls")
    );
    assert_eq!(lines.count(), found.len());
}

#[test]
fn parameters_are_typed_and_never_spliced() {
    let (lake, _) = lake();
    let missing = trawl(
        lake,
        &["query", "cis/root-account-use", "--param", "nope=1"],
    );
    missing.assert_code(2);
    assert!(
        missing.stderr.contains("no parameter `nope`"),
        "{}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("takes: --since and --until"),
        "{}",
        missing.stderr
    );

    let unknown = trawl(lake, &["query", "cis/root-acount-use"]);
    unknown.assert_code(2);
    assert!(
        unknown
            .stderr
            .contains("did you mean `cis/root-account-use`"),
        "{}",
        unknown.stderr
    );

    let bad_window = trawl(
        lake,
        &["query", "cis/root-account-use", "--since", "yesterday"],
    );
    bad_window.assert_code(2);
    assert!(
        bad_window.stderr.contains("--since"),
        "{}",
        bad_window.stderr
    );

    // A user query with typed parameters: the value is data, not SQL.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mine")).unwrap();
    std::fs::write(
        dir.path().join("mine/by-name.sql"),
        "-- title: Events by name\n\
         -- param: name string — an eventName\n\
         -- param: at_least int = 1 — fewest events\n\
         SELECT eventname, count(*) AS n FROM cloudtrail\n\
         WHERE eventname = $name AND eventtime >= $since AND eventtime < $until\n\
         GROUP BY eventname HAVING count(*) >= $at_least\n",
    )
    .unwrap();
    let queries = dir.path().to_str().unwrap();
    let run_by_name = |params: &[&str]| {
        let mut args = vec![
            "--queries",
            queries,
            "query",
            "by-name",
            "--format",
            "csv",
            "-q",
        ];
        for p in params {
            args.extend(["--param", p]);
        }
        trawl(lake, &args)
    };
    let run = run_by_name(&["name=ConsoleLogin"]);
    run.assert_code(0);
    assert!(
        run.stdout.starts_with("eventname,n\nConsoleLogin,"),
        "{}",
        run.stdout
    );
    let run = run_by_name(&["name=ConsoleLogin' OR '1'='1"]);
    run.assert_code(0);
    assert_eq!(
        run.stdout.trim(),
        "eventname,n",
        "a value changed the query"
    );
    let run = run_by_name(&["name=ConsoleLogin", "at_least=lots"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("parameter `at_least` (int)"),
        "{}",
        run.stderr
    );
    let run = run_by_name(&[]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("parameter `name` is required"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--param at_least (int, default 1)"),
        "{}",
        run.stderr
    );

    let listed = trawl(lake, &["--queries", queries, "queries"]);
    listed.assert_code(0);
    assert!(listed.stdout.contains("mine/by-name"), "{}", listed.stdout);
}

#[test]
fn since_last_continues_where_the_last_check_ended_without_repeating_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, _) = lake();
    // A copy of the table alone, so other tests' checks on the shared lake do not interfere.
    let copy = dir.path().join("lake");
    copy_dir(&lake.join("cloudtrail"), &copy.join("cloudtrail"));
    // An ad-hoc check leaves no mark.
    let (run, all) = findings(&copy, ALL, &["--fail-on", "never"]);
    run.assert_code(0);
    assert!(!copy.join("_trawl/check.json").exists());

    // The last check ended an hour after some finding, and reported that one already.
    let seen = all
        .iter()
        .find(|f| f["eventtime"].as_str().unwrap() > "2024-03-03")
        .unwrap();
    let at: chrono::DateTime<chrono::Utc> = seen["eventtime"].as_str().unwrap().parse().unwrap();
    let cut = at + chrono::TimeDelta::hours(1);
    let key = format!(
        "{} {}",
        seen["query"].as_str().unwrap(),
        seen["eventid"].as_str().unwrap()
    );
    std::fs::create_dir_all(copy.join("_trawl")).unwrap();
    std::fs::write(
        copy.join("_trawl/check.json"),
        serde_json::json!({"version": 1, "last_until": cut.to_rfc3339(), "recent": [key]})
            .to_string(),
    )
    .unwrap();
    let run = trawl(
        &copy,
        &[
            "check",
            "--since",
            "last",
            "--until",
            "2100-01-01",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    run.assert_code(0);
    let got: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let overlap_start = cut - chrono::TimeDelta::hours(2);
    let want: Vec<&Value> = all
        .iter()
        .filter(|f| {
            let t: chrono::DateTime<chrono::Utc> =
                f["eventtime"].as_str().unwrap().parse().unwrap();
            t >= overlap_start && f != &seen
        })
        .collect();
    assert_eq!(
        got.len(),
        want.len(),
        "late deliveries in the overlap are checked again"
    );
    assert!(
        !got.contains(seen),
        "a finding already reported is not reported again"
    );
    let state: Value =
        serde_json::from_slice(&std::fs::read(copy.join("_trawl/check.json")).unwrap()).unwrap();
    let until: chrono::DateTime<chrono::Utc> =
        state["last_until"].as_str().unwrap().parse().unwrap();
    assert!(
        until <= chrono::Utc::now(),
        "the mark never runs ahead of now: {state}"
    );

    std::fs::write(copy.join("_trawl/check.json"), "{broken").unwrap();
    let damaged = trawl(&copy, &["check", "--since", "last"]);
    damaged.assert_code(1);
    assert!(
        damaged.stderr.contains("check.json is damaged"),
        "{}",
        damaged.stderr
    );
}

#[test]
fn notify_posts_findings_to_a_webhook() {
    let (lake, _) = lake();
    for format in ["json", "slack"] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/hooks/secret-token",
            listener.local_addr().unwrap()
        );
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .unwrap();
            (head, String::from_utf8(body).unwrap())
        });
        let (run, found) = findings(
            lake,
            FIRST_DAY,
            &[
                "--fail-on",
                "never",
                "--notify",
                &url,
                "--notify-format",
                format,
            ],
        );
        run.assert_code(0);
        let (head, body) = server.join().unwrap();
        assert!(
            head.starts_with("POST /hooks/secret-token HTTP/1.1"),
            "{head}"
        );
        assert!(!run.stderr.contains("secret-token"), "{}", run.stderr);
        let body: Value = serde_json::from_str(&body).unwrap();
        if format == "json" {
            assert_eq!(body["findings"].as_array().unwrap().len(), found.len());
            assert_eq!(body["findings"][0], found[0]);
        } else {
            let text = body["text"].as_str().unwrap();
            assert!(
                text.contains(&format!("{} finding(s)", found.len())),
                "{text}"
            );
        }
    }
    // An unreachable webhook fails the run, naming the host but not the secret path.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/secret-token", closed.local_addr().unwrap());
    drop(closed);
    let (run, _) = findings(lake, FIRST_DAY, &["--fail-on", "never", "--notify", &url]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("notifying http://127.0.0.1"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("secret-token"), "{}", run.stderr);
}

fn severity_rank(v: &Value) -> usize {
    ["info", "low", "medium", "high", "critical"]
        .iter()
        .position(|s| v == s)
        .unwrap_or_else(|| panic!("unknown severity {v}"))
}

fn copy_dir(from: &Path, to: &Path) {
    for file in files_below(from) {
        let dest = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&file, &dest).unwrap();
    }
}

/// Real public records (testdata/real): each detection reports the real examples of what it
/// looks for and passes over the real look-alikes.
#[test]
fn detections_on_real_records() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let real = repo().join("testdata/real");
    trawl(&lake, &["ingest", real.to_str().unwrap()]).assert_code(0);
    let (run, found) = findings(&lake, ALL, &["--fail-on", "never"]);
    run.assert_code(0);
    let reported = |query: &str, id: &str| {
        found
            .iter()
            .any(|f| f["query"] == query && f["eventid"] == id)
    };
    let expected: &[(&str, &[&str], &[&str])] = &[
        (
            "cis/root-account-use",
            // Root sign-in; root CreateBucket.
            &[
                "0ebbaee4-6e67-431d-8225-ba0d81df5972",
                "c4fa3db1-2303-40e4-bde0-3b7246bdbf0b",
            ],
            // Root credentials used by Auto Scaling on the account's behalf.
            &["6da8b953-741f-4273-be3f-289b92b4d1fc"],
        ),
        (
            "cis/console-signin-without-mfa",
            &["865d9377-9c6b-4fd7-8aad-725e95f6a140"],
            // Signed in with MFA.
            &["fed06f42-cb12-4764-8c69-121063dc79b9"],
        ),
        (
            "cis/console-auth-failures",
            &["a4fbbe77-91a0-4238-804a-64314184edb6"],
            &[],
        ),
        (
            "cis/iam-policy-changes",
            &[
                "1c2a53d1-58cc-41b3-85b8-bd7565370e0d",
                "39480357-0a1d-4531-a3f2-71be4c041c25",
            ],
            &[],
        ),
        (
            "cis/cloudtrail-config-changes",
            &[
                "10163ed2-2253-469d-a5ee-cbc6651f8934",
                "ee73c230-44bc-4492-8542-cfb189eae287",
            ],
            &[],
        ),
        (
            "cis/cmk-disabled-or-scheduled-deletion",
            &["3c4226b0-1e81-48a8-a333-7fa5f3cbd118"],
            &[],
        ),
        (
            "cis/s3-bucket-policy-changes",
            &["607b9532-1423-41c7-b048-ec2641693c47"],
            &[],
        ),
        (
            "cis/config-changes",
            &["6225a85d-1e49-41e9-bf43-3cfc5549e560"],
            &[],
        ),
        (
            "cis/security-group-changes",
            &["42155429-7e8e-43b5-9b5e-6953f80d51d5"],
            &[],
        ),
        (
            "cis/nacl-changes",
            &["e7921105-f089-46b8-b97c-01b819b7036c"],
            &[],
        ),
        (
            "cis/route-table-changes",
            &["d121bef5-9ddc-4aed-aed8-861a375beacc"],
            &[],
        ),
        (
            "cis/organizations-changes",
            &["16903cbd-fdff-4818-82f2-d66ad09aaf57"],
            &[],
        ),
        (
            "ir/cross-account-assume-role",
            &["dEXAMPLE-ac7f-466c-a608-4ac8dEXAMPLE"],
            // An AWS service assuming a role.
            &["724530b6-fa18-4022-89d8-15801cd89aaf"],
        ),
        (
            "ir/persistence",
            &[
                "62e290e2-ee95-4a7c-a9f8-db4ef462b12d",
                "3346344c-5a3e-429e-8405-420f98f75d6e",
            ],
            &[],
        ),
        (
            "ir/defense-evasion",
            &[
                "c2a89408-340a-42f0-8ace-75d9f5769393",
                "ded2f5af-f3a5-46d2-a170-a23206a32c36",
            ],
            // Bucket logging turned on; GuardDuty detector enabled.
            &[
                "12345678-1234-1234-1234-666666666666",
                "0c8ebbec-bc39-4e01-8ef5-720e75664a54",
            ],
        ),
        (
            "ir/access-denied-burst",
            &["233fb77a-f7ae-4607-866a-fa5fb5f48035"],
            &[],
        ),
        (
            "lambda/permission-public-or-foreign",
            &["b67a9bba-d9da-4980-bf74-baed881b117d"],
            &[],
        ),
        (
            "lambda/code-or-config-updated",
            &["4672b74f-2466-4784-b3fb-5b4db904a995"],
            &[],
        ),
        (
            "lambda/function-created-or-deleted",
            &[
                "2fe6dcc9-0858-4527-9af2-0097752588ef",
                "20b84ce5-730f-482e-b2b2-e8fcc87ceb22",
            ],
            &[],
        ),
        (
            "lambda/layer-added",
            &["da929d96-8e20-475c-a810-973addd64769"],
            &[],
        ),
        (
            "lambda/function-url-auth-none",
            &[],
            // A CreateFunctionUrlConfig that failed: nothing was exposed.
            &["3b7c91c0-ca41-4e83-acd5-4407e534f119"],
        ),
    ];
    for (query, hits, misses) in expected {
        for id in *hits {
            assert!(
                reported(query, id),
                "{query} does not report real event {id}"
            );
        }
        for id in *misses {
            assert!(!reported(query, id), "{query} reports real look-alike {id}");
        }
    }
}
