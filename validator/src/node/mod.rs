//! The validator's async shell: it feeds each window's [`WindowMachine`] with chain reads,
//! downloads and measurements, and performs its actions (Postgres, weights, manifests).
//!
//! Phases with their own file: [`weights`] (the Weights phase) and [`publish`] (Aggregate).

mod duties;
mod publish;
mod timelocked;
mod weights;

use crate::checkpoint::ModelFiles;
use crate::db::{Db, DbError, Persisted};
use crate::evaluate::{EvalConfig, clip_scales_by_miner, clipped, measure, random_loss};
use crate::fetch::{self, Sources};
use crate::http::Health;
use crate::lineage;
use crate::machine::{Action, Input, MachineConfig, Member, WindowMachine};
use crate::metrics::ValidatorMetrics;
use crate::probe::Outages;
use crate::window::{Download, Posted, resume_at};
use duties::{Backoff, OUTAGE_LOOKBACK_BLOCKS, probe_gateways};
use futures::StreamExt;
use kiln_protocol::assignment::{assigned_pool, random_pool};
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::{Digest, Hparams, SparseTensor, WindowClock};
use kiln_runtime_client::error::ReadError;
use kiln_runtime_client::keys::account;
use kiln_runtime_client::{AccountId32, BlockSel, Client, Keypair, WindowEvent};
use kiln_training::data::Dataset;
use kiln_training::{Model, ModelConfig, mean_loss};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use thiserror::Error;

/// How a validator runs.
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    /// The subnet.
    pub netuid: u16,
    /// The run's parameters.
    pub hparams: Hparams,
    /// The genesis model.
    pub model: ModelConfig,
    /// Its initialization seed.
    pub init_seed: u64,
    /// Where the model lives.
    pub device: candle_core::Device,
    /// The device's name for evaluation rows.
    pub device_name: String,
    /// Folder of the model checkpoint.
    pub state_dir: PathBuf,
    /// Rows per forward pass when evaluating.
    pub micro_batch_rows: usize,
    /// Most miners evaluated per window.
    pub max_evaluations: usize,
    /// Most artifacts aggregated per window.
    pub max_peers: usize,
    /// Parallel downloads.
    pub fetch_concurrency: usize,
    /// Largest artifact fetched.
    pub max_artifact_bytes: u64,
    /// The weights version key.
    pub version_key: u64,
    /// Locator written into manifest commitments.
    pub locator: String,
    /// Publish a checkpoint with the manifest of every window divisible by this (0: never).
    pub checkpoint_every: u64,
    /// At start-up, score at most this many windows that closed while the validator was down.
    pub max_catch_up_windows: u64,
    /// Stop after scoring this many windows.
    pub windows: Option<u64>,
}

/// Why the validator stopped.
#[derive(Debug, Error)]
pub enum ValidatorError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Reading the chain failed.
    #[error(transparent)]
    Chain(#[from] ReadError),
    /// The block stream failed or ended.
    #[error("block stream: {0}")]
    Stream(String),
    /// The hotkey has no uid on the subnet.
    #[error("hotkey {0} is not registered on the subnet; register it with `kiln chain register`")]
    NotRegistered(String),
    /// The model could not be built, loaded, stepped or saved.
    #[error("model: {0}")]
    Model(String),
    /// The dataset does not fit or cannot be read.
    #[error("dataset: {0}")]
    Dataset(String),
    /// Invalid parameters.
    #[error("hparams: {0}")]
    Hparams(String),
}

/// What a scored window reports.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSummary {
    /// The window.
    pub window: u64,
    /// Verdict per uid.
    pub outcomes: BTreeMap<u16, String>,
    /// Final score per uid.
    pub finals: BTreeMap<u16, f64>,
    /// The weights sent (if a weight window).
    pub weights: Option<Vec<(u16, f64)>>,
    /// The manifest published (digest, peers).
    pub manifest: Option<(Digest, Vec<u16>)>,
    /// The model's state hash after the window.
    pub model_hash: Digest,
}

