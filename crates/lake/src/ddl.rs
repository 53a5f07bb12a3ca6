//! The statements that make the lake a table in another engine: Athena, Trino (Hive connector),
//! Spark and DuckDB.
//!
//! Every column and its type comes from [`file_schema`], so the DDL cannot drift from what the
//! writer lays down; the partition columns `region` and `date` come from the folder names. Each
//! engine gets what it needs to find partitions without a manual step where it can (Athena:
//! partition projection; DuckDB: a glob), and the one statement it cannot do without where it
//! cannot (Trino: `sync_partition_metadata`; Spark: `MSCK REPAIR TABLE`). What reads differently
//! there than in `trawl sql` is said in `--` comments at the top.

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::str::FromStr;

use arrow::datatypes::{DataType, TimeUnit};

use crate::layout::TABLE_DIR;
use crate::schema::{FieldDef, Kind, PARTITION_COLUMNS, RECORD, UNMAPPED_COLUMN, file_schema};

/// An engine `trawl ddl` writes statements for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Amazon Athena (engine v3), Hive DDL with partition projection.
    Athena,
    /// Trino's Hive connector.
    Trino,
    /// Apache Spark SQL, a `USING parquet` table.
    Spark,
    /// DuckDB, a view over `read_parquet`.
    DuckDb,
}

impl Engine {
    /// Every engine, in the order `--help` lists them.
    pub const ALL: [Engine; 4] = [Engine::Athena, Engine::Trino, Engine::Spark, Engine::DuckDb];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Athena => "athena",
            Engine::Trino => "trino",
            Engine::Spark => "spark",
            Engine::DuckDb => "duckdb",
        }
    }

    /// Whether the engine reads only object-store URLs (no local folders).
    pub fn needs_object_store(self) -> bool {
        self == Engine::Athena
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Engine {
    type Err = DdlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Engine::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| DdlError::UnknownEngine(s.to_string()))
    }
}

/// Why no DDL could be written.
#[derive(Debug, thiserror::Error)]
pub enum DdlError {
    /// The engine name is not one of [`Engine::ALL`].
    #[error("unknown engine `{0}`: expected athena, trino, spark or duckdb")]
    UnknownEngine(String),
    /// The table name is not one to three plain identifiers separated by dots.
    #[error(
        "table name `{0}` must be one to three names of letters, digits and `_` separated by dots"
    )]
    TableName(String),
    /// A column has an Arrow type the engine's DDL cannot spell.
    #[error("column `{column}` has type {data_type}, which {engine} DDL cannot spell")]
    UnsupportedType {
        engine: Engine,
        column: String,
        data_type: DataType,
    },
}

/// Where the lake is, as the engine should read it: the lake root (the folder holding
/// `cloudtrail/`), never the table folder itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An absolute local folder.
    Local(PathBuf),
    /// A URL (`s3://bucket/prefix`, `file:///…`), kept as given without a trailing `/`.
    Url(String),
}

impl Location {
    /// A URL if `text` has a scheme (`s3://…`, `file:/…`), else a local path.
    pub fn parse(text: &str) -> Self {
        let scheme = text
            .split_once(':')
            .map(|(s, _)| s)
            .filter(|s| s.len() > 1 && s.bytes().all(|c| c.is_ascii_alphanumeric()));
        match scheme {
            Some(_) => Location::Url(text.trim_end_matches('/').to_string()),
            None => Location::Local(PathBuf::from(text)),
        }
    }

    /// Whether this is an object-store URL rather than a local folder.
    pub fn is_object_store(&self) -> bool {
        match self {
            Location::Local(_) => false,
            Location::Url(u) => !u.starts_with("file:"),
        }
    }

    /// The table folder as a URL (`file://` for local folders), without a trailing `/`.
    fn table_url(&self) -> String {
        match self {
            Location::Local(p) => format!("file://{}/{TABLE_DIR}", p.display()),
            Location::Url(u) => format!("{u}/{TABLE_DIR}"),
        }
    }

    /// The table folder as DuckDB's `read_parquet` takes it (a plain path for local folders).
    fn duckdb_path(&self) -> String {
        match self {
            Location::Local(p) => format!("{}/{TABLE_DIR}", p.display()),
            Location::Url(u) => format!("{u}/{TABLE_DIR}"),
        }
    }
}

