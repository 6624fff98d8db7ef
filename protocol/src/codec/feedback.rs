//! Error feedback: the residual of every compression is carried into the next window.
//!
//! Per tensor, `e ← β·e + Δ; msg = compress(e); e ← e − decompress(msg)`. The buffer holds
//! both what top-k dropped and what quantization rounded away, so nothing a miner learned is
//! lost; it only arrives later.

use super::geometry::Geometry;
use super::sparse::{CompressError, SparseTensor, compress_with};
use rayon::prelude::*;
use thiserror::Error;

/// A named tensor slot of the error-feedback state.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    /// Parameter name.
    pub name: String,
    /// Chunking and k.
    pub geometry: Geometry,
}

/// Why an error-feedback step failed. The state is unchanged on error.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FeedbackError {
    /// The number of deltas differs from the number of tensors.
    #[error("expected {expected} delta tensors, got {got}")]
    TensorCount {
        /// Tensors in the state.
        expected: usize,
        /// Deltas supplied.
        got: usize,
    },
    /// A delta has the wrong number of elements.
    #[error("delta for {name:?} has {got} elements, expected {expected}")]
    Length {
        /// Tensor name.
        name: String,
        /// Elements the geometry implies.
        expected: u64,
        /// Elements supplied.
        got: usize,
    },
    /// Compression failed (for example a non-finite value in the accumulated buffer).
    #[error(transparent)]
    Compress(#[from] CompressError),
}

/// Error-feedback buffers for every tensor of a model.
#[derive(Debug, Clone)]
pub struct ErrorFeedback {
    decay: f32,
    specs: Vec<TensorSpec>,
    buffers: Vec<Vec<f32>>,
}

impl ErrorFeedback {
    /// Zeroed buffers for `specs` with decay `β`.
    pub fn new(specs: Vec<TensorSpec>, decay: f32) -> Self {
        let buffers = specs
            .iter()
            .map(|s| vec![0.0; s.geometry.elements() as usize])
            .collect();
        Self {
            decay,
            specs,
            buffers,
        }
    }

    /// The tensors this state covers.
    pub fn specs(&self) -> &[TensorSpec] {
        &self.specs
    }

    /// The current buffer of tensor `i`.
    pub fn buffer(&self, i: usize) -> &[f32] {
        &self.buffers[i]
    }

    /// Zeroes every buffer (a null round).
    pub fn reset(&mut self) {
        self.buffers.par_iter_mut().for_each(|b| b.fill(0.0));
    }

    /// One window: accumulates `deltas` (one per tensor, in spec order), compresses, and
    /// subtracts what was sent. Returns the messages in spec order.
    pub fn step(&mut self, deltas: &[&[f32]]) -> Result<Vec<SparseTensor>, FeedbackError> {
        if deltas.len() != self.specs.len() {
            return Err(FeedbackError::TensorCount {
                expected: self.specs.len(),
                got: deltas.len(),
            });
        }
        for (s, d) in self.specs.iter().zip(deltas) {
            if d.len() as u64 != s.geometry.elements() {
                return Err(FeedbackError::Length {
                    name: s.name.clone(),
                    expected: s.geometry.elements(),
                    got: d.len(),
                });
            }
        }
        let decay = self.decay;
        let accumulated: Vec<Vec<f32>> = self
            .buffers
            .par_iter()
            .zip(deltas.par_iter())
            .map(|(e, d)| {
                let mut next = Vec::with_capacity(e.len());
                e.par_iter()
                    .zip(d.par_iter())
                    .map(|(&e, &d)| decay * e + d)
                    .collect_into_vec(&mut next);
                next
            })
            .collect();
        let messages = self
            .specs
            .par_iter()
            .zip(accumulated.par_iter())
            .map(|(s, e)| compress_with(&s.name, s.geometry, e))
            .collect::<Result<Vec<_>, _>>()?;
        self.buffers = accumulated;
        self.buffers
            .par_iter_mut()
            .zip(messages.par_iter())
            .for_each(|(e, m)| m.subtract_from(e));
        Ok(messages)
    }
}
