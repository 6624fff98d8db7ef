//! How many manifests behind the validator's model a miner's base model is, counting only the
//! manifests the miner could have applied: those committed on chain at least
//! [`SYNC_SLACK_BLOCKS`] before the window's sync cutoff (the first
//! `grace + blocks_per_window / 4` blocks of the window, the miners' default wait), and not the
//! newest one when the validator's own gateway, which serves manifests, failed a probe between
//! that manifest's commitment and the cutoff, or when it is the run's first. A manifest the
//! validator published late, or could not publish, never makes an honest miner stale. Pure.

use kiln_protocol::{Digest, WindowClock};
use std::collections::BTreeMap;

/// Blocks a miner is given to download a manifest and its artifacts before the sync cutoff: a
/// manifest committed later does not count against it.
pub const SYNC_SLACK_BLOCKS: u64 = 2;

/// One recorded manifest, as the lineage needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestRecord {
    /// The model it was applied to.
    pub base_model_hash: Digest,
    /// The block its commitment landed in (`None`: not published yet).
    pub commit_block: Option<u64>,
}

/// The last block at which miners of `window` are expected to pick up the previous window's
/// manifest: the default wait of `kiln miner` (`--manifest-wait-blocks`).
pub fn sync_cutoff(clock: &WindowClock, window: u64) -> u64 {
    clock.start_block(window) + clock.commit_grace_blocks() + clock.blocks_per_window() / 4
}

/// Manifests behind `current` for each base in `newest_first` (the validator's manifests,
/// newest first): `current` is 0 behind, and each manifest committed [`SYNC_SLACK_BLOCKS`]
/// before `cutoff` adds one for the bases before it; the newest is not counted when
/// `excuse_newest` (its gateway failed before the cutoff, or it is the run's first manifest,
/// which miners do not wait for since none existed before it).
pub fn behind_by_base(
    current: Digest,
    newest_first: &[ManifestRecord],
    cutoff: u64,
    excuse_newest: bool,
) -> BTreeMap<Digest, u32> {
    let mut out = BTreeMap::from([(current, 0)]);
    let mut behind = 0u32;
    for (i, m) in newest_first.iter().enumerate() {
        let in_time = m
            .commit_block
            .is_some_and(|b| b.saturating_add(SYNC_SLACK_BLOCKS) <= cutoff);
        if in_time && !(i == 0 && excuse_newest) {
            behind += 1;
        }
        out.entry(m.base_model_hash).or_insert(behind);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(base: u8, commit_block: Option<u64>) -> ManifestRecord {
        ManifestRecord {
            base_model_hash: [base; 32],
            commit_block,
        }
    }

    #[test]
    fn only_manifests_published_in_time_count() {
        // Models 3 (current) ← 2 ← 1 ← 0; manifests newest first: base 2, base 1, base 0.
        let chain = [m(2, Some(50)), m(1, Some(30)), m(0, Some(10))];
        let all = behind_by_base([3; 32], &chain, 52, false);
        assert_eq!(all[&[3; 32]], 0);
        assert_eq!(all[&[2; 32]], 1);
        assert_eq!(all[&[0; 32]], 3);
        // The newest manifest landed too close to the cutoff: a miner on its base is not behind.
        let late = behind_by_base([3; 32], &chain, 51, false);
        assert_eq!((late[&[2; 32]], late[&[1; 32]]), (0, 1));
        // Never published: the same.
        let unpublished = [m(2, None), m(1, Some(30))];
        assert_eq!(
            behind_by_base([3; 32], &unpublished, 60, false)[&[2; 32]],
            0
        );
        // The manifests' gateway failed before the cutoff: the newest does not count.
        let failed = behind_by_base([3; 32], &chain, 60, true);
        assert_eq!((failed[&[2; 32]], failed[&[1; 32]]), (0, 1));
    }

    #[test]
    fn the_cutoff_is_the_miners_default_wait() {
        // 20 blocks per window, 4 of grace: window 3 starts at block 60, miners wait 4 + 5.
        let clock = WindowClock::new(20, 4).unwrap();
        assert_eq!(sync_cutoff(&clock, 3), 69);
    }

    proptest! {
        /// Excusing can only lower a base's count, and never below zero or above the manifests.
        #[test]
        fn counts_are_bounded_and_excuses_only_lower_them(
            blocks in proptest::collection::vec(proptest::option::of(0u64..100), 0..12),
            cutoff in 0u64..100,
        ) {
            let chain: Vec<ManifestRecord> = blocks
                .iter()
                .enumerate()
                .map(|(i, b)| m(i as u8 + 1, *b))
                .collect();
            let strict = behind_by_base([0; 32], &chain, u64::MAX, false);
            let lenient = behind_by_base([0; 32], &chain, cutoff, true);
            for (base, n) in &lenient {
                prop_assert!(*n <= strict[base]);
                prop_assert!(*n as usize <= chain.len());
            }
        }
    }
}
