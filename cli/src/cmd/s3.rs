//! S3 connection flags shared by the commands that read or write a bucket.

use clap::Args;
use kiln_storage_gateway::StoreConfig;

/// How to reach an S3-compatible server (the bucket comes from the command).
#[derive(Debug, Clone, Args)]
pub(crate) struct S3Args {
    /// S3 endpoint URL (AWS when absent).
    #[arg(long, env = "KILN_S3_ENDPOINT")]
    pub(crate) s3_endpoint: Option<String>,
    /// S3 region.
    #[arg(long, env = "KILN_S3_REGION")]
    pub(crate) s3_region: Option<String>,
    /// Path-style S3 requests (most self-hosted servers).
    #[arg(long, env = "KILN_S3_PATH_STYLE")]
    pub(crate) s3_path_style: bool,
    /// Allow a plain-HTTP S3 endpoint.
    #[arg(long, env = "KILN_S3_ALLOW_HTTP")]
    pub(crate) s3_allow_http: bool,
    /// S3 access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub(crate) s3_access_key_id: Option<String>,
    /// S3 secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub(crate) s3_secret_access_key: Option<String>,
}

impl S3Args {
    /// The store of `bucket` on this server.
    pub(crate) fn store(&self, bucket: String) -> StoreConfig {
        StoreConfig::S3 {
            endpoint: self.s3_endpoint.clone(),
            bucket,
            region: self.s3_region.clone().unwrap_or_else(|| "us-east-1".into()),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
            path_style: self.s3_path_style,
            allow_http: self.s3_allow_http,
        }
    }
}
