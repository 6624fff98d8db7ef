//! The validating artifact decoder. It never panics, and it allocates only after checking
//! that the input holds the bytes the allocation stands for: decoded memory stays within a
//! small constant factor (≤ 12×) of the input length.

use super::{Artifact, ArtifactHeader};
use super::{
    DEFAULT_MAX_LEN, FORMAT_VERSION, HEADER_LEN, MAGIC, index_section_len, value_section_len,
};
use crate::codec::bits::BitReader;
use crate::codec::elias_fano::{self, IndexProblem};
use crate::codec::quant::{Codebook, CodebookProblem, MAX_LEVELS};
use crate::codec::sparse::valid_name;
use crate::codec::{Geometry, GeometryError, SparseTensor};
use rayon::prelude::*;
use std::collections::HashSet;
use thiserror::Error;

/// The smallest possible tensor section (1-byte name, rank 1, one codebook entry, one value).
const MIN_SECTION_LEN: usize = 17;

/// Limits and expectations for [`Artifact::decode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Inputs longer than this are rejected before anything else is read.
    pub max_len: usize,
    /// If set, every tensor must use exactly the canonical geometry for these parameters.
    pub expect: Option<Expect>,
}

/// Codec parameters an artifact must have been produced with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// Target chunk side.
    pub chunk: u32,
    /// Values kept per chunk.
    pub topk: u32,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            max_len: DEFAULT_MAX_LEN,
            expect: None,
        }
    }
}

/// Everything that can be wrong with artifact bytes; one variant per class of corruption.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DecodeError {
    /// The input is longer than [`DecodeOptions::max_len`].
    #[error("artifact is {len} bytes, over the limit of {max}")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input ends inside a header or a fixed field.
    #[error("truncated: {needed} more bytes needed at offset {offset}")]
    Truncated {
        /// Where reading stopped.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
    },
    /// The first 8 bytes are not the kiln artifact magic.
    #[error("not a kiln artifact (bad magic)")]
    BadMagic,
    /// The format version is not supported.
    #[error("unsupported artifact format version {0}")]
    UnsupportedVersion(u16),
    /// Reserved flag bits are set.
    #[error("unknown flags {0:#06x}")]
    UnknownFlags(u16),
    /// The artifact declares no tensors.
    #[error("artifact declares no tensors")]
    NoTensors,
    /// A tensor name is empty, too long or not printable ASCII.
    #[error("tensor {index}: invalid name")]
    InvalidName {
        /// Position of the tensor.
        index: usize,
    },
    /// A tensor name repeats.
    #[error("duplicate tensor name {0:?}")]
    DuplicateName(String),
    /// Rank, dimensions, chunk sides or k are invalid or inconsistent.
    #[error("tensor {name:?}: {source}")]
    Geometry {
        /// Tensor name.
        name: String,
        /// What is wrong.
        source: GeometryError,
    },
    /// The geometry is valid but not the one the expected codec parameters produce.
    #[error("tensor {0:?}: chunk geometry or k differs from the expected codec parameters")]
    UnexpectedGeometry(String),
    /// The codebook length is 0 or above 4.
    #[error("tensor {name:?}: codebook length {len} is outside 1..=4")]
    CodebookLength {
        /// Tensor name.
        name: String,
        /// Declared length.
        len: u8,
    },
    /// A codebook entry is NaN or infinite.
    #[error("tensor {0:?}: codebook entry is not finite")]
    NonFiniteCodebook(String),
    /// Codebook entries are not strictly increasing.
    #[error("tensor {0:?}: codebook is not strictly increasing")]
    CodebookNotIncreasing(String),
    /// The index and value sections extend past the end of the input.
    #[error("tensor {name:?}: sections need {needed} bytes, only {available} remain")]
    SectionTruncated {
        /// Tensor name.
        name: String,
        /// Bytes the geometry implies.
        needed: u64,
        /// Bytes left.
        available: usize,
    },
    /// A decoded index is not inside its chunk.
    #[error("tensor {name:?} chunk {chunk}: index {index} is out of range")]
    IndexOutOfRange {
        /// Tensor name.
        name: String,
        /// Chunk number.
        chunk: u64,
        /// The index.
        index: u16,
    },
    /// An index appears twice in one chunk.
    #[error("tensor {name:?} chunk {chunk}: index {index} appears twice")]
    DuplicateIndex {
        /// Tensor name.
        name: String,
        /// Chunk number.
        chunk: u64,
        /// The index.
        index: u16,
    },
    /// A chunk's indices are not ascending.
    #[error("tensor {name:?} chunk {chunk}: indices are not ascending")]
    UnsortedIndices {
        /// Tensor name.
        name: String,
        /// Chunk number.
        chunk: u64,
    },
    /// A chunk's index stream holds a number of indices other than k.
    #[error("tensor {name:?} chunk {chunk}: index stream does not hold exactly k indices")]
    IndexCountMismatch {
        /// Tensor name.
        name: String,
        /// Chunk number.
        chunk: u64,
    },
    /// A 2-bit code refers past the end of the codebook.
    #[error("tensor {name:?}: code {code} with a codebook of {codebook_len}")]
    CodeOutOfRange {
        /// Tensor name.
        name: String,
        /// The code.
        code: u8,
        /// Codebook length.
        codebook_len: usize,
    },
    /// Padding bits at the end of a section are not zero.
    #[error("tensor {name:?}: non-zero padding after the {section} section")]
    NonZeroPadding {
        /// Tensor name.
        name: String,
        /// `index` or `value`.
        section: &'static str,
    },
    /// Bytes follow the last tensor.
    #[error("{0} trailing bytes after the last tensor")]
    TrailingBytes(usize),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated {
                offset: self.pos,
                needed: n,
            });
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array().map(u64::from_le_bytes)
    }
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

