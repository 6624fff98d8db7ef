//! `NeuronInfoRuntimeApi.get_neurons` / `get_neuron`: the lite view plus each neuron's weights
//! and bonds, in subtensor's field order.

use super::AxonInfo;
use super::info::{NeuronInfoLite, PerUid, PrometheusInfo};
use super::pallet::*;
use alloc::vec::Vec;
use codec::{Compact, Decode, Encode};
use scale_info::TypeInfo;

/// One neuron with its weights and bonds.
#[derive(Encode, Decode, TypeInfo, Clone, Debug, PartialEq, Eq)]
pub struct NeuronInfo<AccountId> {
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
    /// Its served axon.
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
    /// Its weights: (uid, u16 weight).
    pub weights: Vec<(Compact<u16>, Compact<u16>)>,
    /// Its bonds: (uid, u16 bond).
    pub bonds: Vec<(Compact<u16>, Compact<u16>)>,
    /// Zero, as on subtensor.
    pub pruning_score: Compact<u16>,
}

fn compact_pairs(v: Vec<(u16, u16)>) -> Vec<(Compact<u16>, Compact<u16>)> {
    v.into_iter()
        .map(|(a, b)| (Compact(a), Compact(b)))
        .collect()
}

impl<T: Config> Pallet<T> {
    /// Every neuron of `netuid` with weights and bonds (empty for no such subnet).
    pub fn neurons(netuid: u16) -> Vec<NeuronInfo<T::AccountId>> {
        if !NetworksAdded::<T>::get(netuid) {
            return Vec::new();
        }
        let v = PerUid::read::<T>(netuid);
        (0..v.n).map(|uid| Self::full(netuid, uid, &v)).collect()
    }

    /// Neuron `uid` of `netuid` with weights and bonds, if there is one.
    pub fn neuron_full(netuid: u16, uid: u16) -> Option<NeuronInfo<T::AccountId>> {
        if !NetworksAdded::<T>::get(netuid) || uid >= SubnetworkN::<T>::get(netuid) {
            return None;
        }
        Some(Self::full(netuid, uid, &PerUid::read::<T>(netuid)))
    }

    fn full(netuid: u16, uid: u16, v: &PerUid) -> NeuronInfo<T::AccountId> {
        let NeuronInfoLite {
            hotkey,
            coldkey,
            uid: cuid,
            netuid: cnetuid,
            active,
            axon_info,
            prometheus_info,
            stake,
            rank,
            emission,
            incentive,
            consensus,
            trust,
            validator_trust,
            dividends,
            last_update,
            validator_permit,
            pruning_score,
        } = Self::neuron(netuid, uid, v);
        NeuronInfo {
            hotkey,
            coldkey,
            uid: cuid,
            netuid: cnetuid,
            active,
            axon_info,
            prometheus_info,
            stake,
            rank,
            emission,
            incentive,
            consensus,
            trust,
            validator_trust,
            dividends,
            last_update,
            validator_permit,
            weights: compact_pairs(Weights::<T>::get(netuid, uid)),
            bonds: compact_pairs(Bonds::<T>::get(netuid, uid)),
            pruning_score,
        }
    }
}
