//! Commit-reveal v4 rows: a window's weights committed timelocked to a drand round, waiting
//! for the chain to reveal them (`included`) or to drop them (`expired`).

use super::{Db, DbError, i64_of, u16s, u64_of};
use sqlx::Row;

/// A timelocked commit as recorded when the chain accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelockedRow {
    /// The window whose weights these are.
    pub window: u64,
    /// Destination uids.
    pub uids: Vec<u16>,
    /// u16 weights as committed.
    pub values: Vec<u16>,
    /// The version key.
    pub version_key: u64,
    /// The block that included the commit.
    pub commit_block: u64,
    /// The epoch the chain filed it under.
    pub commit_epoch: u64,
    /// The drand round it is encrypted to.
    pub reveal_round: u64,
    /// The predicted first block of its reveal epoch.
    pub reveal_at: u64,
    /// BLAKE2-256 of the ciphertext (the `TimelockedWeightsCommitted` hash).
    pub hash: [u8; 32],
}

impl Db {
    /// Records that window `row.window`'s pending vector was committed timelocked.
    pub async fn weights_committed_timelocked(
        &self,
        row: &TimelockedRow,
        tx_hash: &[u8],
    ) -> Result<(), DbError> {
        let values: Vec<i32> = row.values.iter().map(|x| i32::from(*x)).collect();
        sqlx::query(
            "UPDATE weight_submissions SET status = 'committed', u16_values = $2,
                    commit_block = $3, commit_tx = $4, reveal_at = $5, reveal_round = $6,
                    commit_epoch = $7, commit_hash = $8, updated_at = now()
             WHERE win = $1 AND status = 'pending'",
        )
        .bind(i64_of(row.window, "window")?)
        .bind(values)
        .bind(i64_of(row.commit_block, "commit_block")?)
        .bind(tx_hash)
        .bind(i64_of(row.reveal_at, "reveal_at")?)
        .bind(i64_of(row.reveal_round, "reveal_round")?)
        .bind(i64_of(row.commit_epoch, "commit_epoch")?)
        .bind(&row.hash[..])
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Timelocked commits the chain has not yet revealed or dropped, oldest first.
    pub async fn timelocked_committed(&self) -> Result<Vec<TimelockedRow>, DbError> {
        let rows = sqlx::query(
            "SELECT win, uids, u16_values, version_key, commit_block, commit_epoch, reveal_round,
                    reveal_at, commit_hash
             FROM weight_submissions
             WHERE status = 'committed' AND reveal_round IS NOT NULL ORDER BY win",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let hash: Vec<u8> = r.try_get("commit_hash")?;
                Ok(TimelockedRow {
                    window: u64_of(r.try_get("win")?, "win")?,
                    uids: u16s(r.try_get("uids")?, "uids")?,
                    values: u16s(r.try_get("u16_values")?, "u16_values")?,
                    version_key: u64_of(r.try_get("version_key")?, "version_key")?,
                    commit_block: u64_of(r.try_get("commit_block")?, "commit_block")?,
                    commit_epoch: u64_of(r.try_get("commit_epoch")?, "commit_epoch")?,
                    reveal_round: u64_of(r.try_get("reveal_round")?, "reveal_round")?,
                    reveal_at: u64_of(r.try_get("reveal_at")?, "reveal_at")?,
                    hash: hash
                        .try_into()
                        .map_err(|_| DbError::Corrupt("commit_hash"))?,
                })
            })
            .collect()
    }
}
