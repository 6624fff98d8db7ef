//! Writing a dataset: rows in, shard files and a manifest out.

use super::manifest::{MANIFEST_FILE, MANIFEST_VERSION, Manifest, ShardInfo, hex};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a dataset could not be written.
#[derive(Debug, Error)]
pub enum WriteError {
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A row of the wrong length or with a token outside the vocabulary.
    #[error("{0}")]
    Row(String),
    /// The finished dataset is not a valid manifest (for example, no rows at all).
    #[error(transparent)]
    Manifest(#[from] super::manifest::ManifestError),
}

/// Appends fixed-length rows and cuts them into shards of `rows_per_shard` rows.
#[derive(Debug)]
pub struct ShardWriter {
    dir: PathBuf,
    tokenizer: String,
    vocab_size: u32,
    seq_len: u32,
    rows_per_shard: u32,
    buf: Vec<u8>,
    rows_in_buf: u32,
    shards: Vec<ShardInfo>,
    total_rows: u64,
}

impl ShardWriter {
    /// A writer into `dir` (created if needed). `seq_len` must be in `2..=2^20`.
    pub fn new(
        dir: &Path,
        tokenizer: &str,
        vocab_size: u32,
        seq_len: u32,
        rows_per_shard: u32,
    ) -> Result<Self, WriteError> {
        if !(2..=super::manifest::MAX_SEQ_LEN).contains(&seq_len) {
            return Err(WriteError::Row(format!(
                "seq_len {seq_len} is outside 2..={}",
                super::manifest::MAX_SEQ_LEN
            )));
        }
        std::fs::create_dir_all(dir).map_err(|source| WriteError::Io {
            path: dir.into(),
            source,
        })?;
        Ok(Self {
            dir: dir.into(),
            tokenizer: tokenizer.into(),
            vocab_size,
            seq_len,
            rows_per_shard: rows_per_shard.max(1),
            buf: Vec::new(),
            rows_in_buf: 0,
            shards: Vec::new(),
            total_rows: 0,
        })
    }

    /// Appends one row of exactly `seq_len` tokens, each below the vocabulary size.
    pub fn push_row(&mut self, row: &[u32]) -> Result<(), WriteError> {
        if row.len() != self.seq_len as usize {
            return Err(WriteError::Row(format!(
                "row of {} tokens, expected {}",
                row.len(),
                self.seq_len
            )));
        }
        if let Some(t) = row.iter().find(|&&t| t >= self.vocab_size) {
            return Err(WriteError::Row(format!(
                "token {t} is outside the vocabulary of {}",
                self.vocab_size
            )));
        }
        for t in row {
            self.buf.extend_from_slice(&t.to_le_bytes());
        }
        self.rows_in_buf += 1;
        self.total_rows += 1;
        if self.rows_in_buf == self.rows_per_shard {
            self.flush()?;
        }
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.total_rows
    }

    fn flush(&mut self) -> Result<(), WriteError> {
        if self.rows_in_buf == 0 {
            return Ok(());
        }
        let name = format!("shard-{:05}.bin", self.shards.len());
        let path = self.dir.join(&name);
        std::fs::write(&path, &self.buf).map_err(|source| WriteError::Io { path, source })?;
        self.shards.push(ShardInfo {
            path: name,
            rows: self.rows_in_buf,
            blake3: hex(blake3::hash(&self.buf).as_bytes()),
        });
        self.buf.clear();
        self.rows_in_buf = 0;
        Ok(())
    }

    /// Writes the last partial shard and `manifest.json`; returns the manifest.
    pub fn finish(mut self) -> Result<Manifest, WriteError> {
        self.flush()?;
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            tokenizer: self.tokenizer,
            vocab_size: self.vocab_size,
            seq_len: self.seq_len,
            rows_per_shard: self.rows_per_shard,
            total_rows: self.total_rows,
            shards: self.shards,
        };
        manifest.validate()?;
        let path = self.dir.join(MANIFEST_FILE);
        std::fs::write(&path, manifest.to_json())
            .map_err(|source| WriteError::Io { path, source })?;
        Ok(manifest)
    }
}
