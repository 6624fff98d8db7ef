//! From final scores to a weight vector: a rank schedule over the top miners. Pure.
//!
//! Miners with a positive final score are ranked (higher first; ties by lower uid). The top
//! `top_n` receive weights falling linearly from `first_to_last` to 1 (the first gets that many
//! times the last), normalized to sum to 1. A rank schedule pays for position, not for the size
//! of a noisy score, so a lucky outlier cannot take everything.

/// The schedule's constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankSchedule {
    /// How many miners receive weight.
    pub top_n: usize,
    /// Ratio of the first weight to the last.
    pub first_to_last: f64,
}

impl Default for RankSchedule {
    /// Templar's gather tier: 20 miners, the first getting twice the last.
    fn default() -> Self {
        RankSchedule {
            top_n: 20,
            first_to_last: 2.0,
        }
    }
}

impl RankSchedule {
    /// Weights per uid (summing to 1, by rank), empty when no score is positive.
    pub fn weights(&self, finals: &[(u16, f64)]) -> Vec<(u16, f64)> {
        let mut ranked: Vec<(u16, f64)> = finals
            .iter()
            .copied()
            .filter(|(_, s)| s.is_finite() && *s > 0.0)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(self.top_n);
        let n = ranked.len();
        if n == 0 {
            return Vec::new();
        }
        let raw = |i: usize| {
            if n == 1 {
                1.0
            } else {
                self.first_to_last - (self.first_to_last - 1.0) * i as f64 / (n - 1) as f64
            }
        };
        let total: f64 = (0..n).map(raw).sum();
        ranked
            .iter()
            .enumerate()
            .map(|(i, (uid, _))| (*uid, raw(i) / total))
            .collect()
    }
}

/// The first block at which to reveal a commit-reveal v2 commit included at `commit_block`:
/// one block into the epoch `period` epochs after the commit's, with the epoch of block `b`
/// being `b / tempo`. Sent then, the reveal lands inside its one valid epoch with `tempo - 2`
/// blocks to spare.
pub fn reveal_block(commit_block: u64, tempo: u16, period: u64) -> u64 {
    let tempo = u64::from(tempo.max(1));
    (commit_block / tempo + period) * tempo + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_reveal_falls_in_the_reveal_epoch(c in 0u64..1 << 40, tempo in 3u16..400, period in 1u64..100) {
            let t = u64::from(tempo);
            let at = reveal_block(c, tempo, period);
            prop_assert_eq!(at / t, c / t + period);
            // Sent at `at`, included at `at + 1`: still the reveal epoch.
            prop_assert_eq!((at + 1) / t, c / t + period);
        }
    }

    #[test]
    fn reveal_examples() {
        assert_eq!(reveal_block(0, 10, 1), 11);
        assert_eq!(reveal_block(19, 10, 1), 21);
        assert_eq!(reveal_block(20, 10, 2), 41);
    }
}
