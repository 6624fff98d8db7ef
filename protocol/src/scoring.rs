//! Scoring rules a validator applies to one miner's update. Pure functions of measured losses.

/// A loss measured before and after applying an update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossPair {
    /// Mean loss at the current model.
    pub before: f64,
    /// Mean loss with the update applied.
    pub after: f64,
}

impl LossPair {
    /// `(before − after) / before`; 0 when `before` is 0 or either loss is not finite.
    pub fn relative_improvement(&self) -> f64 {
        if self.before == 0.0 || !self.before.is_finite() || !self.after.is_finite() {
            0.0
        } else {
            (self.before - self.after) / self.before
        }
    }
}

/// The assigned-data indicator (Gauntlet's anti-cheat): `+1` when the update improves the miner's
/// own assigned rows, and by more than `min_ratio` times its improvement of the window's random
/// rows (a negative random improvement counts as 0); otherwise `−1`.
///
/// An honest miner's update helps the rows it trained on more than unseen rows; an update trained
/// on other data helps both about equally. `min_ratio = 1` is Templar's plain comparison, which a
/// random-data trainer passes about half the time; a ratio above 1 makes it fail almost always
/// (measured in `docs/training.md`).
pub fn assigned_data_indicator(own: LossPair, random: LossPair, min_ratio: f64) -> i8 {
    let own = own.relative_improvement();
    let random = random.relative_improvement().max(0.0);
    if own > 0.0 && own > min_ratio * random {
        1
    } else {
        -1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn pair(before: f64, after: f64) -> LossPair {
        LossPair { before, after }
    }

    #[test]
    fn relative_improvement_is_guarded() {
        assert!((pair(4.0, 3.0).relative_improvement() - 0.25).abs() < 1e-12);
        assert!(pair(4.0, 5.0).relative_improvement() < 0.0);
        assert_eq!(pair(0.0, 1.0).relative_improvement(), 0.0);
        assert_eq!(pair(f64::NAN, 1.0).relative_improvement(), 0.0);
        assert_eq!(pair(2.0, f64::INFINITY).relative_improvement(), 0.0);
    }

    #[test]
    fn indicator_needs_own_gain_beyond_the_ratio() {
        // own 10 %, random 4 %: passes at ratio 2, fails at 3.
        assert_eq!(
            assigned_data_indicator(pair(1.0, 0.9), pair(1.0, 0.96), 2.0),
            1
        );
        assert_eq!(
            assigned_data_indicator(pair(1.0, 0.9), pair(1.0, 0.96), 3.0),
            -1
        );
        // equal gains fail even at ratio 1 (strictly more is required).
        assert_eq!(
            assigned_data_indicator(pair(1.0, 0.9), pair(1.0, 0.9), 1.0),
            -1
        );
        // helping own rows while hurting random rows passes.
        assert_eq!(
            assigned_data_indicator(pair(1.0, 0.99), pair(1.0, 1.2), 2.0),
            1
        );
        // no own gain never passes.
        assert_eq!(
            assigned_data_indicator(pair(1.0, 1.0), pair(1.0, 1.5), 1.0),
            -1
        );
        assert_eq!(
            assigned_data_indicator(pair(1.0, f64::NAN), pair(1.0, 1.0), 1.0),
            -1
        );
    }
}
