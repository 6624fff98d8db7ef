//! kiln training: the math a miner runs and a validator re-runs.
//!
//! - [`config`]: the LLaMA architecture ([`ModelConfig`]), Hugging Face `config.json`
//!   compatible, with presets `tiny`, `small`, `1b`, `8b`, `72b`.
//! - [`model`]: the candle decoder ([`Model`]) with deterministic init and a canonical
//!   [`state hash`](Model::state_hash).
//! - [`device`]: CPU by default, CUDA with the `cuda` feature.
//! - [`checkpoint`]: Hugging Face style checkpoint directories (safetensors).
//! - [`data`]: token-shard datasets over any object store, synthesis and tokenization.
//! - [`optim`]: AdamW, grad-norm clipping and the learning-rate schedule.
//! - [`inner`]: the miner's inner loop, producing the pseudo-gradient.
//! - [`eval`]: loss evaluation, applying a miner's update for scoring, and the outer step.
//! - [`outer`]: the outer optimizer (SGD, optionally with Nesterov momentum).
//!
//! The exact rules (init, state hash, data format, schedule) are in `docs/training.md`.

pub mod config;
pub mod device;
pub mod model;

pub use config::ModelConfig;
pub use device::{DeviceSpec, Precision};
pub use model::{Model, ModelError};
pub mod checkpoint;
pub mod data;
pub mod eval;
pub mod inner;
pub mod optim;
pub mod outer;

pub use checkpoint::{CheckpointError, WEIGHTS_FILE};
pub use eval::{
    EvalError, aggregate_messages, mean_loss, outer_step, outer_step_from_messages, with_update,
};
pub use inner::{
    InnerConfig, InnerOutcome, NamedDelta, TrainError, train_inner, train_inner_until,
};
pub use optim::{AdamW, AdamWConfig, Schedule};
pub use outer::OuterOptimizer;
