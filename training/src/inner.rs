//! The inner loop a miner runs each window: H AdamW steps over its assigned rows, then the
//! pseudo-gradient `Δ = θ_start − θ_end` and a restore of `θ_start`.

use crate::model::{Model, ModelError};
use crate::optim::{AdamW, AdamWConfig, OptimError, Schedule, clip_grad_norm};
use candle_core::Tensor;
use kiln_protocol::Hparams;
use thiserror::Error;

/// Why an inner loop stopped.
#[derive(Debug, Error)]
pub enum TrainError {
    /// The model math failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The optimizer refused a step.
    #[error(transparent)]
    Optim(#[from] OptimError),
    /// The rows cannot feed the configured steps.
    #[error("{0}")]
    Rows(String),
}

impl From<candle_core::Error> for TrainError {
    fn from(e: candle_core::Error) -> Self {
        Self::Model(e.into())
    }
}

/// How one window of local training runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InnerConfig {
    /// Optimizer steps per window (H).
    pub steps: usize,
    /// Rows per optimizer step.
    pub batch_rows: usize,
    /// Rows per forward/backward pass; a step accumulates `batch_rows / micro_batch_rows`
    /// passes (must divide `batch_rows`).
    pub micro_batch_rows: usize,
    /// Global grad-norm clip.
    pub grad_clip: f64,
    /// AdamW constants.
    pub adamw: AdamWConfig,
    /// Learning-rate schedule over the run's global inner step.
    pub schedule: Schedule,
}

impl InnerConfig {
    /// The inner loop of `hparams`, with the cosine reaching its floor (10 % of the peak) after
    /// `total_steps` inner steps of the run.
    pub fn from_hparams(hparams: &Hparams, total_steps: u64) -> Self {
        let i = &hparams.inner;
        Self {
            steps: i.steps as usize,
            batch_rows: hparams.data.batch_rows as usize,
            micro_batch_rows: hparams.data.batch_rows as usize,
            grad_clip: i.grad_clip,
            adamw: AdamWConfig {
                beta1: i.beta1,
                beta2: i.beta2,
                eps: i.eps,
                weight_decay: i.weight_decay,
            },
            schedule: Schedule {
                peak_lr: i.lr,
                warmup_steps: u64::from(i.warmup_steps),
                total_steps,
                min_ratio: 0.1,
            },
        }
    }
}

/// One parameter's pseudo-gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedDelta {
    /// Hugging Face parameter name.
    pub name: String,
    /// Parameter shape.
    pub shape: Vec<usize>,
    /// `θ_start − θ_end`, row-major.
    pub values: Vec<f32>,
}

/// What a window of local training produced.
#[derive(Debug, Clone)]
pub struct InnerOutcome {
    /// The pseudo-gradient, one entry per parameter in the model's order.
    pub delta: Vec<NamedDelta>,
    /// Mean training loss of each step (before its update).
    pub losses: Vec<f64>,
    /// Grad norm of each step before clipping.
    pub grad_norms: Vec<f64>,
    /// Tokens processed (inputs, not predictions).
    pub tokens: usize,
}

/// Runs `config.steps` AdamW steps on `rows` (row-major `seq_len` tokens per row, in training
/// order; step `h` uses rows `h·B .. (h+1)·B`, wrapping around the pool), starting the schedule at
/// global step `start_step`. Returns `Δ = θ_start − θ_end` and leaves the model at `θ_start`; the
/// optimizer keeps its moments for the next window. On error the model is restored too.
pub fn train_inner(
    model: &Model,
    opt: &mut AdamW,
    rows: &[u32],
    seq_len: usize,
    start_step: u64,
    config: &InnerConfig,
) -> Result<InnerOutcome, TrainError> {
    train_inner_until(model, opt, rows, seq_len, start_step, config, |_| false)
}

