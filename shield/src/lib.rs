//! subtensor's MEV shield, the cryptography only (no I/O, no runtime types): a client encrypts
//! a signed extrinsic to the block author's ML-KEM-768 encapsulation key and the author
//! decrypts it. The wire layout is subtensor's and Bittensor's SDK's:
//!
//! `twox_128(encapsulation key) (16) || kem_ct_len (u16 LE) || kem_ct || nonce (24) || aead_ct`,
//!
//! where `kem_ct` is an ML-KEM-768 ciphertext and `aead_ct` the XChaCha20-Poly1305 encryption of
//! the plaintext under the encapsulated shared secret (no KDF, no associated data).
//!
//! - [`ShieldKeyPair`]: the author's key pair, derived from a seed.
//! - [`ShieldedTransaction::parse`]: bounded parsing of untrusted ciphertexts (fuzzed).
//! - [`decrypt`] and [`encrypt`].

mod cipher;
mod key;
mod wire;

pub use cipher::{decrypt, encrypt};
pub use key::{MLKEM768_ENC_KEY_LEN, ShieldKeyPair};
pub use wire::{KEY_HASH_LEN, NONCE_LEN, ShieldError, ShieldedTransaction};
