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
    let norms: Vec<f64> = peers.par_iter().map(|p| p.norm()).collect();
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
    check_peers(name, geometry, peers)?;
    let mut out = vec![0f32; geometry.elements() as usize];
    aggregate_tensor_into(name, geometry, peers, mean, &mut out)?;
    Ok(out)
}

fn check_peers(
    name: &str,
    geometry: &Geometry,
    peers: &[&SparseTensor],
) -> Result<(), AggregateError> {
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
    Ok(())
}

/// [`aggregate_tensor`] into a caller-owned `out` (every entry is written; its content is
/// unspecified on error). Works chunk by chunk in cache, chunk rows in parallel; reusing `out`
/// across calls avoids faulting in fresh pages. Panics if `out.len()` differs from the
/// tensor's element count.
pub fn aggregate_tensor_into(
    name: &str,
    geometry: &Geometry,
    peers: &[&SparseTensor],
    mean: PeerMean,
    out: &mut [f32],
) -> Result<(), AggregateError> {
    check_peers(name, geometry, peers)?;
    assert_eq!(
        out.len() as u64,
        geometry.elements(),
        "output length must match the tensor"
    );
    let scales = clip_scales(peers);
    let scaled: Vec<[f32; 4]> = peers
        .iter()
        .zip(&scales)
        .map(|(p, &s)| {
            let mut l = [0f32; 4];
            for (o, &v) in l.iter_mut().zip(p.codebook.levels()) {
                *o = (f64::from(v) * s) as f32;
            }
            l
        })
        .collect();
    let g = geometry;
    let (h, w, cols, k) = (g.chunk_rows(), g.chunk_cols(), g.cols(), g.k());
    let per_row = g.chunks_per_row() * k;
    let all = f32::from(u16::try_from(peers.len()).unwrap_or(u16::MAX));
    let finite = out
        .par_chunks_mut(g.chunk_row_len())
        .enumerate()
        .map_init(
            || vec![0u16; g.chunk_len()],
            |counts, (br, row)| {
                let mut finite = true;
                for bc in 0..g.chunks_per_row() {
                    let chunk = &mut row[bc * w..];
                    for i in 0..h {
                        chunk[i * cols..i * cols + w].fill(0.0);
                    }
                    counts.fill(0);
                    let range = br * per_row + bc * k..br * per_row + (bc + 1) * k;
                    for (p, cb) in peers.iter().zip(&scaled) {
                        for (&pos, &code) in
                            p.indices[range.clone()].iter().zip(&p.codes[range.clone()])
                        {
                            let pos = usize::from(pos);
                            chunk[g.offset_in_chunk_row(0, pos)] += cb[usize::from(code & 3)];
                            counts[pos] += 1;
                        }
                    }
                    for i in 0..h {
                        let vals = &mut chunk[i * cols..i * cols + w];
                        let counts = &counts[i * w..(i + 1) * w];
                        match mean {
                            PeerMean::All => {
                                if all > 1.0 {
                                    vals.iter_mut().for_each(|v| *v /= all);
                                }
                            }
                            PeerMean::Selecting => {
                                vals.iter_mut()
                                    .zip(counts)
                                    .for_each(|(v, &c)| *v /= f32::from(c.max(1)));
                            }
                        }
                        finite &= vals.iter().fold(true, |ok, v| ok & v.is_finite());
                    }
                }
                finite
            },
        )
        .reduce(|| true, |a, b| a & b);
    if !finite {
        return Err(AggregateError::NonFinite(name.into()));
    }
    Ok(())
}

/// Aggregates every tensor: `peers[i]` is peer `i`'s message list, in the same tensor order
/// as `specs`. Returns one dense tensor per spec.
pub fn aggregate(
    specs: &[(String, Geometry)],
    peers: &[&[SparseTensor]],
    mean: PeerMean,
) -> Result<Vec<Vec<f32>>, AggregateError> {
    let mut outs = Vec::new();
    aggregate_into(specs, peers, mean, &mut outs)?;
    Ok(outs)
}

/// [`aggregate`] into caller-owned buffers: `outs` is resized to one tensor per spec of the
/// spec's length (buffers already of that length are reused as they are, without faulting in
/// fresh pages). Contents are unspecified on error.
pub fn aggregate_into(
    specs: &[(String, Geometry)],
    peers: &[&[SparseTensor]],
    mean: PeerMean,
    outs: &mut Vec<Vec<f32>>,
) -> Result<(), AggregateError> {
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
    outs.resize_with(specs.len(), Vec::new);
    specs
        .par_iter()
        .zip(outs.par_iter_mut())
        .enumerate()
        .map(|(t, ((name, g), out))| {
            let tensors: Vec<&SparseTensor> = peers.iter().map(|p| &p[t]).collect();
            check_peers(name, g, &tensors)?;
            out.resize(g.elements() as usize, 0.0);
            aggregate_tensor_into(name, g, &tensors, mean, out)
        })
        .collect::<Result<(), _>>()
}
