//! The kiln devnet node: an in-memory chain with instant finality that authors blocks by
//! calling the native devnet runtime's exported API, exactly as a wasm executor would.
//!
//! - [`chain`]: blocks and states, authoring, validation, runtime calls at any kept block.

pub mod chain;

pub use chain::{CallError, Chain, ChainError, StoredBlock, TxOutcome};
