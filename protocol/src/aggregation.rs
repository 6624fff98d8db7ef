//! The aggregation manifest v1: which artifacts a window's outer step applies, published by the
//! lead validator (uploaded like an artifact, its blake3 committed on chain with
//! [`CommitmentKind::Manifest`](crate::CommitmentKind::Manifest)).
//!
//! Manifests form a hash chain: each names the model state it applies to (`base_model_hash`),
//! the state it produces (`result_model_hash`) and the previous manifest's blake3 (all zeros for
//! the first manifest of a run, whose base is the genesis model). A node that missed manifests
//! walks the chain back to its own model hash and applies the missing ones in order. Every few
//! windows a manifest also names a published checkpoint of its result model (the blake3 of its
//! `model.safetensors`, fetched like an artifact), so a new node can start there instead of at
//! genesis.
//!
//! ```text
//! magic "kilnAGG1" (8) | netuid u16 | window u64 | hparams_hash [32] | base_model_hash [32]
//! | result_model_hash [32] | prev_manifest [32] | checkpoint [32] | peers u16
//! | per peer: uid u16, blake3 [32]
//! ```
//!
//! Integers are little-endian; peers are in strictly increasing uid order (so the encoding is
//! canonical) and at most [`MAX_PEERS`]. A manifest with no peers leaves the model unchanged
//! (its result equals its base). The decoder accepts exactly this layout.

use crate::Digest;
use thiserror::Error;

/// The 8 magic bytes of an aggregation manifest.
pub const MAGIC: [u8; 8] = *b"kilnAGG1";
/// Most peers one manifest may include (uids are 16-bit; subnets hold at most 4096 neurons).
pub const MAX_PEERS: usize = 4096;
const FIXED_LEN: usize = 8 + 2 + 8 + 32 * 5 + 2;
const PEER_LEN: usize = 2 + 32;
/// Longest encoded manifest.
pub const MAX_LEN: usize = FIXED_LEN + MAX_PEERS * PEER_LEN;

/// One included artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The miner's uid.
    pub uid: u16,
    /// blake3 of its artifact.
    pub digest: Digest,
}

/// A window's aggregation manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregationManifest {
    /// The subnet.
    pub netuid: u16,
    /// The window whose artifacts are aggregated.
    pub window: u64,
    /// The run's hparams hash.
    pub hparams_hash: Digest,
    /// State hash of the model the outer step applies to.
    pub base_model_hash: Digest,
    /// State hash of the model after the outer step.
    pub result_model_hash: Digest,
    /// blake3 of the previous manifest (all zeros: none, `base_model_hash` is the genesis model).
    pub prev_manifest: Digest,
    /// blake3 of the published `model.safetensors` of the result model (all zeros: none).
    pub checkpoint: Digest,
    /// The included artifacts, by increasing uid.
    pub peers: Vec<Peer>,
}

/// Why bytes are not a valid manifest (or a manifest cannot be encoded).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AggregationError {
    /// Not a kiln aggregation manifest (or another version of it).
    #[error("not a kiln aggregation manifest v1 (bad magic)")]
    BadMagic,
    /// Shorter than the fields it declares.
    #[error("manifest truncated: {needed} bytes needed, {got} present")]
    Truncated {
        /// Bytes the layout needs.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// More bytes than the declared peers take.
    #[error("{0} trailing bytes after the last peer")]
    TrailingBytes(usize),
    /// More peers than [`MAX_PEERS`].
    #[error("{0} peers exceed the limit of {MAX_PEERS}")]
    TooManyPeers(usize),
    /// Peers are not in strictly increasing uid order (a duplicate or an unsorted list).
    #[error("peer uids are not strictly increasing at uid {0}")]
    PeerOrder(u16),
    /// No peers, yet the result differs from the base.
    #[error("a manifest without peers must leave the model unchanged")]
    EmptyChangesModel,
}

impl AggregationManifest {
    /// Checks the invariants the encoding relies on.
    pub fn validate(&self) -> Result<(), AggregationError> {
        if self.peers.len() > MAX_PEERS {
            return Err(AggregationError::TooManyPeers(self.peers.len()));
        }
        if let Some(w) = self.peers.windows(2).find(|w| w[0].uid >= w[1].uid) {
            return Err(AggregationError::PeerOrder(w[1].uid));
        }
        if self.peers.is_empty() && self.base_model_hash != self.result_model_hash {
            return Err(AggregationError::EmptyChangesModel);
        }
        Ok(())
    }

    /// The published checkpoint of the result model, if this manifest names one.
    pub fn checkpoint(&self) -> Option<Digest> {
        (self.checkpoint != [0; 32]).then_some(self.checkpoint)
    }

    /// Whether this is the first manifest of a run (no previous manifest).
    pub fn is_first(&self) -> bool {
        self.prev_manifest == [0; 32]
    }

