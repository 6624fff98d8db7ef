//! The benchmark's arms, each a training run on the same data from the same genesis model,
//! measured on the same held-out rows (rows no miner is ever assigned).
//!
//! The network arms run the protocol's own code: data assignment, the inner AdamW loop, error
//! feedback and compression, the artifact encoding and decoding, the Gauntlet's measurements
//! and aggregation set, the aggregation rule and the outer step.

use super::figures::Curve;
use anyhow::Result;
use candle_core::Device;
use kiln_protocol::artifact::{Artifact, ArtifactHeader, DecodeOptions};
use kiln_protocol::assignment::{assigned_pool, random_pool};
use kiln_protocol::codec::ErrorFeedback;
use kiln_protocol::{Hparams, SparseTensor};
use kiln_training::data::Synth;
use kiln_training::{
    AdamW, InnerConfig, Model, ModelConfig, OuterOptimizer, aggregate_messages, mean_loss,
    train_inner,
};
use kiln_validator::evaluate::{EvalConfig, clip_scales_by_miner, clipped, measure, random_loss};
use kiln_validator::window::aggregation_set;
use std::collections::BTreeMap;

const NETUID: u16 = 1;
/// Windows over which the inner learning rate decays (the miner's default: constant in
/// practice after the warm-up).
const SCHEDULE_WINDOWS: u64 = 10_000;
/// DiLoCo's published outer optimizer (arXiv 2311.08455): Nesterov, lr 0.7, momentum 0.9.
const DILOCO_OUTER_LR: f64 = 0.7;
const DILOCO_OUTER_MOMENTUM: f64 = 0.9;
/// Rows per forward pass when measuring losses.
const EVAL_MICRO_BATCH: usize = 32;

/// One arm of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub(crate) enum Arm {
    /// N honest miners running the protocol.
    Network,
    /// One AdamW trainer with one miner's rows per window.
    #[value(name = "adamw-1")]
    Adamw1,
    /// One AdamW trainer with every miner's rows in each step (N× the batch).
    #[value(name = "adamw-ddp")]
    AdamwDdp,
    /// N workers, dense (uncompressed) mean of their pseudo-gradients, the same outer step.
    Diloco,
    /// The network with one random-data miner added.
    #[value(name = "network+random")]
    NetworkRandom,
    /// DiLoCo with its published outer optimizer (Nesterov, lr 0.7, momentum 0.9): a
    /// reference for what an outer momentum would add.
    #[value(name = "diloco-nesterov")]
    DilocoNesterov,
}

impl Arm {
    /// Every arm, in report order.
    pub(crate) const ALL: [Arm; 6] = [
        Arm::Network,
        Arm::Adamw1,
        Arm::AdamwDdp,
        Arm::Diloco,
        Arm::NetworkRandom,
        Arm::DilocoNesterov,
    ];

    /// The arm's name in tables and JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Arm::Network => "network",
            Arm::Adamw1 => "adamw-1",
            Arm::AdamwDdp => "adamw-ddp",
            Arm::Diloco => "diloco",
            Arm::NetworkRandom => "network+random",
            Arm::DilocoNesterov => "diloco-nesterov",
        }
    }
}

/// What one arm measured.
#[derive(Debug, Clone)]
pub(crate) struct ArmRun {
    pub(crate) arm: Arm,
    pub(crate) curve: Curve,
    /// Per honest miner, its assigned-data indicator per window (network arms only).
    pub(crate) honest: Vec<Vec<i8>>,
    /// The random-data miner's indicator per window (network+random only).
    pub(crate) random_data: Vec<Vec<i8>>,
    /// Miners the validator left out of the aggregate, summed over windows.
    pub(crate) excluded: u64,
    /// Wall-clock seconds the arm took.
    pub(crate) seconds: f64,
}

