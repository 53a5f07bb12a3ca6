//! Rows of many batches put in `eventtime` order, as every lake file is.
//!
//! The order is found on the times alone, then each column is gathered in it. CloudTrail's files
//! are mostly in time order already, and consecutive records of one file stay consecutive in the
//! sorted rows, so the order is mostly runs of rows that sit side by side in one batch. Those
//! are copied a run at a time, one call per run per column instead of one per row; an order of
//! short runs (shuffled input) is gathered row by row.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayData, ArrayRef, AsArray, Capacities, MutableArrayData, RecordBatch, StructArray,
    make_array, new_null_array,
};
use arrow::compute::interleave;
use arrow::datatypes::{DataType, TimestampMicrosecondType};
use arrow::error::ArrowError;
use arrow_buffer::NullBufferBuilder;
use trawl_lake::schema::{self, SORT_COLUMN};

use crate::error::IngestError;

/// Runs at least this long on average are copied a run at a time.
const RUN_COPY_MIN_AVERAGE: usize = 8;

/// `len` rows of batch `batch` from row `start`, which stay together in the sorted rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    batch: usize,
    start: usize,
    len: usize,
}

/// The rows of `batches` (in the lake's file schema) as one batch, sorted by `eventtime`;
/// rows with equal times keep their order. Each input column is let go once its sorted copy
/// exists, so the peak is about one copy of the rows, not two.
pub(crate) fn sort_by_event_time(batches: Vec<RecordBatch>) -> Result<RecordBatch, IngestError> {
    let schema = schema::file_schema();
    if batches.is_empty() {
        return Ok(RecordBatch::new_empty(schema));
    }
    let time_index = schema.index_of(SORT_COLUMN).expect("sort column exists");
    let order = time_order(&batches, time_index);
    let runs = runs(&order);
    let by_runs = runs.len() * RUN_COPY_MIN_AVERAGE <= order.len();
    let mut columns: Vec<Vec<ArrayRef>> =
        batches.into_iter().map(|b| b.columns().to_vec()).collect();
    let sorted = (0..schema.fields().len())
        .map(|c| {
            let arrays: Vec<ArrayRef> = columns
                .iter_mut()
                .map(|b| std::mem::replace(&mut b[c], new_null_array(&DataType::Null, 0)))
                .collect();
            in_order(&arrays, &order, by_runs.then_some(&runs[..]))
        })
        .collect::<Result<_, _>>()?;
    Ok(RecordBatch::try_new(Arc::clone(&schema), sorted)?)
}

/// (batch, row) of every row, in time order; a row without a time comes first, and ties keep
/// the input's order.
fn time_order(batches: &[RecordBatch], time_index: usize) -> Vec<(usize, usize)> {
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    let mut keyed: Vec<(i64, u32, u32)> = Vec::with_capacity(rows);
    for (b, batch) in batches.iter().enumerate() {
        let times = batch
            .column(time_index)
            .as_primitive::<TimestampMicrosecondType>();
        keyed.extend(
            times
                .iter()
                .enumerate()
                .map(|(r, t)| (t.unwrap_or(i64::MIN), b as u32, r as u32)),
        );
    }
    keyed.sort_unstable();
    keyed
        .into_iter()
        .map(|(_, b, r)| (b as usize, r as usize))
        .collect()
}

