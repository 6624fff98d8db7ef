//! Commit-reveal v4: a hotkey commits its weights encrypted to a future round of the chain's
//! drand beacon (`commit_timelocked_weights`); in the reveal epoch (`commit epoch +
//! RevealPeriodEpochs`) the runtime opens each commit with that round's pulse as soon as the
//! pulse is on chain, checks the payload's hotkey against the committer and applies the weights
//! with every `set_weights` check but the rate limit. A commit whose pulse has not arrived is
//! retried every block of the reveal epoch and dropped when the epoch ends. Reveals run at the
//! start of a block, before that block's epoch, so weights revealed in the first block of the
//! reveal epoch count in the epoch that closes it.

use super::BeaconPulses;
use super::pallet::*;
use alloc::vec::Vec;
use codec::Decode;
use frame_support::pallet_prelude::*;
use kiln_drand::WeightsTlockPayload;
use sp_runtime::traits::{BlakeTwo256, Hash};

/// Most unrevealed timelocked commits a hotkey may hold in one epoch.
const MAX_UNREVEALED: usize = 10;
/// The only commit-reveal version this chain accepts by default (subtensor's current).
pub const DEFAULT_COMMIT_REVEAL_VERSION: u16 = 4;
/// Largest ciphertext (subtensor's `MAX_CRV3_COMMIT_SIZE_BYTES`).
pub const MAX_COMMIT_BYTES: u32 = 5_000;

/// Why a stored commit was not applied (logged; subtensor logs the same cases).
enum Unrevealed {
    Ciphertext(kiln_drand::DecryptError),
    Payload,
    HotkeyMismatch,
    Rejected(DispatchError),
}

impl core::fmt::Display for Unrevealed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Ciphertext(e) => write!(f, "{e}"),
            Self::Payload => f.write_str("the plaintext is not a WeightsTlockPayload"),
            Self::HotkeyMismatch => f.write_str("the payload's hotkey is not the committer"),
            Self::Rejected(e) => write!(f, "set_weights refused it: {e:?}"),
        }
    }
}

impl<T: Config> Pallet<T> {
    pub(crate) fn do_commit_timelocked_weights(
        who: T::AccountId,
        netuid: u16,
        commit: BoundedVec<u8, ConstU32<MAX_COMMIT_BYTES>>,
        reveal_round: u64,
        commit_reveal_version: u16,
    ) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        ensure!(
            CommitRevealWeightsEnabled::<T>::get(netuid),
            Error::<T>::CommitRevealDisabled
        );
        ensure!(
            commit_reveal_version == CommitRevealWeightsVersion::<T>::get(),
            Error::<T>::IncorrectCommitRevealVersion
        );
        let (uid, now) = Self::check_commit_rate(netuid, &who)?;
        let epoch = Self::current_epoch(netuid);
        TimelockedWeightCommits::<T>::try_mutate(netuid, epoch, |commits| -> DispatchResult {
            ensure!(
                commits.iter().filter(|(a, ..)| a == &who).count() < MAX_UNREVEALED,
                Error::<T>::TooManyUnrevealedCommits
            );
            let hash = BlakeTwo256::hash(&commit);
            commits.push_back((who.clone(), now, commit, reveal_round));
            Self::deposit_event(Event::TimelockedWeightsCommitted(
                who.clone(),
                netuid,
                hash,
                reveal_round,
            ));
            Ok(())
        })?;
        Self::set_last_update(netuid, uid, now);
        Ok(())
    }

    /// Sets the commit-reveal version commits must name.
    pub fn set_commit_reveal_version(version: u16) {
        CommitRevealWeightsVersion::<T>::put(version);
        Self::deposit_event(Event::CommitRevealVersionSet(version));
    }

    /// Opens and applies `netuid`'s commits due this block (see the module docs).
    pub(crate) fn reveal_timelocked(netuid: u16) {
        let period = RevealPeriodEpochs::<T>::get(netuid);
        let epoch = Self::current_epoch(netuid);
        let Some(reveal_epoch) = epoch.checked_sub(period) else {
            return;
        };
        let expired: Vec<u64> = TimelockedWeightCommits::<T>::iter_key_prefix(netuid)
            .filter(|e| *e < reveal_epoch)
            .collect();
        for e in expired {
            for (who, block, _, round) in TimelockedWeightCommits::<T>::take(netuid, e) {
                log::info!(target: "kiln::epoch", "netuid {netuid}: commit of {who:?} at block {block} expired unrevealed (round {round} never arrived)");
            }
        }
        let entries = TimelockedWeightCommits::<T>::take(netuid, reveal_epoch);
        if entries.is_empty() {
            return;
        }
        let mut waiting = alloc::collections::VecDeque::new();
        for (who, block, commit, round) in entries {
            let Some(signature) = T::Beacon::signature(round) else {
                waiting.push_back((who, block, commit, round));
                continue;
            };
            match Self::open_and_apply(&who, netuid, &commit, &signature) {
                Ok(()) => Self::deposit_event(Event::TimelockedWeightsRevealed(netuid, who)),
                Err(why) => {
                    log::info!(target: "kiln::epoch", "netuid {netuid}: commit of {who:?} at block {block} not applied: {why}")
                }
            }
        }
        if !waiting.is_empty() {
            TimelockedWeightCommits::<T>::insert(netuid, reveal_epoch, waiting);
        }
    }

    fn open_and_apply(
        who: &T::AccountId,
        netuid: u16,
        commit: &[u8],
        signature: &[u8],
    ) -> Result<(), Unrevealed> {
        let plain = kiln_drand::decrypt(commit, signature).map_err(Unrevealed::Ciphertext)?;
        let payload =
            WeightsTlockPayload::decode(&mut &plain[..]).map_err(|_| Unrevealed::Payload)?;
        let hotkey = T::AccountId::decode(&mut &payload.hotkey[..])
            .map_err(|_| Unrevealed::HotkeyMismatch)?;
        if &hotkey != who {
            return Err(Unrevealed::HotkeyMismatch);
        }
        Self::do_set_weights(
            hotkey,
            netuid,
            payload.uids,
            payload.values,
            payload.version_key,
            false,
        )
        .map_err(Unrevealed::Rejected)
    }

    /// The earliest block of each hotkey's pending timelocked commits on `netuid`.
    pub(crate) fn first_timelocked_commits(
        netuid: u16,
    ) -> alloc::collections::BTreeMap<T::AccountId, u64> {
        let mut first = alloc::collections::BTreeMap::new();
        for commits in TimelockedWeightCommits::<T>::iter_prefix_values(netuid) {
            for (who, block, ..) in commits {
                first
                    .entry(who)
                    .and_modify(|b: &mut u64| *b = (*b).min(block))
                    .or_insert(block);
            }
        }
        first
    }
}