/// The shared set-up: run parameters, model shape, data and held-out rows.
pub(crate) struct Setup {
    pub(crate) hparams: Hparams,
    pub(crate) config: ModelConfig,
    pub(crate) device: Device,
    pub(crate) seed: u64,
    pub(crate) miners: u16,
    pub(crate) windows: u64,
    pub(crate) synth: Synth,
    /// Rows `0..train_rows` are assignable; the rest are held out.
    pub(crate) train_rows: u64,
    pub(crate) heldout: Vec<u32>,
}

impl Setup {
    fn tokens(&self, rows: &[u64]) -> Vec<u32> {
        rows.iter().flat_map(|&r| self.synth.row(r)).collect()
    }

    fn trained_rows(&self) -> usize {
        (self.hparams.inner.steps * self.hparams.data.batch_rows) as usize
    }

    fn tokens_per_miner_window(&self) -> u64 {
        (self.trained_rows() * self.hparams.data.seq_len as usize) as u64
    }

    fn hotkey(&self, uid: u16) -> [u8; 32] {
        let mut h = blake3::Hasher::new_derive_key("kiln bench convergence hotkey");
        h.update(&self.seed.to_le_bytes());
        h.update(&uid.to_le_bytes());
        *h.finalize().as_bytes()
    }

    /// The rows miner `uid` trains on in `window`: its assignment, or for a random-data miner
    /// rows from a pool keyed by its hotkey (as `kiln miner --cheat random-data` draws them).
    fn rows_of(&self, uid: u16, window: u64, honest: bool) -> Result<Vec<u64>> {
        let pool = self.hparams.data.pool_rows as usize;
        let hotkey = self.hotkey(uid);
        let mut rows = if honest {
            assigned_pool(NETUID, uid, &hotkey, window, self.train_rows, pool)?
        } else {
            random_pool(NETUID, window, &hotkey, self.train_rows, pool)?
        };
        rows.truncate(self.trained_rows());
        Ok(rows)
    }

    fn inner(&self) -> InnerConfig {
        let steps = u64::from(self.hparams.inner.steps);
        InnerConfig::from_hparams(&self.hparams, SCHEDULE_WINDOWS * steps)
    }

    fn start_step(&self, window: u64) -> u64 {
        window * u64::from(self.hparams.inner.steps)
    }

    fn model(&self) -> Result<Model> {
        Ok(Model::init(&self.config, self.seed, &self.device)?)
    }

    fn heldout_loss(&self, model: &Model) -> Result<f64> {
        let seq = self.hparams.data.seq_len as usize;
        Ok(mean_loss(model, &self.heldout, seq, EVAL_MICRO_BATCH)?)
    }

    /// The protocol's outer step (plain SGD at `outer.lr`).
    fn outer(&self) -> OuterOptimizer {
        OuterOptimizer::new(self.hparams.outer.lr, 0.0)
    }

    /// Runs one arm.
    pub(crate) fn run(&self, arm: Arm) -> Result<ArmRun> {
        let started = std::time::Instant::now();
        let mut run = match arm {
            Arm::Network => self.network(false)?,
            Arm::NetworkRandom => self.network(true)?,
            Arm::Adamw1 => self.single(1)?,
            Arm::AdamwDdp => self.single(self.miners)?,
            Arm::Diloco => self.diloco(self.outer())?,
            Arm::DilocoNesterov => {
                self.diloco(OuterOptimizer::new(DILOCO_OUTER_LR, DILOCO_OUTER_MOMENTUM))?
            }
        };
        run.arm = arm;
        run.seconds = started.elapsed().as_secs_f64();
        Ok(run)
    }

    fn run_of(&self, loss: Vec<f64>, tokens_per_window: u64) -> ArmRun {
        let tokens = (0..loss.len() as u64)
            .map(|w| w * tokens_per_window)
            .collect();
        ArmRun {
            arm: Arm::Network,
            curve: Curve { loss, tokens },
            honest: Vec::new(),
            random_data: Vec::new(),
            excluded: 0,
            seconds: 0.0,
        }
    }

