//! Bittensor wallet keyfiles, as the btwallet tooling writes them.
//!
//! A keyfile is either plaintext JSON (`secretSeed`, `secretPhrase`, `publicKey`, `ss58Address`,
//! …) or that JSON encrypted as `$NACL` ‖ nonce (24) ‖ XSalsa20-Poly1305 ciphertext, with the key
//! derived from the password by argon2i (v1.3, 512 MiB, 8 passes, one lane) and btwallet's fixed
//! salt. Older encryptions (ansible-vault, legacy Fernet) are recognised and refused.

use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, AeadCore, KeyInit, OsRng};
use serde::{Deserialize, Serialize};
use subxt_signer::sr25519::Keypair;
use thiserror::Error;
use zeroize::Zeroizing;

/// The prefix of a NaCl-encrypted keyfile.
pub const NACL_MAGIC: &[u8] = b"$NACL";
/// btwallet's argon2i salt (fixed, not secret).
const NACL_SALT: [u8; 16] = [
    0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc, 0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1,
];
/// libsodium's `crypto_pwhash_argon2i_MEMLIMIT_SENSITIVE`, in KiB.
const ARGON2_MEM_KIB: u32 = 512 * 1024;
/// libsodium's `crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE`.
const ARGON2_PASSES: u32 = 8;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Largest keyfile read; real ones are under 1 KiB.
pub const MAX_KEYFILE_LEN: usize = 64 * 1024;

/// Why a keyfile cannot be read or written.
#[derive(Debug, Error)]
pub enum KeyfileError {
    /// The file is larger than any keyfile.
    #[error("keyfile is {0} bytes, more than {MAX_KEYFILE_LEN}")]
    TooLarge(usize),
    /// An encrypted keyfile shorter than its nonce and tag.
    #[error("encrypted keyfile is truncated ({0} bytes)")]
    Truncated(usize),
    /// The password does not decrypt the keyfile (or the file was altered).
    #[error("wrong password, or the encrypted keyfile is corrupt")]
    WrongPassword,
    /// The keyfile is encrypted and no password was given.
    #[error("the keyfile is encrypted; a password is needed")]
    PasswordRequired,
    /// An encryption kiln does not read.
    #[error("keyfile uses {0} encryption, which kiln does not read; re-encrypt it with btcli")]
    UnsupportedEncryption(&'static str),
    /// The (decrypted) keyfile is not the JSON keyfile format.
    #[error("keyfile is not valid keyfile JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A hex field is malformed.
    #[error("keyfile field `{field}` is not {len}-byte hex")]
    Hex {
        /// The JSON field.
        field: &'static str,
        /// Its expected length in bytes.
        len: usize,
    },
    /// The keyfile holds a public key only.
    #[error("keyfile holds no secret (a public keyfile)")]
    NoSecret,
    /// The secret does not give the public key the file states.
    #[error("keyfile secret does not match its publicKey")]
    PublicKeyMismatch,
    /// A secret phrase that is not a BIP-39 mnemonic.
    #[error("keyfile secretPhrase is not a valid mnemonic")]
    Mnemonic,
    /// The key derivation failed (out of memory).
    #[error("argon2 key derivation failed: {0}")]
    Kdf(String),
}

/// The JSON content of a keyfile (camelCase as btwallet writes it). `Debug` and `Display` never
/// print the secret fields.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyfileJson {
    /// 32-byte account id, `0x` hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// 32-byte public key, `0x` hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// 64-byte expanded private key, `0x` hex (written, not needed to sign).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// The BIP-39 mnemonic, when the key came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_phrase: Option<String>,
    /// The 32-byte mini secret key, `0x` hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_seed: Option<String>,
    /// SS58 address (prefix 42).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ss58_address: Option<String>,
    /// 1 for sr25519.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crypto_type: Option<u8>,
}

impl std::fmt::Debug for KeyfileJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("KeyfileJson")
            .field("ss58_address", &self.ss58_address)
            .field("public_key", &self.public_key)
            .field("secret_phrase", &redact(&self.secret_phrase))
            .field("secret_seed", &redact(&self.secret_seed))
            .field("private_key", &redact(&self.private_key))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for KeyfileJson {
    /// Never prints secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}",
            self.ss58_address.as_deref().unwrap_or("(no address)")
        )
    }
}

/// How a keyfile's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Plaintext JSON.
    None,
    /// btwallet's NaCl secretbox.
    Nacl,
}

/// How `data` is stored, or an error for encryptions kiln does not read.
pub fn encryption(data: &[u8]) -> Result<Encryption, KeyfileError> {
    if data.starts_with(NACL_MAGIC) {
        Ok(Encryption::Nacl)
    } else if data.starts_with(b"$ANSIBLE_VAULT") {
        Err(KeyfileError::UnsupportedEncryption("ansible-vault"))
    } else if data.starts_with(b"gAAAAA") {
        Err(KeyfileError::UnsupportedEncryption("legacy Fernet"))
    } else {
        Ok(Encryption::None)
    }
}

