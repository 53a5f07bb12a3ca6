//! Queries as Athena and CloudTrail Lake users write them, run unchanged against the lake:
//! table names from elsewhere, Trino syntax DataFusion lacks, and the answers they must give.

use crate::common::*;

/// A lake of the real records, built once per test run in a folder of its own.
fn lake() -> PathBuf {
    static LAKE: OnceLock<PathBuf> = OnceLock::new();
    LAKE.get_or_init(|| {
        let dir = scratch_dir("dialect");
        let real = repo().join("testdata/real");
        trawl(&dir.join("lake"), &["ingest", real.to_str().unwrap()]).assert_code(0);
        dir.join("lake")
    })
    .clone()
}

use std::path::PathBuf;
use std::sync::OnceLock;

fn csv(sql: &str) -> String {
    let run = trawl(&lake(), &["sql", "-q", "--format", "csv", "-c", sql]);
    run.assert_code(0);
    run.stdout
}

#[test]
fn table_names_from_athena_and_cloudtrail_lake_mean_the_lake() {
    let want = csv("SELECT count(*) AS n FROM cloudtrail");
    for from in [
        "cloudtrail_logs",
        "\"default\".\"cloudtrail_logs\"",
        "default.cloudtrail_logs",
        // The Athena console names the table after the trail's bucket.
        "cloudtrail_logs_aws_cloudtrail_logs_111122223333_1a2b3c4d",
        // A CloudTrail Lake event data store id, unquoted as Lake's own examples write it.
        "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
    ] {
        assert_eq!(
            csv(&format!("SELECT count(*) AS n FROM {from}")),
            want,
            "{from}"
        );
    }
}

#[test]
fn trino_syntax_datafusion_lacks() {
    // Field access after a call.
    let a = csv("SELECT element_at(resources, 1).arn AS a FROM cloudtrail \
         WHERE cardinality(resources) > 0 ORDER BY a DESC NULLS LAST LIMIT 3");
    let b = csv("SELECT resources[1]['arn'] AS a FROM cloudtrail \
         WHERE cardinality(resources) > 0 ORDER BY a DESC NULLS LAST LIMIT 3");
    assert_eq!(a, b);
    assert!(a.contains("arn:aws:"), "{a}");
    // `FROM t, UNNEST(…)` is the same lateral join as `CROSS JOIN UNNEST`.
    let comma = csv(
        "SELECT count(*) AS n FROM cloudtrail, UNNEST(resources) AS t(r) WHERE r.arn IS NOT NULL",
    );
    let cross = csv(
        "SELECT count(*) AS n FROM cloudtrail CROSS JOIN UNNEST(resources) AS t(r) \
         WHERE r.arn IS NOT NULL",
    );
    assert_eq!(comma, cross);
    assert_ne!(comma, "n\n0\n");
}
