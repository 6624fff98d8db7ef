//! Robust aggregation of peers' messages for one tensor.
//!
//! 1. Each peer's norm is the L2 norm of its dequantized kept values (f64, index order).
//! 2. The reference norm is the **lower median** of the peers' norms (an actual peer's norm;
//!    for 20 peers the 10th smallest).
//! 3. A peer whose norm exceeds the median is scaled by `median / norm`; every value `v`
//!    becomes `(v as f64 · scale) as f32`.
//! 4. Each coordinate is the clipped values summed in f32 in peer order, divided by the
//!    [`PeerMean`] rule's count: the peers that selected that coordinate (the default) or every
//!    peer; unselected coordinates are 0.

use super::geometry::Geometry;
use super::sparse::SparseTensor;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a coordinate's sum of clipped values is divided by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerMean {
    /// By the number of peers that selected the coordinate (Templar's rule; the default).
    #[default]
    Selecting,
    /// By the number of peers: a coordinate one of N peers selected moves by its value ÷ N,
    /// so the outer step is the mean of the peers' messages (the SparseLoCo paper's rule).
    All,
}

/// Why a set of messages could not be aggregated.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AggregateError {
    /// No peers were given.
    #[error("no peers to aggregate")]
    NoPeers,
    /// More peers than the per-coordinate counter holds.
    #[error("{0} peers exceed the limit of 65535")]
    TooManyPeers(usize),
    /// A peer's tensor has a different name or geometry from the expected one.
    #[error("peer {peer}: tensor {name:?} does not match the expected geometry")]
    Mismatch {
        /// Position of the peer in the input.
        peer: usize,
        /// The peer's tensor name.
        name: String,
    },
    /// A peer sent a different number of tensors.
    #[error("peer {peer} has {got} tensors, expected {expected}")]
    TensorCount {
        /// Position of the peer in the input.
        peer: usize,
        /// Tensors expected.
        expected: usize,
        /// Tensors the peer has.
        got: usize,
    },
    /// The result contains a non-finite value.
    #[error("aggregate of tensor {0:?} is not finite")]
    NonFinite(String),
}

/// Per-peer clip scales for one tensor: `min(1, median / norm)`.
pub fn clip_scales(peers: &[&SparseTensor]) -> Vec<f64> {
    let norms: Vec<f64> = peers.iter().map(|p| p.norm()).collect();
    let mut sorted = norms.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[(sorted.len() - 1) / 2];
    norms
        .iter()
        .map(|&n| if n > median { median / n } else { 1.0 })
        .collect()
}

/// Aggregates one tensor over `peers`, all of which must carry `name` with `geometry`.
pub fn aggregate_tensor(
    name: &str,
    geometry: &Geometry,
    peers: &[&SparseTensor],
    mean: PeerMean,
) -> Result<Vec<f32>, AggregateError> {
    if peers.is_empty() {
        return Err(AggregateError::NoPeers);
    }
    if peers.len() > usize::from(u16::MAX) {
        return Err(AggregateError::TooManyPeers(peers.len()));
    }
    for (i, p) in peers.iter().enumerate() {
        if p.name != name || p.geometry != *geometry {
            return Err(AggregateError::Mismatch {
                peer: i,
                name: p.name.clone(),
            });
        }
    }
    let scales = clip_scales(peers);
    let scaled: Vec<Vec<f32>> = peers
        .iter()
        .zip(&scales)
        .map(|(p, &s)| {
            p.codebook
                .levels()
                .iter()
                .map(|&v| (f64::from(v) * s) as f32)
                .collect()
        })
        .collect();
    let g = geometry;
    let all = u16::try_from(peers.len()).expect("checked against u16::MAX above");
    let mut out = vec![0f32; g.elements() as usize];
    let per_row = g.chunks_per_row() * g.k();
    out.par_chunks_mut(g.chunk_row_len())
        .enumerate()
        .for_each_init(
            || vec![0u16; g.chunk_row_len()],
            |counts, (br, row)| {
                counts.fill(0);
                let range = br * per_row..(br + 1) * per_row;
                for (p, cb) in peers.iter().zip(&scaled) {
                    for (j, (&pos, &code)) in p.indices[range.clone()]
                        .iter()
                        .zip(&p.codes[range.clone()])
                        .enumerate()
                    {
                        let off = g.offset_in_chunk_row(j / g.k(), usize::from(pos));
                        row[off] += cb[usize::from(code)];
                        counts[off] += 1;
                    }
                }
                match mean {
                    PeerMean::All => {
                        if all > 1 {
                            row.iter_mut().for_each(|v| *v /= f32::from(all));
                        }
                    }
                    PeerMean::Selecting => {
                        for (v, &c) in row.iter_mut().zip(counts.iter()) {
                            if c > 1 {
                                *v /= f32::from(c);
                            }
                        }
                    }
                }
            },
        );
    if out.par_iter().any(|v| !v.is_finite()) {
        return Err(AggregateError::NonFinite(name.into()));
    }
    Ok(out)
}

/// Aggregates every tensor: `peers[i]` is peer `i`'s message list, in the same tensor order
/// as `specs`. Returns one dense tensor per spec.
pub fn aggregate(
    specs: &[(String, Geometry)],
    peers: &[&[SparseTensor]],
    mean: PeerMean,
) -> Result<Vec<Vec<f32>>, AggregateError> {
    if peers.is_empty() {
        return Err(AggregateError::NoPeers);
    }
    for (i, p) in peers.iter().enumerate() {
        if p.len() != specs.len() {
            return Err(AggregateError::TensorCount {
                peer: i,
                expected: specs.len(),
                got: p.len(),
            });
        }
    }
    specs
        .par_iter()
        .enumerate()
        .map(|(t, (name, g))| {
            let tensors: Vec<&SparseTensor> = peers.iter().map(|p| &p[t]).collect();
            aggregate_tensor(name, g, &tensors, mean)
        })
        .collect()
}
