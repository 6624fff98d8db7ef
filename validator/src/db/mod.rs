//! Postgres persistence (sqlx, migrations in `migrations/`). A scored window is written in one
//! transaction (window, submissions, evaluations, scores, penalties and the validator state), so a
//! crash leaves the window either fully recorded or absent, and a recorded window is never
//! written again. Weight vectors are recorded as pending before they are sent.

use crate::score::{Penalty, Standing};
use kiln_protocol::Digest;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;
use thiserror::Error;

/// The embedded migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Why a database operation failed.
#[derive(Debug, Error)]
pub enum DbError {
    /// The query or connection failed.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database belongs to another validator, subnet or run.
    #[error("the database belongs to another {0}; use a database per validator and run")]
    Mismatch(&'static str),
    /// A stored value is out of range (a hand-edited row).
    #[error("stored {0} is out of range")]
    Corrupt(&'static str),
    /// A write was interrupted on purpose (crash simulation in tests).
    #[error("interrupted after {0}")]
    Interrupted(&'static str),
}

/// Who the database belongs to and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorState {
    /// The subnet.
    pub netuid: u16,
    /// The validator's hotkey (SS58).
    pub hotkey: String,
    /// The run's hparams hash.
    pub hparams_hash: Digest,
    /// State hash of the validator's model.
    pub model_hash: Digest,
    /// blake3 of the last manifest published.
    pub last_manifest: Option<Digest>,
    /// The last window scored.
    pub last_scored_window: Option<u64>,
}

/// One miner's submission for a window.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionRow {
    /// The miner.
    pub uid: u16,
    /// Its hotkey (SS58).
    pub hotkey: String,
    /// The committed digest.
    pub digest: Option<Digest>,
    /// The committed length.
    pub byte_len: Option<u64>,
    /// The block that included the commitment.
    pub commit_block: Option<u64>,
    /// The committed locator.
    pub locator: Option<String>,
    /// The verdict's name.
    pub outcome: String,
    /// Why (decoder error, penalty reason, fetch error).
    pub detail: Option<String>,
}

/// One evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRow {
    /// The miner.
    pub uid: u16,
    /// Loss on the window's random rows before the update.
    pub loss_rand_before: f64,
    /// … after it.
    pub loss_rand_after: f64,
    /// Loss on the miner's own rows before the update.
    pub loss_own_before: f64,
    /// … after it.
    pub loss_own_after: f64,
    /// `(L_rand_before − L_rand_after) / L_rand_before`.
    pub loss_score: f64,
    /// The assigned-data indicator.
    pub indicator: i8,
    /// How many manifests behind the validator's model the artifact's base was (`None`: off
    /// its chain).
    pub behind: Option<u32>,
    /// Own rows evaluated.
    pub own_rows: u32,
    /// Random rows evaluated.
    pub random_rows: u32,
    /// Step size the update was applied with.
    pub eval_lr: f64,
    /// Where it ran (`cpu`, `cuda:0`).
    pub device: String,
    /// How long it took.
    pub duration_ms: u64,
}

/// One miner's standing after the window.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    /// The miner.
    pub uid: u16,
    /// Its hotkey (SS58): standings follow the hotkey, a new registration starts fresh.
    pub hotkey: String,
    /// The verdict's name.
    pub verdict: String,
    /// The standing.
    pub standing: Standing,
    /// Penalties applied.
    pub penalties: Vec<Penalty>,
    /// The final score.
    pub final_score: f64,
}

/// Everything decided in one window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowRecord {
    /// The window.
    pub window: u64,
    /// Its first block.
    pub start_block: u64,
    /// Its commit deadline.
    pub deadline: u64,
    /// The block whose hash seeded the random pool.
    pub seed_block: u64,
    /// That seed.
    pub random_seed: Digest,
    /// The model evaluated against.
    pub base_model_hash: Digest,
    /// How long scoring took.
    pub duration_ms: u64,
    /// The base model's mean loss on the held-out rows (`None`: the run holds none out).
    pub model_loss: Option<f64>,
    /// Submissions.
    pub submissions: Vec<SubmissionRow>,
    /// Evaluations.
    pub evaluations: Vec<EvaluationRow>,
    /// Scores and penalties.
    pub scores: Vec<ScoreRow>,
}

/// What [`Db::persist_window`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persisted {
    /// The window was written.
    Written,
    /// The window was already recorded; nothing was written.
    AlreadyScored,
}

/// A recorded weight vector.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightRow {
    /// The window it was computed at.
    pub window: u64,
    /// Uids.
    pub uids: Vec<u16>,
    /// Weights (summing to 1).
    pub weights: Vec<f64>,
    /// The version key sent.
    pub version_key: u64,
    /// `pending`, `included`, `failed` or `skipped`.
    pub status: String,
    /// The including block.
    pub block: Option<u64>,
}

