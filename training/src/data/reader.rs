//! Reading a dataset from any `object_store` backend, with a verified local cache.

use super::manifest::{MANIFEST_FILE, Manifest, ManifestError, hex};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// Shards kept decoded in memory at once (least recently loaded is dropped first).
const RESIDENT_SHARDS: usize = 8;

/// Why dataset rows could not be read.
#[derive(Debug, Error)]
pub enum DatasetError {
    /// The object store failed.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// The manifest is unusable.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A shard's bytes do not hash to the manifest's blake3.
    #[error("shard {path}: blake3 {got}, manifest says {expected}")]
    Integrity {
        /// The shard.
        path: String,
        /// The manifest's hash.
        expected: String,
        /// What the bytes hash to.
        got: String,
    },
    /// A shard has the wrong size (checked before its body is read).
    #[error("shard {path}: {got} bytes, manifest implies {expected}")]
    Size {
        /// The shard.
        path: String,
        /// The manifest's size.
        expected: u64,
        /// The object's size.
        got: u64,
    },
    /// A token is outside the manifest's vocabulary.
    #[error("shard {path} holds token {token}, outside the vocabulary of {vocab}")]
    Token {
        /// The shard.
        path: String,
        /// The token.
        token: u32,
        /// The manifest's vocabulary.
        vocab: u32,
    },
    /// A requested shard does not exist.
    #[error("shard {index} is outside the dataset's {shards} shards")]
    NoShard {
        /// The shard index.
        index: usize,
        /// Shards in the dataset.
        shards: usize,
    },
    /// A requested row does not exist.
    #[error("row {row} is outside the dataset's {rows} rows")]
    Row {
        /// The row.
        row: u64,
        /// Rows in the dataset.
        rows: u64,
    },
    /// The local cache could not be written.
    #[error("cache {path}: {source}")]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

#[derive(Debug, Default)]
struct Resident {
    shards: HashMap<usize, Arc<Vec<u32>>>,
    order: VecDeque<usize>,
}

/// A token-shard dataset in an object store (a local directory, S3, ...). Shards are fetched on
/// first use, checked against the manifest's blake3, size and vocabulary, optionally kept in a
/// local cache directory (named by hash, re-verified on every read), and held decoded in memory
/// for the most recent few.
#[derive(Debug)]
pub struct Dataset {
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
    manifest: Manifest,
    cache_dir: Option<PathBuf>,
    resident: Mutex<Resident>,
}

impl Dataset {
    /// Opens the dataset whose `manifest.json` sits under `prefix` in `store`.
    pub async fn open(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        cache_dir: Option<PathBuf>,
    ) -> Result<Self, DatasetError> {
        let prefix = StorePath::from(prefix);
        let got = store.get(&prefix.clone().join(MANIFEST_FILE)).await?;
        if got.meta.size > super::manifest::MAX_MANIFEST_BYTES as u64 {
            return Err(ManifestError::TooLarge(got.meta.size as usize).into());
        }
        let manifest = Manifest::parse(&got.bytes().await?)?;
        Ok(Self {
            store,
            prefix,
            manifest,
            cache_dir,
            resident: Mutex::default(),
        })
    }

    /// Opens a dataset in a local directory.
    pub async fn open_dir(dir: &std::path::Path) -> Result<Self, DatasetError> {
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Self::open(Arc::new(store), "", None).await
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Rows in the dataset.
    pub fn rows(&self) -> u64 {
        self.manifest.total_rows
    }

    /// Tokens per row.
    pub fn seq_len(&self) -> usize {
        self.manifest.seq_len as usize
    }

    /// The tokens of `rows`, concatenated in the order given.
    pub async fn read_rows(&self, rows: &[u64]) -> Result<Vec<u32>, DatasetError> {
        let seq = self.seq_len();
        let mut out = Vec::with_capacity(rows.len() * seq);
        for &row in rows {
            let (shard, r) = self.manifest.locate(row).ok_or(DatasetError::Row {
                row,
                rows: self.rows(),
            })?;
            let tokens = self.shard(shard).await?;
            out.extend_from_slice(&tokens[r * seq..(r + 1) * seq]);
        }
        Ok(out)
    }

    /// Fetches and verifies every shard (what `kiln dataset verify` runs).
    pub async fn verify_all(&self) -> Result<(), DatasetError> {
        for i in 0..self.manifest.shards.len() {
            self.shard(i).await?;
        }
        Ok(())
    }

    /// Shard `i`, decoded.
    pub async fn shard(&self, i: usize) -> Result<Arc<Vec<u32>>, DatasetError> {
        let shards = self.manifest.shards.len();
        if i >= shards {
            return Err(DatasetError::NoShard { index: i, shards });
        }
        if let Some(s) = self.lock().shards.get(&i) {
            return Ok(s.clone());
        }
        let bytes = self.shard_bytes(i).await?;
        let tokens = Arc::new(self.decode(i, &bytes)?);
        let mut resident = self.lock();
        if resident.order.len() >= RESIDENT_SHARDS
            && let Some(old) = resident.order.pop_front()
        {
            resident.shards.remove(&old);
        }
        resident.order.push_back(i);
        resident.shards.insert(i, tokens.clone());
        Ok(tokens)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Resident> {
        self.resident.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn shard_bytes(&self, i: usize) -> Result<Vec<u8>, DatasetError> {
        let info = &self.manifest.shards[i];
        let expected = self.manifest.shard_bytes(i);
        let cached = self
            .cache_dir
            .as_ref()
            .map(|d| d.join(format!("{}.bin", info.blake3)));
        if let Some(path) = &cached
            && let Ok(bytes) = tokio::fs::read(path).await
        {
            if blake3::hash(&bytes).to_hex().as_str() == info.blake3 {
                return Ok(bytes);
            }
            tracing::warn!(path = %path.display(), "cached shard is corrupt; fetching again");
        }
        // Shard paths may contain `/`: join them segment by segment.
        let location = info
            .path
            .split('/')
            .fold(self.prefix.clone(), |p, segment| p.join(segment));
        let got = self.store.get(&location).await?;
        if got.meta.size != expected {
            return Err(DatasetError::Size {
                path: info.path.clone(),
                expected,
                got: got.meta.size,
            });
        }
        let bytes = got.bytes().await?.to_vec();
        let digest = hex(blake3::hash(&bytes).as_bytes());
        if digest != info.blake3 {
            return Err(DatasetError::Integrity {
                path: info.path.clone(),
                expected: info.blake3.clone(),
                got: digest,
            });
        }
        if let Some(path) = cached {
            // The bytes are verified; a cache that cannot be written costs a refetch, not a read.
            if let Err(e) = write_cache(&path, &bytes).await {
                tracing::warn!(error = %e, "shard cache not written");
            }
        }
        Ok(bytes)
    }

    fn decode(&self, i: usize, bytes: &[u8]) -> Result<Vec<u32>, DatasetError> {
        let vocab = self.manifest.vocab_size;
        let tokens: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(&token) = tokens.iter().find(|&&t| t >= vocab) {
            return Err(DatasetError::Token {
                path: self.manifest.shards[i].path.clone(),
                token,
                vocab,
            });
        }
        Ok(tokens)
    }
}

async fn write_cache(path: &std::path::Path, bytes: &[u8]) -> Result<(), DatasetError> {
    let err = |source| DatasetError::Cache {
        path: path.into(),
        source,
    };
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    tokio::fs::write(&tmp, bytes).await.map_err(err)?;
    tokio::fs::rename(&tmp, path).await.map_err(err)
}
