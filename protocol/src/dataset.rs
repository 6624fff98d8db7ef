//! The dataset manifest: how a corpus of token shards is laid out and how to verify it. Miners
//! and validators must read the same rows, so the layout is part of the protocol; reading and
//! writing shards lives in `kiln-training`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The manifest's file name at the dataset root.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The manifest format this build reads and writes.
pub const MANIFEST_VERSION: u32 = 1;
/// Longest row the format allows (2^20 tokens).
pub const MAX_SEQ_LEN: u32 = 1 << 20;
/// Largest manifest accepted (bytes); a manifest lists shards, not tokens.
pub const MAX_MANIFEST_BYTES: usize = 64 << 20;

/// A dataset: `u32` little-endian token shards, each `rows × seq_len` tokens, row-major.
///
/// Row `r` of the dataset is row `r mod rows_per_shard` of shard `r / rows_per_shard`; every
/// shard but the last holds exactly `rows_per_shard` rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version ([`MANIFEST_VERSION`]).
    pub version: u32,
    /// Which tokenizer produced the ids: `bytes-v1`, `hf:<blake3 of tokenizer.json>`, or
    /// `synthetic-v1:<seed>` for `kiln dataset synth`.
    pub tokenizer: String,
    /// Every token is below this.
    pub vocab_size: u32,
    /// Tokens per row.
    pub seq_len: u32,
    /// Rows per full shard.
    pub rows_per_shard: u32,
    /// Rows in the dataset.
    pub total_rows: u64,
    /// The shards in row order.
    pub shards: Vec<ShardInfo>,
}

/// One shard file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardInfo {
    /// Path relative to the dataset root (`[A-Za-z0-9._-/]`, no `..`).
    pub path: String,
    /// Rows in this shard.
    pub rows: u32,
    /// blake3 of the shard's bytes, lowercase hex.
    pub blake3: String,
}

/// Why a manifest is not usable.
#[derive(Debug, Error)]
pub enum ManifestError {
    /// Not valid manifest JSON.
    #[error("manifest JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Larger than [`MAX_MANIFEST_BYTES`].
    #[error("manifest of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// Parsed but inconsistent.
    #[error("manifest: {0}")]
    Invalid(String),
}

impl Manifest {
    /// Parses and validates manifest bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge(bytes.len()));
        }
        let m: Self = serde_json::from_slice(bytes)?;
        m.validate()?;
        Ok(m)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest serializes")
    }

    /// Checks version, sizes, paths, hashes and that the shard rows add up.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let bad = |m: String| Err(ManifestError::Invalid(m));
        if self.version != MANIFEST_VERSION {
            return bad(format!(
                "version {} (this build reads {MANIFEST_VERSION})",
                self.version
            ));
        }
        if !(2..=MAX_SEQ_LEN).contains(&self.seq_len) {
            return bad(format!(
                "seq_len {} outside 2..={MAX_SEQ_LEN}",
                self.seq_len
            ));
        }
        if self.vocab_size == 0 || self.rows_per_shard == 0 || self.shards.is_empty() {
            return bad("vocab_size, rows_per_shard and shards must be non-empty".into());
        }
        if u64::from(self.rows_per_shard) * u64::from(self.seq_len) * 4 > 1 << 34 {
            return bad("a shard would exceed 16 GiB".into());
        }
        let mut total = 0u64;
        for (i, s) in self.shards.iter().enumerate() {
            let last = i + 1 == self.shards.len();
            if s.rows == 0
                || s.rows > self.rows_per_shard
                || (!last && s.rows != self.rows_per_shard)
            {
                return bad(format!("shard {i} has {} rows", s.rows));
            }
            if !safe_path(&s.path) {
                return bad(format!(
                    "shard {i} path {:?} is not a safe relative path",
                    s.path
                ));
            }
            if s.blake3.len() != 64
                || !s
                    .blake3
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            {
                return bad(format!(
                    "shard {i} blake3 {:?} is not 64 lowercase hex digits",
                    s.blake3
                ));
            }
            total += u64::from(s.rows);
        }
        if total != self.total_rows {
            return bad(format!(
                "shards hold {total} rows, total_rows says {}",
                self.total_rows
            ));
        }
        Ok(())
    }

    /// `(shard, row within shard)` of dataset row `row`, if it exists.
    pub fn locate(&self, row: u64) -> Option<(usize, usize)> {
        (row < self.total_rows).then(|| {
            let per = u64::from(self.rows_per_shard);
            ((row / per) as usize, (row % per) as usize)
        })
    }

    /// Bytes of shard `i`.
    pub fn shard_bytes(&self, i: usize) -> u64 {
        u64::from(self.shards[i].rows) * u64::from(self.seq_len) * 4
    }
}

fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 256
        && !p.starts_with('/')
        && p.split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            version: 1,
            tokenizer: "bytes-v1".into(),
            vocab_size: 257,
            seq_len: 8,
            rows_per_shard: 4,
            total_rows: 6,
            shards: vec![
                ShardInfo {
                    path: "shard-00000.bin".into(),
                    rows: 4,
                    blake3: "a".repeat(64),
                },
                ShardInfo {
                    path: "shard-00001.bin".into(),
                    rows: 2,
                    blake3: "b".repeat(64),
                },
            ],
        }
    }

    #[test]
    fn round_trips_and_locates_rows() {
        let m = sample();
        assert_eq!(Manifest::parse(m.to_json().as_bytes()).unwrap(), m);
        assert_eq!(m.locate(0), Some((0, 0)));
        assert_eq!(m.locate(5), Some((1, 1)));
        assert_eq!(m.locate(6), None);
        assert_eq!(m.shard_bytes(1), 2 * 8 * 4);
    }

    #[test]
    fn rejects_inconsistent_manifests() {
        type Mutation = fn(&mut Manifest);
        let cases: Vec<(Mutation, &str)> = vec![
            (|m| m.version = 2, "version"),
            (|m| m.seq_len = 1, "seq_len"),
            (|m| m.total_rows = 7, "total_rows"),
            (|m| m.shards[0].rows = 3, "shard 0"),
            (|m| m.shards[1].rows = 5, "shard 1"),
            (|m| m.shards[0].path = "../etc/passwd".into(), "path"),
            (|m| m.shards[0].path = "/abs".into(), "path"),
            (|m| m.shards[1].blake3 = "XYZ".into(), "blake3"),
            (|m| m.shards.clear(), "non-empty"),
        ];
        for (mutate, needle) in cases {
            let mut m = sample();
            mutate(&mut m);
            let err = Manifest::parse(m.to_json().as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err:?} lacks {needle:?}");
        }
        assert!(matches!(
            Manifest::parse(b"{}"),
            Err(ManifestError::Json(_))
        ));
        let extra = sample().to_json().replacen('{', "{\"x\":1,", 1);
        assert!(matches!(
            Manifest::parse(extra.as_bytes()),
            Err(ManifestError::Json(_))
        ));
    }
}
