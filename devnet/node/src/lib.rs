//! The kiln devnet node: an in-memory chain with instant finality that authors blocks by
//! calling the native devnet runtime's exported API, exactly as a wasm executor would.
//!
//! - [`chain`]: blocks and states, authoring, validation, runtime calls at any kept block.
//! - [`service`]: the pool, the block author and [`spawn`].
//! - [`rpc`]: the legacy Substrate JSON-RPC methods.

pub mod chain;
pub mod rpc;
pub mod service;

pub use chain::{CallError, Chain, ChainError, StoredBlock, TxOutcome};
pub use service::{NodeConfig, NodeError, NodeHandle, spawn};
