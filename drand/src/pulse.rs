//! Pulses in drand quicknet's scheme: unchained rounds, signatures in G1 (48 bytes compressed),
//! public keys in G2 (96 bytes compressed), messages `sha256(round as u64 big-endian)` hashed to
//! G1 with RFC 9380's `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`.

use ark_bls12_381::{Bls12_381, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::PrimeField;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use sha2::{Digest, Sha256};
use thiserror::Error;
use timelock::engines::EngineBLS;
use timelock::engines::drand::TinyBLS381;

/// Length of a compressed G1 signature.
pub const SIGNATURE_LEN: usize = 48;
/// Length of a compressed G2 public key.
pub const PUBLIC_KEY_LEN: usize = 96;

/// Why a pulse does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PulseError {
    /// The public key is not a compressed G2 point.
    #[error("the beacon public key is not a compressed BLS12-381 G2 point ({len} bytes)")]
    PublicKey {
        /// Its length.
        len: usize,
    },
    /// The signature is not a compressed G1 point.
    #[error("the pulse signature is not a compressed BLS12-381 G1 point ({len} bytes)")]
    Signature {
        /// Its length.
        len: usize,
    },
    /// Well-formed, but not the beacon's signature of this round.
    #[error("round {round}: the signature is not the beacon's")]
    Forged {
        /// The round.
        round: u64,
    },
}

/// The message a beacon signs for `round`: `sha256(round as u64 big-endian)`.
pub fn round_message(round: u64) -> [u8; 32] {
    Sha256::digest(round.to_be_bytes()).into()
}

/// `H(sha256(round))` in G1, the point a round's signature is a multiple of.
fn round_point(round: u64) -> Result<G1Projective, PulseError> {
    use ark_ec::hashing::HashToCurve;
    let hasher = <TinyBLS381 as EngineBLS>::hash_to_curve_map();
    // Hashing 32 bytes to G1 cannot fail for this map; a failure reads as a forged pulse.
    hasher
        .hash(&round_message(round))
        .map(Into::into)
        .map_err(|_| PulseError::Forged { round })
}

/// The randomness of a pulse: `sha256(signature)`, as drand publishes it.
pub fn randomness(signature: &[u8]) -> [u8; 32] {
    Sha256::digest(signature).into()
}

/// Checks that `signature` is the beacon's signature of `round`: `e(sig, g2) == e(H(m), pk)`.
/// A `0x` prefix on the signature is ignored, as subtensor's runtime does.
pub fn verify_pulse(public_key: &[u8], round: u64, signature: &[u8]) -> Result<(), PulseError> {
    let signature = signature.strip_prefix(b"0x").unwrap_or(signature);
    let pk = G2Affine::deserialize_compressed(public_key).map_err(|_| PulseError::PublicKey {
        len: public_key.len(),
    })?;
    let sig = G1Affine::deserialize_compressed(signature).map_err(|_| PulseError::Signature {
        len: signature.len(),
    })?;
    let h = round_point(round)?.into_affine();
    let lhs = Bls12_381::pairing(sig, G2Affine::generator());
    let rhs = Bls12_381::pairing(h, pk);
    if lhs == rhs {
        Ok(())
    } else {
        Err(PulseError::Forged { round })
    }
}

/// A beacon's signing key: signs rounds the way drand quicknet does. The devnet runs one,
/// derived from a seed, so an offline chain gets pulses.
#[derive(Clone)]
pub struct Beacon {
    secret: Fr,
}

impl std::fmt::Debug for Beacon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Beacon")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl Beacon {
    /// The beacon whose secret scalar is derived from `seed` (sha256 of a domain tag and the
    /// seed, reduced mod r); the same seed gives the same key.
    pub fn from_seed(seed: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"kiln-drand-beacon-v1");
        h.update(seed);
        let mut secret = Fr::from_be_bytes_mod_order(&h.finalize());
        if secret == Fr::from(0u64) {
            secret = Fr::from(1u64);
        }
        Self { secret }
    }

    /// The public key: `sk · g2`, compressed (96 bytes).
    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        let pk = (G2Projective::generator() * self.secret).into_affine();
        let mut out = [0u8; PUBLIC_KEY_LEN];
        pk.serialize_compressed(&mut out[..])
            .expect("a G2 point compresses to 96 bytes");
        out
    }

    /// The signature of `round`: `sk · H(sha256(round))`, compressed (48 bytes).
    pub fn sign(&self, round: u64) -> [u8; SIGNATURE_LEN] {
        let point = round_point(round).expect("hashing to G1 does not fail");
        let sig = (point * self.secret).into_affine();
        let mut out = [0u8; SIGNATURE_LEN];
        sig.serialize_compressed(&mut out[..])
            .expect("a G1 point compresses to 48 bytes");
        out
    }
}
