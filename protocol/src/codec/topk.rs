//! Exact top-k by magnitude inside one chunk.
//!
//! The order is total: larger `|x|` first, and among equal magnitudes the lower position
//! first. The result is therefore unique, independent of threads, and equal to the naive
//! "sort by (|x| desc, position asc), take k" rule.
//!
//! Selection reads the chunk in place (rows of the tensor, no copy) in one branch-free pass
//! that keeps every value whose magnitude reaches a threshold: a guess from the previous
//! chunk (9/10 of its cut), which on similar chunks keeps about 1.5k candidates. A small fix-up
//! then finds the exact cut among the candidates. If fewer than k reach the guess, the pass
//! runs again with half the threshold, then 0, so the guess only affects speed, never the
//! result. A chunk with no guess yet starts from a sample of every 16th value. Groups of
//! eight values that all miss the threshold are skipped after one vectorized compare.

/// A chunk inside a row-major tensor: `rows` rows of `width` values, row `i` at `i·stride`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkView<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) rows: usize,
    pub(crate) width: usize,
    pub(crate) stride: usize,
}

impl ChunkView<'_> {
    /// The value at in-chunk position `pos` (`i·width + j`).
    #[inline]
    pub(crate) fn get(&self, pos: usize) -> f32 {
        let (i, j) = if self.width.is_power_of_two() {
            (pos >> self.width.trailing_zeros(), pos & (self.width - 1))
        } else {
            (pos / self.width, pos % self.width)
        };
        self.data[i * self.stride + j]
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.stride..i * self.stride + self.width]
    }

    fn len(&self) -> usize {
        self.rows * self.width
    }
}

/// Most values a chunk holds.
const MAX_CHUNK: usize = 4096;

/// Reusable buffers for [`select`]; also carries the threshold guess between chunks.
#[derive(Debug)]
pub(crate) struct Scratch {
    /// Candidate positions; a fixed size lets the masked index skip bounds checks.
    pos: Box<[u16; MAX_CHUNK]>,
    packed: Vec<u64>,
    guess: u32,
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            pos: Box::new([0; MAX_CHUNK]),
            packed: Vec::new(),
            guess: 0,
        }
    }
}

/// The magnitude bits of +∞; anything at or above is not finite.
const NON_FINITE: u32 = 0x7f80_0000;

/// Writes the ascending positions of the `k` largest-magnitude values of `chunk` to `out`
/// (`out.len() == min(k, chunk len)`). The chunk holds at most 4096 values. Returns the
/// position of the first non-finite value, if any.
pub(crate) fn select(
    chunk: &ChunkView<'_>,
    k: usize,
    s: &mut Scratch,
    out: &mut [u16],
) -> Result<(), usize> {
    let n = chunk.len();
    debug_assert!(n <= 4096 && k >= 1 && out.len() == k.min(n));
    if k >= n {
        let mut p = 0usize;
        for i in 0..chunk.rows {
            if let Some(j) = chunk.row(i).iter().position(|v| !v.is_finite()) {
                return Err(p + j);
            }
            p += chunk.width;
        }
        out.iter_mut().zip(0u16..).for_each(|(o, p)| *o = p);
        return Ok(());
    }
    let mut t = if s.guess == 0 {
        sample_guess(chunk, k, &mut s.packed)
    } else {
        s.guess
    }
    .min(NON_FINITE);
    let mut len = candidates(chunk, t, &mut s.pos);
    // Too few: halve the threshold's magnitude until it is tiny, then take everything.
    while len < k {
        t = match t {
            NON_FINITE.. => f32::MAX.to_bits(),
            0x0100_0001.. => (f32::from_bits(t) * 0.5).to_bits(),
            _ => 0,
        };
        len = candidates(chunk, t, &mut s.pos);
    }
    let pos = &s.pos[..len];
    // Rank by (key desc, position asc) through one u64: larger is better.
    let rank = |p: u16| (u64::from(key(chunk.get(usize::from(p)))) << 16) | u64::from(!p);
    s.packed.clear();
    s.packed.extend(pos.iter().map(|&p| rank(p)));
    // Non-finite values always pass the threshold, so the first one is among the candidates.
    if let Some(i) = s
        .packed
        .iter()
        .position(|&r| r >> 16 >= u64::from(NON_FINITE))
    {
        return Err(usize::from(pos[i]));
    }
    if len == k {
        out.copy_from_slice(pos);
        s.guess = next_guess(
            s.packed
                .iter()
                .map(|&r| (r >> 16) as u32)
                .min()
                .unwrap_or(0),
        );
        return Ok(());
    }
    let cut = *s.packed.select_nth_unstable(len - k).1;
    let mut o = 0;
    for &p in pos {
        if rank(p) >= cut {
            out[o] = p;
            o += 1;
        }
    }
    debug_assert_eq!(o, k);
    s.guess = next_guess((cut >> 16) as u32);
    Ok(())
}

/// A first threshold from every 16th value: the key ranked where about 2k of the chunk would
/// lie above it.
fn sample_guess(chunk: &ChunkView<'_>, k: usize, buf: &mut Vec<u64>) -> u32 {
    let n = chunk.len();
    buf.clear();
    buf.extend((0..n).step_by(16).map(|p| u64::from(key(chunk.get(p)))));
    let rank = 2 * k * buf.len() / n;
    if rank >= buf.len() {
        return 0;
    }
    let (_, t, _) = buf.select_nth_unstable_by(rank, |a, b| b.cmp(a));
    *t as u32
}

