//! `trawl sql` one-shot: formats, errors, Athena / CloudTrail Lake functions, time pruning.

use crate::common::*;

fn real_lake() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let real = repo().join("testdata/real");
    trawl(&lake, &["ingest", real.to_str().unwrap()]).assert_code(0);
    (dir, lake)
}

#[test]
fn formats_errors_and_athena_queries() {
    let (_dir, lake) = real_lake();
    let q = "SELECT eventname, count(*) AS n FROM cloudtrail WHERE eventsource = 'signin.amazonaws.com' GROUP BY 1 ORDER BY 1";

    let csv = trawl(&lake, &["sql", "--format", "csv", "-c", q]);
    csv.assert_code(0);
    let mut lines = csv.stdout.lines();
    assert_eq!(lines.next(), Some("eventname,n"));
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter().any(|l| l.starts_with("ConsoleLogin,")),
        "{}",
        csv.stdout
    );

    let ndjson = trawl(&lake, &["sql", "--format", "ndjson", "-c", q]);
    ndjson.assert_code(0);
    let objs: Vec<serde_json::Value> = ndjson
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), rows.len());
    let json = trawl(&lake, &["sql", "--format", "json", "-c", q]);
    let arr: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(arr, objs);
    let tsv = trawl(&lake, &["sql", "--format", "tsv", "-c", q]);
    assert!(tsv.stdout.starts_with("eventname\tn\n"));

    // A SQL error exits 1 and says where.
    let bad = trawl(&lake, &["sql", "-c", "SELEC 1"]);
    bad.assert_code(1);
    assert!(bad.stderr.contains("SELEC"), "{}", bad.stderr);
    let unknown = trawl(&lake, &["sql", "-c", "SELECT nope FROM cloudtrail"]);
    unknown.assert_code(1);
    assert!(unknown.stderr.contains("nope"), "{}", unknown.stderr);

    // Queries written for Athena's table and for CloudTrail Lake.
    let athena = [
        (
            "SELECT count(*) FROM cloudtrail WHERE eventname = 'ConsoleLogin' AND element_at(additionaleventdata, 'MFAUsed') = 'No'",
            "ConsoleLogin without MFA",
        ),
        (
            "SELECT count(*) FROM cloudtrail WHERE readonly = 'false' AND eventtime > '2015-01-01T00:00:00Z'",
            "boolean as text, ISO literal",
        ),
        (
            "SELECT count(*) FROM cloudtrail WHERE json_extract_scalar(requestparameters, '$.bucketName') IS NOT NULL",
            "json_extract_scalar",
        ),
        (
            "SELECT count(*) FROM cloudtrail_logs WHERE eventtime BETWEEN from_iso8601_timestamp('2015-01-01T00:00:00Z') AND date_add('day', 1, now())",
            "Athena's table name, Trino time functions",
        ),
        (
            "SELECT count(*) FROM cloudtrail WHERE date_diff('second', eventtime, date_add('hour', 1, eventtime)) = 3600 AND day_of_week(eventtime) BETWEEN 1 AND 7 AND date_format(eventtime, '%Y') > '2000'",
            "date_diff, day_of_week, date_format",
        ),
        (
            "SELECT eventname, approx_distinct(eventid) FROM cloudtrail WHERE regexp_like(eventname, '^Console') AND (cardinality(resources) IS NULL OR cardinality(resources) >= 0) GROUP BY eventname",
            "regexp_like, cardinality, approx_distinct",
        ),
    ];
    for (sql, what) in athena {
        let run = trawl(&lake, &["sql", "--format", "csv", "-c", sql]);
        assert_eq!(run.code, 0, "{what}: {}", run.stderr);
    }
    // Trino's lateral unnest gives one row per resource, as DataFusion's own unnest does.
    let lateral = sql_rows(
        &lake,
        "SELECT count(*) FROM cloudtrail CROSS JOIN UNNEST(resources) AS t(r)",
    );
    let native = sql_rows(
        &lake,
        "SELECT count(*) FROM (SELECT unnest(resources) FROM cloudtrail)",
    );
    assert_eq!(lateral, native);
    assert!(lateral[0][0].parse::<u64>().unwrap() > 1000, "{lateral:?}");
    let mfa = sql_rows(&lake, athena[0].0);
    assert!(mfa[0][0].parse::<u64>().unwrap() > 0, "{mfa:?}");
    let all = sql_rows(
        &lake,
        "SELECT count(*) FROM cloudtrail WHERE eventname = 'ConsoleLogin'",
    );
    assert!(mfa[0][0].parse::<u64>().unwrap() < all[0][0].parse::<u64>().unwrap());
}

