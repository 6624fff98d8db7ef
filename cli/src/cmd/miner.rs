//! `kiln miner`: train on the assigned rows every window, upload through the gateway and commit
//! the artifact's blake3 on chain.

use super::hparams::hex;
use super::keys::KeyArgs;
use anyhow::{Context, Result};
use clap::Args;
use kiln_miner::{Cheat, Miner, MinerConfig, MinerEvent, Outcome};
use kiln_runtime_client::keys::parse_account;
use kiln_runtime_client::{Client, ClientOptions};
use kiln_storage_gateway::GatewayClient;
use kiln_storage_gateway::server::MetricsServer;
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `kiln miner`.
#[derive(Debug, Args)]
pub(crate) struct MinerArgs {
    #[command(flatten)]
    node: super::node::NodeArgs,
    #[command(flatten)]
    keys: KeyArgs,
    #[command(flatten)]
    data: super::source::DatasetArgs,
    /// Folder for the error-feedback state and the model checkpoint.
    #[arg(long, env = "KILN_STATE_DIR", default_value = "kiln-data/miner")]
    state_dir: PathBuf,
    /// Rows per forward/backward pass (must divide the hparams' batch rows).
    #[arg(long, env = "KILN_MICRO_BATCH_ROWS")]
    micro_batch_rows: Option<usize>,
    /// Windows over which the inner learning rate decays to its floor.
    #[arg(long, env = "KILN_SCHEDULE_WINDOWS", default_value_t = 10_000)]
    schedule_windows: u64,
    /// Blocks of margin a commitment needs before the window's deadline.
    #[arg(long, env = "KILN_COMMIT_MARGIN", default_value_t = 1)]
    commit_margin: u64,
    /// Blocks into a window to wait for the previous window's manifest (default: the commit
    /// grace plus a quarter of a window).
    #[arg(long, env = "KILN_MANIFEST_WAIT_BLOCKS")]
    manifest_wait_blocks: Option<u64>,
    /// Follow this validator's manifests (default: the manifest publisher with the most stake).
    #[arg(long, env = "KILN_VALIDATOR")]
    validator: Option<String>,
    /// Stop after this many windows.
    #[arg(long, env = "KILN_WINDOWS")]
    windows: Option<u64>,
    /// Serve Prometheus metrics on this address.
    #[arg(long, env = "KILN_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Print one JSON object per event on stdout instead of text lines.
    #[arg(long, env = "KILN_JSON")]
    json: bool,
    /// Misbehave on purpose, to demonstrate and test validators (who give such a miner no
    /// weight): `random-data` trains on rows other than the assignment, `malformed` uploads
    /// bytes that are not an artifact, `oversized` uploads the artifact padded to 4x its size,
    /// `zeros` uploads an all-zero update, `stale` never applies manifests, `copycat` commits
    /// another miner's digest.
    #[arg(long, env = "KILN_CHEAT")]
    cheat: Option<Cheat>,
}

impl MinerArgs {
    pub(crate) fn run(self) -> Result<()> {
        super::block_on(self.run_async())
    }

    /// `--check-config`: everything the miner reads before it connects anywhere.
    pub(crate) fn check(&self) -> Result<()> {
        self.node.hparams()?.window_clock()?;
        self.node.model()?;
        self.validator.as_deref().map(parse_account).transpose()?;
        Ok(())
    }

    fn config(&self) -> Result<MinerConfig> {
        let hparams = self.node.hparams()?;
        let model = self.node.model()?;
        let manifest_wait_blocks = self
            .manifest_wait_blocks
            .unwrap_or(hparams.window.commit_grace_blocks + hparams.window.blocks_per_window / 4);
        Ok(MinerConfig {
            netuid: self.node.netuid,
            hparams,
            model,
            init_seed: self.node.init_seed,
            device: self.node.device.open()?,
            state_dir: self.state_dir.clone(),
            micro_batch_rows: self.micro_batch_rows,
            schedule_windows: self.schedule_windows,
            commit_margin: self.commit_margin,
            manifest_wait_blocks,
            validator: self.validator.as_deref().map(parse_account).transpose()?,
            locator: self.node.locator.clone(),
            windows: self.windows,
            cheat: self.cheat,
        })
    }

