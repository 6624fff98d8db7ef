//! The running node: the chain behind a mutex, a transaction pool, and the block author (on a
//! timer or instantly per transaction). [`spawn`] starts it with its JSON-RPC server on
//! 127.0.0.1; dropping the [`NodeHandle`] stops both.

use crate::chain::{Chain, ChainError, StoredBlock, TxOutcome};
use crate::persist::{self, StateFileError};
use crate::rpc;
use codec::Decode;
use kiln_devnet_runtime::shield::ShieldKeyPair;
use kiln_devnet_runtime::{Header, RuntimeGenesisConfig, UncheckedExtrinsic};
use sp_core::H256;
use sp_runtime::traits::{BlakeTwo256, Hash};
use sp_runtime::transaction_validity::{TransactionValidityError, ValidTransaction};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{Notify, broadcast, mpsc};

/// How the node runs.
pub struct NodeConfig {
    /// Port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// Milliseconds between blocks when not instant.
    pub block_time_ms: u64,
    /// Author a block as soon as a transaction arrives (and only then).
    pub instant: bool,
    /// The genesis state.
    pub genesis: RuntimeGenesisConfig,
    /// Resume from this file when it exists, and save the chain to it as it grows and when the
    /// node stops (see [`crate::persist`]).
    pub state_file: Option<PathBuf>,
}

impl std::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("port", &self.port)
            .field("block_time_ms", &self.block_time_ms)
            .field("instant", &self.instant)
            .field("state_file", &self.state_file)
            .finish_non_exhaustive()
    }
}

/// Why the node could not start.
#[derive(Debug, Error)]
pub enum NodeError {
    /// Building genesis failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The state file could not be resumed.
    #[error(transparent)]
    StateFile(#[from] StateFileError),
    /// The RPC server could not bind.
    #[error("binding 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
}

/// A transaction's progress, as `author_submitAndWatchExtrinsic` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    /// In the pool.
    Ready,
    /// In a block (final at once).
    InBlock(H256),
    /// Final.
    Finalized(H256),
    /// Dropped as invalid.
    Invalid,
}

/// Why a submission was refused (mapped to JSON-RPC error codes 1010–1014).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SubmitError {
    /// The bytes are not an extrinsic.
    #[error("could not decode the extrinsic")]
    Decode,
    /// The runtime judged it invalid or unknown.
    #[error("invalid transaction: {0:?}")]
    Invalid(TransactionValidityError),
    /// The same bytes are already pooled.
    #[error("already imported")]
    AlreadyImported,
    /// Another pooled transaction provides the same tag (same sender and nonce).
    #[error("priority is too low")]
    TooLowPriority,
}

struct Pending {
    bytes: Vec<u8>,
    hash: H256,
    provides: Vec<Vec<u8>>,
    watcher: Option<mpsc::UnboundedSender<TxStatus>>,
}

