//! kiln's client for subtensor-compatible chains (finney, testnet, `kiln devnet`).
//!
//! - [`Client::connect`]: subxt's legacy RPC backend over a reconnecting WebSocket, metadata
//!   from the node (dynamic calls and storage, so runtime upgrades need no rebuild).
//! - Keys: [`keys`] (secret URIs, mnemonics, seeds) and [`wallet`] (Bittensor wallet folders,
//!   NaCl-encrypted coldkeys).
//! - Reads: [`Client::metagraph`], [`Client::hyperparams`], [`Client::commitments`],
//!   [`Client::window_events`].
//! - Writes: registration, axon, stake, commitment and weights, each checked locally against
//!   the chain's rules first ([`weights`]), each waiting for inclusion with typed errors.
//! - Timelocked (drand) commit-reveal: [`Client::commit_timelocked_weights`], then
//!   [`Client::wait_for_reveal`] ([`timelock`]).

pub mod blocks;
pub mod client;
pub mod commitments;
pub mod error;
pub mod hyperparams;
pub mod keyfile;
pub mod keys;
pub mod metagraph;
pub mod network;
pub mod read;
pub mod schema;
pub mod timelock;
pub mod tx;
pub mod wallet;
pub mod weights;
pub mod writes;

pub use blocks::{WindowEvent, WindowTracker};
pub use client::{Client, ClientOptions};
pub use error::Error;
pub use hyperparams::{CommitReveal, Hyperparams};
pub use metagraph::{Metagraph, Neuron};
pub use network::Network;
pub use read::BlockSel;
pub use subxt::utils::{AccountId32, H256};
pub use subxt_signer::sr25519::Keypair;
pub use timelock::reveal::{PendingCommit, RevealOutcome, TimelockedEvent};
pub use timelock::{Beacon, TimelockedCommit};
pub use tx::Included;
pub use writes::{AxonEndpoint, PendingReveal};
