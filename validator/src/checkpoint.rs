//! The validator's model on disk, crash-safe across a window's two writes: the checkpoint files
//! and the database row that names the model's state hash.
//!
//! A window's result is written to `model.next`, the database is updated in one transaction,
//! then `model.next` replaces `model` (the old one passes through `model.prev`). Whatever the
//! crash point, one of the three folders holds the model the database names, and
//! [`ModelFiles::recover`] finds it and makes it current again.

use candle_core::Device;
use kiln_protocol::Digest;
use kiln_training::{CheckpointError, Model, WEIGHTS_FILE};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The current checkpoint's folder inside the state directory.
pub const CURRENT: &str = "model";
/// A result not yet recorded in the database.
pub const NEXT: &str = "model.next";
/// The checkpoint being replaced.
pub const PREV: &str = "model.prev";

/// Why the model files could not be written or recovered.
#[derive(Debug, Error)]
pub enum ModelFilesError {
    /// A checkpoint could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Its state hash could not be computed.
    #[error("state hash: {0}")]
    Hash(String),
    /// Moving folders failed.
    #[error("{path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No folder holds the model the database names.
    #[error(
        "no checkpoint in {dir} has the state hash the database names ({want}); restore the \
         state directory or start on a fresh database"
    )]
    Missing {
        /// The state directory.
        dir: PathBuf,
        /// The wanted state hash, hex.
        want: String,
    },
}

/// The checkpoint folders of one state directory.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelFilesError + '_ {
    move |source| ModelFilesError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn remove(path: &Path) -> Result<(), ModelFilesError> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path)(e)),
        _ => Ok(()),
    }
}

fn hash(model: &Model) -> Result<Digest, ModelFilesError> {
    model
        .state_hash()
        .map_err(|e| ModelFilesError::Hash(e.to_string()))
}

