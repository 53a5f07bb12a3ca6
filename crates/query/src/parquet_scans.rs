//! Changing the Parquet scans of a physical plan.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::config::TableParquetOptions;
use datafusion::datasource::physical_plan::{FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::physical_plan::ExecutionPlan;

/// `plan` with each Parquet scan's source replaced by what `change` makes of it (`None`: kept
/// as it is). Other nodes are kept as they are.
pub fn map_parquet_sources(
    plan: Arc<dyn ExecutionPlan>,
    change: impl Fn(&ParquetSource) -> Option<ParquetSource>,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let Some(exec) = node.downcast_ref::<DataSourceExec>() else {
            return Ok(Transformed::no(node));
        };
        let Some((config, source)) = exec.downcast_to_file_source::<ParquetSource>() else {
            return Ok(Transformed::no(node));
        };
        let Some(source) = change(source) else {
            return Ok(Transformed::no(node));
        };
        let config = FileScanConfigBuilder::from(config.clone())
            .with_source(Arc::new(source))
            .build();
        Ok(Transformed::yes(DataSourceExec::from_data_source(config)))
    })
    .map(|t| t.data)
}

/// `plan` with its Parquet scans using `options`: the session's settings when the query is
/// planned, so a `SET datafusion.execution.parquet.…` at the prompt reaches the table (its
/// format holds the settings of when the session opened).
pub fn with_parquet_options(
    plan: Arc<dyn ExecutionPlan>,
    options: &TableParquetOptions,
) -> Result<Arc<dyn ExecutionPlan>> {
    map_parquet_sources(plan, |source| {
        let source = source.clone().with_table_parquet_options(options.clone());
        Some(match options.global.metadata_size_hint {
            Some(hint) => source.with_metadata_size_hint(hint),
            None => source,
        })
    })
}