pub(super) fn decode(bytes: &[u8], opts: &DecodeOptions) -> Result<Artifact, DecodeError> {
    if bytes.len() > opts.max_len {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: opts.max_len,
        });
    }
    let mut r = Reader { bytes, pos: 0 };
    if r.array::<8>().map_err(|_| DecodeError::BadMagic)? != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    let version = r.u16()?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let flags = r.u16()?;
    if flags != 0 {
        return Err(DecodeError::UnknownFlags(flags));
    }
    let header = ArtifactHeader {
        netuid: r.u16()?,
        uid: r.u16()?,
        hotkey: r.array()?,
        window: r.u64()?,
        base_model_hash: r.array()?,
        hparams_hash: r.array()?,
    };
    let count = r.u32()? as usize;
    debug_assert_eq!(r.pos as u64, HEADER_LEN);
    if count == 0 {
        return Err(DecodeError::NoTensors);
    }
    let mut tensors = Vec::with_capacity(count.min(r.remaining() / MIN_SECTION_LEN));
    let mut names = HashSet::new();
    for index in 0..count {
        let t = decode_tensor(&mut r, index, opts)?;
        if !names.insert(t.name.clone()) {
            return Err(DecodeError::DuplicateName(t.name));
        }
        tensors.push(t);
    }
    if r.remaining() > 0 {
        return Err(DecodeError::TrailingBytes(r.remaining()));
    }
    Ok(Artifact { header, tensors })
}

