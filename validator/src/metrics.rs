//! The validator's metrics, named in one place (`kiln_validator_*`).

use crate::score::Verdict;
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use std::time::Duration;

/// Typed handles to the validator's Prometheus metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidatorMetrics;

/// Weight submission statuses, as [`ValidatorMetrics::weights`] reports them.
pub const WEIGHT_STATUSES: [&str; 4] = ["included", "failed", "committed", "revealed"];

impl ValidatorMetrics {
    /// Describes every metric and starts each counter (per known label) at zero, so a scrape
    /// lists them from the start and `increase()` sees their first event. Gauges appear on
    /// their first reading: zero would be a false value. Call once the recorder is installed.
    pub fn register() -> Self {
        describe_gauge!("kiln_validator_block", "The latest block seen.");
        describe_gauge!(
            "kiln_validator_last_scored_window",
            "The latest window scored and recorded."
        );
        describe_counter!(
            "kiln_validator_windows_total",
            "Windows scored and recorded."
        );
        describe_histogram!(
            "kiln_validator_window_seconds",
            Unit::Seconds,
            "Time to score a window, from its end to its record."
        );
        describe_counter!(
            "kiln_validator_submissions_total",
            "Miners' submissions by verdict (`outcome`)."
        );
        describe_counter!("kiln_validator_evaluations_total", "Miners evaluated.");
        describe_histogram!(
            "kiln_validator_evaluation_seconds",
            Unit::Seconds,
            "Time to evaluate one miner's update."
        );
        describe_counter!(
            "kiln_validator_fetch_bytes_total",
            Unit::Bytes,
            "Artifact bytes downloaded."
        );
        describe_histogram!(
            "kiln_validator_fetch_seconds",
            Unit::Seconds,
            "Time to download one artifact."
        );
        describe_counter!(
            "kiln_validator_weight_submissions_total",
            "Weight submissions by `status`."
        );
        describe_gauge!(
            "kiln_validator_model_loss",
            "The model's mean loss on the run's held-out rows, at the latest scored window."
        );
        describe_gauge!(
            "kiln_validator_manifest_peers",
            "Peers in the latest aggregation manifest."
        );
        describe_counter!(
            "kiln_validator_manifests_total",
            "Aggregation manifests by `status` (published or not)."
        );
        describe_counter!("kiln_validator_checkpoints_total", "Checkpoints saved.");
        describe_gauge!(
            "kiln_validator_checkpoint_bytes",
            Unit::Bytes,
            "Size of the latest checkpoint."
        );
        for name in [
            "kiln_validator_windows_total",
            "kiln_validator_evaluations_total",
            "kiln_validator_fetch_bytes_total",
            "kiln_validator_checkpoints_total",
        ] {
            metrics::counter!(name).increment(0);
        }
        for outcome in Verdict::NAMES {
            metrics::counter!("kiln_validator_submissions_total", "outcome" => outcome)
                .increment(0);
        }
        for status in WEIGHT_STATUSES {
            metrics::counter!("kiln_validator_weight_submissions_total", "status" => status)
                .increment(0);
        }
        for status in ["published", "unpublished"] {
            metrics::counter!("kiln_validator_manifests_total", "status" => status).increment(0);
        }
        for name in [
            "kiln_validator_window_seconds",
            "kiln_validator_evaluation_seconds",
            "kiln_validator_fetch_seconds",
        ] {
            let _registered = metrics::histogram!(name);
        }
        ValidatorMetrics
    }

    /// The latest block seen.
    pub fn block(&self, number: u64) {
        metrics::gauge!("kiln_validator_block").set(number as f64);
    }

    /// The model's held-out loss at the window being recorded.
    pub fn model_loss(&self, loss: f64) {
        metrics::gauge!("kiln_validator_model_loss").set(loss);
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

#[cfg(test)]
mod tests {
    use super::ValidatorMetrics;

    #[test]
    fn register_describes_every_metric_and_starts_counters_at_zero() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, ValidatorMetrics::register);
        let text = handle.render();
        for line in [
            "kiln_validator_submissions_total{outcome=\"infrastructure\"} 0",
            "kiln_validator_weight_submissions_total{status=\"failed\"} 0",
            "kiln_validator_windows_total 0",
            "kiln_validator_evaluation_seconds_count 0",
            "# HELP kiln_validator_window_seconds",
        ] {
            assert!(text.contains(line), "no `{line}` in\n{text}");
        }
        // Gauges wait for their first reading.
        assert!(!text.contains("kiln_validator_block "), "{text}");
    }
}
