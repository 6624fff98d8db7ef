//! `SubnetInfoRuntimeApi.get_subnet_hyperparams_v3`: every hyperparameter of a subnet as a
//! `(name, tagged value)` list, under subtensor's names and value tags, so clients look each
//! one up by name. Parameters the devnet stores come from storage; those of mechanisms it lacks
//! (burn adjustment, liquid alpha, child keys, owner cut) carry subtensor's defaults.

use super::fixed::{I32F32, U64F64};
use super::pallet::*;
use alloc::vec::Vec;
use codec::{Compact, Decode, Encode};
use scale_info::TypeInfo;

/// One hyperparameter's value, tagged with its type (subtensor's variant order).
#[derive(Encode, Decode, TypeInfo, Clone, Debug, PartialEq, Eq)]
pub enum HyperparamValue {
    /// A flag.
    Bool(bool),
    /// A u16.
    U16(Compact<u16>),
    /// A u32.
    U32(Compact<u32>),
    /// A u64.
    U64(Compact<u64>),
    /// A u128.
    U128(Compact<u128>),
    /// An amount of rao.
    TaoBalance(Compact<u64>),
    /// A signed fixed-point number.
    I32F32(I32F32),
    /// An unsigned fixed-point number.
    U64F64(U64F64),
}

/// A named hyperparameter (`name` is the ASCII identifier, as in subtensor's V2 struct).
#[derive(Encode, Decode, TypeInfo, Clone, Debug, PartialEq, Eq)]
pub struct HyperparamEntry {
    /// Its name.
    pub name: Vec<u8>,
    /// Its value.
    pub value: HyperparamValue,
}

fn entry(name: &str, value: HyperparamValue) -> HyperparamEntry {
    HyperparamEntry {
        name: name.as_bytes().to_vec(),
        value,
    }
}

fn u16v(v: u16) -> HyperparamValue {
    HyperparamValue::U16(Compact(v))
}

fn u64v(v: u64) -> HyperparamValue {
    HyperparamValue::U64(Compact(v))
}

fn rao(v: u64) -> HyperparamValue {
    HyperparamValue::TaoBalance(Compact(v))
}

/// subtensor's `BurnIncreaseMult` default, 1.26, in 64 fractional bits.
const BURN_INCREASE_MULT_BITS: u128 = (126u128 << 64) / 100;

impl<T: Config> Pallet<T> {
    /// Every hyperparameter of `netuid`, in subtensor's order; `None` for no such subnet.
    pub fn subnet_hyperparams_v3(netuid: u16) -> Option<Vec<HyperparamEntry>> {
        if !NetworksAdded::<T>::get(netuid) {
            return None;
        }
        let burn = Burn::<T>::get(netuid);
        let (alpha_low, alpha_high) = (45_875, 58_982);
        Some(alloc::vec![
            entry("kappa", u16v(Kappa::<T>::get(netuid))),
            entry("immunity_period", u16v(ImmunityPeriod::<T>::get(netuid))),
            entry(
                "min_allowed_weights",
                u16v(MinAllowedWeights::<T>::get(netuid))
            ),
            entry("max_weights_limit", u16v(MaxWeightsLimit::<T>::get(netuid))),
            entry("tempo", u16v(Tempo::<T>::get(netuid))),
            entry("weights_version", u64v(WeightsVersionKey::<T>::get(netuid))),
            entry(
                "weights_rate_limit",
                u64v(WeightsSetRateLimit::<T>::get(netuid))
            ),
            entry(
                "activity_cutoff",
                u64v(ActivityCutoff::<T>::get(netuid).into())
            ),
            entry("activity_cutoff_factor", HyperparamValue::U32(Compact(0))),
            entry(
                "registration_allowed",
                HyperparamValue::Bool(NetworkRegistrationAllowed::<T>::get(netuid)),
            ),
            entry("target_regs_per_interval", u16v(2)),
            // The devnet's burn is fixed: both bounds are the price.
            entry("min_burn", rao(burn)),
            entry("max_burn", rao(burn)),
            entry("burn_half_life", u16v(360)),
            entry(
                "burn_increase_mult",
                HyperparamValue::U64F64(U64F64 {
                    bits: BURN_INCREASE_MULT_BITS
                }),
            ),
            entry(
                "bonds_moving_avg",
                u64v(BondsMovingAverage::<T>::get(netuid))
            ),
            entry("max_regs_per_block", u16v(1)),
            entry("serving_rate_limit", u64v(50)),
            entry(
                "max_validators",
                u16v(MaxAllowedValidators::<T>::get(netuid))
            ),
            entry(
                "commit_reveal_period",
                u64v(RevealPeriodEpochs::<T>::get(netuid))
            ),
            entry(
                "commit_reveal_weights_enabled",
                HyperparamValue::Bool(CommitRevealWeightsEnabled::<T>::get(netuid)),
            ),
            entry("alpha_high", u16v(alpha_high)),
            entry("alpha_low", u16v(alpha_low)),
            entry("liquid_alpha_enabled", HyperparamValue::Bool(false)),
            entry(
                "alpha_sigmoid_steepness",
                HyperparamValue::I32F32(I32F32::from_int(1000))
            ),
            entry("yuma_version", u16v(2)),
            entry(
                "subnet_is_active",
                HyperparamValue::Bool(FirstEmissionBlockNumber::<T>::get(netuid).is_some()),
            ),
            entry("transfers_enabled", HyperparamValue::Bool(true)),
            entry("bonds_reset_enabled", HyperparamValue::Bool(false)),
            entry("user_liquidity_enabled", HyperparamValue::Bool(false)),
            entry("owner_cut_enabled", HyperparamValue::Bool(false)),
            entry("owner_cut_auto_lock_enabled", HyperparamValue::Bool(false)),
            entry("min_childkey_take", u16v(0)),
        ])
    }
}
