//! subtensor's identity records, root-claim choice and epoch consensus mode: storage types the devnet declares so
//! clients that read them find them (nothing on the devnet sets an identity).

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

/// A coldkey's identity (`IdentitiesV2`).
#[derive(Encode, Decode, TypeInfo, Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainIdentityV2 {
    /// Display name.
    pub name: Vec<u8>,
    /// Website.
    pub url: Vec<u8>,
    /// Source repository.
    pub github_repo: Vec<u8>,
    /// Image URL.
    pub image: Vec<u8>,
    /// Discord handle.
    pub discord: Vec<u8>,
    /// Description.
    pub description: Vec<u8>,
    /// Anything else.
    pub additional: Vec<u8>,
}

/// A subnet's identity (`SubnetIdentitiesV3`).
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, Debug, Default, PartialEq, Eq)]
pub struct SubnetIdentityV3 {
    /// Subnet name.
    pub subnet_name: Vec<u8>,
    /// Source repository.
    pub github_repo: Vec<u8>,
    /// Contact.
    pub subnet_contact: Vec<u8>,
    /// Website.
    pub subnet_url: Vec<u8>,
    /// Discord handle.
    pub discord: Vec<u8>,
    /// Description.
    pub description: Vec<u8>,
    /// Logo URL.
    pub logo_url: Vec<u8>,
    /// Anything else.
    pub additional: Vec<u8>,
}

/// What a coldkey's root dividends become (`RootClaimType`); the devnet has no root network,
/// so every coldkey reads the default.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, Debug, Default, PartialEq, Eq)]
pub enum RootClaimTypeEnum {
    /// Swapped to TAO.
    #[default]
    Swap,
    /// Kept as alpha.
    Keep,
    /// Kept on these subnets only.
    KeepSubnets {
        /// The subnets.
        subnets: BTreeSet<u16>,
    },
}

/// How a subnet's epoch turns weights into incentive (`SubnetEpochConsensus`).
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, Debug, Default, PartialEq, Eq)]
pub enum EpochConsensus {
    /// Yuma consensus.
    #[default]
    Yuma,
    /// Weights pass through unchanged.
    Null,
}
