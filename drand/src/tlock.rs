//! Timelock encryption to a beacon round with the `timelock` crate (Boneh–Franklin IBE to the
//! identity `sha256(round)` carrying an AES-256-GCM key), in the bytes subtensor's runtime
//! decrypts ([`crate::wire`]).

use crate::pulse::round_message;
use crate::wire::{self, U_LEN, WireError};
use ark_bls12_381::G2Affine;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand_core::{CryptoRng, RngCore};
use thiserror::Error;
use timelock::block_ciphers::AESGCMBlockCipherProvider;
use timelock::engines::EngineBLS;
use timelock::engines::drand::TinyBLS381;
use timelock::ibe::fullident::{Ciphertext, Identity};
use timelock::tlock::{TLECiphertext, tld, tle};

/// The largest ciphertext [`decrypt`] reads (subtensor's `MAX_CRV3_COMMIT_SIZE_BYTES`).
pub const MAX_CIPHERTEXT_LEN: usize = 5_000;

/// Why a plaintext could not be encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncryptError {
    /// The public key is not a compressed G2 point.
    #[error("the beacon public key is not a compressed BLS12-381 G2 point ({len} bytes)")]
    PublicKey {
        /// Its length.
        len: usize,
    },
    /// The cipher refused the message.
    #[error("the message could not be encrypted")]
    Cipher,
}

/// Why a ciphertext could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecryptError {
    /// Longer than [`MAX_CIPHERTEXT_LEN`].
    #[error("ciphertext of {len} bytes exceeds {MAX_CIPHERTEXT_LEN}")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Not a ciphertext in subtensor's format.
    #[error("not a timelock ciphertext: {0}")]
    Malformed(#[from] WireError),
    /// `u` is not a compressed G2 point.
    #[error("not a timelock ciphertext: u is not a G2 point")]
    Point,
    /// The signature is not a compressed G1 point.
    #[error("the round signature is not a compressed BLS12-381 G1 point")]
    Signature,
    /// The signature does not open this ciphertext (another round or another beacon).
    #[error("the signature does not open this ciphertext")]
    WrongRound,
    /// The header opened but the body did not authenticate.
    #[error("the ciphertext body does not authenticate")]
    Body,
}

/// Encrypts `plaintext` so that it opens with the signature of `round` by the beacon whose
/// public key is `public_key` (96 bytes, compressed G2).
pub fn encrypt<R: RngCore + CryptoRng>(
    public_key: &[u8],
    round: u64,
    plaintext: &[u8],
    mut rng: R,
) -> Result<Vec<u8>, EncryptError> {
    let pk = G2Affine::deserialize_compressed(public_key).map_err(|_| EncryptError::PublicKey {
        len: public_key.len(),
    })?;
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    let identity = Identity::new(b"", &round_message(round));
    let ct = tle::<TinyBLS381, AESGCMBlockCipherProvider, _>(
        pk.into(),
        key,
        plaintext,
        identity,
        &mut rng,
    )
    .map_err(|_| EncryptError::Cipher)?;
    let mut u = [0u8; U_LEN];
    ct.header
        .u
        .serialize_compressed(&mut u[..])
        .map_err(|_| EncryptError::Cipher)?;
    Ok(wire::write(&u, &ct.header.v, &ct.header.w, &ct.body))
}

/// Decrypts a ciphertext with the signature of the round it was made for (48 bytes,
/// compressed G1; a `0x` prefix is ignored, as subtensor's runtime does).
pub fn decrypt(ciphertext: &[u8], signature: &[u8]) -> Result<Vec<u8>, DecryptError> {
    if ciphertext.len() > MAX_CIPHERTEXT_LEN {
        return Err(DecryptError::TooLong {
            len: ciphertext.len(),
        });
    }
    let signature = signature.strip_prefix(b"0x").unwrap_or(signature);
    // Every length is checked here, so the crate's own parsing below reads bounded input.
    let parsed = wire::parse(ciphertext)?;
    let u = <TinyBLS381 as EngineBLS>::PublicKeyGroup::deserialize_compressed(&parsed.u[..])
        .map_err(|_| DecryptError::Point)?;
    let ct = TLECiphertext::<TinyBLS381> {
        header: Ciphertext {
            u,
            v: *parsed.v,
            w: *parsed.w,
        },
        body: parsed.body.to_vec(),
        cipher_suite: wire::CIPHER_SUITE.to_vec(),
    };
    let sig = <TinyBLS381 as EngineBLS>::SignatureGroup::deserialize_compressed(signature)
        .map_err(|_| DecryptError::Signature)?;
    tld::<TinyBLS381, AESGCMBlockCipherProvider>(ct, sig).map_err(|e| match e {
        timelock::tlock::Error::InvalidSignature | timelock::tlock::Error::InvalidSecretKey => {
            DecryptError::WrongRound
        }
        _ => DecryptError::Body,
    })
}
