//! Reading timelocked commits back: a hotkey's pending commits, a block's timelocked events, and
//! following one commit until the chain applies or drops it.
//!
//! The rule for a commit's fate. It is revealed at the first block where it is gone from
//! `TimelockedWeightCommits[netuid][commit epoch]` (matched by committer and ciphertext hash) and
//! that block's events hold `TimelockedWeightsRevealed(netuid, hotkey)`. The event alone is not
//! enough, since a hotkey may have several commits in one epoch. Gone without that event, the
//! chain dropped it: it expired (the round's pulse did not reach the chain during the reveal
//! epoch), or it did not decrypt, or the weights failed `set_weights`'s checks at the reveal
//! (subtensor drops those silently).

use super::TimelockedCommit;
use crate::blocks::StreamError;
use crate::client::{AtBlock, ChainConfig, Client};
use crate::error::{ReadError, RevealWaitError};
use crate::read::{BlockSel, try_get};
use crate::schema::{self, TimelockedEntry};
use subxt::utils::{AccountId32, H256};

/// One of a hotkey's timelocked commits still in storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCommit {
    /// The epoch it is filed under.
    pub epoch: u64,
    /// The block that included it.
    pub commit_block: u64,
    /// BLAKE2-256 of the ciphertext.
    pub hash: [u8; 32],
    /// The round it is encrypted to.
    pub reveal_round: u64,
}

/// A timelocked commit-reveal event of `SubtensorModule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimelockedEvent {
    /// `TimelockedWeightsCommitted(hotkey, netuid, hash, reveal_round)`.
    Committed {
        /// The committer.
        hotkey: AccountId32,
        /// The subnet (storage index).
        netuid: u16,
        /// BLAKE2-256 of the ciphertext.
        hash: H256,
        /// The round it is encrypted to.
        reveal_round: u64,
    },
    /// `TimelockedWeightsRevealed(netuid, hotkey)`: the chain applied a commit's weights.
    Revealed {
        /// The subnet (storage index).
        netuid: u16,
        /// The committer.
        hotkey: AccountId32,
    },
}

/// How following a commit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevealOutcome {
    /// The chain applied the weights at `block`.
    Revealed {
        /// The reveal block.
        block: u64,
    },
    /// The commit left storage at `block` without a reveal (see the module doc).
    Dropped {
        /// The block it was gone at.
        block: u64,
        /// Whether the round's pulse was on chain then: if not, it expired waiting for it; if
        /// so, it did not decrypt or its weights failed the checks at the reveal.
        pulse_on_chain: bool,
    },
    /// Still pending at `block`, the last one the timeout allowed.
    Pending {
        /// The last block checked.
        block: u64,
    },
}

/// The commits filed under `(netuid, epoch)` at `at`.
pub(crate) async fn epoch_commits(
    at: &AtBlock,
    netuid: u16,
    epoch: u64,
) -> Result<Vec<TimelockedEntry>, ReadError> {
    Ok(
        try_get(at, schema::timelocked_weight_commits(), (netuid, epoch))
            .await?
            .unwrap_or_default(),
    )
}

/// Every timelocked commit on `netuid` at `at`, with its epoch.
async fn all_commits(at: &AtBlock, netuid: u16) -> Result<Vec<(u64, TimelockedEntry)>, ReadError> {
    let err = |e: String| ReadError::Storage {
        item: "SubtensorModule.TimelockedWeightCommits".into(),
        reason: e,
    };
    let mut entries = at
        .storage()
        .iter(schema::timelocked_weight_commits(), (netuid,))
        .await
        .map_err(|e| err(e.to_string()))?;
    let mut out = Vec::new();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|e| err(e.to_string()))?;
        let epoch = entry
            .key()
            .map_err(|e| err(e.to_string()))?
            .part(1)
            .and_then(|p| p.decode_as::<u64>().ok().flatten())
            .ok_or_else(|| err("key without an epoch".into()))?;
        let commits: Vec<TimelockedEntry> =
            entry.value().decode().map_err(|e| err(e.to_string()))?;
        out.extend(commits.into_iter().map(|c| (epoch, c)));
    }
    out.sort_by_key(|(epoch, c)| (*epoch, c.1));
    Ok(out)
}

fn is_commit(entry: &TimelockedEntry, who: &AccountId32, hash: &[u8; 32]) -> bool {
    &entry.0 == who && &sp_crypto_hashing::blake2_256(&entry.2) == hash
}

/// The epoch and entry of `who`'s commit with ciphertext hash `hash` on `netuid`, if stored.
pub(crate) async fn find_commit(
    at: &AtBlock,
    netuid: u16,
    who: &AccountId32,
    hash: &[u8; 32],
) -> Result<Option<(u64, TimelockedEntry)>, ReadError> {
    Ok(all_commits(at, netuid)
        .await?
        .into_iter()
        .find(|(_, c)| is_commit(c, who, hash)))
}

fn events_error(reason: String) -> ReadError {
    ReadError::Storage {
        item: "System.Events".into(),
        reason,
    }
}

