//! Gateway configuration: a TOML file, overridden by flags and environment in the CLI.

use object_store::ObjectStore;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;

/// Where artifacts are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum StoreConfig {
    /// A local folder (the embedded default).
    Local {
        /// The folder; created if absent.
        dir: PathBuf,
    },
    /// An S3 API bucket (AWS, R2, MinIO, SeaweedFS, …). Credentials default to the standard
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` environment.
    S3 {
        /// Endpoint URL (`http://127.0.0.1:8333`); AWS when absent.
        #[serde(default)]
        endpoint: Option<String>,
        /// Bucket name.
        bucket: String,
        /// Region (any value for most non-AWS servers).
        #[serde(default = "default_region")]
        region: String,
        /// Access key id.
        #[serde(default)]
        access_key_id: Option<String>,
        /// Secret access key.
        #[serde(default)]
        secret_access_key: Option<String>,
        /// Path-style requests (`endpoint/bucket/key`), needed by most self-hosted servers.
        #[serde(default)]
        path_style: bool,
        /// Allow plain-HTTP endpoints.
        #[serde(default)]
        allow_http: bool,
    },
}

fn default_region() -> String {
    "us-east-1".into()
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::Local {
            dir: PathBuf::from("kiln-data/gateway"),
        }
    }
}

/// Why a store cannot be opened.
#[derive(Debug, Error)]
pub enum StoreConfigError {
    /// The local folder cannot be created.
    #[error("creating {path}: {source}")]
    Dir {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `object_store` refused the settings.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
}

impl StoreConfig {
    /// Opens the store.
    pub fn open(&self) -> Result<Arc<dyn ObjectStore>, StoreConfigError> {
        match self {
            StoreConfig::Local { dir } => {
                std::fs::create_dir_all(dir).map_err(|source| StoreConfigError::Dir {
                    path: dir.clone(),
                    source,
                })?;
                Ok(Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(dir)?,
                ))
            }
            StoreConfig::S3 {
                endpoint,
                bucket,
                region,
                access_key_id,
                secret_access_key,
                path_style,
                allow_http,
            } => {
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_retry(store_retry())
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_allow_http(*allow_http)
                    .with_virtual_hosted_style_request(!path_style);
                if let Some(e) = endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(k) = access_key_id {
                    b = b.with_access_key_id(k);
                }
                if let Some(s) = secret_access_key {
                    b = b.with_secret_access_key(s);
                }
                Ok(Arc::new(b.build()?))
            }
        }
    }
}

/// Everything `kiln gateway` runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// HTTP address of the API (and of `/metrics` unless `metrics_listen` is set).
    pub listen: SocketAddr,
    /// A separate address for `/metrics`.
    pub metrics_listen: Option<SocketAddr>,
    /// The chain: `finney`, `test`, `local` or a ws(s):// URL.
    pub chain: String,
    /// The subnet uploaders must be registered on.
    pub netuid: u16,
    /// Where artifacts are kept.
    pub store: StoreConfig,
    /// Key prefix of artifacts in the store.
    pub prefix: String,
    /// Largest artifact accepted, in bytes.
    pub max_artifact_bytes: u64,
    /// Accepted clock distance of an upload signature, seconds.
    pub timestamp_window_secs: u64,
    /// Uploads a hotkey may make at once.
    pub uploads_burst: u32,
    /// Uploads per minute a hotkey regains.
    pub uploads_per_minute: u32,
    /// Refused uploads a peer address may make at once; beyond them its uploads are refused
    /// before any signature check or chain read (`peer_throttled`).
    pub peer_refusals_burst: u32,
    /// Refused uploads per minute a peer address regains.
    pub peer_refusals_per_minute: u32,
    /// Seconds between registry refreshes from the chain.
    pub registry_refresh_secs: u64,
    /// On-demand chain checks of unknown hotkeys allowed at once, across all peers.
    pub registry_lookup_burst: u32,
    /// On-demand chain checks regained per minute.
    pub registry_lookups_per_minute: u32,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: "127.0.0.1:8780".parse().expect("address"),
            metrics_listen: None,
            chain: "local".into(),
            netuid: 1,
            store: StoreConfig::default(),
            prefix: "artifacts".into(),
            max_artifact_bytes: 2 << 30,
            timestamp_window_secs: 120,
            uploads_burst: 8,
            uploads_per_minute: 12,
            peer_refusals_burst: 32,
            peer_refusals_per_minute: 60,
            registry_refresh_secs: 12,
            registry_lookup_burst: 20,
            registry_lookups_per_minute: 600,
        }
    }
}

/// How S3 requests are retried: a few quick retries, none started after 10 s (object_store's
/// default keeps retrying for 3 minutes), so that a store outage surfaces as
/// `store_unavailable` while clients can still act on it (a miner retries, then commits; a
/// validator records `infrastructure`) instead of every request hanging. Each attempt keeps
/// object_store's own request timeout.
pub fn store_retry() -> object_store::RetryConfig {
    object_store::RetryConfig {
        backoff: object_store::BackoffConfig {
            init_backoff: std::time::Duration::from_millis(100),
            max_backoff: std::time::Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 4,
        retry_timeout: std::time::Duration::from_secs(10),
    }
}

/// Why a configuration file cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// It cannot be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// It is not a valid configuration.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML error.
        source: toml::de::Error,
    },
}

impl GatewayConfig {
    /// Reads a TOML configuration (missing fields take their defaults; unknown ones are errors).
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// The upload rules this configuration sets.
    pub fn limits(&self) -> crate::http::Limits {
        crate::http::Limits {
            netuid: self.netuid,
            max_bytes: self.max_artifact_bytes,
            timestamp_window_ms: self.timestamp_window_secs.saturating_mul(1000),
            burst: self.uploads_burst,
            per_minute: self.uploads_per_minute,
            peer_refusals_burst: self.peer_refusals_burst,
            peer_refusals_per_minute: self.peer_refusals_per_minute,
        }
    }

    /// How the chain registry is read under this configuration.
    pub fn registry_options(&self) -> crate::registry::RegistryOptions {
        crate::registry::RegistryOptions {
            refresh: std::time::Duration::from_secs(self.registry_refresh_secs.max(1)),
            lookup_burst: self.registry_lookup_burst,
            lookups_per_minute: self.registry_lookups_per_minute,
            ..crate::registry::RegistryOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_override_defaults_and_reject_unknown_fields() {
        let c: GatewayConfig = toml::from_str(
            "netuid = 3\n[store]\nkind = \"s3\"\nbucket = \"b\"\nendpoint = \"http://127.0.0.1:1\"\npath_style = true\n",
        )
        .unwrap();
        assert_eq!(c.netuid, 3);
        assert_eq!(c.uploads_burst, GatewayConfig::default().uploads_burst);
        assert!(matches!(
            c.store,
            StoreConfig::S3 {
                path_style: true,
                ..
            }
        ));
        assert!(toml::from_str::<GatewayConfig>("listn = \"x\"").is_err());
    }
}