/// 9/10 of the magnitude of `cut`, as a key.
fn next_guess(cut: u32) -> u32 {
    (f32::from_bits(cut) * 0.9).to_bits()
}

/// The magnitude bits of `x`: ordered like `|x|` for finite values.
#[inline]
fn key(x: f32) -> u32 {
    x.to_bits() & 0x7fff_ffff
}

/// Collects, in position order, the position of every value whose magnitude key is at least
/// `t` into `pos`; returns how many.
fn candidates(chunk: &ChunkView<'_>, t: u32, pos: &mut [u16; MAX_CHUNK]) -> usize {
    let mut len = 0usize;
    let mut p = 0u16;
    // Branch-free append: always write, advance only when kept. `len` ≤ `p` < 4096, so the
    // mask never changes the index.
    let mut scan = |xs: &[f32], p: &mut u16| {
        for &x in xs {
            pos[len & (MAX_CHUNK - 1)] = *p;
            len += usize::from(key(x) >= t);
            *p += 1;
        }
    };
    for i in 0..chunk.rows {
        let row = chunk.row(i);
        let mut groups = row.chunks_exact(8);
        for g in &mut groups {
            // A vectorized test skips groups without a candidate (most of them). Keys are
            // below 2^31, so the signed compare (plain SSE2) orders them correctly.
            if g.iter()
                .fold(false, |hit, &x| hit | (key(x) as i32 >= t as i32))
            {
                scan(g, &mut p);
            } else {
                p += 8;
            }
        }
        scan(groups.remainder(), &mut p);
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(chunk: &[f32], k: usize) -> Vec<u16> {
        let mut order: Vec<usize> = (0..chunk.len()).collect();
        order.sort_by(|&a, &b| chunk[b].abs().total_cmp(&chunk[a].abs()).then(a.cmp(&b)));
        let mut kept: Vec<u16> = order[..k.min(chunk.len())]
            .iter()
            .map(|&i| i as u16)
            .collect();
        kept.sort_unstable();
        kept
    }

    fn flat(chunk: &[f32]) -> ChunkView<'_> {
        ChunkView {
            data: chunk,
            rows: 1,
            width: chunk.len(),
            stride: chunk.len(),
        }
    }

    fn run(view: &ChunkView<'_>, k: usize, s: &mut Scratch) -> Result<Vec<u16>, usize> {
        let mut out = vec![0; k.min(view.len())];
        select(view, k, s, &mut out).map(|()| out)
    }

    #[test]
    fn ties_prefer_lower_positions() {
        let chunk = [1.0, -2.0, 2.0, 0.5, -2.0, 2.0];
        let mut s = Scratch::default();
        assert_eq!(run(&flat(&chunk), 2, &mut s), Ok(vec![1, 2]));
        assert_eq!(run(&flat(&chunk), 4, &mut s), Ok(vec![1, 2, 4, 5]));
    }

    #[test]
    fn rejects_non_finite() {
        let mut s = Scratch::default();
        assert_eq!(run(&flat(&[1.0, f32::NAN, 0.0]), 1, &mut s), Err(1));
        assert_eq!(run(&flat(&[f32::INFINITY, 0.0]), 5, &mut s), Err(0));
        // A high guess from an earlier chunk still finds a NaN among small values.
        s.guess = 1e30f32.to_bits();
        assert_eq!(
            run(
                &flat(&[0.0, 0.5, f32::NEG_INFINITY, 0.1, f32::NAN]),
                2,
                &mut s
            ),
            Err(2)
        );
    }

    #[test]
    fn strided_view_reads_in_place() {
        // A 3 x 4 tensor; the chunk is rows 0..3, columns 1..3.
        let t = [
            0.0, 9.0, 1.0, 0.0, //
            0.0, -3.0, 8.0, 0.0, //
            0.0, 2.0, -7.0, 0.0,
        ];
        let view = ChunkView {
            data: &t[1..],
            rows: 3,
            width: 2,
            stride: 4,
        };
        assert_eq!(view.get(3), 8.0);
        assert_eq!(run(&view, 3, &mut Scratch::default()), Ok(vec![0, 3, 5]));
    }

    proptest! {
        #[test]
        fn matches_naive(
            chunk in prop::collection::vec(
                prop_oneof![-1e3f32..1e3, Just(0.0f32), Just(-0.0f32), Just(1.5f32), Just(-1.5f32)], 1..300),
            k in 1usize..320,
            guess in prop_oneof![Just(0u32), any::<u32>(), 0u32..0x4400_0000],
        ) {
            let mut s = Scratch { guess, ..Scratch::default() };
            let got = run(&flat(&chunk), k, &mut s).unwrap();
            prop_assert_eq!(got, naive(&chunk, k));
            // The next chunk, with the guess this one left, gives the same answer again.
            prop_assert_eq!(run(&flat(&chunk), k, &mut s).unwrap(), naive(&chunk, k));
        }
    }
}
