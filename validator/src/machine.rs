//! The window state machine: `Collect → Fetch → Evaluate → Score → Persist → Weights →
//! Aggregate`, driven by [`WindowMachine::step`] with block numbers, chain reads, fetched bytes and
//! measurements as inputs, returning the actions the async shell performs. No I/O, no clock:
//! the same inputs give the same actions.

use crate::checks::Expected;
use crate::db::{EvaluationRow, ScoreRow, SubmissionRow, WindowRecord};
use crate::evaluate::Measurement;
use crate::score::{ScoreParams, Scored, Standing, Verdict, score_window};
use crate::weights::RankSchedule;
use crate::window::{
    Download, Posted, Submission, aggregation_set, collect, evaluation_order, find_copies,
    judge_bytes, sets_weights,
};
use kiln_protocol::artifact::{Artifact, DecodeOptions};
use kiln_protocol::commitment::Commitment;
use kiln_protocol::{Digest, WindowClock};
use std::collections::{BTreeMap, BTreeSet};

/// The machine's settings.
#[derive(Debug, Clone)]
pub struct MachineConfig {
    /// The subnet.
    pub netuid: u16,
    /// The run's hparams hash.
    pub hparams_hash: Digest,
    /// Set weights every this many windows.
    pub windows_per_weights: u64,
    /// Most miners evaluated per window.
    pub max_evaluations: usize,
    /// Most artifacts aggregated per window.
    pub max_peers: usize,
    /// Index overlap from which a later commitment is a copy.
    pub overlap_threshold: f64,
    /// Decoder limits.
    pub decode: DecodeOptions,
    /// Scoring constants.
    pub score: ScoreParams,
    /// Weight schedule.
    pub schedule: RankSchedule,
    /// Own rows evaluated per miner.
    pub own_rows: u32,
    /// Random rows evaluated per window.
    pub random_rows: u32,
    /// Step size updates are applied with.
    pub eval_lr: f64,
}

/// A registered neuron as the machine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its hotkey.
    pub hotkey: [u8; 32],
    /// The hotkey as SS58 (for records).
    pub ss58: String,
}

/// Where the window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the block after the commit deadline (its hash seeds the random rows).
    WaitSeed,
    /// Waiting for the chain read.
    Collect,
    /// Waiting for downloads.
    Fetch,
    /// Waiting for measurements.
    Evaluate,
    /// Waiting for the database write.
    Persist,
    /// Waiting for the weight submission.
    Weights,
    /// Waiting for the manifest to be published.
    Aggregate,
    /// Finished.
    Done,
}

/// What the shell reports.
#[derive(Debug, Clone)]
pub enum Input {
    /// The latest finalized block.
    Block(u64),
    /// The chain read at the seed block.
    Collected {
        /// Registered neurons by uid (the miners to judge; the validator's own uid excluded).
        members: BTreeMap<u16, Member>,
        /// Current commitments.
        posted: Vec<Posted>,
        /// The seed block's hash.
        seed: Digest,
        /// Standings before this window (from the database).
        standings: BTreeMap<u16, Standing>,
        /// The window each uid was last evaluated in.
        last_evaluated: BTreeMap<u16, u64>,
        /// State hash of the validator's model.
        model_hash: Digest,
        /// How many manifests behind the validator's model each base hash is.
        known_bases: BTreeMap<Digest, u32>,
    },
    /// A download finished.
    Fetched {
        /// The miner.
        uid: u16,
        /// What came back.
        download: Download,
    },
    /// The random rows' loss before any update was measured.
    RandomLoss(f64),
    /// A miner was measured (`Err`: the update could not be applied; counts as invalid).
    Measured {
        /// The miner.
        uid: u16,
        /// The measurement.
        result: Result<Measurement, String>,
        /// Device it ran on.
        device: String,
        /// How long it took.
        duration_ms: u64,
    },
    /// The window's record is in the database.
    Persisted,
    /// The weight submission finished (or was skipped).
    WeightsDone,
    /// The manifest was published (or there was nothing to aggregate).
    Aggregated,
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Read the members, commitments, seed and standings at `block`.
    Collect {
        /// The seed block.
        block: u64,
    },
    /// Download an artifact.
    Fetch {
        /// The miner.
        uid: u16,
        /// Its commitment.
        commitment: Commitment,
        /// The block that included it.
        block: u64,
    },
    /// Measure the random rows' loss at the current model.
    MeasureRandom,
    /// Measure `uid`'s update ([`WindowMachine::update_for`]).
    Measure {
        /// The miner.
        uid: u16,
    },
    /// Write the record in one transaction.
    Persist(Box<WindowRecord>),
    /// Submit these weights (sum 1; empty: self-weight).
    SetWeights(Vec<(u16, f64)>),
    /// Aggregate these miners' artifacts, publish the manifest and step the model.
    Aggregate(Vec<u16>),
}

