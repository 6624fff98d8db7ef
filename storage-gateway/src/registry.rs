//! Who may upload: hotkeys registered on the subnet, from a cache of the subnet's hotkeys
//! refreshed from the chain (with an on-demand check for hotkeys registered since), or a fixed
//! set (tests, private deployments).
//!
//! On-demand checks are what a flood of fresh keys would turn into chain reads, so they are
//! bounded twice: an unregistered answer is remembered for a while (a bounded LRU with a time
//! to live), and all on-demand checks together draw from one token bucket; a hotkey that finds
//! it empty is answered [`Registration::Deferred`] and is picked up by the next refresh.

use crate::ratelimit::RateLimiter;
use futures::future::BoxFuture;
use kiln_runtime_client::error::ReadError;
use kiln_runtime_client::{BlockSel, Client};
use lru::LruCache;
use parking_lot::{Mutex, RwLock};
use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use subxt::utils::AccountId32;

/// The registration status of a hotkey as far as the gateway knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Registration {
    /// Registered on the subnet.
    Registered,
    /// Not registered.
    Unregistered,
    /// The gateway cannot tell (the chain has not been read).
    Unknown,
    /// Not in the cached set, and the budget of on-demand chain checks is spent: retry after
    /// this long (or after the next refresh).
    Deferred(Duration),
}

/// Answers whether a hotkey may upload.
pub trait Registry: Send + Sync + 'static {
    /// The status of `hotkey`.
    fn status<'a>(&'a self, hotkey: &'a AccountId32) -> BoxFuture<'a, Registration>;
    /// Whether `hotkey` is in the registered set held now (no chain read).
    fn known(&self, hotkey: &AccountId32) -> bool;
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
    fn known(&self, hotkey: &AccountId32) -> bool {
        self.0.contains(&hotkey.0)
    }

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

/// Where registrations are read from: the chain, or a stand-in in benchmarks and tests.
pub trait HotkeySource: Send + Sync + 'static {
    /// Why a read failed.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Every hotkey registered now.
    fn hotkeys(&self) -> BoxFuture<'_, Result<Vec<AccountId32>, Self::Error>>;
    /// Whether `hotkey` is registered now.
    fn is_registered<'a>(
        &'a self,
        hotkey: &'a AccountId32,
    ) -> BoxFuture<'a, Result<bool, Self::Error>>;
}

/// A subnet's registrations on the chain.
#[derive(Debug, Clone)]
pub struct ChainSource {
    client: Client,
    netuid: u16,
}

impl ChainSource {
    /// The hotkeys of `netuid` as `client` reads them.
    pub fn new(client: Client, netuid: u16) -> Self {
        ChainSource { client, netuid }
    }
}

impl HotkeySource for ChainSource {
    type Error = ReadError;

    fn hotkeys(&self) -> BoxFuture<'_, Result<Vec<AccountId32>, ReadError>> {
        Box::pin(self.client.hotkeys(self.netuid, BlockSel::Latest))
    }

    fn is_registered<'a>(
        &'a self,
        hotkey: &'a AccountId32,
    ) -> BoxFuture<'a, Result<bool, ReadError>> {
        Box::pin(async move { Ok(self.client.uid_of(self.netuid, hotkey).await?.is_some()) })
    }
}

/// How a [`CachedRegistry`] reads its source.
#[derive(Debug, Clone, Copy)]
pub struct RegistryOptions {
    /// Time between full refreshes.
    pub refresh: Duration,
    /// How long an unregistered answer is reused (capped at `refresh`).
    pub recheck_after: Duration,
    /// Most hotkeys remembered as unregistered (least recently asked forgotten first).
    pub negative_capacity: usize,
    /// On-demand checks allowed at once, across all hotkeys.
    pub lookup_burst: u32,
    /// On-demand checks regained per minute.
    pub lookups_per_minute: u32,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            refresh: Duration::from_secs(12),
            recheck_after: Duration::from_secs(2),
            negative_capacity: 10_000,
            lookup_burst: 20,
            lookups_per_minute: 600,
        }
    }
}

/// The registry of a subnet's hotkeys read from the chain.
pub type ChainRegistry = CachedRegistry<ChainSource>;

