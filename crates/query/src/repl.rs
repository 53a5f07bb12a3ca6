//! The interactive prompt: read a statement (several lines, until `;`), run it, print it.
//! Ctrl-C cancels a running query and keeps the prompt; Ctrl-D leaves.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Notify;

use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::QueryError;
use crate::command::{Command, HELP};
use trawl_lake::time_arg::{self, Edge};

use crate::exec::{execute_statement, footer, split_statements};
use crate::helper::{SqlHelper, column_paths};
use crate::print::PrintOptions;
use crate::saved::{Catalog, Window, prepare};

/// Where the prompt keeps its history: the user's data folder, not the working folder.
pub fn history_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("trawl").join("history.txt"))
}

/// State of a prompt session.
struct Shell {
    ctx: SessionContext,
    options: PrintOptions,
    timing: bool,
    output: Option<(String, std::fs::File)>,
    catalog: Catalog,
}

/// Runs the prompt until `\q` or Ctrl-D.
pub async fn run_prompt(
    ctx: SessionContext,
    options: PrintOptions,
    catalog: Catalog,
) -> Result<(), QueryError> {
    let mut words = vec!["cloudtrail".to_string(), "cloudtrail_logs".to_string()];
    words.extend(catalog.names().map(String::from));
    if let Ok(t) = ctx.table_provider("cloudtrail").await {
        column_paths("", t.schema().fields(), &mut words);
    }
    let state = ctx.state();
    words.extend(state.scalar_functions().keys().cloned());
    words.extend(state.aggregate_functions().keys().cloned());
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let config = Config::builder()
        // Tab lists every candidate, as psql does, instead of cycling through them.
        .completion_type(CompletionType::List)
        .auto_add_history(true)
        .max_history_size(5000)
        .map_err(rl)?
        .build();
    let mut editor: Editor<SqlHelper, DefaultHistory> = Editor::with_config(config).map_err(rl)?;
    editor.set_helper(Some(SqlHelper::new(words, color)));
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    eprintln!("trawl sql: table `cloudtrail`. End statements with `;`. \\? for help, \\q to quit.");

    // While a query runs the terminal is not in raw mode, so Ctrl-C arrives as a signal:
    // it cancels the query (dropping its stream stops the work), not the prompt.
    let interrupted = Arc::new(Notify::new());
    let notify = Arc::clone(&interrupted);
    let _ = ctrlc::set_handler(move || notify.notify_one());
    let mut shell = Shell {
        ctx,
        options,
        timing: true,
        output: None,
        catalog,
    };
    loop {
        let line = tokio::task::block_in_place(|| editor.readline("trawl> "));
        match line {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) if line.trim_start().starts_with('\\') => match line.parse::<Command>() {
                Ok(Command::Quit) => break,
                Ok(cmd) => tokio::select! {
                    result = shell.command(cmd) => if let Err(e) = result { eprintln!("error: {e}") },
                    _ = interrupted.notified() => eprintln!("cancelled"),
                },
                Err(e) => eprintln!("error: {e}"),
            },
            Ok(line) => shell.run_cancellable(&line, &interrupted).await,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(rl(e)),
        }
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    Ok(())
}

/// Whether `script` holds a meta-command line (`\d`, `\format csv`, …) that
/// [`run_script`] would run.
pub fn has_meta_commands(script: &str) -> bool {
    script.lines().any(|l| l.trim_start().starts_with('\\'))
}

/// Runs scripts (each `-c` or `-f`) in order as the prompt would, meta-commands included: a
/// line starting with `\` where a statement may start is a meta-command, the rest is SQL.
/// Results go to `output` (a file's name and the file) or stdout; run times go to stderr when
/// `timing`. Stops at the first error, and at `\q`.
pub async fn run_script(
    ctx: SessionContext,
    options: PrintOptions,
    catalog: Catalog,
    scripts: &[String],
    output: Option<(String, std::fs::File)>,
    timing: bool,
) -> Result<(), QueryError> {
    let mut shell = Shell {
        ctx,
        options,
        timing,
        output,
        catalog,
    };
    for script in scripts {
        let mut sql = String::new();
        for line in script.lines() {
            if at_statement_start(&sql) && line.trim_start().starts_with('\\') {
                if !sql.trim().is_empty() {
                    shell.run(&std::mem::take(&mut sql)).await?;
                }
                sql.clear();
                match line.parse::<Command>()? {
                    Command::Quit => return Ok(()),
                    cmd => shell.command(cmd).await?,
                }
            } else {
                sql.push_str(line);
                sql.push('\n');
            }
        }
        if !sql.trim().is_empty() {
            shell.run(&sql).await?;
        }
    }
    Ok(())
}

