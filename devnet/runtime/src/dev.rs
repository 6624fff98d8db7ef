//! Development helpers: dev keys (`//Alice` …, the dev beacon and shield keys), a dev genesis,
//! and signing an extrinsic the way subxt does (immortal unless asked, tip 0, metadata hash
//! disabled). Used by the devnet node and by tests.

use crate::{
    AccountId, RuntimeCall, RuntimeGenesisConfig, SignedPayload, TAO, TxExtension,
    UncheckedExtrinsic, subtensor,
};
use codec::Encode;
use sp_core::{Pair, sr25519};
use sp_runtime::generic::Era;
use sp_runtime::{MultiAddress, MultiSignature};

/// The funded dev accounts.
pub const DEV_ACCOUNTS: [&str; 6] = [
    "//Alice",
    "//Bob",
    "//Charlie",
    "//Dave",
    "//Eve",
    "//Ferdie",
];

/// Balance of each dev account at genesis.
pub const DEV_BALANCE: u64 = 1_000_000 * TAO;

/// The sr25519 key pair and account of a secret URI such as `//Alice`.
pub fn key(uri: &str) -> (sr25519::Pair, AccountId) {
    let pair = sr25519::Pair::from_string(uri, None).expect("a valid secret URI");
    let account = AccountId::from(pair.public());
    (pair, account)
}

/// The dev beacon's seed. Like `//Alice`'s key it is public: anyone can sign the dev beacon's
/// future rounds and so open timelocked commits early. `kiln devnet --beacon-seed` keeps a
/// beacon secret.
pub const DEV_BEACON_SEED: &[u8] = b"kiln devnet beacon";
/// Seconds between the devnet beacon's rounds.
pub const BEACON_PERIOD: u32 = 1;
/// Unix time of the devnet beacon's round 1 (quicknet's genesis time).
pub const BEACON_GENESIS_TIME: u32 = kiln_drand::QUICKNET_GENESIS_TIME as u32;

/// The dev beacon.
pub fn beacon() -> kiln_drand::Beacon {
    kiln_drand::Beacon::from_seed(DEV_BEACON_SEED)
}

/// The `Drand.BeaconConfig` of `beacon` on the devnet: one round a second since quicknet's
/// genesis time.
pub fn beacon_config(beacon: &kiln_drand::Beacon) -> crate::drand::BeaconConfiguration {
    crate::drand::BeaconConfiguration::new(
        &beacon.public_key(),
        BEACON_GENESIS_TIME,
        BEACON_PERIOD,
        "kiln-devnet",
    )
}

/// The dev shield key's seed. Public like the dev beacon's: anyone can decrypt what is
/// submitted through `MevShield` on a devnet with this key.
pub const DEV_SHIELD_SEED: &[u8] = b"kiln devnet shield";

/// The dev block author's ML-KEM-768 key pair (`MevShield.NextKey` is its encapsulation key).
pub fn shield_key() -> crate::shield::ShieldKeyPair {
    crate::shield::ShieldKeyPair::from_seed(DEV_SHIELD_SEED)
}

/// Dev accounts funded, Alice as sudo, `subnets` created, the dev beacon and dev shield key
/// configured.
pub fn genesis(subnets: Vec<subtensor::GenesisSubnet<AccountId>>) -> RuntimeGenesisConfig {
    genesis_with_beacon(subnets, &beacon())
}

/// [`genesis`] with another beacon (the shield key stays [`shield_key`]'s: set
/// `mev_shield.key` to another's).
pub fn genesis_with_beacon(
    subnets: Vec<subtensor::GenesisSubnet<AccountId>>,
    beacon: &kiln_drand::Beacon,
) -> RuntimeGenesisConfig {
    RuntimeGenesisConfig {
        drand: crate::drand::GenesisConfig {
            beacon: beacon_config(beacon),
            ..Default::default()
        },
        mev_shield: crate::shield::GenesisConfig {
            key: crate::shield::ShieldEncKey::try_from(shield_key().encapsulation_key())
                .expect("an ML-KEM-768 key fits the bound"),
            ..Default::default()
        },
        balances: pallet_balances::GenesisConfig {
            balances: DEV_ACCOUNTS
                .iter()
                .map(|u| (key(u).1, DEV_BALANCE))
                .collect(),
            ..Default::default()
        },
        sudo: pallet_sudo::GenesisConfig {
            key: Some(key("//Alice").1),
        },
        subtensor_module: subtensor::GenesisConfig {
            subnets,
            commit_reveal_version: None,
        },
        ..Default::default()
    }
}

/// A fast-iteration subnet: `netuid` owned by Alice (hotkey //Ferdie as uid 0), short tempo,
/// commit-reveal off, no weights rate limit, one weight minimum, 1 TAO burn.
pub fn fast_subnet(netuid: u16, tempo: u16) -> subtensor::GenesisSubnet<AccountId> {
    subtensor::GenesisSubnet {
        netuid,
        owner: key("//Alice").1,
        owner_hotkey: key("//Ferdie").1,
        tempo,
        burn: TAO,
        commit_reveal: false,
        weights_rate_limit: 0,
        min_allowed_weights: 1,
    }
}

/// `call` signed by `signer` with `nonce`. Must run inside the chain's externalities: the payload
/// commits to the genesis hash.
pub fn signed(signer: &sr25519::Pair, call: RuntimeCall, nonce: u32) -> UncheckedExtrinsic {
    signed_as(signer, AccountId::from(signer.public()), call, nonce)
}

/// Like [`signed`], but claiming to come from `who` (a forgery when `who` is not the signer's
/// account, for testing signature checks).
pub fn signed_as(
    signer: &sr25519::Pair,
    who: AccountId,
    call: RuntimeCall,
    nonce: u32,
) -> UncheckedExtrinsic {
    sign(signer, who, call, nonce, Era::Immortal)
}

/// Like [`signed`], but valid only in `era` (`MevShield` carriers are mortal); the era's birth
/// block must be in the chain's `System.BlockHash`.
pub fn signed_with_era(
    signer: &sr25519::Pair,
    call: RuntimeCall,
    nonce: u32,
    era: Era,
) -> UncheckedExtrinsic {
    sign(signer, AccountId::from(signer.public()), call, nonce, era)
}

fn sign(
    signer: &sr25519::Pair,
    who: AccountId,
    call: RuntimeCall,
    nonce: u32,
    era: Era,
) -> UncheckedExtrinsic {
    let ext: TxExtension = (
        frame_system::CheckNonZeroSender::new(),
        frame_system::CheckSpecVersion::new(),
        frame_system::CheckTxVersion::new(),
        frame_system::CheckGenesis::new(),
        frame_system::CheckMortality::from(era),
        crate::check_nonce::CheckNonce(nonce),
        frame_system::CheckWeight::new(),
        pallet_transaction_payment::ChargeTransactionPayment::from(0),
        frame_metadata_hash_extension::CheckMetadataHash::new(false),
    );
    let payload = SignedPayload::new(call.clone(), ext.clone()).expect("implicit data");
    let signature = payload.using_encoded(|p| signer.sign(p));
    UncheckedExtrinsic::new_signed(
        call,
        MultiAddress::Id(who),
        MultiSignature::Sr25519(signature),
        ext,
    )
}
