//! The window clock: pure functions from block numbers to training windows.
//!
//! Window `w` spans blocks `[w·B, (w+1)·B − 1]` where `B = blocks_per_window`. A miner's
//! commitment for window `w` is accepted from the first block of `w` up to and including the
//! **commit deadline** `end(w) + grace`, so a miner that finishes training at the end of `w`
//! has `grace` blocks of the next window to land its commitment. The block after the
//! deadline is the first block whose hash nobody could know while commitments for `w` were
//! still open; its hash seeds the window's random evaluation pool.
//!
//! All arithmetic saturates at `u64::MAX` instead of overflowing.

use thiserror::Error;

/// Invalid window clock parameters.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WindowClockError {
    /// `blocks_per_window` must be at least 1.
    #[error("blocks_per_window must be at least 1")]
    ZeroBlocksPerWindow,
    /// The grace period must end before the next window's own deadline begins to matter.
    #[error(
        "commit_grace_blocks ({grace}) must be smaller than blocks_per_window ({blocks_per_window})"
    )]
    GraceTooLong {
        /// The requested grace.
        grace: u64,
        /// The window length.
        blocks_per_window: u64,
    },
}

/// Maps block numbers to windows and commit deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowClock {
    blocks_per_window: u64,
    commit_grace_blocks: u64,
}

/// The windows a commitment included at a given block may speak for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitWindows {
    /// The window the block lies in; always acceptable.
    pub current: u64,
    /// The previous window, while the block is still within its grace period.
    pub previous: Option<u64>,
}

impl CommitWindows {
    /// Whether `window` is one of the acceptable windows.
    pub fn contains(&self, window: u64) -> bool {
        self.current == window || self.previous == Some(window)
    }
}

impl WindowClock {
    /// A clock with `blocks_per_window` blocks per window and `commit_grace_blocks` blocks of
    /// the next window during which commitments for the previous one are still accepted.
    pub fn new(blocks_per_window: u64, commit_grace_blocks: u64) -> Result<Self, WindowClockError> {
        if blocks_per_window == 0 {
            return Err(WindowClockError::ZeroBlocksPerWindow);
        }
        if commit_grace_blocks >= blocks_per_window {
            return Err(WindowClockError::GraceTooLong {
                grace: commit_grace_blocks,
                blocks_per_window,
            });
        }
        Ok(Self {
            blocks_per_window,
            commit_grace_blocks,
        })
    }

    /// Blocks per window.
    pub fn blocks_per_window(&self) -> u64 {
        self.blocks_per_window
    }

    /// Grace blocks after a window's end.
    pub fn commit_grace_blocks(&self) -> u64 {
        self.commit_grace_blocks
    }

    /// The window containing `block`.
    pub fn window_of(&self, block: u64) -> u64 {
        block / self.blocks_per_window
    }

    /// First block of `window`.
    pub fn start_block(&self, window: u64) -> u64 {
        window.saturating_mul(self.blocks_per_window)
    }

    /// Last block of `window` (inclusive).
    pub fn end_block(&self, window: u64) -> u64 {
        self.start_block(window)
            .saturating_add(self.blocks_per_window - 1)
    }

    /// Last block (inclusive) at which a commitment for `window` is accepted.
    pub fn commit_deadline(&self, window: u64) -> u64 {
        self.end_block(window)
            .saturating_add(self.commit_grace_blocks)
    }

    /// The block whose hash seeds `window`'s random evaluation pool: the first block after
    /// the commit deadline, unknowable to miners while they could still commit.
    pub fn random_seed_block(&self, window: u64) -> u64 {
        self.commit_deadline(window).saturating_add(1)
    }

    /// Whether a commitment included at `block` may speak for `window`.
    pub fn accepts(&self, block: u64, window: u64) -> bool {
        block >= self.start_block(window) && block <= self.commit_deadline(window)
    }

    /// The windows a commitment included at `block` may speak for.
    pub fn windows_for_commit(&self, block: u64) -> CommitWindows {
        let current = self.window_of(block);
        let into_window = block - self.start_block(current);
        let previous = (current > 0 && into_window < self.commit_grace_blocks).then(|| current - 1);
        CommitWindows { current, previous }
    }

    /// Blocks from `block` until the next window starts (at least 1).
    pub fn blocks_until_next_window(&self, block: u64) -> u64 {
        self.start_block(self.window_of(block) + 1)
            .saturating_sub(block)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn templar_numbers() {
        let c = WindowClock::new(115, 6).unwrap();
        assert_eq!(c.window_of(0), 0);
        assert_eq!(c.window_of(114), 0);
        assert_eq!(c.window_of(115), 1);
        assert_eq!(c.start_block(2), 230);
        assert_eq!(c.end_block(2), 344);
        assert_eq!(c.commit_deadline(2), 350);
        assert_eq!(c.random_seed_block(2), 351);
        assert!(c.accepts(230, 2));
        assert!(c.accepts(350, 2));
        assert!(!c.accepts(351, 2));
        assert!(!c.accepts(229, 2));
        assert_eq!(
            c.windows_for_commit(345),
            CommitWindows {
                current: 3,
                previous: Some(2)
            }
        );
        assert_eq!(
            c.windows_for_commit(351),
            CommitWindows {
                current: 3,
                previous: None
            }
        );
        assert_eq!(
            c.windows_for_commit(3),
            CommitWindows {
                current: 0,
                previous: None
            }
        );
        assert_eq!(c.blocks_until_next_window(344), 1);
        assert_eq!(c.blocks_until_next_window(345), 115);
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(
            WindowClock::new(0, 0),
            Err(WindowClockError::ZeroBlocksPerWindow)
        );
        assert!(matches!(
            WindowClock::new(10, 10),
            Err(WindowClockError::GraceTooLong { .. })
        ));
    }

    #[test]
    fn saturates_instead_of_overflowing() {
        let c = WindowClock::new(7, 3).unwrap();
        assert_eq!(c.commit_deadline(u64::MAX), u64::MAX);
        assert_eq!(c.random_seed_block(u64::MAX / 7), u64::MAX);
        let w = c.window_of(u64::MAX);
        assert_eq!(c.window_of(c.start_block(w)), w);
        assert_eq!(c.end_block(w), u64::MAX);
    }

    proptest! {
        #[test]
        fn windows_for_commit_agrees_with_accepts(
            bpw in 1u64..500, grace_frac in 0.0f64..1.0, block in 0u64..1_000_000,
        ) {
            let grace = ((bpw - 1) as f64 * grace_frac) as u64;
            let c = WindowClock::new(bpw, grace).unwrap();
            let ws = c.windows_for_commit(block);
            let w = c.window_of(block);
            prop_assert!(c.start_block(w) <= block && block <= c.end_block(w));
            for cand in w.saturating_sub(2)..=w + 2 {
                prop_assert_eq!(ws.contains(cand), c.accepts(block, cand), "window {}", cand);
            }
            prop_assert!(c.random_seed_block(w) > c.commit_deadline(w));
            prop_assert!(c.random_seed_block(w) <= c.commit_deadline(w + 1));
        }
    }
}
