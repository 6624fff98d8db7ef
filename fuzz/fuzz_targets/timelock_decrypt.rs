//! Fuzzes the timelock ciphertext reader the devnet's reveal runs on committed bytes: no
//! panics and no allocation beyond the input; parsed ciphertexts re-serialize exactly.
#![no_main]

use kiln_drand::{Beacon, decrypt, wire};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static SIG: OnceLock<[u8; 48]> = OnceLock::new();
    let sig = SIG.get_or_init(|| Beacon::from_seed(b"fuzz").sign(1));
    if let Ok(w) = wire::parse(data) {
        assert_eq!(wire::write(w.u, w.v, w.w, w.body), data);
    }
    let _ = decrypt(data, sig);
});
