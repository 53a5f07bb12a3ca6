//! `trawl ingest`: raw CloudTrail files into a lossless, region/date-partitioned Parquet lake.
//!
//! The pipeline: [`source`] lists the inputs, [`read`] opens each (inflating small gzip files
//! whole, larger or broken ones as a stream through [`gunzip`]), [`split`] cuts the text into
//! records, [`decode`] turns records into Arrow columns (keeping what does not fit in
//! `unmapped`), [`writer`] sorts and writes Parquet per partition, and [`run`] ties it together
//! on all cores and publishes the result atomically.

mod columns;
pub mod compact;
pub mod decode;
pub mod dedup;
pub mod error;
pub mod feed;
pub mod gunzip;
pub mod progress;
pub mod quarantine;
pub mod read;
pub mod rebuild;
pub mod remote;
pub mod run;
pub mod s3_lake;
mod sort;
pub mod source;
pub mod split;
pub mod status;
mod tape;
pub mod target;
mod thread_pool;
mod whole_gunzip;
pub mod writer;
pub mod writing;

pub use compact::{CompactOptions, CompactSummary, compact};
pub use error::IngestError;
pub use progress::Progress;
pub use run::{FileProblem, IngestOptions, Summary, ingest};
pub use source::{DeliveryWindow, Listing, list};
pub use target::{Access, Target};
pub use writing::{WriteAccess, open_for_writing};
