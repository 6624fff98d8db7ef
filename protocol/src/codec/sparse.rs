//! Compression of one tensor into a [`SparseTensor`] and reconstruction from it.

use super::geometry::{Geometry, GeometryError};
use super::quant::Codebook;
use super::topk::{self, ChunkView, Scratch};
use rayon::prelude::*;
use thiserror::Error;

/// Largest tensor name in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// One tensor's compressed message: per chunk the ascending positions of the kept values, a
/// 2-bit code per kept value, and the tensor's codebook.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseTensor {
    /// Parameter name (printable ASCII, 1..=256 bytes).
    pub name: String,
    /// Chunking and k.
    pub geometry: Geometry,
    /// `chunks × k` in-chunk positions, ascending within each chunk.
    pub indices: Vec<u16>,
    /// One code per index, each `< codebook.len()`.
    pub codes: Vec<u8>,
    /// Reconstruction values.
    pub codebook: Codebook,
}

/// Why a tensor could not be compressed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CompressError {
    /// The shape or codec parameters are invalid.
    #[error("tensor {name:?}: {source}")]
    Geometry {
        /// Tensor name.
        name: String,
        /// The geometry problem.
        source: GeometryError,
    },
    /// The value slice does not match the shape.
    #[error("tensor {name:?}: {got} values for a shape of {expected} elements")]
    Length {
        /// Tensor name.
        name: String,
        /// Elements the shape implies.
        expected: u64,
        /// Values supplied.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("tensor {name:?}: non-finite value at flat index {index}")]
    NonFinite {
        /// Tensor name.
        name: String,
        /// Row-major index of the first non-finite value found.
        index: usize,
    },
    /// The name is empty, too long, or not printable ASCII.
    #[error("invalid tensor name {0:?}: expected 1..=256 printable ASCII characters")]
    Name(String),
}

/// Whether `name` is a valid tensor name.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_LEN && name.iter().all(|b| b.is_ascii_graphic())
}

/// Compresses `values` (row-major, `shape` 1-D or 2-D): top-k per chunk by magnitude, then
/// 2-bit codes against a codebook fitted to the kept values.
pub fn compress(
    name: &str,
    shape: &[usize],
    values: &[f32],
    chunk: u32,
    topk: u32,
) -> Result<SparseTensor, CompressError> {
    let geometry =
        Geometry::for_shape(shape, chunk, topk).map_err(|source| CompressError::Geometry {
            name: name.into(),
            source,
        })?;
    compress_with(name, geometry, values)
}

/// Compresses `values` with an explicit geometry.
pub fn compress_with(
    name: &str,
    geometry: Geometry,
    values: &[f32],
) -> Result<SparseTensor, CompressError> {
    if !valid_name(name.as_bytes()) {
        return Err(CompressError::Name(name.into()));
    }
    if values.len() as u64 != geometry.elements() {
        return Err(CompressError::Length {
            name: name.into(),
            expected: geometry.elements(),
            got: values.len(),
        });
    }
    let kept = geometry.kept() as usize;
    let mut indices = vec![0u16; kept];
    let mut kept_values = vec![0f32; kept];
    let rows = values.par_chunks(geometry.chunk_row_len());
    select_rows(
        &geometry,
        rows,
        &mut indices,
        &mut kept_values,
        |block, bc, s, idx, vals| select_chunk(&geometry, block, bc, s, idx, vals),
    )
    .map_err(|index| CompressError::NonFinite {
        name: name.into(),
        index,
    })?;
    Ok(quantize(name, geometry, indices, &kept_values))
}

/// Fits the codebook to the kept values and codes them.
pub(crate) fn quantize(
    name: &str,
    geometry: Geometry,
    indices: Vec<u16>,
    kept_values: &[f32],
) -> SparseTensor {
    let codebook = Codebook::fit(kept_values);
    let coder = codebook.coder();
    let mut codes = vec![0u8; kept_values.len()];
    codes
        .par_chunks_mut(1 << 14)
        .zip(kept_values.par_chunks(1 << 14))
        .for_each(|(c, v)| c.iter_mut().zip(v).for_each(|(c, &v)| *c = coder.code(v)));
    SparseTensor {
        name: name.into(),
        geometry,
        indices,
        codes,
        codebook,
    }
}