impl ModelFiles {
    /// The folders under `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        ModelFiles {
            dir: state_dir.to_path_buf(),
        }
    }

    fn slot(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The current checkpoint, if there is one.
    pub fn current(&self, device: &Device) -> Result<Option<Model>, ModelFilesError> {
        let dir = self.slot(CURRENT);
        if !dir.join(WEIGHTS_FILE).exists() {
            return Ok(None);
        }
        Ok(Some(Model::load(&dir, device)?))
    }

    /// The current checkpoint's `model.safetensors` bytes (what is published).
    pub fn current_weights(&self) -> Result<Vec<u8>, ModelFilesError> {
        let path = self.slot(CURRENT).join(WEIGHTS_FILE);
        std::fs::read(&path).map_err(io(&path))
    }

    /// Finds the checkpoint whose state hash is `want` (`loaded`: the current one, already
    /// read), makes it current and removes the others.
    pub fn recover(
        &self,
        want: &Digest,
        loaded: Option<Model>,
        device: &Device,
    ) -> Result<Model, ModelFilesError> {
        if let Some(model) = loaded
            && hash(&model)? == *want
        {
            remove(&self.slot(NEXT))?;
            remove(&self.slot(PREV))?;
            return Ok(model);
        }
        for name in [NEXT, PREV] {
            let dir = self.slot(name);
            if !dir.join(WEIGHTS_FILE).exists() {
                continue;
            }
            let model = match Model::load(&dir, device) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "unreadable checkpoint");
                    continue;
                }
            };
            if hash(&model)? == *want {
                let current = self.slot(CURRENT);
                remove(&current)?;
                std::fs::rename(&dir, &current).map_err(io(&dir))?;
                remove(&self.slot(NEXT))?;
                remove(&self.slot(PREV))?;
                tracing::info!(from = name, "recovered the checkpoint the database names");
                return Ok(model);
            }
        }
        Err(ModelFilesError::Missing {
            dir: self.dir.clone(),
            want: want.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// Writes a result the database does not name yet.
    pub fn stage(&self, model: &Model) -> Result<(), ModelFilesError> {
        let next = self.slot(NEXT);
        remove(&next)?;
        model.save(&next)?;
        Ok(())
    }

    /// The staged result's `model.safetensors` bytes.
    pub fn staged_weights(&self) -> Result<Vec<u8>, ModelFilesError> {
        let path = self.slot(NEXT).join(WEIGHTS_FILE);
        std::fs::read(&path).map_err(io(&path))
    }

    /// Makes the staged result current (after the database names it).
    pub fn promote(&self) -> Result<(), ModelFilesError> {
        let (current, next, prev) = (self.slot(CURRENT), self.slot(NEXT), self.slot(PREV));
        remove(&prev)?;
        if current.exists() {
            std::fs::rename(&current, &prev).map_err(io(&current))?;
        }
        std::fs::rename(&next, &current).map_err(io(&next))?;
        remove(&prev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_training::ModelConfig;

    fn model(seed: u64) -> Model {
        Model::init(&ModelConfig::tiny(), seed, &Device::Cpu).unwrap()
    }

    #[test]
    fn every_crash_point_recovers_the_model_the_database_names() {
        let (old, new) = (model(1), model(2));
        let (h_old, h_new) = (hash(&old).unwrap(), hash(&new).unwrap());
        // Each step of stage + promote, stopped after `k` of them.
        for k in 0..=4 {
            let dir = tempfile::tempdir().unwrap();
            let files = ModelFiles::new(dir.path());
            old.save(&dir.path().join(CURRENT)).unwrap();
            let steps: [&dyn Fn(); 4] = [
                &|| files.stage(&new).unwrap(),
                &|| remove(&files.slot(PREV)).unwrap(),
                &|| std::fs::rename(files.slot(CURRENT), files.slot(PREV)).unwrap(),
                &|| std::fs::rename(files.slot(NEXT), files.slot(CURRENT)).unwrap(),
            ];
            for step in &steps[..k] {
                step();
            }
            // The database names the new model once staging is done (k ≥ 1), or still the old.
            for want in [h_old, h_new] {
                if want == h_new && k == 0 {
                    continue;
                }
                let scratch = tempfile::tempdir().unwrap();
                copy_dir(dir.path(), scratch.path());
                let files = ModelFiles::new(scratch.path());
                let loaded = files.current(&Device::Cpu).unwrap();
                let got = files.recover(&want, loaded, &Device::Cpu).unwrap();
                assert_eq!(hash(&got).unwrap(), want, "k={k}");
                let again = files.current(&Device::Cpu).unwrap().unwrap();
                assert_eq!(hash(&again).unwrap(), want, "k={k}");
                assert!(!scratch.path().join(NEXT).exists());
                assert!(!scratch.path().join(PREV).exists());
            }
        }
    }

    #[test]
    fn a_model_nobody_kept_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let files = ModelFiles::new(dir.path());
        model(1).save(&dir.path().join(CURRENT)).unwrap();
        let loaded = files.current(&Device::Cpu).unwrap();
        let err = files.recover(&[9; 32], loaded, &Device::Cpu).unwrap_err();
        assert!(matches!(err, ModelFilesError::Missing { .. }), "{err}");
        assert!(err.to_string().contains("0909"), "{err}");
    }

    #[test]
    fn promote_replaces_the_current_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let files = ModelFiles::new(dir.path());
        files.stage(&model(1)).unwrap();
        files.promote().unwrap();
        files.stage(&model(2)).unwrap();
        assert_eq!(
            files.staged_weights().unwrap(),
            std::fs::read(dir.path().join(NEXT).join(WEIGHTS_FILE)).unwrap()
        );
        files.promote().unwrap();
        let current = files.current(&Device::Cpu).unwrap().unwrap();
        assert_eq!(hash(&current).unwrap(), hash(&model(2)).unwrap());
        assert!(!dir.path().join(NEXT).exists() && !dir.path().join(PREV).exists());
    }

    fn copy_dir(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                std::fs::create_dir_all(&target).unwrap();
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
}
