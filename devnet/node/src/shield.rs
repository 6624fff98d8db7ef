//! `MevShield` ciphertexts: the block author's side (parse, check the key hash, decrypt, decode
//! the inner extrinsic) and the client's (encrypt), as subtensor and Bittensor's SDK make them:
//!
//! `twox_128(encapsulation key) (16) || kem_ct_len (u16 LE) || kem_ct || nonce (24) || aead_ct`,
//!
//! where `kem_ct` is an ML-KEM-768 ciphertext and `aead_ct` the XChaCha20-Poly1305 encryption of
//! the plaintext under the encapsulated shared secret (no KDF, no associated data).

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use codec::{DecodeLimit, Encode};
use kiln_devnet_runtime::shield::{self, ShieldKeyPair};
use kiln_devnet_runtime::{RuntimeCall, UncheckedExtrinsic};
use ml_kem::kem::{Decapsulate, EncapsulationKey};
use ml_kem::{
    B32, Ciphertext, EncapsulateDeterministic, EncodedSizeUser, MlKem768, MlKem768Params,
};
use thiserror::Error;

const KEY_HASH_LEN: usize = 16;
const NONCE_LEN: usize = 24;
/// How deeply an extrinsic's calls may nest when decoded (subtensor's bound).
const MAX_EXTRINSIC_DEPTH: u32 = 8;

/// Why a ciphertext yields no inner extrinsic.
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
    /// The plaintext is not one canonically encoded extrinsic.
    #[error("the plaintext is not an extrinsic")]
    NotAnExtrinsic,
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

/// The plaintext of `ciphertext`, when it was made for `key`.
pub fn decrypt(key: &ShieldKeyPair, ciphertext: &[u8]) -> Result<Vec<u8>, ShieldError> {
    let tx = ShieldedTransaction::parse(ciphertext)?;
    if tx.key_hash != key.key_hash() {
        return Err(ShieldError::WrongKey);
    }
    let kem_ct = Ciphertext::<MlKem768>::try_from(tx.kem_ct)
        .map_err(|_| ShieldError::BadKemCiphertext(tx.kem_ct.len()))?;
    let secret = key
        .decapsulation_key()
        .decapsulate(&kem_ct)
        .map_err(|()| ShieldError::Decrypt)?;
    XChaCha20Poly1305::new(Key::from_slice(&secret))
        .decrypt(XNonce::from_slice(&tx.nonce), tx.aead_ct)
        .map_err(|_| ShieldError::Decrypt)
}

/// Encrypts `plaintext` to the ML-KEM-768 encapsulation key `enc_key` as Bittensor's SDK does
/// (`encrypt_mlkem768(.., include_key_hash=True)`), with the caller's randomness: `m` for the
/// encapsulation and the AEAD `nonce` (both must be fresh and random outside tests).
pub fn encrypt(
    enc_key: &[u8],
    plaintext: &[u8],
    m: [u8; 32],
    nonce: [u8; NONCE_LEN],
) -> Result<Vec<u8>, ShieldError> {
    let encoded = enc_key
        .try_into()
        .map_err(|_| ShieldError::BadEncapsulationKey(enc_key.len()))?;
    let ek = EncapsulationKey::<MlKem768Params>::from_bytes(encoded);
    let (kem_ct, secret) = ek
        .encapsulate_deterministic(&B32::from(m))
        .map_err(|()| ShieldError::BadEncapsulationKey(enc_key.len()))?;
    let aead_ct = XChaCha20Poly1305::new(Key::from_slice(&secret))
        .encrypt(XNonce::from_slice(&nonce), plaintext)
        .map_err(|_| ShieldError::Decrypt)?;
    let mut out = sp_io::hashing::twox_128(enc_key).to_vec();
    out.extend_from_slice(&(kem_ct.len() as u16).to_le_bytes());
    out.extend_from_slice(&kem_ct);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&aead_ct);
    Ok(out)
}

/// The carrier's `ciphertext` when `xt` is a `MevShield.submit_encrypted` extrinsic.
fn carried(xt: &[u8]) -> Option<Vec<u8>> {
    let xt =
        UncheckedExtrinsic::decode_all_with_depth_limit(MAX_EXTRINSIC_DEPTH, &mut &xt[..]).ok()?;
    match xt.function {
        RuntimeCall::MevShield(shield::Call::submit_encrypted { ciphertext }) => {
            Some(ciphertext.into_inner())
        }
        _ => None,
    }
}

