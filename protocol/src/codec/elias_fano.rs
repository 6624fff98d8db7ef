//! Elias–Fano coding of one chunk's ascending index set.
//!
//! For a chunk of `u` elements keeping `k < u` positions, let `l = ⌊log2(u / k)⌋` and
//! `B = ((u − 1) >> l) + 1` buckets. The chunk is written as the `k` low parts (`l` bits
//! each, in index order) followed by the high parts in unary: for each bucket `b = 0..B`, one
//! `1` bit per index whose high part `x >> l` equals `b`, then a `0`. That is exactly
//! `k·l + k + B` bits per chunk; at `u = 4096, k = 64` it is 512 bits, 8 bits per index
//! against 12 for fixed-width packing. When `k = u` every position is kept and no bits are
//! written. The low parts and the unary stream make the code unique for a given index set.

#[cfg(test)]
use super::bits::BitReader;
use super::bits::BitWriter;

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
    // The j-th one of the unary stream sits at bit (p_j >> l) + j; zeros fill the rest.
    let total = k + ((chunk_len - 1) >> l) + 1;
    let mut at = 0usize;
    for (j, &p) in positions.iter().enumerate() {
        let one = (usize::from(p) >> l) + j;
        w.zeros(one - at);
        w.write(1, 1);
        at = one + 1;
    }
    w.zeros(total - at);
}

/// Reads one chunk's `k` positions, appending them to `out` after validating range,
/// uniqueness and order.
#[cfg(test)]
pub(crate) fn decode_chunk(
    r: &mut BitReader<'_>,
    chunk_len: usize,
    k: usize,
    out: &mut Vec<u16>,
) -> Result<(), IndexProblem> {
    let start = out.len();
    out.resize(start + k.min(chunk_len), 0);
    decode_chunk_at(r.bytes(), r.position(), chunk_len, k, &mut out[start..])?;
    r.skip(chunk_bits(chunk_len, k));
    Ok(())
}

/// Decodes the chunk whose bits start at bit `at` of `bytes` into `out` (`min(k, chunk_len)`
/// long), validating range, uniqueness and order, and reporting the first problem in stream
/// order exactly as a bit-by-bit reader would. A valid chunk spans [`chunk_bits`] bits.
pub(crate) fn decode_chunk_at(
    bytes: &[u8],
    at: u64,
    chunk_len: usize,
    k: usize,
    out: &mut [u16],
) -> Result<(), IndexProblem> {
    if k >= chunk_len {
        out.iter_mut().zip(0u16..).for_each(|(o, p)| *o = p);
        return Ok(());
    }
    let end = bytes.len() as u64 * 8;
    let l = low_bits(chunk_len, k);
    let lows_end = at + k as u64 * u64::from(l);
    if lows_end > end {
        return Err(IndexProblem::Truncated);
    }
    let low_mask = (1u64 << l) - 1;
    for (j, o) in out.iter_mut().enumerate() {
        *o = (window(bytes, at + j as u64 * u64::from(l)) & low_mask) as u16;
    }
    let buckets = ((chunk_len - 1) >> l) + 1;
    let (mut pos, mut bucket, mut j) = (lows_end, 0usize, 0usize);
    let mut prev: Option<u16> = None;
    while bucket < buckets {
        if pos >= end {
            return Err(IndexProblem::Truncated);
        }
        let n = (end - pos).min(WINDOW_BITS);
        let mut word = window(bytes, pos) & ((1u64 << n) - 1);
        let zeros = n as usize - word.count_ones() as usize;
        let mut ones = 0usize;
        while word != 0 {
            let q = word.trailing_zeros() as usize;
            // Zeros before this one; at `buckets` zeros the chunk ended before it.
            let b = bucket + q - ones;
            if b >= buckets {
                break;
            }
            if j == k {
                return Err(IndexProblem::CountMismatch);
            }
            let v = ((b << l) | usize::from(out[j])) as u16;
            accept(v, chunk_len, &mut prev)?;
            out[j] = v;
            j += 1;
            ones += 1;
            word &= word - 1;
        }
        bucket += zeros;
        pos += n;
    }
    if j != k {
        return Err(IndexProblem::CountMismatch);
    }
    Ok(())
}