/// State shared by the author and the RPC handlers.
pub struct Shared {
    chain: Mutex<Chain>,
    pool: Mutex<Vec<Pending>>,
    heads: broadcast::Sender<Header>,
    wake: Notify,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// The chain (locked).
    pub fn chain(&self) -> MutexGuard<'_, Chain> {
        lock(&self.chain)
    }

    /// New finalized headers.
    pub fn subscribe_heads(&self) -> broadcast::Receiver<Header> {
        self.heads.subscribe()
    }

    /// Validates `bytes` and pools them; `watch` receives status updates.
    pub fn submit(
        &self,
        bytes: Vec<u8>,
        watch: Option<mpsc::UnboundedSender<TxStatus>>,
    ) -> Result<H256, SubmitError> {
        // Clients find their transaction by hashing block bodies, so only canonical encodings
        // are accepted.
        let xt = UncheckedExtrinsic::decode(&mut &bytes[..]).map_err(|_| SubmitError::Decode)?;
        if codec::Encode::encode(&xt) != bytes {
            return Err(SubmitError::Decode);
        }
        let hash = BlakeTwo256::hash(&bytes);
        let valid: ValidTransaction = match self.chain().validate(&bytes) {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(SubmitError::Invalid(e)),
            Err(_) => return Err(SubmitError::Decode),
        };
        let mut pool = lock(&self.pool);
        if pool.iter().any(|p| p.hash == hash) {
            return Err(SubmitError::AlreadyImported);
        }
        if pool
            .iter()
            .any(|p| p.provides.iter().any(|t| valid.provides.contains(t)))
        {
            return Err(SubmitError::TooLowPriority);
        }
        if let Some(w) = &watch {
            let _ = w.send(TxStatus::Ready);
        }
        pool.push(Pending {
            bytes,
            hash,
            provides: valid.provides,
            watcher: watch,
        });
        drop(pool);
        self.wake.notify_one();
        Ok(hash)
    }

    /// The next nonce of `who`: one past the highest nonce among its pooled transactions, or its
    /// on-chain nonce when none is pooled.
    pub fn next_index(
        &self,
        who: &kiln_devnet_runtime::AccountId,
    ) -> Result<u32, crate::CallError> {
        let chain = self.chain();
        let out = chain.call(
            chain.best().hash,
            "AccountNonceApi_account_nonce",
            &codec::Encode::encode(who),
        )?;
        let onchain = u32::decode(&mut &out[..])
            .map_err(|_| crate::CallError::Decode("AccountNonceApi_account_nonce".into()))?;
        drop(chain);
        // `CheckNonce` provides the tag `(who, nonce)`.
        let prefix = codec::Encode::encode(who);
        let pooled = lock(&self.pool)
            .iter()
            .flat_map(|p| p.provides.iter())
            .filter_map(|tag| {
                let rest = tag.strip_prefix(prefix.as_slice())?;
                u32::decode(&mut &rest[..]).ok()
            })
            .max();
        Ok(pooled.map_or(onchain, |n| onchain.max(n + 1)))
    }

    /// Authors one block from the pool and notifies watchers and subscribers.
    pub fn author_block(&self) -> Result<StoredBlock, ChainError> {
        let txs: Vec<Vec<u8>> = lock(&self.pool).iter().map(|p| p.bytes.clone()).collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let (block, outcomes) = self.chain().author(&txs, now)?;
        let mut pool = lock(&self.pool);
        let authored: Vec<Pending> = pool.drain(..txs.len()).collect();
        let mut keep = Vec::new();
        for (p, outcome) in authored.into_iter().zip(outcomes) {
            match outcome {
                TxOutcome::Included => {
                    if let Some(w) = &p.watcher {
                        let _ = w.send(TxStatus::InBlock(block.hash));
                        let _ = w.send(TxStatus::Finalized(block.hash));
                    }
                }
                TxOutcome::Retry => keep.push(p),
                TxOutcome::Dropped(e) => {
                    tracing::debug!(target: "kiln::devnet", ?e, "dropped transaction");
                    if let Some(w) = &p.watcher {
                        let _ = w.send(TxStatus::Invalid);
                    }
                }
            }
        }
        keep.append(&mut pool);
        *pool = keep;
        drop(pool);
        tracing::info!(
            target: "kiln::devnet",
            number = block.header.number,
            hash = ?block.hash,
            extrinsics = block.extrinsics.len(),
            "block"
        );
        let _ = self.heads.send(block.header.clone());
        Ok(block)
    }
}

/// A running node; dropping it stops the RPC server and the author.
#[derive(Debug)]
pub struct NodeHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: jsonrpsee::server::ServerHandle,
    author: tokio::task::JoinHandle<()>,
    state_file: Option<PathBuf>,
}

