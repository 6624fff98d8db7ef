//! The window state machine driven by scripted inputs: every phase in order, every outcome
//! recorded, evaluation stopping at the window's end, weights only on weight windows.

use kiln_protocol::artifact::DecodeOptions;
use kiln_protocol::codec::compress;
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::scoring::LossPair;
use kiln_protocol::{Artifact, ArtifactHeader, WindowClock};
use kiln_validator::evaluate::Measurement;
use kiln_validator::machine::{Action, Input, MachineConfig, Member, Phase, WindowMachine};
use kiln_validator::score::ScoreParams;
use kiln_validator::weights::RankSchedule;
use kiln_validator::window::{Download, Posted};
use std::collections::BTreeMap;

const W: u64 = 5;

fn config(windows_per_weights: u64, max_evaluations: usize) -> MachineConfig {
    MachineConfig {
        netuid: 1,
        hparams_hash: [3; 32],
        windows_per_weights,
        max_evaluations,
        max_peers: 8,
        overlap_threshold: 0.4,
        decode: DecodeOptions::default(),
        score: ScoreParams::default(),
        schedule: RankSchedule::default(),
        own_rows: 32,
        random_rows: 32,
        eval_lr: 0.08,
    }
}

fn bytes(uid: u16, seed: usize) -> Vec<u8> {
    let values: Vec<f32> = (0..64 * 64)
        .map(|i| ((i * 31 + seed * 977) % 101) as f32 / 101.0 - 0.5)
        .collect();
    Artifact {
        header: ArtifactHeader {
            netuid: 1,
            uid,
            hotkey: [uid as u8; 32],
            window: W,
            base_model_hash: [0; 32],
            hparams_hash: [3; 32],
        },
        tensors: vec![compress("w", &[64, 64], &values, 64, 32).unwrap()],
    }
    .encode()
    .unwrap()
}

fn posted(uid: u16, block: u64, b: &[u8]) -> Posted {
    Posted {
        uid,
        block,
        commitment: Commitment {
            kind: CommitmentKind::Artifact,
            window: W,
            digest: *blake3::hash(b).as_bytes(),
            byte_len: b.len() as u64,
            locator: "gw".into(),
        },
    }
}

fn measured(uid: u16, loss_score: f64, indicator: i8) -> Input {
    Input::Measured {
        uid,
        result: Ok(Measurement {
            random: LossPair {
                before: 6.0,
                after: 6.0 * (1.0 - loss_score),
            },
            own: LossPair {
                before: 6.0,
                after: 5.0,
            },
            loss_score,
            indicator,
        }),
        device: "cpu".into(),
        duration_ms: 10,
    }
}

/// uids 1, 2 honest; 3 re-uploads 1's bytes later; 4 sends bytes that do not match its hash;
/// 5 sends nothing; 6 commits late.
fn collected() -> (Input, BTreeMap<u16, Vec<u8>>) {
    let members: BTreeMap<u16, Member> = (1..=6)
        .map(|u| {
            (
                u,
                Member {
                    hotkey: [u as u8; 32],
                    ss58: format!("hk{u}"),
                },
            )
        })
        .collect();
    let b1 = bytes(1, 1);
    let b2 = bytes(2, 2);
    let b4 = bytes(4, 4);
    // The copycat commits uid 1's exact bytes.
    let b3 = b1.clone();
    let posted = vec![
        posted(1, 102, &b1),
        posted(2, 103, &b2),
        posted(3, 104, &b3),
        posted(4, 105, &b4),
        posted(6, 130, &b2),
    ];
    let mut served = BTreeMap::from([(1, b1), (2, b2), (3, b3)]);
    let mut wrong = b4;
    wrong[50] ^= 0xff;
    served.insert(4, wrong);
    (
        Input::Collected {
            members,
            posted,
            seed: [8; 32],
            standings: BTreeMap::new(),
            last_evaluated: BTreeMap::new(),
            model_hash: [0; 32],
            known_bases: BTreeMap::from([([0; 32], 0)]),
        },
        served,
    )
}

