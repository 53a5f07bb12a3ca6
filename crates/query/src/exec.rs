//! Every way SQL arrives (`-c`, `-f`, stdin, the prompt, `\i`) ends here: split into
//! statements, plan, run, print.

use std::io::Write;
use std::time::{Duration, Instant};

use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParserBuilder, Statement};

use crate::QueryError;
use crate::print::{PrintOptions, Printed, print_stream};

/// What running one statement produced.
#[derive(Debug, Clone, Copy)]
pub struct Executed {
    /// What was printed; `None` for a statement without a result (SET, CREATE VIEW).
    pub printed: Option<Printed>,
    /// How long planning, running and printing took.
    pub elapsed: Duration,
}

/// Splits `sql` into statements (a syntax error names its line and column).
pub fn split_statements(sql: &str) -> Result<Vec<Statement>, QueryError> {
    let sql = crate::table_names::replace_event_data_store_ids(sql);
    let mut parser = DFParserBuilder::new(sql.as_ref()).build()?;
    let mut statements: Vec<Statement> = parser.parse_statements()?.into_iter().collect();
    for s in &mut statements {
        crate::unnest::rewrite_cross_join_unnest(s);
        crate::field_access::rewrite_field_access(s);
    }
    Ok(statements)
}

/// Runs one parsed statement and prints its result to `out`.
pub async fn execute_statement<W: Write>(
    ctx: &SessionContext,
    statement: Statement,
    options: &PrintOptions,
    out: &mut W,
) -> Result<Executed, QueryError> {
    let started = Instant::now();
    let plan = ctx
        .state()
        .statement_to_plan(statement)
        .await
        .map_err(with_position)?;
    let frame = ctx.execute_logical_plan(plan).await?;
    let columns = frame.schema().fields().len();
    let stream = frame.execute_stream().await?;
    let printed = if columns == 0 {
        // SET, CREATE VIEW and the like: nothing to show, not an empty table.
        datafusion::physical_plan::common::collect(stream).await?;
        None
    } else {
        Some(print_stream(stream, options, out).await?)
    };
    Ok(Executed {
        printed,
        elapsed: started.elapsed(),
    })
}

/// A planning error with the line and column it is about, when DataFusion knows them.
fn with_position(e: datafusion::error::DataFusionError) -> QueryError {
    let at = e
        .diagnostic()
        .and_then(|d| d.span)
        .filter(|s| s.start.line > 0);
    match at {
        Some(span) => QueryError::Located {
            message: e.strip_backtrace(),
            line: span.start.line,
            column: span.start.column,
        },
        None => e.into(),
    }
}

/// Runs every statement of `sql` in order, reporting each with `report`; stops at the first
/// error.
pub async fn execute_sql<W: Write>(
    ctx: &SessionContext,
    sql: &str,
    options: &PrintOptions,
    out: &mut W,
    mut report: impl FnMut(&Executed),
) -> Result<usize, QueryError> {
    let statements = split_statements(sql)?;
    let n = statements.len();
    for statement in statements {
        let done = execute_statement(ctx, statement, options, out).await?;
        report(&done);
    }
    Ok(n)
}

/// The line that follows a result: rows and time.
pub fn footer(done: &Executed) -> String {
    let Some(Printed { rows, hidden }) = done.printed else {
        return format!("done in {:.3}s", done.elapsed.as_secs_f64());
    };
    let shown = if hidden > 0 {
        format!(" ({} shown; \\maxrows to see more)", rows - hidden)
    } else {
        String::new()
    };
    format!(
        "{rows} row{}{shown} in {:.3}s",
        if rows == 1 { "" } else { "s" },
        done.elapsed.as_secs_f64()
    )
}