/// One window in progress.
#[derive(Debug)]
pub struct WindowMachine {
    window: u64,
    clock: WindowClock,
    cfg: MachineConfig,
    phase: Phase,
    seed: Digest,
    model_hash: Digest,
    known_bases: BTreeMap<Digest, u32>,
    members: BTreeMap<u16, Member>,
    submissions: BTreeMap<u16, Submission>,
    standings: BTreeMap<u16, Standing>,
    last_evaluated: BTreeMap<u16, u64>,
    waiting: BTreeSet<u16>,
    verdicts: BTreeMap<u16, Verdict>,
    usable: BTreeMap<u16, (u64, Digest, Artifact)>,
    /// Downloads whose bytes matched the committed digest, usable or not.
    hashed: BTreeMap<u16, (u64, Digest)>,
    queue: Vec<u16>,
    in_flight: Option<u16>,
    random_before: Option<f64>,
    evaluations: Vec<EvaluationRow>,
    scored: Vec<Scored>,
    started_block: u64,
    last_block: u64,
}

impl WindowMachine {
    /// A machine for `window`.
    pub fn new(window: u64, clock: WindowClock, cfg: MachineConfig) -> Self {
        WindowMachine {
            window,
            clock,
            cfg,
            phase: Phase::WaitSeed,
            seed: [0; 32],
            model_hash: [0; 32],
            known_bases: BTreeMap::new(),
            members: BTreeMap::new(),
            submissions: BTreeMap::new(),
            standings: BTreeMap::new(),
            last_evaluated: BTreeMap::new(),
            waiting: BTreeSet::new(),
            verdicts: BTreeMap::new(),
            usable: BTreeMap::new(),
            hashed: BTreeMap::new(),
            queue: Vec::new(),
            in_flight: None,
            random_before: None,
            evaluations: Vec::new(),
            scored: Vec::new(),
            started_block: 0,
            last_block: 0,
        }
    }

    /// The window.
    pub fn window(&self) -> u64 {
        self.window
    }

    /// The phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The block after which evaluation stops: the end of the window after this one.
    pub fn evaluation_stop(&self) -> u64 {
        self.clock.start_block(self.window + 2)
    }

    /// The decoded update of `uid` (while it is usable).
    pub fn update_for(&self, uid: u16) -> Option<&Artifact> {
        self.usable.get(&uid).map(|(_, _, a)| a)
    }

    /// The window's final scores, once scored.
    pub fn scores(&self) -> &[Scored] {
        &self.scored
    }

