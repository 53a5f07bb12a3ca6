//! End-to-end tests of the `trawl` binary, linked once.

mod bad_input;
mod common;
mod dialect;
mod engines;
mod generated;
mod inputs;
mod nightly;
mod other_engines;
mod prompt;
mod round_trip;
mod s3;
mod saved_queries;
mod sql;
mod sql_snapshots;
