//! Content-addressed artifacts over any `object_store` backend: `<prefix>/<blake3 hex>`.
//!
//! An upload streams into a multipart upload at its final key while its blake3 and length are
//! computed; the upload is completed only when both match the claim, and aborted otherwise, so
//! a bad body never becomes visible and leaves nothing behind. Memory per upload is bounded by
//! the part size times the parts in flight.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use std::sync::Arc;
use thiserror::Error;

/// Bytes per multipart part.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploaded concurrently per upload.
pub const PARTS_IN_FLIGHT: usize = 4;

/// Artifact storage.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The artifact was written.
    Stored,
    /// It was already there; nothing was written.
    AlreadyPresent,
}

/// Why an upload was not stored.
#[derive(Debug, Error)]
pub enum PutError {
    /// The body is longer or shorter than claimed.
    #[error("body is {got} bytes, the signed length is {expected}")]
    LengthMismatch {
        /// Signed length.
        expected: u64,
        /// Bytes received (counting stops one past the claim).
        got: u64,
    },
    /// The body's blake3 differs from the key.
    #[error("body blake3 is {got}, the path says {expected}")]
    DigestMismatch {
        /// From the path.
        expected: String,
        /// Of the body.
        got: String,
    },
    /// Reading the request body failed.
    #[error("reading the body: {0}")]
    Body(String),
    /// The object store failed.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
}

/// Metadata of a stored artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactMeta {
    /// Its blake3.
    pub digest: [u8; 32],
    /// Its length.
    pub size: u64,
    /// When it was written.
    pub last_modified: std::time::SystemTime,
}

impl ArtifactStore {
    /// Artifacts under `prefix` of `store`.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Self {
        ArtifactStore {
            store,
            prefix: Path::from(prefix),
        }
    }

    /// The object key of `digest`.
    pub fn path(&self, digest: &[u8; 32]) -> Path {
        self.prefix.clone().join(hex::encode(digest))
    }

    /// Size and time of `digest`, if stored.
    pub async fn head(
        &self,
        digest: &[u8; 32],
    ) -> Result<Option<ArtifactMeta>, object_store::Error> {
        match self.store.head(&self.path(digest)).await {
            Ok(meta) => Ok(Some(ArtifactMeta {
                digest: *digest,
                size: meta.size,
                last_modified: meta.last_modified.into(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Streams `body` into the store if its blake3 is `digest` and its length `length`.
    pub async fn put_stream<S, E>(
        &self,
        digest: &[u8; 32],
        length: u64,
        body: S,
    ) -> Result<PutOutcome, PutError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        if self.head(digest).await?.is_some() {
            return Ok(PutOutcome::AlreadyPresent);
        }
        let upload = self.store.put_multipart(&self.path(digest)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let result = stream_into(&mut writer, digest, length, body).await;
        match result {
            Ok(()) => {
                writer.finish().await?;
                Ok(PutOutcome::Stored)
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, "aborting a rejected upload failed");
                }
                Err(e)
            }
        }
    }

    /// The bytes of `digest` in `range` (all when `None`), as a stream, with the object's size.
    pub async fn get(
        &self,
        digest: &[u8; 32],
        range: Option<std::ops::Range<u64>>,
    ) -> Result<
        Option<(
            u64,
            impl Stream<Item = Result<Bytes, object_store::Error>> + use<>,
        )>,
        object_store::Error,
    > {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        match self.store.get_opts(&self.path(digest), options).await {
            Ok(result) => Ok(Some((result.meta.size, result.into_stream()))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every stored artifact (keys that are not 64 hex digits are ignored).
    pub async fn list(&self) -> Result<Vec<ArtifactMeta>, object_store::Error> {
        let mut out = Vec::new();
        let mut listing = self.store.list(Some(&self.prefix));
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let Some(name) = meta.location.filename() else {
                continue;
            };
            let mut digest = [0u8; 32];
            if name.len() == 64 && hex::decode_to_slice(name, &mut digest).is_ok() {
                out.push(ArtifactMeta {
                    digest,
                    size: meta.size,
                    last_modified: meta.last_modified.into(),
                });
            }
        }
        Ok(out)
    }

    /// Deletes `digest`.
    pub async fn delete(&self, digest: &[u8; 32]) -> Result<(), object_store::Error> {
        self.store.delete(&self.path(digest)).await
    }
}

async fn stream_into<S, E>(
    writer: &mut WriteMultipart,
    digest: &[u8; 32],
    length: u64,
    body: S,
) -> Result<(), PutError>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let mut hasher = blake3::Hasher::new();
    let mut received = 0u64;
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| PutError::Body(e.to_string()))?;
        received += chunk.len() as u64;
        if received > length {
            return Err(PutError::LengthMismatch {
                expected: length,
                got: received,
            });
        }
        hasher.update(&chunk);
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        writer.put(chunk);
    }
    if received != length {
        return Err(PutError::LengthMismatch {
            expected: length,
            got: received,
        });
    }
    let got = hasher.finalize();
    if got.as_bytes() != digest {
        return Err(PutError::DigestMismatch {
            expected: hex::encode(digest),
            got: got.to_hex().to_string(),
        });
    }
    Ok(())
}
