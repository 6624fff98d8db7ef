//! What subtensor's `NeuronInfoRuntimeApi` and `SubnetInfoRuntimeApi` return, with subtensor's
//! SCALE shapes (field names, order, compact encodings; checked against finney's metadata by
//! `tests/finney_shape.rs`), read from this pallet's storage.
//!
//! The pool fields are the devnet's 1:1 pool ([`super::dynamic`]); fields for mechanisms the
//! devnet does not have (PoW difficulty, identities, root stake, the Prometheus endpoint) are
//! zero or empty; `rank`,
//! `trust` and `pruning_score` are zero as on subtensor, which no longer computes them.

use super::AxonInfo;
use super::fixed::I96F32;
use super::identity::{ChainIdentityV2, SubnetIdentityV3};
use super::pallet::*;
use alloc::vec::Vec;
use codec::{Compact, Decode, Encode};
use scale_info::TypeInfo;
use sp_runtime::SaturatedConversion;

/// A served Prometheus endpoint (never served on the devnet: always the default).
#[derive(Encode, Decode, TypeInfo, Clone, Debug, Default, PartialEq, Eq)]
pub struct PrometheusInfo {
    /// Block it was served at.
    pub block: u64,
    /// Client version.
    pub version: u32,
    /// IPv4 (as u32 widened) or IPv6.
    pub ip: u128,
    /// Port.
    pub port: u16,
    /// 4 or 6.
    pub ip_type: u8,
}

/// One neuron, as `NeuronInfoRuntimeApi.get_neurons_lite` returns it.
#[derive(Encode, Decode, TypeInfo, Clone, Debug, PartialEq, Eq)]
pub struct NeuronInfoLite<AccountId> {
    /// Its hotkey.
    pub hotkey: AccountId,
    /// The hotkey's owner.
    pub coldkey: AccountId,
    /// Its uid.
    pub uid: Compact<u16>,
    /// Its subnet.
    pub netuid: Compact<u16>,
    /// Set weights within the activity cutoff at the last epoch.
    pub active: bool,
    /// Its served axon (default when none).
    pub axon_info: AxonInfo,
    /// Its served Prometheus endpoint (default).
    pub prometheus_info: PrometheusInfo,
    /// (coldkey, alpha stake on this subnet).
    pub stake: Vec<(AccountId, Compact<u64>)>,
    /// Zero, as on subtensor.
    pub rank: Compact<u16>,
    /// Rao earned at the last epoch.
    pub emission: Compact<u64>,
    /// Incentive (u16-normalized).
    pub incentive: Compact<u16>,
    /// Consensus weight (u16-normalized).
    pub consensus: Compact<u16>,
    /// Zero, as on subtensor.
    pub trust: Compact<u16>,
    /// Validator trust (u16-normalized).
    pub validator_trust: Compact<u16>,
    /// Dividends (u16-normalized).
    pub dividends: Compact<u16>,
    /// Block of its last weights.
    pub last_update: Compact<u64>,
    /// Holds a validator permit.
    pub validator_permit: bool,
    /// Zero, as on subtensor.
    pub pruning_score: Compact<u16>,
}

