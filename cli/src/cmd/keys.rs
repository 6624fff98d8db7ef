//! `kiln keys`: create, list and inspect sr25519 keys and Bittensor wallet folders.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use kiln_runtime_client::keyfile::KeyfileError;
use kiln_runtime_client::keys::{self, account};
use kiln_runtime_client::wallet::{self, Wallet, WalletError};
use kiln_runtime_client::{AccountId32, Keypair};
use std::path::PathBuf;

/// Where keys come from: a wallet folder, or secret URIs given directly.
#[derive(Debug, Clone, Args)]
pub(crate) struct KeyArgs {
    /// Folder holding wallets (Bittensor layout).
    #[arg(long, env = "KILN_WALLET_PATH", default_value_os_t = wallet::default_root())]
    wallet_path: PathBuf,
    /// Wallet name.
    #[arg(long, env = "KILN_WALLET")]
    wallet: Option<String>,
    /// Hotkey name inside the wallet.
    #[arg(long, env = "KILN_HOTKEY", default_value = "default")]
    hotkey: String,
    /// Hotkey as a secret URI (`//Bob`, a mnemonic, or a 0x seed); overrides the wallet.
    #[arg(long, env = "KILN_HOTKEY_URI", hide_env_values = true)]
    hotkey_uri: Option<String>,
    /// Coldkey as a secret URI; overrides the wallet.
    #[arg(long, env = "KILN_COLDKEY_URI", hide_env_values = true)]
    coldkey_uri: Option<String>,
    /// Password of an encrypted wallet coldkey (asked on the terminal when absent).
    #[arg(long, env = "KILN_COLDKEY_PASSWORD", hide_env_values = true)]
    coldkey_password: Option<String>,
}

impl KeyArgs {
    fn wallet(&self) -> Result<Wallet> {
        let name = self
            .wallet
            .as_deref()
            .context("no key given: pass --wallet (with --hotkey), or a secret URI flag")?;
        Ok(Wallet::new(&self.wallet_path, name))
    }

    /// The hotkey pair.
    pub(crate) fn hotkey(&self) -> Result<Keypair> {
        if let Some(uri) = &self.hotkey_uri {
            return Ok(keys::from_secret(uri)?);
        }
        Ok(self.wallet()?.hotkey(&self.hotkey, None)?)
    }

    /// The coldkey pair, decrypting the wallet's coldkey when needed.
    pub(crate) fn coldkey(&self) -> Result<Keypair> {
        if let Some(uri) = &self.coldkey_uri {
            return Ok(keys::from_secret(uri)?);
        }
        let wallet = self.wallet()?;
        match wallet.coldkey(self.coldkey_password.as_deref()) {
            Err(WalletError::Keyfile {
                source: KeyfileError::PasswordRequired,
                ..
            }) => {
                let password = rpassword::prompt_password(format!(
                    "password for {}: ",
                    wallet.coldkey_path().display()
                ))
                .context("reading the coldkey password")?;
                Ok(wallet.coldkey(Some(&password))?)
            }
            other => Ok(other?),
        }
    }
}

/// `kiln keys …`
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCmd {
    /// Create a key: printed once, or written into a wallet folder.
    New(NewArgs),
    /// Show the addresses of a wallet's coldkey and hotkeys (no password needed).
    Show(ShowArgs),
    /// Print the address and public key of a secret URI, SS58 address or hex account id.
    Inspect {
        /// `//Alice`, a mnemonic, an SS58 address, or a 0x account id.
        key: String,
        /// Read the key as a secret (needed for a 0x seed, which looks like an account id).
        #[arg(long)]
        secret: bool,
    },
}

/// Arguments of `kiln keys new`.
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// Wallet to write into; without it the new key is only printed.
    #[arg(long, env = "KILN_WALLET")]
    wallet: Option<String>,
    /// Folder holding wallets.
    #[arg(long, env = "KILN_WALLET_PATH", default_value_os_t = wallet::default_root())]
    wallet_path: PathBuf,
    /// Write the wallet's coldkey (encrypted when a password is set) instead of a hotkey.
    #[arg(long)]
    coldkey: bool,
    /// Hotkey name.
    #[arg(long, env = "KILN_HOTKEY", default_value = "default")]
    hotkey: String,
    /// Mnemonic length: 12, 15, 18, 21 or 24 words.
    #[arg(long, default_value_t = 12)]
    words: usize,
    /// Password to encrypt a new coldkey with (asked on the terminal when absent).
    #[arg(long, env = "KILN_COLDKEY_PASSWORD", hide_env_values = true)]
    coldkey_password: Option<String>,
    /// Store the coldkey unencrypted.
    #[arg(long, conflicts_with = "coldkey_password")]
    no_password: bool,
}

/// Arguments of `kiln keys show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// Wallet name.
    #[arg(long, env = "KILN_WALLET")]
    wallet: String,
    /// Folder holding wallets.
    #[arg(long, env = "KILN_WALLET_PATH", default_value_os_t = wallet::default_root())]
    wallet_path: PathBuf,
}

impl KeysCmd {
    pub(crate) fn run(self) -> Result<()> {
        match self {
            KeysCmd::New(a) => new(a),
            KeysCmd::Show(a) => show(a),
            KeysCmd::Inspect { key, secret } => inspect(&key, secret),
        }
    }
}

fn new(a: NewArgs) -> Result<()> {
    let key = keys::generate(a.words)?;
    let address = account(&key.pair);
    let Some(name) = a.wallet else {
        println!("mnemonic   {}", key.phrase.as_str());
        println!("ss58       {address}");
        println!("public     0x{}", hex::encode(address.0));
        eprintln!("write the mnemonic down: it is the only way to recover this key");
        return Ok(());
    };
    let wallet = Wallet::new(&a.wallet_path, &name);
    let path = if a.coldkey {
        let password = match (a.no_password, a.coldkey_password) {
            (true, _) => None,
            (false, Some(p)) => Some(p),
            (false, None) => {
                let p = rpassword::prompt_password("new coldkey password: ")?;
                if p != rpassword::prompt_password("repeat the password: ")? {
                    bail!("the passwords differ");
                }
                Some(p)
            }
        };
        wallet.save_coldkey(&key.pair, &key.seed, Some(&key.phrase), password.as_deref())?
    } else {
        wallet.save_hotkey(&a.hotkey, &key.pair, &key.seed, Some(&key.phrase))?
    };
    println!("wrote      {}", path.display());
    println!("ss58       {address}");
    println!("mnemonic   {}", key.phrase.as_str());
    eprintln!("write the mnemonic down: it is the only way to recover this key");
    Ok(())
}

fn show(a: ShowArgs) -> Result<()> {
    let wallet = Wallet::new(&a.wallet_path, &a.wallet);
    match wallet.coldkey_account() {
        Ok(cold) => println!("coldkey    {cold}"),
        Err(e) => println!("coldkey    ({e})"),
    }
    let dir = wallet.dir().join("hotkeys");
    let mut names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    for name in names {
        match wallet.hotkey(&name, None) {
            Ok(pair) => println!("hotkey     {name}  {}", account(&pair)),
            Err(e) => println!("hotkey     {name}  ({e})"),
        }
    }
    Ok(())
}

fn inspect(text: &str, secret: bool) -> Result<()> {
    let address: AccountId32 = match keys::parse_account(text) {
        Ok(a) if !secret => a,
        _ => account(&keys::from_secret(text).context(
            "not an SS58 address, a 0x account id, or a valid secret URI / mnemonic / seed",
        )?),
    };
    println!("ss58       {address}");
    println!("public     0x{}", hex::encode(address.0));
    Ok(())
}
