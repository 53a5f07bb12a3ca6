//! Writing results in the formats users ask for: an aligned table for people; CSV, TSV, a
//! JSON array or JSON Lines for scripts. Machine formats stream batch by batch, so a large
//! result is never held in memory; the table keeps only the rows it shows.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use comfy_table::{Cell, ContentArrangement, Table, presets};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use std::sync::Arc;

use crate::QueryError;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// An aligned table with long values cut.
    #[default]
    Table,
    /// Comma-separated values with a header.
    Csv,
    /// Tab-separated values with a header.
    Tsv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Every format's name, for help and completion.
pub const FORMAT_NAMES: [&str; 5] = ["table", "csv", "tsv", "json", "ndjson"];

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "table" => Format::Table,
            "csv" => Format::Csv,
            "tsv" => Format::Tsv,
            "json" => Format::Json,
            "ndjson" | "jsonl" => Format::Ndjson,
            _ => {
                return Err(format!(
                    "unknown format `{s}`: use one of {}",
                    FORMAT_NAMES.join(", ")
                ));
            }
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = *self as usize;
        f.write_str(FORMAT_NAMES[i])
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy)]
pub struct PrintOptions {
    /// The format.
    pub format: Format,
    /// Rows shown by the table format (the rest are counted, not shown).
    pub max_rows: usize,
    /// Characters shown of one table cell before it is cut with `…`.
    pub max_cell_width: usize,
}

impl Default for PrintOptions {
    fn default() -> Self {
        Self {
            format: Format::Table,
            max_rows: 100,
            max_cell_width: 60,
        }
    }
}

/// What printing a result produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Printed {
    /// Rows in the result.
    pub rows: usize,
    /// Rows the table format left out (beyond `max_rows`).
    pub hidden: usize,
}

fn df(e: impl Into<DataFusionError>) -> QueryError {
    QueryError::DataFusion(e.into())
}

/// Streams `stream` to `out` in the chosen format.
pub async fn print_stream<W: Write>(
    mut stream: SendableRecordBatchStream,
    options: &PrintOptions,
    out: &mut W,
) -> Result<Printed, QueryError> {
    let schema = stream.schema();
    let mut rows = 0usize;
    match options.format {
        Format::Table => {
            let mut shown: Vec<RecordBatch> = Vec::new();
            let mut kept = 0usize;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows();
                if kept < options.max_rows {
                    let take = batch.num_rows().min(options.max_rows - kept);
                    kept += take;
                    shown.push(batch.slice(0, take));
                }
            }
            write_table(&schema, &shown, options.max_cell_width, out)?;
            return Ok(Printed {
                rows,
                hidden: rows - kept,
            });
        }
        Format::Csv | Format::Tsv => {
            let delimiter = if options.format == Format::Csv {
                b','
            } else {
                b'\t'
            };
            let mut writer = arrow_csv::WriterBuilder::new()
                .with_delimiter(delimiter)
                .with_header(true)
                .build(&mut *out);
            let mut any = false;
            while let Some(batch) = stream.next().await {
                let batch = flatten_nested(&batch?)?;
                rows += batch.num_rows();
                writer.write(&batch).map_err(df)?;
                any = true;
            }
            if !any {
                writer
                    .write(&flatten_nested(&RecordBatch::new_empty(schema))?)
                    .map_err(df)?;
            }
        }
        Format::Json => {
            // An empty result is `[]`: arrow-json's `finish` opens and closes the array.
            rows = write_json(stream, arrow_json::ArrayWriter::new(&mut *out)).await?;
            out.write_all(b"\n")?;
        }
        Format::Ndjson => {
            rows = write_json(stream, arrow_json::LineDelimitedWriter::new(&mut *out)).await?;
        }
    }
    out.flush()?;
    Ok(Printed { rows, hidden: 0 })
}

/// Streams every batch through an arrow-json writer (array or lines); returns the row count.
async fn write_json<W: Write, F: arrow_json::writer::JsonFormat>(
    mut stream: SendableRecordBatchStream,
    mut writer: arrow_json::Writer<W, F>,
) -> Result<usize, QueryError> {
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows();
        writer.write(&batch).map_err(df)?;
    }
    writer.finish().map_err(df)?;
    Ok(rows)
}

/// CSV has no nested values: structs and lists are written as their display text.
fn flatten_nested(batch: &RecordBatch) -> Result<RecordBatch, QueryError> {
    let nested = |t: &DataType| {
        matches!(
            t,
            DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_) | DataType::Map(_, _)
        )
    };
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| nested(f.data_type()))
    {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    let options = FormatOptions::default().with_null("");
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if nested(f.data_type()) {
            let fmt = ArrayFormatter::try_new(c.as_ref(), &options).map_err(df)?;
            let text: Vec<Option<String>> = (0..c.len())
                .map(|i| c.is_valid(i).then(|| fmt.value(i).to_string()))
                .collect();
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(Arc::new(datafusion::arrow::array::StringArray::from(text)) as _);
        } else {
            fields.push(f.as_ref().clone());
            columns.push(cast(c, f.data_type()).map_err(df)?);
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(df)
}

fn cut(s: &str, width: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= width {
        return one_line;
    }
    let mut out: String = one_line.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn write_table<W: Write>(
    schema: &Schema,
    batches: &[RecordBatch],
    width: usize,
    out: &mut W,
) -> Result<(), QueryError> {
    let mut table = Table::new();
    table
        .load_preset(presets::ASCII_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(schema.fields().iter().map(|f| Cell::new(f.name())));
    let options = FormatOptions::default().with_null("NULL");
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(df)?;
        for row in 0..batch.num_rows() {
            table.add_row(
                formatters
                    .iter()
                    .map(|f| Cell::new(cut(&f.value(row).to_string(), width))),
            );
        }
    }
    writeln!(out, "{table}")?;
    Ok(())
}