/// A whole subnet, as `SubnetInfoRuntimeApi.get_metagraph` returns it: parameters first, then
/// one entry per uid in each list.
#[derive(Encode, Decode, TypeInfo, Clone, Debug, PartialEq, Eq)]
pub struct Metagraph<AccountId> {
    pub netuid: Compact<u16>,
    pub name: Vec<Compact<u8>>,
    pub symbol: Vec<Compact<u8>>,
    pub identity: Option<SubnetIdentityV3>,
    pub network_registered_at: Compact<u64>,
    pub owner_hotkey: AccountId,
    pub owner_coldkey: AccountId,
    pub block: Compact<u64>,
    pub tempo: Compact<u16>,
    pub last_step: Compact<u64>,
    pub blocks_since_last_step: Compact<u64>,
    pub subnet_emission: Compact<u64>,
    pub alpha_in: Compact<u64>,
    pub alpha_out: Compact<u64>,
    pub tao_in: Compact<u64>,
    pub alpha_out_emission: Compact<u64>,
    pub alpha_in_emission: Compact<u64>,
    pub tao_in_emission: Compact<u64>,
    pub pending_alpha_emission: Compact<u64>,
    pub pending_root_emission: Compact<u64>,
    pub subnet_volume: Compact<u128>,
    pub moving_price: I96F32,
    pub rho: Compact<u16>,
    pub kappa: Compact<u16>,
    pub min_allowed_weights: Compact<u16>,
    pub max_weights_limit: Compact<u16>,
    pub weights_version: Compact<u64>,
    pub weights_rate_limit: Compact<u64>,
    pub activity_cutoff: Compact<u16>,
    pub max_validators: Compact<u16>,
    pub num_uids: Compact<u16>,
    pub max_uids: Compact<u16>,
    pub burn: Compact<u64>,
    pub difficulty: Compact<u64>,
    pub registration_allowed: bool,
    pub pow_registration_allowed: bool,
    pub immunity_period: Compact<u16>,
    pub min_difficulty: Compact<u64>,
    pub max_difficulty: Compact<u64>,
    pub min_burn: Compact<u64>,
    pub max_burn: Compact<u64>,
    pub adjustment_alpha: Compact<u64>,
    pub adjustment_interval: Compact<u16>,
    pub target_regs_per_interval: Compact<u16>,
    pub max_regs_per_block: Compact<u16>,
    pub serving_rate_limit: Compact<u64>,
    pub commit_reveal_weights_enabled: bool,
    pub commit_reveal_period: Compact<u64>,
    pub liquid_alpha_enabled: bool,
    pub alpha_high: Compact<u16>,
    pub alpha_low: Compact<u16>,
    pub bonds_moving_avg: Compact<u64>,
    pub hotkeys: Vec<AccountId>,
    pub coldkeys: Vec<AccountId>,
    pub identities: Vec<Option<ChainIdentityV2>>,
    pub axons: Vec<AxonInfo>,
    pub active: Vec<bool>,
    pub validator_permit: Vec<bool>,
    pub pruning_score: Vec<Compact<u16>>,
    pub last_update: Vec<Compact<u64>>,
    pub emission: Vec<Compact<u64>>,
    pub dividends: Vec<Compact<u16>>,
    pub incentives: Vec<Compact<u16>>,
    pub consensus: Vec<Compact<u16>>,
    pub trust: Vec<Compact<u16>>,
    pub rank: Vec<Compact<u16>>,
    pub block_at_registration: Vec<Compact<u64>>,
    pub alpha_stake: Vec<Compact<u64>>,
    pub tao_stake: Vec<Compact<u64>>,
    pub total_stake: Vec<Compact<u64>>,
    pub tao_dividends_per_hotkey: Vec<(AccountId, Compact<u64>)>,
    pub alpha_dividends_per_hotkey: Vec<(AccountId, Compact<u64>)>,
}

/// subtensor's default `Rho`.
const RHO: u16 = 10;
/// subtensor's default liquid-alpha bounds (0.9 and 0.7 of u16::MAX).
const ALPHA_HIGH: u16 = 58_982;
const ALPHA_LOW: u16 = 45_875;

/// A per-uid vector with exactly `n` entries (padded with defaults).
fn sized<V: Clone + Default>(mut v: Vec<V>, n: u16) -> Vec<V> {
    v.resize(usize::from(n), V::default());
    v
}

/// [`sized`], compact-encoded.
fn compact<V: Copy + Default>(v: Vec<V>, n: u16) -> Vec<Compact<V>> {
    sized(v, n).into_iter().map(Compact).collect()
}

/// A subnet's per-uid vectors, each read from storage once and sized to its uids.
pub(super) struct PerUid {
    pub(super) n: u16,
    active: Vec<bool>,
    validator_permit: Vec<bool>,
    emission: Vec<u64>,
    last_update: Vec<u64>,
    incentive: Vec<u16>,
    consensus: Vec<u16>,
    validator_trust: Vec<u16>,
    dividends: Vec<u16>,
}

