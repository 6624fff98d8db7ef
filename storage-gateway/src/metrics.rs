//! The gateway's metrics, named in one place.

use std::time::Duration;

/// Typed handles to the gateway's Prometheus metrics (`kiln_gateway_*`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GatewayMetrics;

impl GatewayMetrics {
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

    /// Bytes sent by a download.
    pub fn download_bytes(&self, bytes: u64) {
        metrics::counter!("kiln_gateway_download_bytes_total").increment(bytes);
    }
}
