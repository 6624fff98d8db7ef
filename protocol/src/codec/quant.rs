//! 2-bit quantization with a per-tensor codebook of up to four centroids.
//!
//! Templar quantizes on a fixed grid over ±6σ of the centred values; on top-k values (two
//! lobes far from zero) only two of its four levels ever get used. kiln instead fits the
//! codebook to the kept values with Lloyd's algorithm (1-D k-means, the MSE-optimal scalar
//! quantizer's fixed point): centroids start at the 1/8, 3/8, 5/8 and 7/8 quantiles, then
//! alternate nearest-centroid assignment and mean update (sums in f64, in value order) until
//! nothing changes or [`LLOYD_ITERATIONS`] rounds pass. Empty levels and duplicates are
//! dropped, so the codebook is strictly increasing with 1 to 4 finite entries. A value's code
//! is its nearest centroid; a value exactly between two centroids takes the lower one.

use super::fit;

/// Upper bound on Lloyd rounds; a fixed bound keeps encoding time predictable.
pub const LLOYD_ITERATIONS: usize = 16;

/// Most entries a codebook may hold (2-bit codes).
pub const MAX_LEVELS: usize = 4;

/// A strictly increasing list of 1 to 4 finite reconstruction values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Codebook {
    levels: [f32; MAX_LEVELS],
    len: u8,
}

/// Why a list of floats is not a valid codebook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodebookProblem {
    /// Zero or more than four entries.
    Length,
    /// An entry is NaN or infinite.
    NonFinite,
    /// Entries are not strictly increasing.
    NotIncreasing,
}

impl Codebook {
    /// Builds a codebook, checking length, finiteness and strict increase.
    pub fn new(levels: &[f32]) -> Result<Self, CodebookProblem> {
        if levels.is_empty() || levels.len() > MAX_LEVELS {
            return Err(CodebookProblem::Length);
        }
        if levels.iter().any(|v| !v.is_finite()) {
            return Err(CodebookProblem::NonFinite);
        }
        if levels.windows(2).any(|w| w[0] >= w[1]) {
            return Err(CodebookProblem::NotIncreasing);
        }
        let mut out = [0.0; MAX_LEVELS];
        out[..levels.len()].copy_from_slice(levels);
        Ok(Self {
            levels: out,
            len: levels.len() as u8,
        })
    }

    /// The reconstruction values.
    pub fn levels(&self) -> &[f32] {
        &self.levels[..usize::from(self.len)]
    }

    /// Number of entries (1..=4).
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Always false: a codebook has at least one entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of `code`; the code must be < `len()`.
    #[inline]
    pub fn value(&self, code: u8) -> f32 {
        self.levels[usize::from(code)]
    }

    /// Fits a codebook to `values` (all finite). An empty input yields the codebook `[0]`.
    pub fn fit(values: &[f32]) -> Self {
        if values.is_empty() {
            return Self {
                levels: [0.0; MAX_LEVELS],
                len: 1,
            };
        }
        let (centroids, counts) = fit::lloyd(values);
        let mut levels = [0f32; MAX_LEVELS];
        let mut len = 0usize;
        for (c, n) in centroids.iter().zip(counts) {
            if let Some(c) = c
                && n > 0
                && (len == 0 || levels[len - 1] < *c)
            {
                levels[len] = *c;
                len += 1;
            }
        }
        // Lloyd keeps at least the bin holding the first value, and means of finite values
        // are finite, so the levels are a valid codebook.
        debug_assert!(Self::new(&levels[..len]).is_ok());
        Self {
            levels,
            len: len as u8,
        }
    }

    /// A [`Coder`] for this codebook.
    pub fn coder(&self) -> Coder {
        let l = self.levels();
        Coder {
            mids: std::array::from_fn(|i| match (l.get(i), l.get(i + 1)) {
                (Some(&a), Some(&b)) => (f64::from(a) + f64::from(b)) / 2.0,
                _ => f64::INFINITY,
            }),
        }
    }

    /// The code of `v`: its nearest level, ties to the lower level.
    #[inline]
    pub fn code_of(&self, v: f32) -> u8 {
        let l = self.levels();
        let mut code = 0u8;
        for i in 1..l.len() {
            // Midpoint in f64 so it cannot overflow or lose the tie rule.
            if f64::from(v) > (f64::from(l[i - 1]) + f64::from(l[i])) / 2.0 {
                code = i as u8;
            }
        }
        code
    }
}

/// Codes values against one codebook: [`Codebook::code_of`] with the midpoints computed once.
#[derive(Debug, Clone, Copy)]
pub struct Coder {
    /// Midpoints between neighbouring levels (f64), `+∞` past the last level. They are
    /// non-decreasing, so the levels below `v` form a prefix and the code is their count.
    mids: [f64; MAX_LEVELS - 1],
}

impl Coder {
    /// The code of `v`; equals [`Codebook::code_of`].
    #[inline]
    pub fn code(&self, v: f32) -> u8 {
        let v = f64::from(v);
        self.mids.iter().map(|&m| u8::from(v > m)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codebook_rules() {
        assert_eq!(Codebook::new(&[]), Err(CodebookProblem::Length));
        assert_eq!(Codebook::new(&[1.0; 5]), Err(CodebookProblem::Length));
        assert_eq!(
            Codebook::new(&[0.0, f32::NAN]),
            Err(CodebookProblem::NonFinite)
        );
        assert_eq!(
            Codebook::new(&[1.0, 1.0]),
            Err(CodebookProblem::NotIncreasing)
        );
        assert_eq!(Codebook::new(&[-1.0, 2.0]).unwrap().levels(), &[-1.0, 2.0]);
    }

    #[test]
    fn fit_degenerate_inputs() {
        assert_eq!(Codebook::fit(&[]).levels(), &[0.0]);
        assert_eq!(Codebook::fit(&[0.0; 10]).levels(), &[0.0]);
        assert_eq!(Codebook::fit(&[3.0, -3.0]).levels(), &[-3.0, 3.0]);
    }

    #[test]
    fn fit_uses_four_levels_on_two_lobes() {
        // Top-k values of a Gaussian: two lobes beyond ±2.
        let values: Vec<f32> = (0..400)
            .map(|i| {
                let m = 2.0 + (i % 100) as f32 / 50.0;
                if i % 2 == 0 { m } else { -m }
            })
            .collect();
        let cb = Codebook::fit(&values);
        assert_eq!(cb.len(), 4);
        let mse = |cb: &Codebook| {
            values
                .iter()
                .map(|&v| {
                    let d = f64::from(v - cb.value(cb.code_of(v)));
                    d * d
                })
                .sum::<f64>()
        };
        // The fitted codebook beats a fixed two-level sign quantizer by a wide margin.
        let two = Codebook::new(&[-3.0, 3.0]).unwrap();
        assert!(mse(&cb) < 0.5 * mse(&two), "{} vs {}", mse(&cb), mse(&two));
    }

    proptest! {
        #[test]
        fn fit_is_valid_and_codes_are_nearest(values in prop::collection::vec(-1e6f32..1e6, 0..200)) {
            let cb = Codebook::fit(&values);
            prop_assert!(Codebook::new(cb.levels()).is_ok());
            let coder = cb.coder();
            for &v in &values {
                let c = cb.code_of(v);
                prop_assert_eq!(coder.code(v), c);
                prop_assert!(usize::from(c) < cb.len());
                let d = (f64::from(v) - f64::from(cb.value(c))).abs();
                for &l in cb.levels() {
                    prop_assert!(d <= (f64::from(v) - f64::from(l)).abs());
                }
            }
        }
    }
}
