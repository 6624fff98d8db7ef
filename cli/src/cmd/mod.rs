//! Subcommands.

pub(crate) mod artifact;
pub(crate) mod bench;
pub(crate) mod hparams;
