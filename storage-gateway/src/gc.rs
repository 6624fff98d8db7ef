//! Retention: delete artifacts that no recent commitment references.

use crate::store::ArtifactStore;
use kiln_protocol::window::WindowClock;
use kiln_runtime_client::{BlockSel, Client};
use std::collections::HashSet;
use std::time::{Duration, SystemTime};
use thiserror::Error;

/// What a collection pass decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Artifacts in the store.
    pub scanned: usize,
    /// Kept because a recent commitment references them.
    pub referenced: usize,
    /// Kept because they are younger than the minimum age (possibly not committed yet).
    pub young: usize,
    /// Deleted (or, in a dry run, to delete).
    pub deleted: Vec<[u8; 32]>,
}

/// The artifacts to delete: not in `referenced` and older than `min_age` at `now`. Pure.
pub fn plan(
    stored: &[crate::store::ArtifactMeta],
    referenced: &HashSet<[u8; 32]>,
    now: SystemTime,
    min_age: Duration,
) -> GcReport {
    let mut report = GcReport {
        scanned: stored.len(),
        ..GcReport::default()
    };
    for a in stored {
        if referenced.contains(&a.digest) {
            report.referenced += 1;
        } else if now.duration_since(a.last_modified).unwrap_or_default() < min_age {
            report.young += 1;
        } else {
            report.deleted.push(a.digest);
        }
    }
    report
}

/// Why a collection pass failed (nothing is deleted after a failed read).
#[derive(Debug, Error)]
pub enum GcError {
    /// Reading commitments failed.
    #[error(transparent)]
    Chain(#[from] kiln_runtime_client::error::ReadError),
    /// Listing or deleting failed.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
}

/// Digests committed on `netuid` for windows `≥ current − keep_windows`.
pub async fn referenced(
    client: &Client,
    netuid: u16,
    clock: &WindowClock,
    keep_windows: u64,
) -> Result<HashSet<[u8; 32]>, GcError> {
    let block = client.current_block().await?;
    let oldest = clock.window_of(block).saturating_sub(keep_windows);
    Ok(client
        .commitments(netuid, BlockSel::Latest)
        .await?
        .iter()
        .filter_map(|c| c.kiln()?.ok())
        .filter(|c| c.window >= oldest)
        .map(|c| c.digest)
        .collect())
}

/// One pass: reads the references, lists the store, deletes what [`plan`] selects (unless
/// `dry_run`).
pub async fn collect(
    store: &ArtifactStore,
    referenced: &HashSet<[u8; 32]>,
    min_age: Duration,
    dry_run: bool,
) -> Result<GcReport, GcError> {
    let stored = store.list().await?;
    let report = plan(&stored, referenced, SystemTime::now(), min_age);
    if !dry_run {
        for digest in &report.deleted {
            store.delete(digest).await?;
            tracing::info!(digest = %hex::encode(digest), "artifact deleted");
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ArtifactMeta;

    #[test]
    fn keeps_referenced_and_young_artifacts() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000);
        let meta = |d: u8, age: u64| ArtifactMeta {
            digest: [d; 32],
            size: 1,
            last_modified: now - Duration::from_secs(age),
        };
        let stored = [meta(1, 5_000), meta(2, 5_000), meta(3, 10)];
        let referenced = HashSet::from([[1u8; 32]]);
        let r = plan(&stored, &referenced, now, Duration::from_secs(60));
        assert_eq!((r.scanned, r.referenced, r.young), (3, 1, 1));
        assert_eq!(r.deleted, [[2u8; 32]]);
    }
}
