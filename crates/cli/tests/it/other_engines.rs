//! The lake in other engines: the statements of `trawl ddl` run in DuckDB and in Spark, the same
//! questions give the same answers there as in `trawl sql`, and a file written before some
//! columns existed reads them as NULL everywhere.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::*;

/// One question in each dialect: trawl (Trino-style, as saved queries are written), DuckDB, Spark.
struct Question {
    name: &'static str,
    trawl: &'static str,
    duckdb: &'static str,
    spark: &'static str,
}

/// The same SQL in all three engines.
const fn same(name: &'static str, sql: &'static str) -> Question {
    Question {
        name,
        trawl: sql,
        duckdb: sql,
        spark: sql,
    }
}

const QUESTIONS: &[Question] = &[
    same(
        "counts per region and date",
        "SELECT region, date, count(*) AS n FROM cloudtrail GROUP BY region, date",
    ),
    same(
        "nested struct filter",
        "SELECT useridentity.sessioncontext.sessionissuer.accountid AS account, count(*) AS n,
           count(DISTINCT useridentity.sessioncontext.sessionissuer.username) AS roles
         FROM cloudtrail WHERE useridentity.sessioncontext.sessionissuer.type = 'Role'
         GROUP BY useridentity.sessioncontext.sessionissuer.accountid",
    ),
    Question {
        name: "unnest of resources",
        trawl: "SELECT r.type AS type, count(*) AS n, count(DISTINCT r.arn) AS arns
                FROM cloudtrail CROSS JOIN UNNEST(resources) AS t(r) GROUP BY r.type",
        duckdb: "SELECT r.type AS type, count(*) AS n, count(DISTINCT r.arn) AS arns
                 FROM cloudtrail CROSS JOIN UNNEST(resources) AS t(r) GROUP BY r.type",
        spark: "SELECT r.type AS type, count(*) AS n, count(DISTINCT r.arn) AS arns
                FROM cloudtrail LATERAL VIEW explode(resources) t AS r GROUP BY r.type",
    },
    Question {
        name: "JSON fields",
        trawl: "SELECT json_extract_scalar(requestparameters, '$.roleArn') AS role_arn,
                  json_extract_scalar(requestparameters, '$.durationSeconds') AS seconds, count(*) AS n
                FROM cloudtrail WHERE eventname = 'AssumeRole' GROUP BY 1, 2",
        duckdb: "SELECT json_extract_string(requestparameters, '$.roleArn') AS role_arn,
                  json_extract_string(requestparameters, '$.durationSeconds') AS seconds, count(*) AS n
                FROM cloudtrail WHERE eventname = 'AssumeRole' GROUP BY 1, 2",
        spark: "SELECT get_json_object(requestparameters, '$.roleArn') AS role_arn,
                  get_json_object(requestparameters, '$.durationSeconds') AS seconds, count(*) AS n
                FROM cloudtrail WHERE eventname = 'AssumeRole' GROUP BY 1, 2",
    },
    // Trino-dialect text as saved queries are written: DuckDB and Spark run it unchanged through
    // the functions `trawl ddl` defines, and Spark reads '\d' as trawl and Trino do.
    same(
        "Trino functions",
        "SELECT count(*) AS n,
           count(json_extract_scalar(requestparameters, '$.bucketName')) AS buckets,
           count(DISTINCT json_extract_scalar(requestparameters, '$.bucketName')) AS distinct_buckets,
           count(json_extract_scalar(requestparameters, '$.ipPermissions')) AS objects_are_null,
           count(json_extract(requestparameters, '$.ipPermissions')) AS objects,
           count(json_extract(requestparameters, '$.roleArn')) AS role_arns,
           sum(strpos(eventsource, '.amazonaws.com')) AS positions
         FROM cloudtrail WHERE regexp_like(recipientaccountid, '^\\d{12}$')",
    ),
    Question {
        // Microseconds survive, a zone-less TIMESTAMP literal means UTC in all three, booleans
        // are booleans, and `date` compares with a string.
        name: "timestamps, booleans, date",
        trawl: "SELECT CAST(min(eventtime) AS BIGINT) AS first_us, CAST(max(eventtime) AS BIGINT) AS last_us,
                  sum(CASE WHEN eventtime >= TIMESTAMP '2024-03-02 06:00:00'
                       AND eventtime < TIMESTAMP '2024-03-02 18:00:00' THEN 1 ELSE 0 END) AS window,
                  sum(CASE WHEN readonly THEN 1 ELSE 0 END) AS read_only,
                  sum(CASE WHEN NOT managementevent THEN 1 ELSE 0 END) AS data_events,
                  sum(CASE WHEN date >= '2024-03-02' THEN 1 ELSE 0 END) AS second_day
                FROM cloudtrail",
        duckdb: "SELECT epoch_us(min(eventtime)) AS first_us, epoch_us(max(eventtime)) AS last_us,
                  sum(CASE WHEN eventtime >= TIMESTAMP '2024-03-02 06:00:00'
                       AND eventtime < TIMESTAMP '2024-03-02 18:00:00' THEN 1 ELSE 0 END) AS window,
                  sum(CASE WHEN readonly THEN 1 ELSE 0 END) AS read_only,
                  sum(CASE WHEN NOT managementevent THEN 1 ELSE 0 END) AS data_events,
                  sum(CASE WHEN date >= '2024-03-02' THEN 1 ELSE 0 END) AS second_day
                 FROM cloudtrail",
        spark: "SELECT unix_micros(min(eventtime)) AS first_us, unix_micros(max(eventtime)) AS last_us,
                  sum(CASE WHEN eventtime >= TIMESTAMP '2024-03-02 06:00:00'
                       AND eventtime < TIMESTAMP '2024-03-02 18:00:00' THEN 1 ELSE 0 END) AS window,
                  sum(CASE WHEN readonly THEN 1 ELSE 0 END) AS read_only,
                  sum(CASE WHEN NOT managementevent THEN 1 ELSE 0 END) AS data_events,
                  sum(CASE WHEN date >= '2024-03-02' THEN 1 ELSE 0 END) AS second_day
                FROM cloudtrail",
    },
];

