//! Bad input is named, the rest commits, and nothing panics.

use std::io::Write;

use crate::common::*;

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn good_file() -> Vec<u8> {
    std::fs::read(repo().join("testdata/real/traildiscover.jsonl")).unwrap()
}

#[test]
fn bad_files_are_named_and_the_rest_commits() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let good = good_file();
    let good_records = good
        .split(|c| *c == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    std::fs::write(src.join("good.jsonl"), &good).unwrap();

    let wrapped = gz(br#"{"Records":[{"eventTime":"2024-03-11T08:00:00Z","eventID":"t1"},{"eventTime":"2024-03-11T08:00:01Z","eventID":"t2"}]}"#);
    std::fs::write(
        src.join("truncated.json.gz"),
        &wrapped[..wrapped.len() - 12],
    )
    .unwrap();
    let mut corrupt = wrapped.clone();
    for b in corrupt.iter_mut().skip(12).take(20) {
        *b ^= 0x5a;
    }
    std::fs::write(src.join("corrupt.json.gz"), corrupt).unwrap();
    std::fs::write(src.join("empty.json"), b"").unwrap();
    std::fs::write(src.join("notcloudtrail.json"), br#"{"hello": "world"}"#).unwrap();
    std::fs::write(
        src.join("mixed.jsonl"),
        b"{\"eventTime\":\"2024-03-11T09:00:00Z\",\"eventID\":\"m1\"}\n{\"eventTime\":\"not a time\",\"eventID\":\"m2\"}\n{\"broken\n{\"eventTime\":\"2024-03-11T09:00:02Z\",\"eventID\":\"m3\"}\n",
    )
    .unwrap();

    let run = trawl(&lake, &["ingest", src.to_str().unwrap()]);
    run.assert_code(3);
    for name in [
        "truncated.json.gz",
        "corrupt.json.gz",
        "empty.json",
        "notcloudtrail.json",
        "mixed.jsonl",
    ] {
        assert!(
            run.stderr.contains(name),
            "{name} not named:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("good.jsonl"), "{}", run.stderr);
    assert!(
        run.stderr.contains("eventTime \"not a time\""),
        "{}",
        run.stderr
    );

    // Everything good was committed: the good file, and the good records of mixed.jsonl.
    let exported = export_all(&lake, None);
    assert_eq!(exported.len(), good_records + 2);
    assert!(exported.iter().any(|r| r.contains(r#""eventID":"m3""#)));

    // The refused records are kept verbatim in the quarantine.
    let q = files_below(&lake.join("_trawl/quarantine"));
    assert_eq!(q.len(), 1, "{q:?}");
    let text = std::fs::read_to_string(&q[0]).unwrap();
    let entries: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        entries
            .iter()
            .any(|e| e["raw"] == r#"{"eventTime":"not a time","eventID":"m2"}"#),
        "{text}"
    );
    assert!(
        entries.iter().any(|e| e["raw"]
            .as_str()
            .is_some_and(|r| r.starts_with("{\"broken"))),
        "{text}"
    );
    assert!(
        entries
            .iter()
            .all(|e| e["source"].as_str().unwrap().ends_with(".json")
                || e["source"].as_str().unwrap().ends_with(".jsonl"))
    );
    // Staging is gone; nothing else was written.
    assert!(files_below(&lake.join("_trawl/staging")).is_empty());
}

#[test]
fn truncations_and_random_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let src = dir.path().join("fuzz");
    std::fs::create_dir_all(&src).unwrap();
    let plain = good_file();
    let wrapped = {
        let lines: Vec<&str> = std::str::from_utf8(&plain)
            .unwrap()
            .lines()
            .take(40)
            .collect();
        format!("{{\"Records\":[{}]}}", lines.join(","))
    };
    let zipped = gz(wrapped.as_bytes());
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for i in 0..60 {
        let (name, base) = match i % 3 {
            0 => (format!("t{i}.json.gz"), zipped.clone()),
            1 => (format!("t{i}.json"), wrapped.as_bytes().to_vec()),
            _ => (format!("t{i}.jsonl"), plain.clone()),
        };
        let mut bytes = base[..next(base.len())].to_vec();
        if i % 2 == 0 {
            for _ in 0..1 + next(8) {
                if bytes.is_empty() {
                    break;
                }
                let at = next(bytes.len());
                bytes[at] = next(256) as u8;
            }
        }
        std::fs::write(src.join(name), bytes).unwrap();
    }
    std::fs::write(
        src.join("random.json.gz"),
        (0..4096).map(|_| next(256) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    let run = trawl(&lake, &["ingest", src.to_str().unwrap()]);
    assert!(run.code == 0 || run.code == 3, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    // Whatever was stored reads back.
    let _ = export_all(&lake, None);
}
