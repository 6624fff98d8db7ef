//! The kiln devnet node: an in-memory chain with instant finality that authors blocks by
//! calling the native devnet runtime's exported API, exactly as a wasm executor would.
//!
//! - [`chain`]: blocks and states, authoring, validation, runtime calls at any kept block.
//! - [`service`]: the pool, the block author and [`spawn`].
//! - [`rpc`]: the legacy Substrate JSON-RPC methods.
//! - [`persist`]: `--state-file`, saving and resuming the chain.
//! - [`shield`]: `MevShield` ciphertexts, which the author decrypts into the block.

pub mod chain;
pub mod persist;
pub mod rpc;
pub mod service;
pub mod shield;

pub use chain::{CallError, Chain, ChainError, StoredBlock, TxOutcome};
pub use persist::StateFileError;
pub use service::{NodeConfig, NodeError, NodeHandle, spawn, spawn_with_beacon, spawn_with_keys};
