//! Uploading through a failing gateway. An upload that fails on the gateway's side (no
//! connection, a 5xx, a 429) is retried with backoff while the commit deadline allows. If the
//! gateway is still failing at the last moment, the miner commits the digest anyway and keeps
//! uploading in the background until the end of the next window: the digest binds the bytes,
//! so a late upload cannot copy anything, and the validator treats an artifact it cannot find
//! during a storage outage as the subnet's fault, not the miner's (`docs/validator.md`).

use crate::watch::AbortOnDrop;
use bytes::Bytes;
use kiln_runtime_client::{Client, Keypair};
use kiln_storage_gateway::{GatewayClient, GatewayClientError, UploadReceipt};
use std::future::Future;
use std::time::Duration;

/// The wait before retry `attempt` (0-based): 0.25 s, doubling, at most 2 s (short next to a
/// window, so the last retry still leaves time to commit).
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 << attempt.min(3))
}

/// How often a retry in flight checks whether time is up.
const CUTOFF_POLL: Duration = Duration::from_millis(200);

/// Uploads `bytes`, retrying failures on the gateway's side for as long as `keep_trying`
/// answers `true`. The first attempt runs to its end (a slow but working gateway is not cut
/// short); once the gateway has failed, each wait and each retry stops as soon as
/// `keep_trying` turns `false`. Refusals that are the uploader's own (unregistered, bad
/// signature, too large) return at once.
pub(crate) async fn upload_while<F, Fut>(
    gateway: &GatewayClient,
    hotkey: &Keypair,
    bytes: &Bytes,
    mut keep_trying: F,
) -> Result<UploadReceipt, GatewayClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut last = match gateway.upload(hotkey, bytes.clone()).await {
        Err(e) if e.is_transient() => e,
        done => return done,
    };
    let mut attempt = 0;
    loop {
        tracing::warn!(error = %last, attempt, "upload failed on the gateway's side; retrying");
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
        let cutoff = async {
            while keep_trying().await {
                tokio::time::sleep(CUTOFF_POLL).await;
            }
        };
        tokio::select! {
            result = gateway.upload(hotkey, bytes.clone()) => match result {
                Err(e) if e.is_transient() => last = e,
                done => return done,
            },
            () = cutoff => return Err(last),
        }
    }
}

/// Keeps uploading `bytes` in the background until they are stored or the chain reaches
/// `until_block`. Dropping the handle stops it.
pub(crate) fn upload_late(
    gateway: GatewayClient,
    chain: Client,
    hotkey: Keypair,
    bytes: Bytes,
    until_block: u64,
) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(async move {
        let keep_trying = || async {
            // A chain that cannot be read does not end the retries; the block bound does.
            chain
                .current_block()
                .await
                .map_or(true, |block| block < until_block)
        };
        let digest = hex::encode(blake3::hash(&bytes).as_bytes());
        match upload_while(&gateway, &hotkey, &bytes, keep_trying).await {
            Ok(_) => tracing::info!(%digest, "committed artifact uploaded after the deadline"),
            Err(e) => tracing::warn!(%digest, error = %e, "gave up uploading a committed artifact"),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap() {
        let waits: Vec<u64> = (0..7).map(|a| backoff(a).as_millis() as u64).collect();
        assert_eq!(waits, [250, 500, 1_000, 2_000, 2_000, 2_000, 2_000]);
    }
}
