//! End-to-end tests of the `trawl` binary, linked once.

mod bad_input;
mod common;
mod engines;
mod generated;
mod inputs;
mod round_trip;
mod sql;
