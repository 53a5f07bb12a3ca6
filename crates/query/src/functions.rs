//! Functions that make queries written for Athena's CloudTrail table (Trino) and for
//! CloudTrail Lake run unchanged: JSON extraction with JSONPath, `element_at` on JSON text,
//! and Trino's date and time functions. Each copies the Trino semantics its name promises.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, TimeDelta, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int64Array, StringArray, StringArrayType, StringBuilder,
    TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, create_udf,
};
use datafusion::prelude::SessionContext;
use serde_json::Value;

use crate::jsonpath;

use crate::trino::utc_micros;

/// Registers every compatibility function on `ctx`.
pub fn register(ctx: &SessionContext) {
    for udf in [
        json_extract_scalar(),
        json_extract(),
        element_at_text(),
        from_iso8601_timestamp(),
        date_add(),
        date_diff(),
        date_format(),
        date(),
        day_of_week("day_of_week"),
        day_of_week("dow"),
        crate::regexp_extract::regexp_extract(),
    ] {
        ctx.register_udf(udf);
    }
    crate::trino::register(ctx);
}

/// The number of rows of a call: the longest array argument, or 1 for all scalars.
pub(crate) fn rows(args: &[ColumnarValue]) -> usize {
    args.iter()
        .filter_map(|a| match a {
            ColumnarValue::Array(a) => Some(a.len()),
            ColumnarValue::Scalar(_) => None,
        })
        .max()
        .unwrap_or(1)
}

pub(crate) fn all_scalar(args: &[ColumnarValue]) -> bool {
    args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)))
}

/// Each argument as an array of `rows` rows, cast to `types`.
fn arrays(args: &[ColumnarValue], types: &[DataType]) -> Result<Vec<ArrayRef>> {
    let n = rows(args);
    args.iter()
        .zip(types)
        .map(|(a, t)| Ok(cast(&a.to_array(n)?, t)?))
        .collect()
}

/// Wraps a result array back into a scalar when every argument was scalar.
pub(crate) fn output(args: &[ColumnarValue], result: ArrayRef) -> Result<ColumnarValue> {
    if all_scalar(args) {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

/// Applies `f` to (parsed JSON text, text argument) row by row; unparsable JSON gives NULL.
fn json_text_eval(
    args: &[ColumnarValue],
    f: fn(&Value, &str) -> Option<String>,
) -> Result<ColumnarValue> {
    let a = arrays(args, &[DataType::Utf8, DataType::Utf8])?;
    let (docs, keys) = (a[0].as_string::<i32>(), a[1].as_string::<i32>());
    let out: StringArray = (0..docs.len())
        .map(|i| {
            if docs.is_null(i) || keys.is_null(i) {
                return None;
            }
            let v: Value = serde_json::from_str(docs.value(i)).ok()?;
            f(&v, keys.value(i))
        })
        .collect();
    output(args, Arc::new(out))
}

/// Applies `f` to the JSON text at a JSONPath, row by row: the path is parsed once per
/// distinct text (once in all for a literal), and the document is walked, not built.
fn json_path_eval(
    args: &[ColumnarValue],
    f: fn(&str) -> Option<Cow<'_, str>>,
) -> Result<ColumnarValue> {
    let n = rows(args);
    let docs = args[0].to_array(n)?;
    let paths = match &args[1] {
        ColumnarValue::Scalar(p) => Paths::One(p.try_as_str().flatten().and_then(jsonpath::parse)),
        ColumnarValue::Array(a) => Paths::PerRow(cast(a, &DataType::Utf8)?.as_string().clone()),
    };
    let out = match docs.data_type() {
        DataType::Utf8View => select_each(docs.as_string_view(), &paths, f),
        DataType::LargeUtf8 => select_each(docs.as_string::<i64>(), &paths, f),
        _ => select_each(cast(&docs, &DataType::Utf8)?.as_string::<i32>(), &paths, f),
    };
    output(args, Arc::new(out))
}

/// The JSONPath argument: one literal, parsed once, or a path per row.
enum Paths {
    One(Option<Vec<jsonpath::Step>>),
    PerRow(StringArray),
}

fn select_each<'a, T: StringArrayType<'a>>(
    docs: T,
    paths: &Paths,
    f: fn(&str) -> Option<Cow<'_, str>>,
) -> StringArray {
    let mut out = StringBuilder::with_capacity(docs.len(), 16 * docs.len());
    let mut parsed: Option<(&str, Option<Vec<jsonpath::Step>>)> = None;
    let mut scratch = Vec::new();
    for i in 0..docs.len() {
        let steps = match paths {
            Paths::One(steps) => steps.as_ref(),
            Paths::PerRow(p) => {
                if p.is_null(i) {
                    None
                } else {
                    let path = p.value(i);
                    if parsed.as_ref().is_none_or(|(q, _)| *q != path) {
                        parsed = Some((path, jsonpath::parse(path)));
                    }
                    parsed.as_ref().and_then(|(_, s)| s.as_ref())
                }
            }
        };
        let text = match steps {
            Some(steps) if docs.is_valid(i) => {
                jsonpath::select_text(docs.value(i), steps, &mut scratch).and_then(f)
            }
            _ => None,
        };
        out.append_option(text);
    }
    out.finish()
}

/// What a `(json text, JSONPath) -> text` function gives for the value at the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum JsonPathResult {
    /// `json_extract_scalar`: a scalar's text; NULL for objects, arrays and null.
    Scalar,
    /// `json_extract`: the value as JSON text (compact, as Trino prints JSON).
    Json,
}

fn json_text(raw: &str) -> Option<Cow<'_, str>> {
    serde_json::from_str::<Value>(raw)
        .ok()
        .map(|v| Cow::Owned(v.to_string()))
}

