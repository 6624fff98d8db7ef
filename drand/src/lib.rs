//! drand beacons as subtensor uses them, without I/O.
//!
//! - [`pulse`]: a beacon's pulses in drand quicknet's scheme (`bls-unchained-g1-rfc9380`):
//!   round `r` is signed as `sk · H(sha256(r as u64 big-endian))` in G1, the public key lives in
//!   G2; [`Beacon`] signs (the devnet's own beacon), [`verify_pulse`] checks any beacon's pulse,
//!   quicknet's included.
//! - [`tlock`]: timelock encryption to a round (Boneh–Franklin IBE with AES-GCM), in the bytes
//!   subtensor's runtime and Bittensor's `bittensor-drand` exchange ([`wire`]).
//! - [`clock`]: which round a beacon has reached at a time, and when a round is due.
//! - [`payload`]: subtensor's `WeightsTlockPayload`, the plaintext of a timelocked weights commit.

pub mod clock;
pub mod payload;
pub mod pulse;
pub mod tlock;
pub mod wire;

pub use clock::BeaconClock;
pub use payload::WeightsTlockPayload;
pub use pulse::{Beacon, PulseError, verify_pulse};
pub use tlock::{DecryptError, EncryptError, decrypt, encrypt};

/// drand quicknet's public key (G2, compressed), the beacon finney's drand pallet follows.
pub const QUICKNET_PUBLIC_KEY: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";
/// drand quicknet's genesis time (unix seconds).
pub const QUICKNET_GENESIS_TIME: u64 = 1_692_803_367;
/// drand quicknet's period in seconds.
pub const QUICKNET_PERIOD: u64 = 3;
/// drand quicknet's chain hash.
pub const QUICKNET_CHAIN_HASH: &str =
    "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971";
