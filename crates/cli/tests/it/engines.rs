//! The lake reads back in DuckDB and pyarrow with Hive partitioning.

use std::process::Command;

use crate::common::*;

fn python_has(modules: &[&str]) -> bool {
    let code = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join(";");
    Command::new("python3")
        .args(["-c", &code])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn duckdb_and_pyarrow_read_the_lake() {
    if !python_has(&["duckdb", "pyarrow"]) {
        // CI installs both (see .ci/run); a developer without them is told, loudly.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have duckdb and pyarrow installed"
        );
        eprintln!("SKIPPED duckdb_and_pyarrow_read_the_lake: pip install duckdb pyarrow");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let real = repo().join("testdata/real");
    trawl(&lake, &["ingest", real.to_str().unwrap()]).assert_code(0);
    let expected = sql_rows(
        &lake,
        "SELECT count(*), count(DISTINCT region), count(DISTINCT date), sum(CASE WHEN useridentity.type = 'Root' THEN 1 ELSE 0 END) FROM cloudtrail",
    );
    let script = repo().join("crates/cli/tests/it/read_lake.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(lake.join("cloudtrail"))
        .args(&expected[0])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
