//! The warm start: the genesis model after some windows of plain training on the dataset, which
//! every participant of a local run starts from (as if joining a run under way). At genesis one
//! update helps every row alike, so the assigned-data check cannot yet tell miners apart.

use candle_core::Device;
use kiln_protocol::Hparams;
use kiln_training::data::{Dataset, DatasetError};
use kiln_training::{
    AdamW, CheckpointError, EvalError, InnerConfig, Model, ModelConfig, ModelError, TrainError,
    outer_step, train_inner,
};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why the warm-start model could not be made.
#[derive(Debug, Error)]
pub enum WarmError {
    /// The dataset could not be read.
    #[error("reading the dataset: {0}")]
    Data(#[from] DatasetError),
    /// The model could not be built.
    #[error("{0}")]
    Model(#[from] ModelError),
    /// The optimizer could not be built.
    #[error("{0}")]
    Optim(#[from] kiln_training::optim::OptimError),
    /// A training step failed.
    #[error("{0}")]
    Train(#[from] TrainError),
    /// The outer step failed.
    #[error("{0}")]
    Outer(#[from] EvalError),
    /// The checkpoint could not be written.
    #[error("{0}")]
    Save(#[from] CheckpointError),
    /// The checkpoint could not be moved into place.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The training task failed.
    #[error("the warm-start training task failed: {0}")]
    Task(String),
}

/// Rows per warm-start window.
const ROWS: u64 = 32;

/// The tiny model trained `windows` windows on `dataset`, saved under `cache` (made once:
/// later calls reuse it). Returns the checkpoint folder.
pub async fn warm_model(dataset: &Path, cache: &Path, windows: u64) -> Result<PathBuf, WarmError> {
    let dir = cache.join(format!("warm-tiny-{windows}"));
    if dir.join(kiln_training::WEIGHTS_FILE).is_file() {
        return Ok(dir);
    }
    let data = Dataset::open_dir(dataset).await?;
    let n = data.rows();
    let mut batches = Vec::new();
    for w in 0..windows {
        let rows: Vec<u64> = (0..ROWS).map(|i| (w * ROWS + i) % n).collect();
        batches.push(data.read_rows(&rows).await?);
    }
    let out = dir.clone();
    tokio::task::spawn_blocking(move || train(&batches, &out))
        .await
        .map_err(|e| WarmError::Task(e.to_string()))??;
    Ok(dir)
}

fn train(batches: &[Vec<u32>], out: &Path) -> Result<(), WarmError> {
    let hp = Hparams::tiny();
    let model = Model::init(&ModelConfig::tiny(), 0, &Device::Cpu)?;
    let steps = u64::from(hp.inner.steps);
    let cfg = InnerConfig::from_hparams(&hp, 10_000);
    let mut opt = AdamW::new(&model, cfg.adamw)?;
    for (w, rows) in batches.iter().enumerate() {
        let done = train_inner(
            &model,
            &mut opt,
            rows,
            hp.data.seq_len as usize,
            w as u64 * steps,
            &cfg,
        )?;
        let agg: Vec<(&str, &[f32])> = done
            .delta
            .iter()
            .map(|d| (d.name.as_str(), d.values.as_slice()))
            .collect();
        outer_step(&model, &agg, 1.0)?;
    }
    let tmp = out.with_extension("partial");
    let _ = std::fs::remove_dir_all(&tmp);
    model.save(&tmp)?;
    std::fs::rename(&tmp, out)?;
    Ok(())
}
