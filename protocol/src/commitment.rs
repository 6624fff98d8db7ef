//! The commitment format v1: what a miner (for its artifact) or a validator (for its
//! aggregation manifest) writes into the Commitments pallet's `Raw` field.
//!
//! ```text
//! magic "kiln" (4) | version u8 = 1 | kind u8 | window u64 | blake3 [32] | byte length u64
//! | locator length u8 (1..=64) | locator (ASCII: A-Z a-z 0-9 . _ ~ : / -)
//! ```
//!
//! Integers are little-endian. At most 119 bytes, inside the pallet's 128-byte `Raw` limit.
//! The parser accepts exactly this layout: no truncation, no trailing bytes.

use crate::Digest;
use thiserror::Error;

/// The 4 magic bytes of a kiln commitment.
pub const MAGIC: [u8; 4] = *b"kiln";
/// The commitment format version this crate writes and reads.
pub const VERSION: u8 = 1;
/// Longest storage locator.
pub const MAX_LOCATOR_LEN: usize = 64;
/// Bytes before the locator.
const FIXED_LEN: usize = 4 + 1 + 1 + 8 + 32 + 8 + 1;
/// Longest encoded commitment.
pub const MAX_LEN: usize = FIXED_LEN + MAX_LOCATOR_LEN;
/// The Commitments pallet's `Raw` field limit.
pub const RAW_LIMIT: usize = 128;

const _: () = assert!(MAX_LEN <= RAW_LIMIT);

/// What the committed bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitmentKind {
    /// A miner's artifact for the window.
    Artifact = 1,
    /// A validator's aggregation manifest for the window.
    Manifest = 2,
}

/// A parsed commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    /// Artifact or manifest.
    pub kind: CommitmentKind,
    /// The window the bytes belong to.
    pub window: u64,
    /// blake3 of the bytes.
    pub digest: Digest,
    /// Length of the bytes.
    pub byte_len: u64,
    /// Where to fetch the bytes (a storage endpoint id); authenticity comes from `digest`.
    pub locator: String,
}

/// Why bytes are not a valid commitment (or a commitment cannot be encoded).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CommitmentError {
    /// Longer than the format allows.
    #[error("commitment is {0} bytes, more than {MAX_LEN}")]
    TooLong(usize),
    /// Shorter than the fields it declares.
    #[error("commitment truncated: {needed} bytes needed, {got} present")]
    Truncated {
        /// Bytes the layout needs.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// Not a kiln commitment.
    #[error("not a kiln commitment (bad magic)")]
    BadMagic,
    /// Unknown format version.
    #[error("unsupported commitment version {0}")]
    UnsupportedVersion(u8),
    /// Unknown kind byte.
    #[error("unknown commitment kind {0}")]
    UnknownKind(u8),
    /// A zero byte length commits to nothing.
    #[error("byte length is zero")]
    ZeroLength,
    /// The locator is empty.
    #[error("empty storage locator")]
    EmptyLocator,
    /// The locator is longer than 64 bytes.
    #[error("storage locator is {0} bytes, more than {MAX_LOCATOR_LEN}")]
    LocatorTooLong(usize),
    /// The locator has a byte outside its alphabet.
    #[error("storage locator byte {byte:#04x} at {pos} is not allowed")]
    LocatorChar {
        /// Position within the locator.
        pos: usize,
        /// The byte.
        byte: u8,
    },
    /// Bytes follow the locator.
    #[error("{0} trailing bytes")]
    TrailingBytes(usize),
}

fn locator_byte_ok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b".-_~:/".contains(&b)
}

fn check_locator(l: &[u8]) -> Result<(), CommitmentError> {
    if l.is_empty() {
        return Err(CommitmentError::EmptyLocator);
    }
    if l.len() > MAX_LOCATOR_LEN {
        return Err(CommitmentError::LocatorTooLong(l.len()));
    }
    match l.iter().position(|&b| !locator_byte_ok(b)) {
        Some(pos) => Err(CommitmentError::LocatorChar { pos, byte: l[pos] }),
        None => Ok(()),
    }
}

impl Commitment {
    /// Encodes, checking the locator and the byte length.
    pub fn encode(&self) -> Result<Vec<u8>, CommitmentError> {
        check_locator(self.locator.as_bytes())?;
        if self.byte_len == 0 {
            return Err(CommitmentError::ZeroLength);
        }
        let mut out = Vec::with_capacity(FIXED_LEN + self.locator.len());
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(self.kind as u8);
        out.extend_from_slice(&self.window.to_le_bytes());
        out.extend_from_slice(&self.digest);
        out.extend_from_slice(&self.byte_len.to_le_bytes());
        out.push(self.locator.len() as u8);
        out.extend_from_slice(self.locator.as_bytes());
        Ok(out)
    }

