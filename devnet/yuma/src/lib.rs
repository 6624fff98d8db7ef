//! Yuma consensus as subtensor computes it, as a pure function.
//!
//! [`epoch`] takes a subnet's stake, weights, bonds, activity and permits and returns consensus,
//! incentive, dividends, emission and the bonds and permits to store, in the same fixed-point
//! arithmetic as subtensor (`I32F32` with floor multiplication and truncating division, `I64F64`
//! stake normalization, `I96F32` emission), so results match it to the last bit. The devnet
//! runtime calls it each tempo; tests replay subtensor's published epoch scenarios.
//!
//! This is the Yuma 2 path (subtensor's default, `Yuma3On = false`) with the bonds penalty. See
//! `docs/yuma.md` for the algorithm step by step.

pub mod epoch;
pub mod math;

pub use epoch::{EpochError, EpochInput, EpochOutput, Params, epoch};
pub use substrate_fixed::types::{I32F32, I64F64, I96F32};
