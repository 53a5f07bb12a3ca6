//! SQL over a trawl lake: the DataFusion session with the `cloudtrail` table and the Athena /
//! CloudTrail Lake compatibility functions, the prompt, result printing, and export of records
//! back to their source JSON.

pub mod command;
pub mod error;
pub mod exec;
pub mod export;
pub mod field_access;
pub mod filter_order;
pub mod functions;
pub mod helper;
pub mod jsonpath;
pub mod parquet_scans;
pub mod print;
pub mod regexp_extract;
pub mod repl;
pub mod rewrite;
pub mod saved;
pub mod session;
pub mod table;
pub mod table_names;
pub mod trino;
pub mod trino_agg;
pub mod trino_joda;
pub mod trino_json;
pub mod trino_text;
pub mod trino_time;
pub mod trino_url;
pub mod unnest;
pub mod view_scan;

pub use error::QueryError;
pub use session::{TABLE_ALIASES, open_session};
