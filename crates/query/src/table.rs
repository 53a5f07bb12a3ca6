//! The `cloudtrail` table: the lake's Hive-partitioned listing table, plus one thing it cannot
//! know by itself: `date` is the UTC day of `eventtime`. Filters on `eventtime` are turned into
//! filters on the `date` partition, so `WHERE eventtime >= now() - INTERVAL '1' DAY` lists and
//! reads one or two days, not the whole lake.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::TableProvider;
use datafusion::datasource::listing::ListingTable;
use datafusion::error::Result;
use datafusion::logical_expr::{
    Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown, TableType, col, lit,
};
use datafusion::physical_plan::ExecutionPlan;
use trawl_lake::schema::SORT_COLUMN;

/// The lake's table with `eventtime` → `date` partition pruning.
#[derive(Debug)]
pub struct CloudTrailTable {
    inner: Arc<ListingTable>,
}

impl CloudTrailTable {
    /// Wraps the listing table of the lake.
    pub fn new(inner: ListingTable) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }
}

#[async_trait]
impl TableProvider for CloudTrailTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut all = filters.to_vec();
        all.extend(filters.iter().flat_map(date_filters));
        self.inner.scan(state, projection, &all, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The instant of a timestamp literal, in microseconds.
fn literal_micros(e: &Expr) -> Option<i64> {
    let Expr::Literal(v, _) = e else { return None };
    match v {
        ScalarValue::TimestampSecond(Some(s), _) => s.checked_mul(1_000_000),
        ScalarValue::TimestampMillisecond(Some(s), _) => s.checked_mul(1_000),
        ScalarValue::TimestampMicrosecond(Some(s), _) => Some(*s),
        ScalarValue::TimestampNanosecond(Some(s), _) => Some(s.div_euclid(1_000)),
        _ => None,
    }
}

/// Whether `e` is the `eventtime` column, perhaps behind a cast to another timestamp type.
fn is_event_time(e: &Expr) -> bool {
    match e {
        Expr::Column(c) => c.name == SORT_COLUMN,
        Expr::Cast(c) => is_event_time(&c.expr),
        Expr::TryCast(c) => is_event_time(&c.expr),
        _ => false,
    }
}

fn day(micros: i64) -> Expr {
    lit(ScalarValue::Date32(Some(
        micros.div_euclid(MICROS_PER_DAY) as i32
    )))
}

/// Filters on `date` implied by a filter on `eventtime` (none if it implies nothing).
pub fn date_filters(filter: &Expr) -> Vec<Expr> {
    match filter {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (op, t) = if is_event_time(left) {
                (*op, literal_micros(right))
            } else if is_event_time(right) {
                match op.swap() {
                    Some(swapped) => (swapped, literal_micros(left)),
                    None => return vec![],
                }
            } else if *op == Operator::And {
                let mut out = date_filters(left);
                out.extend(date_filters(right));
                return out;
            } else {
                return vec![];
            };
            let Some(t) = t else { return vec![] };
            let date = col("date");
            match op {
                Operator::Gt | Operator::GtEq => vec![date.gt_eq(day(t))],
                Operator::Lt | Operator::LtEq => vec![date.lt_eq(day(t))],
                Operator::Eq => vec![date.eq(day(t))],
                _ => vec![],
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if is_event_time(expr) => match (literal_micros(low), literal_micros(high)) {
            (Some(lo), Some(hi)) => vec![col("date").gt_eq(day(lo)), col("date").lt_eq(day(hi))],
            _ => vec![],
        },
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Expr {
        let micros = trawl_lake::eventtime::parse(s).unwrap();
        lit(ScalarValue::TimestampMicrosecond(
            Some(micros),
            Some("UTC".into()),
        ))
    }

    fn d(s: &str) -> Expr {
        day(trawl_lake::eventtime::parse(s).unwrap())
    }

    #[test]
    fn time_windows_become_day_ranges() {
        let t = col("eventtime");
        assert_eq!(
            date_filters(&t.clone().gt_eq(ts("2024-03-11T08:00:00Z"))),
            vec![col("date").gt_eq(d("2024-03-11T00:00:00Z"))]
        );
        assert_eq!(
            date_filters(&ts("2024-03-11T08:00:00Z").gt(t.clone())),
            vec![col("date").lt_eq(d("2024-03-11T00:00:00Z"))]
        );
        let both = t
            .clone()
            .gt(ts("2024-03-10T23:00:00Z"))
            .and(t.clone().lt(ts("2024-03-12T01:00:00Z")));
        assert_eq!(date_filters(&both).len(), 2);
        let between = t
            .clone()
            .between(ts("2024-03-10T00:00:00Z"), ts("2024-03-11T00:00:00Z"));
        assert_eq!(date_filters(&between).len(), 2);
    }

    #[test]
    fn other_filters_imply_nothing() {
        assert!(date_filters(&col("eventname").eq(lit("x"))).is_empty());
        assert!(date_filters(&col("eventtime").not_eq(ts("2024-03-11T08:00:00Z"))).is_empty());
        let or = col("eventtime")
            .gt(ts("2024-03-11T08:00:00Z"))
            .or(col("eventname").eq(lit("x")));
        assert!(date_filters(&or).is_empty());
    }
}
