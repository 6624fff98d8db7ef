//! `kiln model`: create checkpoints and print their base-model hash.

use super::hparams::hex;
use anyhow::Result;
use candle_core::Device;
use clap::Subcommand;
use kiln_training::{Model, ModelConfig};
use std::path::PathBuf;

/// `kiln model ...`
#[derive(Debug, Subcommand)]
pub(crate) enum ModelCmd {
    /// Write a freshly initialized checkpoint (`config.json` + `model.safetensors`).
    Init {
        /// Architecture preset: tiny, small, 1b, 8b, 72b.
        #[arg(long, env = "KILN_MODEL", default_value = "tiny")]
        preset: String,
        /// A Hugging Face `config.json` instead of a preset.
        #[arg(long, conflicts_with = "preset")]
        config: Option<PathBuf>,
        /// Initialization seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print a checkpoint's architecture, parameter count and state hash (the base-model hash
    /// artifacts name).
    Hash {
        /// Checkpoint directory.
        dir: PathBuf,
    },
}

impl ModelCmd {
    pub(crate) fn run(self) -> Result<()> {
        match self {
            Self::Init {
                preset,
                config,
                seed,
                out,
            } => {
                let config = match config {
                    Some(path) => ModelConfig::read(&path)?,
                    None => ModelConfig::preset(&preset)?,
                };
                let model = Model::init(&config, seed, &Device::Cpu)?;
                model.save(&out)?;
                println!("{} {}", hex(&model.state_hash()?), out.display());
                Ok(())
            }
            Self::Hash { dir } => {
                let model = Model::load(&dir, &Device::Cpu)?;
                let c = model.config();
                println!("parameters {}", c.parameter_count());
                println!(
                    "layers {} hidden {} vocab {}",
                    c.num_hidden_layers, c.hidden_size, c.vocab_size
                );
                println!("state_hash {}", hex(&model.state_hash()?));
                Ok(())
            }
        }
    }
}
