//! The kiln validator: per window, collect the miners' commitments, fetch and verify their
//! artifacts, evaluate them on the assigned and random rows, detect copying and faults, score,
//! persist every decision, set weights and publish the aggregation manifest.
//!
//! Pure parts (no I/O, deterministic):
//! - [`rating`]: Plackett–Luce skill ratings over loss scores.
//! - [`checks`]: artifact content checks, identical and overlapping (copied) updates.
//! - [`score`]: verdicts → standings, penalties and final scores.
//! - [`weights`]: the rank schedule from final scores to weights.
//! - [`window`]: one window's decisions phase by phase (Collect, Fetch, copies, evaluation
//!   order, weights cadence, aggregation set).
//!
//! The window state machine: [`machine`] (pure; the async shell performs its actions).
//! Downloads: [`fetch`] (locator → gateway). Model math: [`evaluate`] (the Gauntlet measurements, with the training crate).
//! Persistence: [`db`] (Postgres, one transaction per window).
//! Audit: [`replay`] recomputes a recorded window's scores and weights.
//! The async shell: [`node`] ([`node::Validator`]: chain, gateway, model, database), with
//! [`checkpoint`] (crash-safe model files), [`metrics`] and its HTTP port [`http`], which serves the dashboard API [`api`] and the web dashboard
//! [`dashboard`].

pub mod api;
pub mod checkpoint;
pub mod checks;
pub mod dashboard;
pub mod db;
pub mod evaluate;
pub mod fetch;
pub mod http;
pub mod lineage;
pub mod machine;
pub mod metrics;
pub mod node;
pub mod probe;
pub mod rating;
pub mod replay;
pub mod score;
pub mod weights;
pub mod window;
