//! String functions given a timestamp. Queries written when Athena's `eventtime` was text
//! take it apart as text: `substr(eventtime, 1, 10)`, `split_part(eventtime, 'T', 1)`,
//! `eventtime LIKE '2024-03-01%'`. Here `eventtime` is a timestamp, so DataFusion's string
//! functions refuse it. Each is wrapped ([`TimeAsText`]) to accept a timestamp as its text
//! (`2024-03-01T08:01:00Z`, CloudTrail's form for a UTC timestamp). `SUBSTR`, `SUBSTRING`
//! and `POSITION(… IN …)` are built by the SQL planner's expression planners rather than
//! looked up in the session, and `LIKE` is no function at all: [`session_context`] makes a
//! session whose first expression planner and whose rewrite ([`TimeAsTextRewrite`]) cover
//! those.
//!
//! Also Trino's `contains(array, element)`, on the same name as DataFusion's
//! `contains(text, text)`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanArray};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::interval_arithmetic::Interval;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::logical_expr::preimage::PreimageResult;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ExprSchemable, ExpressionPlacement, Like, ReturnFieldArgs,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, cast,
};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::filter_order::SelectiveFiltersFirst;
use crate::trino::{either, types_for};

/// DataFusion's string functions that refuse a timestamp and that Athena queries put
/// `eventtime` in (`length`, `concat`, `lpad`, `reverse`, `regexp_replace` already take it).
const WRAPPED: [&str; 12] = [
    "substr",
    "split_part",
    "strpos",
    "starts_with",
    "ends_with",
    "lower",
    "upper",
    "replace",
    "regexp_like",
    "btrim",
    "ltrim",
    "rtrim",
];

/// Wraps the session's [`WRAPPED`] functions and registers Trino's `contains`.
pub(crate) fn register(ctx: &SessionContext) {
    for name in WRAPPED {
        if let Ok(inner) = ctx.udf(name)
            && !inner.inner().is::<TimeAsText>()
        {
            ctx.register_udf(time_as_text(inner.as_ref().clone()));
        }
    }
    let string_contains = datafusion::functions::string::contains();
    ctx.register_udf(either(
        ScalarUDF::new_from_impl(ArrayContains {
            signature: Signature::user_defined(Volatility::Immutable),
            array_has: datafusion::functions_nested::array_has::array_has_udf()
                .as_ref()
                .clone(),
        }),
        time_as_text(string_contains.as_ref().clone()),
        |types| types.first().is_some_and(is_list),
    ));
}

/// A session as `SessionContext::new_with_config(config)` makes it, in which string
/// functions take a timestamp: [`TimeAsTextPlanner`] plans `SUBSTR`, `SUBSTRING` and
/// `POSITION` before DataFusion's own planner does, and [`TimeAsTextRewrite`] handles `LIKE`.
/// The functions themselves are registered by [`crate::functions::register`]. Its Parquet scans
/// run their likely selective filters first ([`SelectiveFiltersFirst`]).
pub fn session_context(config: SessionConfig) -> Result<SessionContext> {
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        // Before the defaults: the first planner that answers wins.
        .with_expr_planners(vec![Arc::new(TimeAsTextPlanner::new())])
        .with_default_features()
        // After the defaults, once filters are pushed into scans.
        .with_physical_optimizer_rule(Arc::new(SelectiveFiltersFirst))
        .build();
    state.register_function_rewrite(Arc::new(TimeAsTextRewrite))?;
    Ok(SessionContext::new_with_state(state))
}

/// Plans `SUBSTR(…)`, `SUBSTRING(…)` (either syntax) and `POSITION(… IN …)` with
/// [`TimeAsText`] wrappers of DataFusion's `substr` and `strpos`; the SQL planner takes
/// DataFusion's directly otherwise.
#[derive(Debug)]
pub struct TimeAsTextPlanner {
    substr: Arc<ScalarUDF>,
    strpos: Arc<ScalarUDF>,
}

impl TimeAsTextPlanner {
    fn new() -> Self {
        use datafusion::functions::unicode::{strpos, substr};
        Self {
            substr: Arc::new(time_as_text(substr().as_ref().clone())),
            strpos: Arc::new(time_as_text(strpos().as_ref().clone())),
        }
    }
}

impl ExprPlanner for TimeAsTextPlanner {
    fn plan_position(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(Arc::clone(&self.strpos), args),
        )))
    }

    fn plan_substring(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(Arc::clone(&self.substr), args),
        )))
    }
}

