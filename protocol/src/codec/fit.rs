//! Lloyd's algorithm for the codebook, fast and bit-identical to the plain definition.
//!
//! The definition (see [`super::quant`]): centroids start at the 1/8, 3/8, 5/8, 7/8 quantiles;
//! each round assigns every value to its nearest centroid (`|v − c|` in f64, ties to the
//! lower slot) and moves each centroid to the mean of its bin, the bin's sum taken in f64 in
//! value order. Done literally that is O(n) per round.
//!
//! The fast path buckets the values once, in value order, by sign, exponent and top mantissa
//! bits (about four values per bucket): a min/max pass for the exponent range, a histogram
//! with per-bucket sums, and a scatter. It applies when every value is an integer multiple of
//! `2^L` (`L` the unit of the smallest exponent present) and `n · max|v| ≤ 2^(53+L)`: then
//! every sum of a subset of the values is exact in f64, whatever the order, so bucket sums and
//! their differences equal the plain value-order sums bit for bit. When the current centroids
//! also lie on that grid, every `v − c` is exact (for the values and for the bucket bounds), so
//! the nearest-centroid assignment is monotone in `v` and each bin is a run of buckets: a
//! round costs a binary search over bucket bounds and a scan of one bucket per boundary. A
//! round whose centroids leave the grid, and any input outside the condition, runs the plain
//! round. The quantiles come from a selection inside one bucket each.

use super::quant::{LLOYD_ITERATIONS, MAX_LEVELS};

/// One optional centroid per slot; present slots are non-decreasing in slot order.
pub(super) type Centroids = [Option<f32>; MAX_LEVELS];

/// Inputs below this size take the plain path (the bucket tables would dominate).
const MIN_BUCKETED: usize = 2048;

/// Runs Lloyd's algorithm on `values` (non-empty, finite): the final centroids and how many
/// values are nearest to each slot.
pub(super) fn lloyd(values: &[f32]) -> (Centroids, [usize; MAX_LEVELS]) {
    match Buckets::new(values) {
        Some(b) => run(&Fast { b: &b, values }),
        None => run(&Plain(values)),
    }
}

/// The two ways of evaluating the quantiles and one round.
trait Rounds {
    fn initial(&self) -> Centroids;
    /// Per-slot counts and f64 sums of the values nearest to each slot.
    fn bins(&self, c: &Centroids) -> ([usize; MAX_LEVELS], [f64; MAX_LEVELS]);
}

fn run(r: &impl Rounds) -> (Centroids, [usize; MAX_LEVELS]) {
    let mut centroids = r.initial();
    for _ in 0..LLOYD_ITERATIONS {
        let (counts, sums) = r.bins(&centroids);
        let next = update(&centroids, &counts, &sums);
        if next == centroids {
            break;
        }
        centroids = next;
    }
    let (counts, _) = r.bins(&centroids);
    (centroids, counts)
}

fn update(c: &Centroids, counts: &[usize; MAX_LEVELS], sums: &[f64; MAX_LEVELS]) -> Centroids {
    let mut next = [None; MAX_LEVELS];
    for i in 0..MAX_LEVELS {
        next[i] = if counts[i] > 0 {
            Some((sums[i] / counts[i] as f64) as f32)
        } else {
            c[i]
        };
    }
    sort_centroids(next)
}

fn sort_centroids(mut c: Centroids) -> Centroids {
    // Present centroids first, ascending; a mean of a bin stays between its neighbours' means,
    // but rounding to f32 may create equal neighbours, which `fit` later merges.
    c.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    c
}

/// The slot nearest to `v` (`|v − c|` in f64, ties to the lower slot).
#[inline]
fn nearest(v: f32, centroids: &Centroids) -> usize {
    let mut best = usize::MAX;
    let mut best_d = f64::INFINITY;
    for (i, c) in centroids.iter().enumerate() {
        if let Some(c) = c {
            let d = (f64::from(v) - f64::from(*c)).abs();
            if d < best_d {
                best = i;
                best_d = d;
            }
        }
    }
    best
}