    /// Advances on `input` and returns what to do next.
    pub fn step(&mut self, input: Input) -> Vec<Action> {
        if let Input::Block(b) = input {
            self.last_block = self.last_block.max(b);
        }
        match (self.phase, input) {
            (Phase::WaitSeed, Input::Block(b))
                if b >= self.clock.random_seed_block(self.window) =>
            {
                self.phase = Phase::Collect;
                self.started_block = b;
                vec![Action::Collect {
                    block: self.clock.random_seed_block(self.window),
                }]
            }
            (
                Phase::Collect,
                Input::Collected {
                    members,
                    posted,
                    seed,
                    standings,
                    last_evaluated,
                    model_hash,
                    known_bases,
                },
            ) => {
                self.seed = seed;
                self.model_hash = model_hash;
                self.known_bases = known_bases;
                self.standings = standings;
                self.last_evaluated = last_evaluated;
                let uids: Vec<u16> = members.keys().copied().collect();
                self.members = members;
                self.submissions = collect(&self.clock, self.window, &uids, &posted);
                let mut actions = Vec::new();
                for (uid, s) in &self.submissions {
                    match s {
                        Submission::Missing => {
                            self.verdicts.insert(*uid, Verdict::Missing);
                        }
                        Submission::OutOfWindow { block, .. } => {
                            let v = if *block > self.clock.commit_deadline(self.window) {
                                Verdict::Late
                            } else {
                                Verdict::Invalid("committed before the window began".into())
                            };
                            self.verdicts.insert(*uid, v);
                        }
                        Submission::Committed { commitment, block } => {
                            self.waiting.insert(*uid);
                            actions.push(Action::Fetch {
                                uid: *uid,
                                commitment: commitment.clone(),
                                block: *block,
                            });
                        }
                    }
                }
                self.phase = Phase::Fetch;
                if self.waiting.is_empty() {
                    actions.extend(self.start_evaluation());
                }
                actions
            }
            (Phase::Fetch, Input::Fetched { uid, download }) if self.waiting.remove(&uid) => {
                if let (Some(Submission::Committed { block, commitment }), Some(m)) =
                    (self.submissions.get(&uid), self.members.get(&uid))
                {
                    let expected = Expected {
                        netuid: self.cfg.netuid,
                        uid,
                        hotkey: m.hotkey,
                        window: self.window,
                        hparams_hash: self.cfg.hparams_hash,
                    };
                    if let Download::Bytes(b) = &download
                        && *blake3::hash(b).as_bytes() == commitment.digest
                    {
                        self.hashed.insert(uid, (*block, commitment.digest));
                    }
                    match judge_bytes(commitment, download, &expected, &self.cfg.decode) {
                        Ok(a) => {
                            self.usable.insert(uid, (*block, commitment.digest, a));
                        }
                        Err(v) => {
                            self.verdicts.insert(uid, v);
                        }
                    }
                }
                if self.waiting.is_empty() {
                    self.start_evaluation()
                } else {
                    Vec::new()
                }
            }
            (Phase::Evaluate, Input::RandomLoss(l)) => {
                self.random_before = Some(l);
                self.next_measurement()
            }
            (
                Phase::Evaluate,
                Input::Measured {
                    uid,
                    result,
                    device,
                    duration_ms,
                },
            ) if self.in_flight == Some(uid) => {
                self.in_flight = None;
                match result {
                    Ok(m) => {
                        let behind = self.usable.get(&uid).and_then(|(_, _, a)| {
                            self.known_bases.get(&a.header.base_model_hash).copied()
                        });
                        self.evaluations.push(EvaluationRow {
                            uid,
                            loss_rand_before: m.random.before,
                            loss_rand_after: m.random.after,
                            loss_own_before: m.own.before,
                            loss_own_after: m.own.after,
                            loss_score: m.loss_score,
                            indicator: m.indicator,
                            behind,
                            own_rows: self.cfg.own_rows,
                            random_rows: self.cfg.random_rows,
                            eval_lr: self.cfg.eval_lr,
                            device,
                            duration_ms,
                        });
                        self.verdicts.insert(
                            uid,
                            Verdict::Evaluated {
                                loss_score: m.loss_score,
                                indicator: m.indicator,
                                behind,
                            },
                        );
                    }
                    Err(why) => {
                        self.verdicts.insert(uid, Verdict::Invalid(why));
                    }
                }
                self.next_measurement()
            }
            (Phase::Evaluate, Input::Block(b)) if b >= self.evaluation_stop() => {
                // Out of time: the rest (and the one being measured) wait for a later window.
                for uid in self.queue.drain(..).chain(self.in_flight.take()) {
                    self.verdicts.insert(uid, Verdict::NotEvaluated);
                }
                self.finish_scoring()
            }
            (Phase::Persist, Input::Persisted) => {
                self.phase = Phase::Weights;
                if sets_weights(self.window, self.cfg.windows_per_weights) {
                    let finals: Vec<(u16, f64)> =
                        self.scored.iter().map(|s| (s.uid, s.final_score)).collect();
                    vec![Action::SetWeights(self.cfg.schedule.weights(&finals))]
                } else {
                    self.step(Input::WeightsDone)
                }
            }
            (Phase::Weights, Input::WeightsDone) => {
                self.phase = Phase::Aggregate;
                // The aggregate trains the model: every update evaluated on the current model
                // that lowered the random rows' loss, best first. Payment (the final score) is
                // a separate question, so training proceeds from genesis, before the
                // assigned-data check has anything to tell apart.
                let improving: Vec<(u16, f64)> = self
                    .verdicts
                    .iter()
                    .filter_map(|(uid, v)| match v {
                        Verdict::Evaluated {
                            loss_score,
                            behind: Some(0),
                            ..
                        } => Some((*uid, *loss_score)),
                        _ => None,
                    })
                    .collect();
                vec![Action::Aggregate(aggregation_set(
                    &improving,
                    self.cfg.max_peers,
                ))]
            }
            (Phase::Aggregate, Input::Aggregated) => {
                self.phase = Phase::Done;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn start_evaluation(&mut self) -> Vec<Action> {
        // The same bytes from two hotkeys: the later commitment is the copy, whatever else is
        // wrong with it (a byte-for-byte copy names the original's uid in its header).
        let mut first: BTreeMap<Digest, (u64, u16)> = BTreeMap::new();
        let mut by_order: Vec<(u64, u16, Digest)> =
            self.hashed.iter().map(|(u, (b, d))| (*b, *u, *d)).collect();
        by_order.sort();
        for (block, uid, digest) in by_order {
            match first.get(&digest) {
                Some(&(_, original)) => {
                    self.usable.remove(&uid);
                    self.verdicts.insert(
                        uid,
                        Verdict::Copy {
                            original,
                            overlap: 1.0,
                        },
                    );
                }
                None => {
                    first.insert(digest, (block, uid));
                }
            }
        }
        for (uid, v) in find_copies(&self.usable, self.cfg.overlap_threshold) {
            self.usable.remove(&uid);
            self.verdicts.insert(uid, v);
        }
        let candidates: Vec<u16> = self.usable.keys().copied().collect();
        let mut order = evaluation_order(&candidates, &self.last_evaluated);
        for uid in order.split_off(order.len().min(self.cfg.max_evaluations)) {
            self.verdicts.insert(uid, Verdict::NotEvaluated);
        }
        order.reverse();
        self.queue = order;
        self.phase = Phase::Evaluate;
        if self.queue.is_empty() {
            return self.finish_scoring();
        }
        vec![Action::MeasureRandom]
    }

    fn next_measurement(&mut self) -> Vec<Action> {
        if self.last_block >= self.evaluation_stop() {
            return self.step(Input::Block(self.last_block));
        }
        match self.queue.pop() {
            Some(uid) => {
                self.in_flight = Some(uid);
                vec![Action::Measure { uid }]
            }
            None => self.finish_scoring(),
        }
    }

    fn finish_scoring(&mut self) -> Vec<Action> {
        self.scored = score_window(&self.standings, &self.verdicts, &self.cfg.score);
        self.phase = Phase::Persist;
        vec![Action::Persist(Box::new(self.record()))]
    }

    fn record(&self) -> WindowRecord {
        let ss58 = |uid: &u16| {
            self.members
                .get(uid)
                .map(|m| m.ss58.clone())
                .unwrap_or_default()
        };
        let submissions = self
            .submissions
            .iter()
            .map(|(uid, s)| {
                let (block, c) = match s {
                    Submission::Missing => (None, None),
                    Submission::OutOfWindow { block, commitment }
                    | Submission::Committed { block, commitment } => {
                        (Some(*block), Some(commitment))
                    }
                };
                let verdict = self.verdicts.get(uid);
                SubmissionRow {
                    uid: *uid,
                    hotkey: ss58(uid),
                    digest: c.map(|c| c.digest),
                    byte_len: c.map(|c| c.byte_len),
                    commit_block: block,
                    locator: c.map(|c| c.locator.clone()),
                    outcome: verdict.map_or("unknown", Verdict::name).to_owned(),
                    detail: verdict.and_then(detail),
                }
            })
            .collect();
        let scores = self
            .scored
            .iter()
            .map(|s| ScoreRow {
                uid: s.uid,
                hotkey: ss58(&s.uid),
                verdict: self
                    .verdicts
                    .get(&s.uid)
                    .map_or("unknown", Verdict::name)
                    .to_owned(),
                standing: s.standing,
                penalties: s.penalties.clone(),
                final_score: s.final_score,
            })
            .collect();
        WindowRecord {
            window: self.window,
            start_block: self.clock.start_block(self.window),
            deadline: self.clock.commit_deadline(self.window),
            seed_block: self.clock.random_seed_block(self.window),
            random_seed: self.seed,
            base_model_hash: self.model_hash,
            duration_ms: 0,
            model_loss: None,
            submissions,
            evaluations: self.evaluations.clone(),
            scores,
        }
    }
}

fn detail(v: &Verdict) -> Option<String> {
    match v {
        Verdict::Invalid(why) | Verdict::Infrastructure(why) => Some(why.clone()),
        Verdict::Copy { original, overlap } => {
            Some(format!("copy of uid {original} (overlap {overlap:.3})"))
        }
        _ => None,
    }
}
