//! The validator's metrics, named in one place (`kiln_validator_*`).

use std::time::Duration;

/// Typed handles to the validator's Prometheus metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidatorMetrics;

impl ValidatorMetrics {
    /// The latest block seen.
    pub fn block(&self, number: u64) {
        metrics::gauge!("kiln_validator_block").set(number as f64);
    }

    /// A window was scored and recorded.
    pub fn scored(&self, window: u64, took: Duration) {
        metrics::gauge!("kiln_validator_last_scored_window").set(window as f64);
        metrics::counter!("kiln_validator_windows_total").increment(1);
        metrics::histogram!("kiln_validator_window_seconds").record(took.as_secs_f64());
    }

    /// A submission's verdict (`evaluated`, `copy`, `invalid`, `missing`, ...).
    pub fn verdict(&self, outcome: &str) {
        metrics::counter!("kiln_validator_submissions_total", "outcome" => outcome.to_owned())
            .increment(1);
    }

    /// One miner's evaluation.
    pub fn evaluated(&self, took: Duration) {
        metrics::counter!("kiln_validator_evaluations_total").increment(1);
        metrics::histogram!("kiln_validator_evaluation_seconds").record(took.as_secs_f64());
    }

    /// An artifact download.
    pub fn fetched(&self, bytes: usize, took: Duration) {
        metrics::counter!("kiln_validator_fetch_bytes_total").increment(bytes as u64);
        metrics::histogram!("kiln_validator_fetch_seconds").record(took.as_secs_f64());
    }

    /// A weight submission's status (`included`, `failed`, `committed`, `revealed`).
    pub fn weights(&self, status: &'static str) {
        metrics::counter!("kiln_validator_weight_submissions_total", "status" => status)
            .increment(1);
    }

    /// A manifest published (or not: `published` false when the upload or commit failed).
    pub fn manifest(&self, peers: usize, published: bool) {
        metrics::gauge!("kiln_validator_manifest_peers").set(peers as f64);
        let status = if published {
            "published"
        } else {
            "unpublished"
        };
        metrics::counter!("kiln_validator_manifests_total", "status" => status).increment(1);
    }

    /// A checkpoint saved and published.
    pub fn checkpoint(&self, bytes: usize) {
        metrics::counter!("kiln_validator_checkpoints_total").increment(1);
        metrics::gauge!("kiln_validator_checkpoint_bytes").set(bytes as f64);
    }
}
