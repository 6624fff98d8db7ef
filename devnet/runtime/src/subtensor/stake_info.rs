//! `StakeInfoRuntimeApi`: a coldkey's stake per (hotkey, subnet). On the devnet a hotkey's
//! alpha belongs to its owner coldkey (there is no delegation), so a coldkey's stake is its own
//! hotkeys' `TotalHotkeyAlpha`.

use super::pallet::*;
use alloc::vec::Vec;
use codec::{Compact, Decode, Encode};
use scale_info::TypeInfo;

/// subtensor's `StakeInfo`, field for field.
#[derive(Encode, Decode, TypeInfo, Clone, Debug, PartialEq, Eq)]
pub struct StakeInfo<AccountId> {
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub netuid: Compact<u16>,
    /// Alpha staked.
    pub stake: Compact<u64>,
    /// Alpha locked (none on the devnet).
    pub locked: Compact<u64>,
    /// Alpha earned at the subnet's last epoch.
    pub emission: Compact<u64>,
    /// TAO earned (root; none on the devnet).
    pub tao_emission: Compact<u64>,
    /// Drained (none on the devnet).
    pub drain: Compact<u64>,
    /// Whether the hotkey holds a uid on the subnet.
    pub is_registered: bool,
}

impl<T: Config> Pallet<T> {
    /// Records `coldkey` as the owner of `hotkey` (and lists it among the coldkey's hotkeys).
    pub(crate) fn set_owner(hotkey: &T::AccountId, coldkey: &T::AccountId) {
        Owner::<T>::insert(hotkey, coldkey);
        OwnedHotkeys::<T>::mutate(coldkey, |owned| {
            if !owned.contains(hotkey) {
                owned.push(hotkey.clone());
            }
        });
    }

    /// The stake of `coldkey` through `hotkey` on `netuid`, if the hotkey is the coldkey's.
    pub fn stake_info(
        hotkey: &T::AccountId,
        coldkey: &T::AccountId,
        netuid: u16,
    ) -> Option<StakeInfo<T::AccountId>> {
        if Owner::<T>::get(hotkey) != *coldkey || !NetworksAdded::<T>::get(netuid) {
            return None;
        }
        let uid = Uids::<T>::get(netuid, hotkey);
        let emission = uid
            .and_then(|uid| Emission::<T>::get(netuid).get(usize::from(uid)).copied())
            .unwrap_or(0);
        Some(StakeInfo {
            hotkey: hotkey.clone(),
            coldkey: coldkey.clone(),
            netuid: Compact(netuid),
            stake: Compact(TotalHotkeyAlpha::<T>::get(hotkey, netuid)),
            locked: Compact(0),
            emission: Compact(emission),
            tao_emission: Compact(0),
            drain: Compact(0),
            is_registered: uid.is_some(),
        })
    }

    /// Every non-zero stake of `coldkey`, by hotkey then netuid.
    pub fn stake_infos(coldkey: &T::AccountId) -> Vec<StakeInfo<T::AccountId>> {
        OwnedHotkeys::<T>::get(coldkey)
            .iter()
            .flat_map(|hotkey| {
                TotalHotkeyAlpha::<T>::iter_prefix(hotkey)
                    .filter(|(_, alpha)| *alpha > 0)
                    .filter_map(|(netuid, _)| Self::stake_info(hotkey, coldkey, netuid))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}
