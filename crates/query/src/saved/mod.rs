//! Saved queries: files of SQL with a metadata header, run by name with typed parameters
//! (`trawl query`), and all detections together as a pass/fail check (`trawl check`).

pub mod catalog;
pub mod check;
pub mod header;
pub mod notify;
pub mod param;
pub mod prepare;

pub use catalog::{Catalog, LoadError, Origin, SavedQuery};
pub use check::{CheckReport, DetectionRun, Finding, run_check};
pub use header::{Header, Severity};
pub use prepare::{ParamError, PrepareError, Window, parse_assignments, prepare};
