//! The DataFusion session over a lake: table `cloudtrail` (also `cloudtrail_logs`, Athena's
//! default name) with Hive partitions `region` and `date`.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::logical_expr::col;
use datafusion::prelude::{SessionConfig, SessionContext};
use object_store::ObjectStore;
use trawl_lake::Lake;
use trawl_lake::remote::RemoteLake;
use trawl_lake::remote::view::{Hidden, ReaderView};
use trawl_lake::s3::S3Settings;
use trawl_lake::schema::{self, SORT_COLUMN};

use crate::QueryError;
use crate::table::{CloudTrailTable, CompactionGuard};
use crate::table_names::CloudTrailSchema;
use crate::view_scan;

/// Names the table answers to.
pub const TABLE_ALIASES: [&str; 2] = ["cloudtrail", "cloudtrail_logs"];

/// The session's settings: pruning on, Parquet page index and statistics used.
fn config() -> SessionConfig {
    let mut config = SessionConfig::new().with_information_schema(true);
    let options = config.options_mut();
    options.execution.parquet.pushdown_filters = true;
    // Filters run in the order the table gives them, likely selective first (see
    // `filter_order`); DataFusion's reordering by column size would undo that.
    options.execution.parquet.reorder_filters = false;
    options.execution.parquet.pruning = true;
    // Lake pages are Parquet's default 1 MiB, so most column chunks are a single page, and the
    // columns that have more (free-form JSON text) have min/max values that prune nothing: a
    // page index adds nothing to row-group statistics here. Reading and decoding it for every
    // column of every file cost 10–15% of each query in bench/query.sh.
    options.execution.parquet.enable_page_index = false;
    // A lake file's footer is about 16 KiB: read the last 64 KiB at once, not DataFusion's
    // default 512 KiB, which copied about a third of each file for every query (20% of a
    // `count(*)`, bench/query.sh).
    options.execution.parquet.metadata_size_hint = Some(64 * 1024);
    // Statistics of every file would be read at planning, before any pruning: 40–60 ms of each
    // query on a 1M-event lake (bench/query.sh), more in S3. Scans prune with them anyway.
    options.execution.collect_statistics = false;
    // Twice as many scan partitions as cores (DataFusion's default is one per core): lake files
    // differ in size, and with one file group per core the core with the smaller files sits
    // idle at the end of each scan (bench/query.sh: root use and AccessDenied 10–20% faster
    // on 2 cores).
    options.execution.target_partitions *= 2;
    // Planning errors then name the line and column they are about.
    options.sql_parser.collect_spans = true;
    config
}

/// Opens a session over `lake`, local or in S3 (reached with `s3`). A local lake without data
/// yet gives an empty table.
pub async fn open_session(lake: &Lake, s3: &S3Settings) -> Result<SessionContext, QueryError> {
    let mut ctx = crate::trino_text::session_context(config())?;
    let mut guard = None;
    if let Some(url) = lake.s3_url() {
        let store =
            trawl_lake::s3::store(&url.bucket, s3).map_err(|e| QueryError::Saved(e.to_string()))?;
        let hidden = Hidden::default();
        guard = Some(CompactionGuard::new(
            RemoteLake::new(url.clone(), Arc::clone(&store)),
            Arc::clone(&hidden),
        ));
        let store: Arc<dyn ObjectStore> = Arc::new(ReaderView::new(store, hidden));
        let bucket = url::Url::parse(&format!("s3://{}", url.bucket))
            .map_err(|e| QueryError::Saved(format!("{url}: {e}")))?;
        ctx.register_object_store(&bucket, store);
    }
    datafusion_functions_json::register_all(&mut ctx)?;
    // Ours after the JSON crate's: Athena's names mean Athena's semantics.
    crate::functions::register(&ctx);
    datafusion::execution::FunctionRegistry::register_function_rewrite(
        &mut ctx,
        Arc::new(crate::rewrite::BooleanTextComparison),
    )?;
    register_table(&ctx, &lake.table_dir(), guard).await?;
    Ok(ctx)
}

