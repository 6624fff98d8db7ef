//! Who may upload: hotkeys registered on the subnet, from a cache of the subnet's hotkeys
//! refreshed from the chain (with an on-demand check for hotkeys registered since), or a fixed
//! set (tests, private deployments).

use futures::future::BoxFuture;
use kiln_runtime_client::{BlockSel, Client};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use subxt::utils::AccountId32;

/// The registration status of a hotkey as far as the gateway knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Registered on the subnet.
    Registered,
    /// Not registered.
    Unregistered,
    /// The gateway cannot tell (the chain has not been read).
    Unknown,
}

/// Answers whether a hotkey may upload.
pub trait Registry: Send + Sync + 'static {
    /// The status of `hotkey`.
    fn status<'a>(&'a self, hotkey: &'a AccountId32) -> BoxFuture<'a, Registration>;
}

/// A fixed set of hotkeys.
#[derive(Debug, Clone, Default)]
pub struct StaticRegistry(HashSet<[u8; 32]>);

impl StaticRegistry {
    /// These hotkeys, and no others.
    pub fn new(hotkeys: impl IntoIterator<Item = AccountId32>) -> Self {
        StaticRegistry(hotkeys.into_iter().map(|h| h.0).collect())
    }
}

impl Registry for StaticRegistry {
    fn status<'a>(&'a self, hotkey: &'a AccountId32) -> BoxFuture<'a, Registration> {
        let known = self.0.contains(&hotkey.0);
        Box::pin(async move {
            if known {
                Registration::Registered
            } else {
                Registration::Unregistered
            }
        })
    }
}

/// How long an unregistered answer from the chain is reused.
pub const RECHECK_AFTER: Duration = Duration::from_secs(2);

/// Most hotkeys remembered as recently checked and unregistered.
const NEGATIVE_CACHE: usize = 10_000;

/// The hotkeys registered on a subnet, read from the chain.
#[derive(Debug, Clone)]
pub struct ChainRegistry(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    client: Client,
    netuid: u16,
    recheck_after: Duration,
    hotkeys: RwLock<Option<HashSet<[u8; 32]>>>,
    misses: Mutex<HashMap<[u8; 32], Instant>>,
}

impl ChainRegistry {
    /// Reads the subnet's hotkeys now, then every `every` in a background task (which stops
    /// when the last clone is dropped). A hotkey missing from the set is looked up on the chain
    /// directly, at most once per [`RECHECK_AFTER`] (or `every`, if shorter), so a miner that
    /// just registered can upload without waiting for the next refresh.
    pub async fn start(client: Client, netuid: u16, every: Duration) -> Self {
        let inner = Arc::new(Inner {
            client,
            netuid,
            recheck_after: every.min(RECHECK_AFTER),
            hotkeys: RwLock::default(),
            misses: Mutex::default(),
        });
        inner.refresh().await;
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                inner.refresh().await;
            }
        });
        ChainRegistry(inner)
    }
}

impl Inner {
    async fn refresh(&self) {
        match self.client.hotkeys(self.netuid, BlockSel::Latest).await {
            Ok(list) => {
                let n = list.len();
                *self.hotkeys.write().expect("registry lock") =
                    Some(list.into_iter().map(|h| h.0).collect());
                self.misses.lock().expect("registry lock").clear();
                crate::metrics::GatewayMetrics.registered_hotkeys(n);
                tracing::debug!(netuid = self.netuid, hotkeys = n, "registry refreshed");
            }
            Err(e) => tracing::warn!(
                netuid = self.netuid,
                error = %e,
                "registry refresh failed; keeping the last set"
            ),
        }
    }

    async fn lookup(&self, hotkey: &AccountId32) -> Registration {
        {
            let mut misses = self.misses.lock().expect("registry lock");
            if misses
                .get(&hotkey.0)
                .is_some_and(|t| t.elapsed() < self.recheck_after)
            {
                return Registration::Unregistered;
            }
            if misses.len() >= NEGATIVE_CACHE {
                misses.clear();
            }
            misses.insert(hotkey.0, Instant::now());
        }
        match self.client.uid_of(self.netuid, hotkey).await {
            Ok(Some(_)) => {
                self.misses.lock().expect("registry lock").remove(&hotkey.0);
                if let Some(set) = &mut *self.hotkeys.write().expect("registry lock") {
                    set.insert(hotkey.0);
                }
                Registration::Registered
            }
            Ok(None) => Registration::Unregistered,
            Err(e) => {
                tracing::warn!(error = %e, "registration lookup failed");
                Registration::Unknown
            }
        }
    }
}

impl Registry for ChainRegistry {
    fn status<'a>(&'a self, hotkey: &'a AccountId32) -> BoxFuture<'a, Registration> {
        Box::pin(async move {
            let known = self
                .0
                .hotkeys
                .read()
                .expect("registry lock")
                .as_ref()
                .map(|set| set.contains(&hotkey.0));
            match known {
                Some(true) => Registration::Registered,
                _ => self.0.lookup(hotkey).await,
            }
        })
    }
}