/// Runs `chunk(row, bc, scratch, positions, values)` for every chunk column `bc` of every
/// chunk row, chunk rows in parallel; `chunk` selects one chunk into its slots of `indices`
/// and `kept_values` (each `kept` long) or returns the in-chunk position of its first
/// non-finite value. The error is that value's flat index: the first chunk row with one, that
/// row's first chunk with one, that chunk's first position.
pub(crate) fn select_rows<I, F>(
    g: &Geometry,
    rows: I,
    indices: &mut [u16],
    kept_values: &mut [f32],
    chunk: F,
) -> Result<(), usize>
where
    I: IndexedParallelIterator,
    F: Fn(&mut I::Item, usize, &mut Scratch, &mut [u16], &mut [f32]) -> Result<(), usize> + Sync,
{
    let (row_len, k) = (g.chunk_row_len(), g.k());
    let per_row = g.chunks_per_row() * k;
    let first_bad = rows
        .zip(indices.par_chunks_mut(per_row))
        .zip(kept_values.par_chunks_mut(per_row))
        .enumerate()
        .map_init(Scratch::default, |s, (br, ((mut row, idx), vals))| {
            for (bc, (idx, vals)) in idx.chunks_mut(k).zip(vals.chunks_mut(k)).enumerate() {
                chunk(&mut row, bc, s, idx, vals)
                    .map_err(|pos| br * row_len + g.offset_in_chunk_row(bc, pos))?;
            }
            Ok(())
        })
        .filter_map(Result::err)
        .min();
    first_bad.map_or(Ok(()), Err)
}

/// Selects chunk column `bc` of the chunk row `block` (chunk rows × cols, row-major): its
/// positions into `idx` and their values into `vals`.
pub(crate) fn select_chunk(
    g: &Geometry,
    block: &[f32],
    bc: usize,
    s: &mut Scratch,
    idx: &mut [u16],
    vals: &mut [f32],
) -> Result<(), usize> {
    let w = g.chunk_cols();
    let view = ChunkView {
        data: &block[bc * w..],
        rows: g.chunk_rows(),
        width: w,
        stride: g.cols(),
    };
    topk::select(&view, g.k(), s, idx)?;
    vals.iter_mut()
        .zip(idx.iter())
        .for_each(|(v, &p)| *v = view.get(usize::from(p)));
    Ok(())
}

