//! The drand pallet's records, with subtensor's field names and SCALE shapes.

use frame_support::BoundedVec;
use frame_support::traits::ConstU32;

/// A beacon's public key (compressed G2, 96 bytes).
pub type OpaquePublicKey = BoundedVec<u8, ConstU32<96>>;
/// A 32-byte hash or short name.
pub type BoundedHash = BoundedVec<u8, ConstU32<32>>;
/// A drand round.
pub type RoundNumber = u64;

/// A beacon's metadata.
#[derive(
    codec::Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    codec::MaxEncodedLen,
    scale_info::TypeInfo,
    serde::Serialize,
    serde::Deserialize,
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
)]
pub struct Metadata {
    /// The beacon's name (`quicknet` on finney).
    pub beacon_id: BoundedHash,
}

/// The beacon whose pulses the chain stores.
#[derive(
    codec::Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    codec::MaxEncodedLen,
    scale_info::TypeInfo,
    serde::Serialize,
    serde::Deserialize,
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
)]
pub struct BeaconConfiguration {
    /// Compressed G2 public key.
    pub public_key: OpaquePublicKey,
    /// Seconds between rounds.
    pub period: u32,
    /// Unix seconds of round 1.
    pub genesis_time: u32,
    /// The beacon's chain hash.
    pub hash: BoundedHash,
    /// The beacon group's hash.
    pub group_hash: BoundedHash,
    /// The signature scheme (`bls-unchained-g1-rfc9380`).
    pub scheme_id: BoundedHash,
    /// Metadata.
    pub metadata: Metadata,
}

/// One round's output.
#[derive(
    codec::Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    codec::MaxEncodedLen,
    scale_info::TypeInfo,
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
)]
pub struct Pulse {
    /// The round.
    pub round: RoundNumber,
    /// `sha256(signature)`.
    pub randomness: BoundedVec<u8, ConstU32<32>>,
    /// The beacon's signature of the round (compressed G1, 48 bytes).
    pub signature: BoundedVec<u8, ConstU32<144>>,
}

/// Pulses for `write_pulse`.
#[derive(
    codec::Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    scale_info::TypeInfo,
    Clone,
    Debug,
    PartialEq,
    Eq,
)]
pub struct PulsesPayload<Public, BlockNumber> {
    /// The block the payload was made for.
    pub block_number: BlockNumber,
    /// The pulses, in increasing rounds.
    pub pulses: alloc::vec::Vec<Pulse>,
    /// Who relayed them (unused here: the pulses' own signatures authenticate them).
    pub public: Public,
}

/// A beacon configuration for `set_beacon_config`.
#[derive(
    codec::Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    scale_info::TypeInfo,
    Clone,
    Debug,
    PartialEq,
    Eq,
)]
pub struct BeaconConfigurationPayload<Public, BlockNumber> {
    /// The block the payload was made for.
    pub block_number: BlockNumber,
    /// The configuration.
    pub config: BeaconConfiguration,
    /// Who sent it.
    pub public: Public,
}

impl Pulse {
    /// The pulse of `round` with `signature` (randomness derived as drand does).
    pub fn new(round: RoundNumber, signature: &[u8]) -> Self {
        Self {
            round,
            randomness: BoundedVec::truncate_from(
                kiln_drand::pulse::randomness(signature).to_vec(),
            ),
            signature: BoundedVec::truncate_from(signature.to_vec()),
        }
    }
}

impl BeaconConfiguration {
    /// The configuration of a beacon with `public_key`, round 1 at `genesis_time`, one round
    /// every `period` seconds, named `beacon_id`.
    pub fn new(public_key: &[u8], genesis_time: u32, period: u32, beacon_id: &str) -> Self {
        Self {
            public_key: BoundedVec::truncate_from(public_key.to_vec()),
            period,
            genesis_time,
            hash: BoundedVec::truncate_from(sp_io::hashing::sha2_256(public_key).to_vec()),
            group_hash: BoundedVec::new(),
            scheme_id: BoundedVec::truncate_from(b"bls-unchained-g1-rfc9380".to_vec()),
            metadata: Metadata {
                beacon_id: BoundedVec::truncate_from(beacon_id.as_bytes().to_vec()),
            },
        }
    }

    /// The beacon's round clock.
    pub fn clock(&self) -> kiln_drand::BeaconClock {
        kiln_drand::BeaconClock {
            genesis_time: u64::from(self.genesis_time),
            period: u64::from(self.period.max(1)),
        }
    }
}

/// Who relayed a payload, as finney's `MultiSigner` encodes it (without the newer `Eth`
/// variant). Pulses authenticate themselves, so this is carried but not checked.
#[derive(
    codec::Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    scale_info::TypeInfo,
    Clone,
    Debug,
    PartialEq,
    Eq,
)]
pub enum Relayer {
    /// An ed25519 key.
    Ed25519([u8; 32]),
    /// An sr25519 key.
    Sr25519([u8; 32]),
    /// A compressed ecdsa key.
    Ecdsa([u8; 33]),
}

/// A relayer's signature, as finney's `MultiSignature` encodes it.
#[derive(
    codec::Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    scale_info::TypeInfo,
    Clone,
    Debug,
    PartialEq,
    Eq,
)]
pub enum RelayerSignature {
    /// ed25519.
    Ed25519([u8; 64]),
    /// sr25519.
    Sr25519([u8; 64]),
    /// ecdsa.
    Ecdsa([u8; 65]),
}