    /// The canonical bytes.
    pub fn encode(&self) -> Result<Vec<u8>, AggregationError> {
        self.validate()?;
        let mut out = Vec::with_capacity(FIXED_LEN + self.peers.len() * PEER_LEN);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&self.netuid.to_le_bytes());
        out.extend_from_slice(&self.window.to_le_bytes());
        out.extend_from_slice(&self.hparams_hash);
        out.extend_from_slice(&self.base_model_hash);
        out.extend_from_slice(&self.result_model_hash);
        out.extend_from_slice(&self.prev_manifest);
        out.extend_from_slice(&self.checkpoint);
        out.extend_from_slice(&(self.peers.len() as u16).to_le_bytes());
        for p in &self.peers {
            out.extend_from_slice(&p.uid.to_le_bytes());
            out.extend_from_slice(&p.digest);
        }
        Ok(out)
    }

    /// Parses `bytes`, accepting only the canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, AggregationError> {
        if bytes.len() < MAGIC.len() || bytes[..8] != MAGIC {
            return Err(AggregationError::BadMagic);
        }
        if bytes.len() < FIXED_LEN {
            return Err(AggregationError::Truncated {
                needed: FIXED_LEN,
                got: bytes.len(),
            });
        }
        let digest = |at: usize| -> Digest { bytes[at..at + 32].try_into().expect("32 bytes") };
        let count = usize::from(u16::from_le_bytes([
            bytes[FIXED_LEN - 2],
            bytes[FIXED_LEN - 1],
        ]));
        if count > MAX_PEERS {
            return Err(AggregationError::TooManyPeers(count));
        }
        let needed = FIXED_LEN + count * PEER_LEN;
        if bytes.len() < needed {
            return Err(AggregationError::Truncated {
                needed,
                got: bytes.len(),
            });
        }
        if bytes.len() > needed {
            return Err(AggregationError::TrailingBytes(bytes.len() - needed));
        }
        let peers = bytes[FIXED_LEN..]
            .chunks_exact(PEER_LEN)
            .map(|c| Peer {
                uid: u16::from_le_bytes([c[0], c[1]]),
                digest: c[2..].try_into().expect("32 bytes"),
            })
            .collect();
        let manifest = AggregationManifest {
            netuid: u16::from_le_bytes([bytes[8], bytes[9]]),
            window: u64::from_le_bytes(bytes[10..18].try_into().expect("8 bytes")),
            hparams_hash: digest(18),
            base_model_hash: digest(50),
            result_model_hash: digest(82),
            prev_manifest: digest(114),
            checkpoint: digest(146),
            peers,
        };
        manifest.validate()?;
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(peers: usize) -> AggregationManifest {
        AggregationManifest {
            netuid: 3,
            window: 77,
            hparams_hash: [1; 32],
            base_model_hash: [2; 32],
            result_model_hash: if peers == 0 { [2; 32] } else { [3; 32] },
            prev_manifest: [4; 32],
            checkpoint: [5; 32],
            peers: (0..peers)
                .map(|i| Peer {
                    uid: (i * 3) as u16,
                    digest: [i as u8; 32],
                })
                .collect(),
        }
    }

    #[test]
    fn round_trips_canonically() {
        for n in [0, 1, 7, MAX_PEERS] {
            let m = sample(n);
            let bytes = m.encode().unwrap();
            assert_eq!(bytes.len(), FIXED_LEN + n * PEER_LEN);
            assert_eq!(AggregationManifest::decode(&bytes).unwrap(), m);
        }
        assert_eq!(MAX_LEN, FIXED_LEN + 4096 * 34);
    }

    #[test]
    fn every_malformation_has_its_error() {
        let bytes = sample(2).encode().unwrap();
        let decode = AggregationManifest::decode;
        assert_eq!(decode(b"kilnAGG2"), Err(AggregationError::BadMagic));
        assert_eq!(decode(b""), Err(AggregationError::BadMagic));
        assert_eq!(
            decode(&bytes[..20]),
            Err(AggregationError::Truncated {
                needed: FIXED_LEN,
                got: 20
            })
        );
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]),
            Err(AggregationError::Truncated {
                needed: bytes.len(),
                got: bytes.len() - 1
            })
        );
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(decode(&long), Err(AggregationError::TrailingBytes(1)));
        let mut many = bytes.clone();
        many[FIXED_LEN - 2..FIXED_LEN].copy_from_slice(&5000u16.to_le_bytes());
        assert_eq!(decode(&many), Err(AggregationError::TooManyPeers(5000)));
        // Second peer's uid (3) set to the first's (0).
        let mut dup = bytes.clone();
        dup[FIXED_LEN + PEER_LEN..FIXED_LEN + PEER_LEN + 2].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(decode(&dup), Err(AggregationError::PeerOrder(0)));
        let mut empty = sample(0);
        empty.result_model_hash = [9; 32];
        assert_eq!(empty.encode(), Err(AggregationError::EmptyChangesModel));
    }
}