#[test]
fn parquet_settings_set_at_the_prompt_reach_the_table() {
    let (_dir, lake) = real_lake();
    // Pages the scan's page index looked at: none while the index is off (trawl's default).
    let pages_indexed = |setting: &str| {
        let set = format!("SET datafusion.execution.parquet.enable_page_index = {setting}");
        // On a column with statistics (not every column has them), whose row groups are not
        // all wholly matched (their pages are then not looked at).
        let explain =
            "EXPLAIN ANALYZE SELECT count(*) FROM cloudtrail WHERE errorcode = 'AccessDenied'";
        let run = trawl(
            &lake,
            &["sql", "--format", "csv", "-c", &set, "-c", explain],
        );
        run.assert_code(0);
        let metric = run.stdout.split("page_index_pages_pruned=").nth(1);
        let total = metric.and_then(|m| m.split_whitespace().next());
        total
            .unwrap_or_else(|| panic!("{}", run.stdout))
            .to_string()
    };
    assert_eq!(pages_indexed("false"), "0");
    assert_ne!(pages_indexed("true"), "0");
}

#[test]
fn a_time_window_reads_only_its_days() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let (tree, _) = generate(dir.path(), 3000, 5, 3);
    trawl(&lake, &["ingest", tree.to_str().unwrap()]).assert_code(0);
    // The partition days whose files the scan was given, from EXPLAIN's file groups.
    let days_scanned = |sql: &str| {
        let run = trawl(
            &lake,
            &["sql", "--format", "csv", "-c", &format!("EXPLAIN {sql}")],
        );
        run.assert_code(0);
        let mut days: Vec<String> = run
            .stdout
            .split("date=")
            .skip(1)
            .map(|s| s[..10].to_string())
            .collect();
        days.sort();
        days.dedup();
        days
    };
    // A filter keeps DataFusion from answering count(*) from statistics alone.
    let all = days_scanned("SELECT count(*) FROM cloudtrail WHERE eventname <> ''");
    assert!(all.len() >= 3, "{all:?}");
    let window = days_scanned(
        "SELECT count(*) FROM cloudtrail WHERE eventtime >= TIMESTAMP '2024-03-03T06:00:00Z' AND eventtime < TIMESTAMP '2024-03-03T18:00:00Z'",
    );
    assert_eq!(window, ["2024-03-03"]);
    let relative = days_scanned(
        "SELECT count(*) FROM cloudtrail WHERE eventtime >= TIMESTAMP '2024-03-05T12:00:00Z' - INTERVAL '1' DAY",
    );
    assert_eq!(relative, ["2024-03-04", "2024-03-05"]);
    // And the answer is the same as without pruning help (same count via a string filter on date).
    let a = sql_rows(
        &lake,
        "SELECT count(*) FROM cloudtrail WHERE eventtime >= TIMESTAMP '2024-03-03T06:00:00Z' AND eventtime < TIMESTAMP '2024-03-03T18:00:00Z'",
    );
    let b = sql_rows(
        &lake,
        "SELECT count(*) FROM cloudtrail WHERE CAST(eventtime AS VARCHAR) >= '2024-03-03T06:00:00' AND CAST(eventtime AS VARCHAR) < '2024-03-03T18:00:00'",
    );
    assert_eq!(a, b);
}