impl PerUid {
    pub(super) fn read<T: Config>(netuid: u16) -> Self {
        let n = SubnetworkN::<T>::get(netuid);
        Self {
            n,
            active: sized(Active::<T>::get(netuid), n),
            validator_permit: sized(ValidatorPermit::<T>::get(netuid), n),
            emission: sized(Emission::<T>::get(netuid), n),
            last_update: sized(LastUpdate::<T>::get(netuid), n),
            incentive: sized(Incentive::<T>::get(netuid), n),
            consensus: sized(Consensus::<T>::get(netuid), n),
            validator_trust: sized(ValidatorTrust::<T>::get(netuid), n),
            dividends: sized(Dividends::<T>::get(netuid), n),
        }
    }
}

impl<T: Config> Pallet<T> {
    /// Every neuron of `netuid`, by uid (empty for a subnet that does not exist).
    pub fn neurons_lite(netuid: u16) -> Vec<NeuronInfoLite<T::AccountId>> {
        if !NetworksAdded::<T>::get(netuid) {
            return Vec::new();
        }
        let v = PerUid::read::<T>(netuid);
        (0..v.n).map(|uid| Self::neuron(netuid, uid, &v)).collect()
    }

    /// Neuron `uid` of `netuid`, if there is one.
    pub fn neuron_lite(netuid: u16, uid: u16) -> Option<NeuronInfoLite<T::AccountId>> {
        if !NetworksAdded::<T>::get(netuid) || uid >= SubnetworkN::<T>::get(netuid) {
            return None;
        }
        Some(Self::neuron(netuid, uid, &PerUid::read::<T>(netuid)))
    }

    /// Neuron `uid` (below `v.n`) from its subnet's vectors.
    pub(super) fn neuron(netuid: u16, uid: u16, v: &PerUid) -> NeuronInfoLite<T::AccountId> {
        let i = usize::from(uid);
        let hotkey = Keys::<T>::get(netuid, uid);
        let coldkey = Owner::<T>::get(&hotkey);
        let stake = TotalHotkeyAlpha::<T>::get(&hotkey, netuid);
        NeuronInfoLite {
            axon_info: Axons::<T>::get(netuid, &hotkey).unwrap_or_default(),
            stake: alloc::vec![(coldkey.clone(), Compact(stake))],
            hotkey,
            coldkey,
            uid: Compact(uid),
            netuid: Compact(netuid),
            active: v.active[i],
            prometheus_info: PrometheusInfo::default(),
            rank: Compact(0),
            emission: Compact(v.emission[i]),
            incentive: Compact(v.incentive[i]),
            consensus: Compact(v.consensus[i]),
            trust: Compact(0),
            validator_trust: Compact(v.validator_trust[i]),
            dividends: Compact(v.dividends[i]),
            last_update: Compact(v.last_update[i]),
            validator_permit: v.validator_permit[i],
            pruning_score: Compact(0),
        }
    }

