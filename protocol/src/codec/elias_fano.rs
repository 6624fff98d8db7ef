//! Elias–Fano coding of one chunk's ascending index set.
//!
//! For a chunk of `u` elements keeping `k < u` positions, let `l = ⌊log2(u / k)⌋` and
//! `B = ((u − 1) >> l) + 1` buckets. The chunk is written as the `k` low parts (`l` bits
//! each, in index order) followed by the high parts in unary: for each bucket `b = 0..B`, one
//! `1` bit per index whose high part `x >> l` equals `b`, then a `0`. That is exactly
//! `k·l + k + B` bits per chunk; at `u = 4096, k = 64` it is 512 bits, 8 bits per index
//! against 12 for fixed-width packing. When `k = u` every position is kept and no bits are
//! written. The low parts and the unary stream make the code unique for a given index set.

use super::bits::{BitReader, BitWriter};

/// Low bits per index for a chunk of `chunk_len` keeping `k`.
pub fn low_bits(chunk_len: usize, k: usize) -> u32 {
    if k >= chunk_len {
        0
    } else {
        ((chunk_len / k) as u32).ilog2()
    }
}

/// Bits one chunk's index set takes.
pub fn chunk_bits(chunk_len: usize, k: usize) -> u64 {
    if k >= chunk_len {
        return 0;
    }
    let l = low_bits(chunk_len, k);
    let buckets = ((chunk_len - 1) >> l) + 1;
    (k as u64) * u64::from(l) + k as u64 + buckets as u64
}

/// What is wrong with an encoded index set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndexProblem {
    /// The stream ended early.
    Truncated,
    /// The unary stream holds a number of indices other than k.
    CountMismatch,
    /// A decoded index is ≥ the chunk length.
    OutOfRange(u16),
    /// An index repeats.
    Duplicate(u16),
    /// Indices are not ascending.
    Unsorted,
}

/// Writes ascending, distinct `positions` (all < `chunk_len`, exactly k of them).
pub(crate) fn encode_chunk(positions: &[u16], chunk_len: usize, w: &mut BitWriter) {
    let k = positions.len();
    if k >= chunk_len {
        return;
    }
    let l = low_bits(chunk_len, k);
    let mask = (1u32 << l) - 1;
    for &p in positions {
        w.write(u32::from(p) & mask, l);
    }
    let buckets = ((chunk_len - 1) >> l) + 1;
    let mut next = positions.iter().peekable();
    for b in 0..buckets {
        while next.next_if(|&&p| (usize::from(p) >> l) == b).is_some() {
            w.write(1, 1);
        }
        w.write(0, 1);
    }
}

/// Reads one chunk's `k` positions, appending them to `out` after validating range,
/// uniqueness and order.
pub(crate) fn decode_chunk(
    r: &mut BitReader<'_>,
    chunk_len: usize,
    k: usize,
    out: &mut Vec<u16>,
) -> Result<(), IndexProblem> {
    if k >= chunk_len {
        out.extend(0..chunk_len as u16);
        return Ok(());
    }
    let l = low_bits(chunk_len, k);
    let buckets = ((chunk_len - 1) >> l) + 1;
    let start = out.len();
    for _ in 0..k {
        out.push(r.read(l).ok_or(IndexProblem::Truncated)? as u16);
    }
    let mut j = 0usize;
    let mut bucket = 0usize;
    let mut prev: Option<u16> = None;
    while bucket < buckets {
        if r.bit().ok_or(IndexProblem::Truncated)? {
            if j == k {
                return Err(IndexProblem::CountMismatch);
            }
            let v = ((bucket << l) | usize::from(out[start + j])) as u16;
            if usize::from(v) >= chunk_len {
                return Err(IndexProblem::OutOfRange(v));
            }
            match prev {
                Some(p) if p == v => return Err(IndexProblem::Duplicate(v)),
                Some(p) if p > v => return Err(IndexProblem::Unsorted),
                _ => {}
            }
            prev = Some(v);
            out[start + j] = v;
            j += 1;
        } else {
            bucket += 1;
        }
    }
    if j != k {
        return Err(IndexProblem::CountMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn templar_geometry_costs_eight_bits_per_index() {
        assert_eq!(low_bits(4096, 64), 6);
        assert_eq!(chunk_bits(4096, 64), 512);
        assert_eq!(chunk_bits(64, 64), 0);
    }

    fn encode(positions: &[u16], u: usize) -> Vec<u8> {
        let mut w = BitWriter::default();
        encode_chunk(positions, u, &mut w);
        w.finish()
    }

    /// Decodes a hand-made chunk of u = 100, k = 3 (l = 5, 4 buckets): lows, then unary bits.
    fn decode_raw(lows: [u32; 3], unary: &[u32]) -> Result<(), IndexProblem> {
        let mut w = BitWriter::default();
        lows.iter().for_each(|&low| w.write(low, 5));
        unary.iter().for_each(|&bit| w.write(bit, 1));
        decode_chunk(&mut BitReader::new(&w.finish()), 100, 3, &mut Vec::new())
    }

    #[test]
    fn corrupt_streams_are_classified() {
        assert_eq!(decode_raw([1, 2, 3], &[1, 1, 1, 0, 0, 0, 0]), Ok(()));
        // Two indices in bucket 0 with equal lows.
        assert_eq!(
            decode_raw([1, 1, 0], &[1, 1, 0, 1, 0, 0, 0]),
            Err(IndexProblem::Duplicate(1))
        );
        assert_eq!(
            decode_raw([2, 1, 31], &[1, 1, 0, 0, 0, 1, 0]),
            Err(IndexProblem::Unsorted)
        );
        // Third index in bucket 3: 3·32 + 31 = 127 ≥ 100.
        assert_eq!(
            decode_raw([0, 0, 31], &[1, 0, 1, 0, 0, 1, 0]),
            Err(IndexProblem::OutOfRange(127))
        );
        assert_eq!(
            decode_raw([0, 0, 0], &[1, 0, 0, 0, 0]),
            Err(IndexProblem::CountMismatch)
        );
        let bytes = encode(&[3, 50, 99], 100);
        assert_eq!(
            decode_chunk(&mut BitReader::new(&bytes[..1]), 100, 3, &mut Vec::new()),
            Err(IndexProblem::Truncated)
        );
    }

    proptest! {
        #[test]
        fn round_trip_and_exact_size(u in 1usize..=4096, picks in prop::collection::btree_set(0u16..4096, 1..300)) {
            let positions: Vec<u16> = picks.into_iter().filter(|&p| usize::from(p) < u).collect();
            prop_assume!(!positions.is_empty());
            let k = positions.len();
            let mut w = BitWriter::default();
            encode_chunk(&positions, u, &mut w);
            let bytes = w.finish();
            prop_assert_eq!(bytes.len() as u64, chunk_bits(u, k).div_ceil(8));
            let mut r = BitReader::new(&bytes);
            let mut out = Vec::new();
            decode_chunk(&mut r, u, k, &mut out).unwrap();
            prop_assert_eq!(r.position(), chunk_bits(u, k));
            if k < u {
                prop_assert_eq!(out, positions);
            } else {
                prop_assert_eq!(out, (0..u as u16).collect::<Vec<_>>());
            }
        }
    }
}
