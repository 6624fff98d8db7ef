//! Errors: one enum per operation, rolled into [`Error`].

use crate::commitments::RegistrationError;
use crate::weights::{ScoreError, WeightsRejection};
use std::time::Duration;
use thiserror::Error;

/// A read from the chain failed.
#[derive(Debug, Error)]
pub enum ReadError {
    /// No client for the requested block (unknown block, connection lost past the retries).
    #[error("cannot open the chain at {at}: {reason}")]
    At {
        /// `latest` or the block number.
        at: String,
        /// subxt's error.
        reason: String,
    },
    /// A storage item could not be fetched or decoded.
    #[error("reading {item}: {reason}")]
    Storage {
        /// `Pallet.Item`.
        item: String,
        /// subxt's error.
        reason: String,
    },
    /// A stored commitment is malformed.
    #[error("commitment of {hotkey}: {source}")]
    Commitment {
        /// The hotkey.
        hotkey: String,
        /// Why it does not decode.
        source: RegistrationError,
    },
    /// A runtime API call failed.
    #[error("runtime API {api}: {reason}")]
    RuntimeApi {
        /// `Api.method`.
        api: &'static str,
        /// subxt's error.
        reason: String,
    },
    /// The read took longer than the request timeout.
    #[error("read timed out after {0:?}")]
    Timeout(Duration),
    /// The chain's runtime has no such item (e.g. `Drand.BeaconConfig` on a chain without drand).
    #[error("{item} is not in this chain's runtime")]
    NotInRuntime {
        /// `Pallet.Item`.
        item: &'static str,
    },
}

/// A transaction was not included successfully.
#[derive(Debug, Error)]
pub enum TxError {
    /// The call does not fit the node's metadata, or could not be signed.
    #[error("building the transaction: {0}")]
    Build(String),
    /// The node's pool refused it (JSON-RPC error: 1010 invalid, 1014 priority too low, …).
    #[error("the node refused the transaction ({code}: {message}{})", data.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Pool {
        /// JSON-RPC error code.
        code: i32,
        /// Its message.
        message: String,
        /// The reason, e.g. "Transaction is outdated".
        data: Option<String>,
    },
    /// It was included but its dispatch failed with a pallet error.
    #[error("{pallet}::{error}")]
    Dispatch {
        /// The pallet.
        pallet: String,
        /// The error name, e.g. `SettingWeightsTooFast`.
        error: String,
    },
    /// It was included but failed with a non-pallet dispatch error.
    #[error("dispatch failed: {0}")]
    DispatchOther(String),
    /// The pool dropped it or declared it invalid after accepting it.
    #[error("transaction {status}: {message}")]
    Rejected {
        /// `invalid`, `dropped` or `error`.
        status: &'static str,
        /// The node's message.
        message: String,
    },
    /// Not included within the inclusion timeout. It may still be included later.
    #[error("not included within {0:?}; it may still land")]
    Timeout(Duration),
    /// The connection failed while submitting or watching.
    #[error("transport: {0}")]
    Transport(String),
}

