//! Trino's `regexp_extract(string, pattern[, group])`: the first match of `pattern` (or its
//! capture group `group`), NULL when nothing matches. Athena queries over CloudTrail use it to
//! pull account ids and names out of ARNs.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use regex::Regex;

use crate::functions::{output, rows};

#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpExtract {
    signature: Signature,
}

impl ScalarUDFImpl for RegexpExtract {
    fn name(&self) -> &str {
        "regexp_extract"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match types.len() {
            2 => Ok(vec![DataType::Utf8, DataType::Utf8]),
            3 => Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Int64]),
            _ => plan_err!("regexp_extract takes (string, pattern) or (string, pattern, group)"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // All constants: one value, whatever the batch size (even an empty batch).
        let n = rows(&args.args);
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<Vec<_>>>()?;
        let text = arrays[0].as_string::<i32>();
        let patterns = arrays[1].as_string::<i32>();
        let groups = arrays
            .get(2)
            .map(|g| g.as_primitive::<datafusion::arrow::datatypes::Int64Type>());
        let mut compiled: Option<(String, Regex)> = None;
        let mut out = Vec::with_capacity(text.len());
        for i in 0..text.len() {
            if text.is_null(i) || patterns.is_null(i) || groups.is_some_and(|g| g.is_null(i)) {
                out.push(None);
                continue;
            }
            let pattern = patterns.value(i);
            if compiled.as_ref().is_none_or(|(p, _)| p != pattern) {
                match Regex::new(pattern) {
                    Ok(re) => compiled = Some((pattern.to_string(), re)),
                    Err(e) => return exec_err!("regexp_extract: bad pattern {pattern:?}: {e}"),
                }
            }
            let re = &compiled.as_ref().expect("compiled above").1;
            let group = groups.map_or(0, |g| g.value(i));
            if group < 0 || group as usize >= re.captures_len() {
                return exec_err!(
                    "regexp_extract: pattern {pattern:?} has {} group(s), not group {group}",
                    re.captures_len() - 1
                );
            }
            out.push(
                re.captures(text.value(i))
                    .and_then(|c| c.get(group as usize))
                    .map(|m| m.as_str().to_string()),
            );
        }
        output(&args.args, Arc::new(StringArray::from(out)))
    }
}

/// The `regexp_extract` function.
pub fn regexp_extract() -> ScalarUDF {
    ScalarUDF::new_from_impl(RegexpExtract {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    async fn one(sql: &str) -> String {
        let ctx = SessionContext::new();
        ctx.register_udf(super::regexp_extract());
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
    }

    #[tokio::test]
    async fn follows_trino() {
        let arn = "'arn:aws:lambda:us-east-1:111122223333:function:f'";
        // Group 0 is the whole match; a group picks that capture.
        assert!(
            one(&format!("SELECT regexp_extract({arn}, '[0-9]{{12}}') AS x"))
                .await
                .contains("111122223333")
        );
        assert!(
            one(&format!(
                "SELECT regexp_extract({arn}, ':([a-z]+):f$', 1) AS x"
            ))
            .await
            .contains("| function |")
        );
        // No match is NULL.
        assert!(
            one(&format!("SELECT regexp_extract({arn}, 'xyz') IS NULL AS x"))
                .await
                .contains("true")
        );
        // A group the pattern lacks is an error, as in Trino.
        let ctx = SessionContext::new();
        ctx.register_udf(super::regexp_extract());
        let r = ctx
            .sql(&format!("SELECT regexp_extract({arn}, 'a(b)', 2)"))
            .await
            .unwrap()
            .collect()
            .await;
        assert!(r.is_err());
    }
}
