//! The command line. The doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::{
    check, compact, ddl, export, generate, ingest, queries, query, s3_args, sql, status,
};

/// Keep and query AWS CloudTrail logs: a self-hosted stand-in for Athena.
///
/// trawl turns CloudTrail's gzipped JSON files into a lake of Parquet files partitioned by region
/// and date, and answers SQL over it.
#[derive(Debug, Parser)]
#[command(name = "trawl", version, propagate_version = true, after_long_help = EXIT_CODES)]
pub struct Cli {
    /// The lake: a folder, or `s3://bucket/prefix/` for a lake in S3. Default: $TRAWL_LAKE,
    /// else `lake` in ./trawl.toml, else ./lake.
    #[arg(long, global = true, value_name = "DIR|S3URL")]
    pub lake: Option<PathBuf>,

    /// A folder of your own saved queries (`<group>/<name>.sql`; repeatable). Also
    /// `queries = [...]` in ./trawl.toml. A query here replaces a built-in one of the same name.
    #[arg(long = "queries", global = true, value_name = "DIR")]
    pub queries: Vec<PathBuf>,

    #[command(flatten)]
    pub s3: s3_args::S3Args,

    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure (nothing was committed, or the command could not run)
  2  usage error
  3  partial: ingest committed everything it could but refused some inputs (listed on stderr),
     or check found findings at or above --fail-on";

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest CloudTrail files (local files, folders, globs or `s3://` prefixes) into the lake.
    ///
    /// Reads `.json.gz`, `.json`, JSON Lines and multi-member gzip, in CloudTrail's
    /// `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/` layout or any other. Digest files are
    /// skipped. Each record is stored under region=<awsRegion>/date=<UTC day of eventTime>;
    /// every field is kept, including ones the table has no column for. Records that cannot be
    /// stored (no readable eventTime, broken JSON) are kept in <lake>/_trawl/quarantine/ and
    /// reported; the run then exits 3.
    #[command(after_long_help = EXIT_CODES)]
    Ingest(ingest::Args),

    /// Run SQL over the lake (table `cloudtrail`, also `cloudtrail_logs`).
    Sql(sql::Args),

    /// List the saved queries (built-in and your own), or show one in full.
    Queries(queries::Args),

    /// Run one saved query by name, with its parameters and a time window.
    Query(query::Args),

    /// Run every detection (saved queries with a severity) over a window; report findings.
    ///
    /// Each row a detection returns is a finding. The summary goes to stdout (or one JSON
    /// finding per line with --format json); the exit code is 3 when a finding is at or above
    /// --fail-on, so a nightly `trawl ingest && trawl check` can alert.
    #[command(after_long_help = EXIT_CODES)]
    Check(check::Args),

    /// Merge each partition's files into one sorted file, dropping duplicate deliveries.
    ///
    /// Each partition is rebuilt aside and swapped in whole, so readers see the old files or
    /// the new. Safe to kill; the next writer finishes or undoes it. In a lake in S3 the new
    /// file is copied in and readers hide the old ones, which a later writer deletes after 10
    /// minutes.
    Compact(compact::Args),

    /// Show partitions, freshness per region, the last runs and the quarantine.
    Status(status::Args),

    /// Write records back as JSON Lines, each equal to the record ingested.
    Export(export::Args),

    /// Print the statements that make the lake a table in Athena, Trino, Spark or DuckDB.
    ///
    /// Every column with its exact type, the Hive partitions `region` and `date` (Athena:
    /// partition projection; Trino: sync_partition_metadata; Spark: MSCK REPAIR TABLE; DuckDB:
    /// a view over read_parquet), and `--` notes on what reads differently there.
    Ddl(ddl::Args),

    /// Generate realistic CloudTrail files for demos, tests and benchmarks.
    Generate(generate::Args),
}
