//! Chunk geometry: how a 1-D or 2-D tensor is cut into chunks and how many values each keeps.
//!
//! A 2-D tensor `(rows, cols)` is cut into blocks `h × w` where `h` (`w`) is the largest
//! divisor of `rows` (`cols`) that is ≤ the target side (64 by default). A 1-D tensor of
//! length `n` is treated as the 2-D tensor `(1, n)`, so it is cut into runs of `w`. Chunks
//! are numbered row-major over the chunk grid; a position inside a chunk is `i·w + j` for the
//! element at row `i`, column `j` of the chunk. Each chunk keeps `k = min(topk, h·w)` values.

use thiserror::Error;

/// Largest chunk side the protocol allows; a chunk therefore holds at most 4096 elements and
/// in-chunk positions fit in `u16`.
pub const MAX_CHUNK_SIDE: u32 = 64;

/// Largest tensor the protocol accepts (2^40 elements).
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 40;

/// Problems with a tensor's declared geometry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GeometryError {
    /// Only 1-D and 2-D tensors are supported.
    #[error("unsupported rank {0}: only 1-D and 2-D tensors are supported")]
    Rank(usize),
    /// A dimension is zero or too large.
    #[error("dimension {dim} is out of range (1..=2^32-1)")]
    Dimension {
        /// The offending dimension.
        dim: u64,
    },
    /// The tensor has more than [`MAX_TENSOR_ELEMENTS`] elements.
    #[error("tensor has {0} elements, more than the limit of 2^40")]
    TooManyElements(u64),
    /// A chunk side is zero, above 64, or does not divide its dimension.
    #[error("chunk side {side} does not divide dimension {dim} or is outside 1..=64")]
    ChunkSide {
        /// The chunk side.
        side: u32,
        /// The dimension it must divide.
        dim: u32,
    },
    /// `k` is zero or larger than the chunk.
    #[error("k = {k} is outside 1..={chunk_len}")]
    K {
        /// The declared k.
        k: u32,
        /// Elements per chunk.
        chunk_len: u32,
    },
    /// The target chunk side is outside 1..=64.
    #[error("target chunk side {0} is outside 1..=64")]
    ChunkTarget(u32),
    /// topk is zero.
    #[error("topk must be at least 1")]
    ZeroTopk,
}

/// The chunking of one tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Geometry {
    rank: u8,
    rows: u32,
    cols: u32,
    chunk_rows: u32,
    chunk_cols: u32,
    k: u32,
}

/// Largest divisor of `n` that is ≤ `target` (at least 1).
pub fn largest_divisor_at_most(n: u32, target: u32) -> u32 {
    (1..=target.min(n))
        .rev()
        .find(|d| n.is_multiple_of(*d))
        .unwrap_or(1)
}

impl Geometry {
    /// The canonical geometry for `shape` with target chunk side `chunk` and `topk` kept values
    /// per chunk.
    pub fn for_shape(shape: &[usize], chunk: u32, topk: u32) -> Result<Self, GeometryError> {
        if chunk == 0 || chunk > MAX_CHUNK_SIDE {
            return Err(GeometryError::ChunkTarget(chunk));
        }
        if topk == 0 {
            return Err(GeometryError::ZeroTopk);
        }
        let dims = dims_of(shape)?;
        let (rows, cols) = match dims[..] {
            [c] => (1, c),
            [r, c] => (r, c),
            _ => return Err(GeometryError::Rank(shape.len())),
        };
        let ch = largest_divisor_at_most(rows, chunk);
        let cw = largest_divisor_at_most(cols, chunk);
        let k = topk.min(ch * cw);
        Self::from_parts(&dims, &[ch, cw][2 - dims.len()..], k)
    }

