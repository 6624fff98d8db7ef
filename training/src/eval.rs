//! Loss evaluation, applying one miner's decoded update for scoring, and the outer step.

use crate::model::{Model, ModelError};
use candle_core::Tensor;
use kiln_protocol::SparseTensor;
use kiln_protocol::codec::PeerMean;
use kiln_protocol::hparams::OuterParams;
use thiserror::Error;

/// Why an evaluation or update failed. The model is unchanged whenever one is returned.
#[derive(Debug, Error)]
pub enum EvalError {
    /// The model math failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// An update names a tensor the model does not have.
    #[error("update tensor {0:?} is not a model parameter")]
    UnknownTensor(String),
    /// An update's shape differs from the parameter's.
    #[error("update tensor {name:?} has shape {got:?}, the parameter {expected:?}")]
    Shape {
        /// The tensor.
        name: String,
        /// The parameter's shape.
        expected: Vec<usize>,
        /// The update's shape.
        got: Vec<usize>,
    },
    /// An update names the same tensor twice.
    #[error("update names tensor {0:?} twice")]
    Duplicate(String),
    /// The token rows are not whole rows of `seq_len`.
    #[error("{0}")]
    Rows(String),
    /// The peers' messages could not be aggregated.
    #[error(transparent)]
    Aggregate(#[from] kiln_protocol::codec::AggregateError),
}

impl From<candle_core::Error> for EvalError {
    fn from(e: candle_core::Error) -> Self {
        Self::Model(e.into())
    }
}

/// Mean next-token cross-entropy over `rows` (row-major, `seq_len` tokens each), computed in
/// micro-batches of `micro_batch_rows` with no gradient. Each micro-batch's sum is taken on the
/// device in f32 and accumulated on the host in f64 in row order, so the result is bit-identical
/// across runs on the same device, dtype and batching.
pub fn mean_loss(
    model: &Model,
    rows: &[u32],
    seq_len: usize,
    micro_batch_rows: usize,
) -> Result<f64, EvalError> {
    if seq_len < 2
        || rows.is_empty()
        || !rows.len().is_multiple_of(seq_len)
        || micro_batch_rows == 0
    {
        return Err(EvalError::Rows(format!(
            "{} tokens are not whole rows of {seq_len} (or micro-batch is 0)",
            rows.len()
        )));
    }
    let mut sum = 0f64;
    let mut count = 0usize;
    for chunk in rows.chunks(micro_batch_rows * seq_len) {
        let batch = model.batch(chunk, chunk.len() / seq_len)?;
        let (s, n) = model.loss_sum(&batch)?;
        sum += f64::from(s.detach().to_scalar::<f32>()?);
        count += n;
    }
    Ok(sum / count as f64)
}

/// Applies `θ ← θ − eta·g` for every tensor of `update` (a decoded miner message), runs `f` on
/// the updated model, and restores every touched parameter bit-exactly, whatever `f` returns.
/// Tensors are matched by name; shapes must agree.
pub fn with_update<R>(
    model: &Model,
    update: &[SparseTensor],
    eta: f32,
    f: impl FnOnce(&Model) -> R,
) -> Result<R, EvalError> {
    let mut targets = Vec::with_capacity(update.len());
    for t in update {
        let var = model
            .param(&t.name)
            .map_err(|_| EvalError::UnknownTensor(t.name.clone()))?;
        let got: Vec<usize> = t.geometry.dims().iter().map(|&d| d as usize).collect();
        if got != var.dims() {
            return Err(EvalError::Shape {
                name: t.name.clone(),
                expected: var.dims().to_vec(),
                got,
            });
        }
        if targets.iter().any(|(n, _): &(&str, _)| *n == t.name) {
            return Err(EvalError::Duplicate(t.name.clone()));
        }
        targets.push((t.name.as_str(), t));
    }
    let mut saved = Vec::with_capacity(targets.len());
    let applied = targets.iter().try_for_each(|(name, t)| {
        let var = model.param(name)?;
        saved.push((var, var.as_tensor().copy()?));
        let g = Tensor::from_vec(t.to_dense(), var.shape(), model.device())?;
        var.set(&(var.as_tensor() - (g * f64::from(eta))?)?)?;
        Ok::<(), EvalError>(())
    });
    let result = applied.map(|()| f(model));
    for (var, original) in saved {
        var.set(&original)?;
    }
    result
}

/// The outer step: `θ ← θ − lr·g` with `g` the window's aggregate, one dense tensor per named
/// parameter (parameters not named are unchanged). Checks every name and length before touching
/// anything, so a bad aggregate changes nothing.
pub fn outer_step(model: &Model, aggregate: &[(&str, &[f32])], lr: f64) -> Result<(), EvalError> {
    for (name, values) in aggregate {
        let var = model
            .param(name)
            .map_err(|_| EvalError::UnknownTensor((*name).into()))?;
        if values.len() != var.elem_count() {
            return Err(EvalError::Shape {
                name: (*name).into(),
                expected: var.dims().to_vec(),
                got: vec![values.len()],
            });
        }
    }
    for (name, values) in aggregate {
        let var = model.param(name)?;
        let g = Tensor::from_slice(values, var.shape(), model.device())?;
        var.set(&(var.as_tensor() - (g * lr)?)?)?;
    }
    Ok(())
}

/// The run's outer step from peers' messages (each peer's list in the same tensor order):
/// aggregates them by the protocol's robust rule ([`kiln_protocol::codec::aggregate`] with
/// `outer.mean`) and applies `θ ← θ − outer.lr·g`. A bad message set changes nothing.
pub fn outer_step_from_messages(
    model: &Model,
    peers: &[&[SparseTensor]],
    outer: &OuterParams,
) -> Result<(), EvalError> {
    let dense = aggregate_messages(peers, outer.mean)?;
    let named: Vec<(&str, &[f32])> = dense
        .iter()
        .map(|(name, values)| (name.as_str(), values.as_slice()))
        .collect();
    outer_step(model, &named, outer.lr)
}

/// The dense aggregate of peers' messages by the protocol's rule: each tensor's name (in the
/// first peer's order) and its values.
pub fn aggregate_messages(
    peers: &[&[SparseTensor]],
    mean: PeerMean,
) -> Result<Vec<(String, Vec<f32>)>, EvalError> {
    let Some(first) = peers.first() else {
        return Err(kiln_protocol::codec::AggregateError::NoPeers.into());
    };
    let specs: Vec<_> = first.iter().map(|t| (t.name.clone(), t.geometry)).collect();
    let dense = kiln_protocol::codec::aggregate(&specs, peers, mean)?;
    Ok(specs.into_iter().map(|(n, _)| n).zip(dense).collect())
}
