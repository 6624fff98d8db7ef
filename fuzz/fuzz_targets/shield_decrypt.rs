//! Fuzzes the `MevShield` ciphertext reader the devnet's block author runs on every carrier:
//! no panics on any bytes, parsed parts lie within the input, and what a fresh encryption
//! makes of the input opens to the input.
#![no_main]

use kiln_shield::{KEY_HASH_LEN, NONCE_LEN, ShieldKeyPair, ShieldedTransaction, decrypt, encrypt};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static KEY: OnceLock<ShieldKeyPair> = OnceLock::new();
    let key = KEY.get_or_init(|| ShieldKeyPair::from_seed(b"fuzz"));
    if let Ok(tx) = ShieldedTransaction::parse(data) {
        let framing = KEY_HASH_LEN + 2 + NONCE_LEN;
        assert_eq!(framing + tx.kem_ct.len() + tx.aead_ct.len(), data.len());
    }
    let _ = decrypt(key, data);
    // Inputs starting 0xff carry the key's hash instead, so decapsulation and AEAD run too.
    if data.len() >= KEY_HASH_LEN && data[0] == 0xff {
        let keyed = [&key.key_hash()[..], &data[KEY_HASH_LEN..]].concat();
        let _ = decrypt(key, &keyed);
    }
    let sealed = encrypt(&key.encapsulation_key(), data, [7; 32], [9; NONCE_LEN]).unwrap();
    assert_eq!(decrypt(key, &sealed).unwrap(), data);
});
