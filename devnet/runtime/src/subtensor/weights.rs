//! `set_weights` validation, in subtensor's order, so each invalid vector fails with the same
//! error name as on finney. Reveals run the same checks without the rate limit.

use super::pallet::*;
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use kiln_yuma::math::u16_max_upscale;
use sp_runtime::SaturatedConversion;

impl<T: Config> Pallet<T> {
    pub(crate) fn do_set_weights(
        hotkey: T::AccountId,
        netuid: u16,
        uids: Vec<u16>,
        values: Vec<u16>,
        version_key: u64,
        rate_limited: bool,
    ) -> DispatchResult {
        ensure!(netuid != 0, Error::<T>::CanNotSetRootNetworkWeights);
        ensure!(
            uids.len() == values.len(),
            Error::<T>::WeightVecNotEqualSize
        );
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        let n = SubnetworkN::<T>::get(netuid);
        ensure!(
            uids.len() <= usize::from(n),
            Error::<T>::UidsLengthExceedUidsInSubNet
        );
        let uid = Uids::<T>::get(netuid, &hotkey).ok_or(Error::<T>::HotKeyNotRegisteredInSubNet)?;
        let is_owner = SubnetOwnerHotkey::<T>::get(netuid) == hotkey;
        ensure!(
            is_owner || TotalHotkeyAlpha::<T>::get(&hotkey, netuid) >= StakeThreshold::<T>::get(),
            Error::<T>::NotEnoughStakeToSetWeights
        );
        let required = WeightsVersionKey::<T>::get(netuid);
        ensure!(
            required == 0 || version_key >= required,
            Error::<T>::IncorrectWeightVersionKey
        );
        let now: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
        let mut last = LastUpdate::<T>::get(netuid);
        let prev = last.get(usize::from(uid)).copied().unwrap_or(0);
        ensure!(
            !rate_limited
                || prev == 0
                || now.saturating_sub(prev) >= WeightsSetRateLimit::<T>::get(netuid),
            Error::<T>::SettingWeightsTooFast
        );
        let self_weight = uids.len() == 1 && uids[0] == uid;
        let permitted = ValidatorPermit::<T>::get(netuid)
            .get(usize::from(uid))
            .copied()
            .unwrap_or(false);
        ensure!(
            self_weight || is_owner || permitted,
            Error::<T>::NeuronNoValidatorPermit
        );
        let mut seen = uids.clone();
        seen.sort_unstable();
        seen.dedup();
        ensure!(seen.len() == uids.len(), Error::<T>::DuplicateUids);
        ensure!(
            uids.iter().all(|&u| u < n),
            Error::<T>::UidVecContainInvalidOne
        );
        let min = MinAllowedWeights::<T>::get(netuid).min(n);
        ensure!(
            self_weight || uids.len() >= usize::from(min),
            Error::<T>::WeightVecLengthIsLow
        );
        let upscaled = u16_max_upscale(&values);
        let limit = MaxWeightsLimit::<T>::get(netuid);
        if limit != u16::MAX && !self_weight {
            let sum: u64 = upscaled.iter().map(|&v| u64::from(v)).sum();
            let max = upscaled.iter().copied().max().map_or(0, u64::from);
            // max / sum ≤ limit / 65535, in integers.
            ensure!(
                sum == 0 || max * u64::from(u16::MAX) <= u64::from(limit) * sum,
                Error::<T>::MaxWeightExceeded
            );
        }
        Weights::<T>::insert(
            netuid,
            uid,
            uids.into_iter().zip(upscaled).collect::<Vec<_>>(),
        );
        if last.len() <= usize::from(uid) {
            last.resize(usize::from(uid) + 1, 0);
        }
        // With commit-reveal, the commit (not the reveal) refreshes `LastUpdate`.
        if rate_limited {
            last[usize::from(uid)] = now;
            LastUpdate::<T>::insert(netuid, last);
        }
        Self::deposit_event(Event::WeightsSet(netuid, uid));
        Ok(())
    }
}
