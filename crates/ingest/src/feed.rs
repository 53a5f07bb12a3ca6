//! Hands the decoding threads their next input: a local file to open, or an object already
//! fetched. Objects are fetched `concurrency` at a time on a thread of their own and handed
//! over in listing order; the bounded channel keeps at most a few of them in memory.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use futures::StreamExt;

use crate::remote;
use crate::source::{Listing, SourceFile};

/// An object's bytes, or why it could not be fetched (after retries).
pub type Fetched = Result<bytes::Bytes, String>;

/// An input's index in the listing, with its bytes when it is an object.
pub type Handed = (usize, Option<Fetched>);

/// The next input of a worker.
pub enum Feed<'a> {
    /// Only local files: each worker takes the next index.
    Local {
        files: &'a [SourceFile],
        next: AtomicUsize,
    },
    /// Objects among the inputs: the fetch thread hands out every input in order.
    Fetching {
        files: &'a [SourceFile],
        rx: Mutex<Receiver<Handed>>,
        /// Set when no worker will take more inputs: the fetch thread stops fetching.
        stop: AtomicBool,
    },
}

impl<'a> Feed<'a> {
    /// A feed over `listing`, and for objects the sender the fetch thread fills (run it with
    /// [`fetch_all`]).
    pub fn new(listing: &'a Listing, concurrency: usize) -> (Feed<'a>, Option<SyncSender<Handed>>) {
        if listing.files.iter().all(|f| f.object.is_none()) {
            return (
                Feed::Local {
                    files: &listing.files,
                    next: AtomicUsize::new(0),
                },
                None,
            );
        }
        let (tx, rx) = sync_channel(concurrency.max(1));
        (
            Feed::Fetching {
                files: &listing.files,
                rx: Mutex::new(rx),
                stop: AtomicBool::new(false),
            },
            Some(tx),
        )
    }

    /// The next input, with its bytes when it is an object; `None` when all are taken.
    pub fn next(&self) -> Option<(&'a SourceFile, Option<Fetched>)> {
        match self {
            Feed::Local { files, next } => files
                .get(next.fetch_add(1, Ordering::Relaxed))
                .map(|f| (f, None)),
            Feed::Fetching { files, rx, .. } => {
                let (i, fetched) = rx.lock().unwrap_or_else(|e| e.into_inner()).recv().ok()?;
                Some((&files[i], fetched))
            }
        }
    }

    /// Whether the fetch thread should stop fetching.
    fn stopped(&self) -> bool {
        matches!(self, Feed::Fetching { stop, .. } if stop.load(Ordering::Relaxed))
    }

    /// Ends the feed once no worker takes inputs any more (they finished, or died): the fetch
    /// thread stops fetching, and what it still sends is taken and dropped, so it cannot
    /// block on a full channel.
    pub fn close(&self) {
        if let Feed::Fetching { rx, stop, .. } = self {
            stop.store(true, Ordering::Relaxed);
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            while rx.recv().is_ok() {}
        }
    }
}

/// Fetches every object of `listing`, `concurrency` at a time, sending each input in order.
/// Returns when all are sent, the receiving side is gone, or `feed` is closed.
pub fn fetch_all(listing: &Listing, feed: &Feed<'_>, concurrency: usize, tx: SyncSender<Handed>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            for i in 0..listing.files.len() {
                let _ = tx.send((i, Some(Err(format!("cannot start fetching: {e}")))));
            }
            return;
        }
    };
    runtime.block_on(async {
        let mut fetched = futures::stream::iter(listing.files.iter().enumerate())
            .map(|(i, file)| async move {
                match &file.object {
                    _ if feed.stopped() => (i, None),
                    Some((store, key)) => (
                        i,
                        Some(remote::fetch(&listing.stores[*store], file, key).await),
                    ),
                    None => (i, None),
                }
            })
            .buffered(concurrency.max(1));
        while let Some(item) = fetched.next().await {
            if tx.send(item).is_err() {
                return;
            }
        }
    });
}
