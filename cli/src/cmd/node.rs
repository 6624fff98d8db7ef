//! Flags every subnet node (miner, validator) shares: the chain, the subnet, the gateway, the
//! run's parameters, the genesis model and the device.

use anyhow::{Context, Result};
use clap::Args;
use kiln_protocol::Hparams;
use kiln_runtime_client::Network;
use kiln_training::{DeviceSpec, ModelConfig};
use std::path::PathBuf;

/// The run's parameters: a preset or a file.
#[derive(Debug, Clone, Args)]
pub(crate) struct HparamsArgs {
    /// Run parameters preset (the subnet's run), or `--hparams FILE`.
    #[arg(long, env = "KILN_PRESET", default_value = "tiny")]
    preset: String,
    /// Run parameters file (TOML or JSON), e.g. the one the subnet's validator publishes.
    #[arg(long, env = "KILN_HPARAMS", conflicts_with = "preset")]
    hparams: Option<PathBuf>,
}

impl HparamsArgs {
    /// Reads the file or the preset.
    pub(crate) fn load(&self) -> Result<Hparams> {
        match &self.hparams {
            Some(path) => super::hparams::load(path),
            None => super::hparams::preset(&self.preset),
        }
    }
}

/// The chain, the subnet, the gateway, the run and its genesis model, the device.
#[derive(Debug, Clone, Args)]
pub(crate) struct NodeArgs {
    /// `finney`, `test`, `local` (ws://127.0.0.1:9944), or a ws:// / wss:// URL.
    #[arg(long, env = "KILN_CHAIN", default_value = "local")]
    pub(crate) chain: Network,
    /// The subnet.
    #[arg(long, env = "KILN_NETUID", default_value_t = 1)]
    pub(crate) netuid: u16,
    /// The storage gateway artifacts and manifests go through.
    #[arg(
        long,
        env = "KILN_GATEWAY_URL",
        default_value = "http://127.0.0.1:8780"
    )]
    pub(crate) gateway: String,
    /// Locator written into commitments (where others fetch the bytes).
    #[arg(long, env = "KILN_LOCATOR", default_value = "gw")]
    pub(crate) locator: String,
    #[command(flatten)]
    pub(crate) run: HparamsArgs,
    /// Genesis model architecture preset: tiny, small, 1b, 8b, 72b.
    #[arg(long, env = "KILN_MODEL", default_value = "tiny")]
    model: String,
    /// Genesis model as a Hugging Face `config.json` instead of a preset.
    #[arg(long, env = "KILN_MODEL_CONFIG", conflicts_with = "model")]
    model_config: Option<PathBuf>,
    /// Genesis model initialization seed.
    #[arg(long, env = "KILN_INIT_SEED", default_value_t = 0)]
    pub(crate) init_seed: u64,
    /// `cpu` or `cuda:N`.
    #[arg(long, env = "KILN_DEVICE", default_value = "cpu")]
    pub(crate) device: DeviceSpec,
}

impl NodeArgs {
    /// The run's parameters.
    pub(crate) fn hparams(&self) -> Result<Hparams> {
        self.run.load()
    }

    /// The genesis model's architecture.
    pub(crate) fn model(&self) -> Result<ModelConfig> {
        match &self.model_config {
            Some(path) => ModelConfig::read(path)
                .with_context(|| format!("reading the model config {}", path.display())),
            None => Ok(ModelConfig::preset(&self.model)?),
        }
    }
}
