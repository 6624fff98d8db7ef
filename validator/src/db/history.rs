//! Reads over recorded windows: evaluation history, manifests and the model lineage, and the
//! verdicts and standings a replay recomputes from.

use super::{Db, DbError, digest_of, i64_of, u64_of, uid_of};
use crate::rating::Rating;
use crate::score::Standing;
use kiln_protocol::Digest;
use sqlx::Row;
use std::collections::BTreeMap;

impl Db {
    /// The window each uid was last evaluated in.
    pub async fn last_evaluated(&self) -> Result<BTreeMap<u16, u64>, DbError> {
        let rows = sqlx::query("SELECT uid, max(win) AS win FROM evaluations GROUP BY uid")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    uid_of(r.try_get("uid")?)?,
                    u64_of(r.try_get("win")?, "win")?,
                ))
            })
            .collect()
    }

    /// Records a manifest (not yet published: no commit block) with its checkpoint's size when
    /// it names one, and moves the validator state to its result, in one transaction.
    pub async fn save_manifest(
        &self,
        manifest: &kiln_protocol::AggregationManifest,
        digest: &Digest,
        bytes: &[u8],
        checkpoint_len: Option<u64>,
    ) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        let win = i64_of(manifest.window, "window")?;
        let peers: Vec<i32> = manifest.peers.iter().map(|p| i32::from(p.uid)).collect();
        sqlx::query(
            "INSERT INTO manifests (win, digest, base_model_hash, result_model_hash,
                                    prev_manifest, peers, bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(win)
        .bind(digest.as_slice())
        .bind(manifest.base_model_hash.as_slice())
        .bind(manifest.result_model_hash.as_slice())
        .bind(manifest.prev_manifest.as_slice())
        .bind(&peers)
        .bind(bytes)
        .execute(&mut *tx)
        .await?;
        if let (Some(ck), Some(len)) = (manifest.checkpoint(), checkpoint_len) {
            sqlx::query(
                "INSERT INTO checkpoints (win, model_hash, digest, byte_len)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(win)
            .bind(manifest.result_model_hash.as_slice())
            .bind(ck.as_slice())
            .bind(i64_of(len, "byte_len")?)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE validator_state SET model_hash = $1, last_manifest = $2, updated_at = now()
             WHERE id = 1",
        )
        .bind(manifest.result_model_hash.as_slice())
        .bind(digest.as_slice())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that window `window`'s manifest (and its checkpoint, if any) is uploaded and
    /// committed at `block`.
    pub async fn manifest_published(&self, window: u64, block: u64) -> Result<(), DbError> {
        let win = i64_of(window, "window")?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE manifests SET commit_block = $2 WHERE win = $1")
            .bind(win)
            .bind(i64_of(block, "block")?)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE checkpoints SET published = true WHERE win = $1")
            .bind(win)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest manifest if it is not committed yet: (window, digest, bytes).
    pub async fn unpublished_manifest(&self) -> Result<Option<(u64, Digest, Vec<u8>)>, DbError> {
        let row = sqlx::query(
            "SELECT win, digest, bytes, commit_block FROM manifests ORDER BY win DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        if r.try_get::<Option<i64>, _>("commit_block")?.is_some() {
            return Ok(None);
        }
        Ok(Some((
            u64_of(r.try_get("win")?, "win")?,
            digest_of(r.try_get("digest")?, "digest")?,
            r.try_get("bytes")?,
        )))
    }

    /// Published checkpoints, newest first: (window, model state hash, blake3, bytes).
    pub async fn checkpoints(
        &self,
        limit: i64,
    ) -> Result<Vec<(u64, Digest, Digest, u64)>, DbError> {
        let rows = sqlx::query(
            "SELECT win, model_hash, digest, byte_len FROM checkpoints
             WHERE published ORDER BY win DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    u64_of(r.try_get("win")?, "win")?,
                    digest_of(r.try_get("model_hash")?, "model_hash")?,
                    digest_of(r.try_get("digest")?, "digest")?,
                    u64_of(r.try_get("byte_len")?, "byte_len")?,
                ))
            })
            .collect()
    }

    /// The newest `depth` manifests, newest first: each one's base model and the block its
    /// commitment landed in (input to [`crate::lineage::behind_by_base`]).
    pub async fn recent_manifests(
        &self,
        depth: i64,
    ) -> Result<Vec<crate::lineage::ManifestRecord>, DbError> {
        let rows = sqlx::query(
            "SELECT base_model_hash, commit_block FROM manifests ORDER BY win DESC LIMIT $1",
        )
        .bind(depth)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::lineage::ManifestRecord {
                    base_model_hash: digest_of(r.try_get("base_model_hash")?, "base_model_hash")?,
                    commit_block: r
                        .try_get::<Option<i64>, _>("commit_block")?
                        .map(|b| u64_of(b, "commit_block"))
                        .transpose()?,
                })
            })
            .collect()
    }
}