/// What other_engines.py asks of a partition written without some columns.
const EVOLUTION_SQL: &str =
    "SELECT count(*) AS n, count(tlsdetails) AS tls, count(unmapped) AS unmapped,
    count(useridentity.sessioncontext.sourceidentity) AS sourceidentity,
    count(useridentity.sessioncontext.sessionissuer) AS issuer
  FROM cloudtrail WHERE region = 'zz-evolve-1'";

fn have(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Rows as canonical JSON text, sorted: equal answers whatever order an engine returned them in.
fn sorted_rows(rows: &Value) -> Vec<String> {
    let mut rows: Vec<String> = rows
        .as_array()
        .unwrap_or_else(|| panic!("rows are an array: {rows}"))
        .iter()
        .map(canonical)
        .collect();
    rows.sort();
    rows
}

fn trawl_json(lake: &std::path::Path, sql: &str) -> Value {
    let run = trawl(lake, &["sql", "--format", "json", "-c", sql]);
    run.assert_code(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn duckdb_and_spark_answer_like_trawl() {
    let python = have("python3", &["-c", "import duckdb, pyarrow, pyspark"]);
    let java = have("java", &["-version"]);
    if !(python && java) {
        // CI installs them (scripts/test.sh); a developer without them is told, loudly.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have java and the Python packages duckdb, pyarrow and pyspark"
        );
        eprintln!(
            "SKIPPED duckdb_and_spark_answer_like_trawl: needs java and `pip install duckdb pyarrow pyspark`"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let (tree, _) = generate(dir.path(), 700, 2, 11);
    trawl(&lake, &["ingest", tree.to_str().unwrap()]).assert_code(0);

    // trawl's answers first: the script adds a file to the lake afterwards.
    let expected: Vec<(&str, Value)> = QUESTIONS
        .iter()
        .map(|q| (q.name, trawl_json(&lake, q.trawl)))
        .collect();
    for (name, rows) in &expected {
        assert!(
            !rows.as_array().unwrap().is_empty(),
            "{name}: trawl found nothing to compare"
        );
    }

    // The DDL as a user gets it; Athena's and Trino's cannot run here, so only their shape.
    let ddl = |engine: &str, extra: &[&str]| {
        let mut args = vec!["ddl", "--engine", engine];
        args.extend_from_slice(extra);
        let run = trawl(&lake, &args);
        run.assert_code(0);
        run.stdout
    };
    for (engine, file) in [("duckdb", "duckdb.sql"), ("spark", "spark.sql")] {
        std::fs::write(dir.path().join(file), ddl(engine, &[])).unwrap();
    }
    let athena = ddl(
        "athena",
        &["--location", "s3://bucket/trail/", "--table", "ct"],
    );
    assert!(athena.contains("CREATE EXTERNAL TABLE `ct` ("), "{athena}");
    assert!(athena.contains("LOCATION 's3://bucket/trail/cloudtrail/'"));
    let trino = ddl("trino", &["--location", "s3://bucket/trail"]);
    assert!(trino.contains("external_location = 's3://bucket/trail/cloudtrail',"));
    assert!(trino.contains("CALL \"hive\".system.sync_partition_metadata("));
    trawl(&lake, &["ddl", "--engine", "presto"]).assert_code(2);

    let questions: Vec<Value> = QUESTIONS
        .iter()
        .map(|q| json!({"name": q.name, "duckdb": q.duckdb, "spark": q.spark}))
        .collect();
    let questions_file = dir.path().join("questions.json");
    std::fs::write(&questions_file, serde_json::to_vec(&questions).unwrap()).unwrap();
    let script = repo().join("crates/cli/tests/it/other_engines.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(lake.join("cloudtrail"))
        .arg(dir.path().join("duckdb.sql"))
        .arg(dir.path().join("spark.sql"))
        .arg(&questions_file)
        .current_dir(dir.path())
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "other_engines.py failed:\n{stderr}");
    let got: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    eprintln!("engine timings (s): {}", got["seconds"]);

    for (name, rows) in &expected {
        let want = sorted_rows(rows);
        for engine in ["duckdb", "spark"] {
            assert_eq!(
                sorted_rows(&got[engine][name]),
                want,
                "{engine} and trawl differ on {name:?}"
            );
        }
    }

    // A file without tlsdetails, unmapped and sessioncontext.sourceidentity: NULL there, in all
    // three engines, and its other columns read as usual.
    let n = got["evolution"]["rows"].as_u64().unwrap();
    assert!(n > 0);
    let ours = trawl_json(&lake, EVOLUTION_SQL);
    let row = &ours[0];
    assert_eq!(row["n"], n, "{ours}");
    for column in ["tls", "unmapped", "sourceidentity"] {
        assert_eq!(row[column], 0, "{column}: {ours}");
    }
    for engine in ["duckdb", "spark"] {
        assert_eq!(
            sorted_rows(&got["evolution"][engine]),
            sorted_rows(&ours),
            "{engine} reads the older file differently"
        );
    }
}
