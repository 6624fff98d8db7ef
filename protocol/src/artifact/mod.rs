//! The artifact wire format v1: the bytes a miner uploads for one window.
//!
//! All integers are little-endian. The layout (see `docs/protocol.md` for the full table):
//!
//! ```text
//! header (124 bytes)
//!   magic "KILNART\0" (8) | format version u16 = 1 | flags u16 = 0 | netuid u16 | uid u16
//!   hotkey [32] | window u64 | base-model hash [32] | hparams hash [32] | tensor count u32
//! per tensor
//!   name length u16 | name (printable ASCII) | rank u8 (1 or 2) | dims u32 × rank
//!   chunk side u8 × rank | k u16 | codebook length u8 (1..=4) | codebook f32 × length
//!   index section: chunks × EF bits, zero-padded to a byte
//!   value section: chunks × k × 2 bits, 4 codes per byte LSB first, zero-padded to a byte
//! ```
//!
//! The encoding is canonical: a decoded artifact re-encodes to the same bytes, so equal
//! messages have equal blake3 digests.

mod decode;

pub use decode::{DecodeError, DecodeOptions, Expect};

use crate::Digest;
use crate::codec::bits::BitWriter;
use crate::codec::elias_fano;
use crate::codec::sparse::valid_name;
use crate::codec::{Geometry, SparseTensor};
use rayon::prelude::*;
use thiserror::Error;

/// The 8 magic bytes every artifact starts with.
pub const MAGIC: [u8; 8] = *b"KILNART\0";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Header length in bytes.
pub const HEADER_LEN: u64 = 124;
/// Default upper bound on an artifact's length accepted by the decoder (2 GiB).
pub const DEFAULT_MAX_LEN: usize = 2 << 30;

/// Who produced an artifact, for which window, from which model and parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactHeader {
    /// Subnet id.
    pub netuid: u16,
    /// The miner's uid on the subnet.
    pub uid: u16,
    /// The miner's sr25519 hotkey public key.
    pub hotkey: [u8; 32],
    /// The training window.
    pub window: u64,
    /// `state_hash` of the model the miner trained from.
    pub base_model_hash: Digest,
    /// [`crate::Hparams::hparams_hash`] of the run.
    pub hparams_hash: Digest,
}

/// A decoded artifact: the header and one compressed message per tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// Identification.
    pub header: ArtifactHeader,
    /// Messages in model order; names are unique.
    pub tensors: Vec<SparseTensor>,
}

/// Why an artifact could not be encoded (the tensors break an invariant of the format).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// An artifact must carry at least one tensor.
    #[error("an artifact needs at least one tensor")]
    NoTensors,
    /// Too many tensors for the count field.
    #[error("{0} tensors exceed the format's limit")]
    TooManyTensors(usize),
    /// The name is empty, longer than 256 bytes, or not printable ASCII.
    #[error("invalid tensor name {0:?}")]
    Name(String),
    /// Two tensors share a name.
    #[error("duplicate tensor name {0:?}")]
    DuplicateName(String),
    /// Index or code counts differ from `chunks × k`.
    #[error("tensor {0:?}: index or code count does not match its geometry")]
    Count(String),
    /// A chunk's indices are not ascending, distinct and in range.
    #[error(
        "tensor {name:?}: chunk {chunk} has indices that are not ascending, distinct and in range"
    )]
    Indices {
        /// Tensor name.
        name: String,
        /// Chunk number.
        chunk: usize,
    },
    /// A code is not below the codebook length.
    #[error("tensor {0:?}: a code is outside its codebook")]
    Code(String),
}

/// Bytes of one tensor's section for the given name length, geometry and codebook length.
///
/// `2 + name_len + 1 + 5·rank + 2 + 1 + 4·codebook_len + ⌈chunks·ef_bits(chunk_len, k) / 8⌉ +
/// ⌈chunks·k·2 / 8⌉`, where `ef_bits` is [`elias_fano::chunk_bits`].
pub fn tensor_section_len(name_len: usize, g: &Geometry, codebook_len: usize) -> u64 {
    let fixed = 2 + name_len as u64 + 1 + 5 * g.rank() as u64 + 2 + 1 + 4 * codebook_len as u64;
    fixed + index_section_len(g) + value_section_len(g)
}

/// Bytes of a tensor's index section.
pub fn index_section_len(g: &Geometry) -> u64 {
    (g.chunks() * elias_fano::chunk_bits(g.chunk_len(), g.k())).div_ceil(8)
}

/// Bytes of a tensor's value section.
pub fn value_section_len(g: &Geometry) -> u64 {
    (g.kept() * 2).div_ceil(8)
}

impl Artifact {
    /// Encoded length: [`HEADER_LEN`] plus every [`tensor_section_len`].
    pub fn encoded_len(&self) -> u64 {
        HEADER_LEN
            + self
                .tensors
                .iter()
                .map(|t| tensor_section_len(t.name.len(), &t.geometry, t.codebook.len()))
                .sum::<u64>()
    }

