//! A generated tree: the lake holds exactly the manifest's records, in well-made Parquet.

use std::fs::File;

use parquet::basic::Compression;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::serialized_reader::ReadOptionsBuilder;

use crate::common::*;

#[test]
fn lake_matches_the_manifest_and_parquet_is_well_made() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let (tree, manifest) = generate(dir.path(), 6000, 2, 5);
    let run = trawl(&lake, &["ingest", "--json", tree.to_str().unwrap()]);
    run.assert_code(0);
    let s: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(s["events_written"], manifest["events"], "{s}");
    assert_eq!(s["digests_skipped"], manifest["digest_files"], "{s}");

    let rows = sql_rows(
        &lake,
        "SELECT region, CAST(date AS VARCHAR), count(*) FROM cloudtrail GROUP BY 1, 2 ORDER BY 1, 2",
    );
    let got: Vec<(String, u64)> = rows
        .iter()
        .map(|r| {
            (
                format!("region={}/date={}", r[0], r[1]),
                r[2].parse().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, u64)> = manifest["partitions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(got, want);

    // Insight events are kept with their details.
    let insight = sql_rows(
        &lake,
        "SELECT count(*) FROM cloudtrail WHERE eventtype = 'AwsCloudTrailInsight' AND insightdetails IS NOT NULL",
    );
    assert_eq!(
        insight[0][0],
        (manifest["insight_files"].as_u64().unwrap() * 2).to_string()
    );

    // Every planted eventID is there exactly once.
    let planted = manifest["planted"].as_array().unwrap();
    let ids: Vec<String> = planted
        .iter()
        .map(|p| format!("'{}'", p["event_id"].as_str().unwrap()))
        .collect();
    let n = sql_rows(
        &lake,
        &format!(
            "SELECT count(*), count(DISTINCT eventid) FROM cloudtrail WHERE eventid IN ({})",
            ids.join(",")
        ),
    );
    assert_eq!(n[0], [planted.len().to_string(), planted.len().to_string()]);

    // Parquet: zstd, statistics and page index, sorted by eventtime, one file per partition here.
    let files: Vec<_> = files_below(&lake.join("cloudtrail"));
    assert_eq!(
        files.len(),
        want.len(),
        "one file per partition for a run this size"
    );
    for f in files {
        let options = ReadOptionsBuilder::new().with_page_index().build();
        let reader =
            SerializedFileReader::new_with_options(File::open(&f).unwrap(), options).unwrap();
        let meta = reader.metadata();
        let rg = meta.row_group(0);
        let time_idx = rg
            .columns()
            .iter()
            .position(|c| c.column_path().string() == "eventtime")
            .unwrap();
        for c in rg.columns() {
            assert!(matches!(c.compression(), Compression::ZSTD(_)), "{f:?}");
        }
        assert!(
            rg.column(time_idx)
                .statistics()
                .is_some_and(|s| s.min_bytes_opt().is_some())
        );
        assert!(
            meta.column_index().is_some() && meta.offset_index().is_some(),
            "page index in {f:?}"
        );
        assert!(
            rg.sorting_columns()
                .is_some_and(|s| s[0].column_idx as usize == time_idx)
        );
        assert_sorted_by_event_time(&f);
    }
}

fn assert_sorted_by_event_time(path: &std::path::Path) {
    use arrow::array::AsArray;
    use arrow::datatypes::TimestampMicrosecondType;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut last = i64::MIN;
    for batch in reader {
        let batch = batch.unwrap();
        let times = batch
            .column_by_name("eventtime")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        for i in 0..times.len() {
            assert!(times.value(i) >= last, "{path:?} not sorted at row {i}");
            last = times.value(i);
        }
    }
}