impl Db {
    /// The verdicts recorded for `window` and the hotkey of each uid, as the window's scoring
    /// saw them (copy details and reasons as recorded).
    pub async fn window_verdicts(
        &self,
        window: u64,
    ) -> Result<BTreeMap<u16, (String, crate::score::Verdict)>, DbError> {
        use crate::score::Verdict;
        let w = i64_of(window, "window")?;
        let rows = sqlx::query(
            "SELECT s.uid, s.hotkey, s.outcome, s.detail, e.loss_score, e.indicator, e.behind
             FROM submissions s LEFT JOIN evaluations e ON e.win = s.win AND e.uid = s.uid
             WHERE s.win = $1 ORDER BY s.uid",
        )
        .bind(w)
        .fetch_all(&self.pool)
        .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            let uid = uid_of(r.try_get("uid")?)?;
            let outcome: String = r.try_get("outcome")?;
            let detail: Option<String> = r.try_get("detail")?;
            let verdict = match outcome.as_str() {
                "evaluated" => Verdict::Evaluated {
                    loss_score: r
                        .try_get::<Option<f64>, _>("loss_score")?
                        .ok_or(DbError::Corrupt("evaluation"))?,
                    indicator: r
                        .try_get::<Option<i16>, _>("indicator")?
                        .and_then(|i| i8::try_from(i).ok())
                        .ok_or(DbError::Corrupt("indicator"))?,
                    behind: r
                        .try_get::<Option<i32>, _>("behind")?
                        .map(|b| u32::try_from(b).map_err(|_| DbError::Corrupt("behind")))
                        .transpose()?,
                },
                "not_evaluated" => Verdict::NotEvaluated,
                "missing" => Verdict::Missing,
                "late" => Verdict::Late,
                "hash_mismatch" => Verdict::HashMismatch,
                "too_large" => Verdict::TooLarge,
                "invalid" => Verdict::Invalid(detail.unwrap_or_default()),
                "infrastructure" => Verdict::Infrastructure(detail.unwrap_or_default()),
                "copy" => {
                    // "copy of uid N (overlap x)"
                    let d = detail.unwrap_or_default();
                    let mut words = d.split_whitespace().skip(3);
                    let original = words.next().and_then(|u| u.parse().ok()).unwrap_or(0);
                    let overlap = words
                        .nth(1)
                        .and_then(|o| o.trim_end_matches(')').parse().ok())
                        .unwrap_or(1.0);
                    Verdict::Copy { original, overlap }
                }
                _ => return Err(DbError::Corrupt("outcome")),
            };
            out.insert(uid, (r.try_get("hotkey")?, verdict));
        }
        Ok(out)
    }

    /// Each miner's standing before `window` (its latest score in an earlier window) whose
    /// hotkey is still `hotkeys[uid]`.
    pub async fn standings_before(
        &self,
        window: u64,
        hotkeys: &BTreeMap<u16, String>,
    ) -> Result<BTreeMap<u16, Standing>, DbError> {
        let rows = sqlx::query(
            "SELECT DISTINCT ON (uid) uid, hotkey, mu, sigma, bma, sync, misses
             FROM scores WHERE win < $1 ORDER BY uid, win DESC",
        )
        .bind(i64_of(window, "window")?)
        .fetch_all(&self.pool)
        .await?;
        standings_from(rows, hotkeys)
    }
}

pub(super) fn standings_from(
    rows: Vec<sqlx::postgres::PgRow>,
    hotkeys: &BTreeMap<u16, String>,
) -> Result<BTreeMap<u16, Standing>, DbError> {
    let mut out = BTreeMap::new();
    for r in rows {
        let uid = uid_of(r.try_get("uid")?)?;
        let hotkey: String = r.try_get("hotkey")?;
        if hotkeys.get(&uid) != Some(&hotkey) {
            continue;
        }
        out.insert(
            uid,
            Standing {
                rating: Rating {
                    mu: r.try_get("mu")?,
                    sigma: r.try_get("sigma")?,
                },
                bma: r.try_get("bma")?,
                sync: r.try_get("sync")?,
                misses: u32::try_from(r.try_get::<i32, _>("misses")?)
                    .map_err(|_| DbError::Corrupt("misses"))?,
            },
        );
    }
    Ok(out)
}
