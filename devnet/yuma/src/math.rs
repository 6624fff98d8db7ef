//! Fixed-point vector and sparse-matrix operations of the epoch, with subtensor's rounding:
//! multiplication floors, division truncates, `x / 0 = 0`, sums of proportions never overflow.

use substrate_fixed::types::{I32F32, I64F64};

/// A sparse matrix: per row, `(column, value)` entries in column order.
pub type SparseMatrix = Vec<Vec<(u16, I32F32)>>;

const ZERO: I32F32 = I32F32::from_bits(0);
const ONE: I32F32 = I32F32::from_bits(1 << 32);

fn u16_max() -> I32F32 {
    I32F32::from_num(u16::MAX)
}

/// `a / b`, or 0 when `b` is 0 or the quotient overflows.
pub fn safe_div(a: I32F32, b: I32F32) -> I32F32 {
    a.checked_div(b).unwrap_or(ZERO)
}

/// `x / 65535`.
pub fn u16_proportion_to_fixed(x: u16) -> I32F32 {
    safe_div(I32F32::from_num(x), u16_max())
}

/// `floor(x · 65535)`, clamped to `0..=65535`.
pub fn fixed_proportion_to_u16(x: I32F32) -> u16 {
    x.saturating_mul(u16_max()).saturating_to_num::<u16>()
}

/// Saturating sum.
pub fn sum(v: &[I32F32]) -> I32F32 {
    v.iter().fold(ZERO, |a, &b| a.saturating_add(b))
}

/// Divides by the sum, unless the sum is 0.
pub fn normalize(v: &mut [I32F32]) {
    let s = sum(v);
    if s != ZERO {
        v.iter_mut().for_each(|x| *x = safe_div(*x, s));
    }
}

/// [`normalize`] in `I64F64`.
pub fn normalize_64(v: &mut [I64F64]) {
    let s = v
        .iter()
        .fold(I64F64::from_num(0), |a, &b| a.saturating_add(b));
    if s != I64F64::from_num(0) {
        v.iter_mut()
            .for_each(|x| *x = x.checked_div(s).unwrap_or(I64F64::from_num(0)));
    }
}

/// `I64F64 → I32F32`, discarding the extra fraction bits (floor).
pub fn to_fixed32(v: &[I64F64]) -> Vec<I32F32> {
    v.iter().map(|&x| I32F32::saturating_from_num(x)).collect()
}

/// True where `v` is non-zero and among the `k` largest. Ties are broken by a stable ascending
/// sort that switches off the first `n − k` entries, so among equal values the lower index loses.
pub fn is_topk_nonzero(v: &[I32F32], k: usize) -> Vec<bool> {
    let mut out: Vec<bool> = v.iter().map(|&x| x != ZERO).collect();
    if v.len() <= k {
        return out;
    }
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by_key(|&i| v[i]);
    for &i in &order[..v.len() - k] {
        out[i] = false;
    }
    out
}

/// Stake-weighted median of `score` over the indices `idx`: the score at which the stake below
/// it first exceeds `minority`, searched by partitioning around the middle element of `idx`
/// (deterministic). `lo` and `hi` are the stake bounds of the current partition.
pub fn weighted_median(
    stake: &[I32F32],
    score: &[I32F32],
    idx: &[usize],
    minority: I32F32,
    lo: I32F32,
    hi: I32F32,
) -> I32F32 {
    let (mut idx, mut lo, mut hi) = (idx.to_vec(), lo, hi);
    loop {
        match idx.len() {
            0 => return ZERO,
            1 => return score[idx[0]],
            _ => {}
        }
        let pivot = score[idx[idx.len() / 2]];
        let (mut lower, mut upper) = (Vec::new(), Vec::new());
        let (mut lo_stake, mut hi_stake) = (ZERO, ZERO);
        for &i in &idx {
            if score[i] < pivot {
                lo_stake = lo_stake.saturating_add(stake[i]);
                lower.push(i);
            } else if score[i] > pivot {
                hi_stake = hi_stake.saturating_add(stake[i]);
                upper.push(i);
            }
        }
        let below = lo.saturating_add(lo_stake);
        let above = hi.saturating_sub(hi_stake);
        if below <= minority && minority < above {
            return pivot;
        } else if minority < below && !lower.is_empty() {
            (idx, hi) = (lower, below);
        } else if above <= minority && !upper.is_empty() {
            (idx, lo) = (upper, above);
        } else {
            return pivot;
        }
    }
}

