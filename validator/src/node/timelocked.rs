//! Commit-reveal v4 in the Weights phase: a window's weights are committed encrypted to a
//! drand round ([`Validator::commit_timelocked`]); the chain opens and applies them itself in
//! the reveal epoch. [`follow`] watches each commit until the chain reveals it (`included`, at
//! the reveal block) or drops it (`expired`, with the reason), so Postgres shows which commits
//! landed. Followers start for every `committed` row, so a restarted validator picks up where
//! it left off; the pending row written before the commit keeps a restart from committing twice.

use super::{Validator, ValidatorError};
use crate::db::{Db, TimelockedRow};
use crate::metrics::ValidatorMetrics;
use kiln_runtime_client::{AccountId32, Client, RevealOutcome, TimelockedCommit};
use std::time::Duration;

impl Validator {
    /// Commits the vector timelocked to the round the chain's schedule predicts.
    pub(super) async fn commit_timelocked(
        &self,
        window: u64,
        weights: &[(u16, f64)],
    ) -> Result<(), ValidatorError> {
        let sent = self
            .chain
            .commit_timelocked_weights(self.cfg.netuid, &self.hotkey, weights, self.cfg.version_key)
            .await;
        let (commit, included) = match sent {
            Ok(c) => c,
            Err(e) => return self.weights_failed(window, &e.to_string()).await,
        };
        let row = TimelockedRow {
            window,
            uids: commit.uids,
            values: commit.values,
            version_key: commit.version_key,
            commit_block: commit.commit_block,
            commit_epoch: commit.commit_epoch,
            reveal_round: commit.reveal_round,
            reveal_at: commit.reveal_block,
            hash: commit.hash,
        };
        self.metrics.weights("committed");
        self.db
            .weights_committed_timelocked(&row, included.tx_hash.as_bytes())
            .await?;
        tracing::info!(
            window,
            round = row.reveal_round,
            reveal_at = row.reveal_at,
            "weights committed, timelocked"
        );
        Ok(())
    }
}

/// Follows `row`'s commit until the chain reveals or drops it, and records how it ended.
pub(super) async fn follow(
    chain: Client,
    db: Db,
    hotkey: AccountId32,
    netuid: u16,
    tempo: u64,
    metrics: ValidatorMetrics,
    row: TimelockedRow,
) {
    let commit = TimelockedCommit {
        netuid,
        uids: row.uids.clone(),
        values: row.values.clone(),
        version_key: row.version_key,
        reveal_round: row.reveal_round,
        commit_block: row.commit_block,
        commit_epoch: row.commit_epoch,
        reveal_block: row.reveal_at,
        hash: row.hash,
    };
    // The chain decides by the end of the reveal epoch; a margin beyond that.
    let timeout = row.reveal_at.saturating_sub(row.commit_block) + 2 * tempo + 10;
    let (status, block, error) = loop {
        match chain.wait_for_reveal(&hotkey, &commit, timeout).await {
            Ok(RevealOutcome::Revealed { block }) => break ("included", block, None),
            Ok(RevealOutcome::Dropped {
                block,
                pulse_on_chain,
            }) => {
                break (
                    "expired",
                    block,
                    Some(dropped(row.reveal_round, pulse_on_chain)),
                );
            }
            Ok(RevealOutcome::Pending { block }) => {
                tracing::warn!(
                    window = row.window,
                    block,
                    "timelocked commit still pending"
                );
            }
            Err(e) => {
                tracing::warn!(window = row.window, error = %e, "following a timelocked commit");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    metrics.weights(if status == "included" {
        "revealed"
    } else {
        "expired"
    });
    match &error {
        None => tracing::info!(window = row.window, block, "weights revealed by the chain"),
        Some(e) => tracing::warn!(
            window = row.window,
            block,
            error = e,
            "weights not revealed"
        ),
    }
    if let Err(e) = db
        .weights_done(row.window, status, Some(block), None, error.as_deref())
        .await
    {
        tracing::warn!(window = row.window, error = %e, "recording the reveal");
    }
}

/// Why the chain dropped a commit, for the `error` column.
fn dropped(round: u64, pulse_on_chain: bool) -> String {
    if pulse_on_chain {
        format!(
            "the chain dropped the commit: it did not open with round {round}'s pulse, or its \
             weights failed set_weights' checks at the reveal"
        )
    } else {
        format!("expired unrevealed: drand round {round} was not on chain during the reveal epoch")
    }
}