/// The hotkeys of a [`HotkeySource`], cached and refreshed in the background.
pub struct CachedRegistry<S: HotkeySource>(Arc<Inner<S>>);

impl<S: HotkeySource> Clone for CachedRegistry<S> {
    fn clone(&self) -> Self {
        CachedRegistry(self.0.clone())
    }
}

impl<S: HotkeySource> std::fmt::Debug for CachedRegistry<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedRegistry")
            .field("lookups", &self.lookups())
            .finish_non_exhaustive()
    }
}

struct Inner<S> {
    source: S,
    options: RegistryOptions,
    started: Instant,
    hotkeys: RwLock<Option<HashSet<[u8; 32]>>>,
    misses: Mutex<LruCache<[u8; 32], Instant>>,
    budget: Mutex<RateLimiter<()>>,
    lookups: AtomicU64,
}

impl ChainRegistry {
    /// The hotkeys of `netuid` on the chain `client` reads, refreshed every `every` (other
    /// options at their defaults).
    pub async fn start(client: Client, netuid: u16, every: Duration) -> Self {
        let options = RegistryOptions {
            refresh: every,
            ..RegistryOptions::default()
        };
        CachedRegistry::start_with(ChainSource::new(client, netuid), options).await
    }
}

impl<S: HotkeySource> CachedRegistry<S> {
    /// Reads the source's hotkeys now, then every `options.refresh` in a background task
    /// (which stops when the last clone is dropped). A hotkey missing from the set is checked
    /// on demand, at most once per `recheck_after` and within the lookup budget, so a miner
    /// that just registered can upload without waiting for the next refresh.
    pub async fn start_with(source: S, mut options: RegistryOptions) -> Self {
        options.recheck_after = options.recheck_after.min(options.refresh);
        let capacity = NonZeroUsize::new(options.negative_capacity).unwrap_or(NonZeroUsize::MIN);
        let inner = Arc::new(Inner {
            source,
            options,
            started: Instant::now(),
            hotkeys: RwLock::default(),
            misses: Mutex::new(LruCache::new(capacity)),
            budget: Mutex::new(RateLimiter::new(
                options.lookup_burst,
                options.lookups_per_minute,
                1,
            )),
            lookups: AtomicU64::new(0),
        });
        inner.refresh().await;
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(options.refresh);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                inner.refresh().await;
            }
        });
        CachedRegistry(inner)
    }

    /// On-demand checks of single hotkeys made so far (full refreshes not counted).
    pub fn lookups(&self) -> u64 {
        self.0.lookups.load(Ordering::Relaxed)
    }
}

impl<S: HotkeySource> Inner<S> {
    async fn refresh(&self) {
        match self.source.hotkeys().await {
            Ok(list) => {
                let n = list.len();
                *self.hotkeys.write() = Some(list.into_iter().map(|h| h.0).collect());
                self.misses.lock().clear();
                crate::metrics::GatewayMetrics.registered_hotkeys(n);
                tracing::debug!(hotkeys = n, "registry refreshed");
            }
            Err(e) => tracing::warn!(error = %e, "registry refresh failed; keeping the last set"),
        }
    }

    async fn lookup(&self, hotkey: &AccountId32) -> Registration {
        let now = Instant::now();
        {
            let mut misses = self.misses.lock();
            if misses
                .get(&hotkey.0)
                .is_some_and(|t| now.duration_since(*t) < self.options.recheck_after)
            {
                return Registration::Unregistered;
            }
            let ms = now.duration_since(self.started).as_millis() as u64;
            if let Err(wait) = self.budget.lock().check((), ms) {
                crate::metrics::GatewayMetrics.registry_lookup("deferred");
                return Registration::Deferred(wait);
            }
        }
        self.lookups.fetch_add(1, Ordering::Relaxed);
        match self.source.is_registered(hotkey).await {
            Ok(true) => {
                crate::metrics::GatewayMetrics.registry_lookup("registered");
                self.misses.lock().pop(&hotkey.0);
                self.hotkeys
                    .write()
                    .get_or_insert_with(HashSet::new)
                    .insert(hotkey.0);
                Registration::Registered
            }
            Ok(false) => {
                crate::metrics::GatewayMetrics.registry_lookup("unregistered");
                // Recorded only once answered: a lookup in flight refuses nobody.
                self.misses.lock().put(hotkey.0, Instant::now());
                Registration::Unregistered
            }
            Err(e) => {
                crate::metrics::GatewayMetrics.registry_lookup("failed");
                tracing::warn!(error = %e, "registration lookup failed");
                Registration::Unknown
            }
        }
    }
}