    /// Encodes after checking every invariant the decoder enforces.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        self.check()?;
        let mut out = Vec::with_capacity(self.encoded_len() as usize);
        let h = &self.header;
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&h.netuid.to_le_bytes());
        out.extend_from_slice(&h.uid.to_le_bytes());
        out.extend_from_slice(&h.hotkey);
        out.extend_from_slice(&h.window.to_le_bytes());
        out.extend_from_slice(&h.base_model_hash);
        out.extend_from_slice(&h.hparams_hash);
        out.extend_from_slice(&(self.tensors.len() as u32).to_le_bytes());
        for t in &self.tensors {
            encode_tensor(t, &mut out);
        }
        debug_assert_eq!(out.len() as u64, self.encoded_len());
        Ok(out)
    }

    /// Decodes and validates `bytes`.
    pub fn decode(bytes: &[u8], opts: &DecodeOptions) -> Result<Self, DecodeError> {
        decode::decode(bytes, opts)
    }

    fn check(&self) -> Result<(), EncodeError> {
        if self.tensors.is_empty() {
            return Err(EncodeError::NoTensors);
        }
        if u32::try_from(self.tensors.len()).is_err() {
            return Err(EncodeError::TooManyTensors(self.tensors.len()));
        }
        // Content checks in parallel; errors are then reported in the sequential order.
        let content: Vec<Result<(), EncodeError>> =
            self.tensors.par_iter().map(check_content).collect();
        let mut names = std::collections::HashSet::new();
        for (t, content) in self.tensors.iter().zip(content) {
            if !valid_name(t.name.as_bytes()) {
                return Err(EncodeError::Name(t.name.clone()));
            }
            if !names.insert(t.name.as_str()) {
                return Err(EncodeError::DuplicateName(t.name.clone()));
            }
            content?;
        }
        Ok(())
    }
}

/// Counts, index order and code range of one tensor.
fn check_content(t: &SparseTensor) -> Result<(), EncodeError> {
    let g = &t.geometry;
    if t.indices.len() as u64 != g.kept() || t.codes.len() as u64 != g.kept() {
        return Err(EncodeError::Count(t.name.clone()));
    }
    let bad_chunk = t
        .indices
        .par_chunks(g.k())
        .with_min_len(256)
        .position_first(|idx| {
            !(idx.windows(2).all(|w| w[0] < w[1])
                && idx.last().is_some_and(|&l| usize::from(l) < g.chunk_len()))
        });
    if let Some(chunk) = bad_chunk {
        return Err(EncodeError::Indices {
            name: t.name.clone(),
            chunk,
        });
    }
    let len = t.codebook.len() as u8;
    if t.codes.iter().fold(false, |bad, &c| bad | (c >= len)) {
        return Err(EncodeError::Code(t.name.clone()));
    }
    Ok(())
}

fn encode_tensor(t: &SparseTensor, out: &mut Vec<u8>) {
    let g = &t.geometry;
    out.extend_from_slice(&(t.name.len() as u16).to_le_bytes());
    out.extend_from_slice(t.name.as_bytes());
    out.push(g.rank() as u8);
    for d in g.dims() {
        out.extend_from_slice(&d.to_le_bytes());
    }
    for s in g.chunk_sides() {
        out.push(s as u8);
    }
    out.extend_from_slice(&(g.k() as u16).to_le_bytes());
    out.push(t.codebook.len() as u8);
    for v in t.codebook.levels() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    // Groups of a multiple of 8 chunks span whole bytes, so they are written in parallel and
    // concatenated; only the last group pads, as one writer over the section would.
    let (u, k) = (g.chunk_len(), g.k());
    let group = 64;
    let bits = elias_fano::chunk_bits(u, k);
    let parts: Vec<Vec<u8>> = t
        .indices
        .par_chunks(k * group)
        .map(|idx| {
            let mut w = BitWriter::with_capacity_bits(bits * group as u64);
            idx.chunks(k)
                .for_each(|idx| elias_fano::encode_chunk(idx, u, &mut w));
            w.finish()
        })
        .collect();
    parts.iter().for_each(|p| out.extend_from_slice(p));
    let packed: Vec<Vec<u8>> = t
        .codes
        .par_chunks(1 << 16)
        .map(|c| {
            c.chunks(4)
                .map(|c| {
                    c.iter()
                        .enumerate()
                        .fold(0u8, |acc, (i, &code)| acc | (code << (2 * i)))
                })
                .collect()
        })
        .collect();
    packed.iter().for_each(|p| out.extend_from_slice(p));
}

/// The blake3 digest of artifact bytes, as committed on chain.
pub fn digest(bytes: &[u8]) -> Digest {
    *blake3::hash(bytes).as_bytes()
}