/// One column's rows in `order`: copied a run at a time when `runs` (the same order, as runs)
/// is given, else gathered row by row. A column no row has (a third of them in a typical file)
/// is made as nulls, not copied. When gathering, a struct's fields are gathered one by one, so
/// the same holds for a field of a struct (Arrow's `interleave` gathers every field of a
/// struct, and most files lack some of `userIdentity`'s).
fn in_order(
    arrays: &[ArrayRef],
    order: &[(usize, usize)],
    runs: Option<&[Run]>,
) -> Result<ArrayRef, ArrowError> {
    let data_type = arrays[0].data_type();
    if arrays.iter().any(|a| a.data_type() != data_type) {
        // Arrow's run copier panics on arrays of different types; `interleave` says so.
        let refs: Vec<&dyn Array> = arrays.iter().map(AsRef::as_ref).collect();
        return interleave(&refs, order);
    }
    if arrays.iter().all(|a| a.null_count() == a.len()) {
        return Ok(new_null_array(data_type, order.len()));
    }
    if let Some(runs) = runs {
        return copy_runs(arrays, runs);
    }
    let DataType::Struct(fields) = data_type else {
        let refs: Vec<&dyn Array> = arrays.iter().map(AsRef::as_ref).collect();
        return interleave(&refs, order);
    };
    let structs: Vec<&StructArray> = arrays.iter().map(|a| a.as_struct()).collect();
    let children = (0..fields.len())
        .map(|i| {
            let field: Vec<ArrayRef> = structs.iter().map(|s| Arc::clone(s.column(i))).collect();
            in_order(&field, order, None)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let validity = if structs.iter().any(|s| s.null_count() > 0) {
        let mut validity = NullBufferBuilder::new(order.len());
        for &(batch, row) in order {
            validity.append(structs[batch].is_valid(row));
        }
        validity.finish()
    } else {
        None
    };
    Ok(Arc::new(StructArray::try_new(
        fields.clone(),
        children,
        validity,
    )?))
}

/// `order` as runs of rows that follow each other in one batch.
fn runs(order: &[(usize, usize)]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for &(batch, row) in order {
        match runs.last_mut() {
            Some(run) if run.batch == batch && run.start + run.len == row => run.len += 1,
            _ => runs.push(Run {
                batch,
                start: row,
                len: 1,
            }),
        }
    }
    runs
}

/// One column's rows copied in `runs`' order.
fn copy_runs(arrays: &[ArrayRef], runs: &[Run]) -> Result<ArrayRef, ArrowError> {
    if let Some(DataType::Struct(fields)) = arrays.first().map(|a| a.data_type()) {
        // A struct's fields row with it: each is copied as a column of its own, with room
        // for all its values (Arrow cannot be told a struct's children's room).
        let structs: Vec<&StructArray> = arrays.iter().map(|a| a.as_struct()).collect();
        let children = (0..fields.len())
            .map(|i| {
                let field: Vec<ArrayRef> =
                    structs.iter().map(|s| Arc::clone(s.column(i))).collect();
                copy_runs(&field, runs)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rows = runs.iter().map(|r| r.len).sum();
        let mut validity = NullBufferBuilder::new(rows);
        for run in runs {
            match structs[run.batch].nulls() {
                Some(nulls) => validity.append_buffer(&nulls.slice(run.start, run.len)),
                None => validity.append_n_non_nulls(run.len),
            }
        }
        return Ok(Arc::new(StructArray::try_new(
            fields.clone(),
            children,
            validity.finish(),
        )?));
    }
    let data: Vec<ArrayData> = arrays.iter().map(|a| a.to_data()).collect();
    let refs: Vec<&ArrayData> = data.iter().collect();
    let room = room_for_all(&refs);
    let mut out = MutableArrayData::with_capacities(refs, false, room);
    for run in runs {
        out.try_extend(run.batch, run.start, run.start + run.len)?;
    }
    Ok(make_array(out.freeze()))
}

/// Room for every row of `arrays` (each row is copied once), so a text column's values do not
/// grow while copying.
fn room_for_all(arrays: &[&ArrayData]) -> Capacities {
    let rows = arrays.iter().map(|a| a.len()).sum();
    match arrays.first().map(|a| a.data_type()) {
        Some(DataType::Utf8) => {
            let bytes = arrays
                .iter()
                .map(|a| {
                    let offsets = a.buffer::<i32>(0);
                    (offsets[a.len()] - offsets[0]) as usize
                })
                .sum();
            Capacities::Binary(rows, Some(bytes))
        }
        Some(DataType::List(_)) => Capacities::List(rows, None),
        _ => Capacities::Array(rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Decoder;
    use crate::dedup::DedupSet;
    use arrow::array::StringArray;

    /// One batch per call, each holding records at the given minutes past midnight; records at
    /// multiples of 7 minutes have no `userIdentity`.
    fn batch(minutes: &[u32]) -> RecordBatch {
        let mut d = Decoder::new(Arc::new(DedupSet::default()));
        for m in minutes {
            let identity = if m % 7 == 0 {
                String::new()
            } else {
                format!(r#""userIdentity":{{"type":"T{m}"}},"#)
            };
            let record = format!(
                r#"{{"eventTime":"2024-01-02T00:{m:02}:00Z","eventName":"E{m}",{identity}"resources":[{{"ARN":"a{m}"}}]}}"#
            );
            d.append(record.as_bytes()).unwrap();
        }
        let mut batches = d.take_batches();
        match batches.pop() {
            Some(b) => b.batch,
            None => RecordBatch::new_empty(schema::file_schema()),
        }
    }

    /// The minutes of the sorted rows, after checking that every column moved with its row.
    fn sorted_minutes(batches: &[RecordBatch]) -> Vec<i64> {
        let sorted = sort_by_event_time(batches.to_vec()).unwrap();
        let schema = schema::file_schema();
        let times = sorted
            .column(schema.index_of(SORT_COLUMN).unwrap())
            .as_primitive::<TimestampMicrosecondType>();
        let minutes: Vec<i64> = times.values().iter().map(|t| t / 60_000_000 % 60).collect();
        let names = sorted
            .column(schema.index_of("eventname").unwrap())
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        let identity = sorted
            .column(schema.index_of("useridentity").unwrap())
            .as_struct();
        let types = identity.column_by_name("type").unwrap().as_string::<i32>();
        let resources = sorted
            .column(schema.index_of("resources").unwrap())
            .as_list::<i32>();
        for (row, m) in minutes.iter().enumerate() {
            assert_eq!(names.value(row), format!("E{m}"));
            if m % 7 == 0 {
                assert!(identity.is_null(row) && types.is_null(row), "row {row}");
            } else {
                assert_eq!(types.value(row), format!("T{m}"));
            }
            let arns = resources.value(row);
            let arns = arns
                .as_struct()
                .column_by_name("arn")
                .unwrap()
                .as_string::<i32>();
            assert_eq!(arns.value(0), format!("a{m}"));
        }
        minutes
    }

    #[test]
    fn shuffled_rows_come_out_sorted_and_whole() {
        let batches = [
            batch(&[30, 10]),
            batch(&[]),
            batch(&[20, 5, 40]),
            batch(&[15]),
        ];
        assert_eq!(sorted_minutes(&batches), [5, 10, 15, 20, 30, 40]);
        // A field of a struct that no row has comes out null, at full length.
        let sorted = sort_by_event_time(batches.to_vec()).unwrap();
        let identity = sorted
            .column(schema::file_schema().index_of("useridentity").unwrap())
            .as_struct();
        let arn = identity.column_by_name("arn").unwrap();
        assert_eq!((arn.len(), arn.null_count()), (6, 6));
        assert_eq!(identity.null_count(), 0);
        assert_eq!(sort_by_event_time(Vec::new()).unwrap().num_rows(), 0);
        let empty = sort_by_event_time(vec![batch(&[]), batch(&[])]).unwrap();
        assert_eq!(empty.num_rows(), 0);
    }

    #[test]
    fn columns_no_row_has_come_out_null_at_full_length() {
        // No record has an errorCode, and none of these has a userIdentity (multiples of 7).
        let batches = [batch(&[21, 7]), batch(&[14, 0])];
        assert_eq!(sorted_minutes(&batches), [0, 7, 14, 21]);
        let sorted = sort_by_event_time(batches.to_vec()).unwrap();
        let schema = schema::file_schema();
        for name in ["errorcode", "useridentity"] {
            let column = sorted.column(schema.index_of(name).unwrap());
            assert_eq!(column.len(), 4, "{name}");
            assert_eq!(column.null_count(), 4, "{name}");
            assert_eq!(
                column.data_type(),
                schema.field_with_name(name).unwrap().data_type()
            );
        }
    }

    #[test]
    fn runs_of_sorted_rows_are_copied_whole() {
        // Two decoding threads' batches: each sorted, interleaved in time with the other.
        let a: Vec<u32> = (0..20).chain(40..50).collect();
        let b: Vec<u32> = (20..40).chain(50..60).collect();
        let batches = [batch(&a), batch(&b)];
        let order = time_order(
            &batches,
            schema::file_schema().index_of(SORT_COLUMN).unwrap(),
        );
        assert_eq!(
            runs(&order),
            [
                Run {
                    batch: 0,
                    start: 0,
                    len: 20
                },
                Run {
                    batch: 1,
                    start: 0,
                    len: 20
                },
                Run {
                    batch: 0,
                    start: 20,
                    len: 10
                },
                Run {
                    batch: 1,
                    start: 20,
                    len: 10
                },
            ]
        );
        assert_eq!(sorted_minutes(&batches), (0..60).collect::<Vec<i64>>());
    }
}
