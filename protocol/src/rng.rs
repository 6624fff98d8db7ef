//! A portable, fully specified random stream: blake3's extendable output under a key.
//!
//! Integers are read as little-endian u64 words from the stream; `below(n)` is Lemire's
//! multiply-shift with rejection, so it is exactly uniform. Any language with blake3 can
//! reproduce every draw.

/// Deterministic random stream from a 32-byte key.
pub struct StreamRng {
    reader: blake3::OutputReader,
    buf: [u8; 64],
    pos: usize,
}

impl StreamRng {
    /// The stream `blake3_keyed(key, "")` read as an XOF.
    pub fn new(key: &[u8; 32]) -> Self {
        let reader = blake3::Hasher::new_keyed(key).finalize_xof();
        Self {
            reader,
            buf: [0; 64],
            pos: 64,
        }
    }

    /// The next little-endian u64 word of the stream.
    pub fn next_u64(&mut self) -> u64 {
        if self.pos == 64 {
            self.reader.fill(&mut self.buf);
            self.pos = 0;
        }
        let v = u64::from_le_bytes(
            self.buf[self.pos..self.pos + 8]
                .try_into()
                .expect("8 bytes"),
        );
        self.pos += 8;
        v
    }

    /// Uniform in `0..n` (n ≥ 1).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// Uniform in `[0, 1)`: the top 53 bits of the next word, times 2^-53.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal by Box–Muller from two [`unit_f64`](Self::unit_f64) draws (the
    /// cosine branch only, so one draw consumes exactly two words).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit_f64(); // (0, 1]
        let u2 = self.unit_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut r = StreamRng::new(&[1; 32]);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[r.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut r = StreamRng::new(&[3; 32]);
        let xs: Vec<f64> = (0..100_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
        assert!(xs.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn same_key_same_stream() {
        let a: Vec<u64> = {
            let mut r = StreamRng::new(&[9; 32]);
            (0..20).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = StreamRng::new(&[9; 32]);
            (0..20).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = StreamRng::new(&[8; 32]);
            (0..20).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