    /// The whole of `netuid`, if it exists.
    pub fn metagraph(netuid: u16) -> Option<Metagraph<T::AccountId>> {
        if !NetworksAdded::<T>::get(netuid) {
            return None;
        }
        let v = PerUid::read::<T>(netuid);
        let n = v.n;
        let block: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
        let last_step = LastMechansimStepBlock::<T>::get(netuid);
        let hotkeys: Vec<T::AccountId> = (0..n).map(|uid| Keys::<T>::get(netuid, uid)).collect();
        let stake: Vec<u64> = hotkeys
            .iter()
            .map(|h| TotalHotkeyAlpha::<T>::get(h, netuid))
            .collect();
        let zeros = |k: &Vec<T::AccountId>| k.iter().map(|h| (h.clone(), Compact(0))).collect();
        let burn = Burn::<T>::get(netuid);
        let pool = Self::dynamic_info(netuid)?;
        Some(Metagraph {
            netuid: Compact(netuid),
            name: pool.subnet_name,
            symbol: pool.token_symbol,
            identity: None,
            network_registered_at: Compact(NetworkRegisteredAt::<T>::get(netuid)),
            owner_hotkey: SubnetOwnerHotkey::<T>::get(netuid),
            owner_coldkey: SubnetOwner::<T>::get(netuid),
            block: Compact(block),
            tempo: Compact(Tempo::<T>::get(netuid)),
            last_step: Compact(last_step),
            blocks_since_last_step: Compact(block.saturating_sub(last_step)),
            subnet_emission: Compact(0),
            alpha_in: pool.alpha_in,
            alpha_out: pool.alpha_out,
            tao_in: pool.tao_in,
            alpha_out_emission: pool.alpha_out_emission,
            alpha_in_emission: Compact(0),
            tao_in_emission: Compact(0),
            pending_alpha_emission: Compact(0),
            pending_root_emission: Compact(0),
            subnet_volume: Compact(0),
            moving_price: pool.moving_price,
            rho: Compact(RHO),
            kappa: Compact(Kappa::<T>::get(netuid)),
            min_allowed_weights: Compact(MinAllowedWeights::<T>::get(netuid)),
            max_weights_limit: Compact(MaxWeightsLimit::<T>::get(netuid)),
            weights_version: Compact(WeightsVersionKey::<T>::get(netuid)),
            weights_rate_limit: Compact(WeightsSetRateLimit::<T>::get(netuid)),
            activity_cutoff: Compact(ActivityCutoff::<T>::get(netuid)),
            max_validators: Compact(MaxAllowedValidators::<T>::get(netuid)),
            num_uids: Compact(n),
            max_uids: Compact(MaxAllowedUids::<T>::get(netuid)),
            burn: Compact(burn),
            difficulty: Compact(0),
            registration_allowed: NetworkRegistrationAllowed::<T>::get(netuid),
            pow_registration_allowed: false,
            immunity_period: Compact(ImmunityPeriod::<T>::get(netuid)),
            min_difficulty: Compact(0),
            max_difficulty: Compact(0),
            // The burn is a fixed price here: its bounds are the price itself.
            min_burn: Compact(burn),
            max_burn: Compact(burn),
            adjustment_alpha: Compact(0),
            adjustment_interval: Compact(0),
            target_regs_per_interval: Compact(0),
            max_regs_per_block: Compact(0),
            serving_rate_limit: Compact(0),
            commit_reveal_weights_enabled: CommitRevealWeightsEnabled::<T>::get(netuid),
            commit_reveal_period: Compact(RevealPeriodEpochs::<T>::get(netuid)),
            liquid_alpha_enabled: false,
            alpha_high: Compact(ALPHA_HIGH),
            alpha_low: Compact(ALPHA_LOW),
            bonds_moving_avg: Compact(BondsMovingAverage::<T>::get(netuid)),
            coldkeys: hotkeys.iter().map(Owner::<T>::get).collect(),
            identities: (0..n).map(|_| None).collect(),
            axons: hotkeys
                .iter()
                .map(|h| Axons::<T>::get(netuid, h).unwrap_or_default())
                .collect(),
            active: v.active,
            validator_permit: v.validator_permit,
            pruning_score: compact(Vec::new(), n),
            last_update: compact(v.last_update, n),
            emission: compact(v.emission, n),
            dividends: compact(v.dividends, n),
            incentives: compact(v.incentive, n),
            consensus: compact(v.consensus, n),
            trust: compact(Vec::new(), n),
            rank: compact(Vec::new(), n),
            block_at_registration: compact(
                (0..n)
                    .map(|uid| BlockAtRegistration::<T>::get(netuid, uid))
                    .collect(),
                n,
            ),
            alpha_stake: compact(stake.clone(), n),
            tao_stake: compact(Vec::new(), n),
            total_stake: compact(stake, n),
            tao_dividends_per_hotkey: zeros(&hotkeys),
            alpha_dividends_per_hotkey: zeros(&hotkeys),
            hotkeys,
        })
    }
}
