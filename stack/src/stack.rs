//! Starting, watching and stopping a local subnet: the devnet, the gateway, Postgres, one
//! validator and the miners, each a `kiln` child process.

use crate::child::Child;
use crate::config::{Behaviour, StackConfig};
use crate::postgres::{Postgres, PostgresError};
use crate::process::{Proc, ProcError};
use crate::report::{Component, ComponentStatus, WindowReport, rows};
use crate::supervise::{Policy, Status};
use crate::warm::{WarmError, warm_model};
use kiln_runtime_client::keys::{account, from_secret};
use kiln_runtime_client::metagraph::proportion;
use kiln_runtime_client::{BlockSel, Client, ClientOptions, Network};
use kiln_validator::api::types::WindowDetail;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;
use tokio::time::Instant;

/// The subnet a stack runs (created at the devnet's genesis).
pub const NETUID: u16 = 1;
/// The validator's hotkey: the subnet owner's, which holds the stake and the permit.
pub const VALIDATOR_HOTKEY: &str = "//Ferdie";
/// Funds every miner hotkey receives for its commitment fees, in rao.
const MINER_FUNDS: u64 = 10_000_000_000;
/// Stake `//Alice` puts on the validator's hotkey, in rao.
const VALIDATOR_STAKE: u64 = 100_000_000_000;
/// How long a component may take to say it is up.
const START_WAIT: Duration = Duration::from_secs(120);

