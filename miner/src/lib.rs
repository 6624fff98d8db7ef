//! The kiln miner: per window, train on the assigned rows, fold the pseudo-gradient into the
//! error feedback, compress, upload the artifact and commit its blake3 on chain.
//!
//! This crate holds the parts with no network: the durable state ([`state`]), the deadline rule
//! ([`deadline`]) and one window's compute ([`round`]).

pub mod deadline;
pub mod round;
pub mod state;

pub use deadline::{CommitDecision, decide};
pub use round::{RoundError, WindowUpdate, produce};
pub use state::{Identity, MinerState, StateError};
