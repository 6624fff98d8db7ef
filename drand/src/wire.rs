//! The ciphertext bytes subtensor's runtime and Bittensor's `bittensor-drand` exchange: an
//! arkworks-compressed `TLECiphertext<TinyBLS381>` of the `tle` revision subtensor pins, where
//! the IBE header's two 32-byte fields are length-prefixed vectors.
//!
//! ```text
//! u            96 bytes   compressed G2 point (r·P)
//! v            u64 LE 32, 32 bytes
//! w            u64 LE 32, 32 bytes
//! body         u64 LE n,  n bytes = { ciphertext: u64 LE m, m bytes; nonce: u64 LE 12, 12 bytes }
//! cipher_suite u64 LE 8,  "AES_GCM_"
//! ```
//!
//! Parsing checks every length against the bytes actually present before anything is
//! allocated, so hostile input costs at most its own size.

use thiserror::Error;

/// The cipher suite tag subtensor's ciphertexts carry.
pub const CIPHER_SUITE: &[u8; 8] = b"AES_GCM_";
/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// Compressed G2 point length.
pub const U_LEN: usize = 96;

/// A parsed ciphertext (borrowing from the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire<'a> {
    /// `r·P`, compressed G2.
    pub u: &'a [u8; U_LEN],
    /// `sigma ⊕ H2(e(P_pub, H(id))^r)`.
    pub v: &'a [u8; 32],
    /// `key ⊕ H4(sigma)`.
    pub w: &'a [u8; 32],
    /// The body as serialized (the two fields below).
    pub body: &'a [u8],
    /// AES-256-GCM ciphertext with its tag.
    pub aes_ciphertext: &'a [u8],
    /// AES-GCM nonce.
    pub nonce: &'a [u8; NONCE_LEN],
}

/// Why bytes are not a ciphertext in this format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The input ends inside a field.
    #[error("truncated at {field}")]
    Truncated {
        /// The field.
        field: &'static str,
    },
    /// A length prefix has a value the format does not allow.
    #[error("{field} has length {len}, expected {expected}")]
    Length {
        /// The field.
        field: &'static str,
        /// Its declared length.
        len: u64,
        /// What the format requires.
        expected: &'static str,
    },
    /// A cipher suite other than AES-GCM.
    #[error("unknown cipher suite")]
    CipherSuite,
    /// Bytes after the last field.
    #[error("{0} trailing bytes")]
    Trailing(usize),
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError::Truncated { field });
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn len(&mut self, field: &'static str) -> Result<u64, WireError> {
        let b = self.take(8, field)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// A `u64 LE`-prefixed vector of exactly `n` bytes.
    fn exact<const N: usize>(&mut self, field: &'static str) -> Result<&'a [u8; N], WireError> {
        let len = self.len(field)?;
        if len != N as u64 {
            return Err(WireError::Length {
                field,
                len,
                expected: match N {
                    32 => "32",
                    12 => "12",
                    8 => "8",
                    _ => "a fixed size",
                },
            });
        }
        Ok(self.take(N, field)?.try_into().expect("N bytes"))
    }

    /// A `u64 LE`-prefixed vector no longer than what is left.
    fn vec(&mut self, field: &'static str) -> Result<&'a [u8], WireError> {
        let len = self.len(field)?;
        let n = usize::try_from(len)
            .ok()
            .filter(|n| *n <= self.0.len())
            .ok_or(WireError::Truncated { field })?;
        self.take(n, field)
    }
}

/// Parses `bytes` without allocating.
pub fn parse(bytes: &[u8]) -> Result<Wire<'_>, WireError> {
    let mut r = Reader(bytes);
    let u = r.take(U_LEN, "u")?.try_into().expect("96 bytes");
    let v = r.exact::<32>("v")?;
    let w = r.exact::<32>("w")?;
    let body = r.vec("body")?;
    let suite = r.exact::<8>("cipher_suite")?;
    if suite != CIPHER_SUITE {
        return Err(WireError::CipherSuite);
    }
    if !r.0.is_empty() {
        return Err(WireError::Trailing(r.0.len()));
    }
    let mut b = Reader(body);
    let aes_ciphertext = b.vec("body.ciphertext")?;
    let nonce = b.exact::<NONCE_LEN>("body.nonce")?;
    if !b.0.is_empty() {
        return Err(WireError::Trailing(b.0.len()));
    }
    Ok(Wire {
        u,
        v,
        w,
        body,
        aes_ciphertext,
        nonce,
    })
}

/// Serializes a ciphertext in this format; `body` is the serialized AES output.
pub fn write(u: &[u8; U_LEN], v: &[u8; 32], w: &[u8; 32], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(U_LEN + 2 * 40 + 8 + body.len() + 16);
    let vec = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
        out.extend_from_slice(b);
    };
    out.extend_from_slice(u);
    vec(&mut out, v);
    vec(&mut out, w);
    vec(&mut out, body);
    vec(&mut out, CIPHER_SUITE);
    out
}
