//! LSB-first bit packing used by the index and value sections.

/// Appends bit fields to a byte vector, least significant bit first.
#[derive(Debug, Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    filled: u32,
}

impl BitWriter {
    pub(crate) fn with_capacity_bits(bits: u64) -> Self {
        Self {
            bytes: Vec::with_capacity(bits.div_ceil(8) as usize),
            acc: 0,
            filled: 0,
        }
    }

    /// Writes the low `n` bits of `v` (n ≤ 32).
    #[inline]
    pub(crate) fn write(&mut self, v: u32, n: u32) {
        debug_assert!(n <= 32 && (n == 32 || v >> n == 0));
        self.acc |= u64::from(v) << self.filled;
        self.filled += n;
        if self.filled >= 32 {
            self.bytes
                .extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.filled -= 32;
        }
    }

    /// Writes `n` zero bits.
    pub(crate) fn zeros(&mut self, mut n: usize) {
        while n > 0 {
            let m = n.min(32);
            self.write(0, m as u32);
            n -= m;
        }
    }

    /// Pads the last byte with zero bits and returns the bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let tail = self.filled.div_ceil(8) as usize;
        self.bytes
            .extend_from_slice(&self.acc.to_le_bytes()[..tail]);
        self.bytes
    }
}

/// Reads bit fields written by [`BitWriter`] from a slice whose length the caller checked.
#[derive(Debug)]
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    pos: u64,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Reads `n` bits (n ≤ 32), or `None` past the end.
    #[cfg(test)]
    pub(crate) fn read(&mut self, n: u32) -> Option<u32> {
        if n == 0 {
            return Some(0);
        }
        let end = self.pos + u64::from(n);
        if end > self.bytes.len() as u64 * 8 {
            return None;
        }
        let mut v: u64 = 0;
        let first = (self.pos / 8) as usize;
        let last = ((end - 1) / 8) as usize;
        for (i, b) in self.bytes[first..=last].iter().enumerate() {
            v |= u64::from(*b) << (8 * i);
        }
        let v = (v >> (self.pos % 8)) & ((1u64 << n) - 1);
        self.pos = end;
        Some(v as u32)
    }

    /// Reads one bit.
    #[cfg(test)]
    pub(crate) fn bit(&mut self) -> Option<bool> {
        let byte = *self.bytes.get((self.pos / 8) as usize)?;
        let b = (byte >> (self.pos % 8)) & 1 == 1;
        self.pos += 1;
        Some(b)
    }

    /// Bits consumed so far.
    #[cfg(test)]
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// The whole input.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Moves `n` bits on.
    pub(crate) fn skip(&mut self, n: u64) {
        self.pos += n;
    }

    /// Whether every bit after the current position is zero.
    pub(crate) fn rest_is_zero(&self) -> bool {
        let byte = (self.pos / 8) as usize;
        let partial_ok = match self.bytes.get(byte) {
            Some(b) if !self.pos.is_multiple_of(8) => b >> (self.pos % 8) == 0,
            _ => true,
        };
        let tail_from = if !self.pos.is_multiple_of(8) {
            byte + 1
        } else {
            byte
        };
        partial_ok
            && self
                .bytes
                .get(tail_from..)
                .is_none_or(|t| t.iter().all(|&b| b == 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(fields in prop::collection::vec((any::<u32>(), 0u32..=32), 0..100)) {
            let mut w = BitWriter::default();
            let masked: Vec<(u32, u32)> = fields.iter().map(|&(v, n)| {
                (if n == 32 { v } else { v & ((1u32 << n) - 1) }, n)
            }).collect();
            for &(v, n) in &masked {
                w.write(v, n);
            }
            let total: u64 = masked.iter().map(|&(_, n)| u64::from(n)).sum();
            let bytes = w.finish();
            prop_assert_eq!(bytes.len() as u64, total.div_ceil(8));
            let mut r = BitReader::new(&bytes);
            for &(v, n) in &masked {
                prop_assert_eq!(r.read(n), Some(v));
            }
            prop_assert!(r.rest_is_zero());
            prop_assert_eq!(r.position(), total);
        }
    }

    #[test]
    fn reads_past_end_fail() {
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.read(7), Some(0x7f));
        assert!(!r.rest_is_zero());
        assert_eq!(r.read(2), None);
        assert_eq!(r.bit(), Some(true));
        assert_eq!(r.bit(), None);
    }
}
