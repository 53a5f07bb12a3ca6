//! A lake kept in S3 (or any object store): the layout of [`crate::layout`], with object
//! operations where a local lake uses the file system.
//!
//! An object appears whole when its PUT or COPY completes, so a reader listing the table sees
//! whole files only. What a local lake does with `flock`, `rename` and `fsync`, a lake in S3
//! does with conditional writes: the writer's lease ([`lease`]) and every ledger record are
//! created with `If-None-Match: *`, so of two writers only one can win either, and
//! [`publish`] orders the writes so that a writer killed at any moment leaves work the next
//! one finishes or removes.

pub mod lease;
pub mod publish;
pub mod view;

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as Key;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::layout::{META_DIR, TABLE_DIR};
use crate::s3::{S3Url, explain};

/// Requests made at once for many small objects.
const PARALLEL_REQUESTS: usize = 16;

/// A failure reaching or reading a lake in S3; the message names the object.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// A request failed; the text says what to do.
    #[error("{0}")]
    Request(String),
    /// A bookkeeping object is not what trawl wrote.
    #[error("{url} is damaged ({reason})")]
    Damaged { url: String, reason: String },
    /// A conditional create found the object already there.
    #[error("{0} already exists")]
    Exists(String),
    /// The writer's lease was lost or is held by another writer.
    #[error("{0}")]
    Lease(String),
}

/// A lake at `s3://bucket/prefix/`.
#[derive(Debug, Clone)]
pub struct RemoteLake {
    url: S3Url,
    store: Arc<dyn ObjectStore>,
}

impl RemoteLake {
    /// The lake at `url`, reached through `store` (a store for `url`'s bucket).
    pub fn new(url: S3Url, store: Arc<dyn ObjectStore>) -> Self {
        let prefix = url.prefix.trim_end_matches('/').to_string();
        Self {
            url: S3Url { prefix, ..url },
            store,
        }
    }

    /// The object store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// `s3://bucket/prefix/`.
    pub fn url(&self) -> String {
        match self.url.prefix.as_str() {
            "" => format!("s3://{}/", self.url.bucket),
            prefix => format!("s3://{}/{prefix}/", self.url.bucket),
        }
    }

    /// The key of `rel` (a `/`-separated path inside the lake).
    pub fn key(&self, rel: &str) -> Key {
        if self.url.prefix.is_empty() {
            Key::from(rel)
        } else {
            Key::from(format!("{}/{rel}", self.url.prefix))
        }
    }

    /// The key of a table file, `rel` relative to the table folder.
    pub fn table_key(&self, rel: &str) -> Key {
        self.key(&format!("{TABLE_DIR}/{rel}"))
    }

    /// The key of a bookkeeping object under `_trawl/`.
    pub fn meta_key(&self, rel: &str) -> Key {
        self.key(&format!("{META_DIR}/{rel}"))
    }

    /// The `s3://` URL of `key`, for messages.
    pub fn show(&self, key: &Key) -> String {
        format!("s3://{}/{key}", self.url.bucket)
    }

