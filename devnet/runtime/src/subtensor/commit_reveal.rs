//! Commit-reveal v2: a hotkey commits the hash of its weights, then reveals them exactly
//! `RevealPeriodEpochs` epochs later; the revealed vector passes every `set_weights` check.
//!
//! Epoch `k` of a subnet spans blocks `k·tempo .. (k+1)·tempo − 1` (the epoch runs at the start of
//! block `k·tempo`), so the epoch index of block `b` is `b / tempo`.

use super::pallet::*;
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use sp_core::H256;
use sp_runtime::SaturatedConversion;
use sp_runtime::traits::{BlakeTwo256, Hash};

/// Most unrevealed commits a hotkey may hold on one subnet.
const MAX_UNREVEALED: usize = 10;

impl<T: Config> Pallet<T> {
    /// The epoch index of the current block on `netuid`.
    pub(crate) fn current_epoch(netuid: u16) -> u64 {
        let block: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
        block / u64::from(Tempo::<T>::get(netuid).max(1))
    }

    /// The committer's uid and the current block, once the weights rate limit allows a commit
    /// (`HotKeyNotRegisteredInSubNet`, `CommittingWeightsTooFast`).
    pub(crate) fn check_commit_rate(
        netuid: u16,
        hotkey: &T::AccountId,
    ) -> Result<(u16, u64), DispatchError> {
        let uid = Uids::<T>::get(netuid, hotkey).ok_or(Error::<T>::HotKeyNotRegisteredInSubNet)?;
        let now: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
        let prev = LastUpdate::<T>::get(netuid)
            .get(usize::from(uid))
            .copied()
            .unwrap_or(0);
        ensure!(
            prev == 0 || now.saturating_sub(prev) >= WeightsSetRateLimit::<T>::get(netuid),
            Error::<T>::CommittingWeightsTooFast
        );
        Ok((uid, now))
    }

    /// Records `now` as `uid`'s last weights update on `netuid`.
    pub(crate) fn set_last_update(netuid: u16, uid: u16, now: u64) {
        LastUpdate::<T>::mutate(netuid, |last| {
            if last.len() <= usize::from(uid) {
                last.resize(usize::from(uid) + 1, 0);
            }
            last[usize::from(uid)] = now;
        });
    }

    pub(crate) fn do_commit_weights(
        hotkey: T::AccountId,
        netuid: u16,
        commit_hash: H256,
    ) -> DispatchResult {
        ensure!(
            CommitRevealWeightsEnabled::<T>::get(netuid),
            Error::<T>::CommitRevealDisabled
        );
        let (uid, now) = Self::check_commit_rate(netuid, &hotkey)?;
        let epoch = Self::current_epoch(netuid);
        let expired_before = epoch.saturating_sub(RevealPeriodEpochs::<T>::get(netuid));
        let mut commits = WeightCommits::<T>::get(netuid, &hotkey).unwrap_or_default();
        commits.retain(|&(_, e, _, _)| e >= expired_before);
        ensure!(
            commits.len() < MAX_UNREVEALED,
            Error::<T>::TooManyUnrevealedCommits
        );
        commits.push_back((commit_hash, epoch, now, 0));
        WeightCommits::<T>::insert(netuid, &hotkey, commits);
        Self::set_last_update(netuid, uid, now);
        Self::deposit_event(Event::WeightsCommitted(hotkey, netuid, commit_hash));
        Ok(())
    }

    pub(crate) fn do_reveal_weights(
        hotkey: T::AccountId,
        netuid: u16,
        uids: Vec<u16>,
        values: Vec<u16>,
        salt: Vec<u16>,
        version_key: u64,
    ) -> DispatchResult {
        ensure!(
            CommitRevealWeightsEnabled::<T>::get(netuid),
            Error::<T>::CommitRevealDisabled
        );
        let mut commits =
            WeightCommits::<T>::get(netuid, &hotkey).ok_or(Error::<T>::NoWeightsCommitFound)?;
        let hash = BlakeTwo256::hash_of(&(&hotkey, netuid, &uids, &values, &salt, version_key));
        let position = commits
            .iter()
            .position(|&(h, _, _, _)| h == hash)
            .ok_or(Error::<T>::InvalidRevealCommitHashNotMatch)?;
        let (_, commit_epoch, _, _) = commits[position];
        let reveal_epoch = commit_epoch.saturating_add(RevealPeriodEpochs::<T>::get(netuid));
        let epoch = Self::current_epoch(netuid);
        ensure!(epoch >= reveal_epoch, Error::<T>::RevealTooEarly);
        ensure!(epoch == reveal_epoch, Error::<T>::ExpiredWeightCommit);
        Self::do_set_weights(hotkey.clone(), netuid, uids, values, version_key, false)?;
        commits.remove(position);
        if commits.is_empty() {
            WeightCommits::<T>::remove(netuid, &hotkey);
        } else {
            WeightCommits::<T>::insert(netuid, &hotkey, commits);
        }
        Self::deposit_event(Event::WeightsRevealed(hotkey, netuid, hash));
        Ok(())
    }
}
