//! drand quicknet's published pulses (public facts: round, randomness, signature) verify with
//! quicknet's public key, and timelock ciphertexts to quicknet rounds open with them.

use kiln_drand::pulse::randomness;
use kiln_drand::tlock::DecryptError;
use kiln_drand::{Beacon, PulseError, QUICKNET_PUBLIC_KEY, decrypt, encrypt, verify_pulse};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Quicknet round 1000 as `api.drand.sh` serves it.
const ROUND_1000: (u64, &str, &str) = (
    1000,
    "fe290beca10872ef2fb164d2aa4442de4566183ec51c56ff3cd603d930e54fdd",
    "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39",
);

/// Quicknet rounds 1001 and 1002 (signatures as published).
const LATER: [(u64, &str); 2] = [
    (
        1001,
        "b33bf3667cbd5a82de3a24b4e0e9fe5513cc1a0e840368c6e31f5fcfa79bea03f73896b25883abf2853d10337fb8fa41",
    ),
    (
        1002,
        "ab066f9c12dd6de1336fca0f925192fb0c72a771c3e4c82ede1fd362c1a770f9eb05843c6308ce2530b53a99c0281a6e",
    ),
];

fn pk() -> Vec<u8> {
    hex::decode(QUICKNET_PUBLIC_KEY).unwrap()
}

fn sig(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn quicknet_pulses_verify_with_quicknet_key() {
    let (round, rand_hex, sig_hex) = ROUND_1000;
    verify_pulse(&pk(), round, &sig(sig_hex)).unwrap();
    // drand's randomness is sha256 of the signature.
    assert_eq!(hex::encode(randomness(&sig(sig_hex))), rand_hex);
    // subtensor stores some signatures with a 0x prefix; it is ignored.
    let mut prefixed = b"0x".to_vec();
    prefixed.extend(sig(sig_hex));
    verify_pulse(&pk(), round, &prefixed).unwrap();
    for (round, s) in LATER {
        verify_pulse(&pk(), round, &sig(s)).unwrap();
    }
}

#[test]
fn a_signature_verifies_only_for_its_round_and_key() {
    let (round, _, sig_hex) = ROUND_1000;
    assert_eq!(
        verify_pulse(&pk(), round + 1, &sig(sig_hex)),
        Err(PulseError::Forged { round: round + 1 })
    );
    let other = Beacon::from_seed(b"other");
    assert_eq!(
        verify_pulse(&other.public_key(), round, &sig(sig_hex)),
        Err(PulseError::Forged { round })
    );
    assert_eq!(
        verify_pulse(&pk()[..95], round, &sig(sig_hex)),
        Err(PulseError::PublicKey { len: 95 })
    );
    assert_eq!(
        verify_pulse(&pk(), round, &sig(sig_hex)[..47]),
        Err(PulseError::Signature { len: 47 })
    );
}

#[test]
fn a_ciphertext_to_a_quicknet_round_opens_with_that_rounds_published_signature() {
    let (round, _, sig_hex) = ROUND_1000;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let ct = encrypt(&pk(), round, b"weights for round 1000", &mut rng).unwrap();
    assert_eq!(
        decrypt(&ct, &sig(sig_hex)).unwrap(),
        b"weights for round 1000"
    );
    // Another round's ciphertext does not open with it.
    let later = encrypt(&pk(), round + 1, b"later", &mut rng).unwrap();
    assert_eq!(
        decrypt(&later, &sig(sig_hex)),
        Err(DecryptError::WrongRound)
    );
}
