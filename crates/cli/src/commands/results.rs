//! The result options `trawl sql` and `trawl query` share.

use std::io::Write;
use std::path::PathBuf;

use trawl_query::print::{Format, PrintOptions};

/// How and where results are printed.
#[derive(Debug, clap::Args)]
pub struct ResultArgs {
    /// Output format: table, csv, tsv, json or ndjson.
    #[arg(long, value_name = "F", default_value = "table", value_parser = parse_format)]
    pub format: Format,

    /// Write results to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Rows the table format shows (the rest are counted).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub maxrows: usize,

    /// Do not print row counts and timings on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

impl ResultArgs {
    /// The printing options these flags ask for.
    pub fn print_options(&self) -> PrintOptions {
        PrintOptions {
            format: self.format,
            max_rows: self.maxrows,
            ..PrintOptions::default()
        }
    }

    /// The file of `-o`, else stdout.
    pub fn writer(&self) -> anyhow::Result<Box<dyn Write>> {
        super::output(self.output.as_deref())
    }
}
