//! The gateway's metrics, named in one place.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use std::time::Duration;

/// Typed handles to the gateway's Prometheus metrics (`kiln_gateway_*`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GatewayMetrics;

impl GatewayMetrics {
    /// Describes every metric and starts the counters of the successful outcomes at zero, so a
    /// scrape lists them from the start and `increase()` sees their first event. Refusals (one
    /// `outcome` per error code) appear with the first of each. Call once the recorder is
    /// installed.
    pub fn register() -> Self {
        describe_counter!(
            "kiln_gateway_uploads_total",
            "Uploads by `outcome`: stored, exists, or the refusal's error code."
        );
        describe_histogram!(
            "kiln_gateway_upload_seconds",
            Unit::Seconds,
            "Time to handle one upload."
        );
        describe_counter!(
            "kiln_gateway_upload_bytes_total",
            Unit::Bytes,
            "Bytes written by stored uploads."
        );
        describe_counter!(
            "kiln_gateway_downloads_total",
            "Downloads and HEADs by `outcome`: ok, not_modified, or the error code."
        );
        describe_histogram!(
            "kiln_gateway_download_seconds",
            Unit::Seconds,
            "Time to handle one download."
        );
        describe_counter!(
            "kiln_gateway_download_bytes_total",
            Unit::Bytes,
            "Bytes sent by downloads."
        );
        describe_gauge!(
            "kiln_gateway_registered_hotkeys",
            "Hotkeys registered on the subnet, as of the last metagraph refresh."
        );
        describe_counter!(
            "kiln_gateway_registry_lookups_total",
            "On-demand chain checks of hotkeys missing from the cached set, by `outcome`: \
             registered, unregistered, failed, or deferred (the lookup budget was spent; no \
             chain read)."
        );
        for outcome in ["registered", "unregistered", "failed", "deferred"] {
            metrics::counter!("kiln_gateway_registry_lookups_total", "outcome" => outcome)
                .increment(0);
        }
        for outcome in ["stored", "exists"] {
            metrics::counter!("kiln_gateway_uploads_total", "outcome" => outcome).increment(0);
        }
        for outcome in ["ok", "not_modified"] {
            metrics::counter!("kiln_gateway_downloads_total", "outcome" => outcome).increment(0);
        }
        for name in [
            "kiln_gateway_upload_bytes_total",
            "kiln_gateway_download_bytes_total",
        ] {
            metrics::counter!(name).increment(0);
        }
        for name in [
            "kiln_gateway_upload_seconds",
            "kiln_gateway_download_seconds",
        ] {
            let _registered = metrics::histogram!(name);
        }
        GatewayMetrics
    }

    /// An upload finished with `outcome` (`stored`, `exists`, or an error code).
    pub fn upload(&self, outcome: &'static str, took: Duration) {
        metrics::counter!("kiln_gateway_uploads_total", "outcome" => outcome).increment(1);
        metrics::histogram!("kiln_gateway_upload_seconds").record(took.as_secs_f64());
    }

    /// Bytes written by a stored upload.
    pub fn upload_bytes(&self, bytes: u64) {
        metrics::counter!("kiln_gateway_upload_bytes_total").increment(bytes);
    }

    /// A download (or HEAD) finished with `outcome`.
    pub fn download(&self, outcome: &'static str, took: Duration) {
        metrics::counter!("kiln_gateway_downloads_total", "outcome" => outcome).increment(1);
        metrics::histogram!("kiln_gateway_download_seconds").record(took.as_secs_f64());
    }

    /// The registered hotkeys after a metagraph refresh.
    pub fn registered_hotkeys(&self, n: usize) {
        metrics::gauge!("kiln_gateway_registered_hotkeys").set(n as f64);
    }

    /// An on-demand registration check ended with `outcome`.
    pub fn registry_lookup(&self, outcome: &'static str) {
        metrics::counter!("kiln_gateway_registry_lookups_total", "outcome" => outcome).increment(1);
    }

    /// Bytes sent by a download.
    pub fn download_bytes(&self, bytes: u64) {
        metrics::counter!("kiln_gateway_download_bytes_total").increment(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::GatewayMetrics;

    #[test]
    fn register_describes_every_metric_and_starts_counters_at_zero() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, GatewayMetrics::register);
        let text = handle.render();
        for line in [
            "kiln_gateway_uploads_total{outcome=\"stored\"} 0",
            "kiln_gateway_downloads_total{outcome=\"ok\"} 0",
            "kiln_gateway_upload_bytes_total 0",
            "kiln_gateway_download_seconds_count 0",
            "kiln_gateway_registry_lookups_total{outcome=\"deferred\"} 0",
            "# HELP kiln_gateway_upload_seconds",
        ] {
            assert!(text.contains(line), "no `{line}` in\n{text}");
        }
    }
}
