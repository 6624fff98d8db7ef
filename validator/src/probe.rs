//! Gateway outages as the validator saw them. While a window's miners upload, the validator
//! probes every gateway it fetches from (a `HEAD` of an artifact nobody has: a healthy gateway
//! answers 404 after asking its store) and records the blocks at which a probe failed. An
//! artifact that is committed but absent is the miner's fault only if its gateway answered
//! every probe from the window's first block to its commit deadline; otherwise it counts as
//! infrastructure (no penalty), because an honest miner commits its digest even when the
//! gateway refuses its upload until the deadline. Pure: probes come in as records.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// The digest probes ask for: the blake3 of a fixed string, which no artifact hashes to.
pub fn probe_digest() -> [u8; 32] {
    *blake3::hash(b"kiln gateway probe: an artifact nobody has").as_bytes()
}

/// Failed probes per gateway, by block, for the last `keep_blocks` blocks.
#[derive(Debug, Clone)]
pub struct Outages {
    keep_blocks: u64,
    failures: BTreeMap<String, BTreeMap<u64, String>>,
}

/// A failed probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    /// The block at which it failed.
    pub block: u64,
    /// What the gateway (or the connection) answered.
    pub reason: String,
}

impl Outages {
    /// Remembers failures for `keep_blocks` blocks behind the newest probe.
    pub fn new(keep_blocks: u64) -> Self {
        Outages {
            keep_blocks,
            failures: BTreeMap::new(),
        }
    }

    /// Records a probe of `gateway` at `block`: `Err(reason)` if it failed. Forgets failures
    /// older than the window kept.
    pub fn record(&mut self, gateway: &str, block: u64, result: Result<(), String>) {
        if let Err(reason) = result {
            self.failures
                .entry(gateway.to_owned())
                .or_default()
                .entry(block)
                .or_insert(reason);
        }
        let oldest = block.saturating_sub(self.keep_blocks);
        for blocks in self.failures.values_mut() {
            *blocks = blocks.split_off(&oldest);
        }
        self.failures.retain(|_, blocks| !blocks.is_empty());
    }

    /// The first failed probe of `gateway` within `blocks`, if any.
    pub fn during(&self, gateway: &str, blocks: RangeInclusive<u64>) -> Option<Outage> {
        let (block, reason) = self.failures.get(gateway)?.range(blocks).next()?;
        Some(Outage {
            block: *block,
            reason: reason.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_outage_is_found_only_in_its_gateway_and_blocks() {
        let mut o = Outages::new(100);
        o.record("a", 10, Ok(()));
        o.record("a", 12, Err("connection refused".into()));
        o.record("a", 13, Err("502 store_unavailable".into()));
        o.record("b", 14, Ok(()));
        assert_eq!(
            o.during("a", 0..=20),
            Some(Outage {
                block: 12,
                reason: "connection refused".into()
            })
        );
        assert_eq!(o.during("a", 13..=13).map(|x| x.block), Some(13));
        assert_eq!(o.during("a", 14..=20), None);
        assert_eq!(o.during("b", 0..=20), None);
        assert_eq!(o.during("c", 0..=20), None);
    }

    #[test]
    fn old_failures_are_forgotten() {
        let mut o = Outages::new(10);
        o.record("a", 5, Err("down".into()));
        o.record("a", 15, Ok(()));
        assert_eq!(o.during("a", 5..=5).map(|x| x.block), Some(5));
        o.record("a", 16, Ok(()));
        assert_eq!(o.during("a", 0..=100), None);
        assert!(o.failures.is_empty());
    }

    proptest! {
        /// `during` finds exactly the failures recorded inside the range and still kept.
        #[test]
        fn during_matches_a_scan(
            probes in proptest::collection::vec((0u64..200, any::<bool>()), 0..100),
            lo in 0u64..200,
            len in 0u64..50,
        ) {
            let keep = 60;
            let mut o = Outages::new(keep);
            let mut newest = 0;
            let mut failed = Vec::new();
            for (block, ok) in probes {
                newest = newest.max(block);
                let block = newest;
                o.record("g", block, if ok { Ok(()) } else { Err("x".into()) });
                if !ok {
                    failed.push(block);
                }
            }
            let oldest = newest.saturating_sub(keep);
            let hi = lo + len;
            let expected = failed.iter().copied().filter(|b| *b >= oldest && (lo..=hi).contains(b)).min();
            prop_assert_eq!(o.during("g", lo..=hi).map(|x| x.block), expected);
        }
    }
}