fn run_to_measurement(m: &mut WindowMachine) -> Vec<Action> {
    let clock = WindowClock::new(20, 4).unwrap();
    assert!(m.step(Input::Block(clock.commit_deadline(W))).is_empty());
    let a = m.step(Input::Block(clock.random_seed_block(W)));
    assert_eq!(a, [Action::Collect { block: 124 }]);
    let (input, served) = collected();
    let fetches = m.step(input);
    let uids: Vec<u16> = fetches
        .iter()
        .map(|a| match a {
            Action::Fetch { uid, .. } => *uid,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(uids, [1, 2, 3, 4], "missing and late are not fetched");
    let mut last = Vec::new();
    for uid in uids {
        last = m.step(Input::Fetched {
            uid,
            download: Download::Bytes(served[&uid].clone()),
        });
    }
    assert_eq!(m.phase(), Phase::Evaluate);
    assert_eq!(last, [Action::MeasureRandom]);
    m.step(Input::RandomLoss(6.0))
}

#[test]
fn a_window_goes_through_every_phase() {
    let clock = WindowClock::new(20, 4).unwrap();
    let mut m = WindowMachine::new(W, clock, config(5, 10));
    let first = run_to_measurement(&mut m);
    assert_eq!(first, [Action::Measure { uid: 1 }]);
    assert!(m.update_for(3).is_none(), "the copy is not evaluated");
    let second = m.step(measured(1, 0.02, 1));
    assert_eq!(second, [Action::Measure { uid: 2 }]);
    let persist = m.step(measured(2, 0.01, 1));
    let Action::Persist(record) = &persist[0] else {
        panic!("{persist:?}")
    };
    let outcome: BTreeMap<u16, &str> = record
        .submissions
        .iter()
        .map(|s| (s.uid, s.outcome.as_str()))
        .collect();
    assert_eq!(
        outcome,
        BTreeMap::from([
            (1, "evaluated"),
            (2, "evaluated"),
            (3, "copy"),
            (4, "hash_mismatch"),
            (5, "missing"),
            (6, "late")
        ])
    );
    assert_eq!(record.evaluations.len(), 2);
    assert_eq!(
        (record.window, record.seed_block, record.random_seed),
        (W, 124, [8; 32])
    );
    let penalties: Vec<(u16, &str)> = record
        .scores
        .iter()
        .flat_map(|s| s.penalties.iter().map(move |p| (s.uid, p.reason.as_str())))
        .collect();
    assert!(
        penalties.contains(&(3, "copy of uid 1 (overlap 1.000)")),
        "{penalties:?}"
    );
    assert!(
        penalties
            .iter()
            .any(|(u, r)| *u == 6 && r.starts_with("late"))
    );

    // Window 5 is a weight window (every 5): weights only for the positive finals.
    let weights = m.step(Input::Persisted);
    let Action::SetWeights(w) = &weights[0] else {
        panic!("{weights:?}")
    };
    let uids: Vec<u16> = w.iter().map(|x| x.0).collect();
    assert_eq!(uids, [1, 2]);
    assert_eq!(m.step(Input::WeightsDone), [Action::Aggregate(vec![1, 2])]);
    assert!(m.step(Input::Aggregated).is_empty());
    assert_eq!(m.phase(), Phase::Done);
}

#[test]
fn evaluation_stops_at_the_windows_end_and_off_windows_set_no_weights() {
    let clock = WindowClock::new(20, 4).unwrap();
    let mut m = WindowMachine::new(W, clock, config(4, 10));
    assert_eq!(run_to_measurement(&mut m), [Action::Measure { uid: 1 }]);
    // The next window ends before uid 1's measurement returns.
    assert!(m.step(Input::Block(m.evaluation_stop() - 1)).is_empty());
    let persist = m.step(Input::Block(m.evaluation_stop()));
    let Action::Persist(record) = &persist[0] else {
        panic!("{persist:?}")
    };
    let not_evaluated: Vec<u16> = record
        .submissions
        .iter()
        .filter(|s| s.outcome == "not_evaluated")
        .map(|s| s.uid)
        .collect();
    assert_eq!(not_evaluated, [1, 2], "the one being measured too");
    // A late answer for uid 1 changes nothing any more.
    assert!(m.step(measured(1, 0.5, 1)).is_empty());
    // Window 5 is not a weight window (every 4): straight to aggregation, nothing evaluated.
    assert_eq!(m.step(Input::Persisted), [Action::Aggregate(vec![])]);
}
