//! The lake a writing command works on, on local disk or in S3, behind one set of calls, so
//! that `trawl ingest`, `compact` and `status` do not care where the lake lives.

use trawl_lake::Lake;
use trawl_lake::commit::Recovered;
use trawl_lake::ledger::Ledger;
use trawl_lake::lock::Wait;
use trawl_lake::remote::RemoteLake;
use trawl_lake::run_log::{self, RunRecord};
use trawl_lake::s3::S3Settings;

use crate::compact::{CompactOptions, CompactSummary};
use crate::error::IngestError;
use crate::progress::Progress;
use crate::run::{IngestOptions, Summary};
use crate::s3_lake::{self, RemoteWriteAccess};
use crate::source::Listing;
use crate::status::LakeStatus;
use crate::writing::{self, WriteAccess};

/// A lake to write or inspect.
pub enum Target {
    /// A lake folder on this machine.
    Local(Lake),
    /// A lake in S3, with the runtime its requests run on.
    S3 {
        lake: RemoteLake,
        rt: tokio::runtime::Runtime,
    },
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.show())
    }
}

/// The right to write: the lock of a local lake or the lease of one in S3. Drop it before
/// its [`Target`].
#[derive(Debug)]
pub enum Access {
    /// A local lake's lock.
    Local(WriteAccess),
    /// A lake in S3's lease.
    S3(RemoteWriteAccess),
}

impl Access {
    /// What recovery of an interrupted writer did.
    pub fn recovered(&self) -> &Recovered {
        match self {
            Access::Local(a) => &a.recovered,
            Access::S3(a) => &a.recovered,
        }
    }

    /// A stale lease of a writer that died, taken over: who held it and why it was stale.
    pub fn took_over(&self) -> Option<&str> {
        match self {
            Access::Local(_) => None,
            Access::S3(a) => a.lease.took_over.as_deref(),
        }
    }
}

impl Target {
    /// The lake at `lake`'s location; an `s3://` one is reached with `s3`.
    pub fn open(lake: Lake, s3: &S3Settings) -> Result<Target, IngestError> {
        let Some(url) = lake.s3_url() else {
            return Ok(Target::Local(lake));
        };
        let store = trawl_lake::s3::store(&url.bucket, s3)
            .map_err(|e| IngestError::Remote(e.to_string()))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| IngestError::Remote(format!("starting the S3 client: {e}")))?;
        Ok(Target::S3 {
            lake: RemoteLake::new(url, store),
            rt,
        })
    }

    /// Where the lake is, for messages.
    pub fn show(&self) -> String {
        match self {
            Target::Local(l) => l.root().display().to_string(),
            Target::S3 { lake, .. } => lake.url(),
        }
    }

    /// Takes the right to write (waiting for it with [`Wait::Yes`], telling `on_wait` who
    /// holds it) and finishes or removes what an interrupted writer left.
    pub fn open_for_writing(
        &self,
        command: &str,
        wait: Wait,
        on_wait: impl FnOnce(&str),
    ) -> Result<Access, IngestError> {
        match self {
            Target::Local(l) => {
                writing::open_for_writing(l, command, wait, on_wait).map(Access::Local)
            }
            Target::S3 { lake, rt } => {
                s3_lake::open_for_writing(rt.handle(), lake, command, wait, on_wait).map(Access::S3)
            }
        }
    }

    /// Every source the lake holds.
    pub fn ledger(&self) -> Result<Ledger, IngestError> {
        match self {
            Target::Local(l) => Ok(Ledger::load(l)?),
            Target::S3 { lake, rt } => s3_lake::load_ledger(rt.handle(), lake),
        }
    }

    /// Ingests `listing` (see [`crate::run`]).
    pub fn ingest(
        &self,
        access: &Access,
        listing: Listing,
        options: &IngestOptions,
        progress: &Progress,
    ) -> Result<Summary, IngestError> {
        match (self, access) {
            (Target::Local(l), Access::Local(_)) => {
                crate::run::ingest(l, listing, options, progress)
            }
            (Target::S3 { lake, rt }, Access::S3(a)) => {
                s3_lake::ingest(rt.handle(), lake, a, listing, options, progress)
            }
            _ => unreachable!("access comes from its own target"),
        }
    }

    /// Compacts the lake (see [`crate::compact`]).
    pub fn compact(
        &self,
        access: &Access,
        options: CompactOptions,
    ) -> Result<CompactSummary, IngestError> {
        match (self, access) {
            (Target::Local(l), Access::Local(_)) => crate::compact::compact(l, options),
            (Target::S3 { lake, rt }, Access::S3(a)) => {
                s3_lake::compact(rt.handle(), lake, a, options)
            }
            _ => unreachable!("access comes from its own target"),
        }
    }

    /// What the lake holds (see [`crate::status`]).
    pub fn status(&self, runs: usize) -> Result<LakeStatus, IngestError> {
        match self {
            Target::Local(l) => crate::status::status(l, runs),
            Target::S3 { lake, rt } => s3_lake::status(rt.handle(), lake, runs),
        }
    }

    /// Adds `record` to the run log.
    pub fn log_run(&self, record: &RunRecord) -> Result<(), IngestError> {
        match self {
            Target::Local(l) => Ok(run_log::append(l, record)?),
            Target::S3 { lake, rt } => s3_lake::log_run(rt.handle(), lake, record),
        }
    }

    /// The local lake, for steps that only work on one (`--rebuild-ledger`).
    pub fn local(&self, what: &str) -> Result<&Lake, IngestError> {
        match self {
            Target::Local(l) => Ok(l),
            Target::S3 { lake, .. } => Err(s3_lake::refuse_local_only(lake, what)),
        }
    }
}
