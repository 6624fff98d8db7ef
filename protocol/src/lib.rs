//! The kiln protocol core.
//!
//! Everything in this crate is pure: no I/O, no clocks, no global randomness. Time arrives as
//! block numbers and randomness as seeds, so every function is deterministic and every decoder
//! of network input can be fuzzed.
//!
//! - [`hparams`]: typed, validated, hashable run parameters and presets.
//! - [`window`]: the window clock over block numbers.
//! - [`codec`]: SparseLoCo compression (chunked top-k, 2-bit codebook quantization, error
//!   feedback) and robust aggregation.
//! - [`artifact`]: the artifact wire format v1 a miner uploads.
//! - [`commitment`]: the commitment bytes written on chain.
//! - [`aggregation`]: the aggregation manifest a validator publishes per window.
//! - [`assignment`]: deterministic data assignment.
//! - [`dataset`]: the token-shard dataset manifest.
//! - [`scoring`]: rules applied to a miner's measured losses.
//! - [`rng`]: the portable blake3 random stream every draw of the protocol uses.
//!
//! A miner's message, end to end:
//!
//! ```
//! use kiln_protocol::artifact::{self, Artifact, ArtifactHeader, DecodeOptions};
//! use kiln_protocol::codec::compress;
//!
//! let delta: Vec<f32> = (0..128 * 64).map(|i| ((i * 7919) % 1000) as f32 / 1e3 - 0.5).collect();
//! let tensor = compress("layers.0.mlp.up_proj.weight", &[128, 64], &delta, 64, 64).unwrap();
//! let header = ArtifactHeader {
//!     netuid: 1, uid: 4, hotkey: [7; 32], window: 12,
//!     base_model_hash: [0; 32], hparams_hash: [0; 32],
//! };
//! let bytes = Artifact { header, tensors: vec![tensor] }.encode().unwrap();
//! let decoded = Artifact::decode(&bytes, &DecodeOptions::default()).unwrap();
//! assert_eq!(decoded.tensors[0].geometry.kept(), 2 * 64);
//! let digest = artifact::digest(&bytes); // committed on chain
//! assert_eq!(digest.len(), 32);
//! ```

pub mod aggregation;
pub mod artifact;
pub mod assignment;
pub mod codec;
pub mod commitment;
pub mod dataset;
pub mod hparams;
pub mod registration;
pub mod rng;
pub mod scoring;
pub mod window;

pub use aggregation::{AggregationError, AggregationManifest};
pub use artifact::{Artifact, ArtifactHeader, DecodeError, DecodeOptions};
pub use codec::{Codebook, Geometry, SparseTensor};
pub use commitment::{Commitment, CommitmentError, CommitmentKind};
pub use hparams::{Hparams, HparamsError};
pub use window::WindowClock;

/// A 32-byte blake3 digest.
pub type Digest = [u8; 32];
