//! Snapshots of one-shot `trawl sql`: every format, the ways statements arrive (`-c` twice,
//! `-f`, stdin), `-o`, `--maxrows`, and errors (exit 1, message with line and column on stderr).
//!
//! The lake is the bundled `testdata/AWSLogs` tree; every query has an `ORDER BY` that fixes
//! the row order, and run times are filtered out. A changed output fails the test: CI (and
//! `scripts/test.sh`, with `INSTA_UPDATE=no`) never writes snapshots. To accept a change, run
//! `INSTA_UPDATE=always cargo test -p trawl --test it sql_snapshots` and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

use insta_cmd::assert_cmd_snapshot;

use crate::common::*;

/// Rows with a timestamp, text, a boolean, NULLs, a field of a struct, a JSON text column cut
/// in the table, a JSONPath lookup and a list of structs.
const DETAIL: &str = "SELECT eventtime, eventname, useridentity.type AS identity, readonly, errorcode, \
    json_extract_scalar(requestparameters, '$.roleArn') AS role_arn, requestparameters, resources \
    FROM cloudtrail WHERE eventsource IN ('sts.amazonaws.com', 'iam.amazonaws.com') \
    ORDER BY eventtime, eventname, eventid";

/// An aggregate.
const TOP: &str = "SELECT eventsource, count(*) AS events FROM cloudtrail GROUP BY eventsource \
    ORDER BY events DESC, eventsource LIMIT 5";

/// A folder with `lake/` ingested from `testdata/AWSLogs`; commands run inside it with the
/// relative `--lake lake`, so snapshots hold no temporary paths.
fn lake_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let tree = repo().join("testdata/AWSLogs");
    trawl(
        &dir.path().join("lake"),
        &["ingest", tree.to_str().unwrap()],
    )
    .assert_code(0);
    dir
}

/// `trawl --lake lake sql ARGS…` run in `dir`.
fn sql(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trawl"));
    cmd.current_dir(dir)
        .env_remove("TRAWL_LAKE")
        .args(["--lake", "lake", "sql"])
        .args(args);
    cmd
}

/// Snapshot settings: run times vary, so they are replaced.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r" in \d+\.\d+s", " in [ELAPSED]");
    s
}

#[test]
fn every_format() {
    let dir = lake_dir();
    settings().bind(|| {
        for format in ["table", "csv", "tsv", "json", "ndjson"] {
            assert_cmd_snapshot!(
                format!("format_{format}"),
                sql(dir.path(), &["--format", format, "-c", DETAIL])
            );
        }
        // An empty result is still well formed: a header, `[]`, nothing.
        let empty =
            "SELECT eventname, eventtime FROM cloudtrail WHERE eventname = 'Nothing' ORDER BY 1";
        for format in ["table", "csv", "json", "ndjson"] {
            assert_cmd_snapshot!(
                format!("empty_{format}"),
                sql(dir.path(), &["--format", format, "-c", empty])
            );
        }
        // The table shows at most --maxrows rows and says how many it left out.
        assert_cmd_snapshot!("maxrows", sql(dir.path(), &["--maxrows", "3", "-c", TOP]));
    });
}

#[test]
fn statements_from_every_source() {
    let dir = lake_dir();
    let file: PathBuf = dir.path().join("top.sql");
    std::fs::write(
        &file,
        format!("-- two statements in a file\n{TOP};\nSELECT 42 AS answer;\n"),
    )
    .unwrap();
    settings().bind(|| {
        // -c twice: run in order, each with its footer.
        assert_cmd_snapshot!(
            "two_commands",
            sql(
                dir.path(),
                &[
                    "--format",
                    "csv",
                    "-c",
                    TOP,
                    "-c",
                    "SELECT 'second' AS statement"
                ]
            )
        );
        assert_cmd_snapshot!(
            "file",
            sql(dir.path(), &["--format", "csv", "-f", "top.sql"])
        );
        // SQL from stdin when it is not a terminal.
        assert_cmd_snapshot!(
            "stdin",
            sql(dir.path(), &["--format", "ndjson"]).pass_stdin(format!("{TOP};"))
        );
        // -o: results to the file, nothing on stdout, the footer still on stderr.
        assert_cmd_snapshot!(
            "output_file",
            sql(dir.path(), &["--format", "csv", "-o", "out.csv", "-c", TOP])
        );
        insta::assert_snapshot!(
            "output_file_contents",
            std::fs::read_to_string(dir.path().join("out.csv")).unwrap()
        );
        // -q: no footer.
        assert_cmd_snapshot!(
            "quiet",
            sql(dir.path(), &["-q", "--format", "tsv", "-c", TOP])
        );
    });
}

#[test]
fn scripts_use_the_prompts_meta_commands() {
    let dir = lake_dir();
    let script = format!(
        "SET datafusion.execution.batch_size = 4096;\n\\format csv\n{TOP};\n\\maxrows 2\n\
         \\format table\nSELECT eventname FROM cloudtrail ORDER BY eventname LIMIT 3;\n\
         \\run cis/root-account-use since=2000-01-01\n\\q\nSELECT 'not run' AS after_quit;\n"
    );
    settings().bind(|| {
        // From stdin: SET prints no empty table; `\format` and `\maxrows` hold for what
        // follows; `\run` runs a saved query; `\q` ends the script. Messages go to stderr.
        assert_cmd_snapshot!(
            "meta_commands_stdin",
            sql(dir.path(), &[]).pass_stdin(script)
        );
        // Each -c is a script of its own; the settings carry over.
        assert_cmd_snapshot!(
            "meta_commands_c",
            sql(dir.path(), &["-c", "\\format ndjson", "-c", TOP])
        );
        // An unknown one stops the run with exit 1 and a suggestion.
        assert_cmd_snapshot!(
            "meta_commands_unknown",
            sql(dir.path(), &["-c", "\\formt csv", "-c", TOP])
        );
    });
}

#[test]
fn errors_exit_1_with_the_position() {
    let dir = lake_dir();
    settings().bind(|| {
        // A syntax error names the line and column in the statement.
        assert_cmd_snapshot!(
            "error_syntax",
            sql(
                dir.path(),
                &[
                    "-c",
                    "SELECT eventname\nFROM cloudtrail\nWHERE eventname = = 'x'"
                ]
            )
        );
        assert_cmd_snapshot!(
            "error_unknown_table",
            sql(dir.path(), &["-c", "SELECT * FROM cloudtrial"])
        );
        // The statements before the failing one ran and printed; the ones after did not run.
        assert_cmd_snapshot!(
            "error_stops_the_run",
            sql(
                dir.path(),
                &[
                    "--format",
                    "csv",
                    "-c",
                    "SELECT 1 AS first",
                    "-c",
                    "SELEC 2",
                    "-c",
                    "SELECT 3 AS third",
                ]
            )
        );
    });
}