/// Ranks of the initial centroids among `n` values.
fn quantile_ranks(n: usize) -> [usize; MAX_LEVELS] {
    std::array::from_fn(|i| (((2 * i + 1) * n) / (2 * MAX_LEVELS)).min(n - 1))
}

/// Drops centroids equal to an earlier one.
fn dedup(mut out: Centroids) -> Centroids {
    for i in 1..MAX_LEVELS {
        if out[..i].contains(&out[i]) {
            out[i] = None;
        }
    }
    out
}

/// The definition, literally.
struct Plain<'a>(&'a [f32]);

impl Rounds for Plain<'_> {
    fn initial(&self) -> Centroids {
        let mut sorted = self.0.to_vec();
        let ranks = quantile_ranks(sorted.len());
        dedup(ranks.map(|r| Some(*sorted.select_nth_unstable_by(r, f32::total_cmp).1)))
    }

    fn bins(&self, c: &Centroids) -> ([usize; MAX_LEVELS], [f64; MAX_LEVELS]) {
        let mut sums = [0f64; MAX_LEVELS];
        let mut counts = [0usize; MAX_LEVELS];
        for &v in self.0 {
            let b = nearest(v, c);
            sums[b] += f64::from(v);
            counts[b] += 1;
        }
        (counts, sums)
    }
}

/// Exponent of the lowest set bit of a non-zero finite `v`.
fn lsb_exp(v: f32) -> i32 {
    let b = v.to_bits() & 0x7fff_ffff;
    let (e, m) = ((b >> 23) as i32, b & 0x7f_ffff);
    if e == 0 {
        -149 + m.trailing_zeros() as i32
    } else {
        e - 150 + (m | 0x80_0000).trailing_zeros() as i32
    }
}

/// Maps values to buckets in value order: sign, then exponent (from the smallest one present),
/// then the top `mant` mantissa bits. Zeros join the lowest-magnitude bucket of their sign.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Smallest exponent field among the non-zero values.
    emin: u32,
    /// Mantissa bits per bucket.
    mant: u32,
    /// Buckets per sign.
    half: usize,
}

impl Layout {
    #[inline]
    fn of(&self, v: f32) -> usize {
        let b = v.to_bits();
        let a = b & 0x7fff_ffff;
        let e = (a >> 23).max(self.emin) - self.emin;
        let mag = ((e << self.mant) | ((a & 0x7f_ffff) >> (23 - self.mant))) as usize;
        if b >> 31 == 1 {
            self.half - 1 - mag
        } else {
            self.half + mag
        }
    }

    /// A value at or below every value of bucket `j`: its smallest member's bound.
    fn bound(&self, j: usize) -> f32 {
        let (neg, mag) = if j < self.half {
            (true, self.half - 1 - j)
        } else {
            (false, j - self.half)
        };
        let (e, m) = (
            (mag >> self.mant) as u32,
            (mag & ((1 << self.mant) - 1)) as u32,
        );
        let low = ((e + self.emin) << 23) | (m << (23 - self.mant));
        if neg {
            // The most negative value of the bucket: all lower mantissa bits set.
            -f32::from_bits(low | ((1 << (23 - self.mant)) - 1))
        } else if mag == 0 {
            0.0
        } else {
            f32::from_bits(low)
        }
    }
}

/// The values grouped by bucket, with what a round needs per bucket.
struct Buckets {
    /// The values, bucket after bucket (unordered inside a bucket).
    items: Vec<f32>,
    /// Start of each bucket in `items`, plus `n` at the end.
    start: Vec<u32>,
    /// Sum of the values in the buckets before each one, plus the total at the end (exact).
    before: Vec<f64>,
    layout: Layout,
    /// Every value is a multiple of `2^grid`.
    grid: i32,
    max_abs: f32,
}