/// A `(json text, JSONPath) -> text` function; JSON text read as views is read in place.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonPathFn {
    result: JsonPathResult,
    signature: Signature,
}

impl ScalarUDFImpl for JsonPathFn {
    fn name(&self) -> &str {
        match self.result {
            JsonPathResult::Scalar => "json_extract_scalar",
            JsonPathResult::Json => "json_extract",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match types {
            [doc, _] => {
                let doc = match doc {
                    DataType::Utf8View | DataType::LargeUtf8 => doc.clone(),
                    _ => DataType::Utf8,
                };
                Ok(vec![doc, DataType::Utf8])
            }
            _ => plan_err!(
                "{} takes two arguments: JSON text and a JSONPath",
                self.name()
            ),
        }
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let f = match self.result {
            JsonPathResult::Scalar => jsonpath::raw_scalar_text,
            JsonPathResult::Json => json_text,
        };
        json_path_eval(&args.args, f)
    }
}

fn json_path_fn(result: JsonPathResult) -> ScalarUDF {
    ScalarUDF::new_from_impl(JsonPathFn {
        result,
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// `json_extract_scalar(json, path)`: the scalar at a JSONPath as text.
fn json_extract_scalar() -> ScalarUDF {
    json_path_fn(JsonPathResult::Scalar)
}

/// `json_extract(json, path)`: the value at a JSONPath as JSON text.
fn json_extract() -> ScalarUDF {
    json_path_fn(JsonPathResult::Json)
}

/// CloudTrail Lake's `element_at(map, key)` on a JSON object column, and `element_at(array,
/// n)` (from 1; negative from the end) on a JSON array: scalars as text, objects and arrays as
/// JSON text. On a real list column (`resources`) it is DataFusion's `array_element`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ElementAt {
    signature: Signature,
}

fn is_list(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
    )
}

impl ScalarUDFImpl for ElementAt {
    fn name(&self) -> &str {
        "element_at"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match types {
            [list, _] if is_list(list) => Ok(vec![list.clone(), DataType::Int64]),
            [_, _] => Ok(vec![DataType::Utf8, DataType::Utf8]),
            _ => plan_err!("element_at takes two arguments: a map, array or JSON text, and a key"),
        }
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        match types.first() {
            Some(DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)) => {
                Ok(f.data_type().clone())
            }
            _ => Ok(DataType::Utf8),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args
            .arg_fields
            .first()
            .is_some_and(|f| is_list(f.data_type()))
        {
            return datafusion::functions_nested::extract::array_element_udf()
                .invoke_with_args(args);
        }
        json_text_eval(&args.args, json_element)
    }
}

fn element_at_text() -> ScalarUDF {
    ScalarUDF::new_from_impl(ElementAt {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

fn json_element(v: &Value, key: &str) -> Option<String> {
    {
        let found = match v {
            Value::Object(m) => m.get(key),
            Value::Array(a) => {
                let n: i64 = key.trim().parse().ok()?;
                let i = if n > 0 { n - 1 } else { a.len() as i64 + n };
                usize::try_from(i).ok().and_then(|i| a.get(i))
            }
            _ => None,
        }?;
        jsonpath::scalar_text(found).or_else(|| (!found.is_null()).then(|| found.to_string()))
    }
}

/// `from_iso8601_timestamp(text)`: any form `eventTime` takes, to a UTC timestamp.
fn from_iso8601_timestamp() -> ScalarUDF {
    let fun = |args: &[ColumnarValue]| {
        let a = arrays(args, &[DataType::Utf8])?;
        let out: TimestampMicrosecondArray = a[0]
            .as_string::<i32>()
            .iter()
            .map(|s| s.and_then(trawl_lake::eventtime::parse))
            .collect::<TimestampMicrosecondArray>()
            .with_timezone("UTC");
        output(args, Arc::new(out))
    };
    create_udf(
        "from_iso8601_timestamp",
        vec![DataType::Utf8],
        utc_micros(),
        Volatility::Immutable,
        Arc::new(fun),
    )
}

fn to_datetime(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

/// Adds `n` units to an instant, as Trino's `date_add` does (months clamp to the month's end).
pub fn add_units(unit: &str, n: i64, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let months = |m: i64| {
        if m >= 0 {
            t.checked_add_months(Months::new(m as u32))
        } else {
            t.checked_sub_months(Months::new((-m) as u32))
        }
    };
    match unit.to_ascii_lowercase().as_str() {
        "millisecond" => t.checked_add_signed(TimeDelta::try_milliseconds(n)?),
        "second" => t.checked_add_signed(TimeDelta::try_seconds(n)?),
        "minute" => t.checked_add_signed(TimeDelta::try_minutes(n)?),
        "hour" => t.checked_add_signed(TimeDelta::try_hours(n)?),
        "day" => t.checked_add_signed(TimeDelta::try_days(n)?),
        "week" => t.checked_add_signed(TimeDelta::try_weeks(n)?),
        "month" => months(n),
        "quarter" => months(n.checked_mul(3)?),
        "year" => months(n.checked_mul(12)?),
        _ => None,
    }
}

/// Whole units from `a` to `b`, truncated toward zero, as Trino's `date_diff`.
pub fn diff_units(unit: &str, a: DateTime<Utc>, b: DateTime<Utc>) -> Option<i64> {
    let d = b - a;
    let months = || {
        let m = (b.year() as i64 - a.year() as i64) * 12 + b.month() as i64 - a.month() as i64;
        // A month only counts once its day and time are reached.
        let back = add_units("month", m, a)?;
        Some(if m > 0 && back > b {
            m - 1
        } else if m < 0 && back < b {
            m + 1
        } else {
            m
        })
    };
    Some(match unit.to_ascii_lowercase().as_str() {
        "millisecond" => d.num_milliseconds(),
        "second" => d.num_seconds(),
        "minute" => d.num_minutes(),
        "hour" => d.num_hours(),
        "day" => d.num_days(),
        "week" => d.num_weeks(),
        "month" => months()?,
        "quarter" => months()? / 3,
        "year" => months()? / 12,
        _ => return None,
    })
}

/// `date_add(unit, n, timestamp)`.
fn date_add() -> ScalarUDF {
    let fun = |args: &[ColumnarValue]| {
        let a = arrays(args, &[DataType::Utf8, DataType::Int64, utc_micros()])?;
        let (units, ns, ts) = (
            a[0].as_string::<i32>(),
            a[1].as_primitive::<datafusion::arrow::datatypes::Int64Type>(),
            a[2].as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>(),
        );
        let mut out = Vec::with_capacity(ts.len());
        for i in 0..ts.len() {
            if units.is_null(i) || ns.is_null(i) || ts.is_null(i) {
                out.push(None);
                continue;
            }
            let Some(t) = to_datetime(ts.value(i)) else {
                out.push(None);
                continue;
            };
            match add_units(units.value(i), ns.value(i), t) {
                Some(r) => out.push(Some(r.timestamp_micros())),
                None => {
                    return exec_err!(
                        "date_add: unknown unit '{}' or result out of range",
                        units.value(i)
                    );
                }
            }
        }
        output(
            args,
            Arc::new(TimestampMicrosecondArray::from(out).with_timezone("UTC")),
        )
    };
    create_udf(
        "date_add",
        vec![DataType::Utf8, DataType::Int64, utc_micros()],
        utc_micros(),
        Volatility::Immutable,
        Arc::new(fun),
    )
}

/// `date_diff(unit, a, b)`.
fn date_diff() -> ScalarUDF {
    let fun = |args: &[ColumnarValue]| {
        let a = arrays(args, &[DataType::Utf8, utc_micros(), utc_micros()])?;
        let units = a[0].as_string::<i32>();
        let (xs, ys) = (
            a[1].as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>(),
            a[2].as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>(),
        );
        let mut out = Vec::with_capacity(xs.len());
        for i in 0..xs.len() {
            if units.is_null(i) || xs.is_null(i) || ys.is_null(i) {
                out.push(None);
                continue;
            }
            let (Some(x), Some(y)) = (to_datetime(xs.value(i)), to_datetime(ys.value(i))) else {
                out.push(None);
                continue;
            };
            match diff_units(units.value(i), x, y) {
                Some(d) => out.push(Some(d)),
                None => return exec_err!("date_diff: unknown unit '{}'", units.value(i)),
            }
        }
        output(args, Arc::new(Int64Array::from(out)))
    };
    create_udf(
        "date_diff",
        vec![DataType::Utf8, utc_micros(), utc_micros()],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(fun),
    )
}

/// Translates a MySQL-style format (Trino's `date_format`) to chrono's.
pub fn mysql_to_chrono(format: &str) -> String {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push_str("%%");
            break;
        };
        out.push_str(match spec {
            'a' => "%a",
            'b' => "%b",
            'c' => "%-m",
            'd' => "%d",
            'e' => "%-d",
            'f' => "%6f",
            'H' => "%H",
            'h' | 'I' => "%I",
            'i' => "%M",
            'j' => "%j",
            'k' => "%-H",
            'l' => "%-I",
            'M' => "%B",
            'm' => "%m",
            'p' => "%p",
            'r' => "%I:%M:%S %p",
            'S' | 's' => "%S",
            'T' => "%H:%M:%S",
            'W' => "%A",
            'w' => "%w",
            'Y' => "%Y",
            'y' => "%y",
            '%' => "%%",
            other => {
                out.push(other);
                continue;
            }
        });
    }
    out
}

/// `date_format(timestamp, format)` with MySQL-style specifiers.
fn date_format() -> ScalarUDF {
    let fun = |args: &[ColumnarValue]| {
        let a = arrays(args, &[utc_micros(), DataType::Utf8])?;
        let (ts, fmts) = (
            a[0].as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>(),
            a[1].as_string::<i32>(),
        );
        // The format is nearly always one literal: translate it once, not once per row.
        let mut translated: Option<(&str, String)> = None;
        let out: StringArray = (0..ts.len())
            .map(|i| {
                if ts.is_null(i) || fmts.is_null(i) {
                    return None;
                }
                let format = fmts.value(i);
                if translated.as_ref().is_none_or(|(f, _)| *f != format) {
                    translated = Some((format, mysql_to_chrono(format)));
                }
                let (_, chrono_format) = translated.as_ref()?;
                Some(to_datetime(ts.value(i))?.format(chrono_format).to_string())
            })
            .collect();
        output(args, Arc::new(out))
    };
    create_udf(
        "date_format",
        vec![utc_micros(), DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(fun),
    )
}

/// `date(x)`: the UTC day of a timestamp, or of an ISO-8601 text.
fn date() -> ScalarUDF {
    let fun = |args: &[ColumnarValue]| {
        let a = arrays(args, &[utc_micros()])?;
        let ts = a[0].as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
        let out: Date32Array = ts
            .iter()
            .map(|t| t.map(|t| t.div_euclid(86_400_000_000) as i32))
            .collect();
        output(args, Arc::new(out))
    };
    create_udf(
        "date",
        vec![utc_micros()],
        DataType::Date32,
        Volatility::Immutable,
        Arc::new(fun),
    )
}

/// `day_of_week(timestamp)`: ISO day of the week, 1 = Monday … 7 = Sunday.
fn day_of_week(name: &str) -> ScalarUDF {
    let fun = |args: &[ColumnarValue]| {
        let a = arrays(args, &[utc_micros()])?;
        let ts = a[0].as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
        let out: Int64Array = ts
            .iter()
            .map(|t| {
                t.and_then(to_datetime)
                    .map(|d| i64::from(d.weekday().number_from_monday()))
            })
            .collect();
        output(args, Arc::new(out))
    };
    create_udf(
        name,
        vec![utc_micros()],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(fun),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        to_datetime(trawl_lake::eventtime::parse(s).unwrap()).unwrap()
    }

    /// `json_extract_scalar` over `docs` with `path`, as text per row.
    fn extract(docs: ArrayRef, path: ColumnarValue) -> Vec<Option<String>> {
        let out = json_path_eval(
            &[ColumnarValue::Array(docs), path],
            jsonpath::raw_scalar_text,
        )
        .unwrap()
        .to_array(1)
        .unwrap();
        out.as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    #[test]
    fn json_paths_read_every_string_layout_alike() {
        let texts = [
            Some(r#"{"bucketName":"a-bucket-name-longer-than-twelve","key":"k"}"#),
            None,
            Some(r#"{"bucketName":7}"#),
            Some("not json"),
            Some(r#"{"other":{"bucketName":"nested"}}"#),
        ];
        let want = vec![
            Some("a-bucket-name-longer-than-twelve".to_string()),
            None,
            Some("7".to_string()),
            None,
            None,
        ];
        let literal = || ColumnarValue::Scalar(ScalarValue::Utf8(Some("$.bucketName".into())));
        let layouts: [ArrayRef; 3] = [
            Arc::new(StringArray::from(texts.to_vec())),
            Arc::new(datafusion::arrow::array::StringViewArray::from(
                texts.to_vec(),
            )),
            Arc::new(datafusion::arrow::array::LargeStringArray::from(
                texts.to_vec(),
            )),
        ];
        for docs in layouts {
            assert_eq!(
                extract(Arc::clone(&docs), literal()),
                want,
                "{:?}",
                docs.data_type()
            );
        }
        // A path per row, parsed again only when it changes; a NULL path gives NULL.
        let paths = StringArray::from(vec![
            Some("$.key"),
            Some("$.key"),
            None,
            Some("$.a"),
            Some("$.other.bucketName"),
        ]);
        let docs: ArrayRef = Arc::new(datafusion::arrow::array::StringViewArray::from(
            texts.to_vec(),
        ));
        assert_eq!(
            extract(docs, ColumnarValue::Array(Arc::new(paths))),
            vec![
                Some("k".to_string()),
                None,
                None,
                None,
                Some("nested".to_string())
            ]
        );
    }

    #[test]
    fn date_add_follows_trino() {
        assert_eq!(
            add_units("day", -1, t("2024-03-01T10:00:00Z")),
            Some(t("2024-02-29T10:00:00Z"))
        );
        assert_eq!(
            add_units("month", 1, t("2024-01-31T00:00:00Z")),
            Some(t("2024-02-29T00:00:00Z"))
        );
        assert_eq!(
            add_units("HOUR", 2, t("2024-03-01T23:00:00Z")),
            Some(t("2024-03-02T01:00:00Z"))
        );
        assert_eq!(add_units("fortnight", 1, t("2024-03-01T00:00:00Z")), None);
    }

    #[test]
    fn date_diff_truncates_like_trino() {
        let (a, b) = (t("2024-03-01T00:00:00Z"), t("2024-03-02T23:59:59Z"));
        assert_eq!(diff_units("day", a, b), Some(1));
        assert_eq!(diff_units("second", a, b), Some(172_799));
        assert_eq!(diff_units("day", b, a), Some(-1));
        // Trino (Joda) counts a month once adding it does not overshoot: Jan 31 + 1 month is
        // Feb 29, so that is one month; 2023-01-31 to 2023-02-27 is none.
        let month = |a: &str, b: &str| diff_units("month", t(a), t(b));
        assert_eq!(
            month("2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z"),
            Some(1)
        );
        assert_eq!(
            month("2023-01-31T00:00:00Z", "2023-02-27T00:00:00Z"),
            Some(0)
        );
        assert_eq!(
            diff_units(
                "month",
                t("2024-01-15T00:00:00Z"),
                t("2024-03-15T00:00:00Z")
            ),
            Some(2)
        );
    }

    #[test]
    fn date_format_speaks_mysql() {
        let at = t("2024-03-05T07:08:09Z");
        let f = |s: &str| at.format(&mysql_to_chrono(s)).to_string();
        assert_eq!(f("%Y/%m/%d"), "2024/03/05");
        assert_eq!(f("%Y-%m-%d %H:%i:%s"), "2024-03-05 07:08:09");
        assert_eq!(f("%T %W %M %e %c"), "07:08:09 Tuesday March 5 3");
        assert_eq!(f("100%%"), "100%");
    }
}
