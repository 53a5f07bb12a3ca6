//! Sources in S3: CloudTrail's bucket layout listed folder by folder, so `--since` skips whole
//! date folders without listing them, and objects fetched many at a time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use trawl_lake::s3::{S3Url, explain};

use crate::error::IngestError;
use crate::source::{DeliveryWindow, Listing, SourceFile, is_digest, is_hidden, looks_like_json};

/// Lists the objects below `url` in `store` into `listing`, `concurrency` listings at a time.
pub async fn list(
    url: &S3Url,
    store: Arc<dyn ObjectStore>,
    window: DeliveryWindow,
    concurrency: usize,
    listing: &mut Listing,
) -> Result<(), IngestError> {
    let index = listing.stores.len();
    listing.stores.push(Arc::clone(&store));
    let requests = AtomicU64::new(0);
    let remote = |what: &str, e: &object_store::Error| IngestError::Remote(explain(e, what));
    // A key that names one object is read as it is.
    if !url.prefix.is_empty() && !url.prefix.ends_with('/') {
        requests.fetch_add(1, Ordering::Relaxed);
        match store.head(&ObjectPath::from(url.prefix.as_str())).await {
            Ok(meta) => {
                add_object(url, index, meta, true, listing);
                listing.listings += requests.into_inner();
                return Ok(());
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(remote(&url.to_string(), &e)),
        }
    }
    let mut frontier: Vec<Option<ObjectPath>> = vec![match url.prefix.trim_end_matches('/') {
        "" => None,
        p => Some(ObjectPath::from(p)),
    }];
    let mut root = true;
    while !frontier.is_empty() {
        let results: Vec<_> = futures::stream::iter(frontier.drain(..))
            .map(|dir| {
                let store = Arc::clone(&store);
                let requests = &requests;
                async move {
                    requests.fetch_add(1, Ordering::Relaxed);
                    let shown = format!(
                        "s3://{}/{}",
                        url.bucket,
                        dir.as_ref().map(|d| format!("{d}/")).unwrap_or_default()
                    );
                    store
                        .list_with_delimiter(dir.as_ref())
                        .await
                        .map_err(|e| remote(&shown, &e))
                }
            })
            .buffer_unordered(concurrency.max(1))
            .try_collect()
            .await?;
        for result in results {
            if root && result.common_prefixes.is_empty() && result.objects.is_empty() {
                return Err(IngestError::MissingSource(url.to_string()));
            }
            for dir in result.common_prefixes {
                let name = dir.filename().unwrap_or_default();
                let as_path = Path::new(dir.as_ref());
                if is_hidden(name.as_ref()) || is_digest(as_path) || !window.keeps(as_path) {
                    continue;
                }
                frontier.push(Some(dir));
            }
            for meta in result.objects {
                add_object(url, index, meta, false, listing);
            }
        }
        root = false;
    }
    listing.listings += requests.into_inner();
    Ok(())
}

fn add_object(url: &S3Url, store: usize, meta: ObjectMeta, named: bool, listing: &mut Listing) {
    let path = PathBuf::from(format!("s3://{}/{}", url.bucket, meta.location));
    if is_digest(&path) {
        listing.digests_skipped += 1;
    } else if named || looks_like_json(&path) {
        let name = meta.location.filename().unwrap_or_default();
        if !named && (name.starts_with('.') || name.starts_with('_')) {
            return;
        }
        listing.files.push(SourceFile {
            path,
            size: meta.size,
            version: meta.e_tag.unwrap_or_else(|| {
                meta.last_modified
                    .timestamp_nanos_opt()
                    .unwrap_or_default()
                    .to_string()
            }),
            object: Some((store, meta.location.to_string())),
        });
    } else {
        listing.others_skipped += 1;
    }
}

/// Fetches one object whole.
pub async fn fetch(
    store: &Arc<dyn ObjectStore>,
    file: &SourceFile,
    key: &str,
) -> Result<bytes::Bytes, String> {
    let location = ObjectPath::from(key);
    let got = store
        .get(&location)
        .await
        .map_err(|e| explain(&e, &file.path.display().to_string()))?;
    got.bytes()
        .await
        .map_err(|e| explain(&e, &file.path.display().to_string()))
}
