//! The epoch: every `Tempo` blocks, Yuma consensus (`kiln-yuma`) over the subnet's storage, and
//! the results written back with subtensor's storage names. Emission is 1 TAO per block since the
//! previous epoch, paid as stake to the hotkeys that earned it.

use super::pallet::*;
use alloc::vec::Vec;
use kiln_yuma::{EpochInput, Params, epoch};

/// Rao emitted per block (subtensor's initial block emission).
const BLOCK_EMISSION: u64 = 1_000_000_000;

impl<T: Config> Pallet<T> {
    pub(crate) fn maybe_run_epoch(netuid: u16, block: u64) {
        let tempo = Tempo::<T>::get(netuid);
        let last = LastMechansimStepBlock::<T>::get(netuid);
        if tempo == 0 || block.saturating_sub(last) < u64::from(tempo) {
            return;
        }
        let n = SubnetworkN::<T>::get(netuid);
        let keys: Vec<T::AccountId> = (0..n).map(|u| Keys::<T>::get(netuid, u)).collect();
        let stake: Vec<u64> = keys
            .iter()
            .map(|k| TotalHotkeyAlpha::<T>::get(k, netuid))
            .collect();
        let reg: Vec<u64> = (0..n)
            .map(|u| BlockAtRegistration::<T>::get(netuid, u))
            .collect();
        let weights: Vec<Vec<(u16, u16)>> = (0..n).map(|u| Weights::<T>::get(netuid, u)).collect();
        let bonds: Vec<Vec<(u16, u16)>> = (0..n).map(|u| Bonds::<T>::get(netuid, u)).collect();
        let mut last_update = LastUpdate::<T>::get(netuid);
        last_update.resize(usize::from(n), 0);
        let mut permit = ValidatorPermit::<T>::get(netuid);
        permit.resize(usize::from(n), false);
        let owner = Uids::<T>::get(netuid, SubnetOwnerHotkey::<T>::get(netuid));
        // With commit-reveal, weights committed before a uid registered do not count for it.
        let commit_blocks: Option<Vec<u64>> =
            CommitRevealWeightsEnabled::<T>::get(netuid).then(|| {
                let timelocked = Self::first_timelocked_commits(netuid);
                keys.iter()
                    .map(|k| {
                        let hashed = WeightCommits::<T>::get(netuid, k)
                            .and_then(|c| c.iter().map(|&(_, _, block, _)| block).min());
                        hashed
                            .into_iter()
                            .chain(timelocked.get(k).copied())
                            .min()
                            .unwrap_or(u64::MAX)
                    })
                    .collect()
            });
        let emission = BLOCK_EMISSION.saturating_mul(block.saturating_sub(last).max(1));
        let input = EpochInput {
            block,
            params: Params {
                tempo,
                kappa: Kappa::<T>::get(netuid),
                bonds_penalty: BondsPenalty::<T>::get(netuid),
                bonds_moving_average: BondsMovingAverage::<T>::get(netuid),
                max_allowed_validators: MaxAllowedValidators::<T>::get(netuid),
                activity_cutoff: u64::from(ActivityCutoff::<T>::get(netuid)),
                stake_threshold: StakeThreshold::<T>::get(),
            },
            stake: &stake,
            last_update: &last_update,
            block_at_registration: &reg,
            validator_permit: &permit,
            weights: &weights,
            bonds: &bonds,
            owner,
            last_epoch_block: (last > 0).then_some(last),
            commit_blocks: commit_blocks.as_deref(),
            emission,
        };
        LastMechansimStepBlock::<T>::insert(netuid, block);
        LastEpochBlock::<T>::insert(netuid, block);
        SubnetEpochIndex::<T>::mutate(netuid, |i| *i = i.saturating_add(1));
        let Ok(out) = epoch(&input) else {
            log::warn!(target: "kiln::epoch", "netuid {netuid}: inconsistent epoch inputs");
            return;
        };
        for (u, k) in keys.iter().enumerate() {
            let earned = out.server_emission[u].saturating_add(out.validator_emission[u]);
            if earned > 0 {
                TotalHotkeyAlpha::<T>::mutate(k, netuid, |s| *s = s.saturating_add(earned));
            }
        }
        for (u, row) in out.bonds.into_iter().enumerate() {
            Bonds::<T>::insert(netuid, u as u16, row);
        }
        Active::<T>::insert(netuid, out.active);
        StakeWeight::<T>::insert(netuid, out.stake_weight);
        Consensus::<T>::insert(netuid, out.consensus);
        Rank::<T>::insert(netuid, out.rank);
        Trust::<T>::insert(netuid, out.trust);
        Incentive::<T>::insert(netuid, out.incentive);
        Dividends::<T>::insert(netuid, out.dividends);
        ValidatorTrust::<T>::insert(netuid, out.validator_trust);
        ValidatorPermit::<T>::insert(netuid, out.validator_permit);
        PruningScores::<T>::insert(netuid, out.pruning_scores);
        Emission::<T>::insert(netuid, out.emission);
    }
}
