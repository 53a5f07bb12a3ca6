//! The `cloudtrail` table: the lake's Hive-partitioned listing table, plus one thing it cannot
//! know by itself: `date` is the UTC day of `eventtime`. Filters on `eventtime` are turned into
//! filters on the `date` partition, so `WHERE eventtime >= now() - INTERVAL '1' DAY` lists and
//! reads one or two days, not the whole lake.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::TableProvider;
use datafusion::datasource::listing::ListingTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown, TableType, col, lit,
};
use datafusion::physical_plan::ExecutionPlan;
use trawl_lake::remote::RemoteLake;
use trawl_lake::remote::publish::{self, CompactionState};
use trawl_lake::remote::view::Hidden;
use trawl_lake::schema::SORT_COLUMN;

use crate::{parquet_scans, view_scan};

/// The lake's table with `eventtime` → `date` partition pruning.
#[derive(Debug)]
pub struct CloudTrailTable {
    inner: Arc<ListingTable>,
    compactions: Option<CompactionGuard>,
}

impl CloudTrailTable {
    /// Wraps the listing table of the lake.
    pub fn new(inner: ListingTable) -> Self {
        Self {
            inner: Arc::new(inner),
            compactions: None,
        }
    }

    /// For a lake in S3: each scan lists the table consistently with the compactions under
    /// way (see [`CompactionGuard`]).
    pub fn with_compaction_guard(mut self, guard: CompactionGuard) -> Self {
        self.compactions = Some(guard);
        self
    }
}

/// Keeps a scan of a lake in S3 from seeing a partition twice, or not at all, while a
/// compaction swaps its files: the compaction state is read before and after the listing, the
/// listing hides what that state says, and a listing made while the state changed is redone.
#[derive(Debug)]
pub struct CompactionGuard {
    lake: RemoteLake,
    hidden: Hidden,
    warned: AtomicBool,
}

impl CompactionGuard {
    /// A guard for `lake`, whose reader view hides `hidden`.
    pub fn new(lake: RemoteLake, hidden: Hidden) -> Self {
        Self {
            lake,
            hidden,
            warned: AtomicBool::new(false),
        }
    }

    /// The state now; one that cannot be read (say, a role that may read only the table) is
    /// told once and taken as no compaction under way.
    async fn state(&self) -> CompactionState {
        match publish::compaction_state(&self.lake).await {
            Ok(s) => s,
            Err(e) => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "warning: compactions under way cannot be seen ({e}); a partition being \
                         compacted may be counted twice"
                    );
                }
                CompactionState::default()
            }
        }
    }

    /// Runs `scan` (which lists the table) until it lists within one compaction state.
    async fn consistent<F, Fut>(&self, scan: F) -> Result<Arc<dyn ExecutionPlan>>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Arc<dyn ExecutionPlan>>>,
    {
        let mut before = self.state().await;
        for _ in 0..8 {
            *self.hidden.write().unwrap_or_else(|e| e.into_inner()) = before.hidden.clone();
            let plan = scan().await?;
            let after = self.state().await;
            if after == before {
                return Ok(plan);
            }
            before = after;
        }
        Err(DataFusionError::Execution(format!(
            "{}: compactions kept changing the table while it was listed; run the query again",
            self.lake.url()
        )))
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
        let plan = match &self.compactions {
            None => self.inner.scan(state, projection, &all, limit).await?,
            Some(guard) => {
                guard
                    .consistent(|| self.inner.scan(state, projection, &all, limit))
                    .await?
            }
        };
        let plan =
            parquet_scans::with_parquet_options(plan, &state.default_table_options().parquet)?;
        view_scan::read_text_as_views(plan)
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
