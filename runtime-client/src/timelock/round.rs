//! Which drand round a timelocked commit is encrypted to. Pure.
//!
//! The rule. A commit included at block `c` is filed under the subnet's epoch index at `c`
//! (with subtensor's lookahead: an epoch that starts at `c` counts). The chain reveals it in
//! `on_initialize` of the first block of epoch `commit_epoch + RevealPeriodEpochs` (and of every
//! later block of that epoch until the round's pulse is there), before that block's own pulses
//! are written, so the pulse must be on chain by the block before. The commit is therefore
//! encrypted to the latest round due at the time of block `reveal_block − 2` (one block of
//! margin for the pulse's lag), estimated as `now_ms + (reveal_block − 2 − block) · block_ms`
//! with the block time measured from `Timestamp.Now` over the last few blocks (12 s without
//! history). It is never a round already on chain (`LastStoredRound + 1` at least): the
//! weights would be readable at once.
//!
//! Epoch schedules, by what the runtime stores:
//! - stateful (subtensor since May 2026: `SubnetEpochIndex`, `LastEpochBlock`): the next epoch
//!   starts at `min(LastEpochBlock + tempo, PendingEpochAt if > 0)`, then every `tempo` blocks;
//! - legacy subtensor (`BlocksSinceLastStep`, no `SubnetEpochIndex`): the epoch index of block
//!   `b` is `(b + netuid + 1) / (tempo + 1)`;
//! - the kiln devnet: epoch `k` spans blocks `k·tempo .. (k+1)·tempo − 1`.
//!
//! Deferred epochs (subtensor's per-block epoch cap) and owner-triggered ones after the read
//! shift the reveal by the deferral; the reveal then waits for the pulse, which is already there.

use kiln_drand::BeaconClock;

/// Block time assumed when the chain has no history to measure it from (subtensor's 12 s).
pub const DEFAULT_BLOCK_MS: u64 = 12_000;

/// A subnet's epochs as seen at one block: the index now, where the next one starts, and how
/// many blocks each one lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochSchedule {
    /// The block the schedule was read at.
    pub block: u64,
    /// The epoch index at `block` (commits made in it are filed under this index).
    pub epoch: u64,
    /// The first block after `block` that starts a new epoch.
    pub next_start: u64,
    /// Blocks between two epoch starts (at least 1).
    pub len: u64,
}

impl EpochSchedule {
    /// subtensor's stateful epochs: `SubnetEpochIndex`, `LastEpochBlock` and `PendingEpochAt`
    /// (0: none) read at `block`. An overdue epoch starts at the next block. `None` for tempo 0
    /// (no epochs, so no reveals).
    pub fn stateful(
        block: u64,
        tempo: u16,
        epoch_index: u64,
        last_epoch_block: u64,
        pending_epoch_at: u64,
    ) -> Option<Self> {
        let len = u64::from(tempo);
        if len == 0 {
            return None;
        }
        let mut next = last_epoch_block.saturating_add(len);
        if pending_epoch_at > 0 {
            next = next.min(pending_epoch_at);
        }
        Some(EpochSchedule {
            block,
            epoch: epoch_index,
            next_start: next.max(block + 1),
            len,
        })
    }

    /// subtensor before stateful epochs: epoch index `(b + netuid + 1) / (tempo + 1)`.
    pub fn legacy(block: u64, netuid: u16, tempo: u16) -> Option<Self> {
        if tempo == 0 {
            return None;
        }
        let len = u64::from(tempo) + 1;
        let shift = u64::from(netuid) + 1;
        let epoch = (block + shift) / len;
        Some(EpochSchedule {
            block,
            epoch,
            next_start: (epoch + 1) * len - shift,
            len,
        })
    }

    /// The kiln devnet: epoch index `b / tempo`.
    pub fn fixed(block: u64, tempo: u16) -> Option<Self> {
        let len = u64::from(tempo);
        if len == 0 {
            return None;
        }
        let epoch = block / len;
        Some(EpochSchedule {
            block,
            epoch,
            next_start: (epoch + 1) * len,
            len,
        })
    }

    /// The epoch index at block `b ≥ block`, an epoch starting at `b` included.
    pub fn epoch_at(&self, b: u64) -> u64 {
        if b < self.next_start {
            self.epoch
        } else {
            self.epoch + 1 + (b - self.next_start) / self.len
        }
    }

    /// The first block of epoch `k` (`k > epoch`; `block + 1` for earlier ones).
    pub fn start_of(&self, k: u64) -> u64 {
        if k <= self.epoch {
            return self.block + 1;
        }
        self.next_start + (k - self.epoch - 1) * self.len
    }

    /// The first block at which a commit included at `commit_block` can be revealed.
    pub fn reveal_block(&self, commit_block: u64, reveal_period: u64) -> u64 {
        self.start_of(self.epoch_at(commit_block) + reveal_period.max(1))
    }
}

