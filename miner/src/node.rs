//! The miner's window loop: a thin async shell around the pure parts. Per window it brings the
//! model up to date from the lead validator's manifests, trains on the assigned rows, uploads
//! the artifact through the gateway, commits its blake3 on chain before the deadline and saves
//! the error feedback atomically.

use crate::cheat::Cheat;
use crate::deadline::{CommitDecision, decide};
use crate::event::{MinerEvent, Outcome, WindowReport};
use crate::metrics::MinerMetrics;
use crate::round::{RoundError, WindowUpdate, produce};
use crate::state::{Identity, MinerState, StateError};
use crate::sync::{self, ModelSync, SyncError};
use crate::upload;
use crate::watch::{AbortOnDrop, watch_window_end};
use bytes::Bytes;
use futures::StreamExt;
use kiln_protocol::artifact::ArtifactHeader;
use kiln_protocol::assignment::{AssignmentError, assigned_pool, random_pool};
use kiln_protocol::codec::GeometryError;
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::{Digest, Hparams, HparamsError, WindowClock};
use kiln_runtime_client::blocks::StreamError;
use kiln_runtime_client::error::ReadError;
use kiln_runtime_client::keys::account;
use kiln_runtime_client::metagraph::proportion;
use kiln_runtime_client::{AccountId32, BlockSel, Client, Keypair, WindowEvent};
use kiln_storage_gateway::GatewayClient;
use kiln_training::data::{Dataset, DatasetError};
use kiln_training::{AdamW, InnerConfig, Model, ModelConfig, ModelError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;

/// State file name inside the state directory.
pub const STATE_FILE: &str = "miner.state";
/// Model checkpoint folder inside the state directory.
pub const MODEL_DIR: &str = "model";

/// How a miner runs.
#[derive(Debug, Clone)]
pub struct MinerConfig {
    /// The subnet.
    pub netuid: u16,
    /// The run's parameters.
    pub hparams: Hparams,
    /// The genesis model's architecture.
    pub model: ModelConfig,
    /// The genesis model's initialization seed.
    pub init_seed: u64,
    /// Where the model and state live.
    pub device: candle_core::Device,
    /// Folder for the state file and the model checkpoint.
    pub state_dir: PathBuf,
    /// Rows per forward/backward pass (`None`: the whole batch at once).
    pub micro_batch_rows: Option<usize>,
    /// Windows over which the inner learning rate decays (the schedule's length).
    pub schedule_windows: u64,
    /// Blocks of margin a commitment needs before the deadline.
    pub commit_margin: u64,
    /// Blocks after a window starts to wait for the previous window's manifest.
    pub manifest_wait_blocks: u64,
    /// Follow this validator's manifests (default: the manifest-committing hotkey with the most
    /// stake).
    pub validator: Option<AccountId32>,
    /// The storage locator written into commitments.
    pub locator: String,
    /// Stop after this many windows (default: run until stopped).
    pub windows: Option<u64>,
    /// Misbehave on purpose (demonstrations and validator tests).
    pub cheat: Option<Cheat>,
}

/// Why the miner could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The hparams are invalid.
    #[error(transparent)]
    Hparams(#[from] HparamsError),
    /// The dataset does not fit the run.
    #[error("dataset: {0}")]
    Dataset(String),
    /// Reading the chain failed.
    #[error(transparent)]
    Chain(#[from] ReadError),
    /// The hotkey has no uid on the subnet.
    #[error(
        "hotkey {hotkey} is not registered on subnet {netuid}; register it with `kiln chain register --netuid {netuid}`"
    )]
    NotRegistered {
        /// The subnet.
        netuid: u16,
        /// The hotkey (SS58).
        hotkey: String,
    },
    /// The model could not be built or loaded.
    #[error("model: {0}")]
    Model(String),
    /// The model's tensors do not fit the codec.
    #[error(transparent)]
    Geometry(#[from] GeometryError),
    /// The state file cannot be used.
    #[error(transparent)]
    State(#[from] StateError),
    /// The subnet's validator runs another hparams or subnet, or the model is not on its chain.
    #[error("the subnet's model cannot be followed: {0}")]
    Sync(#[from] SyncError),
}

/// Why the miner stopped with an error.
#[derive(Debug, Error)]
pub enum RunError {
    /// The block stream failed.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// The block stream ended.
    #[error("the chain's block stream ended")]
    StreamEnded,
    /// The state could not be saved (the error feedback would be lost).
    #[error(transparent)]
    State(#[from] StateError),
    /// Training failed.
    #[error(transparent)]
    Round(#[from] RoundError),
    /// The model could not be hashed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The hotkey lost its registration (or its uid changed).
    #[error("the hotkey is no longer registered on subnet {netuid} as uid {uid}")]
    Deregistered {
        /// The subnet.
        netuid: u16,
        /// The uid the miner started with.
        uid: u16,
    },
    /// A blocking task panicked or was cancelled.
    #[error("training task failed: {0}")]
    Task(String),
}

/// A running miner.
pub struct Miner {
    cfg: MinerConfig,
    clock: WindowClock,
    chain: Client,
    gateway: GatewayClient,
    sync: ModelSync,
    dataset: Arc<Dataset>,
    hotkey: Keypair,
    account: AccountId32,
    uid: u16,
    model: Arc<Model>,
    model_hash: Digest,
    optimizer: Arc<Mutex<AdamW>>,
    state: MinerState,
    /// The last window worked on (committed or not).
    attempted: Option<u64>,
    /// The window of the newest manifest applied or seen.
    manifest_window: Option<u64>,
    /// A committed artifact still being uploaded after its deadline (the newest replaces it).
    late_upload: Option<AbortOnDrop>,
    metrics: MinerMetrics,
}

impl std::fmt::Debug for Miner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Miner")
            .field("netuid", &self.cfg.netuid)
            .field("uid", &self.uid)
            .field("hotkey", &self.account.to_string())
            .finish_non_exhaustive()
    }
}

impl Miner {
    /// Checks the registration and the dataset, loads (or initializes) the model and the error
    /// feedback, and catches up with the lead validator's manifests.
    pub async fn start(
        cfg: MinerConfig,
        chain: Client,
        gateway: GatewayClient,
        dataset: Dataset,
        hotkey: Keypair,
    ) -> Result<(Self, MinerEvent), StartError> {
        let h = &cfg.hparams;
        h.validate()?;
        let clock = h.window_clock()?;
        let m = dataset.manifest();
        if m.seq_len != h.data.seq_len {
            return Err(StartError::Dataset(format!(
                "rows of {} tokens, the run uses {}",
                m.seq_len, h.data.seq_len
            )));
        }
        if m.vocab_size as usize > cfg.model.vocab_size {
            return Err(StartError::Dataset(format!(
                "vocabulary of {} tokens, the model has {}",
                m.vocab_size, cfg.model.vocab_size
            )));
        }
        if dataset.rows() < u64::from(h.data.pool_rows) {
            return Err(StartError::Dataset(format!(
                "{} rows, fewer than a pool of {}",
                dataset.rows(),
                h.data.pool_rows
            )));
        }
        let account = account(&hotkey);
        let uid =
            chain
                .uid_of(cfg.netuid, &account)
                .await?
                .ok_or_else(|| StartError::NotRegistered {
                    netuid: cfg.netuid,
                    hotkey: account.to_string(),
                })?;

        let model_dir = cfg.state_dir.join(MODEL_DIR);
        let model = if model_dir.join("model.safetensors").exists() {
            let m = Model::load(&model_dir, &cfg.device)
                .map_err(|e| StartError::Model(e.to_string()))?;
            if m.config() != &cfg.model {
                return Err(StartError::Model(format!(
                    "{} holds another architecture than the run's",
                    model_dir.display()
                )));
            }
            m
        } else {
            Model::init(&cfg.model, cfg.init_seed, &cfg.device)
                .map_err(|e| StartError::Model(e.to_string()))?
        };
        let specs = model.codec_specs(h.compression.chunk, h.compression.topk)?;
        let identity = Identity {
            netuid: cfg.netuid,
            uid,
            hotkey: account.0,
            hparams_hash: h.hparams_hash(),
        };
        let decay = h.compression.error_feedback_decay as f32;
        let path = cfg.state_dir.join(STATE_FILE);
        let state = match MinerState::load(&path, identity, specs.clone(), decay)? {
            Some(s) => s,
            None => MinerState::fresh(identity, specs, decay),
        };
        let model_hash = model
            .state_hash()
            .map_err(|e| StartError::Model(e.to_string()))?;
        let sync = ModelSync::new(gateway.clone(), cfg.netuid, h);
        let inner = InnerConfig::from_hparams(h, 1);
        let optimizer =
            AdamW::new(&model, inner.adamw).map_err(|e| StartError::Model(e.to_string()))?;
        let started = MinerEvent::Started {
            uid,
            model_hash,
            feedback_hash: state.feedback.buffers_hash(),
            last_window: state.last_window,
        };
        let mut miner = Miner {
            clock,
            chain,
            gateway,
            sync,
            dataset: Arc::new(dataset),
            account,
            hotkey,
            uid,
            model: Arc::new(model),
            model_hash,
            optimizer: Arc::new(Mutex::new(optimizer)),
            attempted: state.last_window,
            state,
            manifest_window: None,
            late_upload: None,
            metrics: MinerMetrics::register(),
            cfg,
        };
        // A validator on another run, or a model off its chain, stops the start; a fetch that
        // fails is retried at the next window.
        match miner.catch_up(None).await {
            Ok(_) => {}
            Err(
                e @ (SyncError::OtherRun { .. }
                | SyncError::NotOnChain { .. }
                | SyncError::Diverged { .. }),
            ) => return Err(e.into()),
            Err(e) => tracing::warn!(error = %e, "could not catch up with the manifests yet"),
        }
        Ok((miner, started))
    }

    /// The miner's uid.
    pub fn uid(&self) -> u16 {
        self.uid
    }

    /// The model's current state hash.
    pub fn model_hash(&self) -> Digest {
        self.model_hash
    }

    /// Runs windows until `shutdown` resolves or the configured number of windows is done,
    /// reporting each step to `on_event`.
    pub async fn run(
        mut self,
        mut on_event: impl FnMut(MinerEvent) + Send,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), RunError> {
        let mut events = self.chain.window_events(self.clock).await?;
        let mut done = 0u64;
        tokio::pin!(shutdown);
        loop {
            let event = tokio::select! {
                () = &mut shutdown => return Ok(()),
                e = events.next() => e,
            };
            let window = match event {
                None => return Err(RunError::StreamEnded),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(WindowEvent::Block { window, .. })) => window,
                Some(Ok(_)) => continue,
            };
            if self.attempted.is_some_and(|a| a >= window) {
                continue;
            }
            self.attempted = Some(window);
            let report = tokio::select! {
                () = &mut shutdown => return Ok(()),
                r = self.window(window, &mut on_event) => r?,
            };
            tracing::info!(
                window,
                outcome = report.outcome.name(),
                loss = report.losses.last().copied().unwrap_or(f64::NAN),
                tokens = report.tokens,
                train_s = report.train_seconds,
                upload_s = report.upload_seconds,
                incentive = report.incentive,
                "window done"
            );
            on_event(MinerEvent::Window(report));
            done += 1;
            if self.cfg.windows.is_some_and(|n| done >= n) {
                return Ok(());
            }
        }
    }

    /// Applies every manifest the lead validator published that the model lacks. Returns the
    /// applied windows.
    async fn catch_up(&mut self, give_up: Option<u64>) -> Result<Vec<u64>, SyncError> {
        let Some(lead) = self.lead_manifest().await? else {
            return Ok(Vec::new());
        };
        let latest = self
            .until(give_up, self.sync.manifest(&lead.commitment.digest))
            .await?;
        let missing = self
            .until(
                give_up,
                self.sync.missing(&self.model_hash, &lead.commitment.digest),
            )
            .await?;
        let mut applied = Vec::new();
        let mut stopped = None;
        for m in missing {
            let artifacts = match self.until(give_up, self.sync.artifacts(&m)).await {
                Ok(a) => a,
                Err(e) => {
                    stopped = Some(e);
                    break;
                }
            };
            let model = self.model.clone();
            let outer = self.sync.outer().clone();
            let window = m.window;
            // Not raced against the wait: an outer step runs to its end once started.
            tokio::task::spawn_blocking(move || sync::apply(&model, &m, &artifacts, &outer))
                .await
                .map_err(|e| SyncError::Task(e.to_string()))??;
            applied.push(window);
        }
        if !applied.is_empty() {
            self.model_hash = self.model.state_hash()?;
            let dir = self.cfg.state_dir.join(MODEL_DIR);
            if let Err(e) = self.model.save(&dir) {
                tracing::warn!(error = %e, "could not save the model checkpoint");
            }
        }
        // The newest manifest counts as had only once every manifest up to it is applied, so
        // a catch-up cut short keeps the window's wait going.
        match (&stopped, applied.last()) {
            (None, _) => self.manifest_window = Some(latest.window),
            (Some(_), Some(&w)) => self.manifest_window = Some(w),
            (Some(_), None) => {}
        }
        match stopped {
            Some(e) if applied.is_empty() => Err(e),
            Some(e) => {
                tracing::warn!(error = %e, ?applied, "caught up part of the way");
                Ok(applied)
            }
            None => Ok(applied),
        }
    }

    /// Runs a download, ending it with [`SyncError::WaitOver`] once the chain reaches
    /// `give_up` (when given): a gateway that hangs cannot hold the window's training back.
    async fn until<T>(
        &self,
        give_up: Option<u64>,
        download: impl std::future::Future<Output = Result<T, SyncError>>,
    ) -> Result<T, SyncError> {
        let Some(give_up) = give_up else {
            return download.await;
        };
        let wait_over = async {
            loop {
                if let Ok(block) = self.chain.current_block().await
                    && block >= give_up
                {
                    return block;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        };
        tokio::select! {
            result = download => result,
            block = wait_over => Err(SyncError::WaitOver { block }),
        }
    }

    async fn lead_manifest(&self) -> Result<Option<sync::ManifestRef>, SyncError> {
        let (commitments, metagraph) = futures::try_join!(
            self.chain.commitments(self.cfg.netuid, BlockSel::Latest),
            self.chain.metagraph(self.cfg.netuid, BlockSel::Latest),
        )?;
        Ok(sync::lead_manifest(
            &commitments,
            &metagraph,
            self.cfg.validator.as_ref(),
        ))
    }

    /// Waits (up to the configured blocks into `window`) for the manifest of `window − 1` and
    /// applies what arrived.
    async fn sync_for(&mut self, window: u64, on_event: &mut (impl FnMut(MinerEvent) + Send)) {
        if self.cfg.cheat == Some(Cheat::Stale) {
            return;
        }
        let wanted = window.checked_sub(1);
        let give_up = self.clock.start_block(window) + self.cfg.manifest_wait_blocks;
        loop {
            match self.catch_up(Some(give_up)).await {
                Ok(applied) if !applied.is_empty() => {
                    self.metrics.manifests(applied.len(), false);
                    on_event(MinerEvent::Synced {
                        windows: applied,
                        model_hash: self.model_hash,
                    });
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, window, "model sync failed"),
            }
            // No validator has published yet (a new run): nothing to wait for.
            let Some(have) = self.manifest_window else {
                return;
            };
            if wanted.is_none_or(|w| have >= w) {
                return;
            }
            let block = self.chain.current_block().await.unwrap_or(give_up);
            if block >= give_up {
                tracing::warn!(
                    window,
                    "the previous window's manifest did not arrive in time"
                );
                self.metrics.manifests(0, true);
                on_event(MinerEvent::ManifestGap { window: window - 1 });
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn incentive(&self) -> Result<f64, ReadError> {
        let metagraph = self
            .chain
            .metagraph(self.cfg.netuid, BlockSel::Latest)
            .await?;
        Ok(metagraph
            .neurons
            .get(usize::from(self.uid))
            .filter(|n| n.hotkey == self.account)
            .map_or(0.0, |n| proportion(n.incentive)))
    }

    async fn window(
        &mut self,
        window: u64,
        on_event: &mut (impl FnMut(MinerEvent) + Send),
    ) -> Result<WindowReport, RunError> {
        self.metrics.window(window);
        match self.chain.uid_of(self.cfg.netuid, &self.account).await {
            Ok(Some(uid)) if uid == self.uid => {}
            Ok(_) => {
                return Err(RunError::Deregistered {
                    netuid: self.cfg.netuid,
                    uid: self.uid,
                });
            }
            Err(e) => tracing::warn!(error = %e, "could not check the registration"),
        }
        let incentive = self.incentive().await.unwrap_or(0.0);
        self.metrics.incentive(incentive);
        self.sync_for(window, on_event).await;

        let mut report = WindowReport {
            window,
            outcome: Outcome::DataFailed(String::new()),
            base_model_hash: self.model_hash,
            losses: Vec::new(),
            tokens: 0,
            train_seconds: 0.0,
            upload_seconds: 0.0,
            feedback_hash: self.state.feedback.buffers_hash(),
            incentive,
        };
        let rows = match self.rows(window).await {
            Ok(rows) => rows,
            Err(e) => {
                report.outcome = Outcome::DataFailed(e.to_string());
                self.metrics.outcome(report.outcome.name());
                return Ok(report);
            }
        };

        let mut update = self.train(window, rows).await?;
        if let Some(cheat) = self.cfg.cheat {
            cheat.apply(&mut update.update);
        }
        report.losses = update.update.training.losses.clone();
        report.tokens = update.update.training.tokens;
        report.train_seconds = update.took.as_secs_f64();
        self.metrics.trained(
            report.losses.last().copied().unwrap_or(f64::NAN),
            report.tokens,
            update.took,
        );

        let (outcome, upload_took, pending) = self.deliver(window, &update.update).await;
        report.upload_seconds = upload_took.as_secs_f64();
        // Only a committed artifact is worth uploading late.
        if let (Outcome::Committed { .. }, Some(bytes)) = (&outcome, pending) {
            self.late_upload = Some(upload::upload_late(
                self.gateway.clone(),
                self.chain.clone(),
                self.hotkey.clone(),
                bytes,
                self.clock.end_block(window + 1),
            ));
        }
        match &outcome {
            Outcome::Committed { .. } => {
                self.state.feedback = update.update.next_feedback;
                self.state.last_window = Some(window);
            }
            _ => {
                // Nothing was sent: keep the whole update in the error feedback.
                let slices: Vec<&[f32]> = update
                    .update
                    .delta
                    .iter()
                    .map(|d| d.values.as_slice())
                    .collect();
                self.state
                    .feedback
                    .accumulate(&slices)
                    .map_err(RoundError::from)?;
            }
        }
        self.state.save(&self.cfg.state_dir.join(STATE_FILE))?;
        report.feedback_hash = self.state.feedback.buffers_hash();
        self.metrics.outcome(outcome.name());
        report.outcome = outcome;
        Ok(report)
    }

    async fn rows(&self, window: u64) -> Result<Vec<u32>, RowsError> {
        let d = &self.cfg.hparams.data;
        let rows = self.cfg.hparams.assignable_rows(self.dataset.rows());
        let pool = if self.cfg.cheat == Some(Cheat::RandomData) {
            random_pool(
                self.cfg.netuid,
                window,
                &self.account.0,
                rows,
                d.pool_rows as usize,
            )?
        } else {
            assigned_pool(
                self.cfg.netuid,
                self.uid,
                &self.account.0,
                window,
                rows,
                d.pool_rows as usize,
            )?
        };
        let used = (self.cfg.hparams.inner.steps as usize * d.batch_rows as usize).min(pool.len());
        Ok(self.dataset.read_rows(&pool[..used]).await?)
    }

    async fn train(&self, window: u64, rows: Vec<u32>) -> Result<Trained, RunError> {
        let h = &self.cfg.hparams;
        let steps = u64::from(h.inner.steps);
        let mut inner = InnerConfig::from_hparams(h, self.cfg.schedule_windows.max(1) * steps);
        if let Some(mb) = self.cfg.micro_batch_rows {
            inner.micro_batch_rows = mb;
        }
        let header = ArtifactHeader {
            netuid: self.cfg.netuid,
            uid: self.uid,
            hotkey: self.account.0,
            window,
            base_model_hash: self.model_hash,
            hparams_hash: h.hparams_hash(),
        };
        let seq_len = h.data.seq_len as usize;
        let model = self.model.clone();
        let feedback = self.state.feedback.clone();
        let optimizer = self.optimizer.clone();
        // Training stops early once the chain reaches the next window.
        let ended = Arc::new(AtomicBool::new(false));
        let watcher = AbortOnDrop(tokio::spawn(watch_window_end(
            self.chain.clone(),
            self.clock.start_block(window + 1),
            ended.clone(),
        )));
        let result = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            // The inner optimizer keeps its moments across windows (in memory only).
            let mut opt = optimizer
                .lock()
                .map_err(|_| RunError::Task("the optimizer lock is poisoned".into()))?;
            let update = produce(
                &model,
                &mut opt,
                &rows,
                seq_len,
                window.saturating_mul(steps),
                &inner,
                &feedback,
                header,
                &|_| ended.load(Ordering::Relaxed),
            )?;
            Ok(Trained {
                update,
                took: started.elapsed(),
            })
        })
        .await
        .map_err(|e| RunError::Task(e.to_string()))?;
        drop(watcher);
        result
    }

    /// Uploads and commits if the deadline allows. Returns the outcome, the upload time, and
    /// the bytes when the gateway failed until the deadline and the digest was committed
    /// without them (to be uploaded late).
    async fn deliver(
        &self,
        window: u64,
        update: &WindowUpdate,
    ) -> (Outcome, Duration, Option<Bytes>) {
        let margin = self.cfg.commit_margin;
        let deadline = self.clock.commit_deadline(window);
        let too_late = |block| match decide(&self.clock, window, block, margin) {
            CommitDecision::Commit => None,
            CommitDecision::TooLate { deadline, block } => {
                Some(Outcome::TooLate { deadline, block })
            }
        };
        let block = match self.chain.current_block().await {
            Ok(b) => b,
            Err(e) => return (Outcome::CommitFailed(e.to_string()), Duration::ZERO, None),
        };
        if let Some(late) = too_late(block) {
            return (late, Duration::ZERO, None);
        }
        let started = Instant::now();
        let mut pending = None;
        let (digest, byte_len) = if self.cfg.cheat == Some(Cheat::Copycat) {
            let until = deadline.saturating_sub(margin);
            let net = self.cfg.netuid;
            match crate::cheat::copy_target(&self.chain, net, window, &self.account, until).await {
                Some(c) => (c.digest, c.byte_len),
                None => {
                    return (
                        Outcome::UploadFailed("nothing to copy".into()),
                        Duration::ZERO,
                        None,
                    );
                }
            }
        } else {
            let bytes = Bytes::from(update.bytes.clone());
            // Retry while one more block of margin would still leave time to commit.
            let keep_trying = || async {
                self.chain.current_block().await.is_ok_and(|block| {
                    decide(&self.clock, window, block, margin + 1) == CommitDecision::Commit
                })
            };
            match upload::upload_while(&self.gateway, &self.hotkey, &bytes, keep_trying).await {
                Ok(_) => {}
                Err(e) if e.is_transient() => {
                    tracing::warn!(
                        window,
                        error = %e,
                        "the gateway failed until the deadline; committing the digest and \
                         uploading after it"
                    );
                    pending = Some(bytes);
                }
                Err(e) => {
                    return (
                        Outcome::UploadFailed(e.to_string()),
                        started.elapsed(),
                        None,
                    );
                }
            }
            (update.digest, update.bytes.len() as u64)
        };
        let took = started.elapsed();
        if pending.is_none() {
            self.metrics.uploaded(byte_len as usize, took);
        }
        let block = match self.chain.current_block().await {
            Ok(b) => b,
            Err(e) => return (Outcome::CommitFailed(e.to_string()), took, None),
        };
        if let Some(late) = too_late(block) {
            return (late, took, None);
        }
        let commitment = Commitment {
            kind: CommitmentKind::Artifact,
            window,
            digest,
            byte_len,
            locator: self.cfg.locator.clone(),
        };
        let bytes = match commitment.encode() {
            Ok(b) => b,
            Err(e) => return (Outcome::CommitFailed(e.to_string()), took, None),
        };
        let outcome = match self
            .chain
            .set_commitment(self.cfg.netuid, &self.hotkey, &bytes)
            .await
        {
            Ok(included) if included.block_number <= deadline => Outcome::Committed {
                block: included.block_number,
                digest,
                bytes: byte_len,
            },
            Ok(included) => Outcome::LateInclusion {
                block: included.block_number,
                deadline,
            },
            Err(e) => Outcome::CommitFailed(e.to_string()),
        };
        (outcome, took, pending)
    }
}

struct Trained {
    update: WindowUpdate,
    took: Duration,
}

#[derive(Debug, Error)]
enum RowsError {
    #[error(transparent)]
    Assignment(#[from] AssignmentError),
    #[error(transparent)]
    Dataset(#[from] DatasetError),
}
