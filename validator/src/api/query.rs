//! The API's reads: one function per resource, SQL to typed rows. No HTTP here.

use super::types::*;
use crate::db::{Db, DbError, u16s, u64_of, uid_of};
use sqlx::Row;
use sqlx::postgres::PgRow;

fn hex_of(v: Option<Vec<u8>>) -> Option<String> {
    v.map(hex::encode)
}

fn opt_u64(v: Option<i64>, what: &'static str) -> Result<Option<u64>, DbError> {
    v.map(|x| u64_of(x, what)).transpose()
}

/// A window number from a request, as a bound: beyond `i64` means "all of them".
fn bound(w: u64) -> i64 {
    i64::try_from(w).unwrap_or(i64::MAX)
}

/// The page size asked for, validated by the handler.
fn limit(q: &PageQuery) -> i64 {
    i64::from(q.limit.unwrap_or(DEFAULT_LIMIT))
}

/// The validator's state; `None` before the database is claimed.
pub async fn status_row(db: &Db) -> Result<Option<Status>, DbError> {
    let Some(s) = db.state().await? else {
        return Ok(None);
    };
    let snapshot: Option<i64> = sqlx::query_scalar("SELECT max(block) FROM neurons")
        .fetch_one(db.pool())
        .await?;
    Ok(Some(Status {
        chain: None,
        netuid: s.netuid,
        validator_hotkey: s.hotkey,
        hparams_hash: hex::encode(s.hparams_hash),
        model_hash: hex::encode(s.model_hash),
        last_manifest: s.last_manifest.map(hex::encode),
        last_scored_window: s.last_scored_window,
        current_block: opt_u64(snapshot, "block")?,
        current_window: None,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}

const WINDOW_BRIEF: &str = "SELECT w.win, w.start_block, w.deadline, w.seed_block,
        w.base_model_hash, w.evaluated, w.duration_ms, w.model_loss,
        to_char(w.scored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS scored_at,
        (SELECT count(*) FROM submissions s WHERE s.win = w.win) AS submissions,
        ws.status AS weights_status, m.digest AS manifest
    FROM windows w
    LEFT JOIN weight_submissions ws ON ws.win = w.win
    LEFT JOIN manifests m ON m.win = w.win";

fn window_brief(r: &PgRow) -> Result<WindowBrief, DbError> {
    Ok(WindowBrief {
        window: u64_of(r.try_get("win")?, "win")?,
        start_block: u64_of(r.try_get("start_block")?, "start_block")?,
        deadline: u64_of(r.try_get("deadline")?, "deadline")?,
        seed_block: u64_of(r.try_get("seed_block")?, "seed_block")?,
        base_model_hash: hex::encode(r.try_get::<Vec<u8>, _>("base_model_hash")?),
        submissions: u32::try_from(r.try_get::<i64, _>("submissions")?).unwrap_or(u32::MAX),
        evaluated: u32::try_from(r.try_get::<i32, _>("evaluated")?).unwrap_or(0),
        duration_ms: u64_of(r.try_get("duration_ms")?, "duration_ms")?,
        model_loss: r.try_get("model_loss")?,
        scored_at: r.try_get("scored_at")?,
        weights_status: r.try_get("weights_status")?,
        manifest: hex_of(r.try_get("manifest")?),
    })
}

/// Windows newest first.
pub async fn windows(db: &Db, q: &PageQuery) -> Result<WindowPage, DbError> {
    let (items, next_before) =
        paged(db, WINDOW_BRIEF, "w.win", q, window_brief, |w| w.window).await?;
    Ok(WindowPage { items, next_before })
}

const MODEL_LOSS: &str = "SELECT * FROM (SELECT win, model_loss,
        to_char(scored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS scored_at
    FROM windows WHERE model_loss IS NOT NULL) w";

/// The model's held-out loss per window, newest first.
pub async fn model_loss(db: &Db, q: &PageQuery) -> Result<ModelLossPage, DbError> {
    let point = |r: &PgRow| {
        Ok(ModelLossPoint {
            window: u64_of(r.try_get("win")?, "win")?,
            model_loss: r.try_get("model_loss")?,
            scored_at: r.try_get("scored_at")?,
        })
    };
    let (items, next_before) = paged(db, MODEL_LOSS, "w.win", q, point, |p| p.window).await?;
    Ok(ModelLossPage { items, next_before })
}

/// One page of `select` (rows keyed by the window column `key`), newest first, with the cursor
/// of the next page.
async fn paged<T>(
    db: &Db,
    select: &str,
    key: &str,
    q: &PageQuery,
    row: fn(&PgRow) -> Result<T, DbError>,
    window: fn(&T) -> u64,
) -> Result<(Vec<T>, Option<u64>), DbError> {
    let n = limit(q);
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{select} WHERE {key} < $1 ORDER BY {key} DESC LIMIT $2"
    )))
    .bind(q.before.map_or(i64::MAX, bound))
    .bind(n + 1)
    .fetch_all(db.pool())
    .await?;
    let mut items = rows.iter().map(row).collect::<Result<Vec<_>, _>>()?;
    let next_before = more(&mut items, n, window);
    Ok((items, next_before))
}

/// Keeps `n` items and returns the cursor for the next page when there were more.
fn more<T>(items: &mut Vec<T>, n: i64, key: impl Fn(&T) -> u64) -> Option<u64> {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if items.len() > n {
        items.truncate(n);
        items.last().map(key)
    } else {
        None
    }
}

/// Everything recorded for `window`; `None` if it was not scored.
pub async fn window_detail(db: &Db, window: u64) -> Result<Option<WindowDetail>, DbError> {
    let w = bound(window);
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{WINDOW_BRIEF} WHERE w.win = $1"
    )))
    .bind(w)
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let brief = window_brief(&row)?;
    let pool = db.pool();
    let submissions = sqlx::query(
        "SELECT uid, hotkey, digest, byte_len, commit_block, locator, outcome, detail
         FROM submissions WHERE win = $1 ORDER BY uid",
    )
    .bind(w)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Submission {
            uid: uid_of(r.try_get("uid")?)?,
            hotkey: r.try_get("hotkey")?,
            digest: hex_of(r.try_get("digest")?),
            byte_len: opt_u64(r.try_get("byte_len")?, "byte_len")?,
            commit_block: opt_u64(r.try_get("commit_block")?, "commit_block")?,
            locator: r.try_get("locator")?,
            outcome: r.try_get("outcome")?,
            detail: r.try_get("detail")?,
        })
    })
    .collect::<Result<Vec<_>, DbError>>()?;
    let evaluations = sqlx::query("SELECT * FROM evaluations WHERE win = $1 ORDER BY uid")
        .bind(w)
        .fetch_all(pool)
        .await?
        .iter()
        .map(evaluation)
        .collect::<Result<Vec<_>, _>>()?;
    let scores = sqlx::query("SELECT * FROM scores WHERE win = $1 ORDER BY uid")
        .bind(w)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Score {
                uid: uid_of(r.try_get("uid")?)?,
                hotkey: r.try_get("hotkey")?,
                verdict: r.try_get("verdict")?,
                mu: r.try_get("mu")?,
                sigma: r.try_get("sigma")?,
                bma: r.try_get("bma")?,
                sync: r.try_get("sync")?,
                misses: u32::try_from(r.try_get::<i32, _>("misses")?).unwrap_or(0),
                final_score: r.try_get("final_score")?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    let penalties =
        sqlx::query("SELECT uid, reason, factor FROM penalties WHERE win = $1 ORDER BY uid")
            .bind(w)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Penalty {
                    uid: uid_of(r.try_get("uid")?)?,
                    reason: r.try_get("reason")?,
                    factor: r.try_get("factor")?,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
    let weights = sqlx::query(sqlx::AssertSqlSafe(format!("{WEIGHTS} WHERE win = $1")))
        .bind(w)
        .fetch_optional(pool)
        .await?
        .map(|r| weight_vector(&r))
        .transpose()?;
    let manifest = sqlx::query(
        "SELECT m.digest, m.base_model_hash, m.result_model_hash, m.prev_manifest, m.peers,
                m.commit_block, c.digest AS checkpoint
         FROM manifests m LEFT JOIN checkpoints c ON c.win = m.win WHERE m.win = $1",
    )
    .bind(w)
    .fetch_optional(pool)
    .await?
    .map(|r| {
        Ok::<_, DbError>(Manifest {
            digest: hex::encode(r.try_get::<Vec<u8>, _>("digest")?),
            base_model_hash: hex::encode(r.try_get::<Vec<u8>, _>("base_model_hash")?),
            result_model_hash: hex::encode(r.try_get::<Vec<u8>, _>("result_model_hash")?),
            prev_manifest: hex::encode(r.try_get::<Vec<u8>, _>("prev_manifest")?),
            peers: u16s(r.try_get("peers")?, "peers")?,
            commit_block: opt_u64(r.try_get("commit_block")?, "commit_block")?,
            checkpoint: hex_of(r.try_get("checkpoint")?),
        })
    })
    .transpose()?;
    Ok(Some(WindowDetail {
        window: brief,
        submissions,
        evaluations,
        scores,
        penalties,
        weights,
        manifest,
    }))
}

fn evaluation(r: &PgRow) -> Result<Evaluation, DbError> {
    Ok(Evaluation {
        uid: uid_of(r.try_get("uid")?)?,
        loss_rand_before: r.try_get("loss_rand_before")?,
        loss_rand_after: r.try_get("loss_rand_after")?,
        loss_own_before: r.try_get("loss_own_before")?,
        loss_own_after: r.try_get("loss_own_after")?,
        loss_score: r.try_get("loss_score")?,
        indicator: i8::try_from(r.try_get::<i16, _>("indicator")?).unwrap_or(0),
        behind: r
            .try_get::<Option<i32>, _>("behind")?
            .map(|b| u32::try_from(b).unwrap_or(0)),
        own_rows: u32::try_from(r.try_get::<i32, _>("own_rows")?).unwrap_or(0),
        random_rows: u32::try_from(r.try_get::<i32, _>("random_rows")?).unwrap_or(0),
        eval_lr: r.try_get("eval_lr")?,
        device: r.try_get("device")?,
        duration_ms: u64_of(r.try_get("duration_ms")?, "duration_ms")?,
    })
}

const WEIGHTS: &str = "SELECT win, uids, weights, version_key, status, block, tx_hash, error,
        commit_block, reveal_at, reveal_round FROM weight_submissions";

fn weight_vector(r: &PgRow) -> Result<WeightVector, DbError> {
    Ok(WeightVector {
        window: u64_of(r.try_get("win")?, "win")?,
        uids: u16s(r.try_get("uids")?, "uids")?,
        weights: r.try_get("weights")?,
        version_key: u64_of(r.try_get("version_key")?, "version_key")?,
        status: r.try_get("status")?,
        block: opt_u64(r.try_get("block")?, "block")?,
        tx_hash: hex_of(r.try_get("tx_hash")?),
        error: r.try_get("error")?,
        commit_block: opt_u64(r.try_get("commit_block")?, "commit_block")?,
        reveal_at: opt_u64(r.try_get("reveal_at")?, "reveal_at")?,
        reveal_round: opt_u64(r.try_get("reveal_round")?, "reveal_round")?,
    })
}

/// Weight vectors newest first.
pub async fn weights(db: &Db, q: &PageQuery) -> Result<WeightPage, DbError> {
    let (items, next_before) = paged(db, WEIGHTS, "win", q, weight_vector, |w| w.window).await?;
    Ok(WeightPage { items, next_before })
}

/// The latest standings with weights and incentive; `uid` narrows to one miner.
async fn miner_rows(db: &Db, uid: Option<u16>) -> Result<(Option<u64>, Vec<Miner>), DbError> {
    let latest: Option<i64> = sqlx::query_scalar("SELECT max(win) FROM windows")
        .fetch_one(db.pool())
        .await?;
    let Some(latest) = latest else {
        return Ok((None, Vec::new()));
    };
    let rows = sqlx::query(
        "WITH last_weights AS (
             SELECT u.uid, u.weight FROM (
                 SELECT uids, weights FROM weight_submissions
                 WHERE status IN ('included', 'committed') ORDER BY win DESC LIMIT 1
             ) v, unnest(v.uids, v.weights) AS u(uid, weight))
         SELECT s.uid, s.hotkey, s.verdict, s.mu, s.sigma, s.bma, s.sync, s.final_score,
                lw.weight, n.incentive,
                COALESCE(
                    (SELECT string_agg(p.reason, '; ' ORDER BY p.id) FROM penalties p
                     WHERE p.win = s.win AND p.uid = s.uid),
                    sub.detail) AS penalty
         FROM scores s
         LEFT JOIN last_weights lw ON lw.uid = s.uid
         LEFT JOIN submissions sub ON sub.win = s.win AND sub.uid = s.uid
         LEFT JOIN neurons n ON n.uid = s.uid AND n.hotkey = s.hotkey
         WHERE s.win = $1 AND ($2::int IS NULL OR s.uid = $2)
         ORDER BY s.uid",
    )
    .bind(latest)
    .bind(uid.map(i32::from))
    .fetch_all(db.pool())
    .await?;
    let window = u64_of(latest, "win")?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(Miner {
                uid: uid_of(r.try_get("uid")?)?,
                hotkey: r.try_get("hotkey")?,
                window,
                verdict: r.try_get("verdict")?,
                mu: r.try_get("mu")?,
                sigma: r.try_get("sigma")?,
                bma: r.try_get("bma")?,
                sync: r.try_get("sync")?,
                final_score: r.try_get("final_score")?,
                weight: r.try_get("weight")?,
                incentive: r.try_get("incentive")?,
                penalty: r.try_get("penalty")?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok((Some(window), items))
}

/// Every miner of the latest scored window.
pub async fn miners(db: &Db) -> Result<MinerList, DbError> {
    let (window, items) = miner_rows(db, None).await?;
    Ok(MinerList { window, items })
}

/// One miner; `None` if the latest window has no such uid.
pub async fn miner(db: &Db, uid: u16) -> Result<Option<MinerDetail>, DbError> {
    let (_, mut items) = miner_rows(db, Some(uid)).await?;
    let Some(miner) = items.pop() else {
        return Ok(None);
    };
    let last_evaluation =
        sqlx::query("SELECT * FROM evaluations WHERE uid = $1 ORDER BY win DESC LIMIT 1")
            .bind(i32::from(uid))
            .fetch_optional(db.pool())
            .await?
            .map(|r| {
                Ok::<_, DbError>(WindowEvaluation {
                    window: u64_of(r.try_get("win")?, "win")?,
                    evaluation: evaluation(&r)?,
                })
            })
            .transpose()?;
    let penalties: i64 = sqlx::query_scalar("SELECT count(*) FROM penalties WHERE uid = $1")
        .bind(i32::from(uid))
        .fetch_one(db.pool())
        .await?;
    Ok(Some(MinerDetail {
        miner,
        last_evaluation,
        penalties: u64_of(penalties, "count")?,
    }))
}

/// A miner's windows newest first; `None` if it was never scored.
pub async fn history(db: &Db, uid: u16, q: &PageQuery) -> Result<Option<HistoryPage>, DbError> {
    let n = limit(q);
    let rows = sqlx::query(
        "SELECT s.win, s.verdict, s.mu, s.sigma, s.bma, s.sync, s.final_score,
                e.loss_score, e.indicator
         FROM scores s LEFT JOIN evaluations e ON e.win = s.win AND e.uid = s.uid
         WHERE s.uid = $1 AND s.win < $2 ORDER BY s.win DESC LIMIT $3",
    )
    .bind(i32::from(uid))
    .bind(q.before.map_or(i64::MAX, bound))
    .bind(n + 1)
    .fetch_all(db.pool())
    .await?;
    if rows.is_empty() && q.before.is_none() {
        return Ok(None);
    }
    let mut items = rows
        .iter()
        .map(|r| {
            Ok(HistoryPoint {
                window: u64_of(r.try_get("win")?, "win")?,
                verdict: r.try_get("verdict")?,
                mu: r.try_get("mu")?,
                sigma: r.try_get("sigma")?,
                bma: r.try_get("bma")?,
                sync: r.try_get("sync")?,
                final_score: r.try_get("final_score")?,
                loss_score: r.try_get("loss_score")?,
                indicator: r
                    .try_get::<Option<i16>, _>("indicator")?
                    .map(|i| i8::try_from(i).unwrap_or(0)),
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    let next_before = more(&mut items, n, |p| p.window);
    Ok(Some(HistoryPage {
        uid,
        items,
        next_before,
    }))
}

/// The metagraph snapshot.
pub async fn metagraph(db: &Db) -> Result<Metagraph, DbError> {
    let rows = sqlx::query("SELECT * FROM neurons ORDER BY uid")
        .fetch_all(db.pool())
        .await?;
    let mut block = None;
    let neurons = rows
        .iter()
        .map(|r| {
            block = Some(u64_of(r.try_get("block")?, "block")?);
            Ok(Neuron {
                uid: uid_of(r.try_get("uid")?)?,
                hotkey: r.try_get("hotkey")?,
                coldkey: r.try_get("coldkey")?,
                stake: u64_of(r.try_get("stake")?, "stake")?,
                validator_permit: r.try_get("validator_permit")?,
                active: r.try_get("active")?,
                last_update: u64_of(r.try_get("last_update")?, "last_update")?,
                incentive: r.try_get("incentive")?,
                dividends: r.try_get("dividends")?,
                consensus: r.try_get("consensus")?,
                emission: u64_of(r.try_get("emission")?, "emission")?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(Metagraph { block, neurons })
}
