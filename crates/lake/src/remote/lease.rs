//! One writer at a time on a lake in S3: the lease object `_trawl/lock`.
//!
//! A writer creates it with `If-None-Match: *`, so of two writers starting together exactly one
//! succeeds, and renews it with `If-Match` on its last ETag every [`RENEW_EVERY`] while it
//! works. A lease is stale when its expiry has passed (its holder stopped renewing) or when its
//! holder ran on this machine and is no longer running (killed); a stale lease is taken over
//! with `If-Match`, so again only one of several waiting writers wins. A writer whose lease was
//! taken from it finds out before its commit point and does not commit.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use object_store::path::Path as Key;
use object_store::{PutMode, UpdateVersion};
use serde::{Deserialize, Serialize};

use super::{RemoteError, RemoteLake};
use crate::lock::Wait;

/// How long a lease lasts without renewal.
pub const TTL: Duration = Duration::from_secs(120);
/// How often a held lease is renewed.
pub const RENEW_EVERY: Duration = Duration::from_secs(30);
/// Taken off the holder's own idea of its expiry, for the time its requests take.
const MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(15);
/// How often a waiting writer looks again.
const POLL: Duration = Duration::from_secs(2);

/// The content of `_trawl/lock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LeaseBody {
    /// Who holds it, for the next writer's message.
    holder: String,
    /// The holder's machine.
    host: String,
    /// The holder's process id on that machine.
    pid: u32,
    /// The boot and process namespace the pid belongs to: containers or cloned machines may
    /// share a host name, but not both of these.
    #[serde(default)]
    machine: String,
    /// When it lapses unless renewed, RFC 3339.
    expires: String,
}

impl LeaseBody {
    /// A lease held by `holder` until `TTL` after `from`.
    fn new(holder: &str, from: DateTime<Utc>) -> Self {
        Self {
            holder: holder.to_string(),
            host: host_name(),
            pid: std::process::id(),
            machine: machine_id(),
            expires: (from + TTL).to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }

    /// The same lease, lapsed: what a writer leaves when it is done.
    fn released(&self) -> Self {
        Self {
            expires: "1970-01-01T00:00:00Z".into(),
            ..self.clone()
        }
    }

    /// Why the lease may be taken over, and whether its holder may still be at work (it
    /// lapsed rather than being seen to end); `None` while the holder may still be working.
    fn stale(&self) -> Option<(String, bool)> {
        let here = machine_id();
        if !here.is_empty() && self.machine == here && !process_running(self.pid) {
            return Some((
                format!("process {} on this machine is gone", self.pid),
                false,
            ));
        }
        let expired = DateTime::parse_from_rfc3339(&self.expires).map_or(true, |t| t < Utc::now());
        expired.then(|| (format!("lapsed at {}", self.expires), true))
    }
}

struct Held {
    etag: Option<String>,
    /// Set when renewal found the lease taken over, or could not renew before it lapsed.
    lost: Option<String>,
    expires: DateTime<Utc>,
}

/// The writer lease on a lake in S3; released when dropped.
pub struct Lease {
    lake: RemoteLake,
    key: Key,
    holder: String,
    held: Arc<Mutex<Held>>,
    renewer: Option<(Sender<()>, JoinHandle<()>)>,
    handle: tokio::runtime::Handle,
    /// The stale lease taken over, if one was: who held it and why it was stale.
    pub took_over: Option<String>,
    /// Whether that holder may still be at work (its lease lapsed; it was not seen to end).
    pub holder_may_run: bool,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("key", &self.key).finish()
    }
}

impl Lease {
    /// Takes the writer lease of `lake` for `command`. With [`Wait::Yes`] it waits for the
    /// holder (telling `on_wait` once who that is); otherwise a held lease is an error that
    /// names the holder. Call from inside a Tokio runtime: renewal runs on it.
    pub async fn acquire(
        lake: &RemoteLake,
        command: &str,
        wait: Wait,
        on_wait: impl FnOnce(&str),
    ) -> Result<Lease, RemoteError> {
        let key = lake.meta_key("lock");
        let holder = format!(
            "pid {} on {} running `{command}` since {}",
            std::process::id(),
            host_name(),
            Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
        );
        let mut on_wait = Some(on_wait);
        loop {
            let sent = Utc::now();
            let body = LeaseBody::new(&holder, sent);
            match put_checked(lake, &key, &body, PutMode::Create).await {
                Ok(etag) => return Ok(Lease::start(lake, key, holder, etag, sent)),
                Err(RemoteError::Exists(_)) => {}
                Err(e) => return Err(e),
            }
            let Some((current, etag)) = lake.get_json_versioned::<LeaseBody>(&key).await? else {
                continue; // Released just now.
            };
            if let Some((why, may_run)) = current.stale() {
                let mode = PutMode::Update(UpdateVersion {
                    e_tag: etag,
                    version: None,
                });
                let sent = Utc::now();
                let body = LeaseBody::new(&holder, sent);
                match put_checked(lake, &key, &body, mode).await {
                    Ok(etag) => {
                        let mut lease = Lease::start(lake, key, holder, etag, sent);
                        lease.took_over = (!current.holder.is_empty()
                            && current.expires != body.released().expires)
                            .then(|| format!("{} ({why})", current.holder));
                        lease.holder_may_run = may_run && lease.took_over.is_some();
                        return Ok(lease);
                    }
                    Err(RemoteError::Exists(_)) => continue, // Another writer took it first.
                    Err(e) => return Err(e),
                }
            }
            if wait == Wait::No {
                return Err(RemoteError::Lease(format!(
                    "another trawl is writing to {} ({}); wait for it to finish, or run with \
                     --wait to queue behind it",
                    lake.url(),
                    current.holder
                )));
            }
            if let Some(f) = on_wait.take() {
                f(&current.holder);
            }
            std::thread::sleep(POLL);
        }
    }