impl NodeHandle {
    /// The RPC address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The node's shared state (for tests and tools).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops the node and saves the chain to its state file, reporting a failed save (dropping
    /// the handle saves too, but can only log a failure).
    pub fn stop(mut self) -> Result<(), StateFileError> {
        self.halt();
        match self.state_file.take() {
            Some(path) => persist::save(&self.shared.chain(), &path),
            None => Ok(()),
        }
    }

    fn halt(&mut self) {
        let _ = self.server.stop();
        self.author.abort();
    }

    /// Waits until the server stops.
    pub async fn stopped(self) {
        self.server.clone().stopped().await;
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        self.halt();
        if let Some(path) = &self.state_file
            && let Err(e) = persist::save(&self.shared.chain(), path)
        {
            tracing::error!(target: "kiln::devnet", error = %e, "saving the chain");
        }
    }
}

/// How often a node with a state file saves it while authoring (and once more when it stops).
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// Starts a node: genesis, the author task and the JSON-RPC server (WebSocket and HTTP on one
/// port of 127.0.0.1), signing beacon pulses with the dev beacon. Needs a tokio runtime.
pub async fn spawn(config: NodeConfig) -> Result<NodeHandle, NodeError> {
    spawn_with_beacon(config, kiln_devnet_runtime::dev::beacon()).await
}

/// [`spawn`] with another beacon (its key must be the genesis `BeaconConfig`'s).
pub async fn spawn_with_beacon(
    config: NodeConfig,
    beacon: kiln_drand::Beacon,
) -> Result<NodeHandle, NodeError> {
    spawn_with_keys(config, beacon, kiln_devnet_runtime::dev::shield_key()).await
}

/// [`spawn`] with another beacon and `MevShield` key pair (their public keys must be the
/// genesis `Drand.BeaconConfig`'s and `MevShield.NextKey`).
pub async fn spawn_with_keys(
    config: NodeConfig,
    beacon: kiln_drand::Beacon,
    shield: ShieldKeyPair,
) -> Result<NodeHandle, NodeError> {
    let mut chain = Chain::new(&config.genesis)?;
    if let Some(path) = config.state_file.as_deref().filter(|p| p.exists()) {
        chain = persist::resume(path, &chain)?;
        chain.set_beacon(beacon.clone());
        tracing::info!(
            target: "kiln::devnet",
            path = %path.display(),
            best = chain.best().header.number,
            "resumed"
        );
    }
    chain.set_beacon(beacon);
    chain.set_shield_key(shield);
    let (heads, _) = broadcast::channel(1024);
    let shared = Arc::new(Shared {
        chain: Mutex::new(chain),
        pool: Mutex::new(Vec::new()),
        heads,
        wake: Notify::new(),
    });
    let server = jsonrpsee::server::Server::builder()
        .build(("127.0.0.1", config.port))
        .await
        .map_err(|source| NodeError::Bind {
            port: config.port,
            source,
        })?;
    let addr = server.local_addr().map_err(|source| NodeError::Bind {
        port: config.port,
        source,
    })?;
    let handle = server.start(rpc::module(shared.clone()));
    let author_shared = shared.clone();
    let state_file = config.state_file.clone();
    let author = tokio::spawn(async move {
        let period = Duration::from_millis(config.block_time_ms.max(1));
        let mut saved = tokio::time::Instant::now();
        loop {
            if config.instant {
                author_shared.wake.notified().await;
            } else {
                tokio::time::sleep(period).await;
            }
            if let Err(e) = author_shared.author_block() {
                tracing::error!(target: "kiln::devnet", error = %e, "authoring failed");
            }
            if let Some(path) = &state_file
                && saved.elapsed() >= SAVE_EVERY
            {
                saved = tokio::time::Instant::now();
                if let Err(e) = persist::save(&author_shared.chain(), path) {
                    tracing::error!(target: "kiln::devnet", error = %e, "saving the chain");
                }
            }
        }
    });
    Ok(NodeHandle {
        addr,
        shared,
        server: handle,
        author,
        state_file: config.state_file,
    })
}
