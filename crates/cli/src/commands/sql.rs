//! `trawl sql`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::Outcome;
use crate::config;

/// Arguments of `trawl sql`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A statement to run (repeatable, run in order).
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,

    /// A file of statements to run (repeatable).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Runs `trawl sql`.
pub fn run(lake: Option<&Path>, args: Args) -> anyhow::Result<Outcome> {
    let lake = config::lake(lake)?;
    let mut statements = args.commands;
    for f in &args.files {
        statements
            .push(std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?);
    }
    if statements.is_empty() {
        bail!("give a statement with -c or a file with -f");
    }
    let rt = super::runtime()?;
    rt.block_on(async {
        let ctx = trawl_query::open_session(&lake).await?;
        let mut out = std::io::stdout().lock();
        for sql in &statements {
            let started = std::time::Instant::now();
            let rows = trawl_query::print::run_and_print(&ctx, sql, &mut out).await?;
            out.flush()?;
            eprintln!("{rows} row(s) in {:.3}s", started.elapsed().as_secs_f64());
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Success)
}