/// The inner extrinsic's bytes when `xt` is a `MevShield.submit_encrypted` carrier (`None`
/// for any other extrinsic): decrypted with `key` and decoded as one canonically encoded
/// extrinsic, so it hashes as its signer computed.
pub fn unshield(key: &ShieldKeyPair, xt: &[u8]) -> Option<Result<Vec<u8>, ShieldError>> {
    let ciphertext = carried(xt)?;
    Some(decrypt(key, &ciphertext).and_then(|plain| {
        let inner =
            UncheckedExtrinsic::decode_all_with_depth_limit(MAX_EXTRINSIC_DEPTH, &mut &plain[..])
                .map_err(|_| ShieldError::NotAnExtrinsic)?;
        if inner.encode() == plain {
            Ok(plain)
        } else {
            Err(ShieldError::NotAnExtrinsic)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ShieldKeyPair {
        ShieldKeyPair::from_seed(b"shield test")
    }

    #[test]
    fn what_is_encrypted_to_the_key_decrypts() {
        let key = key();
        let plain = b"a signed extrinsic".to_vec();
        let ct = encrypt(&key.encapsulation_key(), &plain, [7; 32], [9; 24]).unwrap();
        let tx = ShieldedTransaction::parse(&ct).unwrap();
        assert_eq!(tx.key_hash, key.key_hash());
        assert_eq!(tx.kem_ct.len(), 1088);
        assert_eq!(tx.nonce, [9; 24]);
        assert_eq!(
            tx.aead_ct.len(),
            plain.len() + 16,
            "the Poly1305 tag follows"
        );
        assert_eq!(decrypt(&key, &ct).unwrap(), plain);
    }

    #[test]
    fn another_key_is_refused_by_its_hash() {
        let other = ShieldKeyPair::from_seed(b"another");
        let ct = encrypt(&other.encapsulation_key(), b"x", [1; 32], [2; 24]).unwrap();
        assert_eq!(decrypt(&key(), &ct), Err(ShieldError::WrongKey));
        assert_eq!(
            encrypt(&[0; 10], b"x", [1; 32], [2; 24]),
            Err(ShieldError::BadEncapsulationKey(10))
        );
    }

    #[test]
    fn tampering_fails_authentication() {
        let key = key();
        let mut ct = encrypt(&key.encapsulation_key(), b"hello", [3; 32], [4; 24]).unwrap();
        let last = ct.len() - 1;
        ct[last] ^= 1;
        assert_eq!(decrypt(&key, &ct), Err(ShieldError::Decrypt));
    }

    #[test]
    fn truncations_name_the_missing_part() {
        let hash = [0u8; 16];
        let with = |tail: &[u8]| [&hash[..], tail].concat();
        assert_eq!(
            ShieldedTransaction::parse(&[0; 15]),
            Err(ShieldError::TruncatedKeyHash)
        );
        assert_eq!(
            ShieldedTransaction::parse(&with(&[4])),
            Err(ShieldError::TruncatedKemLen)
        );
        assert_eq!(
            ShieldedTransaction::parse(&with(&[4, 0, 1, 2])),
            Err(ShieldError::KemLenExceedsRemaining)
        );
        assert_eq!(
            ShieldedTransaction::parse(&with(&[0, 0, 1, 2])),
            Err(ShieldError::TruncatedNonce)
        );
        assert_eq!(
            ShieldedTransaction::parse(&with(&[[0u8; 2].as_slice(), &[0; 24]].concat())),
            Err(ShieldError::MissingAead)
        );
        let short_kem = with(&[[4u8, 0].as_slice(), &[0; 4], &[0; 24], &[1]].concat());
        let key = key();
        let short_kem = [&key.key_hash()[..], &short_kem[16..]].concat();
        assert_eq!(
            decrypt(&key, &short_kem),
            Err(ShieldError::BadKemCiphertext(4))
        );
    }

    #[test]
    fn garbage_never_panics() {
        let key = key();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for len in 0..600 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            // Random bytes; behind the right key hash; and well formed around a random KEM
            // ciphertext (which decapsulates to a secret that fails authentication).
            assert!(decrypt(&key, &bytes).is_err());
            let keyed = [&key.key_hash()[..], &bytes].concat();
            assert!(decrypt(&key, &keyed).is_err());
            if bytes.len() > 24 {
                let kem = bytes.iter().cycle().take(1088).copied().collect::<Vec<_>>();
                let framed = [&key.key_hash()[..], &1088u16.to_le_bytes(), &kem, &bytes].concat();
                assert_eq!(decrypt(&key, &framed), Err(ShieldError::Decrypt));
            }
            assert!(unshield(&key, &bytes).is_none_or(|r| r.is_err()));
        }
    }
}