/// Milliseconds per block from `(block number, Timestamp.Now)` samples in block order: the
/// lower median of the per-block intervals between consecutive samples, skipping samples without
/// a timestamp (genesis has none); [`DEFAULT_BLOCK_MS`] when no interval is left. One stalled
/// stretch does not skew it, and in doubt it takes the faster time: a round due early only opens
/// the weights to everyone a little before the chain applies them, while one due late can miss
/// the reveal epoch and expire.
pub fn block_ms(samples: &[(u64, u64)]) -> u64 {
    let timed: Vec<(u64, u64)> = samples.iter().copied().filter(|&(_, ms)| ms > 0).collect();
    let mut intervals: Vec<u64> = timed
        .windows(2)
        .filter(|w| w[1].0 > w[0].0 && w[1].1 > w[0].1)
        .map(|w| ((w[1].1 - w[0].1) / (w[1].0 - w[0].0)).max(1))
        .collect();
    if intervals.is_empty() {
        return DEFAULT_BLOCK_MS;
    }
    intervals.sort_unstable();
    intervals[(intervals.len() - 1) / 2]
}

/// What the reveal round is predicted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundInputs {
    /// The latest block.
    pub block: u64,
    /// Its `Timestamp.Now` (unix ms).
    pub now_ms: u64,
    /// Estimated milliseconds per block.
    pub block_ms: u64,
    /// The first block the commit can be revealed at.
    pub reveal_block: u64,
    /// The beacon's schedule (`BeaconConfig`).
    pub clock: BeaconClock,
    /// `Drand.LastStoredRound`.
    pub last_stored_round: u64,
}

/// The unix ms at which the reveal round's pulse should be due: the time of block
/// `reveal_block − 2`.
pub fn target_ms(i: &RoundInputs) -> u64 {
    let blocks = i.reveal_block.saturating_sub(2).saturating_sub(i.block);
    i.now_ms.saturating_add(blocks.saturating_mul(i.block_ms))
}

