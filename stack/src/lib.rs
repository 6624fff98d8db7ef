//! A whole kiln subnet on one machine: a devnet, a storage gateway, Postgres, one validator and
//! honest or cheating miners, each a `kiln` child process supervised by a [`Stack`]. `kiln up`
//! and the end-to-end tests are built on it.
//!
//! Children exit when the stack's process goes away, however it goes: each is told so by
//! [`process::EXIT_WITH_PARENT`] and watches its stdin. A child that exits while the stack
//! runs is started again after a backoff ([`supervise`]), and counted ([`ComponentStatus`]).

mod child;
pub mod config;
pub mod postgres;
pub mod process;
pub mod report;
pub mod stack;
pub mod supervise;
pub mod warm;

pub use config::{Behaviour, S3, StackConfig};
pub use report::{Component, ComponentStatus, MinerRow, Summary, WindowReport};
pub use stack::{MinerNode, NETUID, Stack, StackError};
pub use supervise::Status;
