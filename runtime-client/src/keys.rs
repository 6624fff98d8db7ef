//! sr25519 keys from secret URIs (`//Alice`, a BIP-39 phrase with optional `//hard/soft///password`
//! derivations, or a `0x` 32-byte seed), and fresh keys for `kiln keys new`.

use crypto_secretbox::aead::OsRng;
use crypto_secretbox::aead::rand_core::RngCore;
use std::str::FromStr;
use subxt_signer::SecretUri;
use subxt_signer::bip39::Mnemonic;
use subxt_signer::sr25519::Keypair;
use thiserror::Error;
use zeroize::Zeroizing;

pub use subxt::utils::AccountId32;

/// Why a secret does not give a key. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// Not a secret URI, mnemonic or 32-byte hex seed.
    #[error("not a valid secret URI, mnemonic or 0x-prefixed 32-byte seed")]
    InvalidSecret,
    /// Not an SS58 address or 32-byte hex account id.
    #[error("not an SS58 address or 0x-prefixed 32-byte account id: {0}")]
    InvalidAccount(String),
}

/// The key pair of a secret URI.
pub fn from_secret(secret: &str) -> Result<Keypair, KeyError> {
    let uri = SecretUri::from_str(secret.trim()).map_err(|_| KeyError::InvalidSecret)?;
    Keypair::from_uri(&uri).map_err(|_| KeyError::InvalidSecret)
}

/// An account from an SS58 address (any prefix) or `0x` hex.
pub fn parse_account(text: &str) -> Result<AccountId32, KeyError> {
    let text = text.trim();
    if let Some(digits) = text.strip_prefix("0x") {
        let mut id = [0u8; 32];
        hex::decode_to_slice(digits, &mut id)
            .map_err(|_| KeyError::InvalidAccount(text.to_owned()))?;
        return Ok(AccountId32(id));
    }
    AccountId32::from_str(text).map_err(|_| KeyError::InvalidAccount(text.to_owned()))
}

/// The account of a key pair.
pub fn account(pair: &Keypair) -> AccountId32 {
    pair.public_key().to_account_id()
}

/// A freshly generated key: its mnemonic, mini secret seed and key pair.
pub struct NewKey {
    /// The 12-word (or longer) BIP-39 phrase.
    pub phrase: Zeroizing<String>,
    /// The 32-byte mini secret key derived from the phrase (btwallet's `secretSeed`).
    pub seed: Zeroizing<[u8; 32]>,
    /// The key pair.
    pub pair: Keypair,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewKey({})", account(&self.pair))
    }
}

/// The mini secret seed of a phrase (Substrate's BIP-39 derivation: PBKDF2-HMAC-SHA512 over the
/// entropy, 2048 rounds, salt `"mnemonic"`; the first 32 bytes).
pub fn seed_from_phrase(phrase: &str) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let mnemonic = Mnemonic::parse(phrase).map_err(|_| KeyError::InvalidSecret)?;
    let (entropy, len) = mnemonic.to_entropy_array();
    let mut big = Zeroizing::new([0u8; 64]);
    pbkdf2::pbkdf2::<hmac::Hmac<sha2::Sha512>>(&entropy[..len], b"mnemonic", 2048, big.as_mut())
        .map_err(|_| KeyError::InvalidSecret)?;
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(&big[..32]);
    Ok(seed)
}

/// A new key from `words` (12, 15, 18, 21 or 24) of OS randomness.
pub fn generate(words: usize) -> Result<NewKey, KeyError> {
    if !(12..=24).contains(&words) || !words.is_multiple_of(3) {
        return Err(KeyError::InvalidSecret);
    }
    let mut entropy = Zeroizing::new([0u8; 32]);
    let len = words / 3 * 4;
    OsRng.fill_bytes(&mut entropy[..len]);
    let mnemonic = Mnemonic::from_entropy(&entropy[..len]).map_err(|_| KeyError::InvalidSecret)?;
    let phrase = Zeroizing::new(mnemonic.to_string());
    let seed = seed_from_phrase(&phrase)?;
    let pair = Keypair::from_secret_key(*seed).map_err(|_| KeyError::InvalidSecret)?;
    Ok(NewKey { phrase, seed, pair })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_uri_phrase_and_seed_agree() {
        let alice = from_secret("//Alice").unwrap();
        assert_eq!(
            account(&alice).to_string(),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        let phrase = subxt_signer::DEV_PHRASE;
        let seed = seed_from_phrase(phrase).unwrap();
        let by_seed = from_secret(&format!("0x{}", hex::encode(*seed))).unwrap();
        let by_phrase = from_secret(phrase).unwrap();
        assert_eq!(by_seed.public_key().0, by_phrase.public_key().0);
        assert!(matches!(
            from_secret("not a key"),
            Err(KeyError::InvalidSecret)
        ));
    }

    #[test]
    fn generated_keys_are_distinct_and_reload_from_their_phrase() {
        let a = generate(12).unwrap();
        let b = generate(24).unwrap();
        assert_ne!(a.pair.public_key().0, b.pair.public_key().0);
        assert_eq!(a.phrase.split(' ').count(), 12);
        assert_eq!(b.phrase.split(' ').count(), 24);
        let again = from_secret(&a.phrase).unwrap();
        assert_eq!(again.public_key().0, a.pair.public_key().0);
        assert!(generate(13).is_err());
        assert!(!format!("{a:?}").contains(a.phrase.as_str()));
    }

    #[test]
    fn accounts_parse_from_ss58_and_hex() {
        let alice = account(&from_secret("//Alice").unwrap());
        assert_eq!(parse_account(&alice.to_string()).unwrap(), alice);
        assert_eq!(
            parse_account(&format!("0x{}", hex::encode(alice.0))).unwrap(),
            alice
        );
        assert!(parse_account("5Grw").is_err());
    }
}
