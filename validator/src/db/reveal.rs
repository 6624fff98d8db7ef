//! Commit-reveal v2 rows: a committed vector waits here, with its salt, for its reveal block.

use super::{Db, DbError, i64_of, u16s, u64_of};
use sqlx::Row;

/// A committed weight vector waiting for its reveal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRevealRow {
    /// The window whose weights these are.
    pub window: u64,
    /// Destination uids.
    pub uids: Vec<u16>,
    /// u16 weights as committed.
    pub values: Vec<u16>,
    /// The commit's salt.
    pub salt: Vec<u16>,
    /// The version key.
    pub version_key: u64,
    /// The first block at which to reveal.
    pub reveal_at: u64,
}

impl Db {
    /// Records that window `window`'s pending vector was committed at `block` (as `values` with
    /// `salt`), to be revealed from block `reveal_at`.
    pub async fn weights_committed(
        &self,
        window: u64,
        values: &[u16],
        salt: &[u16],
        block: u64,
        tx_hash: &[u8],
        reveal_at: u64,
    ) -> Result<(), DbError> {
        let to_i32 = |v: &[u16]| v.iter().map(|x| i32::from(*x)).collect::<Vec<_>>();
        sqlx::query(
            "UPDATE weight_submissions SET status = 'committed', u16_values = $2, salt = $3,
                    commit_block = $4, commit_tx = $5, reveal_at = $6, updated_at = now()
             WHERE win = $1 AND status = 'pending'",
        )
        .bind(i64_of(window, "window")?)
        .bind(to_i32(values))
        .bind(to_i32(salt))
        .bind(i64_of(block, "block")?)
        .bind(tx_hash)
        .bind(i64_of(reveal_at, "reveal_at")?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Hash-committed vectors whose reveal block is at or before `block`, oldest first
    /// (timelocked commits are revealed by the chain, not here).
    pub async fn reveals_due(&self, block: u64) -> Result<Vec<PendingRevealRow>, DbError> {
        let rows = sqlx::query(
            "SELECT win, uids, u16_values, salt, version_key, reveal_at FROM weight_submissions
             WHERE status = 'committed' AND reveal_round IS NULL AND reveal_at <= $1 ORDER BY win",
        )
        .bind(i64_of(block, "block")?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingRevealRow {
                    window: u64_of(r.try_get("win")?, "win")?,
                    uids: u16s(r.try_get("uids")?, "uids")?,
                    values: u16s(r.try_get("u16_values")?, "u16_values")?,
                    salt: u16s(r.try_get("salt")?, "salt")?,
                    version_key: u64_of(r.try_get("version_key")?, "version_key")?,
                    reveal_at: u64_of(r.try_get("reveal_at")?, "reveal_at")?,
                })
            })
            .collect()
    }
}