/// The round to encrypt to: the latest one due at [`target_ms`], and never one already stored.
pub fn reveal_round(i: &RoundInputs) -> u64 {
    i.clock
        .round_at(target_ms(i) / 1000)
        .max(i.last_stored_round + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// subtensor's stateful rule, one block at a time: the index after each block's epoch.
    fn simulate_stateful(
        from: u64,
        to: u64,
        tempo: u64,
        mut index: u64,
        mut last: u64,
        mut pending: u64,
    ) -> Vec<u64> {
        (from..=to)
            .map(|b| {
                if (pending > 0 && b >= pending) || b.saturating_sub(last) >= tempo {
                    index += 1;
                    last = b;
                    pending = 0;
                }
                index
            })
            .collect()
    }

    fn check_against(s: &EpochSchedule, truth: impl Fn(u64) -> u64, horizon: u64) {
        let mut prev = s.epoch;
        for b in s.block + 1..=s.block + horizon {
            let k = truth(b);
            assert_eq!(s.epoch_at(b), k, "epoch at block {b}");
            if k != prev {
                assert_eq!(s.start_of(k), b, "start of epoch {k}");
            }
            prev = k;
        }
    }

    #[test]
    fn finney_style_legacy_epochs_match_the_sdk_formula() {
        // bittensor-drand: first_reveal_blk = ((block+netuid+1)/(tempo+1) + period)·(tempo+1)
        // − (netuid+1); netuid 3, tempo 360, period 1, block 1000.
        let s = EpochSchedule::legacy(1000, 3, 360).unwrap();
        assert_eq!(s.reveal_block(1001, 1), (1004 / 361 + 1) * 361 - 4);
        assert_eq!(s.reveal_block(1001, 1), 1079);
        assert_eq!(s.epoch_at(1078), 2);
        assert_eq!(s.epoch_at(1079), 3);
    }

    #[test]
    fn a_commit_in_an_epochs_first_block_reveals_a_full_epoch_later() {
        let s = EpochSchedule::fixed(19, 10).unwrap();
        assert_eq!(s.reveal_block(19, 1), 20);
        assert_eq!(s.reveal_block(20, 1), 30);
        assert_eq!(s.reveal_block(20, 3), 50);
        assert!(EpochSchedule::fixed(5, 0).is_none());
        assert!(EpochSchedule::legacy(5, 1, 0).is_none());
        assert!(EpochSchedule::stateful(5, 0, 1, 0, 0).is_none());
    }

    #[test]
    fn a_round_already_stored_is_never_chosen() {
        let clock = BeaconClock {
            genesis_time: 1_000,
            period: 3,
        };
        let i = RoundInputs {
            block: 100,
            now_ms: 1_000_000,
            block_ms: 12_000,
            reveal_block: 112,
            clock,
            last_stored_round: 10,
        };
        // Block 110 is due at 1 120 s: round (1120 − 1000) / 3 + 1.
        assert_eq!(target_ms(&i), 1_120_000);
        assert_eq!(reveal_round(&i), 41);
        // A beacon ahead of the block clock: the next round to be stored, not the target's.
        let ahead = RoundInputs {
            last_stored_round: 50,
            ..i
        };
        assert_eq!(reveal_round(&ahead), 51);
    }

    #[test]
    fn block_time_is_the_median_interval_of_timed_blocks() {
        assert_eq!(block_ms(&[]), DEFAULT_BLOCK_MS);
        assert_eq!(block_ms(&[(10, 5_000)]), DEFAULT_BLOCK_MS);
        // Genesis has no timestamp; a clock that does not advance tells nothing.
        assert_eq!(block_ms(&[(0, 0), (1, 5_000)]), DEFAULT_BLOCK_MS);
        assert_eq!(block_ms(&[(4, 5_000), (5, 5_000)]), DEFAULT_BLOCK_MS);
        assert_eq!(block_ms(&[(0, 0), (1, 1_000), (2, 1_020), (3, 1_040)]), 20);
        // A devnet's slow first block: of two intervals, the shorter.
        assert_eq!(block_ms(&[(1, 1_000), (2, 1_538), (3, 1_562)]), 24);
        // One stall (a paused devnet) does not move the estimate.
        let stalled = [
            (1, 1_000),
            (2, 1_020),
            (3, 601_020),
            (4, 601_040),
            (5, 601_060),
        ];
        assert_eq!(block_ms(&stalled), 20);
        // Samples a few blocks apart count per block.
        assert_eq!(block_ms(&[(10, 0), (20, 120_000), (30, 240_000)]), 12_000);
        assert_eq!(block_ms(&[(0, 1), (4, 4)]), 1);
    }

    proptest! {
        #[test]
        fn stateful_schedule_matches_the_block_by_block_rule(
            block in 0u64..100_000, tempo in 1u16..500, index in 0u64..1_000,
            behind in 0u64..600, pending_in in prop::option::of(0u64..1_000),
        ) {
            let last = block.saturating_sub(behind);
            let pending = pending_in.map_or(0, |p| block + 1 + p);
            let s = EpochSchedule::stateful(block, tempo, index, last, pending).unwrap();
            let horizon = 4 * u64::from(tempo) + 1_000;
            let truth = simulate_stateful(block + 1, block + horizon, u64::from(tempo), index, last, pending);
            check_against(&s, |b| truth[(b - block - 1) as usize], horizon);
        }

        #[test]
        fn legacy_and_fixed_schedules_match_their_formulas(
            block in 0u64..1_000_000, tempo in 1u16..1_000, netuid in 0u16..128,
        ) {
            let legacy = EpochSchedule::legacy(block, netuid, tempo).unwrap();
            let len = u64::from(tempo) + 1;
            prop_assert_eq!(legacy.epoch, (block + u64::from(netuid) + 1) / len);
            check_against(&legacy, |b| (b + u64::from(netuid) + 1) / len, 3 * len);
            let fixed = EpochSchedule::fixed(block, tempo).unwrap();
            prop_assert_eq!(fixed.epoch, block / u64::from(tempo));
            check_against(&fixed, |b| b / u64::from(tempo), 3 * u64::from(tempo));
        }

        /// The reveal block starts epoch `commit epoch + period`, after the commit.
        #[test]
        fn reveal_block_starts_the_reveal_epoch(
            block in 0u64..1_000_000, tempo in 1u16..1_000, ahead in 1u64..2_000, period in 1u64..5,
        ) {
            let s = EpochSchedule::fixed(block, tempo).unwrap();
            let commit = block + ahead;
            let r = s.reveal_block(commit, period);
            prop_assert!(r > commit);
            prop_assert_eq!(s.epoch_at(r), s.epoch_at(commit) + period);
            prop_assert_eq!(s.epoch_at(r - 1), s.epoch_at(commit) + period - 1);
        }

        /// The round is the latest one due by block `reveal_block − 2` (so its pulse can land
        /// before the reveal, and the weights stay sealed as long as possible), and never one
        /// already stored.
        #[test]
        fn reveal_round_is_due_just_before_the_reveal_and_never_stored(
            genesis in 1_600_000_000u64..1_700_000_000, period in 1u64..30,
            now_s in 1_700_000_000u64..1_800_000_000, block in 1u64..10_000_000,
            ahead in 0u64..400, block_ms in 1u64..20_000, stored_lag in 0u64..100,
            stored_ahead in 0u64..400,
        ) {
            let clock = BeaconClock { genesis_time: genesis, period };
            let now_ms = now_s * 1000;
            let current = clock.round_at(now_s);
            let last_stored_round = current.saturating_sub(stored_lag) + stored_ahead;
            let i = RoundInputs { block, now_ms, block_ms, reveal_block: block + ahead, clock, last_stored_round };
            let round = reveal_round(&i);
            prop_assert!(round > last_stored_round);
            let target = target_ms(&i) / 1000;
            if round > last_stored_round + 1 {
                prop_assert!(clock.time_of(round) <= target);
            }
            prop_assert!(clock.time_of(round + 1) > target);
            // Later reveals never get earlier rounds.
            let later = RoundInputs { reveal_block: i.reveal_block + 1, ..i };
            prop_assert!(reveal_round(&later) >= round);
        }
    }
}