/// Per column, the stake-weighted median of the rows' scores (a missing entry scores 0). Only
/// rows with positive stake take part, with their stakes renormalized, and
/// `minority = Σ stake − majority`.
pub fn weighted_median_col_sparse(
    stake: &[I32F32],
    score: &SparseMatrix,
    columns: u16,
    majority: I32F32,
) -> Vec<I32F32> {
    let rows: Vec<usize> = (0..stake.len()).filter(|&i| stake[i] > ZERO).collect();
    let mut use_stake: Vec<I32F32> = rows.iter().map(|&i| stake[i]).collect();
    normalize(&mut use_stake);
    let total = sum(&use_stake);
    let minority = total.saturating_sub(majority);
    let all: Vec<usize> = (0..rows.len()).collect();
    let mut dense = vec![vec![ZERO; rows.len()]; usize::from(columns)];
    for (r, &i) in rows.iter().enumerate() {
        for &(j, v) in &score[i] {
            if let Some(col) = dense.get_mut(usize::from(j)) {
                col[r] = v;
            }
        }
    }
    dense
        .iter()
        .map(|col| weighted_median(&use_stake, col, &all, minority, ZERO, total))
        .collect()
}

/// Divides each row by its sum when the sum is positive.
pub fn row_normalize_sparse(m: &mut SparseMatrix) {
    for row in m.iter_mut() {
        let s = row.iter().fold(ZERO, |a, &(_, v)| a.saturating_add(v));
        if s > ZERO {
            row.iter_mut().for_each(|(_, v)| *v = safe_div(*v, s));
        }
    }
}

/// Divides each entry by its column's sum when that sum is non-zero.
pub fn col_normalize_sparse(m: &mut SparseMatrix, columns: u16) {
    let mut sums = vec![ZERO; usize::from(columns)];
    for row in m.iter() {
        for &(j, v) in row {
            sums[usize::from(j)] = sums[usize::from(j)].saturating_add(v);
        }
    }
    for row in m.iter_mut() {
        for (j, v) in row.iter_mut() {
            let s = sums[usize::from(*j)];
            if s != ZERO {
                *v = safe_div(*v, s);
            }
        }
    }
}

/// Divides each entry by its column's maximum when that maximum is non-zero.
pub fn col_max_upscale_sparse(m: &mut SparseMatrix, columns: u16) {
    let mut maxes = vec![ZERO; usize::from(columns)];
    for row in m.iter() {
        for &(j, v) in row {
            let c = &mut maxes[usize::from(j)];
            *c = (*c).max(v);
        }
    }
    for row in m.iter_mut() {
        for (j, v) in row.iter_mut() {
            let mx = maxes[usize::from(*j)];
            if mx != ZERO {
                *v = safe_div(*v, mx);
            }
        }
    }
}

/// Caps each entry at its column's threshold; entries of a column whose threshold is not
/// positive are removed.
pub fn col_clip_sparse(m: &SparseMatrix, threshold: &[I32F32]) -> SparseMatrix {
    m.iter()
        .map(|row| {
            row.iter()
                .filter_map(|&(j, v)| {
                    let t = threshold[usize::from(j)];
                    (t > ZERO).then_some((j, v.min(t)))
                })
                .collect()
        })
        .collect()
}

/// Row sums.
pub fn row_sum_sparse(m: &SparseMatrix) -> Vec<I32F32> {
    m.iter()
        .map(|row| row.iter().fold(ZERO, |a, &(_, v)| a.saturating_add(v)))
        .collect()
}

/// `out_j = Σ_i v_i · m_ij` (the matrix transposed times a vector).
pub fn matmul_sparse(m: &SparseMatrix, v: &[I32F32], columns: u16) -> Vec<I32F32> {
    let mut out = vec![ZERO; usize::from(columns)];
    for (row, &x) in m.iter().zip(v) {
        for &(j, w) in row {
            let o = &mut out[usize::from(j)];
            *o = o.saturating_add(w.saturating_mul(x));
        }
    }
    out
}

