//! Comparisons that Athena accepts and DataFusion's type rules do not: Athena's CloudTrail
//! table stores `readonly` and `managementevent` as strings, so saved queries compare them with
//! `'true'` and `'false'`. Here they are booleans; the text literal becomes a boolean literal.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator, lit};

/// Rewrites `boolean_column = 'true'` (any comparison, either side) to a boolean comparison.
#[derive(Debug)]
pub struct BooleanTextComparison;

fn text_literal_as_bool(e: &Expr) -> Option<bool> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

impl FunctionRewrite for BooleanTextComparison {
    fn name(&self) -> &str {
        "boolean_text_comparison"
    }

    fn rewrite(
        &self,
        expr: Expr,
        schema: &DFSchema,
        _: &ConfigOptions,
    ) -> Result<Transformed<Expr>> {
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
            return Ok(Transformed::no(expr));
        };
        if !matches!(
            op,
            Operator::Eq
                | Operator::NotEq
                | Operator::Lt
                | Operator::LtEq
                | Operator::Gt
                | Operator::GtEq
                | Operator::IsDistinctFrom
                | Operator::IsNotDistinctFrom
        ) {
            return Ok(Transformed::no(expr));
        }
        let is_bool = |e: &Expr| e.get_type(schema).is_ok_and(|t| t == DataType::Boolean);
        let rewritten = match (text_literal_as_bool(left), text_literal_as_bool(right)) {
            (None, Some(b)) if is_bool(left) => {
                Expr::BinaryExpr(BinaryExpr::new(left.clone(), *op, Box::new(lit(b))))
            }
            (Some(b), None) if is_bool(right) => {
                Expr::BinaryExpr(BinaryExpr::new(Box::new(lit(b)), *op, right.clone()))
            }
            _ => return Ok(Transformed::no(expr)),
        };
        Ok(Transformed::yes(rewritten))
    }
}
