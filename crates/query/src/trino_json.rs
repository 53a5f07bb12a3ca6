//! Trino's JSON functions over JSON text: CloudTrail's `requestparameters`,
//! `responseelements` and the like are JSON text here, as in Athena's CloudTrail table.
//! Text that is not JSON gives NULL, as in Trino's functions over `varchar`; paths are those of
//! [`crate::jsonpath`].

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::logical_expr::ScalarUDF;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::jsonpath;
use crate::trino::{Arg, simple};

/// The functions of this module.
pub(crate) fn udfs() -> Vec<ScalarUDF> {
    vec![
        json_array_length(),
        json_size(),
        json_array_contains(),
        json_format(),
        json_parse(),
    ]
}

/// Whether row `i`'s value equals a JSON value.
type Matches<'a> = dyn Fn(usize, &Value) -> bool + 'a;

fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// `json_array_length(json)`: the length of a JSON array; NULL for anything else.
fn json_array_length() -> ScalarUDF {
    simple("json_array_length", &[Arg::Text], DataType::Int64, |a| {
        let out: Int64Array = a[0]
            .as_string::<i32>()
            .iter()
            .map(|s| match parse(s?)? {
                Value::Array(items) => Some(items.len() as i64),
                _ => None,
            })
            .collect();
        Ok(Arc::new(out))
    })
}

/// `json_size(json, path)`: the number of members of the object or array at `path`, 0 for a
/// scalar, NULL when nothing is there.
fn json_size() -> ScalarUDF {
    simple("json_size", &[Arg::Text, Arg::Text], DataType::Int64, |a| {
        let (docs, paths) = (a[0].as_string::<i32>(), a[1].as_string::<i32>());
        let out: Int64Array = docs
            .iter()
            .zip(paths.iter())
            .map(|(doc, path)| {
                let v = parse(doc?)?;
                Some(match jsonpath::select(&v, &jsonpath::parse(path?)?)? {
                    Value::Object(m) => m.len() as i64,
                    Value::Array(items) => items.len() as i64,
                    _ => 0,
                })
            })
            .collect();
        Ok(Arc::new(out))
    })
}

/// `json_array_contains(json, value)`: whether the top level of a JSON array holds `value`,
/// compared as Trino does: a boolean with booleans, a bigint with whole numbers, a double
/// with numbers, text with strings. NULL when the text is not a JSON array.
fn json_array_contains() -> ScalarUDF {
    simple(
        "json_array_contains",
        &[Arg::Text, Arg::JsonScalar],
        DataType::Boolean,
        |a| {
            let docs = a[0].as_string::<i32>();
            let matches: Box<Matches<'_>> = match a[1].data_type() {
                DataType::Boolean => {
                    let b = a[1].as_boolean();
                    Box::new(move |i, v| v.as_bool() == Some(b.value(i)))
                }
                DataType::Int64 => {
                    let n = a[1].as_primitive::<Int64Type>();
                    Box::new(move |i, v| v.as_i64() == Some(n.value(i)))
                }
                DataType::Float64 => {
                    let x = a[1].as_primitive::<Float64Type>();
                    Box::new(move |i, v| v.as_f64() == Some(x.value(i)))
                }
                _ => {
                    let s = a[1].as_string::<i32>();
                    Box::new(move |i, v| v.as_str() == Some(s.value(i)))
                }
            };
            let out: BooleanArray = (0..docs.len())
                .map(|i| {
                    if docs.is_null(i) || a[1].is_null(i) {
                        return None;
                    }
                    match parse(docs.value(i))? {
                        Value::Array(items) => Some(items.iter().any(|v| matches(i, v))),
                        _ => None,
                    }
                })
                .collect();
            Ok(Arc::new(out))
        },
    )
}

/// `json_format(json)`: JSON columns are text already, so the text itself.
fn json_format() -> ScalarUDF {
    simple("json_format", &[Arg::Text], DataType::Utf8, |a| {
        Ok(Arc::clone(&a[0]))
    })
}

/// `json_parse(text)`: the text when it is JSON. Trino fails the query on text that is not;
/// this gives NULL for that row (as `try(json_parse(…))`), as `date_parse` does. The text is
/// kept as written: Trino's JSON values print canonically, which matters only to code that
/// compares the printed JSON.
fn json_parse() -> ScalarUDF {
    simple("json_parse", &[Arg::Text], DataType::Utf8, |a| {
        let out: StringArray = a[0]
            .as_string::<i32>()
            .iter()
            .map(|s| s.filter(|s| serde_json::from_str::<&RawValue>(s).is_ok()))
            .collect();
        Ok(Arc::new(out) as ArrayRef)
    })
}

#[cfg(test)]
mod tests {
    use crate::trino::one;

    #[tokio::test]
    async fn follows_trino() {
        // Trino docs: json_array_length('[1, 2, 3]') → 3.
        assert_eq!(one("SELECT json_array_length('[1, 2, 3]')").await, "3");
        assert_eq!(one("SELECT json_array_length('{\"a\": 1}')").await, "NULL");
        assert_eq!(one("SELECT json_array_length('not json')").await, "NULL");
        // Trino docs: json_size('{"x": {"a": 1, "b": 2}}', '$.x') → 2,
        // json_size('{"x": [1, 2, 3]}', '$.x') → 3, json_size('{"x": {"a": 1, "b": 2}}',
        // '$.x.a') → 0.
        let doc = r#"'{"x": {"a": 1, "b": 2}, "y": [1, 2, 3]}'"#;
        assert_eq!(one(&format!("SELECT json_size({doc}, '$.x')")).await, "2");
        assert_eq!(one(&format!("SELECT json_size({doc}, '$.y')")).await, "3");
        assert_eq!(one(&format!("SELECT json_size({doc}, '$.x.a')")).await, "0");
        assert_eq!(
            one(&format!("SELECT json_size({doc}, '$.z')")).await,
            "NULL"
        );
        // Trino docs: json_array_contains('[1, 2, 3]', 2) → true; types must agree.
        assert_eq!(
            one("SELECT json_array_contains('[1, 2, 3]', 2)").await,
            "true"
        );
        assert_eq!(
            one("SELECT json_array_contains('[\"2\"]', 2)").await,
            "false"
        );
        assert_eq!(
            one("SELECT json_array_contains('[1.5, true]', 1.5)").await,
            "true"
        );
        assert_eq!(
            one("SELECT json_array_contains('[1.5, true]', true)").await,
            "true"
        );
        assert_eq!(
            one("SELECT json_array_contains('[\"s3:GetObject\", [\"x\"]]', 's3:GetObject')").await,
            "true"
        );
        // Only the top level counts.
        assert_eq!(
            one("SELECT json_array_contains('[[\"x\"]]', 'x')").await,
            "false"
        );
        assert_eq!(one("SELECT json_array_contains('{}', 'x')").await, "NULL");
        assert_eq!(one("SELECT json_format('{\"a\":1}')").await, "{\"a\":1}");
        assert_eq!(one("SELECT json_parse('[1, 2]')").await, "[1, 2]");
        assert_eq!(one("SELECT json_parse('[1, 2')").await, "NULL");
        // Composes with json_extract, which gives JSON text.
        assert_eq!(
            one(&format!(
                "SELECT json_array_length(json_extract({doc}, '$.y'))"
            ))
            .await,
            "3"
        );
    }
}
