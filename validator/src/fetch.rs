//! Where artifacts are fetched from. A commitment's locator names a storage endpoint; the
//! validator maps the ids it knows to gateways (`--locator-gateway ID=URL`) and fetches anything
//! else from its own gateway. It never fetches from an address a miner wrote on chain, so a
//! locator cannot make it reach into a private network. Authenticity comes from the digest, so
//! any copy will do.

use crate::window::Download;
use kiln_protocol::commitment::Commitment;
use kiln_storage_gateway::{GatewayClient, GatewayClientError};
use std::collections::BTreeMap;

/// The name of the validator's own gateway in the outage record.
pub const OWN_GATEWAY: &str = "";

/// Asks `gateway` once, within `timeout`, for an artifact nobody has: healthy if it answers
/// (404 after asking its store), failed with the reason otherwise.
pub async fn probe(gateway: &GatewayClient, timeout: std::time::Duration) -> Result<(), String> {
    let head = gateway.without_retries();
    match tokio::time::timeout(timeout, head.head(&crate::probe::probe_digest())).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {timeout:?}")),
    }
}

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

    /// The name under which a locator's gateway is probed: the locator when it is one of the
    /// named gateways, else [`OWN_GATEWAY`].
    pub fn gateway_name<'a>(&self, locator: &'a str) -> &'a str {
        if self.named.contains_key(locator) {
            locator
        } else {
            OWN_GATEWAY
        }
    }

    /// Every gateway artifacts are fetched from, with its name.
    pub fn gateways(&self) -> impl Iterator<Item = (&str, &GatewayClient)> {
        std::iter::once((OWN_GATEWAY, &self.default))
            .chain(self.named.iter().map(|(k, v)| (k.as_str(), v)))
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
