//! The Gauntlet evaluation of one window with the training crate: the window's random-row loss
//! once, then per miner its own rows before and after applying its update alone (each tensor
//! clipped to the window's median norm), the loss score and the assigned-data indicator.
//! Deterministic for the same model, rows and updates.

use kiln_protocol::codec::aggregate::clip_scales;
use kiln_protocol::scoring::{LossPair, assigned_data_indicator};
use kiln_protocol::{Codebook, Hparams, SparseTensor};
use kiln_training::{EvalError, Model, mean_loss, with_update};
use std::collections::BTreeMap;

/// How updates are measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalConfig {
    /// Step size an update is applied with: `outer.lr × evaluation.eval_lr_factor`.
    pub eval_lr: f64,
    /// Tokens per row.
    pub seq_len: usize,
    /// Rows per forward pass.
    pub micro_batch_rows: usize,
    /// The assigned-data rule's ratio.
    pub assigned_min_ratio: f64,
}

impl EvalConfig {
    /// The run's evaluation settings.
    pub fn from_hparams(h: &Hparams, micro_batch_rows: usize) -> Self {
        EvalConfig {
            eval_lr: h.outer.lr * h.evaluation.eval_lr_factor,
            seq_len: h.data.seq_len as usize,
            micro_batch_rows: micro_batch_rows.max(1),
            assigned_min_ratio: h.evaluation.assigned_min_ratio,
        }
    }
}

/// One miner's measured losses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// Random rows, before and after the update.
    pub random: LossPair,
    /// The miner's own rows, before and after.
    pub own: LossPair,
    /// `(L_rand_before − L_rand_after) / L_rand_before`.
    pub loss_score: f64,
    /// The assigned-data indicator.
    pub indicator: i8,
}

/// Per tensor, the clip scale `min(1, median / norm)` of each miner, the median taken over all
/// of the window's valid updates (as the aggregation does).
pub fn clip_scales_by_miner(updates: &BTreeMap<u16, Vec<SparseTensor>>) -> BTreeMap<u16, Vec<f64>> {
    let uids: Vec<u16> = updates.keys().copied().collect();
    let mut out: BTreeMap<u16, Vec<f64>> = uids.iter().map(|u| (*u, Vec::new())).collect();
    let Some(first) = updates.values().next() else {
        return out;
    };
    for t in 0..first.len() {
        let peers: Vec<&SparseTensor> = updates.values().filter_map(|u| u.get(t)).collect();
        if peers.len() != uids.len() {
            continue;
        }
        for (uid, scale) in uids.iter().zip(clip_scales(&peers)) {
            if let Some(v) = out.get_mut(uid) {
                v.push(scale);
            }
        }
    }
    out
}

/// `update` with each tensor's values scaled by `scales[i]` (1 where absent).
pub fn clipped(update: &[SparseTensor], scales: &[f64]) -> Vec<SparseTensor> {
    update
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let s = scales.get(i).copied().unwrap_or(1.0);
            if s >= 1.0 {
                return t.clone();
            }
            let levels: Vec<f32> = t
                .codebook
                .levels()
                .iter()
                .map(|&v| (f64::from(v) * s) as f32)
                .collect();
            let mut c = t.clone();
            // Scaling by a factor in (0, 1) keeps a valid codebook valid.
            c.codebook = Codebook::new(&levels).unwrap_or(t.codebook);
            c
        })
        .collect()
}

/// The loss on the window's random rows at the current model (measured once per window).
pub fn random_loss(model: &Model, random_rows: &[u32], cfg: &EvalConfig) -> Result<f64, EvalError> {
    mean_loss(model, random_rows, cfg.seq_len, cfg.micro_batch_rows)
}

/// Measures `update` (already clipped): own rows before, then own and random rows with the
/// update applied; the model is restored bit-exactly afterwards.
pub fn measure(
    model: &Model,
    update: &[SparseTensor],
    own_rows: &[u32],
    random_rows: &[u32],
    random_before: f64,
    cfg: &EvalConfig,
) -> Result<Measurement, EvalError> {
    let own_before = mean_loss(model, own_rows, cfg.seq_len, cfg.micro_batch_rows)?;
    let (own_after, random_after) = with_update(model, update, cfg.eval_lr as f32, |m| {
        Ok::<_, EvalError>((
            mean_loss(m, own_rows, cfg.seq_len, cfg.micro_batch_rows)?,
            mean_loss(m, random_rows, cfg.seq_len, cfg.micro_batch_rows)?,
        ))
    })??;
    let random = LossPair {
        before: random_before,
        after: random_after,
    };
    let own = LossPair {
        before: own_before,
        after: own_after,
    };
    Ok(Measurement {
        random,
        own,
        loss_score: random.relative_improvement(),
        indicator: assigned_data_indicator(own, random, cfg.assigned_min_ratio),
    })
}
