//! The subnet "pool" view clients read (`get_dynamic_info`, `get_all_dynamic_info`, alpha
//! prices, the registration cost). The devnet has no AMM: alpha is bought 1:1 with TAO, so every
//! price is 1 TAO, and the pool's reserves are the subnet's lock on both sides.

use super::fixed::I96F32;
use super::identity::SubnetIdentityV3;
use super::pallet::*;
use alloc::vec::Vec;
use codec::{Compact, Decode, Encode};
use scale_info::TypeInfo;
use sp_runtime::SaturatedConversion;

/// subtensor's `DynamicInfo`, field for field.
#[derive(Encode, Decode, TypeInfo, Clone, Debug, PartialEq, Eq)]
pub struct DynamicInfo<AccountId> {
    pub netuid: Compact<u16>,
    pub owner_hotkey: AccountId,
    pub owner_coldkey: AccountId,
    /// UTF-8 bytes, each compact-encoded.
    pub subnet_name: Vec<Compact<u8>>,
    /// UTF-8 bytes, each compact-encoded.
    pub token_symbol: Vec<Compact<u8>>,
    pub tempo: Compact<u16>,
    pub last_step: Compact<u64>,
    pub blocks_since_last_step: Compact<u64>,
    pub emission: Compact<u64>,
    pub alpha_in: Compact<u64>,
    pub alpha_out: Compact<u64>,
    pub tao_in: Compact<u64>,
    pub alpha_out_emission: Compact<u64>,
    pub alpha_in_emission: Compact<u64>,
    pub tao_in_emission: Compact<u64>,
    pub pending_alpha_emission: Compact<u64>,
    pub pending_root_emission: Compact<u64>,
    pub subnet_volume: Compact<u128>,
    pub network_registered_at: Compact<u64>,
    pub subnet_identity: Option<SubnetIdentityV3>,
    /// The price's moving average.
    pub moving_price: I96F32,
}

/// A subnet's alpha price in rao (`SwapRuntimeApi.current_alpha_price_all`).
#[derive(Encode, Decode, TypeInfo, Clone, Debug, PartialEq, Eq)]
pub struct SubnetPrice {
    pub netuid: u16,
    pub price: u64,
}

/// The price of one alpha in rao: 1 TAO on the devnet.
pub const ALPHA_PRICE_RAO: u64 = crate::TAO;

/// Greek letters for netuids 1–24, subtensor's first symbols; τ for the root netuid and beyond.
const SYMBOLS: [&str; 24] = [
    "α", "β", "γ", "δ", "ε", "ζ", "η", "θ", "ι", "κ", "λ", "μ", "ν", "ξ", "ο", "π", "ρ", "σ", "τ",
    "υ", "φ", "χ", "ψ", "ω",
];

/// The token symbol a new subnet gets.
pub fn symbol_for(netuid: u16) -> Vec<u8> {
    usize::from(netuid)
        .checked_sub(1)
        .and_then(|i| SYMBOLS.get(i))
        .map_or_else(|| "τ".as_bytes().to_vec(), |s| s.as_bytes().to_vec())
}

fn compact_bytes(b: Vec<u8>) -> Vec<Compact<u8>> {
    b.into_iter().map(Compact).collect()
}

impl<T: Config> Pallet<T> {
    /// Metadata a new subnet gets (token symbol, dynamic mechanism), and its tempo, burn and uid
    /// limit stored explicitly, as subtensor does, so clients that list them by iterating the
    /// maps see every subnet.
    pub(crate) fn init_subnet_metadata(netuid: u16) {
        TokenSymbol::<T>::insert(netuid, symbol_for(netuid));
        SubnetMechanism::<T>::insert(netuid, 1);
        Tempo::<T>::insert(netuid, Tempo::<T>::get(netuid));
        Burn::<T>::insert(netuid, Burn::<T>::get(netuid));
        MaxAllowedUids::<T>::insert(netuid, MaxAllowedUids::<T>::get(netuid));
    }

    /// The subnet's pool view, if it exists.
    pub fn dynamic_info(netuid: u16) -> Option<DynamicInfo<T::AccountId>> {
        if !NetworksAdded::<T>::get(netuid) {
            return None;
        }
        let block: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
        let last_step = LastMechansimStepBlock::<T>::get(netuid);
        let reserve = SubnetLocked::<T>::get(netuid);
        let issued = (0..SubnetworkN::<T>::get(netuid)).fold(0u64, |sum, uid| {
            sum.saturating_add(TotalHotkeyAlpha::<T>::get(
                Keys::<T>::get(netuid, uid),
                netuid,
            ))
        });
        let name = SubnetIdentitiesV3::<T>::get(netuid)
            .map(|i| i.subnet_name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| alloc::format!("subnet {netuid}").into_bytes());
        Some(DynamicInfo {
            netuid: Compact(netuid),
            owner_hotkey: SubnetOwnerHotkey::<T>::get(netuid),
            owner_coldkey: SubnetOwner::<T>::get(netuid),
            subnet_name: compact_bytes(name),
            token_symbol: compact_bytes(TokenSymbol::<T>::get(netuid)),
            tempo: Compact(Tempo::<T>::get(netuid)),
            last_step: Compact(last_step),
            blocks_since_last_step: Compact(block.saturating_sub(last_step)),
            emission: Compact(0),
            alpha_in: Compact(reserve),
            alpha_out: Compact(issued),
            tao_in: Compact(reserve),
            alpha_out_emission: Compact(crate::TAO),
            alpha_in_emission: Compact(0),
            tao_in_emission: Compact(0),
            pending_alpha_emission: Compact(0),
            pending_root_emission: Compact(0),
            subnet_volume: Compact(0),
            network_registered_at: Compact(NetworkRegisteredAt::<T>::get(netuid)),
            subnet_identity: SubnetIdentitiesV3::<T>::get(netuid),
            moving_price: I96F32 { bits: 1 << 32 },
        })
    }

    /// Every subnet's pool view, by netuid.
    pub fn all_dynamic_info() -> Vec<Option<DynamicInfo<T::AccountId>>> {
        Self::added_netuids()
            .into_iter()
            .map(Self::dynamic_info)
            .collect()
    }

    /// Alpha prices of every subnet.
    pub fn alpha_prices() -> Vec<SubnetPrice> {
        Self::added_netuids()
            .into_iter()
            .map(|netuid| SubnetPrice {
                netuid,
                price: ALPHA_PRICE_RAO,
            })
            .collect()
    }

    /// The netuids in use, ascending.
    pub fn added_netuids() -> Vec<u16> {
        let mut v: Vec<u16> = NetworksAdded::<T>::iter()
            .filter_map(|(n, added)| added.then_some(n))
            .collect();
        v.sort_unstable();
        v
    }
}

impl<T: Config> Pallet<T> {
    /// The block whose start runs `netuid`'s next epoch (`None` for no such subnet or tempo 0).
    pub fn next_epoch_start_block(netuid: u16) -> Option<u64> {
        let tempo = Tempo::<T>::get(netuid);
        if !NetworksAdded::<T>::get(netuid) || tempo == 0 {
            return None;
        }
        let block: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
        let due = LastMechansimStepBlock::<T>::get(netuid).saturating_add(u64::from(tempo));
        Some(due.max(block.saturating_add(1)))
    }
}