impl SparseTensor {
    /// The dequantized kept values, in index order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = f32> + '_ {
        self.codes.iter().map(|&c| self.codebook.value(c))
    }

    /// L2 norm of the dequantized kept values (summed in f64, in index order).
    pub fn norm(&self) -> f64 {
        self.values()
            .map(|v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt()
    }

    /// Calls `f(flat_index, value)` for every kept value, chunk row by chunk row in parallel.
    /// `out` must have `geometry.elements()` entries; `f` sees each chunk row's own slice.
    pub fn for_each_in_rows<T: Send>(
        &self,
        out: &mut [T],
        f: impl Fn(&mut [T], usize, f32) + Sync,
    ) {
        let g = &self.geometry;
        let per_row = g.chunks_per_row() * g.k();
        let cb = self.codebook;
        out.par_chunks_mut(g.chunk_row_len())
            .enumerate()
            .for_each(|(br, row)| {
                let range = br * per_row..(br + 1) * per_row;
                for (j, (&p, &c)) in self.indices[range.clone()]
                    .iter()
                    .zip(&self.codes[range])
                    .enumerate()
                {
                    let bc = j / g.k();
                    f(row, g.offset_in_chunk_row(bc, usize::from(p)), cb.value(c));
                }
            });
    }

    /// Writes the kept values into `out` (other entries untouched). Panics if `out.len()`
    /// differs from the tensor's element count.
    pub fn scatter_into(&self, out: &mut [f32]) {
        assert_eq!(
            out.len() as u64,
            self.geometry.elements(),
            "output length must match the tensor"
        );
        self.for_each_in_rows(out, |row, off, v| row[off] = v);
    }

    /// Subtracts the kept values from `out` in place (the error-feedback update).
    pub fn subtract_from(&self, out: &mut [f32]) {
        assert_eq!(
            out.len() as u64,
            self.geometry.elements(),
            "output length must match the tensor"
        );
        self.for_each_in_rows(out, |row, off, v| row[off] -= v);
    }

    /// Writes the dense reconstruction into `out` (every entry: kept values at their
    /// positions, zero elsewhere), chunk by chunk in cache, chunk rows in parallel. Reusing
    /// `out` across calls avoids faulting in fresh pages. Panics if `out.len()` differs from
    /// the tensor's element count.
    pub fn dense_into(&self, out: &mut [f32]) {
        assert_eq!(
            out.len() as u64,
            self.geometry.elements(),
            "output length must match the tensor"
        );
        let g = &self.geometry;
        let (h, w, cols, k) = (g.chunk_rows(), g.chunk_cols(), g.cols(), g.k());
        let cpr = g.chunks_per_row();
        let cb = self.codebook;
        out.par_chunks_mut(g.chunk_row_len())
            .zip(self.indices.par_chunks(cpr * k))
            .zip(self.codes.par_chunks(cpr * k))
            .for_each_init(Vec::new, |cursor, ((block, idx), codes)| {
                // Row by row, so writes stream through memory in order; each chunk's
                // ascending positions are consumed one tensor row at a time.
                cursor.clear();
                cursor.resize(cpr, 0usize);
                for (i, line) in block.chunks_exact_mut(cols).enumerate() {
                    line.fill(0.0);
                    let (first, end) = (i * w, (i + 1) * w);
                    for (bc, c) in cursor.iter_mut().enumerate() {
                        let (idx, codes) = (&idx[bc * k..(bc + 1) * k], &codes[bc * k..]);
                        let seg = &mut line[bc * w..(bc + 1) * w];
                        while let Some(&p) = idx.get(*c).filter(|&&p| usize::from(p) < end) {
                            seg[usize::from(p) - first] = cb.value(codes[*c]);
                            *c += 1;
                        }
                    }
                }
                debug_assert!(h == 0 || cursor.iter().all(|&c| c == k));
            });
    }

    /// The dense reconstruction: kept values at their positions, zero elsewhere.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.geometry.elements() as usize];
        self.scatter_into(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_example() {
        // 2x4, chunk side 2 -> chunks of 2x2; k = 1.
        let v = [1.0, -5.0, 0.5, 0.25, 2.0, 0.0, -0.75, 3.0];
        let t = compress("w", &[2, 4], &v, 2, 1).unwrap();
        assert_eq!((t.geometry.chunk_rows(), t.geometry.chunk_cols()), (2, 2));
        // Chunk 0 = [1, -5, 2, 0] -> position 1; chunk 1 = [0.5, 0.25, -0.75, 3] -> position 3.
        assert_eq!(t.indices, vec![1, 3]);
        assert_eq!(t.to_dense(), vec![0.0, -5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0]);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            compress("w", &[4], &[1.0; 3], 64, 64),
            Err(CompressError::Length { .. })
        ));
        assert!(matches!(
            compress("w", &[2, 2, 1], &[1.0; 4], 64, 64),
            Err(CompressError::Geometry { .. })
        ));
        assert!(matches!(
            compress("bad name", &[1], &[1.0], 64, 64),
            Err(CompressError::Name(_))
        ));
        let mut v = vec![0.5f32; 128 * 64];
        v[64 * 70 + 3] = f32::NAN;
        assert_eq!(
            compress("w", &[128, 64], &v, 64, 4),
            Err(CompressError::NonFinite {
                name: "w".into(),
                index: 64 * 70 + 3
            })
        );
    }
}