    /// A geometry from its wire parts, validated: `dims` (1 or 2 entries), the chunk side per
    /// dimension, and `k`.
    pub fn from_parts(dims: &[u32], chunk: &[u32], k: u32) -> Result<Self, GeometryError> {
        if dims.is_empty() || dims.len() > 2 || chunk.len() != dims.len() {
            return Err(GeometryError::Rank(dims.len()));
        }
        for &d in dims {
            if d == 0 {
                return Err(GeometryError::Dimension { dim: 0 });
            }
        }
        let elements = dims.iter().map(|&d| u64::from(d)).product::<u64>();
        if elements > MAX_TENSOR_ELEMENTS {
            return Err(GeometryError::TooManyElements(elements));
        }
        for (&d, &s) in dims.iter().zip(chunk) {
            if s == 0 || s > MAX_CHUNK_SIDE || !d.is_multiple_of(s) {
                return Err(GeometryError::ChunkSide { side: s, dim: d });
            }
        }
        let (rows, cols, chunk_rows, chunk_cols) = match (dims, chunk) {
            ([c], [w]) => (1, *c, 1, *w),
            ([r, c], [h, w]) => (*r, *c, *h, *w),
            _ => return Err(GeometryError::Rank(dims.len())),
        };
        let chunk_len = chunk_rows * chunk_cols;
        if k == 0 || k > chunk_len {
            return Err(GeometryError::K { k, chunk_len });
        }
        Ok(Self {
            rank: dims.len() as u8,
            rows,
            cols,
            chunk_rows,
            chunk_cols,
            k,
        })
    }

    /// 1 or 2.
    pub fn rank(&self) -> usize {
        usize::from(self.rank)
    }

    /// The tensor's dimensions (one or two entries).
    pub fn dims(&self) -> Vec<u32> {
        if self.rank == 1 {
            vec![self.cols]
        } else {
            vec![self.rows, self.cols]
        }
    }

    /// The chunk side per dimension (one or two entries).
    pub fn chunk_sides(&self) -> Vec<u32> {
        if self.rank == 1 {
            vec![self.chunk_cols]
        } else {
            vec![self.chunk_rows, self.chunk_cols]
        }
    }

    /// Rows when viewed as 2-D (1 for a 1-D tensor).
    pub fn rows(&self) -> usize {
        self.rows as usize
    }

    /// Columns when viewed as 2-D.
    pub fn cols(&self) -> usize {
        self.cols as usize
    }

    /// Chunk height (1 for a 1-D tensor).
    pub fn chunk_rows(&self) -> usize {
        self.chunk_rows as usize
    }

    /// Chunk width.
    pub fn chunk_cols(&self) -> usize {
        self.chunk_cols as usize
    }

    /// Elements per chunk.
    pub fn chunk_len(&self) -> usize {
        self.chunk_rows() * self.chunk_cols()
    }

    /// Values kept per chunk.
    pub fn k(&self) -> usize {
        self.k as usize
    }

    /// Elements in the tensor.
    pub fn elements(&self) -> u64 {
        u64::from(self.rows) * u64::from(self.cols)
    }

    /// Chunks per chunk row (along the columns).
    pub fn chunks_per_row(&self) -> usize {
        self.cols() / self.chunk_cols()
    }

    /// Rows of chunks.
    pub fn chunk_grid_rows(&self) -> usize {
        self.rows() / self.chunk_rows()
    }

    /// Chunks in the tensor.
    pub fn chunks(&self) -> u64 {
        (self.chunk_grid_rows() * self.chunks_per_row()) as u64
    }

    /// Values kept in the whole tensor.
    pub fn kept(&self) -> u64 {
        self.chunks() * u64::from(self.k)
    }

    /// Elements in one chunk row (a contiguous slice of the row-major tensor).
    pub fn chunk_row_len(&self) -> usize {
        self.chunk_rows() * self.cols()
    }

    /// Offset inside its chunk row of in-chunk position `pos` of chunk column `bc`.
    #[inline]
    pub fn offset_in_chunk_row(&self, bc: usize, pos: usize) -> usize {
        let w = self.chunk_cols();
        let (i, j) = if w.is_power_of_two() {
            (pos >> w.trailing_zeros(), pos & (w - 1))
        } else {
            (pos / w, pos % w)
        };
        i * self.cols() + bc * w + j
    }

