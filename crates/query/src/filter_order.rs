//! The order in which a scan's filters run.
//!
//! The Parquet reader evaluates the filters pushed into a scan one after another, each reading
//! its columns only for the rows the ones before it kept. A filter that keeps most rows, run
//! first (`eventtype <> 'AwsServiceEvent'`), reads its whole column and leaves a fragmented
//! selection for the next; run after a selective one (`useridentity.type = 'Root'`), it reads
//! a handful of rows. The planner does not keep the order of the WHERE clause (filters on
//! plain columns are pushed below those on nested fields), and DataFusion's own reordering
//! (`reorder_filters`) sorts by the size of the columns read, which cannot tell these apart.
//! [`SelectiveFiltersFirst`] orders the filters of each Parquet scan by [`rank`] once the plan
//! is otherwise final.

use std::sync::Arc;

use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::FileSource;
use datafusion::error::Result;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::expressions::{
    BinaryExpr, CastExpr, Column, InListExpr, LikeExpr, Literal, NotExpr, TryCastExpr,
};
use datafusion::physical_expr::utils::{conjunction, split_conjunction};
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

use crate::parquet_scans::map_parquet_sources;

/// Puts the likely selective filters of every Parquet scan first (see the module docs).
#[derive(Debug, Default)]
pub struct SelectiveFiltersFirst;

impl PhysicalOptimizerRule for SelectiveFiltersFirst {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        map_parquet_sources(plan, |source| {
            let predicate = source.filter()?;
            let filters: Vec<_> = split_conjunction(&predicate).into_iter().cloned().collect();
            let ordered = selective_first(filters.clone());
            let same = ordered.iter().zip(&filters).all(|(a, b)| Arc::ptr_eq(a, b));
            (!same).then(|| source.with_predicate(conjunction(ordered)))
        })
    }

    fn name(&self) -> &str {
        "selective_filters_first"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `filters` (the conjuncts of a scan's predicate) with the likely selective ones first. Ties
/// keep their order.
pub fn selective_first(mut filters: Vec<Arc<dyn PhysicalExpr>>) -> Vec<Arc<dyn PhysicalExpr>> {
    filters.sort_by_key(|f| rank(f.as_ref()));
    filters
}

/// 0: a field equals a constant, or one of a list of them; 1: anything else; 2: a negation,
/// which keeps most rows.
fn rank(e: &dyn PhysicalExpr) -> u8 {
    if let Some(b) = e.downcast_ref::<BinaryExpr>() {
        let (l, r) = (b.left().as_ref(), b.right().as_ref());
        return match b.op() {
            Operator::Eq if is_field(l) && is_constant(r) || is_constant(l) && is_field(r) => 0,
            Operator::NotEq | Operator::IsDistinctFrom => 2,
            Operator::RegexNotMatch | Operator::RegexNotIMatch => 2,
            Operator::NotLikeMatch | Operator::NotILikeMatch => 2,
            Operator::And => rank(l).min(rank(r)),
            Operator::Or => rank(l).max(rank(r)),
            _ => 1,
        };
    }
    if let Some(list) = e.downcast_ref::<InListExpr>() {
        return match list.negated() {
            true => 2,
            false
                if is_field(list.expr().as_ref())
                    && list.list().iter().all(|v| is_constant(v.as_ref())) =>
            {
                0
            }
            false => 1,
        };
    }
    if e.downcast_ref::<LikeExpr>().is_some_and(LikeExpr::negated) || e.is::<NotExpr>() {
        return 2;
    }
    1
}

/// A column, a field of one (`useridentity.type`), or either behind a cast.
fn is_field(e: &dyn PhysicalExpr) -> bool {
    if e.is::<Column>() {
        return true;
    }
    if let Some(c) = e.downcast_ref::<CastExpr>() {
        return is_field(c.expr().as_ref());
    }
    if let Some(c) = e.downcast_ref::<TryCastExpr>() {
        return is_field(c.expr().as_ref());
    }
    if let Some(f) = e.downcast_ref::<ScalarFunctionExpr>() {
        return f.name() == "get_field" && f.args().first().is_some_and(|a| is_field(a.as_ref()));
    }
    false
}

fn is_constant(e: &dyn PhysicalExpr) -> bool {
    if e.is::<Literal>() {
        return true;
    }
    if let Some(c) = e.downcast_ref::<CastExpr>() {
        return is_constant(c.expr().as_ref());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
    use datafusion::common::DFSchema;
    use datafusion::functions::core::expr_fn::get_field;
    use datafusion::logical_expr::{Expr, col, lit};
    use datafusion::prelude::SessionContext;

    fn physical(filters: &[Expr]) -> Vec<Arc<dyn PhysicalExpr>> {
        let identity = Fields::from(vec![
            Field::new("type", DataType::Utf8, true),
            Field::new("invokedby", DataType::Utf8, true),
        ]);
        let schema = Schema::new(vec![
            Field::new("eventtype", DataType::Utf8, true),
            Field::new("eventname", DataType::Utf8, true),
            Field::new("errorcode", DataType::Utf8, true),
            Field::new("useridentity", DataType::Struct(identity), true),
        ]);
        let schema = DFSchema::try_from(schema).unwrap();
        let ctx = SessionContext::new();
        filters
            .iter()
            .map(|f| ctx.create_physical_expr(f.clone(), &schema).unwrap())
            .collect()
    }

    fn order(filters: &[Expr]) -> Vec<usize> {
        let exprs = physical(filters);
        selective_first(exprs.clone())
            .iter()
            .map(|e| exprs.iter().position(|x| Arc::ptr_eq(x, e)).unwrap())
            .collect()
    }

    #[test]
    fn equalities_run_first_negations_last_and_ties_keep_their_order() {
        let filters = [
            col("eventtype").not_eq(lit("AwsServiceEvent")),
            get_field(col("useridentity"), "invokedby").is_null(),
            get_field(col("useridentity"), "type").eq(lit("Root")),
            col("errorcode").like(lit("Access%")),
            lit("ConsoleLogin").eq(col("eventname")),
        ];
        assert_eq!(order(&filters), [2, 4, 1, 3, 0]);
    }

    #[test]
    fn lists_and_functions_rank_by_what_they_keep() {
        let filters = [
            col("errorcode").in_list(vec![lit("a")], true),
            datafusion::functions::expr_fn::lower(col("eventname")).eq(lit("x")),
            col("eventname").not_like(lit("Get%")),
            col("errorcode").in_list(vec![lit("a"), lit("b")], false),
        ];
        assert_eq!(order(&filters), [3, 1, 0, 2]);
    }
}
