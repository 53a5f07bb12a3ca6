//! `trawl sql`.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use trawl_query::exec::{execute_sql, footer};
use trawl_query::print::{Format, PrintOptions};

use crate::Outcome;
use crate::config;

/// Arguments of `trawl sql`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A statement to run (repeatable, run in order). Without -c or -f, statements are read
    /// from stdin when it is not a terminal, else the prompt opens.
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,

    /// A file of statements to run (repeatable).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,

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

/// Runs `trawl sql`.
pub fn run(lake: Option<&Path>, args: Args) -> anyhow::Result<Outcome> {
    let lake = config::lake(lake)?;
    let mut scripts = args.commands.clone();
    for f in &args.files {
        scripts
            .push(std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?);
    }
    let stdin = std::io::stdin();
    let interactive = scripts.is_empty() && stdin.is_terminal();
    if scripts.is_empty() && !interactive {
        let mut text = String::new();
        stdin
            .lock()
            .read_to_string(&mut text)
            .context("reading SQL from stdin")?;
        scripts.push(text);
    }
    let options = PrintOptions {
        format: args.format,
        max_rows: args.maxrows,
        ..PrintOptions::default()
    };
    let rt = super::runtime()?;
    rt.block_on(async {
        let ctx = trawl_query::open_session(&lake).await?;
        if interactive {
            trawl_query::repl::run_prompt(ctx, options).await?;
            return Ok(());
        }
        let mut out: Box<dyn Write> = match &args.output {
            Some(p) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            )),
            None => Box::new(std::io::stdout().lock()),
        };
        let quiet = args.quiet;
        for sql in &scripts {
            execute_sql(&ctx, sql, &options, &mut out, |done| {
                if !quiet {
                    eprintln!("{}", footer(done));
                }
            })
            .await?;
        }
        out.flush()?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Success)
}