/// A running validator.
pub struct Validator {
    cfg: ValidatorConfig,
    clock: WindowClock,
    chain: Client,
    sources: Sources,
    db: Db,
    dataset: Arc<Dataset>,
    /// Tokens of the held-out rows the model's loss is measured on every window.
    heldout: Arc<Vec<u32>>,
    hotkey: Keypair,
    account: AccountId32,
    uid: u16,
    model: Arc<Model>,
    model_hash: Digest,
    last_manifest: Option<Digest>,
    files: ModelFiles,
    health: Arc<Health>,
    /// Failed gateway probes of the last windows.
    outages: Arc<parking_lot::Mutex<Outages>>,
    metrics: ValidatorMetrics,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("netuid", &self.cfg.netuid)
            .field("uid", &self.uid)
            .field("hotkey", &self.account.to_string())
            .finish_non_exhaustive()
    }
}

fn model_err(e: impl std::fmt::Display) -> ValidatorError {
    ValidatorError::Model(e.to_string())
}

impl Validator {
    /// Checks the registration, claims the database and loads the model the database names.
    pub async fn start(
        cfg: ValidatorConfig,
        chain: Client,
        sources: Sources,
        db: Db,
        dataset: Dataset,
        hotkey: Keypair,
    ) -> Result<Self, ValidatorError> {
        cfg.hparams
            .validate()
            .map_err(|e| ValidatorError::Hparams(e.to_string()))?;
        let clock = cfg
            .hparams
            .window_clock()
            .map_err(|e| ValidatorError::Hparams(e.to_string()))?;
        if dataset.seq_len() != cfg.hparams.data.seq_len as usize {
            return Err(ValidatorError::Dataset(
                "its rows are not the run's seq_len".into(),
            ));
        }
        let heldout_idx: Vec<u64> = cfg.hparams.heldout_rows(dataset.rows()).collect();
        let heldout = dataset
            .read_rows(&heldout_idx)
            .await
            .map_err(|e| ValidatorError::Dataset(e.to_string()))?;
        let account = account(&hotkey);
        let uid = chain
            .uid_of(cfg.netuid, &account)
            .await?
            .ok_or_else(|| ValidatorError::NotRegistered(account.to_string()))?;
        let files = ModelFiles::new(&cfg.state_dir);
        // The checkpoint on disk, else the genesis model.
        let (loaded, fresh) = match files.current(&cfg.device).map_err(model_err)? {
            Some(m) => (m, false),
            None => (
                Model::init(&cfg.model, cfg.init_seed, &cfg.device).map_err(model_err)?,
                true,
            ),
        };
        let genesis = loaded.state_hash().map_err(model_err)?;
        let state = db
            .claim(
                cfg.netuid,
                &account.to_string(),
                &cfg.hparams.hparams_hash(),
                &genesis,
            )
            .await?;
        let model = if fresh && state.model_hash == genesis {
            files.stage(&loaded).map_err(model_err)?;
            files.promote().map_err(model_err)?;
            loaded
        } else {
            files
                .recover(&state.model_hash, (!fresh).then_some(loaded), &cfg.device)
                .map_err(model_err)?
        };
        let model_hash = state.model_hash;
        Ok(Validator {
            clock,
            chain,
            sources,
            db,
            dataset: Arc::new(dataset),
            heldout: Arc::new(heldout),
            hotkey,
            account,
            uid,
            model: Arc::new(model),
            model_hash,
            last_manifest: state.last_manifest,
            files,
            health: Arc::new(Health::default()),
            outages: Arc::new(parking_lot::Mutex::new(Outages::new(
                clock.blocks_per_window().saturating_mul(4),
            ))),
            metrics: ValidatorMetrics::register(),
            cfg,
        })
    }

    /// The validator's uid.
    pub fn uid(&self) -> u16 {
        self.uid
    }

    /// Progress shared with the HTTP port.
    pub fn health(&self) -> Arc<Health> {
        self.health.clone()
    }

