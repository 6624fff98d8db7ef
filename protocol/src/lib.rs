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
//! - [`assignment`]: deterministic data assignment.

pub mod artifact;
pub mod assignment;
pub mod codec;
pub mod commitment;
pub mod hparams;
mod rng;
pub mod window;

pub use artifact::{Artifact, ArtifactHeader, DecodeError, DecodeOptions};
pub use codec::{Codebook, Geometry, SparseTensor};
pub use commitment::{Commitment, CommitmentError, CommitmentKind};
pub use hparams::{Hparams, HparamsError};
pub use window::WindowClock;

/// A 32-byte blake3 digest.
pub type Digest = [u8; 32];
