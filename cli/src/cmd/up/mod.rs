//! `kiln up`: the whole subnet on this machine in one command: a devnet, the storage gateway,
//! Postgres, one validator with its dashboard API, honest miners and, on request, cheaters;
//! with a live view of every window and a summary at the end.

mod view;

use anyhow::{Context, Result};
use clap::Args;
use kiln_stack::{Behaviour, S3, Stack, StackConfig, Summary};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `kiln up`.
#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// Honest miners.
    #[arg(long, env = "KILN_UP_MINERS", default_value_t = 3)]
    miners: usize,
    /// Cheating miners to add, comma-separated: random-data, copycat, zeros, stale, malformed,
    /// oversized (one miner each; repeat a name for more).
    #[arg(long, env = "KILN_UP_CHEATERS", value_delimiter = ',')]
    cheaters: Vec<Behaviour>,
    /// Run this many scored windows, print the summary and exit (default: until Ctrl-C).
    #[arg(long, env = "KILN_UP_WINDOWS")]
    windows: Option<u64>,
    /// Also write the summary to this file as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Kept across runs: the synthetic dataset and the warm-start model; each run's files and
    /// logs go to `run/` inside, made afresh.
    #[arg(long, env = "KILN_UP_DIR", default_value = ".kiln-up")]
    state_dir: PathBuf,
    /// Milliseconds between devnet blocks (a window is 20 blocks).
    #[arg(long, env = "KILN_BLOCK_TIME_MS", default_value_t = 400)]
    block_time_ms: u64,
    /// Create the run's database on this PostgreSQL server instead of running a private
    /// cluster (the database is dropped at exit).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Keep the gateway's artifacts in this S3 bucket (`s3://BUCKET`) instead of a local
    /// folder; the server and credentials come from the `--s3-*` flags.
    #[arg(long, env = "KILN_UP_S3", value_name = "URL")]
    s3: Option<String>,
    #[command(flatten)]
    s3_args: super::s3::S3Args,
    /// Windows of plain training every participant starts from, as if joining a run under
    /// way (0: the genesis model, where the assigned-data check cannot tell miners apart yet).
    #[arg(long, default_value_t = 30)]
    warm_windows: u64,
    /// Print each window as lines instead of redrawing the screen.
    #[arg(long)]
    plain: bool,
}

impl UpArgs {
    pub(crate) fn run(self) -> Result<()> {
        super::block_on(self.run_async())
    }

    fn config(&self) -> Result<StackConfig> {
        let bin = std::env::current_exe().context("locating the kiln binary")?;
        let mut miners = vec![Behaviour::Honest; self.miners];
        miners.extend(self.cheaters.iter().copied());
        anyhow::ensure!(!miners.is_empty(), "no miners: pass --miners or --cheaters");
        let mut cfg = StackConfig::new(bin, self.state_dir.clone(), miners);
        cfg.block_time_ms = self.block_time_ms;
        cfg.database_url = self.database_url.clone();
        cfg.windows = self.windows;
        cfg.warm_windows = self.warm_windows;
        if let Some(url) = &self.s3 {
            let bucket = url
                .strip_prefix("s3://")
                .map(|b| b.trim_end_matches('/'))
                .filter(|b| !b.is_empty() && !b.contains('/'))
                .with_context(|| format!("--s3 {url:?}: expected s3://BUCKET"))?;
            let a = &self.s3_args;
            cfg.s3 = Some(S3 {
                bucket: bucket.to_string(),
                endpoint: a.s3_endpoint.clone(),
                region: a.s3_region.clone(),
                path_style: a.s3_path_style,
                allow_http: a.s3_allow_http,
                access_key_id: a.s3_access_key_id.clone(),
                secret_access_key: a.s3_secret_access_key.clone(),
            });
        }
        Ok(cfg)
    }

    async fn run_async(self) -> Result<()> {
        let cfg = self.config()?;
        let blocks = kiln_protocol::Hparams::tiny().window.blocks_per_window;
        let window_secs = cfg.block_time_ms * blocks / 1000;
        let mut view = view::View::new(self.plain);
        let stop = super::miner::shutdown_signal();
        tokio::pin!(stop);
        let stack = tokio::select! {
            s = Stack::start(cfg, |step| view.step(step)) => s?,
            _ = &mut stop => {
                eprintln!("interrupted while starting; everything started is stopped");
                return Ok(());
            }
        };
        view.started(&stack);
        let mut stack = stack;
        let mut reports = Vec::new();
        let wait = Duration::from_secs(window_secs * 10 + 120);
        let outcome = loop {
            tokio::select! {
                r = stack.next_window(wait) => match r {
                    Ok(Some(report)) => {
                        view.window(&stack, &report);
                        reports.push(report);
                    }
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                },
                _ = &mut stop => {
                    eprintln!("stopping…");
                    break Ok(());
                }
            }
        };
        let summary = Summary::of(&reports, &stack.components());
        let logs = stack.run_dir().join("logs");
        stack.stop().await;
        // The summary also when the run failed: it names the component that did.
        view.summary(&summary);
        if let Some(path) = &self.json {
            std::fs::write(path, serde_json::to_vec_pretty(&summary)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        outcome.with_context(|| format!("the logs are in {}", logs.display()))
    }
}