fn decode_tensor(
    r: &mut Reader<'_>,
    index: usize,
    opts: &DecodeOptions,
) -> Result<SparseTensor, DecodeError> {
    let name_len = usize::from(r.u16()?);
    let raw_name = r.take(name_len)?;
    if !valid_name(raw_name) {
        return Err(DecodeError::InvalidName { index });
    }
    let name: String = raw_name.iter().map(|&b| char::from(b)).collect();
    let rank = usize::from(r.u8()?);
    if rank == 0 || rank > 2 {
        return Err(DecodeError::Geometry {
            name,
            source: GeometryError::Rank(rank),
        });
    }
    let mut dims = [0u32; 2];
    for d in &mut dims[..rank] {
        *d = r.u32()?;
    }
    let mut sides = [0u32; 2];
    for s in &mut sides[..rank] {
        *s = u32::from(r.u8()?);
    }
    let k = u32::from(r.u16()?);
    let geometry = Geometry::from_parts(&dims[..rank], &sides[..rank], k).map_err(|source| {
        DecodeError::Geometry {
            name: name.clone(),
            source,
        }
    })?;
    if let Some(e) = opts.expect {
        let shape: Vec<usize> = dims[..rank].iter().map(|&d| d as usize).collect();
        if Geometry::for_shape(&shape, e.chunk, e.topk).ok() != Some(geometry) {
            return Err(DecodeError::UnexpectedGeometry(name));
        }
    }
    let cb_len = r.u8()?;
    if cb_len == 0 || usize::from(cb_len) > MAX_LEVELS {
        return Err(DecodeError::CodebookLength { name, len: cb_len });
    }
    let mut levels = [0f32; MAX_LEVELS];
    for l in &mut levels[..usize::from(cb_len)] {
        *l = f32::from_le_bytes(r.array()?);
    }
    let codebook = Codebook::new(&levels[..usize::from(cb_len)]).map_err(|p| match p {
        CodebookProblem::Length => DecodeError::CodebookLength {
            name: name.clone(),
            len: cb_len,
        },
        CodebookProblem::NonFinite => DecodeError::NonFiniteCodebook(name.clone()),
        CodebookProblem::NotIncreasing => DecodeError::CodebookNotIncreasing(name.clone()),
    })?;

    // Check the sections are present before allocating for them.
    let idx_len = index_section_len(&geometry);
    let val_len = value_section_len(&geometry);
    let needed = idx_len + val_len;
    if needed > r.remaining() as u64 {
        return Err(DecodeError::SectionTruncated {
            name,
            needed,
            available: r.remaining(),
        });
    }
    let indices = decode_indices(r.take(idx_len as usize)?, &geometry, &name)?;
    let codes = decode_codes(
        r.take(val_len as usize)?,
        geometry.kept() as usize,
        &codebook,
        &name,
    )?;
    Ok(SparseTensor {
        name,
        geometry,
        indices,
        codes,
        codebook,
    })
}

fn decode_indices(section: &[u8], g: &Geometry, name: &str) -> Result<Vec<u16>, DecodeError> {
    let (u, k) = (g.chunk_len(), g.k());
    let bits = elias_fano::chunk_bits(u, k);
    let mut out = vec![0u16; g.kept() as usize];
    // A valid chunk spans exactly `bits` bits, so chunk c starts at c·bits whenever every chunk
    // before it is valid: decoding chunks independently and reporting the first failing one
    // gives what a sequential reader reports.
    let first_bad = out
        .par_chunks_mut(k)
        .with_min_len(64)
        .enumerate()
        .filter_map(|(c, o)| {
            elias_fano::decode_chunk_at(section, c as u64 * bits, u, k, o)
                .err()
                .map(|p| (c as u64, p))
        })
        .min_by_key(|&(c, _)| c);
    if let Some((chunk, p)) = first_bad {
        let name = name.to_owned();
        return Err(match p {
            IndexProblem::OutOfRange(index) => DecodeError::IndexOutOfRange { name, chunk, index },
            IndexProblem::Duplicate(index) => DecodeError::DuplicateIndex { name, chunk, index },
            IndexProblem::Unsorted => DecodeError::UnsortedIndices { name, chunk },
            // The section length is exact, so running out means the count is wrong.
            IndexProblem::CountMismatch | IndexProblem::Truncated => {
                DecodeError::IndexCountMismatch { name, chunk }
            }
        });
    }
    let mut rest = BitReader::new(section);
    rest.skip(g.chunks() * bits);
    if !rest.rest_is_zero() {
        return Err(DecodeError::NonZeroPadding {
            name: name.into(),
            section: "index",
        });
    }
    Ok(out)
}

fn decode_codes(
    section: &[u8],
    kept: usize,
    cb: &Codebook,
    name: &str,
) -> Result<Vec<u8>, DecodeError> {
    // Codes past `kept` in the last byte are padding and must be zero.
    let tail = kept % 4;
    if tail > 0 && section.last().is_some_and(|&b| b >> (2 * tail) != 0) {
        return Err(DecodeError::NonZeroPadding {
            name: name.into(),
            section: "value",
        });
    }
    let mut codes = vec![0u8; kept];
    codes
        .par_chunks_mut(1 << 16)
        .zip(section.par_chunks(1 << 14))
        .for_each(|(codes, bytes)| {
            for (c, &b) in codes.chunks_mut(4).zip(bytes) {
                c.iter_mut()
                    .enumerate()
                    .for_each(|(i, c)| *c = (b >> (2 * i)) & 3);
            }
        });
    if cb.len() < 4
        && let Some(&code) = codes.iter().find(|&&c| usize::from(c) >= cb.len())
    {
        return Err(DecodeError::CodeOutOfRange {
            name: name.into(),
            code,
            codebook_len: cb.len(),
        });
    }
    Ok(codes)
}
