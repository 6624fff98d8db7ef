//! Error feedback: the residual of every compression is carried into the next window.
//!
//! Per tensor, `e ← β·e + Δ; msg = compress(e); e ← e − decompress(msg)`. The buffer holds
//! both what top-k dropped and what quantization rounded away, so nothing a miner learned is
//! lost; it only arrives later.
//!
//! A step is one fused pass per chunk: `β·e + Δ` is written into an owned scratch buffer
//! while the chunk is selected from it (still in cache); after the codebook fit the kept
//! values are subtracted there and the scratch becomes the state. The scratch is allocated
//! once and reused, and on error the state is untouched.

use super::geometry::Geometry;
use super::sparse::{self, CompressError, SparseTensor};
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
#[derive(Debug)]
pub struct ErrorFeedback {
    decay: f32,
    specs: Vec<TensorSpec>,
    buffers: Vec<Vec<f32>>,
    /// Where the next state is built; empty until the first step.
    scratch: Vec<Vec<f32>>,
}

impl Clone for ErrorFeedback {
    /// Clones the state; the clone builds its own scratch on its first step.
    fn clone(&self) -> Self {
        Self {
            decay: self.decay,
            specs: self.specs.clone(),
            buffers: self.buffers.clone(),
            scratch: Vec::new(),
        }
    }
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
            scratch: Vec::new(),
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
            scratch: Vec::new(),
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
        if self.scratch.len() != self.buffers.len() {
            self.scratch = self
                .buffers
                .par_iter()
                .map(|b| vec![0.0; b.len()])
                .collect();
        }
        let decay = self.decay;
        let messages = self
            .specs
            .par_iter()
            .zip(self.buffers.par_iter())
            .zip(self.scratch.par_iter_mut())
            .zip(deltas.par_iter())
            .map(|(((s, e), next), d)| accumulate_compress(s, decay, e, d, next))
            .collect::<Result<Vec<_>, _>>()?;
        self.scratch
            .par_iter_mut()
            .zip(messages.par_iter())
            .for_each(|(e, m)| m.subtract_from(e));
        std::mem::swap(&mut self.buffers, &mut self.scratch);
        Ok(messages)
    }
}

/// `next ← decay·e + d` chunk by chunk, each chunk selected while it is in cache; then the
/// codebook fit and the codes.
fn accumulate_compress(
    spec: &TensorSpec,
    decay: f32,
    e: &[f32],
    d: &[f32],
    next: &mut [f32],
) -> Result<SparseTensor, CompressError> {
    if !sparse::valid_name(spec.name.as_bytes()) {
        return Err(CompressError::Name(spec.name.clone()));
    }
    let g = spec.geometry;
    let kept = g.kept() as usize;
    let mut indices = vec![0u16; kept];
    let mut kept_values = vec![0f32; kept];
    let row_len = g.chunk_row_len();
    let rows = e
        .par_chunks(row_len)
        .zip(d.par_chunks(row_len))
        .zip(next.par_chunks_mut(row_len));
    let (h, w, cols) = (g.chunk_rows(), g.chunk_cols(), g.cols());
    sparse::select_rows(
        &g,
        rows,
        &mut indices,
        &mut kept_values,
        |((e, d), next), bc, s, idx, vals| {
            for i in 0..h {
                let at = i * cols + bc * w..i * cols + bc * w + w;
                next[at.clone()]
                    .iter_mut()
                    .zip(&e[at.clone()])
                    .zip(&d[at])
                    .for_each(|((n, &e), &d)| *n = decay * e + d);
            }
            sparse::select_chunk(&g, next, bc, s, idx, vals)
        },
    )
    .map_err(|index| CompressError::NonFinite {
        name: spec.name.clone(),
        index,
    })?;
    Ok(sparse::quantize(&spec.name, g, indices, &kept_values))
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

    #[test]
    fn a_failed_step_leaves_the_state_unchanged() {
        let mut ef = ErrorFeedback::new(vec![spec()], 0.5);
        let delta: Vec<f32> = (0..64).map(|i| i as f32 - 20.0).collect();
        ef.step(&[&delta]).unwrap();
        let before = ef.buffers_hash();
        let mut bad = delta.clone();
        bad[40] = f32::NAN;
        assert!(matches!(
            ef.step(&[&bad]),
            Err(FeedbackError::Compress(CompressError::NonFinite {
                index: 40,
                ..
            }))
        ));
        assert_eq!(ef.buffers_hash(), before);
        let named = |name: &str| TensorSpec {
            name: name.into(),
            ..spec()
        };
        let mut odd = ErrorFeedback::new(vec![named("bad name")], 0.5);
        assert!(matches!(
            odd.step(&[&delta]),
            Err(FeedbackError::Compress(CompressError::Name(_)))
        ));
        // A clone steps to the same state as the original, scratch or not.
        let mut twin = ef.clone();
        ef.step(&[&delta]).unwrap();
        twin.step(&[&delta]).unwrap();
        assert_eq!(ef.buffers_hash(), twin.buffers_hash());
    }
}
