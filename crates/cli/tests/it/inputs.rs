//! Input formats, CloudTrail's layout, partitions and duplicate deliveries.

use std::io::Write;

use crate::common::*;

#[test]
fn cloudtrail_layout_org_trails_multi_member_gzip_bom_and_digests() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let tree = repo().join("testdata/AWSLogs");
    let run = trawl(&lake, &["ingest", "--json", tree.to_str().unwrap()]);
    run.assert_code(0);
    let s: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(s["files_read"], 3, "{s}");
    assert_eq!(s["digests_skipped"], 1, "{s}");
    assert_eq!(s["events_written"], 260, "{s}");
    assert_eq!(export_all(&lake, None).len(), 260);
}

#[test]
fn json_lines_bare_arrays_and_single_records() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let rec = |i: u32| {
        format!(
            r#"{{"eventTime":"2024-03-11T08:00:{i:02}Z","eventID":"e{i}","awsRegion":"us-east-1","eventName":"X"}}"#
        )
    };
    std::fs::write(src.join("a.jsonl"), format!("{}\n{}\n", rec(1), rec(2))).unwrap();
    std::fs::write(src.join("b.json"), format!("[{},{}]", rec(3), rec(4))).unwrap();
    std::fs::write(src.join("c.json"), rec(5)).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!("{}\n{}", rec(6), rec(7)).as_bytes())
        .unwrap();
    std::fs::write(src.join("d.ndjson.gz"), gz.finish().unwrap()).unwrap();
    let run = trawl(&lake, &["ingest", "--json", src.to_str().unwrap()]);
    run.assert_code(0);
    let s: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(s["events_written"], 7, "{s}");
}

#[test]
fn hostile_regions_cannot_leave_their_partition() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let src = dir.path().join("hostile.jsonl");
    let regions = [
        "../../../x",
        "a/b=c",
        "..",
        "/etc",
        "C:\\evil",
        "%2e%2e",
        "us-east-1/../../y",
        "",
    ];
    let lines: Vec<String> = regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            serde_json::json!({"eventTime": "2024-03-11T08:00:00Z", "eventID": format!("h{i}"), "awsRegion": r})
                .to_string()
        })
        .collect();
    std::fs::write(&src, lines.join("\n")).unwrap();
    trawl(&lake, &["ingest", src.to_str().unwrap()]).assert_code(0);

    let table = lake.join("cloudtrail").canonicalize().unwrap();
    let files = files_below(dir.path());
    for f in &files {
        let f = f.canonicalize().unwrap();
        assert!(
            f.starts_with(&lake) || f == src.canonicalize().unwrap(),
            "written outside the lake: {f:?}"
        );
        if f.extension().is_some_and(|e| e == "parquet") {
            // table/region=…/date=…/file: exactly three components below the table.
            let rel = f.strip_prefix(&table).unwrap();
            assert_eq!(rel.components().count(), 3, "{rel:?}");
        }
    }
    let parquet = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "parquet"))
        .count();
    assert_eq!(parquet, regions.len(), "one partition per distinct region");
    assert_eq!(export_all(&lake, None).len(), regions.len());
    let back: Vec<String> = regions.iter().map(|r| r.to_string()).collect();
    let rows = sql_rows(&lake, "SELECT awsregion FROM cloudtrail ORDER BY eventid");
    let got: Vec<String> = rows.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(got, back);
}

#[test]
fn the_same_file_delivered_twice_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let real = repo().join("testdata/real/stratus_red_team.jsonl");
    let copy = dir.path().join("copy.jsonl");
    std::fs::copy(&real, &copy).unwrap();
    let run = trawl(
        &lake,
        &[
            "ingest",
            "--json",
            real.to_str().unwrap(),
            copy.to_str().unwrap(),
        ],
    );
    run.assert_code(0);
    let s: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    // Records with an eventID are stored once; those without one cannot be told apart from a
    // second, different event and are all kept.
    let with_id = std::fs::read_to_string(&real)
        .unwrap()
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["eventID"].is_string())
        .count() as u64;
    assert!(with_id > 300);
    assert_eq!(s["events_written"], 314 + (314 - with_id), "{s}");
    assert_eq!(s["duplicates_dropped"], with_id, "{s}");
}
