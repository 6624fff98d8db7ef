//! The kiln miner: per window, train on the assigned rows, fold the pseudo-gradient into the
//! error feedback, compress, upload the artifact and commit its blake3 on chain.
//!
//! - [`node`]: the window loop ([`Miner`]): start-up checks, model sync, training, upload,
//!   commitment, durable state.
//! - [`sync`]: following the lead validator's aggregation manifests.
//! - [`round`]: one window's compute, no I/O.
//! - [`event`]: what the miner reports per window.
//! - [`deadline`]: whether a commitment can still land in time. Pure.
//! - [`state`]: the crash-safe error-feedback state file.
//! - [`metrics`]: `kiln_miner_*` Prometheus metrics.
//! - [`cheat`]: deliberate misbehaviour, to demonstrate and test validators.

pub mod cheat;
pub mod deadline;
pub mod event;
pub mod metrics;
pub mod node;
pub mod round;
pub mod state;
pub mod sync;
mod upload;
mod watch;

pub use cheat::Cheat;
pub use deadline::{CommitDecision, decide};
pub use event::{MinerEvent, Outcome, WindowReport};
pub use node::{Miner, MinerConfig, RunError, StartError};
pub use round::{RoundError, WindowUpdate, produce};
pub use state::{Identity, MinerState, StateError};
pub use sync::{ModelSync, SyncError};
