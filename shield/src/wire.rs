//! The ciphertext's layout and its bounded parsing.

use thiserror::Error;

/// Length of the key hash that opens a ciphertext.
pub const KEY_HASH_LEN: usize = 16;
/// Length of the XChaCha20 nonce.
pub const NONCE_LEN: usize = 24;

/// Why a ciphertext yields no plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShieldError {
    /// Shorter than the 16-byte key hash.
    #[error("truncated key hash")]
    TruncatedKeyHash,
    /// No room for the KEM ciphertext's length.
    #[error("truncated KEM ciphertext length")]
    TruncatedKemLen,
    /// The KEM ciphertext's length runs past the end.
    #[error("KEM ciphertext length exceeds the ciphertext")]
    KemLenExceedsRemaining,
    /// No room for the 24-byte nonce.
    #[error("truncated nonce")]
    TruncatedNonce,
    /// Nothing after the nonce.
    #[error("no AEAD ciphertext")]
    MissingAead,
    /// Encrypted to another key than the author's.
    #[error("encrypted to another key")]
    WrongKey,
    /// The KEM ciphertext is not ML-KEM-768's 1088 bytes.
    #[error("KEM ciphertext of {0} bytes is not ML-KEM-768's")]
    BadKemCiphertext(usize),
    /// The encapsulation key is not ML-KEM-768's 1184 bytes.
    #[error("encapsulation key of {0} bytes is not ML-KEM-768's")]
    BadEncapsulationKey(usize),
    /// Authentication failed: not encrypted to this key, or tampered with.
    #[error("AEAD decryption failed")]
    Decrypt,
}

/// A ciphertext split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShieldedTransaction<'a> {
    /// `twox_128` of the encapsulation key it was made for.
    pub key_hash: [u8; KEY_HASH_LEN],
    /// The ML-KEM ciphertext.
    pub kem_ct: &'a [u8],
    /// The XChaCha20 nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The XChaCha20-Poly1305 ciphertext.
    pub aead_ct: &'a [u8],
}

impl<'a> ShieldedTransaction<'a> {
    /// Splits `ciphertext`; never panics.
    pub fn parse(ciphertext: &'a [u8]) -> Result<Self, ShieldError> {
        let (key_hash, rest) = ciphertext
            .split_first_chunk::<KEY_HASH_LEN>()
            .ok_or(ShieldError::TruncatedKeyHash)?;
        let (len, rest) = rest
            .split_first_chunk::<2>()
            .ok_or(ShieldError::TruncatedKemLen)?;
        let kem_len = usize::from(u16::from_le_bytes(*len));
        let (kem_ct, rest) = rest
            .split_at_checked(kem_len)
            .ok_or(ShieldError::KemLenExceedsRemaining)?;
        let (nonce, aead_ct) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(ShieldError::TruncatedNonce)?;
        if aead_ct.is_empty() {
            return Err(ShieldError::MissingAead);
        }
        Ok(Self {
            key_hash: *key_hash,
            kem_ct,
            nonce: *nonce,
            aead_ct,
        })
    }
}
