//! Where a miner or validator reads its token-shard dataset from.

use super::s3::S3Args;
use anyhow::{Context, Result};
use clap::Args;
use kiln_storage_gateway::StoreConfig;
use kiln_training::data::Dataset;
use std::path::{Path, PathBuf};

/// A dataset folder or S3 prefix, with an optional local shard cache.
#[derive(Debug, Clone, Args)]
pub(crate) struct DatasetArgs {
    /// Token-shard dataset (with `manifest.json`): a folder, or `s3://BUCKET/PREFIX` on the S3
    /// server the `--s3-*` flags describe.
    #[arg(long, env = "KILN_DATASET")]
    pub(crate) dataset: Option<String>,
    /// Keep verified shards of a remote dataset in this folder.
    #[arg(long, env = "KILN_DATA_CACHE")]
    pub(crate) data_cache: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) s3: S3Args,
}

impl DatasetArgs {
    /// Opens the dataset (reads and checks its manifest).
    pub(crate) async fn open(&self) -> Result<Dataset> {
        let spec = self
            .dataset
            .as_deref()
            .context("--dataset (or KILN_DATASET) is required")?;
        let (store, prefix) = match spec.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                (self.s3.store(bucket.to_owned()).open()?, prefix)
            }
            None if !Path::new(spec).is_dir() => {
                anyhow::bail!("no such folder (nor an s3:// URL)")
            }
            None => (
                StoreConfig::Local {
                    dir: PathBuf::from(spec),
                }
                .open()?,
                "",
            ),
        };
        Dataset::open(store, prefix, self.data_cache.clone())
            .await
            .with_context(|| format!("opening the dataset {spec}"))
    }
}