/// [`train_inner`] that stops early: before step `h` (0-based, `h ≥ 1`) it calls `stop(h)` and
/// ends the window there if it returns `true`, so at least one step always runs. The outcome
/// covers the steps that ran.
pub fn train_inner_until(
    model: &Model,
    opt: &mut AdamW,
    rows: &[u32],
    seq_len: usize,
    start_step: u64,
    config: &InnerConfig,
    stop: impl Fn(usize) -> bool,
) -> Result<InnerOutcome, TrainError> {
    let (b, mb) = (config.batch_rows, config.micro_batch_rows);
    if seq_len < 2 || !rows.len().is_multiple_of(seq_len) {
        return Err(TrainError::Rows(format!(
            "{} tokens are not whole rows of {seq_len} (seq_len ≥ 2)",
            rows.len()
        )));
    }
    let n_rows = rows.len() / seq_len;
    if b == 0 || mb == 0 || b % mb != 0 || n_rows < b {
        return Err(TrainError::Rows(format!(
            "{n_rows} rows cannot feed batches of {b} in micro-batches of {mb}"
        )));
    }
    let start = model.snapshot()?;
    let result = run_steps(model, opt, rows, seq_len, start_step, config, stop);
    let outcome = result.and_then(|(losses, grad_norms)| {
        let tokens = losses.len() * b * seq_len;
        let delta = model
            .params()
            .iter()
            .zip(&start)
            .map(|((name, var), s)| {
                Ok(NamedDelta {
                    name: name.clone(),
                    shape: var.dims().to_vec(),
                    values: (s - var.as_tensor())?.flatten_all()?.to_vec1()?,
                })
            })
            .collect::<Result<Vec<_>, TrainError>>()?;
        Ok(InnerOutcome {
            delta,
            losses,
            grad_norms,
            tokens,
        })
    });
    model.restore(&start)?;
    outcome
}

fn run_steps(
    model: &Model,
    opt: &mut AdamW,
    rows: &[u32],
    seq_len: usize,
    start_step: u64,
    config: &InnerConfig,
    stop: impl Fn(usize) -> bool,
) -> Result<(Vec<f64>, Vec<f64>), TrainError> {
    let (b, mb) = (config.batch_rows, config.micro_batch_rows);
    let n_rows = rows.len() / seq_len;
    let predictions = (b * (seq_len - 1)) as f64;
    let mut losses = Vec::with_capacity(config.steps);
    let mut norms = Vec::with_capacity(config.steps);
    let mut batch = Vec::with_capacity(mb * seq_len);
    for h in 0..config.steps {
        if h > 0 && stop(h) {
            break;
        }
        let mut grads: Option<Vec<Tensor>> = None;
        let mut loss = 0f64;
        for micro in 0..b / mb {
            batch.clear();
            for r in 0..mb {
                let row = (h * b + micro * mb + r) % n_rows;
                batch.extend_from_slice(&rows[row * seq_len..(row + 1) * seq_len]);
            }
            let (sum, _) = model.loss_sum(&model.batch(&batch, mb)?)?;
            loss += f64::from(sum.to_scalar::<f32>()?);
            let store = (sum / predictions)?.backward()?;
            let these = model
                .params()
                .iter()
                .map(|(_, v)| match store.get(v.as_tensor()) {
                    Some(g) => Ok(g.clone()),
                    None => v.as_tensor().zeros_like(),
                })
                .collect::<Result<Vec<_>, _>>()?;
            grads = Some(match grads {
                None => these,
                Some(acc) => acc
                    .iter()
                    .zip(&these)
                    .map(|(a, g)| a + g)
                    .collect::<Result<_, _>>()?,
            });
        }
        let mut grads = grads.expect("at least one micro-batch");
        norms.push(clip_grad_norm(&mut grads, config.grad_clip)?);
        losses.push(loss / predictions);
        let lr = config.schedule.lr_at(start_step + h as u64);
        opt.step(model, &grads, lr)?;
    }
    Ok((losses, norms))
}