    /// One AdamW trainer whose every step takes `width` miners' batches (width 1: one miner's
    /// tokens per window; width N: the network's tokens, N× the batch).
    fn single(&self, width: u16) -> Result<ArmRun> {
        let model = self.model()?;
        let mut inner = self.inner();
        inner.batch_rows *= usize::from(width);
        inner.micro_batch_rows = inner.batch_rows;
        let mut opt = AdamW::new(&model, inner.adamw)?;
        let (b, seq) = (
            self.hparams.data.batch_rows as usize,
            self.hparams.data.seq_len as usize,
        );
        let mut loss = vec![self.heldout_loss(&model)?];
        for w in 0..self.windows {
            // Step h takes batch h of each of the `width` miners' assignments.
            let pools: Vec<Vec<u64>> = (0..width)
                .map(|uid| self.rows_of(uid, w, true))
                .collect::<Result<_>>()?;
            let rows: Vec<u64> = (0..self.hparams.inner.steps as usize)
                .flat_map(|h| pools.iter().flat_map(move |p| p[h * b..(h + 1) * b].iter()))
                .copied()
                .collect();
            let out = train_inner(
                &model,
                &mut opt,
                &self.tokens(&rows),
                seq,
                self.start_step(w),
                &inner,
            )?;
            let delta: Vec<(&str, &[f32])> = out
                .delta
                .iter()
                .map(|d| (d.name.as_str(), d.values.as_slice()))
                .collect();
            kiln_training::outer_step(&model, &delta, 1.0)?;
            loss.push(self.heldout_loss(&model)?);
        }
        Ok(self.run_of(loss, self.tokens_per_miner_window() * u64::from(width)))
    }

    /// N workers from the same model each window, the dense mean of their pseudo-gradients
    /// applied by `outer`.
    fn diloco(&self, mut outer: OuterOptimizer) -> Result<ArmRun> {
        let model = self.model()?;
        let inner = self.inner();
        let seq = self.hparams.data.seq_len as usize;
        let mut opts: Vec<AdamW> = (0..self.miners)
            .map(|_| AdamW::new(&model, inner.adamw))
            .collect::<Result<_, _>>()?;
        let mut loss = vec![self.heldout_loss(&model)?];
        for w in 0..self.windows {
            let mut sum: Option<Vec<(String, Vec<f32>)>> = None;
            for (uid, opt) in (0..self.miners).zip(opts.iter_mut()) {
                let rows = self.tokens(&self.rows_of(uid, w, true)?);
                let out = train_inner(&model, opt, &rows, seq, self.start_step(w), &inner)?;
                let acc = sum.get_or_insert_with(|| {
                    out.delta
                        .iter()
                        .map(|d| (d.name.clone(), vec![0.0; d.values.len()]))
                        .collect()
                });
                for ((_, a), d) in acc.iter_mut().zip(&out.delta) {
                    a.iter_mut().zip(&d.values).for_each(|(a, v)| *a += v);
                }
            }
            let n = f32::from(self.miners);
            let mean: Vec<(String, Vec<f32>)> = sum
                .unwrap_or_default()
                .into_iter()
                .map(|(name, v)| (name, v.into_iter().map(|x| x / n).collect()))
                .collect();
            outer.step(&model, &borrowed(&mean))?;
            loss.push(self.heldout_loss(&model)?);
        }
        Ok(self.run_of(
            loss,
            self.tokens_per_miner_window() * u64::from(self.miners),
        ))
    }