/// What to write DDL for.
#[derive(Debug, Clone)]
pub struct DdlOptions {
    /// The engine.
    pub engine: Engine,
    /// The lake root.
    pub location: Location,
    /// The table name: `name`, `schema.name` or `catalog.schema.name`.
    pub table: String,
    /// Region folder values (as in the path, escaped) the lake holds, added to Athena's
    /// projected list of regions.
    pub regions: Vec<String>,
}

/// Region names Athena projects by default: every AWS region CloudTrail can deliver from.
/// A lake's own regions are added to these; any other region must be added by hand.
pub const AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

const UNMAPPED_COMMENT: &str = "JSON object of what the typed columns could not hold: unknown \
    keys, values of an unexpected JSON type, explicit nulls, non-canonical eventTime text. Null \
    for most records";

const JSON_COMMENT: &str = "JSON text";

/// The statements, with `--` comments, that make the lake a table in `options.engine`. Each
/// statement ends with `;` at the end of a line, so a script can split them there.
pub fn ddl(options: &DdlOptions) -> Result<String, DdlError> {
    let table = TableName::parse(&options.table)?;
    let mut out = String::new();
    match options.engine {
        Engine::Athena => athena(&mut out, options, &table)?,
        Engine::Trino => trino(&mut out, options, &table)?,
        Engine::Spark => spark(&mut out, options, &table)?,
        Engine::DuckDb => duckdb(&mut out, options, &table),
    }
    Ok(out)
}

/// A table name of one to three plain identifiers.
struct TableName(Vec<String>);

impl TableName {
    fn parse(text: &str) -> Result<Self, DdlError> {
        let parts: Vec<String> = text.split('.').map(str::to_string).collect();
        let plain = |p: &String| {
            p.bytes().next().is_some_and(|c| !c.is_ascii_digit())
                && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        };
        if parts.len() > 3 || !parts.iter().all(plain) {
            return Err(DdlError::TableName(text.to_string()));
        }
        Ok(TableName(parts))
    }

