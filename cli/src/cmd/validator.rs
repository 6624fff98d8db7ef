//! `kiln validator`: score every window, record it in Postgres, set weights and publish the
//! aggregation manifest.

use super::hparams::hex;
use super::http::Server;
use super::keys::KeyArgs;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use kiln_runtime_client::{Client, ClientOptions};
use kiln_storage_gateway::GatewayClient;
use kiln_storage_gateway::server::prometheus;
use kiln_validator::db::Db;
use kiln_validator::fetch::Sources;
use kiln_validator::http::HttpState;
use kiln_validator::node::{Validator, ValidatorConfig, WindowSummary};
use kiln_validator::replay::replay;
use kiln_validator::weights::RankSchedule;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `kiln validator`.
#[derive(Debug, Args)]
pub(crate) struct ValidatorArgs {
    #[command(subcommand)]
    command: Option<ValidatorCmd>,
    #[command(flatten)]
    node: super::node::NodeArgs,
    #[command(flatten)]
    keys: KeyArgs,
    /// Postgres URL (one database per validator and run); required to validate.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    #[command(flatten)]
    data: super::source::DatasetArgs,
    /// Folder of the validator's model checkpoint.
    #[arg(long, env = "KILN_STATE_DIR", default_value = "kiln-data/validator")]
    state_dir: PathBuf,
    /// Rows per forward pass when evaluating.
    #[arg(long, env = "KILN_EVAL_MICRO_BATCH_ROWS", default_value_t = 32)]
    micro_batch_rows: usize,
    /// Most miners evaluated per window (the rest rotate in later windows).
    #[arg(long, env = "KILN_MAX_EVALUATIONS", default_value_t = 64)]
    max_evaluations: usize,
    /// Most artifacts aggregated per window.
    #[arg(long, env = "KILN_MAX_PEERS", default_value_t = 20)]
    max_peers: usize,
    /// Parallel artifact downloads.
    #[arg(long, env = "KILN_FETCH_CONCURRENCY", default_value_t = 8)]
    fetch_concurrency: usize,
    /// Largest artifact fetched, in bytes.
    #[arg(long, env = "KILN_MAX_ARTIFACT_BYTES", default_value_t = 2 << 30)]
    max_artifact_bytes: u64,
    /// Fetch artifacts whose commitment names locator ID from the gateway at URL (repeat for
    /// several); any other locator is fetched from `--gateway`.
    #[arg(
        long,
        env = "KILN_LOCATOR_GATEWAYS",
        value_delimiter = ',',
        value_name = "ID=URL"
    )]
    locator_gateway: Vec<String>,
    /// At start-up, score at most this many windows that closed while the validator was down
    /// (older ones are skipped: a pruned node no longer holds their state).
    #[arg(long, env = "KILN_MAX_CATCH_UP_WINDOWS", default_value_t = 2)]
    max_catch_up_windows: u64,
    /// Publish a checkpoint of the model with the manifest of every window divisible by this
    /// (0: never).
    #[arg(long, env = "KILN_CHECKPOINT_EVERY", default_value_t = 10)]
    checkpoint_every: u64,
    #[command(flatten)]
    http: super::http::HttpArgs,
    /// `/healthz` reports stale (503) once no block has arrived for this many seconds.
    #[arg(long, env = "KILN_STALE_AFTER_SECS", default_value_t = 120)]
    stale_after_secs: u64,
    /// The subnet's weights version key.
    #[arg(long, env = "KILN_WEIGHTS_VERSION_KEY", default_value_t = 0)]
    version_key: u64,
    /// Stop after scoring this many windows.
    #[arg(long, env = "KILN_WINDOWS")]
    windows: Option<u64>,
    /// Serve the web dashboard (`/`), the API (`/api/v1`), `/metrics`, `/healthz` and `/readyz`
    /// on this address (port 0: any free port).
    #[arg(long, env = "KILN_LISTEN", default_value = "127.0.0.1:8781")]
    listen: SocketAddr,
    /// Print one JSON object per scored window on stdout instead of text lines.
    #[arg(long, env = "KILN_JSON")]
    json: bool,
}

/// `kiln validator` subcommands.
#[derive(Debug, Subcommand)]
enum ValidatorCmd {
    /// Recompute recorded windows' scores and weights from the database and compare them with
    /// what was recorded; exits 1 on any difference.
    Replay(ReplayArgs),
}

/// Arguments of `kiln validator replay`.
#[derive(Debug, Args)]
struct ReplayArgs {
    /// The window to recompute (repeat for several).
    #[arg(long, required = true)]
    window: Vec<u64>,
    /// Postgres URL of the validator's database.
    #[arg(
        long = "database-url",
        id = "replay_database_url",
        env = "DATABASE_URL",
        hide_env_values = true
    )]
    database_url: String,
    /// The run parameters the validator ran with.
    #[command(flatten)]
    run: super::node::HparamsArgs,
}

impl ReplayArgs {
    async fn run(self) -> Result<()> {
        let h = self.run.load()?;
        let db = Db::connect(&self.database_url)
            .await
            .context("connecting to Postgres")?;
        let params = kiln_validator::score::ScoreParams {
            bma_alpha: h.evaluation.bma_alpha,
            ..Default::default()
        };
        let mut all = true;
        for w in &self.window {
            let r = replay(
                &db,
                *w,
                &params,
                &RankSchedule::default(),
                h.window.windows_per_weights,
            )
            .await?;
            for (uid, recorded, again) in &r.finals {
                println!("window {w} uid {uid}: recorded {recorded} recomputed {again}");
            }
            if let Some((recorded, again)) = &r.weights {
                println!("window {w} weights: recorded {recorded:?} recomputed {again:?}");
            }
            let ok = r.matches();
            println!("window {w}: {}", if ok { "match" } else { "MISMATCH" });
            all &= ok;
        }
        if !all {
            anyhow::bail!("recomputed scores or weights differ from the record");
        }
        Ok(())
    }
}

