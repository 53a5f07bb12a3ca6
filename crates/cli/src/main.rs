//! The `trawl` binary: parses the command line, runs the command, maps the outcome to an exit
//! code. Everything else lives in the library crates.

mod allocator;
mod cli;
mod commands;
mod config;
mod progress_bar;

use std::process::ExitCode;

use clap::Parser;

// Ingest allocates and frees column buffers across threads; glibc's allocator spends a fifth of
// the run in lock contention and page faults there (see bench/ingest.sh), mimalloc does not.
// mimalloc's v2 line (the `v2` feature), not v3: v3 reused little of what a query freed, so a
// query over `requestparameters` took fresh (zeroed) memory for every page it decompressed:
// 155 MiB committed against 68 MiB of data read, and 10-30% of the query's time in the kernel
// zeroing pages (bench/query.sh, "JSON field").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a command ended, for scripts: see "Exit codes" in `trawl --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked.
    Success,
    /// Work was committed, but some inputs were refused (or findings met `--fail-on`).
    Partial,
}

/// An error the user fixes by changing the command line (an unknown saved query, a missing
/// parameter): exit code 2, like clap's own usage errors.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Success => 0,
            Outcome::Partial => 3,
        }
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    allocator::keep_freed_memory();
    match commands::run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(3),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<UsageError>().is_some() => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes, each said once: a cause whose text (or the part after its own
/// `kind: ` prefix) is already in the message is left out, since DataFusion's errors repeat
/// their sources in their own text.
fn message(e: &anyhow::Error) -> String {
    // Some errors quote their sources escaped (`\"`, `\\`): compare without the escapes.
    let plain = |s: &str| s.replace(['\\', '"'], "");
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        let core = c.split_once(": ").map_or(c.as_str(), |(_, rest)| rest);
        let said = plain(&text);
        if said.contains(&plain(&c)) || said.contains(&plain(core)) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&c);
    }
    text
}

/// `trawl sql -c … | head` closing the pipe early is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_said_once_even_when_quoted_with_escapes() {
        let e = anyhow::anyhow!(r#"table "C:\x" not found"#)
            .context(r#"planning failed: table \"C:\\x\" not found"#)
            .context("running the statement");
        assert_eq!(
            message(&e),
            r#"running the statement: planning failed: table \"C:\\x\" not found"#
        );
        let e = anyhow::anyhow!("disk full").context("writing results");
        assert_eq!(message(&e), "writing results: disk full");
    }
}