/// The lake's schema as scans read it: text fields, nested ones too, as `Utf8View`, which
/// the Parquet reader builds over the decompressed pages instead of copying every string into
/// a new buffer (see [`view_scan`]).
fn scan_schema() -> SchemaRef {
    Arc::new(view_scan::text_as_views(&schema::file_schema()))
}

async fn register_table(
    ctx: &SessionContext,
    table_dir: &Path,
    guard: Option<CompactionGuard>,
) -> Result<(), QueryError> {
    let in_s3 = guard.is_some();
    let table_schema = scan_schema();
    let partition_cols = vec![
        ("region".to_string(), DataType::Utf8),
        ("date".to_string(), DataType::Date32),
    ];
    let table: Arc<dyn TableProvider> = if !in_s3 && !table_dir.is_dir() {
        let mut fields: Vec<_> = table_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for (n, t) in &partition_cols {
            fields.push(Field::new(n, t.clone(), true));
        }
        let schema = Arc::new(Schema::new(fields));
        Arc::new(MemTable::try_new(schema, vec![vec![]])?)
    } else {
        let url = ListingTableUrl::parse(format!("{}/", table_dir.display()))?;
        // The format takes the session's Parquet settings (`config`); its own defaults would
        // ignore them. Each scan takes them again as they are then (`CloudTrailTable::scan`).
        let parquet = ctx.state().default_table_options().parquet;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default().with_options(parquet)))
            .with_file_extension(".parquet")
            .with_table_partition_cols(partition_cols)
            .with_file_sort_order(vec![vec![col(SORT_COLUMN).sort(true, false)]]);
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(Arc::clone(&table_schema));
        let table = CloudTrailTable::new(ListingTable::try_new(config)?);
        Arc::new(match guard {
            Some(g) => table.with_compaction_guard(g),
            None => table,
        })
    };
    // The default schema, and Athena's `default` database, answer every `cloudtrail*` name.
    let schema = Arc::new(CloudTrailSchema::new(Arc::clone(&table)));
    for name in TABLE_ALIASES {
        schema.register_table(name.to_string(), Arc::clone(&table))?;
    }
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| QueryError::Saved("the session has no default catalog".into()))?;
    catalog.register_schema("public", Arc::clone(&schema) as Arc<dyn SchemaProvider>)?;
    catalog.register_schema("default", schema)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_use_two_partitions_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(config().options().execution.target_partitions, 2 * cores);
    }

    #[test]
    fn scans_read_all_text_as_views_and_keep_the_rest() {
        fn check(scan: &DataType, file: &DataType, path: &str, views: &mut usize) {
            match (scan, file) {
                (DataType::Utf8View, DataType::Utf8) => *views += 1,
                (DataType::Struct(s), DataType::Struct(f)) => {
                    assert_eq!(s.len(), f.len(), "{path}");
                    for (s, f) in s.iter().zip(f) {
                        assert_eq!(s.name(), f.name(), "{path}");
                        assert_eq!(s.is_nullable(), f.is_nullable(), "{path}");
                        let path = format!("{path}.{}", f.name());
                        check(s.data_type(), f.data_type(), &path, views);
                    }
                }
                (DataType::List(s), DataType::List(f)) => {
                    check(s.data_type(), f.data_type(), path, views)
                }
                (s, f) => assert_eq!(s, f, "{path}"),
            }
        }
        let file = schema::file_schema();
        let scan = scan_schema();
        let mut views = 0;
        check(
            &DataType::Struct(scan.fields().clone()),
            &DataType::Struct(file.fields().clone()),
            "",
            &mut views,
        );
        assert!(views >= 30, "{views} text fields");
        let useridentity = scan.field_with_name("useridentity").unwrap();
        let DataType::Struct(fields) = useridentity.data_type() else {
            panic!("useridentity is a struct")
        };
        let arn = fields.iter().find(|f| f.name() == "arn").unwrap();
        assert_eq!(arn.data_type(), &DataType::Utf8View);
    }
}