/// Whether a statement may start after `sql`: nothing but comments and whitespace since the
/// last `;`.
fn at_statement_start(sql: &str) -> bool {
    let code: String = sql
        .lines()
        .map(|l| l.split_once("--").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    let code = code.trim_end();
    code.is_empty() || code.ends_with(';')
}

fn rl(e: ReadlineError) -> QueryError {
    QueryError::Io(std::io::Error::other(e))
}

impl Shell {
    async fn run_cancellable(&mut self, sql: &str, interrupted: &Notify) {
        tokio::select! {
            result = self.run(sql) => if let Err(e) = result { eprintln!("error: {e}") },
            _ = interrupted.notified() => eprintln!("cancelled"),
        }
    }

    async fn run(&mut self, sql: &str) -> Result<(), QueryError> {
        for statement in split_statements(sql)? {
            self.run_statement(statement).await?;
        }
        Ok(())
    }

    async fn run_statement(&mut self, statement: Statement) -> Result<(), QueryError> {
        let done = match &mut self.output {
            Some((_, file)) => {
                let options = self.options;
                execute_statement(&self.ctx, statement, &options, file).await?
            }
            None => {
                let mut out = std::io::stdout().lock();
                execute_statement(&self.ctx, statement, &self.options, &mut out).await?
            }
        };
        if self.timing {
            eprintln!("{}", footer(&done));
        }
        Ok(())
    }

    /// `\run NAME [k=v…]`: `since` and `until` set the window, the rest are parameters.
    async fn run_saved(
        &mut self,
        name: &str,
        args: Vec<(String, String)>,
    ) -> Result<(), QueryError> {
        let query = self.catalog.get(name).map_err(QueryError::Saved)?.clone();
        let now = chrono::Utc::now();
        let mut window = Window::all();
        let mut params = Vec::new();
        for (k, v) in args {
            let at = |edge| time_arg::parse_instant(&v, now, edge).map_err(QueryError::Saved);
            match k.as_str() {
                "since" => window.since = at(Edge::Start)?,
                "until" => window.until = at(Edge::End)?,
                _ => params.push((k, v)),
            }
        }
        let statement =
            prepare(&query, &params, window).map_err(|e| QueryError::Saved(e.to_string()))?;
        self.run_statement(statement).await
    }

    async fn command(&mut self, cmd: Command) -> Result<(), QueryError> {
        match cmd {
            Command::Quit => {}
            Command::Help => {
                for (usage, what) in HELP {
                    println!("  {usage:<36} {what}");
                }
            }
            Command::ListTables => {
                self.run("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1;").await?;
            }
            Command::Describe(table) => {
                let provider = self.ctx.table_provider(table.as_str()).await?;
                let mut lines = Vec::new();
                crate::helper::describe("", provider.schema().fields(), &mut lines);
                let width = lines.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
                let mut stdout = std::io::stdout().lock();
                for (path, ty) in lines {
                    writeln!(stdout, "  {path:<width$}  {ty}")?;
                }
            }
            Command::Timing => {
                self.timing = !self.timing;
                eprintln!("timing is {}", if self.timing { "on" } else { "off" });
            }
            Command::Format(f) => {
                self.options.format = f;
                eprintln!("format is {f}");
            }
            Command::MaxRows(n) => {
                self.options.max_rows = n;
                eprintln!("showing at most {n} rows");
            }
            Command::Include(file) => {
                let sql = std::fs::read_to_string(&file).map_err(|e| {
                    QueryError::Io(std::io::Error::new(e.kind(), format!("{file}: {e}")))
                })?;
                self.run(&sql).await?;
            }
            Command::Output(None) => {
                if let Some((name, _)) = self.output.take() {
                    eprintln!("results go to the terminal again (were going to {name})");
                }
            }
            Command::Output(Some(file)) => {
                let f = std::fs::File::create(&file).map_err(|e| {
                    QueryError::Io(std::io::Error::new(e.kind(), format!("{file}: {e}")))
                })?;
                eprintln!("results go to {file}");
                self.output = Some((file, f));
            }
            Command::Run(name, args) => self.run_saved(&name, args).await?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_may_start_after_a_semicolon_or_only_comments() {
        assert!(at_statement_start(""));
        assert!(at_statement_start("-- nightly\n"));
        assert!(at_statement_start("SELECT 1; -- note\n"));
        assert!(at_statement_start("SELECT 1;\n-- a\n\n"));
        assert!(!at_statement_start("SELECT 1\n"));
        assert!(!at_statement_start("SELECT 1 -- no end;\n"));
    }
}
