//! Subcommands.

pub(crate) mod artifact;
pub(crate) mod bench;
pub(crate) mod dataset;
pub(crate) mod devnet;
pub(crate) mod hparams;
pub(crate) mod model;