    fn start(
        lake: &RemoteLake,
        key: Key,
        holder: String,
        etag: Option<String>,
        sent: DateTime<Utc>,
    ) -> Lease {
        let held = Arc::new(Mutex::new(Held {
            etag,
            lost: None,
            expires: sent + TTL - MARGIN,
        }));
        let handle = tokio::runtime::Handle::current();
        let (stop, stopped) = channel::<()>();
        let thread = {
            let (lake, key, holder, held, handle) = (
                lake.clone(),
                key.clone(),
                holder.clone(),
                Arc::clone(&held),
                handle.clone(),
            );
            std::thread::spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(RENEW_EVERY)
                {
                    handle.block_on(renew(&lake, &key, &holder, &held));
                }
            })
        };
        Lease {
            lake: lake.clone(),
            key,
            holder,
            held,
            renewer: Some((stop, thread)),
            handle,
            took_over: None,
            holder_may_run: false,
        }
    }

    /// Fails when the lease was lost: call just before a commit point, so a writer whose lease
    /// another took over does not commit.
    pub fn check(&self) -> Result<(), RemoteError> {
        let held = self.held.lock().expect("lease state");
        if let Some(why) = &held.lost {
            return Err(RemoteError::Lease(format!(
                "{}: this writer's lease was lost ({why}); nothing was committed, run again",
                self.lake.show(&self.key)
            )));
        }
        if held.expires <= Utc::now() {
            return Err(RemoteError::Lease(format!(
                "{}: this writer's lease lapsed (it could not be renewed); nothing was \
                 committed, run again",
                self.lake.show(&self.key)
            )));
        }
        Ok(())
    }
}

async fn renew(lake: &RemoteLake, key: &Key, holder: &str, held: &Mutex<Held>) {
    let etag = {
        let h = held.lock().expect("lease state");
        if h.lost.is_some() {
            return;
        }
        h.etag.clone()
    };
    let sent = Utc::now();
    let body = LeaseBody::new(holder, sent);
    let mode = PutMode::Update(UpdateVersion {
        e_tag: etag,
        version: None,
    });
    let result = put_checked(lake, key, &body, mode).await;
    let mut h = held.lock().expect("lease state");
    match result {
        Ok(etag) => {
            h.etag = etag;
            h.expires = sent + TTL - MARGIN;
        }
        Err(RemoteError::Exists(_)) => h.lost = Some("another writer took it over".into()),
        // A failed renewal is retried at the next turn; `check` catches a lapse.
        Err(_) => {}
    }
}

/// A conditional PUT of `body`. A conflict is checked by reading the lease back: a request
/// that succeeded but whose answer was lost is retried by the client and then conflicts with
/// itself, which must count as success.
async fn put_checked(
    lake: &RemoteLake,
    key: &Key,
    body: &LeaseBody,
    mode: PutMode,
) -> Result<Option<String>, RemoteError> {
    match lake.put_json(key, body, mode).await {
        Err(RemoteError::Exists(what)) => match lake.get_json_versioned::<LeaseBody>(key).await? {
            Some((current, etag)) if &current == body => Ok(etag),
            _ => Err(RemoteError::Exists(what)),
        },
        other => other,
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.renewer.take() {
            let _ = stop.send(());
            let _ = thread.join();
        }
        let (lake, key, etag) = {
            let h = self.held.lock().expect("lease state");
            if h.lost.is_some() {
                return; // Not ours any more.
            }
            (self.lake.clone(), self.key.clone(), h.etag.clone())
        };
        let body = LeaseBody::new(&self.holder, Utc::now()).released();
        let handle = self.handle.clone();
        // Released by writing it lapsed, only if it is still this writer's (If-Match): a
        // delete cannot be made conditional, and might remove a lease another writer just
        // took. A thread of its own, so that dropping inside the runtime does not block it.
        let _ = std::thread::spawn(move || {
            handle.block_on(async {
                let mode = PutMode::Update(UpdateVersion {
                    e_tag: etag,
                    version: None,
                });
                let _ = lake.put_json(&key, &body, mode).await;
            })
        })
        .join();
    }
}

/// This boot and process namespace, or empty when they cannot be told (then a lease is
/// stale only once it lapses).
fn machine_id() -> String {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id");
    let pids = std::fs::read_link("/proc/self/ns/pid");
    match (boot, pids) {
        (Ok(boot), Ok(pids)) => format!("{} {}", boot.trim(), pids.display()),
        _ => String::new(),
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Whether process `pid` runs on this machine; `true` when that cannot be told.
fn process_running(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_stale_when_lapsed_or_its_local_holder_is_gone() {
        let mut body = LeaseBody::new("x", Utc::now());
        assert_eq!(body.stale(), None, "fresh, and this process runs");
        body.pid = u32::MAX;
        if !machine_id().is_empty() {
            let (why, may_run) = body.stale().unwrap();
            assert!(why.contains("is gone") && !may_run, "{why}");
        }
        body.pid = std::process::id();
        body.expires = "2020-01-01T00:00:00Z".into();
        let (why, may_run) = body.stale().unwrap();
        assert!(why.contains("lapsed") && may_run, "{why}");
        let mut elsewhere = LeaseBody::new("x", Utc::now());
        elsewhere.machine = "another boot or pid namespace".into();
        elsewhere.pid = u32::MAX;
        assert_eq!(
            elsewhere.stale(),
            None,
            "a holder elsewhere is trusted until expiry"
        );
        assert!(
            elsewhere.released().stale().is_some(),
            "a released lease is free"
        );
    }
}