/// Points at which a window write can be interrupted (crash simulation).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After the window row.
    AfterWindow,
    /// After the submissions.
    AfterSubmissions,
    /// After the scores, before the validator state.
    AfterScores,
}

pub(crate) fn i64_of(v: u64, what: &'static str) -> Result<i64, DbError> {
    i64::try_from(v).map_err(|_| DbError::Corrupt(what))
}

pub(crate) fn u64_of(v: i64, what: &'static str) -> Result<u64, DbError> {
    u64::try_from(v).map_err(|_| DbError::Corrupt(what))
}

pub(crate) fn uid_of(v: i32) -> Result<u16, DbError> {
    u16::try_from(v).map_err(|_| DbError::Corrupt("uid"))
}

pub(crate) fn u16s(v: Vec<i32>, what: &'static str) -> Result<Vec<u16>, DbError> {
    v.into_iter()
        .map(|x| u16::try_from(x).map_err(|_| DbError::Corrupt(what)))
        .collect()
}

pub(crate) fn digest_of(v: Vec<u8>, what: &'static str) -> Result<Digest, DbError> {
    v.try_into().map_err(|_| DbError::Corrupt(what))
}

/// The validator's database.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Db { pool })
    }

    /// The connection pool (for read-only queries such as the HTTP API).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Claims the database for this validator and run, or checks an existing claim.
    pub async fn claim(
        &self,
        netuid: u16,
        hotkey: &str,
        hparams_hash: &Digest,
        genesis_model_hash: &Digest,
    ) -> Result<ValidatorState, DbError> {
        sqlx::query(
            "INSERT INTO validator_state (id, netuid, hotkey, hparams_hash, model_hash)
             VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(i32::from(netuid))
        .bind(hotkey)
        .bind(hparams_hash.as_slice())
        .bind(genesis_model_hash.as_slice())
        .execute(&self.pool)
        .await?;
        let state = self
            .state()
            .await?
            .ok_or(DbError::Corrupt("validator_state"))?;
        if state.netuid != netuid {
            return Err(DbError::Mismatch("subnet"));
        }
        if state.hotkey != hotkey {
            return Err(DbError::Mismatch("validator hotkey"));
        }
        if &state.hparams_hash != hparams_hash {
            return Err(DbError::Mismatch("hparams hash"));
        }
        Ok(state)
    }

    /// The validator state, if claimed.
    pub async fn state(&self) -> Result<Option<ValidatorState>, DbError> {
        let Some(r) = sqlx::query(
            "SELECT netuid, hotkey, hparams_hash, model_hash, last_manifest, last_scored_window
             FROM validator_state WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(ValidatorState {
            netuid: u16::try_from(r.try_get::<i32, _>("netuid")?)
                .map_err(|_| DbError::Corrupt("netuid"))?,
            hotkey: r.try_get("hotkey")?,
            hparams_hash: digest_of(r.try_get("hparams_hash")?, "hparams_hash")?,
            model_hash: digest_of(r.try_get("model_hash")?, "model_hash")?,
            last_manifest: r
                .try_get::<Option<Vec<u8>>, _>("last_manifest")?
                .map(|d| digest_of(d, "last_manifest"))
                .transpose()?,
            last_scored_window: r
                .try_get::<Option<i64>, _>("last_scored_window")?
                .map(|w| u64_of(w, "last_scored_window"))
                .transpose()?,
        }))
    }

    /// Writes `record` in one transaction, unless the window is already recorded.
    pub async fn persist_window(&self, record: &WindowRecord) -> Result<Persisted, DbError> {
        self.persist_window_until(record, None).await
    }

    /// [`Db::persist_window`] that stops (and rolls back) at `stop`, as a crash would.
    #[doc(hidden)]
    pub async fn persist_window_until(
        &self,
        record: &WindowRecord,
        stop: Option<Stop>,
    ) -> Result<Persisted, DbError> {
        let mut tx = self.pool.begin().await?;
        // One writer at a time: the state row is the lock.
        sqlx::query("SELECT 1 FROM validator_state WHERE id = 1 FOR UPDATE")
            .execute(&mut *tx)
            .await?;
        let w = i64_of(record.window, "window")?;
        let exists = sqlx::query("SELECT 1 FROM windows WHERE win = $1")
            .bind(w)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if exists {
            return Ok(Persisted::AlreadyScored);
        }
        sqlx::query(
            "INSERT INTO windows (win, start_block, deadline, seed_block, random_seed,
                                  base_model_hash, evaluated, duration_ms, model_loss)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(w)
        .bind(i64_of(record.start_block, "start_block")?)
        .bind(i64_of(record.deadline, "deadline")?)
        .bind(i64_of(record.seed_block, "seed_block")?)
        .bind(record.random_seed.as_slice())
        .bind(record.base_model_hash.as_slice())
        .bind(record.evaluations.len() as i32)
        .bind(i64_of(record.duration_ms, "duration_ms")?)
        .bind(record.model_loss.filter(|l| l.is_finite()))
        .execute(&mut *tx)
        .await?;
        interrupt(stop, Stop::AfterWindow)?;
        insert_submissions(&mut tx, w, &record.submissions).await?;
        interrupt(stop, Stop::AfterSubmissions)?;
        insert_evaluations(&mut tx, w, &record.evaluations).await?;
        insert_scores(&mut tx, w, &record.scores).await?;
        interrupt(stop, Stop::AfterScores)?;
        sqlx::query(
            "UPDATE validator_state SET last_scored_window = $1, updated_at = now()
             WHERE id = 1 AND (last_scored_window IS NULL OR last_scored_window < $1)",
        )
        .bind(w)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Persisted::Written)
    }

    /// Each miner's latest standing whose hotkey is still `hotkeys[uid]` (a re-registered uid
    /// starts fresh).
    pub async fn standings(
        &self,
        hotkeys: &BTreeMap<u16, String>,
    ) -> Result<BTreeMap<u16, Standing>, DbError> {
        let rows = sqlx::query(
            "SELECT DISTINCT ON (uid) uid, hotkey, mu, sigma, bma, sync, misses
             FROM scores ORDER BY uid, win DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        history::standings_from(rows, hotkeys)
    }

    /// The final scores recorded for `window`, by uid.
    pub async fn final_scores(&self, window: u64) -> Result<Vec<(u16, f64)>, DbError> {
        let rows = sqlx::query("SELECT uid, final_score FROM scores WHERE win = $1 ORDER BY uid")
            .bind(i64_of(window, "window")?)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((uid_of(r.try_get("uid")?)?, r.try_get("final_score")?)))
            .collect()
    }

    /// Records a weight vector as pending before it is sent. `false` if `window` already has
    /// one (it must not be sent again).
    pub async fn weights_pending(
        &self,
        window: u64,
        weights: &[(u16, f64)],
        version_key: u64,
    ) -> Result<bool, DbError> {
        let uids: Vec<i32> = weights.iter().map(|(u, _)| i32::from(*u)).collect();
        let values: Vec<f64> = weights.iter().map(|(_, w)| *w).collect();
        let inserted = sqlx::query(
            "INSERT INTO weight_submissions (win, uids, weights, version_key, status)
             VALUES ($1, $2, $3, $4, 'pending') ON CONFLICT (win) DO NOTHING",
        )
        .bind(i64_of(window, "window")?)
        .bind(&uids)
        .bind(&values)
        .bind(i64_of(version_key, "version_key")?)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Records how a weight submission ended.
    pub async fn weights_done(
        &self,
        window: u64,
        status: &str,
        block: Option<u64>,
        tx_hash: Option<&[u8]>,
        error: Option<&str>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE weight_submissions SET status = $2, block = $3, tx_hash = $4, error = $5,
             updated_at = now() WHERE win = $1",
        )
        .bind(i64_of(window, "window")?)
        .bind(status)
        .bind(block.map(|b| i64_of(b, "block")).transpose()?)
        .bind(tx_hash)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The weight vector recorded for `window`.
    pub async fn weights(&self, window: u64) -> Result<Option<WeightRow>, DbError> {
        let Some(r) = sqlx::query(
            "SELECT win, uids, weights, version_key, status, block
             FROM weight_submissions WHERE win = $1",
        )
        .bind(i64_of(window, "window")?)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(WeightRow {
            window,
            uids: u16s(r.try_get("uids")?, "uids")?,
            weights: r.try_get("weights")?,
            version_key: u64_of(r.try_get("version_key")?, "version_key")?,
            status: r.try_get("status")?,
            block: r
                .try_get::<Option<i64>, _>("block")?
                .map(|b| u64_of(b, "block"))
                .transpose()?,
        }))
    }
}

fn interrupt(stop: Option<Stop>, here: Stop) -> Result<(), DbError> {
    if stop == Some(here) {
        return Err(DbError::Interrupted(match here {
            Stop::AfterWindow => "the window row",
            Stop::AfterSubmissions => "the submissions",
            Stop::AfterScores => "the scores",
        }));
    }
    Ok(())
}

mod history;
mod insert;
mod neurons;
use insert::{insert_evaluations, insert_scores, insert_submissions};
pub use neurons::NeuronRow;
mod reveal;
pub use reveal::PendingRevealRow;
mod timelocked;
pub use timelocked::TimelockedRow;
/// A throwaway database per test on the machine's Postgres.
pub mod testing;
