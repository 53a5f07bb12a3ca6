//! The on-disk contract of a trawl lake, shared by the writing and the reading side.
//!
//! Everything that decides how a CloudTrail record is laid down lives here: the `cloudtrail`
//! column tree ([`schema`]), where files go ([`layout`], [`partition`]), how `eventTime` is read
//! and written ([`eventtime`]), and how a stored row becomes its source record again
//! ([`restore`]). No DataFusion here, so that every tool can depend on it cheaply.

pub mod check_state;
pub mod commit;
pub mod ddl;
pub mod eventtime;
pub mod json_scan;
pub mod json_text;
pub mod layout;
pub mod ledger;
pub mod lock;
pub mod meta_file;
pub mod partition;
pub mod remote;
pub mod restore;
pub mod run_log;
pub mod s3;
pub mod schema;
pub mod time_arg;

pub use layout::Lake;
pub use partition::PartitionKey;
