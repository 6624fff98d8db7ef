//! kiln's storage gateway: signed, content-addressed artifact uploads and downloads over HTTP
//! in front of any object store.
//!
//! Miners `PUT /v1/artifacts/{blake3}` with an sr25519 signature of their registered hotkey;
//! anyone `GET`s by blake3. Integrity never depends on the gateway: the digest is on chain, and
//! the gateway stores a body only if it hashes to its key.

pub mod auth;
pub mod client;
pub mod config;
pub mod gc;
pub mod http;
pub mod metrics;
pub mod peer;
pub mod ratelimit;
pub mod registry;
pub mod seaweed;
pub mod server;
pub mod store;

pub use client::{GatewayClient, GatewayClientError, UploadReceipt};
pub use config::{GatewayConfig, StoreConfig};
pub use http::{AppState, Limits, router};
pub use registry::{
    CachedRegistry, ChainRegistry, ChainSource, HotkeySource, Registry, RegistryOptions,
    StaticRegistry,
};
pub use server::Gateway;
pub use store::ArtifactStore;
