//! Bittensor wallet folders: `<root>/<name>/coldkey`, `coldkeypub.txt` and
//! `hotkeys/<hotkey>` (the layout of `~/.bittensor/wallets`).

use crate::keyfile::{self, KeyfileError, KeyfileJson, MAX_KEYFILE_LEN};
use std::io::Read;
use std::path::{Path, PathBuf};
use subxt::utils::AccountId32;
use subxt_signer::sr25519::Keypair;
use thiserror::Error;

/// Why a wallet key cannot be loaded or saved.
#[derive(Debug, Error)]
pub enum WalletError {
    /// The keyfile could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The keyfile.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The keyfile is not usable.
    #[error("{path}: {source}")]
    Keyfile {
        /// The keyfile.
        path: PathBuf,
        /// What is wrong with it.
        source: KeyfileError,
    },
    /// Saving would replace an existing keyfile.
    #[error("{0} exists; refusing to overwrite it")]
    Exists(PathBuf),
}

/// A wallet folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    dir: PathBuf,
}

/// The default wallets root: `$HOME/.bittensor/wallets`.
pub fn default_root() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".bittensor")
        .join("wallets")
}

impl Wallet {
    /// The wallet `name` under `root`.
    pub fn new(root: impl AsRef<Path>, name: &str) -> Self {
        Wallet {
            dir: root.as_ref().join(name),
        }
    }

    /// The wallet's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the hotkey file `hotkey`.
    pub fn hotkey_path(&self, hotkey: &str) -> PathBuf {
        self.dir.join("hotkeys").join(hotkey)
    }

    /// Path of the (usually encrypted) coldkey file.
    pub fn coldkey_path(&self) -> PathBuf {
        self.dir.join("coldkey")
    }

    /// Path of the public coldkey file.
    pub fn coldkeypub_path(&self) -> PathBuf {
        self.dir.join("coldkeypub.txt")
    }

    /// Loads the hotkey `hotkey` (hotkeys are plaintext; an encrypted one needs `password`).
    pub fn hotkey(&self, hotkey: &str, password: Option<&str>) -> Result<Keypair, WalletError> {
        load_keypair(&self.hotkey_path(hotkey), password)
    }

    /// Loads the coldkey, decrypting it with `password` when it is encrypted.
    pub fn coldkey(&self, password: Option<&str>) -> Result<Keypair, WalletError> {
        load_keypair(&self.coldkey_path(), password)
    }

    /// The coldkey's account from `coldkeypub.txt` (no password needed).
    pub fn coldkey_account(&self) -> Result<AccountId32, WalletError> {
        let path = self.coldkeypub_path();
        let json = read_json(&path, None)?;
        json.public_key()
            .map(AccountId32)
            .map_err(|source| WalletError::Keyfile { path, source })
    }

    /// Writes a hotkey file (plaintext, as btwallet does) for `pair`.
    pub fn save_hotkey(
        &self,
        hotkey: &str,
        pair: &Keypair,
        seed: &[u8; 32],
        phrase: Option<&str>,
    ) -> Result<PathBuf, WalletError> {
        let path = self.hotkey_path(hotkey);
        let json = KeyfileJson::from_keypair(pair, seed, phrase);
        write_new(&path, &to_bytes(&json))?;
        Ok(path)
    }

    /// Writes the coldkey (encrypted when `password` is given) and `coldkeypub.txt`.
    pub fn save_coldkey(
        &self,
        pair: &Keypair,
        seed: &[u8; 32],
        phrase: Option<&str>,
        password: Option<&str>,
    ) -> Result<PathBuf, WalletError> {
        let path = self.coldkey_path();
        let json = KeyfileJson::from_keypair(pair, seed, phrase);
        let plain = zeroize::Zeroizing::new(to_bytes(&json));
        let bytes = match password {
            Some(p) => keyfile::encrypt(&plain, p).map_err(|source| WalletError::Keyfile {
                path: path.clone(),
                source,
            })?,
            None => plain.to_vec(),
        };
        let public = KeyfileJson {
            secret_phrase: None,
            secret_seed: None,
            ..json
        };
        write_new(&path, &bytes)?;
        write_new(&self.coldkeypub_path(), &to_bytes(&public))?;
        Ok(path)
    }
}

fn to_bytes(json: &KeyfileJson) -> Vec<u8> {
    serde_json::to_vec(json).expect("a keyfile serializes")
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> WalletError + '_ {
    move |source| WalletError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads and parses a keyfile, refusing files larger than any keyfile.
fn read_json(path: &Path, password: Option<&str>) -> Result<KeyfileJson, WalletError> {
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut data = zeroize::Zeroizing::new(Vec::new());
    file.take(MAX_KEYFILE_LEN as u64 + 1)
        .read_to_end(&mut data)
        .map_err(io_err(path))?;
    keyfile::parse(&data, password).map_err(|source| WalletError::Keyfile {
        path: path.to_owned(),
        source,
    })
}

/// Loads the signing key of the keyfile at `path`.
pub fn load_keypair(path: &Path, password: Option<&str>) -> Result<Keypair, WalletError> {
    read_json(path, password)?
        .keypair()
        .map_err(|source| WalletError::Keyfile {
            path: path.to_owned(),
            source,
        })
}

/// Creates `path` (and its folder) with owner-only permissions; never overwrites.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), WalletError> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            WalletError::Exists(path.to_owned())
        } else {
            io_err(path)(e)
        }
    })?;
    file.write_all(bytes).map_err(io_err(path))
}