    fn quoted(&self, quote: char) -> String {
        self.0
            .iter()
            .map(|p| format!("{quote}{p}{quote}"))
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// A string literal for engines that double a quote to escape it (Trino, DuckDB).
fn literal_doubled(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A string literal for engines that escape with a backslash (Hive DDL, Spark SQL).
fn literal_backslashed(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The top-level columns of the files: name, Arrow type, and a comment where one helps.
fn columns() -> Vec<(String, DataType, Option<&'static str>)> {
    file_schema()
        .fields()
        .iter()
        .map(|f| {
            let comment = if f.name() == UNMAPPED_COLUMN {
                Some(UNMAPPED_COMMENT)
            } else if RECORD
                .iter()
                .any(|d: &FieldDef| d.kind == Kind::Json && d.column() == *f.name())
            {
                Some(JSON_COMMENT)
            } else {
                None
            };
            (f.name().clone(), f.data_type().clone(), comment)
        })
        .collect()
}

/// Spells an Arrow type in `engine`'s DDL.
fn type_sql(engine: Engine, column: &str, t: &DataType) -> Result<String, DdlError> {
    let unsupported = || DdlError::UnsupportedType {
        engine,
        column: column.to_string(),
        data_type: t.clone(),
    };
    Ok(match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => match engine {
            Engine::Athena => "string",
            Engine::Trino => "varchar",
            Engine::Spark => "STRING",
            Engine::DuckDb => "VARCHAR",
        }
        .to_string(),
        DataType::Boolean => match engine {
            Engine::Athena | Engine::Trino => "boolean",
            Engine::Spark | Engine::DuckDb => "BOOLEAN",
        }
        .to_string(),
        // An instant (UTC-adjusted in the Parquet annotation), so Spark's LTZ type, DuckDB's
        // TIMESTAMPTZ; Hive and Trino's Hive connector have one `timestamp`.
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => match engine {
            Engine::Athena | Engine::Trino => "timestamp",
            Engine::Spark => "TIMESTAMP_LTZ",
            Engine::DuckDb => "TIMESTAMPTZ",
        }
        .to_string(),
        DataType::Struct(fields) => {
            let mut parts = Vec::with_capacity(fields.len());
            for f in fields {
                let name = f.name();
                let inner = type_sql(engine, &format!("{column}.{name}"), f.data_type())?;
                parts.push(match engine {
                    Engine::Athena => format!("{name}:{inner}"),
                    Engine::Trino => format!("\"{name}\" {inner}"),
                    Engine::Spark => format!("`{name}`: {inner}"),
                    Engine::DuckDb => format!("\"{name}\" {inner}"),
                });
            }
            let parts = parts.join(", ");
            match engine {
                Engine::Athena => format!("struct<{}>", parts.replace(", ", ",")),
                Engine::Trino => format!("ROW({parts})"),
                Engine::Spark => format!("STRUCT<{parts}>"),
                Engine::DuckDb => format!("STRUCT({parts})"),
            }
        }
        DataType::List(item) => {
            let inner = type_sql(engine, column, item.data_type())?;
            match engine {
                Engine::Athena => format!("array<{inner}>"),
                Engine::Trino => format!("ARRAY({inner})"),
                Engine::Spark => format!("ARRAY<{inner}>"),
                Engine::DuckDb => format!("{inner}[]"),
            }
        }
        _ => return Err(unsupported()),
    })
}

/// The column list, one per line, for engines with a column list.
fn column_lines(
    engine: Engine,
    quote: char,
    comment_literal: fn(&str) -> String,
) -> Result<Vec<String>, DdlError> {
    columns()
        .into_iter()
        .map(|(name, t, comment)| {
            let mut line = format!("  {quote}{name}{quote} {}", type_sql(engine, &name, &t)?);
            if let Some(c) = comment {
                line.push_str(&format!(" COMMENT {}", comment_literal(c)));
            }
            Ok(line)
        })
        .collect()
}

/// Notes every engine shares: what differs from Athena's own CloudTrail table.
fn common_notes(out: &mut String) {
    out.push_str(
        "-- Columns are Athena's CloudTrail table's, with better types: eventtime is a UTC\n\
         -- timestamp (Athena's table: a string), readonly and managementevent are booleans,\n\
         -- requestparameters, responseelements, additionaleventdata, serviceeventdetails,\n\
         -- edgedevicedetails, insightdetails and useridentity.sessioncontext.webidfederationdata\n\
         -- .attributes are JSON text. `unmapped` holds, as a JSON object, whatever the typed\n\
         -- columns could not (unknown keys, values of an unexpected type).\n\
         -- trawl prunes `date` from a filter on eventtime; here, filter on `date` as well\n\
         -- (date >= '2024-03-01' works in every engine) to read only the days you need.\n",
    );
}

fn athena(out: &mut String, o: &DdlOptions, table: &TableName) -> Result<(), DdlError> {
    let url = o.location.table_url();
    let mut regions: Vec<String> = AWS_REGIONS.iter().map(|r| r.to_string()).collect();
    regions.extend(o.regions.iter().cloned());
    regions.sort();
    regions.dedup();
    writeln!(out, "-- trawl lake as an Amazon Athena (engine v3) table.").unwrap();
    if !o.location.is_object_store() {
        out.push_str(
            "-- WARNING: Athena reads only s3:// locations: run `trawl ddl --engine athena \
             --location s3://BUCKET/PREFIX`\n-- with the S3 copy of the lake root.\n",
        );
    }
    common_notes(out);
    out.push_str(
        "-- Partition projection finds every region and day at query time: no MSCK REPAIR TABLE, no\n\
         -- Glue crawler. Regions are an enum (every AWS region and the lake's own at the time this\n\
         -- was written); a region outside it is not read until it is added to\n\
         -- projection.region.values. Region folders are Hive-escaped (%XX) for values other than\n\
         -- [A-Za-z0-9._-]; projection reads them as written, and records without awsRegion\n\
         -- (folder __HIVE_DEFAULT_PARTITION__) show that text as region, where other engines show NULL.\n\
         -- `date` is a string 'YYYY-MM-DD' here (projection's type): compare it with strings.\n\
         -- Saved queries in Trino SQL (json_extract_scalar, element_at, from_iso8601_timestamp,\n\
         -- date_add, CROSS JOIN UNNEST) run unchanged; compare eventtime with TIMESTAMP '…' or\n\
         -- from_iso8601_timestamp('…') and readonly with false rather than text.\n",
    );
    writeln!(out, "CREATE EXTERNAL TABLE {} (", table.quoted('`')).unwrap();
    out.push_str(&column_lines(Engine::Athena, '`', literal_backslashed)?.join(",\n"));
    out.push_str("\n)\n");
    let [region, date] = PARTITION_COLUMNS;
    writeln!(out, "PARTITIONED BY (`{region}` string, `{date}` string)").unwrap();
    out.push_str("STORED AS PARQUET\n");
    writeln!(out, "LOCATION {}", literal_backslashed(&format!("{url}/"))).unwrap();
    out.push_str("TBLPROPERTIES (\n");
    let template = format!("{url}/{region}=${{{region}}}/{date}=${{{date}}}/");
    let props = [
        ("projection.enabled".to_string(), "true".to_string()),
        (format!("projection.{region}.type"), "enum".to_string()),
        (format!("projection.{region}.values"), regions.join(",")),
        (format!("projection.{date}.type"), "date".to_string()),
        (
            format!("projection.{date}.format"),
            "yyyy-MM-dd".to_string(),
        ),
        (
            format!("projection.{date}.range"),
            "2013-01-01,NOW".to_string(),
        ),
        (format!("projection.{date}.interval"), "1".to_string()),
        (
            format!("projection.{date}.interval.unit"),
            "DAYS".to_string(),
        ),
        ("storage.location.template".to_string(), template),
    ];
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("  {} = {}", literal_backslashed(k), literal_backslashed(v)))
        .collect();
    out.push_str(&props.join(",\n"));
    out.push_str("\n);\n");
    Ok(())
}

fn trino(out: &mut String, o: &DdlOptions, table: &TableName) -> Result<(), DdlError> {
    let (catalog, schema, name) = match table.0.as_slice() {
        [n] => ("hive", "default", n.as_str()),
        [s, n] => ("hive", s.as_str(), n.as_str()),
        [c, s, n] => (c.as_str(), s.as_str(), n.as_str()),
        _ => unreachable!("TableName holds one to three parts"),
    };
    let full = TableName(vec![catalog.into(), schema.into(), name.into()]);
    writeln!(out, "-- trawl lake as a table of Trino's Hive connector.").unwrap();
    common_notes(out);
    out.push_str(
        "-- eventtime reads at the catalog's hive.timestamp-precision (MILLISECONDS unless set to\n\
         -- MICROSECONDS, which keeps trawl's microseconds), as UTC wall-clock time.\n\
         -- `date` is varchar 'YYYY-MM-DD', as in Athena, so queries move between the two unchanged.\n\
         -- Saved queries in Trino SQL run unchanged; compare eventtime with TIMESTAMP '…' and\n\
         -- readonly with false rather than text.\n\
         -- The CALL registers the partitions that exist now: run it again after each trawl ingest\n\
         -- (mode 'ADD' is enough; 'FULL' also forgets removed ones).\n",
    );
    writeln!(out, "CREATE TABLE {} (", full.quoted('"')).unwrap();
    let mut lines = column_lines(Engine::Trino, '"', literal_doubled)?;
    for p in PARTITION_COLUMNS {
        lines.push(format!("  \"{p}\" varchar"));
    }
    out.push_str(&lines.join(",\n"));
    out.push_str("\n)\nWITH (\n  format = 'PARQUET',\n");
    writeln!(
        out,
        "  external_location = {},",
        literal_doubled(&o.location.table_url())
    )
    .unwrap();
    let parts: Vec<String> = PARTITION_COLUMNS.iter().map(|p| format!("'{p}'")).collect();
    writeln!(out, "  partitioned_by = ARRAY[{}]\n);", parts.join(", ")).unwrap();
    writeln!(
        out,
        "CALL \"{catalog}\".system.sync_partition_metadata(schema_name => {}, table_name => {}, mode => 'FULL');",
        literal_doubled(schema),
        literal_doubled(name)
    )
    .unwrap();
    Ok(())
}

/// Trino functions the saved queries use that Spark lacks, as session SQL functions with
/// Trino's results: through Spark 4's VARIANT, json_extract gives JSON text (strings quoted) and
/// json_extract_scalar gives NULL for an object or array.
const SPARK_FUNCTIONS: &str = "\
CREATE OR REPLACE TEMPORARY FUNCTION json_extract(j STRING, p STRING) RETURNS STRING
  RETURN to_json(variant_get(try_parse_json(j), p));
CREATE OR REPLACE TEMPORARY FUNCTION json_extract_scalar(j STRING, p STRING) RETURNS STRING
  RETURN CASE WHEN substr(to_json(variant_get(try_parse_json(j), p)), 1, 1) IN ('{', '[') THEN NULL
    ELSE variant_get(try_parse_json(j), p, 'string') END;
CREATE OR REPLACE TEMPORARY FUNCTION strpos(s STRING, sub STRING) RETURNS BIGINT
  RETURN instr(s, sub);
";

fn spark(out: &mut String, o: &DdlOptions, table: &TableName) -> Result<(), DdlError> {
    let name = table.quoted('`');
    writeln!(
        out,
        "-- trawl lake as an Apache Spark SQL table (written for Spark 4)."
    )
    .unwrap();
    common_notes(out);
    out.push_str(
        "-- The session time zone is set to UTC so eventtime shows as trawl shows it.\n\
         -- json_extract, json_extract_scalar and strpos are defined as Trino has them, for this\n\
         -- session only (run those statements again in a new session); Spark's own JSON function\n\
         -- is get_json_object. Trino's CROSS JOIN UNNEST(resources) AS t(r) is, in Spark,\n\
         -- LATERAL VIEW explode(resources) t AS r. The last statement turns off backslash escapes\n\
         -- in string literals, so a regex such as '\\d{12}' means what it means in Trino and trawl.\n\
         -- Records without awsRegion (folder __HIVE_DEFAULT_PARTITION__) have a NULL region.\n\
         -- MSCK REPAIR TABLE registers the partitions that exist now: run it again after each\n\
         -- trawl ingest (and REFRESH TABLE for new files in known partitions).\n",
    );
    out.push_str("SET TIME ZONE 'UTC';\n");
    out.push_str(SPARK_FUNCTIONS);
    writeln!(out, "CREATE TABLE {name} (").unwrap();
    let mut lines = column_lines(Engine::Spark, '`', literal_backslashed)?;
    let [region, date] = PARTITION_COLUMNS;
    lines.push(format!("  `{region}` STRING"));
    lines.push(format!("  `{date}` DATE"));
    out.push_str(&lines.join(",\n"));
    out.push_str("\n)\nUSING parquet\n");
    writeln!(out, "PARTITIONED BY (`{region}`, `{date}`)").unwrap();
    let location = literal_backslashed(&o.location.table_url());
    writeln!(out, "LOCATION {location};").unwrap();
    writeln!(out, "MSCK REPAIR TABLE {name};").unwrap();
    out.push_str("SET spark.sql.parser.escapedStringLiterals = true;\n");
    Ok(())
}

/// Trino functions the saved queries use that DuckDB lacks, as macros with Trino's results.
const DUCKDB_MACROS: &str = "\
CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS
  CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END;
CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p);
";

fn duckdb(out: &mut String, o: &DdlOptions, table: &TableName) {
    let glob = literal_doubled(&format!("{}/*/*/*.parquet", o.location.duckdb_path()));
    let [region, date] = PARTITION_COLUMNS;
    writeln!(out, "-- trawl lake as a DuckDB view (DuckDB 1.1 or newer).").unwrap();
    common_notes(out);
    out.push_str(
        "-- The view reads the files as they are: types are the files' own (eventtime TIMESTAMPTZ,\n\
         -- structs, resources a list of structs). union_by_name lets files written before a column\n\
         -- existed read it as NULL. Records without awsRegion (folder __HIVE_DEFAULT_PARTITION__)\n\
         -- have a NULL region. s3:// locations need the httpfs extension and credentials\n\
         -- (CREATE SECRET). json_extract_scalar and regexp_like are defined as Trino has them, so\n\
         -- saved queries using them run here; DuckDB's own are json_extract_string and\n\
         -- regexp_matches. The time zone is set to UTC so eventtime shows as trawl shows it.\n",
    );
    out.push_str("SET TimeZone = 'UTC';\n");
    out.push_str(DUCKDB_MACROS);
    writeln!(out, "CREATE OR REPLACE VIEW {} AS", table.quoted('"')).unwrap();
    writeln!(
        out,
        "SELECT * EXCLUDE (\"{region}\", \"{date}\"), \"{region}\", \"{date}\"\n\
         FROM read_parquet({glob},\n  \
         hive_partitioning = true,\n  \
         hive_types = {{'{region}': VARCHAR, '{date}': DATE}},\n  \
         union_by_name = true);"
    )
    .unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(engine: Engine) -> DdlOptions {
        DdlOptions {
            engine,
            location: Location::parse("s3://bucket/logs/lake/"),
            table: "cloudtrail".into(),
            regions: vec!["zz-test-1".into(), "us-east-1".into()],
        }
    }

    fn statement(engine: Engine) -> String {
        ddl(&options(engine)).unwrap()
    }

    #[test]
    fn every_column_appears_with_a_type() {
        for engine in [Engine::Athena, Engine::Trino, Engine::Spark] {
            let text = statement(engine);
            let quote = if engine == Engine::Trino { '"' } else { '`' };
            for f in file_schema().fields() {
                let start = format!("  {quote}{}{quote} ", f.name());
                assert!(
                    text.lines().any(|l| l.starts_with(&start)),
                    "{engine}: {}",
                    f.name()
                );
            }
            for p in PARTITION_COLUMNS {
                assert!(
                    text.contains(&format!("{quote}{p}{quote}")),
                    "{engine}: {p}"
                );
            }
        }
    }

    #[test]
    fn date_is_quoted_where_it_is_reserved() {
        let athena = statement(Engine::Athena);
        assert!(athena.contains("PARTITIONED BY (`region` string, `date` string)"));
        let spark = statement(Engine::Spark);
        assert!(spark.contains("  `date` DATE"));
        assert!(spark.contains("PARTITIONED BY (`region`, `date`)"));
        assert!(statement(Engine::Trino).contains("  \"date\" varchar"));
    }

    #[test]
    fn nested_types_per_engine() {
        let athena = statement(Engine::Athena);
        assert!(
            athena.contains("`resources` array<struct<arn:string,accountid:string,type:string>>")
        );
        assert!(athena.contains("`eventtime` timestamp,"));
        assert!(athena.contains("`readonly` boolean,"));
        assert!(athena.contains("sessionissuer:struct<type:string,"));
        let trino = statement(Engine::Trino);
        assert!(trino.contains(
            "\"resources\" ARRAY(ROW(\"arn\" varchar, \"accountid\" varchar, \"type\" varchar))"
        ));
        assert!(trino.contains("\"sessionissuer\" ROW(\"type\" varchar,"));
        let spark = statement(Engine::Spark);
        assert!(spark.contains(
            "`resources` ARRAY<STRUCT<`arn`: STRING, `accountid`: STRING, `type`: STRING>>"
        ));
        assert!(spark.contains("`eventtime` TIMESTAMP_LTZ,"));
        assert!(spark.contains("`managementevent` BOOLEAN,"));
    }

    #[test]
    fn struct_fields_need_no_quotes_in_hive_ddl() {
        // Athena's struct<…> spells field names bare: they must stay plain lower-case words.
        fn check(fields: &[FieldDef]) {
            for d in fields {
                let c = d.column();
                assert!(
                    c.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "{c}"
                );
                if let Kind::Struct(inner) | Kind::StructList(inner) = d.kind {
                    check(inner);
                }
            }
        }
        check(RECORD);
    }

    #[test]
    fn unmapped_is_there_with_a_comment() {
        assert!(statement(Engine::Athena).contains("`unmapped` string COMMENT 'JSON object"));
        assert!(statement(Engine::Trino).contains("\"unmapped\" varchar COMMENT 'JSON object"));
        assert!(statement(Engine::Spark).contains("`unmapped` STRING COMMENT 'JSON object"));
        assert!(
            statement(Engine::Athena).contains("`requestparameters` string COMMENT 'JSON text'")
        );
    }

    #[test]
    fn athena_projects_partitions() {
        let text = statement(Engine::Athena);
        assert!(text.contains("LOCATION 's3://bucket/logs/lake/cloudtrail/'"));
        assert!(text.contains(
            "'storage.location.template' = 's3://bucket/logs/lake/cloudtrail/region=${region}/date=${date}/'"
        ));
        assert!(text.contains("'projection.date.range' = '2013-01-01,NOW'"));
        let values = text
            .lines()
            .find(|l| l.contains("'projection.region.values'"))
            .unwrap();
        assert!(values.contains("us-east-1,us-east-2"), "{values}");
        assert!(values.contains("zz-test-1"), "{values}");
        assert_eq!(values.matches("us-east-1,").count(), 1, "{values}");
        assert!(!text.contains("WARNING"));
        let local = ddl(&DdlOptions {
            location: Location::parse("/data/lake"),
            ..options(Engine::Athena)
        })
        .unwrap();
        assert!(local.contains("WARNING: Athena reads only s3://"));
    }

    #[test]
    fn trino_names_catalog_and_syncs() {
        let text = statement(Engine::Trino);
        assert!(text.contains("CREATE TABLE \"hive\".\"default\".\"cloudtrail\" ("));
        assert!(text.contains("external_location = 's3://bucket/logs/lake/cloudtrail',"));
        assert!(text.contains("partitioned_by = ARRAY['region', 'date']"));
        assert!(text.contains(
            "CALL \"hive\".system.sync_partition_metadata(schema_name => 'default', table_name => 'cloudtrail', mode => 'FULL');"
        ));
        // Partition columns come last, as Trino requires.
        let create = text.split("WITH (").next().unwrap();
        let last: Vec<&str> = create.lines().filter(|l| l.starts_with("  \"")).collect();
        assert_eq!(
            &last[last.len() - 2..],
            ["  \"region\" varchar,", "  \"date\" varchar"]
        );
    }

    #[test]
    fn spark_and_duckdb_find_partitions() {
        let local = |engine| {
            ddl(&DdlOptions {
                location: Location::parse("/data/it's lake"),
                ..options(engine)
            })
            .unwrap()
        };
        let spark = local(Engine::Spark);
        assert!(spark.contains("LOCATION 'file:///data/it\\'s lake/cloudtrail';"));
        assert!(spark.contains("MSCK REPAIR TABLE `cloudtrail`;"));
        let duck = local(Engine::DuckDb);
        assert!(duck.contains("read_parquet('/data/it''s lake/cloudtrail/*/*/*.parquet',"));
        assert!(duck.contains("hive_types = {'region': VARCHAR, 'date': DATE}"));
        assert!(duck.contains("union_by_name = true"));
    }

    #[test]
    fn statements_end_at_line_ends() {
        for engine in Engine::ALL {
            let text = statement(engine);
            let code: String = text
                .lines()
                .filter(|l| !l.starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(code.ends_with(';'), "{engine}");
            assert!(!code.contains(";;"), "{engine}");
            for l in code.lines() {
                assert!(!l.trim_end_matches(';').contains(';'), "{engine}: {l}");
            }
        }
    }

    #[test]
    fn names_and_engines_are_checked() {
        assert_eq!("DuckDB".parse::<Engine>().unwrap(), Engine::DuckDb);
        assert!("presto".parse::<Engine>().is_err());
        for bad in ["a b", "x;drop", "a.b.c.d", "", "1abc", "a..b"] {
            let r = ddl(&DdlOptions {
                table: bad.into(),
                ..options(Engine::Spark)
            });
            assert!(matches!(r, Err(DdlError::TableName(_))), "{bad}");
        }
        let s = ddl(&DdlOptions {
            table: "security.trail".into(),
            ..options(Engine::Spark)
        })
        .unwrap();
        assert!(s.contains("CREATE TABLE `security`.`trail` ("));
    }

    #[test]
    fn locations_parse() {
        assert_eq!(
            Location::parse("s3://b/p/"),
            Location::Url("s3://b/p".into())
        );
        assert!(Location::parse("s3://b").is_object_store());
        assert!(!Location::parse("file:///x").is_object_store());
        assert_eq!(Location::parse("/x/y"), Location::Local("/x/y".into()));
        // A Windows drive letter is a path, not a scheme.
        assert!(matches!(Location::parse("C:\\lake"), Location::Local(_)));
    }
}
