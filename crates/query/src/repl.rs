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
use rustyline::{Config, Editor};

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
                println!("timing is {}", if self.timing { "on" } else { "off" });
            }
            Command::Format(f) => {
                self.options.format = f;
                println!("format is {f}");
            }
            Command::MaxRows(n) => {
                self.options.max_rows = n;
                println!("showing at most {n} rows");
            }
            Command::Include(file) => {
                let sql = std::fs::read_to_string(&file).map_err(|e| {
                    QueryError::Io(std::io::Error::new(e.kind(), format!("{file}: {e}")))
                })?;
                self.run(&sql).await?;
            }
            Command::Output(None) => {
                if let Some((name, _)) = self.output.take() {
                    println!("results go to the terminal again (were going to {name})");
                }
            }
            Command::Output(Some(file)) => {
                let f = std::fs::File::create(&file).map_err(|e| {
                    QueryError::Io(std::io::Error::new(e.kind(), format!("{file}: {e}")))
                })?;
                println!("results go to {file}");
                self.output = Some((file, f));
            }
            Command::Run(name, args) => self.run_saved(&name, args).await?,
        }
        Ok(())
    }
}
