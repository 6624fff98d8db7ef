//! The miner's metrics, named in one place (`kiln_miner_*`).

use std::time::Duration;

/// Typed handles to the miner's Prometheus metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct MinerMetrics;

impl MinerMetrics {
    /// The window being worked on.
    pub fn window(&self, window: u64) {
        metrics::gauge!("kiln_miner_window").set(window as f64);
    }

    /// A window's training finished.
    pub fn trained(&self, last_loss: f64, tokens: usize, took: Duration) {
        metrics::gauge!("kiln_miner_loss").set(last_loss);
        metrics::counter!("kiln_miner_tokens_total").increment(tokens as u64);
        let secs = took.as_secs_f64();
        if secs > 0.0 {
            metrics::gauge!("kiln_miner_tokens_per_second").set(tokens as f64 / secs);
        }
        metrics::histogram!("kiln_miner_train_seconds").record(secs);
    }

    /// An artifact was uploaded.
    pub fn uploaded(&self, bytes: usize, took: Duration) {
        metrics::counter!("kiln_miner_upload_bytes_total").increment(bytes as u64);
        metrics::histogram!("kiln_miner_upload_seconds").record(took.as_secs_f64());
    }

    /// A window ended with `outcome` (`committed`, `too_late`, `upload_failed`,
    /// `commit_failed`, `late_inclusion`).
    pub fn outcome(&self, outcome: &'static str) {
        metrics::counter!("kiln_miner_windows_total", "outcome" => outcome).increment(1);
    }

    /// Manifests applied, or a window whose manifest did not arrive in time.
    pub fn manifests(&self, applied: usize, gap: bool) {
        metrics::counter!("kiln_miner_manifests_applied_total").increment(applied as u64);
        if gap {
            metrics::counter!("kiln_miner_manifest_gaps_total").increment(1);
        }
    }

    /// The miner's incentive on chain (0..1).
    pub fn incentive(&self, incentive: f64) {
        metrics::gauge!("kiln_miner_incentive").set(incentive);
    }
}
