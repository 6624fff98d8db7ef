//! Exact top-k by magnitude inside one chunk.
//!
//! The order is total: larger `|x|` first, and among equal magnitudes the lower position
//! first. The result is therefore unique, independent of threads, and equal to the naive
//! "sort by (|x| desc, position asc), take k" rule. Selection uses a 1024-bin histogram of
//! the magnitude's top bits to find the boundary bin, then resolves only that bin exactly.

/// Reusable buffers for [`select`].
#[derive(Debug)]
pub(crate) struct Scratch {
    keys: Vec<u32>,
    hist: Vec<u16>,
    boundary: Vec<(u32, u16)>,
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            hist: vec![0; HIST_BINS],
            boundary: Vec::new(),
        }
    }
}

const HIST_BINS: usize = 1024;
const HIST_SHIFT: u32 = 21;
/// The magnitude bits of +∞; anything at or above is not finite.
const NON_FINITE: u32 = 0x7f80_0000;

/// Appends the ascending positions of the `k` largest-magnitude values of `chunk` to `out`.
/// `chunk.len()` must be ≤ 4096. Returns the position of the first non-finite value, if any.
pub(crate) fn select(
    chunk: &[f32],
    k: usize,
    s: &mut Scratch,
    out: &mut Vec<u16>,
) -> Result<(), usize> {
    let n = chunk.len();
    debug_assert!(n <= 4096 && k >= 1);
    if k >= n {
        if let Some(p) = chunk.iter().position(|v| !v.is_finite()) {
            return Err(p);
        }
        out.extend(0..n as u16);
        return Ok(());
    }
    s.keys.clear();
    s.hist.fill(0);
    for (i, v) in chunk.iter().enumerate() {
        let key = v.to_bits() & 0x7fff_ffff;
        if key >= NON_FINITE {
            return Err(i);
        }
        s.keys.push(key);
        s.hist[(key >> HIST_SHIFT) as usize] += 1;
    }
    // Walk down from the largest bin until the k-th value's bin is reached.
    let mut above = 0usize;
    let mut bin = HIST_BINS - 1;
    while above + usize::from(s.hist[bin]) < k {
        above += usize::from(s.hist[bin]);
        bin -= 1;
    }
    let need = k - above;
    s.boundary.clear();
    s.boundary.extend(
        s.keys
            .iter()
            .enumerate()
            .filter(|(_, key)| (**key >> HIST_SHIFT) as usize == bin)
            .map(|(i, &key)| (key, i as u16)),
    );
    // The `need`-th element of the boundary bin in (key desc, position asc) order is the cut.
    let (_, cut, _) = s
        .boundary
        .select_nth_unstable_by(need - 1, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let (cut_key, cut_pos) = *cut;
    out.extend(
        s.keys
            .iter()
            .enumerate()
            .filter(|&(i, &key)| key > cut_key || (key == cut_key && i as u16 <= cut_pos))
            .map(|(i, _)| i as u16),
    );
    Ok(())
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

    #[test]
    fn ties_prefer_lower_positions() {
        let chunk = [1.0, -2.0, 2.0, 0.5, -2.0, 2.0];
        let mut out = Vec::new();
        select(&chunk, 2, &mut Scratch::default(), &mut out).unwrap();
        assert_eq!(out, vec![1, 2]);
        out.clear();
        select(&chunk, 4, &mut Scratch::default(), &mut out).unwrap();
        assert_eq!(out, vec![1, 2, 4, 5]);
    }

    #[test]
    fn rejects_non_finite() {
        let mut out = Vec::new();
        assert_eq!(
            select(&[1.0, f32::NAN, 0.0], 1, &mut Scratch::default(), &mut out),
            Err(1)
        );
        assert_eq!(
            select(&[f32::INFINITY, 0.0], 5, &mut Scratch::default(), &mut out),
            Err(0)
        );
    }

    proptest! {
        #[test]
        fn matches_naive(
            chunk in prop::collection::vec(
                prop_oneof![-1e3f32..1e3, Just(0.0f32), Just(-0.0f32), Just(1.5f32), Just(-1.5f32)], 1..300),
            k in 1usize..320,
        ) {
            let mut out = Vec::new();
            let mut s = Scratch::default();
            select(&chunk, k, &mut s, &mut out).unwrap();
            prop_assert_eq!(out.len(), k.min(chunk.len()));
            prop_assert_eq!(out, naive(&chunk, k));
        }
    }
}
