//! Where artifacts are fetched from. A commitment's locator names a storage endpoint; the
//! validator maps the ids it knows to gateways (`--locator-gateway ID=URL`) and fetches anything
//! else from its own gateway. It never fetches from an address a miner wrote on chain, so a
//! locator cannot make it reach into a private network. Authenticity comes from the digest, so
//! any copy will do.

use crate::window::Download;
use kiln_protocol::commitment::Commitment;
use kiln_storage_gateway::{GatewayClient, GatewayClientError};
use std::collections::BTreeMap;

/// The validator's gateway and the named ones.
#[derive(Debug, Clone)]
pub struct Sources {
    default: GatewayClient,
    named: BTreeMap<String, GatewayClient>,
}

impl Sources {
    /// Fetches from `default` unless a commitment's locator is one of `named`.
    pub fn new(default: GatewayClient, named: BTreeMap<String, GatewayClient>) -> Self {
        Sources { default, named }
    }

    /// The gateway a commitment's bytes are fetched from.
    pub fn for_locator(&self, locator: &str) -> &GatewayClient {
        self.named.get(locator).unwrap_or(&self.default)
    }

    /// The validator's own gateway (manifests and checkpoints are published there).
    pub fn default_gateway(&self) -> &GatewayClient {
        &self.default
    }

    /// Downloads a committed artifact: its size is asked first, so nothing larger than
    /// `max_bytes` is read; bytes that do not hash to the digest count as empty (a hash
    /// mismatch for the verdict).
    pub async fn fetch(&self, c: &Commitment, max_bytes: u64) -> Download {
        let gateway = self.for_locator(&c.locator);
        match gateway.head(&c.digest).await {
            Ok(None) => Download::NotFound,
            Ok(Some(len)) if len > max_bytes => Download::TooLarge(len),
            Err(e) => Download::Unreachable(e.to_string()),
            Ok(Some(_)) => match gateway.download(&c.digest).await {
                Ok(b) => Download::Bytes(b.to_vec()),
                Err(GatewayClientError::NotFound(_)) => Download::NotFound,
                Err(GatewayClientError::DigestMismatch(_)) => Download::Bytes(Vec::new()),
                Err(e) => Download::Unreachable(e.to_string()),
            },
        }
    }
}
