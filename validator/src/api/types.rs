//! What the API returns, and the query parameters it takes. Every type derives its OpenAPI
//! schema, so the document cannot drift from the code. Hashes are lowercase hex.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Most items one page holds.
pub const MAX_LIMIT: u32 = 500;
/// Items per page when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;

/// A page request: newest first, `before` is an exclusive window cursor.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// Only windows before this one (the previous page's `next_before`).
    pub before: Option<u64>,
}

/// The validator and its progress.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Status {
    /// The chain the validator follows, as configured (`finney`, a URL…), if known.
    pub chain: Option<String>,
    /// The subnet.
    pub netuid: u16,
    /// The validator's hotkey, SS58.
    pub validator_hotkey: String,
    /// The run's hparams hash.
    pub hparams_hash: String,
    /// State hash of the validator's current model.
    pub model_hash: String,
    /// blake3 of the latest manifest.
    pub last_manifest: Option<String>,
    /// The latest window scored.
    pub last_scored_window: Option<u64>,
    /// The latest block seen (live when served by the validator, else the metagraph snapshot's).
    pub current_block: Option<u64>,
    /// The window of `current_block`.
    pub current_window: Option<u64>,
    /// kiln's version.
    pub version: String,
}

/// One scored window, in brief.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WindowBrief {
    /// The window.
    pub window: u64,
    /// Its first block.
    pub start_block: u64,
    /// Its commit deadline (block).
    pub deadline: u64,
    /// The block whose hash seeded the random rows.
    pub seed_block: u64,
    /// The model evaluated against.
    pub base_model_hash: String,
    /// Submissions recorded (one per member).
    pub submissions: u32,
    /// Miners evaluated.
    pub evaluated: u32,
    /// Scoring time, ms.
    pub duration_ms: u64,
    /// The model's mean loss on the run's held-out rows, measured on the model this window's
    /// updates were evaluated against (absent when the run holds no rows out).
    pub model_loss: Option<f64>,
    /// When it was recorded (RFC 3339).
    pub scored_at: String,
    /// The weight submission's status, if this was a weight window.
    pub weights_status: Option<String>,
    /// blake3 of its manifest, if one was published.
    pub manifest: Option<String>,
}

/// A page of windows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WindowPage {
    /// Newest first.
    pub items: Vec<WindowBrief>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<u64>,
}

/// The model's held-out loss at one window.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelLossPoint {
    /// The window.
    pub window: u64,
    /// Mean loss on the run's held-out rows of the model this window was evaluated against.
    pub model_loss: f64,
    /// When the window was recorded (RFC 3339).
    pub scored_at: String,
}

/// A page of the model-loss series.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelLossPage {
    /// Newest first; windows without a measurement are left out.
    pub items: Vec<ModelLossPoint>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<u64>,
}

/// What a miner committed for a window and what fetching it gave.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Submission {
    /// The uid.
    pub uid: u16,
    /// Its hotkey, SS58.
    pub hotkey: String,
    /// The committed blake3.
    pub digest: Option<String>,
    /// The committed length.
    pub byte_len: Option<u64>,
    /// The block that included the commitment.
    pub commit_block: Option<u64>,
    /// The committed locator.
    pub locator: Option<String>,
    /// `evaluated`, `missing`, `late`, `copy`, `invalid`, `hash_mismatch`, …
    pub outcome: String,
    /// The reason, for outcomes that have one.
    pub detail: Option<String>,
}

/// One miner's Gauntlet measurement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    /// The uid.
    pub uid: u16,
    /// Random rows' loss before its update.
    pub loss_rand_before: f64,
    /// Random rows' loss after.
    pub loss_rand_after: f64,
    /// Its own rows' loss before.
    pub loss_own_before: f64,
    /// Its own rows' loss after.
    pub loss_own_after: f64,
    /// Relative improvement on the random rows.
    pub loss_score: f64,
    /// Assigned-data indicator (+1 or −1).
    pub indicator: i8,
    /// Manifests behind the current model its base was, if known.
    pub behind: Option<u32>,
    /// Own rows measured.
    pub own_rows: u32,
    /// Random rows measured.
    pub random_rows: u32,
    /// Step size of the trial update.
    pub eval_lr: f64,
    /// Device of the measurement.
    pub device: String,
    /// Its time, ms.
    pub duration_ms: u64,
}

/// A miner's standing after a window.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Score {
    /// The uid.
    pub uid: u16,
    /// Its hotkey, SS58.
    pub hotkey: String,
    /// The window's verdict.
    pub verdict: String,
    /// Rating mean.
    pub mu: f64,
    /// Rating deviation.
    pub sigma: f64,
    /// Moving average of the assigned-data indicator.
    pub bma: f64,
    /// Sync factor.
    pub sync: f64,
    /// Consecutive windows missed.
    pub misses: u32,
    /// The final score.
    pub final_score: f64,
}

/// A penalty and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Penalty {
    /// The uid.
    pub uid: u16,
    /// The reason.
    pub reason: String,
    /// The factor applied to the score.
    pub factor: f64,
}

