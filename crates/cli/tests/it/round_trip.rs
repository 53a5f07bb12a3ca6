//! Losslessness: every real record comes back JSON-equal (same keys, values and JSON types).

use crate::common::*;

#[test]
fn every_real_record_comes_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let real = repo().join("testdata/real");
    let run = trawl(&lake, &["ingest", real.to_str().unwrap()]);
    run.assert_code(0);

    let mut source = Vec::new();
    for f in std::fs::read_dir(&real).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "jsonl") {
            for line in std::fs::read_to_string(&p).unwrap().lines() {
                source.push(canonical(&serde_json::from_str(line).unwrap()));
            }
        }
    }
    assert_eq!(source.len(), 3409);
    let exported = export_all(&lake, None);
    let (want, got) = (multiset(source), multiset(exported));
    let missing: Vec<_> = want
        .keys()
        .filter(|k| !got.contains_key(*k))
        .take(3)
        .collect();
    assert!(
        missing.is_empty(),
        "records not given back equal, e.g.:\n{missing:#?}"
    );
    assert_eq!(want, got);
}

#[test]
fn export_filters_with_a_sql_predicate() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let real = repo().join("testdata/real/awsdocs.jsonl");
    trawl(&lake, &["ingest", real.to_str().unwrap()]).assert_code(0);
    let all = export_all(&lake, None);
    let some = export_all(&lake, Some("eventsource = 'iam.amazonaws.com'"));
    assert!(!some.is_empty() && some.len() < all.len());
    for r in &some {
        assert!(r.contains(r#""eventSource":"iam.amazonaws.com""#), "{r}");
    }
    let bad = trawl(&lake, &["export", "--where", "no_such_column = 1"]);
    bad.assert_code(1);
    assert!(bad.stderr.contains("no_such_column"), "{}", bad.stderr);
}