/// Why a stack could not start or go on.
#[derive(Debug, Error)]
pub enum StackError {
    /// A file operation.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A component process failed.
    #[error(transparent)]
    Proc(#[from] ProcError),
    /// The database.
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    /// The warm-start model.
    #[error("making the warm-start model: {0}")]
    Warm(#[from] WarmError),
    /// A chain call.
    #[error("{what}: {detail}")]
    Chain {
        /// What was being done.
        what: String,
        /// The client's error.
        detail: String,
    },
    /// The validator's API.
    #[error("reading {url}: {detail}")]
    Api {
        /// The request.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// A component the run needs exited and is not restarted any more.
    #[error(
        "the {component} exited and is not restarted (restarts so far: {restarts}); its log: {log}"
    )]
    Failed {
        /// The component.
        component: Component,
        /// Its restarts before it failed.
        restarts: u32,
        /// Its stderr.
        log: PathBuf,
    },
    /// A component printed something unexpected.
    #[error("`kiln {what}` printed an unexpected line: {line}")]
    Unexpected {
        /// The subcommand.
        what: &'static str,
        /// The line.
        line: String,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StackError {
    let what = what.into();
    move |source| StackError::Io { what, source }
}

fn chain_err(what: impl Into<String>, e: impl std::fmt::Display) -> StackError {
    StackError::Chain {
        what: what.into(),
        detail: e.to_string(),
    }
}

/// A miner of the stack.
#[derive(Debug)]
pub struct MinerNode {
    /// Its uid.
    pub uid: u16,
    /// How it behaves.
    pub behaviour: Behaviour,
    /// Its hotkey's secret URI.
    pub hotkey: String,
    /// Its last training loss per window it trained.
    pub losses: BTreeMap<u64, f64>,
    /// Where it serves Prometheus metrics (`host:port`), once it said.
    pub metrics: Option<String>,
    child: Child,
}

/// A running local subnet.
#[derive(Debug)]
pub struct Stack {
    cfg: StackConfig,
    run_dir: PathBuf,
    chain: Client,
    ws_url: String,
    gateway_url: String,
    api: String,
    validator: Child,
    miners: Vec<MinerNode>,
    gateway: Child,
    devnet: Child,
    db: Option<Postgres>,
    scored: u64,
    epoch: Instant,
}

impl Stack {
    /// Starts everything, registering and funding every miner, and returns once the validator
    /// and the miners run. `progress` hears each step.
    ///
    /// From then on, [`Stack::supervise`] (which waiting for windows and commits calls) starts
    /// again, after a backoff ([`Policy::RESTART`]), the gateway, the validator or a miner that
    /// exited on its own. Not the devnet: it keeps its chain in memory, so a new one would be
    /// another chain; its exit ends the run.
    pub async fn start(
        cfg: StackConfig,
        mut progress: impl FnMut(&str),
    ) -> Result<Self, StackError> {
        let epoch = Instant::now();
        let run_dir = cfg.state_dir.join("run");
        if run_dir.exists() {
            std::fs::remove_dir_all(&run_dir).map_err(io("clearing the last run"))?;
        }
        let logs = run_dir.join("logs");
        std::fs::create_dir_all(&logs).map_err(io(format!("creating {}", logs.display())))?;
        let data = cfg.state_dir.join("data");
        if !data.join("manifest.json").is_file() {
            progress("writing the synthetic dataset (first run)");
            let args = strings(["dataset", "synth", "--out", path(&data), "--rows"])
                .chain([cfg.dataset_rows.to_string()])
                .collect::<Vec<_>>();
            Proc::spawn(&cfg.bin, &args, &[], &logs.join("dataset.log"))?
                .wait_success()
                .await?;
        }
        let warm = if cfg.warm_windows > 0 {
            progress("training the warm-start model (first run)");
            Some(warm_model(&data, &cfg.state_dir, cfg.warm_windows).await?)
        } else {
            None
        };

        progress("starting the devnet");
        let devnet_args: Vec<String> = strings(["devnet", "--port", "0", "--block-time-ms"])
            .chain([
                cfg.block_time_ms.to_string(),
                "--tempo".into(),
                cfg.tempo.to_string(),
            ])
            .collect();
        let mut devnet = Child::spawn(
            Component::Devnet,
            &cfg.bin,
            devnet_args,
            &[],
            logs.join("devnet.log"),
            Policy::NEVER,
            epoch.elapsed(),
        )?;
        let ws_url = devnet
            .proc()
            .wait_for(START_WAIT, |v| listening(v, "kiln devnet listening on "))
            .await?;
        let chain = Client::connect(Network::Url(ws_url.clone()), ClientOptions::default())
            .await
            .map_err(|e| chain_err(format!("connecting to {ws_url}"), e))?;

        progress("registering and funding the miners");
        let alice = from_secret("//Alice").map_err(|e| chain_err("//Alice", e))?;
        let mut hotkeys = Vec::new();
        for (i, b) in cfg.miners.iter().enumerate() {
            let uri = format!("//kiln-{}-{}", b.name(), i + 1);
            let who = account(&from_secret(&uri).map_err(|e| chain_err(&uri, e))?);
            chain
                .transfer(&alice, &who, MINER_FUNDS)
                .await
                .map_err(|e| chain_err(format!("funding {uri}"), e))?;
            let (uid, _) = chain
                .burned_register(NETUID, &alice, &who)
                .await
                .map_err(|e| chain_err(format!("registering {uri}"), e))?;
            hotkeys.push((uid, *b, uri));
        }
        // The validator's stake is what Yuma weighs its weights by.
        let validator =
            account(&from_secret(VALIDATOR_HOTKEY).map_err(|e| chain_err(VALIDATOR_HOTKEY, e))?);
        chain
            .add_stake(NETUID, &alice, &validator, VALIDATOR_STAKE)
            .await
            .map_err(|e| chain_err("staking to the validator", e))?;

        progress("starting the storage gateway");
        let mut gw_args: Vec<String> = strings(["gateway", "serve", "--chain"])
            .chain([ws_url.clone()])
            .chain(strings(["--netuid", "1", "--listen", "127.0.0.1:0"]))
            .collect();
        gw_args.extend(store_args(&cfg, &run_dir));
        // Credentials go through the environment, out of the process list.
        let secrets: Vec<(&str, &str)> = cfg
            .s3
            .iter()
            .flat_map(|s3| {
                [
                    ("AWS_ACCESS_KEY_ID", s3.access_key_id.as_deref()),
                    ("AWS_SECRET_ACCESS_KEY", s3.secret_access_key.as_deref()),
                ]
            })
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
        let mut gateway = Child::spawn(
            Component::Gateway,
            &cfg.bin,
            gw_args,
            &secrets,
            logs.join("gateway.log"),
            Policy::RESTART,
            epoch.elapsed(),
        )?;
        let gateway_url = gateway
            .proc()
            .wait_for(START_WAIT, |v| listening(v, "kiln gateway listening on "))
            .await?;
        // A restarted gateway listens where the miners and the validator look for it.
        gateway.pin("--listen", gateway_url.trim_start_matches("http://"));

        progress("starting Postgres");
        let db = Postgres::provide(cfg.database_url.as_deref(), &run_dir).await?;

        let node_args = |hotkey: &str, state: &Path| -> Vec<String> {
            let mut a = strings(["--json", "--chain"]).collect::<Vec<_>>();
            a.extend([ws_url.clone(), "--gateway".into(), gateway_url.clone()]);
            a.extend(strings(["--hotkey-uri", hotkey, "--dataset", path(&data)]));
            a.extend(strings(["--state-dir", path(state)]));
            a
        };
        let seed = |dir: &Path| -> Result<(), StackError> {
            std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
            if let Some(warm) = &warm {
                copy_dir(warm, &dir.join("model"))?;
            }
            Ok(())
        };

        progress("starting the validator");
        let vdir = run_dir.join("validator");
        seed(&vdir)?;
        let mut validator_args =
            strings(["validator", "--listen", "127.0.0.1:0"]).collect::<Vec<_>>();
        validator_args.extend(node_args(VALIDATOR_HOTKEY, &vdir));
        validator_args.extend(["--database-url".into(), db.url().to_string()]);
        let mut validator = Child::spawn(
            Component::Validator,
            &cfg.bin,
            validator_args,
            &LOG_ENV,
            logs.join("validator.log"),
            Policy::RESTART,
            epoch.elapsed(),
        )?;
        let api = started(validator.proc()).await?;
        // The dashboard stays where it was printed across restarts.
        validator.pin("--listen", &api);

        progress("starting the miners");
        let mut miners = Vec::new();
        for (uid, behaviour, hotkey) in hotkeys {
            let dir = run_dir.join(format!("miner-{uid}"));
            seed(&dir)?;
            let mut args =
                strings(["miner", "--metrics-listen", "127.0.0.1:0"]).collect::<Vec<_>>();
            args.extend(node_args(&hotkey, &dir));
            if let Some(cheat) = behaviour.cheat() {
                args.extend(["--cheat".into(), cheat.name().into()]);
            }
            let log = logs.join(format!("miner-{uid}-{}.log", behaviour.name()));
            miners.push(MinerNode {
                uid,
                behaviour,
                hotkey,
                losses: BTreeMap::new(),
                metrics: None,
                child: Child::spawn(
                    Component::Miner { uid },
                    &cfg.bin,
                    args,
                    &LOG_ENV,
                    log,
                    Policy::RESTART,
                    epoch.elapsed(),
                )?,
            });
        }
        Ok(Self {
            cfg,
            run_dir,
            chain,
            ws_url,
            gateway_url,
            api,
            validator,
            miners,
            gateway,
            devnet,
            db: Some(db),
            scored: 0,
            epoch,
        })
    }

    /// The chain client.
    pub fn chain(&self) -> &Client {
        &self.chain
    }

    /// The devnet's WebSocket URL.
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// The gateway's URL.
    pub fn gateway_url(&self) -> &str {
        &self.gateway_url
    }

    /// The validator's dashboard API and health address (`host:port`).
    pub fn api_addr(&self) -> &str {
        &self.api
    }

    /// The database URL.
    pub fn database_url(&self) -> Option<&str> {
        self.db.as_ref().map(Postgres::url)
    }

    /// Where this run's files and logs are.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The miners.
    pub fn miners(&self) -> &[MinerNode] {
        &self.miners
    }

    /// Every component and where it stands: the devnet, the gateway, the validator, then the
    /// miners by uid.
    pub fn components(&self) -> Vec<ComponentStatus> {
        [&self.devnet, &self.gateway, &self.validator]
            .into_iter()
            .chain(self.miners.iter().map(|m| &m.child))
            .map(Child::status)
            .collect()
    }

    /// The process id of `component`, while it runs.
    pub fn pid(&self, component: Component) -> Option<u32> {
        match component {
            Component::Devnet => self.devnet.id(),
            Component::Gateway => self.gateway.id(),
            Component::Validator => self.validator.id(),
            Component::Miner { uid } => self.miners.iter().find(|m| m.uid == uid)?.child.id(),
        }
    }

    /// One round of supervision: notices the components that exited on their own and starts
    /// them again once their backoff is over. An error once the devnet, the gateway or the
    /// validator failed (exited and not restarted): the run cannot go on without them. A
    /// failed miner only drops out of the run.
    pub fn supervise(&mut self) -> Result<(), StackError> {
        let now = self.epoch.elapsed();
        for m in &mut self.miners {
            m.child.supervise(now);
        }
        for c in [&mut self.devnet, &mut self.gateway, &mut self.validator] {
            c.supervise(now);
            let s = c.status();
            if s.status == Status::Failed {
                return Err(StackError::Failed {
                    component: s.component,
                    restarts: s.restarts,
                    log: c.log().to_path_buf(),
                });
            }
        }
        Ok(())
    }

    /// Waits for the validator's next scored window and reports it; `None` once the configured
    /// number of windows has been reported. Supervises the components meanwhile.
    pub async fn next_window(
        &mut self,
        wait: Duration,
    ) -> Result<Option<WindowReport>, StackError> {
        if self.cfg.windows.is_some_and(|n| self.scored >= n) {
            return Ok(None);
        }
        let until = tokio::time::Instant::now() + wait;
        loop {
            self.supervise()?;
            self.drain_miners();
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(ProcError::Silent {
                    what: "validator".into(),
                    secs: wait.as_secs(),
                    log: self.validator.log().to_path_buf(),
                }
                .into());
            }
            let tick = left.min(Duration::from_millis(200));
            if !self.validator.running() {
                tokio::time::sleep(tick).await;
                continue;
            }
            let v = match self.validator.proc().next(tick).await {
                Ok(v) => v,
                // An exit is the supervisor's to notice, on the next round.
                Err(ProcError::Silent { .. } | ProcError::Exited { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            if v["event"] == "window" {
                let window = v["window"].as_u64().ok_or_else(|| StackError::Unexpected {
                    what: "validator",
                    line: v.to_string(),
                })?;
                self.drain_miners();
                let report = self.report(window).await?;
                self.scored += 1;
                return Ok(Some(report));
            }
        }
    }

    /// Miners' window events printed since the last call: (uid, window, outcome).
    fn drain_miners(&mut self) -> Vec<(u16, u64, String)> {
        let mut seen = Vec::new();
        for m in &mut self.miners {
            while let Some(e) = m.child.proc().try_next() {
                if e["event"] == "metrics" {
                    m.metrics = e["listen"].as_str().map(String::from);
                }
                if e["event"] != "window" {
                    continue;
                }
                let Some(w) = e["window"].as_u64() else {
                    continue;
                };
                if let Some(l) = e["losses"]
                    .as_array()
                    .and_then(|l| l.last())
                    .and_then(Value::as_f64)
                {
                    m.losses.insert(w, l);
                    // Reports read recent windows only: keep the map bounded on long runs.
                    while m.losses.len() > 64 {
                        m.losses.pop_first();
                    }
                }
                if let Some(o) = e["outcome"].as_str() {
                    seen.push((m.uid, w, o.to_string()));
                }
            }
        }
        seen
    }

    /// Waits until each of `uids` has committed the same window (one they commit after this
    /// call) and returns that window.
    pub async fn wait_commits(&mut self, uids: &[u16], wait: Duration) -> Result<u64, StackError> {
        let until = tokio::time::Instant::now() + wait;
        let mut committed: BTreeMap<u16, u64> = BTreeMap::new();
        loop {
            self.supervise()?;
            for (uid, w, outcome) in self.drain_miners() {
                if outcome == "committed" {
                    committed.insert(uid, w);
                }
            }
            let windows: Vec<Option<&u64>> = uids.iter().map(|u| committed.get(u)).collect();
            if let Some(Some(w)) = windows.first()
                && windows.iter().all(|x| *x == Some(*w))
            {
                return Ok(**w);
            }
            if tokio::time::Instant::now() >= until {
                return Err(ProcError::Silent {
                    what: "miner".into(),
                    secs: wait.as_secs(),
                    log: self.run_dir.join("logs"),
                }
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The report of a scored window: the validator's record of it, read back through its
    /// dashboard API, with the chain's current incentives.
    pub async fn report(&self, window: u64) -> Result<WindowReport, StackError> {
        let detail: WindowDetail = self.api_get(&format!("/api/v1/windows/{window}")).await?;
        let metagraph = self
            .chain
            .metagraph(NETUID, BlockSel::Latest)
            .await
            .map_err(|e| chain_err("reading the metagraph", e))?;
        let incentive: BTreeMap<u16, f64> = metagraph
            .neurons
            .iter()
            .map(|n| (n.uid, proportion(n.incentive)))
            .collect();
        let miners: Vec<_> = self
            .miners
            .iter()
            .map(|m| {
                (
                    m.uid,
                    m.behaviour,
                    m.hotkey.clone(),
                    m.losses.get(&window).copied(),
                )
            })
            .collect();
        Ok(WindowReport {
            window,
            block: metagraph.block,
            miners: rows(&detail, &miners, &incentive),
            weights_sent: detail.weights.is_some(),
            model_loss: detail.window.model_loss,
            manifest_peers: detail.manifest.map(|m| m.peers),
        })
    }

    /// `GET path` on the validator's API, as JSON.
    pub async fn api_get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, StackError> {
        let url = format!("http://{}{path}", self.api);
        let body = get(&url).await?;
        serde_json::from_slice(&body).map_err(|e| StackError::Api {
            url,
            detail: e.to_string(),
        })
    }

    /// A scrape of every component's Prometheus endpoint, as (component, text): the
    /// validator's, the gateway's, and each miner's that has said where it serves them.
    pub async fn scrape_metrics(&mut self) -> Result<Vec<(String, String)>, StackError> {
        self.drain_miners();
        let mut urls = vec![
            (
                "validator".to_string(),
                format!("http://{}/metrics", self.api),
            ),
            (
                "gateway".to_string(),
                format!("{}/metrics", self.gateway_url.trim_end_matches('/')),
            ),
        ];
        for m in &self.miners {
            if let Some(addr) = &m.metrics {
                urls.push((format!("miner {}", m.uid), format!("http://{addr}/metrics")));
            }
        }
        let mut scrapes = Vec::new();
        for (name, url) in urls {
            let body = get(&url).await?;
            scrapes.push((name, String::from_utf8_lossy(&body).into_owned()));
        }
        Ok(scrapes)
    }

    /// `kill -9` of the validator, as a crash would, but on purpose: the supervisor leaves it
    /// to [`Stack::restart_validator`] and counts no restart.
    pub async fn kill_validator(&mut self) {
        self.validator.kill().await;
    }

    /// Starts the validator again (after [`Stack::kill_validator`]).
    pub async fn restart_validator(&mut self) -> Result<(), StackError> {
        self.validator.respawn(self.epoch.elapsed())?;
        self.api = started(self.validator.proc()).await?;
        Ok(())
    }

    /// Stops everything: the miners and the validator first (SIGTERM, then SIGKILL after a
    /// grace period), then the gateway, the devnet and the database.
    pub async fn stop(mut self) {
        let grace = Duration::from_secs(10);
        for m in &mut self.miners {
            m.child.stop(grace).await;
        }
        self.validator.stop(grace).await;
        self.gateway.stop(grace).await;
        self.devnet.stop(grace).await;
        if let Some(db) = self.db.take() {
            db.stop().await;
        }
    }
}

/// The body of a successful GET of `url`.
async fn get(url: &str) -> Result<Vec<u8>, StackError> {
    let err = |detail: String| StackError::Api {
        url: url.to_string(),
        detail,
    };
    let resp = reqwest::get(url).await.map_err(|e| err(e.to_string()))?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| err(e.to_string()))?;
    if !status.is_success() {
        return Err(err(format!("{status}: {}", String::from_utf8_lossy(&body))));
    }
    Ok(body.to_vec())
}

/// Child logs at `info`.
const LOG_ENV: [(&str, &str); 1] = [("KILN_LOG", "info")];

async fn started(validator: &mut Proc) -> Result<String, StackError> {
    let listen = validator
        .wait_for(START_WAIT, |v| {
            (v["event"] == "started").then(|| v["listen"].as_str().map(String::from))
        })
        .await?;
    listen.ok_or_else(|| StackError::Unexpected {
        what: "validator",
        line: "a started event without its listen address".into(),
    })
}

fn listening(v: &Value, prefix: &str) -> Option<String> {
    v.as_str()
        .and_then(|l| l.strip_prefix(prefix))
        .map(|s| s.trim().to_string())
}

fn strings<'a>(s: impl IntoIterator<Item = &'a str>) -> impl Iterator<Item = String> {
    s.into_iter().map(String::from)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

fn store_args(cfg: &StackConfig, run_dir: &Path) -> Vec<String> {
    let Some(s3) = &cfg.s3 else {
        return strings(["--store", "local", "--dir", path(&run_dir.join("store"))]).collect();
    };
    let mut a = strings(["--store", "s3", "--s3-bucket", &s3.bucket]).collect::<Vec<_>>();
    for (flag, value) in [("--s3-endpoint", &s3.endpoint), ("--s3-region", &s3.region)] {
        if let Some(v) = value {
            a.extend([flag.to_string(), v.clone()]);
        }
    }
    if s3.path_style {
        a.push("--s3-path-style".into());
    }
    if s3.allow_http {
        a.push("--s3-allow-http".into());
    }
    a
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), StackError> {
    std::fs::create_dir_all(to).map_err(io(format!("creating {}", to.display())))?;
    let entries = std::fs::read_dir(from).map_err(io(format!("reading {}", from.display())))?;
    for entry in entries {
        let entry = entry.map_err(io(format!("reading {}", from.display())))?;
        let target = to.join(entry.file_name());
        std::fs::copy(entry.path(), &target)
            .map_err(io(format!("writing {}", target.display())))?;
    }
    Ok(())
}