/// `out_i = Σ_j m_ij · v_j` (the matrix times a vector).
pub fn matvec_sparse(m: &SparseMatrix, v: &[I32F32]) -> Vec<I32F32> {
    m.iter()
        .map(|row| {
            row.iter().fold(ZERO, |a, &(j, w)| {
                a.saturating_add(w.saturating_mul(v[usize::from(j)]))
            })
        })
        .collect()
}

/// Scales row `i` by `v_i`, keeping zero products as entries.
pub fn row_hadamard_sparse(m: &SparseMatrix, v: &[I32F32]) -> SparseMatrix {
    m.iter()
        .zip(v)
        .map(|(row, &x)| row.iter().map(|&(j, w)| (j, w.saturating_mul(x))).collect())
        .collect()
}

/// `a + ratio·(b − a)`: `a` itself at ratio 0, `b` itself at ratio 1, otherwise computed per row
/// densely and only positive entries kept.
pub fn interpolate_sparse(
    a: &SparseMatrix,
    b: &SparseMatrix,
    columns: u16,
    ratio: I32F32,
) -> SparseMatrix {
    if ratio == ZERO {
        return a.clone();
    }
    if ratio == ONE {
        return b.clone();
    }
    a.iter()
        .zip(b)
        .map(|(ra, rb)| {
            let mut x = vec![ZERO; usize::from(columns)];
            let mut y = vec![ZERO; usize::from(columns)];
            ra.iter().for_each(|&(j, v)| x[usize::from(j)] = v);
            rb.iter().for_each(|&(j, v)| y[usize::from(j)] = v);
            (0..columns)
                .filter_map(|j| {
                    let (p, q) = (x[usize::from(j)], y[usize::from(j)]);
                    let v = p.saturating_add(ratio.saturating_mul(q.saturating_sub(p)));
                    (v > ZERO).then_some((j, v))
                })
                .collect()
        })
        .collect()
}

/// Exponential moving average `alpha·new + (1 − alpha)·old` over the union of entries, keeping
/// only positive results.
pub fn mat_ema_sparse(
    new: &SparseMatrix,
    old: &SparseMatrix,
    alpha: I32F32,
    columns: u16,
) -> SparseMatrix {
    let keep = ONE.saturating_sub(alpha);
    new.iter()
        .zip(old)
        .map(|(rn, ro)| {
            let mut acc = vec![ZERO; usize::from(columns)];
            for &(j, v) in rn {
                let a = &mut acc[usize::from(j)];
                *a = a.saturating_add(alpha.saturating_mul(v));
            }
            for &(j, v) in ro {
                let a = &mut acc[usize::from(j)];
                *a = a.saturating_add(keep.saturating_mul(v));
            }
            (0..columns)
                .filter(|&j| acc[usize::from(j)] > ZERO)
                .map(|j| (j, acc[usize::from(j)]))
                .collect()
        })
        .collect()
}

/// Element-wise `a / b` with `x / 0 = 0`.
pub fn vecdiv(a: &[I32F32], b: &[I32F32]) -> Vec<I32F32> {
    a.iter().zip(b).map(|(&x, &y)| safe_div(x, y)).collect()
}

/// Scales so the maximum becomes 65535, rounding to nearest (ties away from zero).
pub fn vec_max_upscale_to_u16(v: &[I32F32]) -> Vec<u16> {
    let Some(&max) = v.iter().max() else {
        return Vec::new();
    };
    if max == ZERO {
        return v.iter().map(|x| x.saturating_to_num::<u16>()).collect();
    }
    let threshold = I32F32::from_num(32768);
    v.iter()
        .map(|&x| {
            let scaled = if max > threshold {
                x.saturating_mul(safe_div(u16_max(), max))
            } else {
                safe_div(x.saturating_mul(u16_max()), max)
            };
            scaled.round().saturating_to_num::<u16>()
        })
        .collect()
}

/// Scales u16 weights so the largest becomes 65535, rounding half up (how `set_weights` stores
/// a weight vector).
pub fn u16_max_upscale(v: &[u16]) -> Vec<u16> {
    let max = u64::from(v.iter().copied().max().unwrap_or(0));
    if max == 0 {
        return v.to_vec();
    }
    v.iter()
        .map(|&x| ((2 * u64::from(x) * 65535 + max) / (2 * max)) as u16)
        .collect()
}