/// A weight vector as submitted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WeightVector {
    /// The window it belongs to.
    pub window: u64,
    /// Destination uids.
    pub uids: Vec<u16>,
    /// Weights (summing to 1).
    pub weights: Vec<f64>,
    /// The version key.
    pub version_key: u64,
    /// `pending`, `committed`, `included`, `failed`, `skipped` or `expired` (a timelocked
    /// commit the chain dropped unrevealed).
    pub status: String,
    /// The block that included it (with commit-reveal, the block that revealed it).
    pub block: Option<u64>,
    /// Transaction hash, hex.
    pub tx_hash: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// With commit-reveal: the block that included the commit.
    pub commit_block: Option<u64>,
    /// With commit-reveal: the block from which it is revealed (predicted, when timelocked).
    pub reveal_at: Option<u64>,
    /// With timelocked commit-reveal: the drand round the weights are encrypted to.
    pub reveal_round: Option<u64>,
}

/// A page of weight vectors.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WeightPage {
    /// Newest first.
    pub items: Vec<WeightVector>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<u64>,
}

/// A published aggregation manifest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Manifest {
    /// Its blake3.
    pub digest: String,
    /// The model it applies to.
    pub base_model_hash: String,
    /// The model it produces.
    pub result_model_hash: String,
    /// The previous manifest's blake3 (zeros: none).
    pub prev_manifest: String,
    /// Included uids.
    pub peers: Vec<u16>,
    /// The block of its commitment, once published.
    pub commit_block: Option<u64>,
    /// blake3 of the published checkpoint it names, if any.
    pub checkpoint: Option<String>,
}

/// Everything recorded for one window.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WindowDetail {
    /// The window in brief.
    pub window: WindowBrief,
    /// Per miner, what was committed and fetched.
    pub submissions: Vec<Submission>,
    /// The measurements.
    pub evaluations: Vec<Evaluation>,
    /// Standings after the window.
    pub scores: Vec<Score>,
    /// Penalties with their reasons.
    pub penalties: Vec<Penalty>,
    /// The weights, on a weight window.
    pub weights: Option<WeightVector>,
    /// The manifest, if one was published.
    pub manifest: Option<Manifest>,
}

/// A miner as of the latest scored window.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Miner {
    /// The uid.
    pub uid: u16,
    /// Its hotkey, SS58.
    pub hotkey: String,
    /// The window of this standing.
    pub window: u64,
    /// That window's verdict.
    pub verdict: String,
    /// Rating mean.
    pub mu: f64,
    /// Rating deviation.
    pub sigma: f64,
    /// Moving average of the assigned-data indicator.
    pub bma: f64,
    /// Sync factor.
    pub sync: f64,
    /// The final score.
    pub final_score: f64,
    /// Its weight in the latest vector sent, if any.
    pub weight: Option<f64>,
    /// Its incentive on chain at the metagraph snapshot, in `[0, 1]`.
    pub incentive: Option<f64>,
    /// Why it lost standing in that window, in words: its penalties' reasons (`; `-joined),
    /// else its submission's reason; absent when nothing went wrong.
    pub penalty: Option<String>,
}

/// All current miners.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MinerList {
    /// The latest scored window.
    pub window: Option<u64>,
    /// By uid.
    pub items: Vec<Miner>,
}

/// One miner with its latest measurement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MinerDetail {
    /// The standing.
    pub miner: Miner,
    /// Its latest evaluation and the window of it.
    pub last_evaluation: Option<WindowEvaluation>,
    /// Penalties recorded against it, all windows.
    pub penalties: u64,
}

/// An evaluation with its window.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WindowEvaluation {
    /// The window.
    pub window: u64,
    /// The measurement.
    pub evaluation: Evaluation,
}

/// A miner in one window.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HistoryPoint {
    /// The window.
    pub window: u64,
    /// Its verdict.
    pub verdict: String,
    /// Rating mean after it.
    pub mu: f64,
    /// Rating deviation after it.
    pub sigma: f64,
    /// Indicator average after it.
    pub bma: f64,
    /// Sync factor.
    pub sync: f64,
    /// Final score.
    pub final_score: f64,
    /// Loss score, if evaluated.
    pub loss_score: Option<f64>,
    /// Indicator, if evaluated.
    pub indicator: Option<i8>,
}

/// A page of a miner's history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HistoryPage {
    /// The uid.
    pub uid: u16,
    /// Newest first.
    pub items: Vec<HistoryPoint>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<u64>,
}

/// One neuron of the metagraph snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Neuron {
    /// The uid.
    pub uid: u16,
    /// Hotkey, SS58.
    pub hotkey: String,
    /// Owner coldkey, SS58.
    pub coldkey: String,
    /// Stake on the subnet, rao.
    pub stake: u64,
    /// Holds a validator permit.
    pub validator_permit: bool,
    /// Active in the last epoch.
    pub active: bool,
    /// Block of its last weights.
    pub last_update: u64,
    /// Incentive in `[0, 1]`.
    pub incentive: f64,
    /// Dividends in `[0, 1]`.
    pub dividends: f64,
    /// Consensus in `[0, 1]`.
    pub consensus: f64,
    /// Emission of the last epoch, rao.
    pub emission: u64,
}

/// The metagraph as the validator last read it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Metagraph {
    /// The block it was read at (absent before the first read).
    pub block: Option<u64>,
    /// By uid.
    pub neurons: Vec<Neuron>,
}

/// An error.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `bad_parameter`, `not_found`, `unavailable`, `timeout`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
}
