//! Wallet folders written by the Bittensor wallet tooling (bittensor-wallet 4.1.1; see
//! `fixtures/make_wallets.py`): plaintext hotkeys, plaintext and NaCl-encrypted coldkeys,
//! coldkeypub.txt — read back, and written by kiln in the same format.

use kiln_runtime_client::keyfile::{self, KeyfileError};
use kiln_runtime_client::keys::{account, from_secret, generate, seed_from_phrase};
use kiln_runtime_client::wallet::{Wallet, WalletError};
use std::path::PathBuf;

const COLD: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
const HOT: &str = "5EHgWw2Af1pnoc7f1A8bfmM97W3DAYW8xr82RfhLL9oAabAe";
const PASSWORD: &str = "kiln-fixture-password";
const HOT_PHRASE: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wallets")
}

#[test]
fn btwallet_hotkeys_and_plain_coldkeys_load() {
    for name in ["plain", "encrypted"] {
        let wallet = Wallet::new(root(), name);
        let hot = wallet.hotkey("miner", None).unwrap();
        assert_eq!(account(&hot).to_string(), HOT);
        assert_eq!(wallet.coldkey_account().unwrap().to_string(), COLD);
    }
    let cold = Wallet::new(root(), "plain").coldkey(None).unwrap();
    assert_eq!(account(&cold).to_string(), COLD);
    // btwallet's secretSeed is the phrase's mini secret key.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("plain/hotkeys/miner")).unwrap())
            .unwrap();
    let seed = seed_from_phrase(HOT_PHRASE).unwrap();
    assert_eq!(json["secretSeed"], format!("0x{}", hex::encode(*seed)));
}

#[test]
fn btwallet_encrypted_coldkey_needs_its_password() {
    let wallet = Wallet::new(root(), "encrypted");
    let cold = wallet.coldkey(Some(PASSWORD)).unwrap();
    assert_eq!(account(&cold).to_string(), COLD);
    let wrong = wallet.coldkey(Some("not the password")).unwrap_err();
    assert!(
        matches!(
            wrong,
            WalletError::Keyfile {
                source: KeyfileError::WrongPassword,
                ..
            }
        ),
        "{wrong}"
    );
    let missing = wallet.coldkey(None).unwrap_err();
    assert!(
        matches!(
            missing,
            WalletError::Keyfile {
                source: KeyfileError::PasswordRequired,
                ..
            }
        ),
        "{missing}"
    );
}

#[test]
fn kiln_wallets_round_trip_and_never_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Wallet::new(dir.path(), "validator");
    let cold = generate(12).unwrap();
    let hot = generate(12).unwrap();
    wallet
        .save_coldkey(&cold.pair, &cold.seed, Some(&cold.phrase), Some("pw"))
        .unwrap();
    wallet
        .save_hotkey("default", &hot.pair, &hot.seed, Some(&hot.phrase))
        .unwrap();
    let bytes = std::fs::read(wallet.coldkey_path()).unwrap();
    assert!(bytes.starts_with(keyfile::NACL_MAGIC));
    assert!(!String::from_utf8_lossy(&bytes).contains(cold.phrase.as_str()));
    assert_eq!(
        wallet.coldkey(Some("pw")).unwrap().public_key().0,
        cold.pair.public_key().0
    );
    assert_eq!(wallet.coldkey_account().unwrap(), account(&cold.pair));
    assert_eq!(
        wallet.hotkey("default", None).unwrap().public_key().0,
        hot.pair.public_key().0
    );
    let again = wallet.save_hotkey("default", &hot.pair, &hot.seed, None);
    assert!(matches!(again, Err(WalletError::Exists(_))));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(wallet.coldkey_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn malformed_keyfiles_are_typed_errors() {
    assert!(matches!(
        keyfile::parse(b"$NACL\x01\x02", Some("x")),
        Err(KeyfileError::Truncated(7))
    ));
    assert!(matches!(
        keyfile::parse(b"$ANSIBLE_VAULT;1.1;AES256\n...", None),
        Err(KeyfileError::UnsupportedEncryption("ansible-vault"))
    ));
    assert!(matches!(
        keyfile::parse(b"{not json", None),
        Err(KeyfileError::Json(_))
    ));
    let public_only = std::fs::read(root().join("plain/coldkeypub.txt")).unwrap();
    assert!(matches!(
        keyfile::parse(&public_only, None).unwrap().keypair(),
        Err(KeyfileError::NoSecret)
    ));
    // A seed that does not match the stated public key.
    let alice = from_secret("//Alice").unwrap();
    let mut json = keyfile::parse(
        &std::fs::read(root().join("plain/hotkeys/miner")).unwrap(),
        None,
    )
    .unwrap();
    json.public_key = Some(format!("0x{}", hex::encode(alice.public_key().0)));
    assert!(matches!(
        json.keypair(),
        Err(KeyfileError::PublicKeyMismatch)
    ));
    let huge = vec![b' '; keyfile::MAX_KEYFILE_LEN + 1];
    assert!(matches!(
        keyfile::parse(&huge, None),
        Err(KeyfileError::TooLarge(_))
    ));
}
