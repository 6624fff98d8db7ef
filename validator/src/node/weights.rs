//! The Weights phase: a weight vector is recorded as pending before it is sent, so that a restart
//! never sends it twice. On a subnet with hash commit-reveal (v2) on, the vector's hash is
//! committed and the vector (with its salt) kept in Postgres until its reveal block, when the
//! [`Revealer`] reveals it; with timelocked commit-reveal (v4) see [`super::timelocked`].

use super::{Validator, ValidatorError};
use crate::db::{Db, DbError};
use crate::metrics::ValidatorMetrics;
use crate::weights::reveal_block;
use futures::StreamExt;
use kiln_protocol::WindowClock;
use kiln_runtime_client::keys::account;
use kiln_runtime_client::{BlockSel, Client, CommitReveal, Keypair, PendingReveal, WindowEvent};

/// Salt words per commit (subtensor hashes any `Vec<u16>`; 8 words are 128 random bits).
const SALT_WORDS: usize = 8;

impl Validator {
    /// Sends window `window`'s weights (or commits them) unless that was done before.
    pub(super) async fn set_weights(
        &self,
        window: u64,
        weights: &[(u16, f64)],
    ) -> Result<(), ValidatorError> {
        if !self
            .db
            .weights_pending(window, weights, self.cfg.version_key)
            .await?
        {
            tracing::warn!(
                window,
                "weights for this window were already sent; not again"
            );
            return Ok(());
        }
        let params = match self
            .chain
            .hyperparams(self.cfg.netuid, BlockSel::Latest)
            .await
        {
            Ok(p) => p,
            Err(e) => return self.weights_failed(window, &e.to_string()).await,
        };
        match params.commit_reveal {
            CommitReveal::Hash { period } => {
                return self.commit(window, weights, params.tempo, period).await;
            }
            CommitReveal::Timelocked { .. } => {
                return self.commit_timelocked(window, weights).await;
            }
            CommitReveal::Off => {}
        }
        match self
            .chain
            .set_weights(self.cfg.netuid, &self.hotkey, weights, self.cfg.version_key)
            .await
        {
            Ok(included) => {
                self.metrics.weights("included");
                self.db
                    .weights_done(
                        window,
                        "included",
                        Some(included.block_number),
                        Some(included.tx_hash.as_bytes()),
                        None,
                    )
                    .await?;
                Ok(())
            }
            Err(e) => self.weights_failed(window, &e.to_string()).await,
        }
    }

    pub(super) async fn weights_failed(
        &self,
        window: u64,
        error: &str,
    ) -> Result<(), ValidatorError> {
        tracing::warn!(window, error, "weights not set");
        self.metrics.weights("failed");
        self.db
            .weights_done(window, "failed", None, None, Some(error))
            .await?;
        Ok(())
    }

    /// Commits the vector's hash; the reveal waits in Postgres.
    async fn commit(
        &self,
        window: u64,
        weights: &[(u16, f64)],
        tempo: u16,
        period: u64,
    ) -> Result<(), ValidatorError> {
        let mut bytes = [0u8; SALT_WORDS * 2];
        if let Err(e) = getrandom::fill(&mut bytes) {
            return self
                .weights_failed(window, &format!("no randomness for the salt: {e}"))
                .await;
        }
        let salt: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        match self
            .chain
            .commit_weights(
                self.cfg.netuid,
                &self.hotkey,
                weights,
                salt.clone(),
                self.cfg.version_key,
            )
            .await
        {
            Ok((pending, included)) => {
                let at = reveal_block(included.block_number, tempo, period);
                self.metrics.weights("committed");
                self.db
                    .weights_committed(
                        window,
                        &pending.values,
                        &salt,
                        included.block_number,
                        included.tx_hash.as_bytes(),
                        at,
                    )
                    .await?;
                tracing::info!(window, reveal_at = at, "weights committed");
                Ok(())
            }
            Err(e) => self.weights_failed(window, &e.to_string()).await,
        }
    }
}

/// Reveals hash-committed weight vectors when their block comes, and follows timelocked
/// commits until the chain reveals or drops them. Runs beside the window loop (which may be
/// busy evaluating when a reveal epoch opens) on its own block subscription.
pub(super) struct Revealer {
    pub(super) chain: Client,
    pub(super) db: Db,
    pub(super) hotkey: Keypair,
    pub(super) netuid: u16,
    pub(super) metrics: ValidatorMetrics,
}

impl Revealer {
    /// Follows new blocks until the stream ends.
    pub(super) async fn run(self, clock: WindowClock) {
        let events = match self.chain.window_events(clock).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "no block stream for reveals");
                return;
            }
        };
        futures::pin_mut!(events);
        // Followers of timelocked commits, by window; aborted with this task.
        let mut followers = tokio::task::JoinSet::new();
        let mut followed = std::collections::HashSet::new();
        while let Some(event) = events.next().await {
            let Ok(WindowEvent::Block { number, .. }) = event else {
                continue;
            };
            if let Err(e) = self.reveal_due(number).await {
                tracing::warn!(error = %e, "revealing weights");
            }
            match self.db.timelocked_committed().await {
                Ok(rows) => {
                    for row in rows.into_iter().filter(|r| followed.insert(r.window)) {
                        followers.spawn(super::timelocked::follow(
                            self.chain.clone(),
                            self.db.clone(),
                            account(&self.hotkey),
                            self.netuid,
                            self.tempo().await,
                            self.metrics,
                            row,
                        ));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading timelocked commits"),
            }
            while followers.try_join_next().is_some() {}
        }
    }

    /// The subnet's tempo (360, finney's default, when the chain cannot be read).
    async fn tempo(&self) -> u64 {
        self.chain
            .hyperparams(self.netuid, BlockSel::Latest)
            .await
            .map_or(360, |p| u64::from(p.tempo))
    }

    /// Reveals every committed vector whose reveal block is at or before `block`.
    pub(super) async fn reveal_due(&self, block: u64) -> Result<(), DbError> {
        for row in self.db.reveals_due(block).await? {
            let pending = PendingReveal {
                netuid: self.netuid,
                uids: row.uids,
                values: row.values,
                salt: row.salt,
                version_key: row.version_key,
            };
            match self.chain.reveal_weights(&self.hotkey, &pending).await {
                Ok(included) => {
                    self.metrics.weights("revealed");
                    self.db
                        .weights_done(
                            row.window,
                            "included",
                            Some(included.block_number),
                            Some(included.tx_hash.as_bytes()),
                            None,
                        )
                        .await?;
                    tracing::info!(
                        window = row.window,
                        block = included.block_number,
                        "weights revealed"
                    );
                }
                Err(e) => {
                    tracing::warn!(window = row.window, error = %e, "reveal failed");
                    self.metrics.weights("failed");
                    let error = format!("reveal: {e}");
                    self.db
                        .weights_done(row.window, "failed", None, None, Some(&error))
                        .await?;
                }
            }
        }
        Ok(())
    }
}
