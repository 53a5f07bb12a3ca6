//! Trino's aggregate functions under their Trino names: `arbitrary` and `approx_percentile`
//! are DataFusion's `any_value` and `approx_percentile_cont` under a second name (same
//! semantics); `count_if` is implemented here.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

/// Registers `arbitrary`, `approx_percentile` and `count_if`.
pub(crate) fn register(ctx: &SessionContext) {
    use datafusion::functions_aggregate::{any_value, approx_percentile_cont};
    // Trino: "arbitrary(x): an arbitrary non-null value of x, if one exists"; DataFusion's
    // any_value: "an arbitrary non-null value from a group, or NULL".
    let any = any_value::any_value_udaf();
    ctx.register_udaf(any.as_ref().clone().with_aliases(["arbitrary"]));
    // Trino's approx_percentile(x, p) is DataFusion's approx_percentile_cont(x, p); both
    // T-Digest. The result is a double whatever the type of x (Trino: the type of x).
    let percentile = approx_percentile_cont::approx_percentile_cont_udaf();
    ctx.register_udaf(
        percentile
            .as_ref()
            .clone()
            .with_aliases(["approx_percentile"]),
    );
    ctx.register_udaf(AggregateUDF::new_from_impl(CountIf {
        signature: Signature::exact(vec![DataType::Boolean], Volatility::Immutable),
    }));
}

/// Trino's `count_if(condition)`: the number of rows where the condition is TRUE (not FALSE,
/// not NULL); 0 for no rows.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CountIf {
    signature: Signature,
}

/// Whether each row counts: its condition TRUE (not FALSE or NULL) and the filter, if any,
/// TRUE.
fn true_rows(values: &[ArrayRef], filter: Option<&BooleanArray>) -> Result<BooleanArray> {
    let Some(v) = values.first().and_then(|v| v.as_boolean_opt()) else {
        return plan_err!("count_if takes one boolean");
    };
    Ok(v.iter()
        .enumerate()
        .map(|(i, b)| Some(b == Some(true) && filter.is_none_or(|f| f.is_valid(i) && f.value(i))))
        .collect())
}

impl AggregateUDFImpl for CountIf {
    fn name(&self) -> &str {
        "count_if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CountIfAccumulator(0)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "count"),
            DataType::Int64,
            false,
        ))])
    }

    fn groups_accumulator_supported(&self, _: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(CountIfGroups(Vec::new())))
    }

    fn default_value(&self, _: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(0)))
    }
}

#[derive(Debug)]
struct CountIfAccumulator(i64);

impl Accumulator for CountIfAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0 += true_rows(values, None)?.true_count() as i64;
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.0)))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.0))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let counts = states[0].as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        self.0 += counts.iter().flatten().sum::<i64>();
        Ok(())
    }
}

/// One count per group.
#[derive(Debug)]
struct CountIfGroups(Vec<i64>);

impl GroupsAccumulator for CountIfGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.0.resize(total_num_groups, 0);
        let rows = true_rows(values, opt_filter)?;
        for (row, &g) in group_indices.iter().enumerate() {
            self.0[g] += i64::from(rows.value(row));
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(Arc::new(Int64Array::from(emit_to.take_needed(&mut self.0))))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate(emit_to)?])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.0.resize(total_num_groups, 0);
        let counts = values[0].as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        for (row, &g) in group_indices.iter().enumerate() {
            if counts.is_valid(row) {
                self.0[g] += counts.value(row);
            }
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = true_rows(values, opt_filter)?;
        let counts: Int64Array = rows.values().iter().map(|b| Some(i64::from(b))).collect();
        Ok(vec![Arc::new(counts)])
    }

    fn size(&self) -> usize {
        self.0.capacity() * size_of::<i64>()
    }
}

#[cfg(test)]
mod tests {
    use crate::trino::column;

    const T: &str = "(VALUES (1, 'a', NULL), (2, 'a', 'AccessDenied'), (3, 'b', NULL), \
                     (4, 'b', 'AccessDenied'), (5, 'b', 'Throttling')) AS e(n, who, errorcode)";

    #[tokio::test]
    async fn count_if_follows_trino() {
        // Trino: count_if counts TRUE; NULL conditions (errorcode = 'x' on NULL) do not count.
        assert_eq!(
            column(&format!(
                "SELECT count_if(errorcode = 'AccessDenied') FROM {T}"
            ))
            .await,
            ["2"]
        );
        assert_eq!(
            column(&format!(
                "SELECT count_if(errorcode IS NOT NULL) FROM {T} GROUP BY who ORDER BY who"
            ))
            .await,
            ["1", "2"]
        );
        // No rows: 0, as count.
        assert_eq!(
            column(&format!("SELECT count_if(n > 9) FROM {T} WHERE n > 9")).await,
            ["0"]
        );
        assert_eq!(
            column(&format!(
                "SELECT count_if(n > 2) FILTER (WHERE who = 'b') FROM {T}"
            ))
            .await,
            ["3"]
        );
    }

    #[tokio::test]
    async fn arbitrary_and_approx_percentile() {
        // Trino: arbitrary(x) is a non-null value of x.
        assert_eq!(
            column(&format!("SELECT arbitrary(errorcode) IS NOT NULL FROM {T}")).await,
            ["true"]
        );
        assert_eq!(
            column(&format!("SELECT approx_percentile(n, 0.5) FROM {T}")).await,
            ["3.0"]
        );
    }
}