    /// Row-major flat index of in-chunk position `pos` of chunk `chunk`.
    #[inline]
    pub fn flat_index(&self, chunk: usize, pos: usize) -> usize {
        let (br, bc) = (chunk / self.chunks_per_row(), chunk % self.chunks_per_row());
        br * self.chunk_row_len() + self.offset_in_chunk_row(bc, pos)
    }
}

fn dims_of(shape: &[usize]) -> Result<Vec<u32>, GeometryError> {
    if shape.is_empty() || shape.len() > 2 {
        return Err(GeometryError::Rank(shape.len()));
    }
    shape
        .iter()
        .map(|&d| {
            u32::try_from(d)
                .ok()
                .filter(|&d| d > 0)
                .ok_or(GeometryError::Dimension { dim: d as u64 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_divisor() {
        assert_eq!(largest_divisor_at_most(4096, 64), 64);
        assert_eq!(largest_divisor_at_most(2816, 64), 64);
        assert_eq!(largest_divisor_at_most(100, 64), 50);
        assert_eq!(largest_divisor_at_most(67, 64), 1);
        assert_eq!(largest_divisor_at_most(10, 64), 10);
    }

    #[test]
    fn two_d_and_one_d() {
        let g = Geometry::for_shape(&[1024, 2816], 64, 64).unwrap();
        assert_eq!((g.chunk_rows(), g.chunk_cols(), g.k()), (64, 64, 64));
        assert_eq!(g.chunks(), 16 * 44);
        let n = Geometry::for_shape(&[1024], 64, 64).unwrap();
        assert_eq!(
            (n.rank(), n.rows(), n.cols(), n.chunk_len(), n.k()),
            (1, 1, 1024, 64, 64)
        );
        assert_eq!(n.chunks(), 16);
        let small = Geometry::for_shape(&[3, 5], 64, 64).unwrap();
        assert_eq!((small.chunk_len(), small.k()), (15, 15));
    }

    #[test]
    fn flat_index_is_a_bijection() {
        let g = Geometry::for_shape(&[6, 10], 4, 3).unwrap();
        assert_eq!((g.chunk_rows(), g.chunk_cols()), (3, 2));
        let mut seen = [false; 60];
        for c in 0..g.chunks() as usize {
            for p in 0..g.chunk_len() {
                let f = g.flat_index(c, p);
                assert!(!seen[f]);
                seen[f] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
        // Chunk 1 is the second chunk of the first chunk row: columns 2..4, rows 0..3.
        assert_eq!(g.flat_index(1, 0), 2);
        assert_eq!(g.flat_index(1, 3), 10 + 3);
    }

    #[test]
    fn invalid_parts() {
        assert_eq!(
            Geometry::for_shape(&[], 64, 64),
            Err(GeometryError::Rank(0))
        );
        assert_eq!(
            Geometry::for_shape(&[2, 2, 2], 64, 64),
            Err(GeometryError::Rank(3))
        );
        assert_eq!(
            Geometry::for_shape(&[0], 64, 64),
            Err(GeometryError::Dimension { dim: 0 })
        );
        assert_eq!(
            Geometry::for_shape(&[8], 65, 64),
            Err(GeometryError::ChunkTarget(65))
        );
        assert_eq!(
            Geometry::from_parts(&[10], &[3], 1),
            Err(GeometryError::ChunkSide { side: 3, dim: 10 })
        );
        assert_eq!(
            Geometry::from_parts(&[128], &[128], 1),
            Err(GeometryError::ChunkSide {
                side: 128,
                dim: 128
            })
        );
        assert_eq!(
            Geometry::from_parts(&[10], &[5], 6),
            Err(GeometryError::K { k: 6, chunk_len: 5 })
        );
        assert!(matches!(
            Geometry::from_parts(&[u32::MAX, u32::MAX], &[1, 1], 1),
            Err(GeometryError::TooManyElements(_))
        ));
    }
}
