//! `trawl export`: records back as JSON Lines, each JSON-equal to the record ingested.

use std::io::Write;

use datafusion::prelude::SessionContext;
use futures::StreamExt;
use trawl_lake::restore::RecordWriter;

use crate::QueryError;

/// Writes every record matching `predicate` (SQL, over the `cloudtrail` columns) to `out`, one
/// per line, and returns how many were written.
pub async fn export(
    ctx: &SessionContext,
    predicate: Option<&str>,
    out: &mut impl Write,
) -> Result<u64, QueryError> {
    let sql = match predicate {
        Some(p) => format!("SELECT * FROM cloudtrail WHERE {p}"),
        None => "SELECT * FROM cloudtrail".to_string(),
    };
    let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
    let mut line = String::new();
    let mut count = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let writer = RecordWriter::new(&batch)?;
        for row in 0..batch.num_rows() {
            line.clear();
            writer.write_row(row, &mut line)?;
            line.push('\n');
            out.write_all(line.as_bytes())?;
            count += 1;
        }
    }
    out.flush()?;
    Ok(count)
}
