//! Stored rows back to their source records, as JSON text.
//!
//! The typed columns give back every value that fits them; the `unmapped` column (a JSON object
//! mirroring the record's nesting) overrides or adds what they cannot hold. Values are copied as
//! text, never through a parsed number, so the record that comes out is JSON-equal to the one
//! that went in: same keys, same values, same JSON types.

use std::fmt;

use arrow::array::{
    Array, AsArray, BooleanArray, LargeStringArray, ListArray, RecordBatch, StringArray,
    StringViewArray, StructArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, TimeUnit};
use serde_json::value::RawValue;

use crate::eventtime;
use crate::json_text::{Key, object_entries, push_string};
use crate::schema::{FieldDef, Kind, RECORD, UNMAPPED_COLUMN};

/// Why a batch cannot be turned back into records.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// A column exists with a type the lake never writes.
    #[error("column `{column}` has type {found}, not the lake's {expected}")]
    ColumnType {
        column: String,
        found: DataType,
        expected: DataType,
    },
    /// The `unmapped` value of a row is not a JSON object.
    #[error("row {row}: the `unmapped` column is not a JSON object: {source}")]
    Unmapped {
        row: usize,
        source: serde_json::Error,
    },
}

/// Turns rows of a batch read from the lake into CloudTrail records.
pub struct RecordWriter<'a> {
    columns: Vec<Option<Column<'a>>>,
    unmapped: Option<Text<'a>>,
}

impl fmt::Debug for RecordWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordWriter").finish_non_exhaustive()
    }
}

impl<'a> RecordWriter<'a> {
    /// Binds the columns of `batch` by name; columns the batch lacks read as absent.
    pub fn new(batch: &'a RecordBatch) -> Result<Self, RestoreError> {
        let schema = batch.schema_ref();
        let mut columns = Vec::with_capacity(RECORD.len());
        for def in RECORD {
            let name = def.column();
            columns.push(match schema.index_of(&name) {
                Ok(i) => Some(Column::bind(&name, def.kind, batch.column(i).as_ref())?),
                Err(_) => None,
            });
        }
        let unmapped = match schema.index_of(UNMAPPED_COLUMN) {
            Ok(i) => Some(Text::bind(UNMAPPED_COLUMN, batch.column(i).as_ref())?),
            Err(_) => None,
        };
        Ok(Self { columns, unmapped })
    }

    /// Appends the record of `row` to `out` as one line of JSON (without the newline).
    pub fn write_row(&self, row: usize, out: &mut String) -> Result<(), RestoreError> {
        let patch = match self.unmapped.as_ref().and_then(|u| u.get(row)) {
            Some(text) => Some(
                object_entries(text).map_err(|source| RestoreError::Unmapped { row, source })?,
            ),
            None => None,
        };
        write_object(RECORD, &self.columns, row, patch.as_deref(), out)
            .map_err(|source| RestoreError::Unmapped { row, source })
    }
}

