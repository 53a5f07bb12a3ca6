//! Printing query results.

use std::io::Write;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;

use crate::QueryError;

/// Runs `sql` and writes its result as a table to `out`; returns the row count.
pub async fn run_and_print(
    ctx: &SessionContext,
    sql: &str,
    out: &mut impl Write,
) -> Result<usize, QueryError> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    writeln!(
        out,
        "{}",
        pretty_format_batches(&batches).map_err(datafusion::error::DataFusionError::from)?
    )?;
    Ok(rows)
}