/// Bits [`window`] returns valid.
const WINDOW_BITS: u64 = 56;

/// At least 56 bits of `bytes` starting at bit `at` (LSB first), zeros past the end.
#[inline]
/// Checks that the next decoded position `v` lies in the chunk and follows `prev` strictly.
fn accept(v: u16, chunk_len: usize, prev: &mut Option<u16>) -> Result<(), IndexProblem> {
    if usize::from(v) >= chunk_len {
        return Err(IndexProblem::OutOfRange(v));
    }
    match *prev {
        Some(p) if p == v => return Err(IndexProblem::Duplicate(v)),
        Some(p) if p > v => return Err(IndexProblem::Unsorted),
        _ => {}
    }
    *prev = Some(v);
    Ok(())
}

fn window(bytes: &[u8], at: u64) -> u64 {
    let i = (at / 8) as usize;
    let word = match bytes.get(i..i + 8) {
        Some(b) => u64::from_le_bytes(b.try_into().unwrap_or_default()),
        None => {
            let mut b = [0u8; 8];
            let tail = bytes.get(i..).unwrap_or_default();
            b[..tail.len()].copy_from_slice(tail);
            u64::from_le_bytes(b)
        }
    };
    word >> (at % 8)
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

    /// The bit-by-bit decoder the word-wise one replaces: the reference for every stream.
    fn reference(r: &mut BitReader<'_>, u: usize, k: usize) -> Result<Vec<u16>, IndexProblem> {
        let mut out = Vec::new();
        if k >= u {
            return Ok((0..u as u16).collect());
        }
        let l = low_bits(u, k);
        let buckets = ((u - 1) >> l) + 1;
        for _ in 0..k {
            out.push(r.read(l).ok_or(IndexProblem::Truncated)? as u16);
        }
        let (mut j, mut bucket, mut prev) = (0usize, 0usize, None::<u16>);
        while bucket < buckets {
            if r.bit().ok_or(IndexProblem::Truncated)? {
                if j == k {
                    return Err(IndexProblem::CountMismatch);
                }
                let v = ((bucket << l) | usize::from(out[j])) as u16;
                accept(v, u, &mut prev)?;
                out[j] = v;
                j += 1;
            } else {
                bucket += 1;
            }
        }
        if j != k {
            return Err(IndexProblem::CountMismatch);
        }
        Ok(out)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// A valid chunk with one or two bits flipped decodes like the reference.
        #[test]
        fn flipped_bits_decode_like_the_reference(
            u in 2usize..=4096,
            picks in prop::collection::btree_set(0u16..4096, 1..200),
            flips in prop::collection::vec(any::<prop::sample::Index>(), 1..3),
            cut in 0usize..3,
        ) {
            let positions: Vec<u16> = picks.into_iter().filter(|&p| usize::from(p) < u).collect();
            prop_assume!(!positions.is_empty() && positions.len() < u);
            let k = positions.len();
            let mut bytes = encode(&positions, u);
            for f in &flips {
                let bit = f.index(bytes.len() * 8);
                bytes[bit / 8] ^= 1 << (bit % 8);
            }
            bytes.truncate(bytes.len().saturating_sub(cut));
            let want = reference(&mut BitReader::new(&bytes), u, k);
            let mut got = vec![0u16; k];
            prop_assert_eq!(decode_chunk_at(&bytes, 0, u, k, &mut got).map(|()| got), want);
        }

        /// On any bytes, valid or not, the word-wise decoder gives the reference's answer.
        #[test]
        fn garbage_decodes_like_the_reference(
            u in 2usize..=4096,
            k in 1usize..200,
            bytes in prop::collection::vec(prop_oneof![any::<u8>(), Just(0u8), Just(0xffu8)], 0..120),
            skip in 0u64..16,
        ) {
            let k = k.min(u - 1);
            let mut r = BitReader::new(&bytes);
            r.skip(skip);
            let want = reference(&mut r, u, k);
            let mut got = vec![0u16; k];
            let res = decode_chunk_at(&bytes, skip, u, k, &mut got).map(|()| got);
            prop_assert_eq!(res, want);
        }

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