fn is_list(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
    )
}

fn is_time(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(_, _))
}

/// A string function that also takes a timestamp for any text argument, as its text: the
/// timestamp is cast to `Utf8`, which for a UTC timestamp is CloudTrail's form
/// (`2024-03-01T08:01:00Z`; a fraction prints with 3, 6 or 9 digits). Everything else is the
/// wrapped function's own.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimeAsText {
    inner: ScalarUDF,
    signature: Signature,
}

fn time_as_text(inner: ScalarUDF) -> ScalarUDF {
    ScalarUDF::new_from_impl(TimeAsText {
        inner,
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

impl ScalarUDFImpl for TimeAsText {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.inner.inner().schema_name(args)
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let types: Vec<_> = types
            .iter()
            .map(|t| {
                if is_time(t) {
                    DataType::Utf8
                } else {
                    t.clone()
                }
            })
            .collect();
        types_for(&self.inner, &types)
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn is_strict(&self) -> bool {
        self.inner.is_strict()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        self.inner
            .inner()
            .with_updated_config(config)
            .map(time_as_text)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn preimage(
        &self,
        args: &[Expr],
        lit_expr: &Expr,
        info: &SimplifyContext,
    ) -> Result<PreimageResult> {
        self.inner.preimage(args, lit_expr, info)
    }

    fn conditional_arguments<'a>(
        &self,
        args: &'a [Expr],
    ) -> Option<(Vec<&'a Expr>, Vec<&'a Expr>)> {
        self.inner.conditional_arguments(args)
    }

    fn short_circuits(&self) -> bool {
        self.inner.short_circuits()
    }

    fn evaluate_bounds(&self, input: &[&Interval]) -> Result<Interval> {
        self.inner.evaluate_bounds(input)
    }

    fn propagate_constraints(
        &self,
        interval: &Interval,
        inputs: &[&Interval],
    ) -> Result<Option<Vec<Interval>>> {
        self.inner.propagate_constraints(interval, inputs)
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.output_ordering(inputs)
    }

    fn preserves_lex_ordering(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.inner.preserves_lex_ordering(inputs)
    }

    fn strictly_order_preserving(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.inner.strictly_order_preserving(inputs)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn placement(&self, args: &[ExpressionPlacement]) -> ExpressionPlacement {
        self.inner.placement(args)
    }
}

/// Trino's `contains(array, element)`: DataFusion's `array_has`, except that an element not
/// found in an array holding a NULL gives NULL (Trino: "the result is unknown"), not false.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayContains {
    signature: Signature,
    array_has: ScalarUDF,
}

impl ScalarUDFImpl for ArrayContains {
    fn name(&self) -> &str {
        "contains"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        types_for(&self.array_has, types)
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let lists = args.args[0].to_array(n)?;
        let found = self.array_has.invoke_with_args(args)?;
        let scalar = matches!(found, ColumnarValue::Scalar(_));
        let found = found.to_array(n)?;
        let found = found.as_boolean();
        let holds_null = |i: usize| match lists.data_type() {
            DataType::List(_) => lists.as_list::<i32>().value(i).null_count() > 0,
            DataType::LargeList(_) => lists.as_list::<i64>().value(i).null_count() > 0,
            _ => lists.as_fixed_size_list().value(i).null_count() > 0,
        };
        let out: BooleanArray = (0..found.len())
            .map(|i| match found.is_valid(i).then(|| found.value(i)) {
                Some(false) if holds_null(i) => None,
                other => other,
            })
            .collect();
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(Arc::new(out)))
        }
    }
}

/// Casts a timestamp on either side of `LIKE`, `ILIKE` or `SIMILAR TO` to text, before type
/// coercion would refuse it.
#[derive(Debug)]
pub struct TimeAsTextRewrite;

impl FunctionRewrite for TimeAsTextRewrite {
    fn name(&self) -> &str {
        "time_as_text"
    }

    fn rewrite(
        &self,
        expr: Expr,
        schema: &DFSchema,
        _: &ConfigOptions,
    ) -> Result<Transformed<Expr>> {
        let time = |e: &Expr| e.get_type(schema).is_ok_and(|t| is_time(&t));
        let text = |e: Expr| {
            if time(&e) { cast(e, DataType::Utf8) } else { e }
        };
        Ok(match expr {
            Expr::Like(l) if time(&l.expr) || time(&l.pattern) => {
                Transformed::yes(Expr::Like(Like {
                    expr: Box::new(text(*l.expr)),
                    pattern: Box::new(text(*l.pattern)),
                    ..l
                }))
            }
            Expr::SimilarTo(l) if time(&l.expr) || time(&l.pattern) => {
                Transformed::yes(Expr::SimilarTo(Like {
                    expr: Box::new(text(*l.expr)),
                    pattern: Box::new(text(*l.pattern)),
                    ..l
                }))
            }
            other => Transformed::no(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::trino::column;

    const T: &str = "(SELECT arrow_cast(column1, 'Timestamp(Microsecond, Some(\"UTC\"))') AS t \
                     FROM (VALUES ('2024-03-01T08:01:00Z'), ('2024-03-02T09:30:00Z')))";

    #[tokio::test]
    async fn string_functions_read_a_timestamp_as_cloudtrail_text() {
        // What Athena returns for these on eventtime = '2024-03-01T08:01:00Z' (text there).
        let q = |e: &str| format!("SELECT {e} FROM {T} ORDER BY t");
        assert_eq!(
            column(&q("substr(t, 1, 10)")).await,
            ["2024-03-01", "2024-03-02"]
        );
        assert_eq!(column(&q("substring(t, 12, 5)")).await, ["08:01", "09:30"]);
        assert_eq!(
            column(&q("split_part(t, 'T', 1)")).await,
            ["2024-03-01", "2024-03-02"]
        );
        assert_eq!(column(&q("strpos(t, 'T')")).await, ["11", "11"]);
        assert_eq!(
            column(&q("starts_with(t, '2024-03-01')")).await,
            ["true", "false"]
        );
        assert_eq!(
            column(&q("lower(t)")).await,
            ["2024-03-01t08:01:00z", "2024-03-02t09:30:00z"]
        );
        assert_eq!(
            column(&q("replace(t, 'T', ' ')")).await,
            ["2024-03-01 08:01:00Z", "2024-03-02 09:30:00Z"]
        );
        assert_eq!(column(&q("regexp_like(t, 'T08')")).await, ["true", "false"]);
        assert_eq!(
            column(&q("trim(t)")).await,
            ["2024-03-01T08:01:00Z", "2024-03-02T09:30:00Z"]
        );
        assert_eq!(column(&q("contains(t, 'T09')")).await, ["false", "true"]);
        // Text arguments are as before.
        assert_eq!(column("SELECT substr('abcdef', 2, 3)").await, ["bcd"]);
        assert_eq!(column("SELECT contains('abcdef', 'cd')").await, ["true"]);
    }

    #[tokio::test]
    async fn like_and_sql_forms_on_a_timestamp() {
        for filter in [
            "t LIKE '2024-03-01%'",
            "t NOT LIKE '2024-03-02%'",
            "t ILIKE '2024-03-01t%'",
            "SUBSTRING(t FROM 1 FOR 10) = '2024-03-01'",
            "POSITION('T08' IN t) = 11",
        ] {
            let n = column(&format!("SELECT count(*) FROM {T} WHERE {filter}")).await;
            assert_eq!(n, ["1"], "{filter}");
        }
        assert_eq!(
            column(&format!("SELECT t LIKE '%T08%' FROM {T} ORDER BY t")).await,
            ["true", "false"]
        );
        assert_eq!(
            column(&format!(
                "SELECT SUBSTRING(t FROM 12 FOR 2) FROM {T} ORDER BY t"
            ))
            .await,
            ["08", "09"]
        );
        assert_eq!(
            column(&format!("SELECT POSITION('T' IN t) FROM {T} ORDER BY t")).await,
            ["11", "11"]
        );
    }

    #[tokio::test]
    async fn contains_on_arrays_follows_trino() {
        // Trino docs: contains(ARRAY[1, 2, 3], 2) → true; an element not found in an array
        // with a NULL gives NULL.
        assert_eq!(
            column("SELECT contains(make_array(1, 2, 3), 2)").await,
            ["true"]
        );
        assert_eq!(
            column("SELECT contains(make_array(1, 2, 3), 5)").await,
            ["false"]
        );
        assert_eq!(
            column("SELECT contains(make_array(1, NULL), 1)").await,
            ["true"]
        );
        assert_eq!(
            column("SELECT contains(make_array(1, NULL), 5)").await,
            ["NULL"]
        );
        assert_eq!(
            column("SELECT contains(make_array('a', 'b'), 'b')").await,
            ["true"]
        );
    }
}