    async fn run_async(self) -> Result<()> {
        let config = self.config()?;
        let hotkey = self.keys.hotkey()?;
        let _metrics = match self.metrics_listen {
            Some(addr) => {
                let server = MetricsServer::start(addr)
                    .await
                    .with_context(|| format!("serving metrics on {addr}"))?;
                tracing::info!(addr = %server.addr(), "metrics");
                if self.json {
                    println!(
                        "{}",
                        json!({"event": "metrics", "listen": server.addr().to_string()})
                    );
                }
                Some(server)
            }
            None => None,
        };
        let chain = Client::connect(self.node.chain.clone(), ClientOptions::default()).await?;
        let gateway = GatewayClient::new(
            &self.node.gateway,
            self.node.netuid,
            Duration::from_secs(120),
            3,
        )?;
        let dataset = self.data.open().await?;
        let (miner, started) = Miner::start(config, chain, gateway, dataset, hotkey).await?;
        let json = self.json;
        print_event(&started, json);
        miner
            .run(move |e| print_event(&e, json), shutdown_signal())
            .await?;
        Ok(())
    }
}

/// Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn event_json(e: &MinerEvent) -> serde_json::Value {
    match e {
        MinerEvent::Started {
            uid,
            model_hash,
            feedback_hash,
            last_window,
        } => json!({
            "event": "started", "uid": uid, "model_hash": hex(model_hash),
            "feedback_hash": hex(feedback_hash), "last_window": last_window,
        }),
        MinerEvent::Synced {
            windows,
            model_hash,
        } => json!({"event": "synced", "windows": windows, "model_hash": hex(model_hash)}),
        MinerEvent::ManifestGap { window } => json!({"event": "manifest_gap", "window": window}),
        MinerEvent::Window(r) => {
            let mut v = json!({
                "event": "window", "window": r.window, "outcome": r.outcome.name(),
                "base_model_hash": hex(&r.base_model_hash), "losses": r.losses,
                "tokens": r.tokens, "train_seconds": r.train_seconds,
                "upload_seconds": r.upload_seconds, "feedback_hash": hex(&r.feedback_hash),
                "incentive": r.incentive,
            });
            match &r.outcome {
                Outcome::Committed {
                    block,
                    digest,
                    bytes,
                } => {
                    v["block"] = json!(block);
                    v["digest"] = json!(hex(digest));
                    v["bytes"] = json!(bytes);
                }
                Outcome::TooLate { deadline, block } => {
                    v["deadline"] = json!(deadline);
                    v["block"] = json!(block);
                }
                Outcome::LateInclusion { block, deadline } => {
                    v["deadline"] = json!(deadline);
                    v["block"] = json!(block);
                }
                Outcome::UploadFailed(m) | Outcome::CommitFailed(m) | Outcome::DataFailed(m) => {
                    v["error"] = json!(m);
                }
            }
            v
        }
    }
}

fn print_event(e: &MinerEvent, json: bool) {
    if json {
        println!("{}", event_json(e));
        return;
    }
    match e {
        MinerEvent::Started {
            uid,
            model_hash,
            last_window,
            ..
        } => println!(
            "miner uid {uid}: model {}, last committed window {}",
            &hex(model_hash)[..16],
            last_window.map_or("none".into(), |w| w.to_string())
        ),
        MinerEvent::Synced {
            windows,
            model_hash,
        } => println!(
            "applied manifests of windows {windows:?}: model {}",
            &hex(model_hash)[..16]
        ),
        MinerEvent::ManifestGap { window } => {
            println!("window {window}: no manifest in time; training on the current model")
        }
        MinerEvent::Window(r) => {
            let loss = r.losses.last().copied().unwrap_or(f64::NAN);
            let tps = r.tokens as f64 / r.train_seconds.max(1e-9);
            let detail = match &r.outcome {
                Outcome::Committed {
                    block,
                    digest,
                    bytes,
                } => format!(
                    "committed {} ({bytes} B, upload {:.2}s) at block {block}",
                    &hex(digest)[..16],
                    r.upload_seconds
                ),
                other => format!("{} ({:?})", other.name(), other),
            };
            println!(
                "window {}: loss {loss:.4}, {tps:.0} tokens/s, incentive {:.4}; {detail}",
                r.window, r.incentive
            );
        }
    }
}
