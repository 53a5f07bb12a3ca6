//! `trawl sql`.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use trawl_query::exec::{execute_sql, footer};

use super::results::ResultArgs;
use super::s3_args::S3Args;
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

    #[command(flatten)]
    pub results: ResultArgs,
}

/// Runs `trawl sql`.
pub fn run(
    lake: Option<&Path>,
    s3: &S3Args,
    query_dirs: &[PathBuf],
    args: Args,
) -> anyhow::Result<Outcome> {
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
    let options = args.results.print_options();
    // A script may use the prompt's meta-commands (`\\format csv`, `\\run NAME`, …).
    let meta = scripts
        .iter()
        .any(|s| trawl_query::repl::has_meta_commands(s));
    let catalog = if interactive || meta {
        super::catalog(query_dirs)?.0
    } else {
        Default::default()
    };
    let rt = super::runtime()?;
    rt.block_on(async {
        let ctx = trawl_query::open_session(&lake, &s3.settings()).await?;
        if interactive {
            crate::allocator::return_freed_memory_after(1000);
            trawl_query::repl::run_prompt(ctx, options, catalog).await?;
            return Ok(());
        }
        let quiet = args.results.quiet;
        if meta {
            let output = match &args.results.output {
                Some(p) => Some((
                    p.display().to_string(),
                    std::fs::File::create(p)
                        .with_context(|| format!("creating {}", p.display()))?,
                )),
                None => None,
            };
            trawl_query::repl::run_script(ctx, options, catalog, &scripts, output, !quiet).await?;
            return Ok(());
        }
        let mut out = args.results.writer()?;
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
