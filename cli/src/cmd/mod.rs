//! Subcommands.

pub(crate) mod api;
pub(crate) mod artifact;
pub(crate) mod bench;
pub(crate) mod chain;
pub(crate) mod dataset;
pub(crate) mod devnet;
pub(crate) mod gateway;
pub(crate) mod hparams;
pub(crate) mod http;
pub(crate) mod keys;
pub(crate) mod miner;
pub(crate) mod model;
pub(crate) mod node;
pub(crate) mod s3;
pub(crate) mod source;
pub(crate) mod up;
pub(crate) mod validator;

/// Runs `f` to completion on a multi-threaded async runtime (every async command's entry).
pub(crate) fn block_on<T>(
    f: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    use anyhow::Context;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f)
}
