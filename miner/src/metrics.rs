//! The miner's metrics, named in one place (`kiln_miner_*`).

use crate::event::Outcome;
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use std::time::Duration;

/// Typed handles to the miner's Prometheus metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct MinerMetrics;

impl MinerMetrics {
    /// Describes every metric and starts each counter (per known outcome) at zero, so a scrape
    /// lists them from the start and `increase()` sees their first event. Gauges appear on
    /// their first reading. Call once the recorder is installed.
    pub fn register() -> Self {
        describe_gauge!("kiln_miner_window", "The window being worked on.");
        describe_gauge!(
            "kiln_miner_loss",
            "The last training loss of the latest window."
        );
        describe_counter!("kiln_miner_tokens_total", "Tokens trained on.");
        describe_gauge!(
            "kiln_miner_tokens_per_second",
            "Training throughput of the latest window."
        );
        describe_histogram!(
            "kiln_miner_train_seconds",
            Unit::Seconds,
            "Time to train one window."
        );
        describe_counter!(
            "kiln_miner_upload_bytes_total",
            Unit::Bytes,
            "Artifact bytes uploaded."
        );
        describe_histogram!(
            "kiln_miner_upload_seconds",
            Unit::Seconds,
            "Time to upload one artifact."
        );
        describe_counter!("kiln_miner_windows_total", "Windows by `outcome`.");
        describe_counter!(
            "kiln_miner_manifests_applied_total",
            "Aggregation manifests applied to the model."
        );
        describe_counter!(
            "kiln_miner_manifest_gaps_total",
            "Windows whose manifest did not arrive in time."
        );
        describe_gauge!(
            "kiln_miner_incentive",
            "The miner's incentive on chain (0..1)."
        );
        for name in [
            "kiln_miner_tokens_total",
            "kiln_miner_upload_bytes_total",
            "kiln_miner_manifests_applied_total",
            "kiln_miner_manifest_gaps_total",
        ] {
            metrics::counter!(name).increment(0);
        }
        for outcome in Outcome::NAMES {
            metrics::counter!("kiln_miner_windows_total", "outcome" => outcome).increment(0);
        }
        for name in ["kiln_miner_train_seconds", "kiln_miner_upload_seconds"] {
            let _registered = metrics::histogram!(name);
        }
        MinerMetrics
    }

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

#[cfg(test)]
mod tests {
    use super::MinerMetrics;

    #[test]
    fn register_describes_every_metric_and_starts_counters_at_zero() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, MinerMetrics::register);
        let text = handle.render();
        for line in [
            "kiln_miner_windows_total{outcome=\"committed\"} 0",
            "kiln_miner_windows_total{outcome=\"upload_failed\"} 0",
            "kiln_miner_manifest_gaps_total 0",
            "kiln_miner_upload_seconds_count 0",
            "# HELP kiln_miner_train_seconds",
        ] {
            assert!(text.contains(line), "no `{line}` in\n{text}");
        }
        assert!(!text.contains("kiln_miner_incentive "), "{text}");
    }
}