impl ValidatorArgs {
    pub(crate) fn run(self) -> Result<()> {
        match self.command {
            Some(ValidatorCmd::Replay(r)) => super::block_on(r.run()),
            None => super::block_on(self.run_async()),
        }
    }

    /// `--check-config`: everything the validator reads before it connects anywhere.
    pub(crate) fn check(&self) -> Result<()> {
        self.node.hparams()?.window_clock()?;
        self.node.model()?;
        self.database_url
            .as_deref()
            .context("--database-url (or DATABASE_URL) is required")?;
        self.locator_gateways()?;
        Ok(())
    }

    /// `--locator-gateway ID=URL` entries.
    fn locator_gateways(&self) -> Result<Vec<(&str, &str)>> {
        self.locator_gateway
            .iter()
            .map(|entry| {
                entry
                    .split_once('=')
                    .with_context(|| format!("--locator-gateway {entry:?}: expected ID=URL"))
            })
            .collect()
    }

    fn config(&self) -> Result<ValidatorConfig> {
        let hparams = self.node.hparams()?;
        let model = self.node.model()?;
        Ok(ValidatorConfig {
            netuid: self.node.netuid,
            hparams,
            model,
            init_seed: self.node.init_seed,
            device: self.node.device.open()?,
            device_name: self.node.device.to_string(),
            state_dir: self.state_dir.clone(),
            micro_batch_rows: self.micro_batch_rows,
            max_evaluations: self.max_evaluations,
            max_peers: self.max_peers,
            fetch_concurrency: self.fetch_concurrency,
            max_artifact_bytes: self.max_artifact_bytes,
            version_key: self.version_key,
            locator: self.node.locator.clone(),
            checkpoint_every: self.checkpoint_every,
            max_catch_up_windows: self.max_catch_up_windows,
            windows: self.windows,
        })
    }

    async fn run_async(self) -> Result<()> {
        let config = self.config()?;
        let config_clock = config.hparams.window_clock()?;
        let hotkey = self.keys.hotkey()?;
        let url = self
            .database_url
            .as_deref()
            .context("--database-url (or DATABASE_URL) is required")?;
        let db = Db::connect(url).await.context("connecting to Postgres")?;
        let chain = Client::connect(self.node.chain.clone(), ClientOptions::default()).await?;
        let client =
            |url: &str| GatewayClient::new(url, self.node.netuid, Duration::from_secs(60), 2);
        let mut named = BTreeMap::new();
        for (id, url) in self.locator_gateways()? {
            named.insert(id.to_owned(), client(url)?);
        }
        let sources = Sources::new(client(&self.node.gateway)?, named);
        let dataset = self.data.open().await?;
        // The recorder first: the validator registers its metrics as it starts.
        let prometheus = prometheus();
        let validator = Validator::start(config, chain, sources, db, dataset, hotkey).await?;
        let state = HttpState {
            db: validator.db().clone(),
            health: validator.health(),
            stale_after: Duration::from_secs(self.stale_after_secs),
            prometheus,
            chain: Some(self.node.chain.to_string()),
            clock: Some(config_clock),
        };
        let server = Server::start(self.listen, state, &self.http).await?;
        let addr = server.addr;
        print_started(validator.uid(), addr, self.json);
        let json = self.json;
        validator
            .run(
                move |s| print_summary(s, json),
                super::miner::shutdown_signal(),
            )
            .await?;
        server.stop().await?;
        Ok(())
    }
}

fn print_started(uid: u16, addr: SocketAddr, json: bool) {
    if json {
        println!(
            "{}",
            json!({"event": "started", "uid": uid, "listen": addr.to_string()})
        );
    } else {
        println!("kiln validator: uid {uid}; http://{addr}/healthz, /readyz, /metrics");
    }
}

fn print_summary(s: &WindowSummary, json: bool) {
    let weights = s.weights.as_ref().map(|w| {
        w.iter()
            .map(|(u, x)| json!({"uid": u, "weight": x}))
            .collect::<Vec<_>>()
    });
    if json {
        let v = json!({
            "event": "window",
            "window": s.window,
            "outcomes": s.outcomes.iter().map(|(u, o)| (u.to_string(), json!(o))).collect::<serde_json::Map<_, _>>(),
            "finals": s.finals.iter().map(|(u, f)| (u.to_string(), json!(f))).collect::<serde_json::Map<_, _>>(),
            "weights": weights,
            "manifest": s.manifest.as_ref().map(|(d, peers)| json!({"digest": hex(d), "peers": peers})),
            "model_hash": hex(&s.model_hash),
        });
        println!("{v}");
        return;
    }
    let outcomes: Vec<String> = s
        .outcomes
        .iter()
        .map(|(u, o)| {
            format!(
                "{u}:{o}({:.4})",
                s.finals.get(u).copied().unwrap_or_default()
            )
        })
        .collect();
    println!(
        "window {}: {}{}; model {}",
        s.window,
        outcomes.join(" "),
        s.weights
            .as_ref()
            .map_or(String::new(), |w| format!("; weights {w:?}")),
        &hex(&s.model_hash)[..16]
    );
}
