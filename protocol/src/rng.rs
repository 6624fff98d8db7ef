//! A portable, fully specified random stream: blake3's extendable output under a key.
//!
//! Integers are read as little-endian u64 words from the stream; `below(n)` is Lemire's
//! multiply-shift with rejection, so it is exactly uniform. Any language with blake3 can
//! reproduce every draw.

/// Deterministic random stream from a 32-byte key.
pub(crate) struct StreamRng {
    reader: blake3::OutputReader,
    buf: [u8; 64],
    pos: usize,
}

impl StreamRng {
    /// The stream `blake3_keyed(key, "")` read as an XOF.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        let reader = blake3::Hasher::new_keyed(key).finalize_xof();
        Self {
            reader,
            buf: [0; 64],
            pos: 64,
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
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
    pub(crate) fn below(&mut self, n: u64) -> u64 {
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
