//! kiln's timelock ciphertexts against Bittensor's own client, the PyPI `bittensor-drand` (the
//! Rust-backed package SDK 10.x and 11.x commit weights with): what kiln encrypts to a drand
//! quicknet round opens in `bittensor_drand.decrypt_with_signature` with quicknet's published
//! signature of that round, and what `bittensor_drand.encrypt_at_round` makes opens in kiln.
//!
//! Needs a Python with `bittensor-drand` in `KILN_BITTENSOR_DRAND_PYTHON` (CI makes a
//! virtualenv); without it the test says so and passes, unless `KILN_REQUIRE_BITTENSOR_DRAND`
//! is set, as in CI, where it fails.

use codec::{Compact, Decode, Encode};
use kiln_drand::{QUICKNET_PUBLIC_KEY, decrypt, encrypt};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::process::Command;

/// Quicknet's published signatures of rounds 1000 and 1001.
const SIGS: [(u64, &str); 2] = [
    (
        1000,
        "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39",
    ),
    (
        1001,
        "b33bf3667cbd5a82de3a24b4e0e9fe5513cc1a0e840368c6e31f5fcfa79bea03f73896b25883abf2853d10337fb8fa41",
    ),
];

fn python() -> Option<String> {
    match std::env::var("KILN_BITTENSOR_DRAND_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var_os("KILN_REQUIRE_BITTENSOR_DRAND").is_none(),
                "KILN_REQUIRE_BITTENSOR_DRAND is set but KILN_BITTENSOR_DRAND_PYTHON is not"
            );
            eprintln!(
                "SKIPPED: set KILN_BITTENSOR_DRAND_PYTHON to a Python with bittensor-drand installed"
            );
            None
        }
    }
}

/// Runs `script` with `args`; its stdout, trimmed.
fn run(python: &str, script: &str, args: &[String]) -> Result<String, String> {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("running python");
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap().trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `bittensor-drand`'s envelope around a ciphertext: SCALE `(Vec<u8>, u64)` (the ciphertext and
/// its round).
fn wrap(ciphertext: &[u8], round: u64) -> Vec<u8> {
    (ciphertext.to_vec(), round).encode()
}

const DECRYPT: &str = "import sys, bittensor_drand as bd
print(bd.decrypt_with_signature(bytes.fromhex(sys.argv[1]), sys.argv[2]).hex())";

const ENCRYPT: &str = "import sys, bittensor_drand as bd
ct, r = bd.encrypt_at_round(bytes.fromhex(sys.argv[1]), int(sys.argv[2]))
print(bytes(ct).hex(), r)";

#[test]
fn kiln_and_bittensor_drand_open_each_others_ciphertexts() {
    let Some(py) = python() else { return };
    let pk = hex::decode(QUICKNET_PUBLIC_KEY).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for (round, sig) in SIGS {
        // kiln → bittensor-drand.
        let plain = format!("kiln weights for round {round}").into_bytes();
        let ct = encrypt(&pk, round, &plain, &mut rng).unwrap();
        let opened = run(
            &py,
            DECRYPT,
            &[hex::encode(wrap(&ct, round)), sig.to_string()],
        )
        .unwrap();
        assert_eq!(opened, hex::encode(&plain), "round {round}");
        // The other round's signature does not open it there either.
        let (_, other) = SIGS.iter().find(|(r, _)| *r != round).unwrap();
        let refused = run(
            &py,
            DECRYPT,
            &[hex::encode(wrap(&ct, round)), other.to_string()],
        );
        assert!(
            refused.is_err(),
            "round {round} opened with another round's signature"
        );

        // bittensor-drand → kiln.
        let plain = format!("bittensor-drand payload {round}").into_bytes();
        let out = run(&py, ENCRYPT, &[hex::encode(&plain), round.to_string()]).unwrap();
        let (wrapped, r) = out.split_once(' ').unwrap();
        assert_eq!(r.parse::<u64>().unwrap(), round);
        let wrapped = hex::decode(wrapped).unwrap();
        let (inner, inner_round) = <(Vec<u8>, u64)>::decode(&mut &wrapped[..]).unwrap();
        assert_eq!(inner_round, round);
        assert_eq!(
            decrypt(&inner, &hex::decode(sig).unwrap()).unwrap(),
            plain,
            "round {round}"
        );
        // The envelope is a compact length, the bytes and the round.
        assert_eq!(
            wrapped.len(),
            Compact(inner.len() as u32).encoded_size() + inner.len() + 8
        );
    }
}
