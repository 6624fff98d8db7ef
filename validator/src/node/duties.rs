//! The window loop's background duties: probing the gateways for the outage record, and
//! the backoff of publishing a pending manifest again.

use crate::fetch::{self, Sources};
use crate::http::Health;
use crate::probe::Outages;
use kiln_runtime_client::Client;
use std::sync::Arc;
use std::time::Duration;

/// When to try publishing a pending manifest again, in blocks.
#[derive(Debug, Default)]
pub(super) struct Backoff {
    pub(super) at: u64,
    wait: u64,
}

impl Backoff {
    /// After a try at `block`: the next block when nothing is pending, else a wait doubling
    /// from one block up to `cap`.
    pub(super) fn after(&mut self, block: u64, pending: bool, cap: u64) {
        self.wait = if pending {
            (self.wait * 2).clamp(1, cap.max(1))
        } else {
            0
        };
        self.at = block + self.wait.max(1);
    }
}

/// Time between probes of the gateways.
pub(super) const PROBE_EVERY: Duration = Duration::from_secs(1);

/// How long a probe may take (no retries: a probe that needs one failed).
pub(super) const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Blocks before a commitment's inclusion in which a failed probe of its gateway excuses its
/// absent artifact.
pub(super) const OUTAGE_LOOKBACK_BLOCKS: u64 = 5;

/// Probes every gateway each [`PROBE_EVERY`] and records failures at the latest block.
pub(super) async fn probe_gateways(
    sources: Sources,
    chain: Client,
    health: Arc<Health>,
    outages: Arc<parking_lot::Mutex<Outages>>,
) {
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let probes = sources.gateways().map(|(name, gateway)| async move {
            (name, fetch::probe(gateway, PROBE_TIMEOUT).await)
        });
        let results = futures::future::join_all(probes).await;
        // Recorded at the block the probes ended in (the chain's, not the window loop's,
        // which may be busy scoring).
        let block = match chain.current_block().await {
            Ok(b) => b,
            Err(_) => match health.last_block() {
                Some((b, _)) => b,
                None => continue,
            },
        };
        let mut outages = outages.lock();
        for (name, result) in results {
            if let Err(e) = &result {
                tracing::warn!(gateway = name, block, error = %e, "gateway probe failed");
            }
            outages.record(name, block, result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;

    #[test]
    fn a_failing_publish_backs_off_to_the_cap_and_resets_when_done() {
        let mut b = Backoff::default();
        let mut waits = Vec::new();
        let mut block = 100;
        for _ in 0..6 {
            b.after(block, true, 5);
            waits.push(b.at - block);
            block = b.at;
        }
        assert_eq!(waits, [1, 2, 4, 5, 5, 5]);
        b.after(block, false, 5);
        assert_eq!(b.at, block + 1);
        b.after(block + 1, true, 5);
        assert_eq!(b.at, block + 2, "a new failure starts again at one block");
    }
}