fn write_object(
    fields: &[FieldDef],
    columns: &[Option<Column<'_>>],
    row: usize,
    patch: Option<&[(Key<'_>, &RawValue)]>,
    out: &mut String,
) -> Result<(), serde_json::Error> {
    out.push('{');
    let mut first = true;
    let mut key = |k: &str, out: &mut String| {
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        push_string(k, out);
        out.push(':');
    };
    for (def, column) in fields.iter().zip(columns) {
        let patched = patch.and_then(|p| p.iter().rev().find(|(k, _)| k.0 == def.key));
        let column = column.as_ref().filter(|c| c.is_valid(row));
        match (patched, column) {
            (Some((_, raw)), Some(Column::Struct(_, children)))
                if raw.get().starts_with('{') && matches!(def.kind, Kind::Struct(_)) =>
            {
                let Kind::Struct(sub) = def.kind else {
                    unreachable!("guarded above")
                };
                let nested = object_entries(raw.get())?;
                key(def.key, out);
                write_object(sub, children, row, Some(&nested), out)?;
            }
            (Some((_, raw)), _) => {
                key(def.key, out);
                out.push_str(raw.get());
            }
            (None, Some(column)) => {
                key(def.key, out);
                column.write_value(def.kind, row, out)?;
            }
            (None, None) => {}
        }
    }
    for (k, raw) in patch.unwrap_or_default() {
        if !fields.iter().any(|d| d.key == k.0) {
            key(&k.0, out);
            out.push_str(raw.get());
        }
    }
    out.push('}');
    Ok(())
}

/// A string column in any of Arrow's string layouts (DataFusion reads views).
enum Text<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Text<'a> {
    fn bind(name: &str, array: &'a dyn Array) -> Result<Self, RestoreError> {
        Ok(match array.data_type() {
            DataType::Utf8 => Text::Utf8(array.as_string()),
            DataType::LargeUtf8 => Text::Large(array.as_string()),
            DataType::Utf8View => Text::View(array.as_string_view()),
            other => return Err(type_error(name, other, DataType::Utf8)),
        })
    }

    fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            Text::Utf8(a) => a.is_valid(row).then(|| a.value(row)),
            Text::Large(a) => a.is_valid(row).then(|| a.value(row)),
            Text::View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

/// A bound column of the record tree.
enum Column<'a> {
    Text(Text<'a>),
    Bool(&'a BooleanArray),
    Timestamp(&'a TimestampMicrosecondArray),
    Struct(&'a StructArray, Vec<Option<Column<'a>>>),
    List(&'a ListArray, &'a [FieldDef], Vec<Option<Column<'a>>>),
}

fn type_error(name: &str, found: &DataType, expected: DataType) -> RestoreError {
    RestoreError::ColumnType {
        column: name.to_string(),
        found: found.clone(),
        expected,
    }
}

fn bind_children<'a>(
    fields: &[FieldDef],
    arr: &'a StructArray,
) -> Result<Vec<Option<Column<'a>>>, RestoreError> {
    fields
        .iter()
        .map(|d| {
            let name = d.column();
            arr.column_by_name(&name)
                .map(|c| Column::bind(&name, d.kind, c.as_ref()))
                .transpose()
        })
        .collect()
}

impl<'a> Column<'a> {
    fn bind(name: &str, kind: Kind, array: &'a dyn Array) -> Result<Self, RestoreError> {
        let expected = || crate::schema::data_type(kind);
        Ok(match (kind, array.data_type()) {
            (Kind::Text | Kind::Json, _) => Column::Text(Text::bind(name, array)?),
            (Kind::Bool, DataType::Boolean) => Column::Bool(array.as_boolean()),
            (Kind::Timestamp, DataType::Timestamp(TimeUnit::Microsecond, _)) => {
                Column::Timestamp(array.as_primitive())
            }
            (Kind::Struct(fields), DataType::Struct(_)) => {
                let arr = array.as_struct();
                Column::Struct(arr, bind_children(fields, arr)?)
            }
            (Kind::StructList(fields), DataType::List(_)) => {
                let list = array.as_list::<i32>();
                let values = list
                    .values()
                    .as_struct_opt()
                    .ok_or_else(|| type_error(name, array.data_type(), expected()))?;
                Column::List(list, fields, bind_children(fields, values)?)
            }
            (_, other) => return Err(type_error(name, other, expected())),
        })
    }

    fn is_valid(&self, row: usize) -> bool {
        match self {
            Column::Text(t) => t.get(row).is_some(),
            Column::Bool(a) => a.is_valid(row),
            Column::Timestamp(a) => a.is_valid(row),
            Column::Struct(a, _) => a.is_valid(row),
            Column::List(a, _, _) => a.is_valid(row),
        }
    }

    fn write_value(
        &self,
        kind: Kind,
        row: usize,
        out: &mut String,
    ) -> Result<(), serde_json::Error> {
        match self {
            Column::Text(t) => {
                let v = t.get(row).unwrap_or_default();
                if kind == Kind::Json {
                    out.push_str(v)
                } else {
                    push_string(v, out)
                }
            }
            Column::Bool(a) => out.push_str(if a.value(row) { "true" } else { "false" }),
            Column::Timestamp(a) => push_string(&eventtime::format_canonical(a.value(row)), out),
            Column::Struct(_, children) => {
                let Kind::Struct(fields) = kind else {
                    return Ok(());
                };
                write_object(fields, children, row, None, out)?;
            }
            Column::List(list, fields, children) => {
                let offsets = list.value_offsets();
                let values = list.values().as_struct();
                out.push('[');
                for (n, i) in (offsets[row] as usize..offsets[row + 1] as usize).enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    if values.is_valid(i) {
                        write_object(fields, children, i, None, out)?;
                    } else {
                        out.push_str("null");
                    }
                }
                out.push(']');
            }
        }
        Ok(())
    }
}
