//! The connection: subxt's legacy RPC backend over a reconnecting WebSocket client, metadata from
//! the node, per-request timeouts.

use crate::network::Network;
use std::sync::Arc;
use std::time::Duration;
use subxt::backend::LegacyBackend;
use subxt::client::{ClientAtBlock, OnlineClientAtBlockImpl};
use subxt::rpcs::client::reconnecting_rpc_client::ExponentialBackoff;
use subxt::rpcs::client::{ReconnectingRpcClient, RpcClient};
use subxt::{OnlineClient, PolkadotConfig};
use thiserror::Error;

/// The chain configuration kiln uses: subtensor's (and the devnet's) extrinsic format, accounts,
/// signatures and BLAKE2 hashing are Polkadot's.
pub type ChainConfig = PolkadotConfig;
/// A view of the chain at one block.
pub type AtBlock = ClientAtBlock<ChainConfig, OnlineClientAtBlockImpl<ChainConfig>>;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// How long the first connection may take (retries included).
    pub connect_timeout: Duration,
    /// Longest wait for any single JSON-RPC request.
    pub request_timeout: Duration,
    /// Longest wait for a transaction to be included after submission.
    pub inclusion_timeout: Duration,
    /// Longest pause between reconnection attempts after a drop.
    pub max_backoff: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            inclusion_timeout: Duration::from_secs(60),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// Why a connection could not be made.
#[derive(Debug, Error)]
pub enum ConnectError {
    /// No connection within the connect timeout.
    #[error("no connection to {url} within {timeout:?}")]
    Timeout {
        /// The endpoint.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// The WebSocket client failed.
    #[error("connecting to {url}: {reason}")]
    Rpc {
        /// The endpoint.
        url: String,
        /// The client's error.
        reason: String,
    },
    /// The node answered but subxt could not set up (genesis hash, metadata).
    #[error("setting up the client for {url}: {source}")]
    Client {
        /// The endpoint.
        url: String,
        /// subxt's error.
        source: Box<subxt::error::OnlineClientError>,
    },
}

/// A connected client. Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct Client {
    api: OnlineClient<ChainConfig>,
    rpc: RpcClient,
    network: Network,
    options: ClientOptions,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to `network`. Requests made while the connection is down wait for the
    /// reconnection (exponential backoff up to `max_backoff`) and are retried by subxt's backend.
    pub async fn connect(network: Network, options: ClientOptions) -> Result<Self, ConnectError> {
        let url = network.url().to_owned();
        let timeout = options.connect_timeout;
        let setup = async {
            let policy = ExponentialBackoff::from_millis(20).max_delay(options.max_backoff);
            let inner = ReconnectingRpcClient::builder()
                .retry_policy(policy)
                .request_timeout(options.request_timeout)
                .connection_timeout(options.connect_timeout)
                .build(url.clone())
                .await
                .map_err(|e| ConnectError::Rpc {
                    url: url.clone(),
                    reason: e.to_string(),
                })?;
            let rpc = RpcClient::new(inner);
            let backend = LegacyBackend::<ChainConfig>::builder().build(rpc.clone());
            let api = OnlineClient::<ChainConfig>::from_backend(Arc::new(backend))
                .await
                .map_err(|e| ConnectError::Client {
                    url: url.clone(),
                    source: Box::new(e),
                })?;
            Ok::<_, ConnectError>((api, rpc))
        };
        let (api, rpc) =
            tokio::time::timeout(timeout, setup)
                .await
                .map_err(|_| ConnectError::Timeout {
                    url: url.clone(),
                    timeout,
                })??;
        tracing::info!(%url, "connected");
        Ok(Client {
            api,
            rpc,
            network,
            options,
        })
    }

    /// The subxt client, for anything this crate does not wrap.
    pub fn api(&self) -> &OnlineClient<ChainConfig> {
        &self.api
    }

    /// The raw JSON-RPC client.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// The endpoint.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The connection settings.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }
}
