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

    /// Restores saved buffers (one per spec, in spec order, each of its spec's length).
    pub fn from_buffers(
        specs: Vec<TensorSpec>,
        decay: f32,
        buffers: Vec<Vec<f32>>,
    ) -> Result<Self, FeedbackError> {
        if buffers.len() != specs.len() {
            return Err(FeedbackError::TensorCount {
                expected: specs.len(),
                got: buffers.len(),
            });
        }
        for (s, b) in specs.iter().zip(&buffers) {
            if b.len() as u64 != s.geometry.elements() {
                return Err(FeedbackError::Length {
                    name: s.name.clone(),
                    expected: s.geometry.elements(),
                    got: b.len(),
                });
            }
        }
        Ok(Self {
            decay,
            specs,
            buffers,
        })
    }

    /// The decay β.
    pub fn decay(&self) -> f32 {
        self.decay
    }

    /// blake3 over every tensor's name and buffer (little-endian f32s), in spec order: equal
    /// hashes mean bit-identical state.
    pub fn buffers_hash(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        for (s, b) in self.specs.iter().zip(&self.buffers) {
            h.update(&(s.name.len() as u64).to_le_bytes());
            h.update(s.name.as_bytes());
            h.update(&(b.len() as u64).to_le_bytes());
            for v in b {
                h.update(&v.to_le_bytes());
            }
        }
        *h.finalize().as_bytes()
    }

    /// `e ← β·e + Δ` without compressing or subtracting: for a window whose message was never
    /// sent, so its update stays in the feedback.
    pub fn accumulate(&mut self, deltas: &[&[f32]]) -> Result<(), FeedbackError> {
        self.check(deltas)?;
        let decay = self.decay;
        self.buffers
            .par_iter_mut()
            .zip(deltas.par_iter())
            .for_each(|(e, d)| {
                e.iter_mut()
                    .zip(d.iter())
                    .for_each(|(e, &d)| *e = decay * *e + d);
            });
        Ok(())
    }

    fn check(&self, deltas: &[&[f32]]) -> Result<(), FeedbackError> {
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
        Ok(())
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
        self.check(deltas)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TensorSpec {
        TensorSpec {
            name: "w".into(),
            geometry: Geometry::for_shape(&[8, 8], 4, 2).unwrap(),
        }
    }

    #[test]
    fn restored_buffers_are_checked_and_hash_equal() {
        assert!(matches!(
            ErrorFeedback::from_buffers(vec![spec()], 0.9, vec![]),
            Err(FeedbackError::TensorCount {
                expected: 1,
                got: 0
            })
        ));
        assert!(matches!(
            ErrorFeedback::from_buffers(vec![spec()], 0.9, vec![vec![0.0; 63]]),
            Err(FeedbackError::Length { got: 63, .. })
        ));
        let mut a = ErrorFeedback::new(vec![spec()], 0.5);
        let delta: Vec<f32> = (0..64).map(|i| i as f32 / 64.0 - 0.5).collect();
        a.step(&[&delta]).unwrap();
        let b = ErrorFeedback::from_buffers(vec![spec()], 0.5, vec![a.buffer(0).to_vec()]).unwrap();
        assert_eq!(a.buffers_hash(), b.buffers_hash());
        let mut c = b.clone();
        c.accumulate(&[&delta]).unwrap();
        for ((&after, &before), &d) in c.buffer(0).iter().zip(b.buffer(0)).zip(&delta) {
            assert_eq!(after, 0.5 * before + d);
        }
        assert_ne!(c.buffers_hash(), b.buffers_hash());
        assert!(c.accumulate(&[]).is_err());
    }
}
