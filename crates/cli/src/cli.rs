//! The command line. The doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::{export, generate, ingest, sql};

/// Keep and query AWS CloudTrail logs: a self-hosted stand-in for Athena.
///
/// trawl turns CloudTrail's gzipped JSON files into a lake of Parquet files partitioned by region
/// and date, and answers SQL over it.
#[derive(Debug, Parser)]
#[command(name = "trawl", version, propagate_version = true, after_long_help = EXIT_CODES)]
pub struct Cli {
    /// The lake folder. Default: $TRAWL_LAKE, else `lake` in ./trawl.toml, else ./lake.
    #[arg(long, global = true, value_name = "DIR")]
    pub lake: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure (nothing was committed, or the command could not run)
  2  usage error
  3  partial: ingest committed everything it could but refused some inputs (listed on stderr)";

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest CloudTrail files (local files, folders or globs) into the lake.
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

    /// Write records back as JSON Lines, each equal to the record ingested.
    Export(export::Args),

    /// Generate realistic CloudTrail files for demos, tests and benchmarks.
    Generate(generate::Args),
}
