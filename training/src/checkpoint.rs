//! Checkpoints as Hugging Face lays them out: a directory with `config.json` and
//! `model.safetensors` (f32, HF tensor names).

use crate::config::{ConfigReadError, ModelConfig};
use crate::model::{Model, ModelError};
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The weights file inside a checkpoint directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The architecture file inside a checkpoint directory.
pub const CONFIG_FILE: &str = "config.json";

/// Why a checkpoint could not be written or read.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `config.json` is not a usable LLaMA config.
    #[error(transparent)]
    Config(#[from] ConfigReadError),
    /// The safetensors file is malformed.
    #[error("safetensors: {0}")]
    Safetensors(#[from] candle_core::Error),
    /// A parameter the config needs is absent.
    #[error("checkpoint lacks tensor {0:?}")]
    Missing(String),
    /// A tensor the config does not know.
    #[error("checkpoint has unexpected tensor {0:?}")]
    Unexpected(String),
    /// A tensor has the wrong shape.
    #[error("tensor {name:?} has shape {got:?}, the config needs {expected:?}")]
    Shape {
        /// The tensor.
        name: String,
        /// What the config needs.
        expected: Vec<usize>,
        /// What the file holds.
        got: Vec<usize>,
    },
    /// A tensor holds integers, not floats.
    #[error("tensor {name:?} has dtype {dtype:?}, expected a float type")]
    Dtype {
        /// The tensor.
        name: String,
        /// Its dtype.
        dtype: DType,
    },
    /// Building the model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Model {
    /// Writes `config.json` and `model.safetensors` into `dir` (created if needed). Each file is
    /// written to a temporary name and renamed, so a crash never leaves a half-written file.
    pub fn save(&self, dir: &Path) -> Result<(), CheckpointError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let config = serde_json::to_vec_pretty(&self.config().to_hf_json())
            .map_err(ConfigReadError::Json)?;
        write_atomic(&dir.join(CONFIG_FILE), |tmp| {
            std::fs::write(tmp, &config).map_err(io(tmp))
        })?;
        let tensors: HashMap<&str, Tensor> = self
            .params()
            .iter()
            .map(|(n, v)| Ok((n.as_str(), v.as_tensor().to_device(&Device::Cpu)?)))
            .collect::<Result<_, candle_core::Error>>()?;
        write_atomic(&dir.join(WEIGHTS_FILE), |tmp| {
            Ok(candle_core::safetensors::save(&tensors, tmp)?)
        })
    }

    /// Reads a checkpoint directory onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, CheckpointError> {
        let config = ModelConfig::read(&dir.join(CONFIG_FILE))?;
        Self::load_weights(&config, &dir.join(WEIGHTS_FILE), device)
    }

    /// Reads `model.safetensors` for a known config. Every tensor the config needs must be
    /// present with its exact shape; f16/bf16/f64 values are converted to f32. Tensors the model
    /// does not use are refused, except Hugging Face's `rotary_emb.inv_freq` buffers and, for
    /// tied embeddings, a duplicate `lm_head.weight`.
    pub fn load_weights(
        config: &ModelConfig,
        path: &Path,
        device: &Device,
    ) -> Result<Self, CheckpointError> {
        config.validate().map_err(ConfigReadError::from)?;
        let bytes = std::fs::read(path).map_err(io(path))?;
        let mut found = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)?;
        let mut tensors = Vec::new();
        for (name, shape) in config.parameter_shapes() {
            let t = found
                .remove(&name)
                .ok_or_else(|| CheckpointError::Missing(name.clone()))?;
            if t.dims() != shape.as_slice() {
                return Err(CheckpointError::Shape {
                    name,
                    expected: shape,
                    got: t.dims().to_vec(),
                });
            }
            if !t.dtype().is_float() {
                return Err(CheckpointError::Dtype {
                    name,
                    dtype: t.dtype(),
                });
            }
            tensors.push((name, t));
        }
        let ignorable = |n: &str| {
            n.ends_with("rotary_emb.inv_freq")
                || (config.tie_word_embeddings && n == "lm_head.weight")
        };
        if let Some(extra) = found.keys().filter(|n| !ignorable(n)).min() {
            return Err(CheckpointError::Unexpected(extra.clone()));
        }
        Ok(Self::from_tensors(config, tensors, device)?)
    }
}

fn write_atomic(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), CheckpointError>,
) -> Result<(), CheckpointError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    write(&tmp)?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trips_state_hash() {
        let dir = tempfile::tempdir().unwrap();
        for tied in [true, false] {
            let config = ModelConfig {
                tie_word_embeddings: tied,
                ..ModelConfig::tiny()
            };
            let m = Model::init(&config, 3, &Device::Cpu).unwrap();
            let path = dir.path().join(format!("tied-{tied}"));
            m.save(&path).unwrap();
            let back = Model::load(&path, &Device::Cpu).unwrap();
            assert_eq!(back.config(), &config);
            assert_eq!(back.state_hash().unwrap(), m.state_hash().unwrap());
            let names: Vec<&str> = back.params().iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names.contains(&"lm_head.weight"), !tied);
        }
    }

    #[test]
    fn mismatched_checkpoints_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let m = Model::init(&ModelConfig::tiny(), 3, &Device::Cpu).unwrap();
        m.save(dir.path()).unwrap();
        let weights = dir.path().join(WEIGHTS_FILE);
        let wider = ModelConfig {
            hidden_size: 128,
            ..ModelConfig::tiny()
        };
        assert!(matches!(
            Model::load_weights(&wider, &weights, &Device::Cpu),
            Err(CheckpointError::Shape { .. })
        ));
        let deeper = ModelConfig {
            num_hidden_layers: 3,
            ..ModelConfig::tiny()
        };
        assert!(matches!(
            Model::load_weights(&deeper, &weights, &Device::Cpu),
            Err(CheckpointError::Missing(n)) if n.starts_with("model.layers.2.")
        ));
        let shallower = ModelConfig {
            num_hidden_layers: 1,
            ..ModelConfig::tiny()
        };
        assert!(matches!(
            Model::load_weights(&shallower, &weights, &Device::Cpu),
            Err(CheckpointError::Unexpected(n)) if n.starts_with("model.layers.1.")
        ));
        std::fs::write(&weights, b"\x10\0\0\0\0\0\0\0{not json at all}").unwrap();
        assert!(matches!(
            Model::load(dir.path(), &Device::Cpu),
            Err(CheckpointError::Safetensors(_))
        ));
        assert!(matches!(
            Model::load(&dir.path().join("absent"), &Device::Cpu),
            Err(CheckpointError::Config(ConfigReadError::Io { .. }))
        ));
    }
}