impl TxError {
    /// The pallet error name for a failed dispatch.
    pub fn dispatch_error(&self) -> Option<&str> {
        match self {
            TxError::Dispatch { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// `burned_register` failed.
#[derive(Debug, Error)]
pub enum RegisterError {
    /// The hotkey already has a uid on the subnet.
    #[error("hotkey already registered on netuid {netuid} as uid {uid}")]
    AlreadyRegistered {
        /// The subnet.
        netuid: u16,
        /// Its uid.
        uid: u16,
    },
    /// The subnet does not exist.
    #[error("netuid {0} does not exist")]
    SubnetNotExists(u16),
    /// The coldkey cannot pay the burn.
    #[error("coldkey balance {balance} rao is below the burn of {burn} rao")]
    NotEnoughBalance {
        /// Free balance.
        balance: u64,
        /// The subnet's burn.
        burn: u64,
    },
    /// Reading the chain failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The transaction failed.
    #[error(transparent)]
    Tx(#[from] TxError),
}

/// `serve_axon` failed.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The endpoint breaks a rule the chain checks.
    #[error("invalid axon endpoint: {0}")]
    InvalidEndpoint(&'static str),
    /// The hotkey is not registered on the subnet.
    #[error("HotKeyNotRegisteredInSubNet")]
    NotRegistered,
    /// Reading the chain failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The transaction failed.
    #[error(transparent)]
    Tx(#[from] TxError),
}

/// `add_stake` or a transfer failed.
#[derive(Debug, Error)]
pub enum StakeError {
    /// The transaction failed.
    #[error(transparent)]
    Tx(#[from] TxError),
}

/// `set_commitment` failed.
#[derive(Debug, Error)]
pub enum SetCommitmentError {
    /// More than the 128 bytes of a `Raw` field.
    #[error("commitment is {0} bytes; a Raw field holds at most 128")]
    TooLong(usize),
    /// The hotkey is not registered on the subnet.
    #[error("AccountNotAllowedCommit: hotkey not registered on the subnet")]
    NotRegistered,
    /// Reading the chain failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The transaction failed.
    #[error(transparent)]
    Tx(#[from] TxError),
}

/// `set_weights`, `commit_weights` or `reveal_weights` failed.
#[derive(Debug, Error)]
pub enum WeightsError {
    /// The scores cannot become a weight vector.
    #[error(transparent)]
    Scores(#[from] ScoreError),
    /// The chain would reject the vector; nothing was sent.
    #[error("refused locally, the chain would reject it: {0}")]
    Rejected(#[from] WeightsRejection),
    /// The subnet requires timelocked (drand) commit-reveal: plain and hash commit-reveal
    /// weights would be rejected; `Client::commit_timelocked_weights` sends them.
    #[error(
        "netuid {netuid} requires timelocked commit-reveal (version {version}); use commit_timelocked_weights"
    )]
    TimelockedCommitReveal {
        /// The subnet.
        netuid: u16,
        /// `CommitRevealWeightsVersion`.
        version: u16,
    },
    /// No pending commit matches the reveal.
    #[error("NoWeightsCommitFound: no pending commit with this hash")]
    NoCommit,
    /// The subnet's tempo is 0: no epoch runs, so a timelocked commit would never be revealed.
    #[error("netuid {0} has tempo 0: no epoch would reveal a timelocked commit")]
    NoEpochs(u16),
    /// The weights could not be encrypted to the beacon (a malformed public key on chain).
    #[error("timelock encryption: {0}")]
    Encrypt(#[from] kiln_drand::EncryptError),
    /// The encrypted commit exceeds the call's bound.
    #[error(
        "the encrypted commit is {0} bytes; commit_timelocked_weights takes at most {max}",
        max = crate::timelock::check::MAX_COMMIT_LEN
    )]
    CommitTooLarge(usize),
    /// Reading the chain failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The transaction failed.
    #[error(transparent)]
    Tx(#[from] TxError),
}

/// Following a timelocked commit until its reveal failed.
#[derive(Debug, Error)]
pub enum RevealWaitError {
    /// Reading the chain failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The block stream failed.
    #[error(transparent)]
    Stream(#[from] crate::blocks::StreamError),
}

/// Any error of this crate.
#[derive(Debug, Error)]
pub enum Error {
    /// Connecting failed.
    #[error(transparent)]
    Connect(#[from] crate::client::ConnectError),
    /// A read failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Registration failed.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// Serving an axon failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// Staking failed.
    #[error(transparent)]
    Stake(#[from] StakeError),
    /// Committing failed.
    #[error(transparent)]
    Commitment(#[from] SetCommitmentError),
    /// Setting weights failed.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// Waiting for a timelocked reveal failed.
    #[error(transparent)]
    RevealWait(#[from] RevealWaitError),
    /// A key could not be loaded.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    /// A wallet file could not be loaded.
    #[error(transparent)]
    Wallet(#[from] crate::wallet::WalletError),
}
