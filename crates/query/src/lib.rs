//! SQL over a trawl lake: the DataFusion session with the `cloudtrail` table, result printing,
//! and export of records back to their source JSON.

pub mod error;
pub mod export;
pub mod print;
pub mod session;

pub use error::QueryError;
pub use session::{TABLE_ALIASES, open_session};