impl Buckets {
    /// `None` when the input is small or outside the exactness condition.
    fn new(values: &[f32]) -> Option<Self> {
        let n = values.len();
        if n < MIN_BUCKETED {
            return None;
        }
        let (mut lo, mut hi) = (u32::MAX, 0u32);
        for &v in values {
            let a = v.to_bits() & 0x7fff_ffff;
            hi = hi.max(a);
            // Zero maps past every non-zero magnitude, so it never lowers `lo`.
            lo = lo.min(a.wrapping_sub(1));
        }
        if hi == 0 {
            return None;
        }
        let (emin, emax) = ((lo + 1) >> 23, hi >> 23);
        // Every value is a multiple of its exponent's unit, hence of 2^grid; |v| < 2^m.
        let grid = emin.max(1) as i32 - 150;
        let m = emax.max(1) as i32 - 126;
        // All subset sums are exact if n · 2^m ≤ 2^(53 + grid).
        if n.next_power_of_two().ilog2() as i32 + m > 53 + grid {
            return None;
        }
        // About four values per bucket.
        let exps = (emax - emin + 1) as usize;
        let mant = (n / 8 / exps).max(1).ilog2().min(23);
        let layout = Layout {
            emin,
            mant,
            half: exps << mant,
        };
        let nb = 2 * layout.half;
        let mut count = vec![0u32; nb];
        let mut sum = vec![0f64; nb];
        for &v in values {
            let b = layout.of(v);
            count[b] += 1;
            sum[b] += f64::from(v);
        }
        let (mut start, mut before) = (Vec::with_capacity(nb + 1), Vec::with_capacity(nb + 1));
        let (mut at, mut acc) = (0u32, 0f64);
        for (c, s) in count.iter_mut().zip(&sum) {
            start.push(at);
            before.push(acc);
            // `count` becomes the bucket's write cursor.
            (at, *c) = (at + *c, at);
            acc += s;
        }
        start.push(at);
        before.push(acc);
        let mut items = vec![0f32; n];
        for &v in values {
            let b = layout.of(v);
            items[count[b] as usize] = v;
            count[b] += 1;
        }
        Some(Self {
            items,
            start,
            before,
            layout,
            grid,
            max_abs: f32::from_bits(hi),
        })
    }

    fn bucket(&self, j: usize) -> &[f32] {
        &self.items[self.start[j] as usize..self.start[j + 1] as usize]
    }

    /// Whether every present centroid lies on the values' grid within `±max|v|`, so that
    /// `v − c` is exact for every value and every bucket bound.
    fn on_grid(&self, c: &Centroids) -> bool {
        c.iter()
            .flatten()
            .all(|&c| c.abs() <= self.max_abs && (c == 0.0 || lsb_exp(c) >= self.grid))
    }

    /// Count and sum of the values whose nearest slot is `slot` or later (assignment is
    /// monotone, see the module docs; bucket bounds lie on the grid too).
    fn at_or_after(&self, c: &Centroids, slot: usize) -> (usize, f64) {
        let nb = self.start.len() - 1;
        // First bucket whose bound goes to `slot` or later: all of it and every later bucket
        // does; only the bucket before it is mixed.
        let first = partition_point(nb, |j| nearest(self.layout.bound(j), c) < slot);
        let n = self.items.len();
        let mut count = n - self.start[first] as usize;
        let mut sum = self.before[nb] - self.before[first];
        if first > 0 {
            for &v in self.bucket(first - 1) {
                if nearest(v, c) >= slot {
                    count += 1;
                    sum += f64::from(v);
                }
            }
        }
        (count, sum)
    }
}

/// The first `j` in `0..n` where `below(j)` is false (`below` is true then false).
fn partition_point(n: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The bucketed evaluation, falling back to the plain one off the grid.
struct Fast<'a> {
    b: &'a Buckets,
    values: &'a [f32],
}

