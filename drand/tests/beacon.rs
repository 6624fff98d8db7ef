//! A seeded beacon signs rounds the way quicknet does: its pulses verify with its key, open
//! ciphertexts to its rounds, and nothing else.

use codec::{Decode, Encode};
use kiln_drand::tlock::{DecryptError, MAX_CIPHERTEXT_LEN};
use kiln_drand::{Beacon, PulseError, WeightsTlockPayload, decrypt, encrypt, verify_pulse};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[test]
fn a_seed_gives_one_key_and_its_pulses_verify() {
    let a = Beacon::from_seed(b"kiln devnet");
    assert_eq!(
        a.public_key(),
        Beacon::from_seed(b"kiln devnet").public_key()
    );
    assert_ne!(a.public_key(), Beacon::from_seed(b"another").public_key());
    for round in [1, 2, 1000, u64::MAX] {
        verify_pulse(&a.public_key(), round, &a.sign(round)).unwrap();
    }
    let b = Beacon::from_seed(b"another");
    assert_eq!(
        verify_pulse(&a.public_key(), 5, &b.sign(5)),
        Err(PulseError::Forged { round: 5 })
    );
}

#[test]
fn a_weights_payload_survives_the_round_trip() {
    let beacon = Beacon::from_seed(b"payload");
    let payload = WeightsTlockPayload {
        hotkey: [7u8; 32].to_vec(),
        uids: vec![0, 3, 9],
        values: vec![65535, 1200, 3],
        version_key: 4,
    };
    let ct = encrypt(
        &beacon.public_key(),
        42,
        &payload.encode(),
        ChaCha20Rng::seed_from_u64(1),
    )
    .unwrap();
    let plain = decrypt(&ct, &beacon.sign(42)).unwrap();
    assert_eq!(
        WeightsTlockPayload::decode(&mut &plain[..]).unwrap(),
        payload
    );
    assert_eq!(
        decrypt(&ct, &beacon.sign(43)),
        Err(DecryptError::WrongRound)
    );
    assert_eq!(
        decrypt(&ct, &beacon.sign(42)[..40]),
        Err(DecryptError::Signature)
    );
}

#[test]
fn oversized_and_truncated_ciphertexts_are_refused() {
    let beacon = Beacon::from_seed(b"bounds");
    let sig = beacon.sign(1);
    assert_eq!(
        decrypt(&vec![0u8; MAX_CIPHERTEXT_LEN + 1], &sig),
        Err(DecryptError::TooLong {
            len: MAX_CIPHERTEXT_LEN + 1
        })
    );
    let ct = encrypt(&beacon.public_key(), 1, b"x", ChaCha20Rng::seed_from_u64(2)).unwrap();
    for cut in [0, 1, 96, ct.len() - 1] {
        assert!(decrypt(&ct[..cut], &sig).is_err(), "cut at {cut}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_plaintext_round_trips(plain in proptest::collection::vec(any::<u8>(), 0..600), round in 1u64..1_000_000, seed in any::<u64>()) {
        let beacon = Beacon::from_seed(&seed.to_le_bytes());
        let ct = encrypt(&beacon.public_key(), round, &plain, ChaCha20Rng::seed_from_u64(seed)).unwrap();
        prop_assert_eq!(decrypt(&ct, &beacon.sign(round)).unwrap(), plain);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let beacon = Beacon::from_seed(b"garbage");
        prop_assert!(decrypt(&bytes, &beacon.sign(1)).is_err());
    }
}

/// Writes a fuzz seed: a real ciphertext to round 1 of the fuzz target's beacon.
#[test]
fn the_fuzz_seed_is_a_ciphertext_the_fuzz_beacon_opens() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/seeds/timelock_decrypt/round1"
    );
    let beacon = Beacon::from_seed(b"fuzz");
    let seed = std::fs::read(path).expect("the committed seed");
    assert_eq!(decrypt(&seed, &beacon.sign(1)).unwrap(), b"kiln fuzz seed");
}