    /// Parses exactly one commitment from `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, CommitmentError> {
        if bytes.len() > MAX_LEN {
            return Err(CommitmentError::TooLong(bytes.len()));
        }
        if bytes.len() < 4 || bytes[..4] != MAGIC {
            return Err(if bytes.len() < 4 && MAGIC.starts_with(bytes) {
                CommitmentError::Truncated {
                    needed: FIXED_LEN,
                    got: bytes.len(),
                }
            } else {
                CommitmentError::BadMagic
            });
        }
        if bytes.len() < 5 {
            return Err(CommitmentError::Truncated {
                needed: FIXED_LEN,
                got: bytes.len(),
            });
        }
        if bytes[4] != VERSION {
            return Err(CommitmentError::UnsupportedVersion(bytes[4]));
        }
        if bytes.len() < FIXED_LEN {
            return Err(CommitmentError::Truncated {
                needed: FIXED_LEN,
                got: bytes.len(),
            });
        }
        let kind = match bytes[5] {
            1 => CommitmentKind::Artifact,
            2 => CommitmentKind::Manifest,
            k => return Err(CommitmentError::UnknownKind(k)),
        };
        let window = u64::from_le_bytes(bytes[6..14].try_into().expect("8 bytes"));
        let digest: Digest = bytes[14..46].try_into().expect("32 bytes");
        let byte_len = u64::from_le_bytes(bytes[46..54].try_into().expect("8 bytes"));
        if byte_len == 0 {
            return Err(CommitmentError::ZeroLength);
        }
        let loc_len = usize::from(bytes[54]);
        let rest = &bytes[FIXED_LEN..];
        if loc_len == 0 {
            return Err(CommitmentError::EmptyLocator);
        }
        if loc_len > MAX_LOCATOR_LEN {
            return Err(CommitmentError::LocatorTooLong(loc_len));
        }
        if rest.len() < loc_len {
            return Err(CommitmentError::Truncated {
                needed: FIXED_LEN + loc_len,
                got: bytes.len(),
            });
        }
        if rest.len() > loc_len {
            return Err(CommitmentError::TrailingBytes(rest.len() - loc_len));
        }
        check_locator(rest)?;
        let locator = rest.iter().map(|&b| char::from(b)).collect();
        Ok(Self {
            kind,
            window,
            digest,
            byte_len,
            locator,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Commitment {
        Commitment {
            kind: CommitmentKind::Artifact,
            window: 123_456,
            digest: [7; 32],
            byte_len: 334_000,
            locator: "s3:kiln-artifacts".into(),
        }
    }

    #[test]
    fn round_trip_and_fits_raw_field() {
        let c = sample();
        let bytes = c.encode().unwrap();
        assert_eq!(bytes.len(), FIXED_LEN + c.locator.len());
        assert_eq!(Commitment::parse(&bytes).unwrap(), c);
        let long = Commitment {
            locator: "a".repeat(64),
            kind: CommitmentKind::Manifest,
            ..c
        };
        let bytes = long.encode().unwrap();
        assert_eq!(bytes.len(), MAX_LEN);
        assert!(bytes.len() <= RAW_LIMIT);
        assert_eq!(Commitment::parse(&bytes).unwrap(), long);
    }

    #[test]
    fn every_error_class() {
        let good = sample().encode().unwrap();
        let with = |i: usize, b: u8| {
            let mut v = good.clone();
            v[i] = b;
            v
        };
        use CommitmentError as E;
        assert_eq!(Commitment::parse(&[0; 129]), Err(E::TooLong(129)));
        assert!(matches!(
            Commitment::parse(&good[..30]),
            Err(E::Truncated { .. })
        ));
        assert!(matches!(
            Commitment::parse(&good[..good.len() - 1]),
            Err(E::Truncated { .. })
        ));
        assert!(matches!(Commitment::parse(b"ki"), Err(E::Truncated { .. })));
        assert_eq!(Commitment::parse(&with(0, b'K')), Err(E::BadMagic));
        assert_eq!(
            Commitment::parse(&with(4, 2)),
            Err(E::UnsupportedVersion(2))
        );
        assert_eq!(Commitment::parse(&with(5, 9)), Err(E::UnknownKind(9)));
        let mut zero = good.clone();
        zero[46..54].fill(0);
        assert_eq!(Commitment::parse(&zero), Err(E::ZeroLength));
        assert_eq!(Commitment::parse(&with(54, 0)), Err(E::EmptyLocator));
        assert_eq!(Commitment::parse(&with(54, 65)), Err(E::LocatorTooLong(65)));
        assert_eq!(
            Commitment::parse(&with(56, b' ')),
            Err(E::LocatorChar { pos: 1, byte: b' ' })
        );
        let mut long = good.clone();
        long.push(b'x');
        assert_eq!(Commitment::parse(&long), Err(E::TrailingBytes(1)));
        let bad = Commitment {
            locator: "no spaces".into(),
            ..sample()
        };
        assert!(matches!(bad.encode(), Err(E::LocatorChar { .. })));
    }
}
