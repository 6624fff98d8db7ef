//! A beacon's round clock: round 1 is due at the genesis time, then one round per period.

/// A beacon's schedule, as its `BeaconConfig` states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BeaconClock {
    /// Unix seconds of round 1.
    pub genesis_time: u64,
    /// Seconds between rounds (at least 1).
    pub period: u64,
}

impl BeaconClock {
    /// The latest round due at unix time `secs` (0 before genesis).
    pub fn round_at(&self, secs: u64) -> u64 {
        if secs < self.genesis_time {
            return 0;
        }
        (secs - self.genesis_time) / self.period.max(1) + 1
    }

    /// The unix time at which `round` is due (`round ≥ 1`).
    pub fn time_of(&self, round: u64) -> u64 {
        self.genesis_time
            .saturating_add(round.saturating_sub(1).saturating_mul(self.period.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quicknet_round_1000_is_due_2997_seconds_after_genesis() {
        let c = BeaconClock {
            genesis_time: crate::QUICKNET_GENESIS_TIME,
            period: crate::QUICKNET_PERIOD,
        };
        assert_eq!(c.time_of(1000), crate::QUICKNET_GENESIS_TIME + 2997);
        assert_eq!(c.round_at(crate::QUICKNET_GENESIS_TIME + 2997), 1000);
        assert_eq!(c.round_at(crate::QUICKNET_GENESIS_TIME + 2996), 999);
        assert_eq!(c.round_at(crate::QUICKNET_GENESIS_TIME - 1), 0);
    }

    proptest! {
        #[test]
        fn a_round_is_due_at_its_time_and_not_before(
            genesis in 0u64..2_000_000_000, period in 1u64..60, round in 1u64..10_000_000,
        ) {
            let c = BeaconClock { genesis_time: genesis, period };
            let t = c.time_of(round);
            prop_assert_eq!(c.round_at(t), round);
            prop_assert!(c.round_at(t - 1) < round);
        }
    }
}