impl<S: HotkeySource> Registry for CachedRegistry<S> {
    fn known(&self, hotkey: &AccountId32) -> bool {
        self.0
            .hotkeys
            .read()
            .as_ref()
            .is_some_and(|set| set.contains(&hotkey.0))
    }

    fn status<'a>(&'a self, hotkey: &'a AccountId32) -> BoxFuture<'a, Registration> {
        Box::pin(async move {
            if self.known(hotkey) {
                Registration::Registered
            } else {
                self.0.lookup(hotkey).await
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    /// Registrations in memory, counting on-demand checks.
    struct Memory(Mutex<HashSet<[u8; 32]>>);

    impl HotkeySource for Memory {
        type Error = Infallible;

        fn hotkeys(&self) -> BoxFuture<'_, Result<Vec<AccountId32>, Infallible>> {
            let all = self.0.lock().iter().map(|k| AccountId32(*k)).collect();
            Box::pin(async move { Ok(all) })
        }

        fn is_registered<'a>(
            &'a self,
            hotkey: &'a AccountId32,
        ) -> BoxFuture<'a, Result<bool, Infallible>> {
            let known = self.0.lock().contains(&hotkey.0);
            Box::pin(async move { Ok(known) })
        }
    }

    fn key(i: u32) -> AccountId32 {
        let mut k = [0u8; 32];
        k[..4].copy_from_slice(&i.to_le_bytes());
        AccountId32(k)
    }

    #[tokio::test]
    async fn fresh_keys_cost_at_most_the_lookup_budget() {
        let source = Memory(Mutex::new([key(0).0].into()));
        let options = RegistryOptions {
            refresh: Duration::from_secs(3600),
            lookup_burst: 5,
            lookups_per_minute: 0,
            negative_capacity: 100,
            ..RegistryOptions::default()
        };
        let registry = CachedRegistry::start_with(source, options).await;
        let mut deferred = 0;
        for i in 1..=1_000 {
            match registry.status(&key(i)).await {
                Registration::Unregistered => {}
                Registration::Deferred(_) => deferred += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(registry.lookups(), 5);
        assert_eq!(deferred, 995);
        // Registered hotkeys never touch the budget.
        assert_eq!(registry.status(&key(0)).await, Registration::Registered);
        assert_eq!(registry.lookups(), 5);
    }

    #[tokio::test]
    async fn a_new_registration_is_seen_on_demand_and_misses_are_remembered() {
        let registry = CachedRegistry::start_with(
            Memory(Mutex::new(HashSet::new())),
            RegistryOptions {
                refresh: Duration::from_secs(3600),
                recheck_after: Duration::from_secs(3600),
                ..RegistryOptions::default()
            },
        )
        .await;
        assert_eq!(registry.status(&key(9)).await, Registration::Unregistered);
        assert_eq!(registry.status(&key(9)).await, Registration::Unregistered);
        assert_eq!(registry.lookups(), 1, "the miss is remembered");
        registry.0.source.0.lock().insert(key(9).0);
        registry.0.misses.lock().clear();
        assert_eq!(registry.status(&key(9)).await, Registration::Registered);
        assert_eq!(registry.status(&key(9)).await, Registration::Registered);
        assert_eq!(registry.lookups(), 2, "then it is in the cached set");
    }

    #[tokio::test]
    async fn the_negative_cache_is_bounded() {
        let registry = CachedRegistry::start_with(
            Memory(Mutex::new(HashSet::new())),
            RegistryOptions {
                refresh: Duration::from_secs(3600),
                negative_capacity: 16,
                lookup_burst: 1_000,
                ..RegistryOptions::default()
            },
        )
        .await;
        for i in 0..500 {
            registry.status(&key(i)).await;
        }
        assert_eq!(registry.0.misses.lock().len(), 16);
    }
}