    /// The database handle (for the HTTP port).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Scores windows as they close, from the one after the last scored (or the current one on
    /// a fresh database), until `shutdown` or the configured number of windows.
    pub async fn run(
        mut self,
        mut on_window: impl FnMut(&WindowSummary) + Send,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ValidatorError> {
        let mut events = self
            .chain
            .window_events(self.clock)
            .await
            .map_err(|e| ValidatorError::Stream(e.to_string()))?;
        self.republish().await?;
        let revealer = weights::Revealer {
            chain: self.chain.clone(),
            db: self.db.clone(),
            hotkey: self.hotkey.clone(),
            netuid: self.cfg.netuid,
            metrics: self.metrics,
        };
        // Aborted when the window loop returns.
        let _reveals = AbortOnDrop(tokio::spawn(revealer.run(self.clock)));
        let _probes = AbortOnDrop(tokio::spawn(probe_gateways(
            self.sources.clone(),
            self.chain.clone(),
            self.health.clone(),
            self.outages.clone(),
        )));
        let state = self.db.state().await?;
        let current = self.clock.window_of(self.chain.current_block().await?);
        let last = state.and_then(|s| s.last_scored_window);
        let mut next = resume_at(last, current, self.cfg.max_catch_up_windows);
        if let Some(w) = last
            && next > w + 1
        {
            tracing::warn!(
                from = w + 1,
                to = next - 1,
                "windows missed while down are not scored"
            );
        }
        let mut done = 0u64;
        let mut republish = Backoff::default();
        tokio::pin!(shutdown);
        loop {
            let block = tokio::select! {
                () = &mut shutdown => return Ok(()),
                e = events.next() => match e {
                    Some(Ok(WindowEvent::Block { number, .. })) => {
                        self.health.block(number);
                        self.metrics.block(number);
                        number
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(ValidatorError::Stream(e.to_string())),
                    None => return Err(ValidatorError::Stream("ended".into())),
                },
            };
            // A manifest whose upload or commit failed (the gateway or the chain was down) is
            // published again until it lands, so miners can follow: at the next block, then
            // backing off (doubling, up to a quarter window) while it keeps failing.
            if block >= republish.at {
                let pending = tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    r = self.republish() => r.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "could not check for an unpublished manifest");
                        true
                    }),
                };
                republish.after(block, pending, self.clock.blocks_per_window() / 4);
            }
            while block >= self.clock.random_seed_block(next) {
                let summary = tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    s = self.score(next, block) => s?,
                };
                tracing::info!(window = next, outcomes = ?summary.outcomes, "window scored");
                self.health.scored(next);
                on_window(&summary);
                next += 1;
                done += 1;
                if self.cfg.windows.is_some_and(|n| done >= n) {
                    return Ok(());
                }
            }
        }
    }

    fn machine_config(&self) -> MachineConfig {
        let h = &self.cfg.hparams;
        MachineConfig {
            netuid: self.cfg.netuid,
            hparams_hash: h.hparams_hash(),
            windows_per_weights: h.window.windows_per_weights,
            max_evaluations: self.cfg.max_evaluations,
            max_peers: self.cfg.max_peers,
            overlap_threshold: crate::checks::DEFAULT_OVERLAP_THRESHOLD,
            decode: kiln_protocol::DecodeOptions {
                max_len: self.cfg.max_artifact_bytes as usize,
                expect: Some(kiln_protocol::artifact::Expect {
                    chunk: h.compression.chunk,
                    topk: h.compression.topk,
                }),
            },
            score: crate::score::ScoreParams {
                bma_alpha: h.evaluation.bma_alpha,
                ..Default::default()
            },
            schedule: crate::weights::RankSchedule::default(),
            own_rows: h.data.eval_rows,
            random_rows: h.data.random_rows,
            eval_lr: h.outer.lr * h.evaluation.eval_lr_factor,
        }
    }

    /// Runs window `window`'s machine to the end.
    async fn score(&mut self, window: u64, block: u64) -> Result<WindowSummary, ValidatorError> {
        let started = Instant::now();
        let mut m = WindowMachine::new(window, self.clock, self.machine_config());
        let mut queue: Vec<Action> = m.step(Input::Block(block));
        let mut summary = WindowSummary {
            window,
            outcomes: BTreeMap::new(),
            finals: BTreeMap::new(),
            weights: None,
            manifest: None,
            model_hash: self.model_hash,
        };
        let mut ctx = EvalContext::default();
        let mut fetches = Vec::new();
        while !queue.is_empty() || !fetches.is_empty() {
            if queue.is_empty() {
                // Downloads run together, bounded.
                let results: Vec<(u16, Download)> = futures::stream::iter(
                    std::mem::take(&mut fetches)
                        .into_iter()
                        .map(|(uid, c, block)| self.fetch(uid, c, block)),
                )
                .buffer_unordered(self.cfg.fetch_concurrency.max(1))
                .collect()
                .await;
                for (uid, download) in results {
                    queue.extend(m.step(Input::Fetched { uid, download }));
                }
                continue;
            }
            let action = queue.remove(0);
            let next = match action {
                Action::Collect { block } => {
                    let input = self.collect(window, block, &mut ctx).await?;
                    m.step(input)
                }
                Action::Fetch {
                    uid,
                    commitment,
                    block,
                } => {
                    fetches.push((uid, commitment, block));
                    Vec::new()
                }
                Action::MeasureRandom => {
                    let loss = self.measure_random(&ctx).await?;
                    ctx.random_before = loss;
                    m.step(Input::RandomLoss(loss))
                }
                Action::Measure { uid } => {
                    // Time is checked before each measurement: past the window's end the rest
                    // wait for a later window.
                    let now = self.chain.current_block().await?;
                    if now >= m.evaluation_stop() {
                        m.step(Input::Block(now))
                    } else {
                        let input = self.measure(&m, uid, &ctx).await?;
                        m.step(input)
                    }
                }
                Action::Persist(mut record) => {
                    // The model every update of the window was measured against.
                    record.model_loss = self.measure_heldout().await?;
                    if let Some(loss) = record.model_loss {
                        self.metrics.model_loss(loss);
                    }
                    record.duration_ms = started.elapsed().as_millis() as u64;
                    if self.db.persist_window(&record).await? == Persisted::AlreadyScored {
                        tracing::warn!(window, "window already recorded; not scored twice");
                    }
                    for s in &record.submissions {
                        self.metrics.verdict(&s.outcome);
                        summary.outcomes.insert(s.uid, s.outcome.clone());
                    }
                    self.metrics.scored(window, started.elapsed());
                    for s in &record.scores {
                        summary.finals.insert(s.uid, s.final_score);
                    }
                    m.step(Input::Persisted)
                }
                Action::SetWeights(weights) => {
                    let weights = if weights.is_empty() {
                        vec![(self.uid, 1.0)]
                    } else {
                        weights
                    };
                    self.set_weights(window, &weights).await?;
                    summary.weights = Some(weights);
                    m.step(Input::WeightsDone)
                }
                Action::Aggregate(uids) => {
                    summary.manifest = self.aggregate(&m, window, &uids).await?;
                    summary.model_hash = self.model_hash;
                    m.step(Input::Aggregated)
                }
            };
            queue.extend(next);
        }
        Ok(summary)
    }

    /// The members, the window's commitments (as each block recorded them), the seed and the
    /// standings.
    async fn collect(
        &self,
        window: u64,
        seed_block: u64,
        ctx: &mut EvalContext,
    ) -> Result<Input, ValidatorError> {
        let metagraph = self
            .chain
            .metagraph(self.cfg.netuid, BlockSel::Number(seed_block))
            .await?;
        self.db
            .save_neurons(metagraph.block, &neuron_rows(&metagraph.neurons))
            .await?;
        let members: BTreeMap<u16, Member> = metagraph
            .neurons
            .iter()
            .filter(|n| n.uid != self.uid)
            .map(|n| {
                (
                    n.uid,
                    Member {
                        hotkey: n.hotkey.0,
                        ss58: n.hotkey.to_string(),
                    },
                )
            })
            .collect();
        // The pallet keeps one value per hotkey and miners commit the next window soon after
        // this one closes, so every block of the window is read.
        let mut latest: BTreeMap<u16, Posted> = BTreeMap::new();
        for b in self.clock.start_block(window)..=seed_block {
            for c in self
                .chain
                .commitments(self.cfg.netuid, BlockSel::Number(b))
                .await?
            {
                let Some(Ok(commitment)) = c.kiln() else {
                    continue;
                };
                let Some(n) = metagraph.by_hotkey(&c.hotkey) else {
                    continue;
                };
                if commitment.kind != CommitmentKind::Artifact || commitment.window != window {
                    continue;
                }
                latest.insert(
                    n.uid,
                    Posted {
                        uid: n.uid,
                        block: u64::from(c.registration.block),
                        commitment,
                    },
                );
            }
        }
        let h = &self.cfg.hparams;
        let seed: Digest = metagraph.block_hash.0;
        let random = random_pool(
            self.cfg.netuid,
            window,
            &seed,
            h.assignable_rows(self.dataset.rows()),
            h.data.random_rows as usize,
        )
        .map_err(|e| ValidatorError::Dataset(e.to_string()))?;
        ctx.random_rows = self.rows(&random).await?;
        ctx.window = window;
        ctx.members = members.clone();
        let hotkeys: BTreeMap<u16, String> =
            members.iter().map(|(u, m)| (*u, m.ss58.clone())).collect();
        Ok(Input::Collected {
            members,
            posted: latest.into_values().collect(),
            seed,
            standings: self.db.standings(&hotkeys).await?,
            last_evaluated: self.db.last_evaluated().await?,
            model_hash: self.model_hash,
            known_bases: self.known_bases(window).await?,
        })
    }

    /// Manifests behind the model, per base, as window `window`'s miners could have followed.
    async fn known_bases(&self, window: u64) -> Result<BTreeMap<Digest, u32>, ValidatorError> {
        let cutoff = lineage::sync_cutoff(&self.clock, window);
        let manifests = self.db.recent_manifests(16).await?;
        // Only a failure between the newest manifest's commitment and the cutoff could have
        // kept miners from downloading it.
        let committed = manifests.first().and_then(|m| m.commit_block);
        let gateway_failed = committed.is_some_and(|from| {
            self.outages
                .lock()
                .during(fetch::OWN_GATEWAY, from..=cutoff)
                .is_some()
        });
        let first = manifests.len() == 1;
        Ok(lineage::behind_by_base(
            self.model_hash,
            &manifests,
            cutoff,
            gateway_failed || first,
        ))
    }

    async fn rows(&self, idx: &[u64]) -> Result<Vec<u32>, ValidatorError> {
        self.dataset
            .read_rows(idx)
            .await
            .map_err(|e| ValidatorError::Dataset(e.to_string()))
    }

    async fn fetch(&self, uid: u16, c: Commitment, block: u64) -> (u16, Download) {
        let started = Instant::now();
        let download = match self.sources.fetch(&c, self.cfg.max_artifact_bytes).await {
            Download::NotFound => self.missing(&c, block),
            other => other,
        };
        if let Download::Bytes(b) = &download {
            self.metrics.fetched(b.len(), started.elapsed());
        }
        (uid, download)
    }

    /// A committed artifact its gateway does not have, its commitment included at `block`:
    /// the miner's fault, unless a probe of that gateway failed in the
    /// [`OUTAGE_LOOKBACK_BLOCKS`] before that block, when an honest miner whose uploads kept
    /// failing gives up retrying and commits anyway.
    fn missing(&self, c: &Commitment, block: u64) -> Download {
        let gateway = self.sources.gateway_name(&c.locator);
        let before_commit = block.saturating_sub(OUTAGE_LOOKBACK_BLOCKS)..=block;
        match self.outages.lock().during(gateway, before_commit) {
            Some(o) => Download::Unreachable(format!(
                "not in the gateway, which failed at block {} just before the commitment ({})",
                o.block, o.reason
            )),
            None => Download::NotFound,
        }
    }

    /// The model's mean loss on the held-out rows (`None` when the run holds none out).
    async fn measure_heldout(&self) -> Result<Option<f64>, ValidatorError> {
        if self.heldout.is_empty() {
            return Ok(None);
        }
        let model = self.model.clone();
        let rows = self.heldout.clone();
        let seq = self.cfg.hparams.data.seq_len as usize;
        let micro = self.cfg.micro_batch_rows.max(1);
        tokio::task::spawn_blocking(move || mean_loss(&model, &rows, seq, micro))
            .await
            .map_err(model_err)?
            .map(Some)
            .map_err(model_err)
    }

    async fn measure_random(&self, ctx: &EvalContext) -> Result<f64, ValidatorError> {
        let model = self.model.clone();
        let rows = ctx.random_rows.clone();
        let cfg = EvalConfig::from_hparams(&self.cfg.hparams, self.cfg.micro_batch_rows);
        tokio::task::spawn_blocking(move || random_loss(&model, &rows, &cfg))
            .await
            .map_err(model_err)?
            .map_err(model_err)
    }

    async fn measure(
        &self,
        m: &WindowMachine,
        uid: u16,
        ctx: &EvalContext,
    ) -> Result<Input, ValidatorError> {
        let h = &self.cfg.hparams;
        let started = Instant::now();
        let hotkey = ctx.members.get(&uid).map_or([0; 32], |m| m.hotkey);
        let pool = assigned_pool(
            self.cfg.netuid,
            uid,
            &hotkey,
            ctx.window,
            h.assignable_rows(self.dataset.rows()),
            h.data.pool_rows as usize,
        )
        .map_err(|e| ValidatorError::Dataset(e.to_string()))?;
        let own = self.rows(&pool[..h.data.eval_rows as usize]).await?;
        // Each tensor clipped to the median norm of the window's usable updates.
        let updates: BTreeMap<u16, Vec<SparseTensor>> = ctx
            .members
            .keys()
            .filter_map(|u| m.update_for(*u).map(|a| (*u, a.tensors.clone())))
            .collect();
        let scales = clip_scales_by_miner(&updates);
        let update = clipped(
            updates.get(&uid).map_or(&[][..], Vec::as_slice),
            scales.get(&uid).map_or(&[][..], Vec::as_slice),
        );
        let model = self.model.clone();
        let random = ctx.random_rows.clone();
        let before = ctx.random_before;
        let cfg = EvalConfig::from_hparams(h, self.cfg.micro_batch_rows);
        let result = tokio::task::spawn_blocking(move || {
            measure(&model, &update, &own, &random, before, &cfg)
        })
        .await
        .map_err(model_err)?
        .map_err(|e| e.to_string());
        self.metrics.evaluated(started.elapsed());
        Ok(Input::Measured {
            uid,
            result,
            device: self.cfg.device_name.clone(),
            duration_ms: started.elapsed().as_millis() as u64,
        })
    }
}

fn neuron_rows(neurons: &[kiln_runtime_client::Neuron]) -> Vec<crate::db::NeuronRow> {
    use kiln_runtime_client::metagraph::proportion;
    neurons
        .iter()
        .map(|n| crate::db::NeuronRow {
            uid: n.uid,
            hotkey: n.hotkey.to_string(),
            coldkey: n.coldkey.to_string(),
            stake: n.stake,
            validator_permit: n.validator_permit,
            active: n.active,
            last_update: n.last_update,
            incentive: proportion(n.incentive),
            dividends: proportion(n.dividends),
            consensus: proportion(n.consensus),
            emission: n.emission,
        })
        .collect()
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Per-window data the measurements share.
#[derive(Debug, Default)]
struct EvalContext {
    window: u64,
    members: BTreeMap<u16, Member>,
    random_rows: Vec<u32>,
    random_before: f64,
}
