//! Scans that read every text field of the lake as a string view, nested ones too.
//!
//! The Parquet reader builds `Utf8View` arrays over the decompressed pages (a dictionary page's
//! strings are pointed at, not copied per row), but it builds `Utf8` arrays, one copied string
//! per row, for every field the file's embedded Arrow schema declares `Utf8`. DataFusion asks
//! it for views only for top-level columns, so filters on `useridentity.type` or groupings by
//! `useridentity.arn` copied every string of their column first: the largest single cost of
//! such queries in bench/query.sh. The lake's files are not changed: scans rewrite the Arrow
//! schema each file declares as it is opened (see [`ViewReaderFactory`]), and the table schema
//! declares the same types (see [`text_as_views`]).

use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::ParquetFileReaderFactory;
use datafusion::error::Result;
use datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions;
use datafusion::parquet::arrow::async_reader::AsyncFileReader;
use datafusion::parquet::arrow::{
    ARROW_SCHEMA_META_KEY, encode_arrow_schema, parquet_to_arrow_schema,
};
use datafusion::parquet::errors::Result as ParquetResult;
use datafusion::parquet::file::metadata::{
    FileMetaData, KeyValue, ParquetMetaData, ParquetMetaDataBuilder,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::FutureExt;
use futures::future::BoxFuture;

use crate::parquet_scans::map_parquet_sources;

/// `schema` with every `Utf8` field, at any depth, as `Utf8View`.
pub fn text_as_views(schema: &Schema) -> Schema {
    Schema::new_with_metadata(view_fields(schema.fields()), schema.metadata().clone())
}

fn view_fields(fields: &Fields) -> Fields {
    fields.iter().map(view_field).collect()
}

fn view_field(field: &FieldRef) -> FieldRef {
    let data_type = match field.data_type() {
        DataType::Utf8 => DataType::Utf8View,
        DataType::Struct(children) => DataType::Struct(view_fields(children)),
        DataType::List(item) => DataType::List(view_field(item)),
        DataType::LargeList(item) => DataType::LargeList(view_field(item)),
        other => other.clone(),
    };
    Arc::new(Field::clone(field).with_data_type(data_type))
}

/// `plan` with its Parquet scans reading text as views (see the module docs). Other nodes are
/// kept as they are.
pub fn read_text_as_views(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    map_parquet_sources(plan, |source| {
        let factory = ViewReaderFactory {
            inner: Arc::clone(source.parquet_file_reader_factory()?),
            views: Arc::default(),
        };
        Some(
            source
                .clone()
                .with_parquet_file_reader_factory(Arc::new(factory)),
        )
    })
}

/// Opens lake files through another factory, declaring their text fields as views.
#[derive(Debug)]
struct ViewReaderFactory {
    inner: Arc<dyn ParquetFileReaderFactory>,
    views: Arc<ViewMetadata>,
}

impl ParquetFileReaderFactory for ViewReaderFactory {
    fn create_reader(
        &self,
        partition_index: usize,
        file: PartitionedFile,
        metadata_size_hint: Option<usize>,
        metrics: &ExecutionPlanMetricsSet,
    ) -> Result<Box<dyn AsyncFileReader + Send>> {
        let inner = self
            .inner
            .create_reader(partition_index, file, metadata_size_hint, metrics)?;
        Ok(Box::new(ViewReader {
            inner,
            views: Arc::clone(&self.views),
        }))
    }
}

/// A file reader whose metadata declares text fields as views; the bytes are read as they are.
struct ViewReader {
    inner: Box<dyn AsyncFileReader + Send>,
    views: Arc<ViewMetadata>,
}

impl AsyncFileReader for ViewReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, ParquetResult<Bytes>> {
        self.inner.get_bytes(range)
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, ParquetResult<Vec<Bytes>>> {
        self.inner.get_byte_ranges(ranges)
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, ParquetResult<Arc<ParquetMetaData>>> {
        async move {
            let metadata = self.inner.get_metadata(options).await?;
            Ok(self.views.rewrite(metadata))
        }
        .boxed()
    }
}

/// Rewrites the Arrow schema embedded in a file's metadata to declare views.
#[derive(Debug, Default)]
struct ViewMetadata {
    /// The last embedded schema rewritten, and what it became: the files of a lake all declare
    /// the same one, so a scan works it out once.
    last: Mutex<Option<(String, String)>>,
}

impl ViewMetadata {
    /// `metadata` with its embedded Arrow schema declaring views. Unchanged when there is no
    /// such schema or it cannot be read: the reader then says why, or reads `Utf8`, which the
    /// scan casts.
    fn rewrite(&self, metadata: Arc<ParquetMetaData>) -> Arc<ParquetMetaData> {
        let file = metadata.file_metadata();
        let Some(kv) = file.key_value_metadata() else {
            return metadata;
        };
        let Some(encoded) = kv
            .iter()
            .find(|e| e.key == ARROW_SCHEMA_META_KEY)
            .and_then(|e| e.value.as_deref())
        else {
            return metadata;
        };
        let Some(views) = self.encoded_views(encoded, file) else {
            return metadata;
        };
        let kv = kv
            .iter()
            .map(|e| match e.key == ARROW_SCHEMA_META_KEY {
                true => KeyValue::new(e.key.clone(), views.clone()),
                false => e.clone(),
            })
            .collect();
        let file = FileMetaData::new(
            file.version(),
            file.num_rows(),
            file.created_by().map(str::to_string),
            Some(kv),
            file.schema_descr_ptr(),
            file.column_orders().cloned(),
        );
        Arc::new(
            ParquetMetaDataBuilder::new(file)
                .set_row_groups(metadata.row_groups().to_vec())
                .set_column_index(metadata.column_index().cloned())
                .set_offset_index(metadata.offset_index().cloned())
                .build(),
        )
    }

    /// The encoded schema `encoded` (of `file`) with views.
    fn encoded_views(&self, encoded: &str, file: &FileMetaData) -> Option<String> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((from, to)) = last.as_ref()
            && from == encoded
        {
            return Some(to.clone());
        }
        let schema =
            parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata()).ok()?;
        let to = encode_arrow_schema(&text_as_views(&schema));
        *last = Some((encoded.to_string(), to.clone()));
        Some(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        Array, ArrayRef, AsArray, RecordBatch, StringArray, StructArray,
    };
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::arrow::arrow_reader::{
        ArrowReaderMetadata, ParquetRecordBatchReaderBuilder,
    };
    use datafusion::parquet::file::metadata::ParquetMetaDataReader;

    /// A Parquet file with a top-level and a nested text column, and its metadata.
    fn file() -> (Bytes, Arc<ParquetMetaData>) {
        let kind: ArrayRef = Arc::new(StringArray::from(vec![Some("Root"), None]));
        let identity = StructArray::from(vec![(
            Arc::new(Field::new("type", DataType::Utf8, true)),
            kind,
        )]);
        let name: ArrayRef = Arc::new(StringArray::from(vec!["ConsoleLogin", "GetObject"]));
        let batch = RecordBatch::try_from_iter(vec![
            ("eventname", name),
            ("useridentity", Arc::new(identity) as ArrayRef),
        ])
        .unwrap();
        let mut bytes = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let bytes = Bytes::from(bytes);
        let metadata = ParquetMetaDataReader::new()
            .parse_and_finish(&bytes)
            .unwrap();
        (bytes, Arc::new(metadata))
    }

    #[test]
    fn files_are_read_with_all_text_as_views_and_the_same_values() {
        let (bytes, metadata) = file();
        let views = ViewMetadata::default();
        let rewritten = views.rewrite(Arc::clone(&metadata));
        // The second file of a scan reuses the first one's rewrite.
        assert!(views.last.lock().unwrap().is_some());
        assert_eq!(
            views.rewrite(metadata).file_metadata().key_value_metadata(),
            rewritten.file_metadata().key_value_metadata()
        );

        let reader_metadata =
            ArrowReaderMetadata::try_new(rewritten, ArrowReaderOptions::new()).unwrap();
        let schema = reader_metadata.schema();
        assert_eq!(schema.field(0).data_type(), &DataType::Utf8View);
        assert_eq!(
            schema.field(1).data_type(),
            &DataType::Struct(vec![Field::new("type", DataType::Utf8View, true)].into())
        );
        let batch = ParquetRecordBatchReaderBuilder::new_with_metadata(bytes, reader_metadata)
            .build()
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let kind = batch.column(1).as_struct().column(0).as_string_view();
        assert_eq!((kind.value(0), kind.is_null(1)), ("Root", true));
        assert_eq!(batch.column(0).as_string_view().value(1), "GetObject");
    }

    #[test]
    fn files_without_an_arrow_schema_are_left_alone() {
        let (_, metadata) = file();
        let file = metadata.file_metadata();
        let bare = FileMetaData::new(
            file.version(),
            file.num_rows(),
            None,
            None,
            file.schema_descr_ptr(),
            None,
        );
        let bare = Arc::new(
            ParquetMetaDataBuilder::new(bare)
                .set_row_groups(metadata.row_groups().to_vec())
                .build(),
        );
        assert!(Arc::ptr_eq(
            &ViewMetadata::default().rewrite(Arc::clone(&bare)),
            &bare
        ));
    }

    #[test]
    fn lists_and_structs_are_converted_at_any_depth() {
        let item = Field::new("item", DataType::Utf8, true);
        let schema = Schema::new(vec![
            Field::new("resources", DataType::List(Arc::new(item)), true),
            Field::new("readonly", DataType::Boolean, true),
        ]);
        let views = text_as_views(&schema);
        assert_eq!(
            views.field(0).data_type(),
            &DataType::List(Arc::new(Field::new("item", DataType::Utf8View, true)))
        );
        assert_eq!(views.field(1).data_type(), &DataType::Boolean);
    }
}