    /// The protocol: each miner trains its assignment, folds the pseudo-gradient into its error
    /// feedback and sends the compressed artifact; the validator measures every update with the
    /// Gauntlet, aggregates the set it would publish and takes the outer step.
    fn network(&self, with_random: bool) -> Result<ArmRun> {
        let h = &self.hparams;
        let model = self.model()?;
        let inner = self.inner();
        let seq = h.data.seq_len as usize;
        let c = &h.compression;
        let specs = model.codec_specs(c.chunk, c.topk)?;
        let cheater = with_random.then_some(self.miners);
        let uids: Vec<u16> = (0..self.miners + u16::from(with_random)).collect();
        let mut opts: Vec<AdamW> = uids
            .iter()
            .map(|_| AdamW::new(&model, inner.adamw))
            .collect::<Result<_, _>>()?;
        let mut feedback: Vec<ErrorFeedback> = uids
            .iter()
            .map(|_| ErrorFeedback::new(specs.clone(), c.error_feedback_decay as f32))
            .collect();
        let eval = EvalConfig::from_hparams(h, EVAL_MICRO_BATCH);
        let mut outer = self.outer();
        let mut loss = vec![self.heldout_loss(&model)?];
        let mut honest = vec![Vec::new(); usize::from(self.miners)];
        let mut random_data = vec![Vec::new(); usize::from(with_random)];
        let mut excluded = 0u64;
        let base_model_hash = [0; 32];
        for w in 0..self.windows {
            let mut updates: BTreeMap<u16, Vec<SparseTensor>> = BTreeMap::new();
            for ((&uid, opt), ef) in uids.iter().zip(opts.iter_mut()).zip(feedback.iter_mut()) {
                let rows = self.tokens(&self.rows_of(uid, w, Some(uid) != cheater)?);
                let out = train_inner(&model, opt, &rows, seq, self.start_step(w), &inner)?;
                let deltas: Vec<&[f32]> = out.delta.iter().map(|d| d.values.as_slice()).collect();
                let tensors = ef.step(&deltas)?;
                let header = ArtifactHeader {
                    netuid: NETUID,
                    uid,
                    hotkey: self.hotkey(uid),
                    window: w,
                    base_model_hash,
                    hparams_hash: h.hparams_hash(),
                };
                // Through the wire format, as the validator receives it.
                let bytes = Artifact { header, tensors }.encode()?;
                let artifact = Artifact::decode(&bytes, &DecodeOptions::default())?;
                updates.insert(uid, artifact.tensors);
            }
            let random_rows = {
                let seed =
                    *blake3::hash(&[self.seed.to_le_bytes(), w.to_le_bytes()].concat()).as_bytes();
                random_pool(
                    NETUID,
                    w,
                    &seed,
                    self.train_rows,
                    h.data.random_rows as usize,
                )?
            };
            let random = self.tokens(&random_rows);
            let before = random_loss(&model, &random, &eval)?;
            let scales = clip_scales_by_miner(&updates);
            let mut scores = Vec::new();
            for (&uid, update) in &updates {
                let own_rows = self.rows_of(uid, w, true)?;
                let own = self.tokens(&own_rows[..h.data.eval_rows as usize]);
                let m = measure(
                    &model,
                    &clipped(update, &scales[&uid]),
                    &own,
                    &random,
                    before,
                    &eval,
                )?;
                scores.push((uid, m.loss_score));
                match cheater {
                    Some(c) if c == uid => random_data[0].push(m.indicator),
                    _ => honest[usize::from(uid)].push(m.indicator),
                }
            }
            let set = aggregation_set(&scores, usize::MAX);
            excluded += (uids.len() - set.len()) as u64;
            if !set.is_empty() {
                let peers: Vec<&[SparseTensor]> =
                    set.iter().map(|u| updates[u].as_slice()).collect();
                let dense = aggregate_messages(&peers, h.outer.mean)?;
                outer.step(&model, &borrowed(&dense))?;
            }
            loss.push(self.heldout_loss(&model)?);
        }
        let mut run = self.run_of(loss, self.tokens_per_miner_window() * uids.len() as u64);
        run.honest = honest;
        run.random_data = random_data;
        run.excluded = excluded;
        Ok(run)
    }
}

/// Named dense tensors as the outer step takes them.
fn borrowed(tensors: &[(String, Vec<f32>)]) -> Vec<(&str, &[f32])> {
    tensors
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect()
}