fn derive_key(password: &str) -> Result<Zeroizing<[u8; 32]>, KeyfileError> {
    let params = argon2::Params::new(ARGON2_MEM_KIB, ARGON2_PASSES, 1, Some(32))
        .map_err(|e| KeyfileError::Kdf(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password.as_bytes(), &NACL_SALT, key.as_mut())
        .map_err(|e| KeyfileError::Kdf(e.to_string()))?;
    Ok(key)
}

/// Encrypts keyfile bytes with `password` in btwallet's NaCl format.
pub fn encrypt(plaintext: &[u8], password: &str) -> Result<Vec<u8>, KeyfileError> {
    let key = derive_key(password)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    let nonce = XSalsa20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(&nonce, plaintext)
        .map_err(|_| KeyfileError::Kdf("encryption failed".into()))?;
    let mut out = Vec::with_capacity(NACL_MAGIC.len() + NONCE_LEN + sealed.len());
    out.extend_from_slice(NACL_MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts a `$NACL` keyfile.
pub fn decrypt(data: &[u8], password: &str) -> Result<Zeroizing<Vec<u8>>, KeyfileError> {
    let body = data
        .strip_prefix(NACL_MAGIC)
        .ok_or(KeyfileError::UnsupportedEncryption("unknown"))?;
    if body.len() < NONCE_LEN + TAG_LEN {
        return Err(KeyfileError::Truncated(data.len()));
    }
    let (nonce, sealed) = body.split_at(NONCE_LEN);
    let key = derive_key(password)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    cipher
        .decrypt(nonce.into(), sealed)
        .map(Zeroizing::new)
        .map_err(|_| KeyfileError::WrongPassword)
}

/// Parses keyfile bytes, decrypting them with `password` when they are encrypted.
pub fn parse(data: &[u8], password: Option<&str>) -> Result<KeyfileJson, KeyfileError> {
    if data.len() > MAX_KEYFILE_LEN {
        return Err(KeyfileError::TooLarge(data.len()));
    }
    match encryption(data)? {
        Encryption::None => Ok(serde_json::from_slice(data)?),
        Encryption::Nacl => {
            let password = password.ok_or(KeyfileError::PasswordRequired)?;
            let plain = decrypt(data, password)?;
            Ok(serde_json::from_slice(&plain)?)
        }
    }
}

fn hex_field<const N: usize>(field: &'static str, value: &str) -> Result<[u8; N], KeyfileError> {
    let digits = value.strip_prefix("0x").unwrap_or(value);
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).map_err(|_| KeyfileError::Hex { field, len: N })?;
    Ok(out)
}

impl KeyfileJson {
    /// The keyfile of `pair`, as btwallet writes it (with the phrase when given).
    pub fn from_keypair(pair: &Keypair, seed: &[u8; 32], phrase: Option<&str>) -> Self {
        let public = format!("0x{}", hex::encode(pair.public_key().0));
        KeyfileJson {
            account_id: Some(public.clone()),
            public_key: Some(public),
            private_key: None,
            secret_phrase: phrase.map(str::to_owned),
            secret_seed: Some(format!("0x{}", hex::encode(seed))),
            ss58_address: Some(pair.public_key().to_account_id().to_string()),
            crypto_type: Some(1),
        }
    }

    /// The 32-byte public key the file states.
    pub fn public_key(&self) -> Result<[u8; 32], KeyfileError> {
        let value = self
            .public_key
            .as_deref()
            .or(self.account_id.as_deref())
            .ok_or(KeyfileError::Hex {
                field: "publicKey",
                len: 32,
            })?;
        hex_field("publicKey", value)
    }

    /// The signing key: from `secretSeed`, else `secretPhrase`; checked against `publicKey`.
    pub fn keypair(&self) -> Result<Keypair, KeyfileError> {
        let pair = if let Some(seed) = &self.secret_seed {
            let seed = Zeroizing::new(hex_field::<32>("secretSeed", seed)?);
            Keypair::from_secret_key(*seed).map_err(|_| KeyfileError::Hex {
                field: "secretSeed",
                len: 32,
            })?
        } else if let Some(phrase) = &self.secret_phrase {
            let mnemonic =
                subxt_signer::bip39::Mnemonic::parse(phrase).map_err(|_| KeyfileError::Mnemonic)?;
            Keypair::from_phrase(&mnemonic, None).map_err(|_| KeyfileError::Mnemonic)?
        } else {
            return Err(KeyfileError::NoSecret);
        };
        if (self.public_key.is_some() || self.account_id.is_some())
            && self.public_key()? != pair.public_key().0
        {
            return Err(KeyfileError::PublicKeyMismatch);
        }
        Ok(pair)
    }
}