/// The timelocked commit-reveal events among a block's `events`, in order.
pub fn timelocked_events_in(
    events: &subxt::events::Events<ChainConfig>,
) -> Result<Vec<TimelockedEvent>, ReadError> {
    let err = |e: subxt::error::EventsError| events_error(e.to_string());
    let mut out = Vec::new();
    for event in events.iter() {
        let event = event.map_err(err)?;
        if event.pallet_name() != "SubtensorModule" {
            continue;
        }
        match event.event_name() {
            "TimelockedWeightsCommitted" => {
                let (hotkey, netuid, hash, reveal_round) = event
                    .decode_fields_unchecked_as::<(AccountId32, u16, H256, u64)>()
                    .map_err(err)?;
                out.push(TimelockedEvent::Committed {
                    hotkey,
                    netuid,
                    hash,
                    reveal_round,
                });
            }
            "TimelockedWeightsRevealed" => {
                let (netuid, hotkey) = event
                    .decode_fields_unchecked_as::<(u16, AccountId32)>()
                    .map_err(err)?;
                out.push(TimelockedEvent::Revealed { netuid, hotkey });
            }
            _ => {}
        }
    }
    Ok(out)
}

impl Client {
    /// `hotkey`'s timelocked commits on `netuid` still in storage at `sel`, oldest first.
    pub async fn timelocked_commits(
        &self,
        netuid: u16,
        hotkey: &AccountId32,
        sel: BlockSel,
    ) -> Result<Vec<PendingCommit>, ReadError> {
        let at = self.at(sel).await?;
        let all = self.timed(all_commits(&at, netuid)).await??;
        Ok(all
            .into_iter()
            .filter(|(_, c)| &c.0 == hotkey)
            .map(
                |(epoch, (_, commit_block, ciphertext, reveal_round))| PendingCommit {
                    epoch,
                    commit_block,
                    hash: sp_crypto_hashing::blake2_256(&ciphertext),
                    reveal_round,
                },
            )
            .collect())
    }

    /// The timelocked commit-reveal events of block `number`, in order.
    pub async fn timelocked_events(&self, number: u64) -> Result<Vec<TimelockedEvent>, ReadError> {
        let at = self.at(BlockSel::Number(number)).await?;
        let events = self
            .timed(at.events().fetch())
            .await?
            .map_err(|e| events_error(e.to_string()))?;
        timelocked_events_in(&events)
    }

    /// Whether `commit` by `hotkey` is still stored at block `number`.
    async fn holds(
        &self,
        number: u64,
        hotkey: &AccountId32,
        commit: &TimelockedCommit,
    ) -> Result<bool, ReadError> {
        let at = self.at(BlockSel::Number(number)).await?;
        let entries = self
            .timed(epoch_commits(&at, commit.netuid, commit.commit_epoch))
            .await??;
        Ok(entries.iter().any(|e| is_commit(e, hotkey, &commit.hash)))
    }

    /// Why `commit` was gone at block `number` (see the module doc).
    async fn fate(
        &self,
        number: u64,
        hotkey: &AccountId32,
        commit: &TimelockedCommit,
    ) -> Result<RevealOutcome, ReadError> {
        let revealed = self.timelocked_events(number).await?.iter().any(|e| {
            matches!(e, TimelockedEvent::Revealed { netuid, hotkey: who }
                if *netuid == commit.netuid && who == hotkey)
        });
        if revealed {
            return Ok(RevealOutcome::Revealed { block: number });
        }
        let at = self.at(BlockSel::Number(number)).await?;
        let pulse = self
            .timed(try_get(&at, schema::pulses(), (commit.reveal_round,)))
            .await??;
        Ok(RevealOutcome::Dropped {
            block: number,
            pulse_on_chain: pulse.is_some(),
        })
    }

    /// Follows finalized blocks after `commit` (made by `hotkey`) until the chain reveals or
    /// drops it, or until `timeout_blocks` blocks past its commit block.
    pub async fn wait_for_reveal(
        &self,
        hotkey: &AccountId32,
        commit: &TimelockedCommit,
        timeout_blocks: u64,
    ) -> Result<RevealOutcome, RevealWaitError> {
        let last = commit.commit_block.saturating_add(timeout_blocks);
        let mut heads = self
            .api()
            .stream_blocks()
            .await
            .map_err(|e| StreamError::Subscription(e.to_string()))?;
        // The commit is stored at its own block; `checked` is the last block known to hold it.
        let mut checked = commit.commit_block;
        let mut latest = self.current_block().await?;
        loop {
            let upto = latest.min(last);
            // A commit never comes back once gone: when the newest block holds it, so does
            // every block before it.
            if upto > checked {
                if self.holds(upto, hotkey, commit).await? {
                    checked = upto;
                } else {
                    for n in checked + 1..=upto {
                        if !self.holds(n, hotkey, commit).await? {
                            return Ok(self.fate(n, hotkey, commit).await?);
                        }
                    }
                }
            }
            if checked >= last {
                return Ok(RevealOutcome::Pending { block: checked });
            }
            latest = match heads.next().await {
                Some(Ok(block)) => latest.max(block.number()),
                Some(Err(subxt::error::BlocksError::CannotGetBlockHeader(e)))
                    if e.is_disconnected_will_reconnect() =>
                {
                    tracing::warn!(error = %e, "block stream interrupted; reconnecting");
                    latest
                }
                Some(Err(e)) => return Err(StreamError::Subscription(e.to_string()).into()),
                None => return Err(StreamError::Subscription("stream ended".into()).into()),
            };
        }
    }
}
