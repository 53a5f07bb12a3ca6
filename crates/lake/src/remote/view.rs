//! What readers of a lake in S3 list: the bucket, less the files a compaction under way is
//! swapping (see [`super::publish::CompactionState`]), so that a query never counts a
//! partition's rows twice or reads half of a swap, and less any zero-byte object (such as the "folder"
//! markers `region=x/` some tools create): no file of the table is empty.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path as Key;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

/// The files a [`ReaderView`] hides, set before each scan of the table.
pub type Hidden = Arc<RwLock<HashSet<Key>>>;

/// `inner` with the objects of `hidden`, and empty objects, left out of every listing.
#[derive(Debug)]
pub struct ReaderView {
    inner: Arc<dyn ObjectStore>,
    hidden: Hidden,
}

impl ReaderView {
    /// A view of `inner` without what `hidden` holds when listing.
    pub fn new(inner: Arc<dyn ObjectStore>, hidden: Hidden) -> Self {
        Self { inner, hidden }
    }
}

fn shown(hidden: &Hidden, m: &ObjectMeta) -> bool {
    m.size > 0
        && !hidden
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&m.location)
}

impl std::fmt::Display for ReaderView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (as readers see it)", self.inner)
    }
}

#[async_trait]
impl ObjectStore for ReaderView {
    async fn put_opts(
        &self,
        location: &Key,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Key,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Key, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Key, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Key>>,
    ) -> BoxStream<'static, Result<Key>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Key>) -> BoxStream<'static, Result<ObjectMeta>> {
        let hidden = Arc::clone(&self.hidden);
        self.inner
            .list(prefix)
            .filter(move |m| std::future::ready(m.as_ref().map_or(true, |m| shown(&hidden, m))))
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Key>) -> Result<ListResult> {
        let mut result = self.inner.list_with_delimiter(prefix).await?;
        result.objects.retain(|m| shown(&self.hidden, m));
        Ok(result)
    }

    async fn copy_opts(&self, from: &Key, to: &Key, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Key, to: &Key, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