    /// `key` relative to `base` (a folder key), or `None` when it is not under it.
    pub fn relative<'a>(key: &'a Key, base: &Key) -> Option<&'a str> {
        key.as_ref()
            .strip_prefix(base.as_ref())
            .and_then(|r| r.strip_prefix('/'))
    }

    /// A failed request on `key`, explained.
    pub(crate) fn failed(&self, key: &Key, e: &object_store::Error) -> RemoteError {
        RemoteError::Request(explain(e, &self.show(key)))
    }

    /// Reads `key` as JSON; `None` when it does not exist.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<T>, RemoteError> {
        Ok(self.get_json_versioned(key).await?.map(|(v, _)| v))
    }

    /// Reads `key` as JSON with its ETag; `None` when it does not exist.
    pub async fn get_json_versioned<T: DeserializeOwned>(
        &self,
        key: &Key,
    ) -> Result<Option<(T, Option<String>)>, RemoteError> {
        let got = match self.store.get(key).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.failed(key, &e)),
        };
        let etag = got.meta.e_tag.clone();
        let bytes = got.bytes().await.map_err(|e| self.failed(key, &e))?;
        serde_json::from_slice(&bytes)
            .map(|v| Some((v, etag)))
            .map_err(|e| RemoteError::Damaged {
                url: self.show(key),
                reason: e.to_string(),
            })
    }

    /// Writes `value` as JSON to `key` with `mode`; returns the new ETag. A create that finds
    /// the object there, or an update that finds it changed, is [`RemoteError::Exists`].
    pub async fn put_json<T: Serialize>(
        &self,
        key: &Key,
        value: &T,
        mode: PutMode,
    ) -> Result<Option<String>, RemoteError> {
        let mut bytes = serde_json::to_vec_pretty(value).expect("bookkeeping serializes");
        bytes.push(b'\n');
        let options = PutOptions {
            mode,
            ..Default::default()
        };
        match self
            .store
            .put_opts(key, PutPayload::from(bytes), options)
            .await
        {
            Ok(r) => Ok(r.e_tag),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Err(RemoteError::Exists(self.show(key))),
            Err(e) => Err(self.failed(key, &e)),
        }
    }

    /// Every object under the folder `rel` of the lake, by key.
    pub async fn list(&self, rel: &str) -> Result<Vec<ObjectMeta>, RemoteError> {
        let base = self.key(rel);
        let mut out: Vec<ObjectMeta> = self
            .store
            .list(Some(&base))
            .try_collect()
            .await
            .map_err(|e| self.failed(&base, &e))?;
        out.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(out)
    }

    /// The JSON records under the folder `rel` (`*.json` directly in it), by key.
    pub async fn records<T: DeserializeOwned>(
        &self,
        rel: &str,
    ) -> Result<Vec<(Key, T)>, RemoteError> {
        let base = self.key(rel);
        let keys: Vec<Key> = self
            .list(rel)
            .await?
            .into_iter()
            .map(|m| m.location)
            .filter(|k| {
                Self::relative(k, &base).is_some_and(|r| !r.contains('/') && r.ends_with(".json"))
            })
            .collect();
        futures::stream::iter(keys)
            .map(|key| async move {
                let value = self
                    .get_json(&key)
                    .await?
                    .ok_or_else(|| RemoteError::Damaged {
                        url: self.show(&key),
                        reason: "vanished while being read".into(),
                    })?;
                Ok((key, value))
            })
            .buffered(PARALLEL_REQUESTS)
            .try_collect()
            .await
    }

    /// Deletes `key`; one that is already gone is fine.
    pub async fn delete(&self, key: &Key) -> Result<(), RemoteError> {
        match self.store.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed(key, &e)),
        }
    }

    /// Deletes every object under the folder `rel`.
    pub async fn delete_folder(&self, rel: &str) -> Result<(), RemoteError> {
        let keys: Vec<Key> = self
            .list(rel)
            .await?
            .into_iter()
            .map(|m| m.location)
            .collect();
        self.delete_all(keys).await
    }

    /// Deletes `keys`, several at once.
    pub async fn delete_all(&self, keys: Vec<Key>) -> Result<(), RemoteError> {
        futures::stream::iter(keys)
            .map(|k| async move { self.delete(&k).await })
            .buffer_unordered(PARALLEL_REQUESTS)
            .try_collect()
            .await
    }

    /// Copies `from` to `to` inside the bucket (server side; `to` appears whole).
    pub async fn copy(&self, from: &Key, to: &Key) -> Result<(), RemoteError> {
        self.store
            .copy(from, to)
            .await
            .map_err(|e| self.failed(from, &e))
    }
}

/// For end-to-end tests: ends the process abruptly, as `kill -9` would, at the named step
/// when `TRAWL_CRASH_AT` names it, so the tests can show every step is recoverable.
pub(crate) fn crash_point(step: &str) {
    if std::env::var_os("TRAWL_CRASH_AT").is_some_and(|v| v == step) {
        std::process::abort();
    }
}

/// The lake's id of a JSON record: its key's file name without `.json`.
pub fn record_id(key: &Key) -> String {
    key.filename()
        .unwrap_or_default()
        .trim_end_matches(".json")
        .to_string()
}