impl Rounds for Fast<'_> {
    fn initial(&self) -> Centroids {
        let b = self.b;
        dedup(quantile_ranks(b.items.len()).map(|r| {
            let j = b.start.partition_point(|&s| s as usize <= r) - 1;
            let mut bucket = b.bucket(j).to_vec();
            let at = r - b.start[j] as usize;
            Some(*bucket.select_nth_unstable_by(at, f32::total_cmp).1)
        }))
    }

    fn bins(&self, c: &Centroids) -> ([usize; MAX_LEVELS], [f64; MAX_LEVELS]) {
        if !self.b.on_grid(c) {
            return Plain(self.values).bins(c);
        }
        let slots: Vec<usize> = (0..MAX_LEVELS).filter(|&i| c[i].is_some()).collect();
        let mut counts = [0usize; MAX_LEVELS];
        let mut sums = [0f64; MAX_LEVELS];
        // (count, sum) at or after each present slot; the first present slot takes everything.
        let mut tail = (self.b.items.len(), self.b.before[self.b.start.len() - 1]);
        for (i, &s) in slots.iter().enumerate() {
            let next = match slots.get(i + 1) {
                Some(&t) => self.b.at_or_after(c, t),
                None => (0, 0.0),
            };
            counts[s] = tail.0 - next.0;
            sums[s] = tail.1 - next.1;
            tail = next;
        }
        (counts, sums)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plain(values: &[f32]) -> (Centroids, [usize; MAX_LEVELS]) {
        run(&Plain(values))
    }

    #[test]
    fn layout_is_monotone_and_bounds_hold() {
        assert_eq!(lsb_exp(1.0), 0);
        assert_eq!(lsb_exp(1.5), -1);
        assert_eq!(lsb_exp(f32::from_bits(1)), -149);
        assert_eq!(lsb_exp(-8.0), 3);
        let l = Layout {
            emin: 118,
            mant: 3,
            half: 10 << 3,
        };
        let vs = [
            -0.9, -0.5, -0.01, -0.007, -0.0, 0.0, 0.007, 0.01, 0.33, 0.5, 0.9,
        ];
        for w in vs.windows(2) {
            assert!(l.of(w[0]) <= l.of(w[1]), "{} {}", w[0], w[1]);
        }
        for v in vs {
            assert!(l.bound(l.of(v)) <= v, "{v}");
        }
        for j in 0..2 * l.half {
            assert_eq!(l.of(l.bound(j)), j);
            if j > 0 {
                assert!(l.bound(j - 1) < l.bound(j));
            }
        }
    }

    #[test]
    fn gaussian_tails_take_the_fast_path() {
        let mut s = 1u64;
        let values: Vec<f32> = (0..20_000)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (s >> 40) as f32 / (1u64 << 24) as f32;
                let m = 2.4 + 3.0 * u * u;
                if s >> 63 == 1 { m } else { -m }
            })
            .collect();
        let b = Buckets::new(&values).expect("fast path");
        let fast = Fast {
            b: &b,
            values: &values,
        };
        assert!(b.on_grid(&fast.initial()));
        let (centroids, counts) = run(&fast);
        assert!(b.on_grid(&centroids), "every round stayed on the fast path");
        assert_eq!(centroids.iter().flatten().count(), 4);
        assert_eq!((centroids, counts), plain(&values));
    }

    /// Families with ties, zeros, wide ranges and off-grid means.
    fn family() -> impl Strategy<Value = Vec<f32>> {
        let n = 1usize..6000;
        prop_oneof![
            (n.clone(), any::<u64>()).prop_map(|(n, s)| make(n, s, |u, w| (u - 0.5) * w)),
            (n.clone(), any::<u64>()).prop_map(|(n, s)| make(n, s, |u, _| (u * 9.0).floor() - 4.0)),
            (n.clone(), any::<u64>(), -30i32..30).prop_map(|(n, s, e)| {
                make(n, s, move |u, w| {
                    (u - 0.5) * 2f32.powi(e) * if w > 1.5 { 1e6 } else { 1.0 }
                })
            }),
            (n.clone(), any::<u64>()).prop_map(|(n, s)| make(n, s, |u, _| {
                if u < 0.5 { -(1.0 + u) } else { 0.25 + u * 1e-7 }
            })),
            (n, any::<u64>()).prop_map(|(n, s)| make(n, s, |u, w| (u * u * u - 0.1) * w * 1e-38)),
        ]
    }

    fn make(n: usize, mut s: u64, f: impl Fn(f32, f32) -> f32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (s >> 40) as f32 / (1u64 << 24) as f32;
                let w = ((s >> 20) & 3) as f32;
                f(u, w)
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
        #[test]
        fn bucketed_equals_plain(values in family()) {
            let got = lloyd(&values);
            let want = plain(&values);
            prop_assert_eq!(got.1, want.1);
            for (a, b) in got.0.iter().zip(&want.0) {
                prop_assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits));
            }
        }
    }
}
