//! Decryption (the author's side) and encryption (the client's).

use crate::key::ShieldKeyPair;
use crate::wire::{NONCE_LEN, ShieldError, ShieldedTransaction};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use ml_kem::kem::{Decapsulate, EncapsulationKey};
use ml_kem::{
    B32, Ciphertext, EncapsulateDeterministic, EncodedSizeUser, MlKem768, MlKem768Params,
};
use sp_crypto_hashing::twox_128;

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
    let mut out = twox_128(enc_key).to_vec();
    out.extend_from_slice(&(kem_ct.len() as u16).to_le_bytes());
    out.extend_from_slice(&kem_ct);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&aead_ct);
    Ok(out)
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
        }
    }
}
