//! The pure scoring rules: penalties, standings over windows, the weight schedule and the
//! copy checks.

use kiln_protocol::codec::compress;
use kiln_protocol::{Artifact, ArtifactHeader};
use kiln_validator::checks::{Expected, Sent, content_problem, copies, index_overlap};
use kiln_validator::score::{ScoreParams, Standing, Verdict, score_window};
use kiln_validator::weights::RankSchedule;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn evaluated(loss_score: f64, indicator: i8) -> Verdict {
    Verdict::Evaluated {
        loss_score,
        indicator,
        behind: Some(0),
    }
}

#[test]
fn honest_miners_earn_and_a_random_data_trainer_does_not() {
    // uids 1 and 2 are honest and take turns being better; uid 3 has the best loss score every
    // window (it improves the model) but trains on other data, so its indicator is always −1.
    let p = ScoreParams::default();
    let mut standings = BTreeMap::new();
    let mut last = BTreeMap::new();
    for w in 0..10 {
        let (a, b) = if w % 2 == 0 {
            (0.02, 0.01)
        } else {
            (0.01, 0.02)
        };
        let v = BTreeMap::from([
            (1, evaluated(a, 1)),
            (2, evaluated(b, 1)),
            (3, evaluated(0.03, -1)),
        ]);
        for s in score_window(&standings, &v, &p) {
            standings.insert(s.uid, s.standing);
            last.insert(s.uid, s.final_score);
        }
    }
    assert!(last[&1] > 0.0 && last[&2] > 0.0, "{last:?}");
    assert!(standings[&3].rating.ordinal() > standings[&1].rating.ordinal());
    assert!(standings[&3].bma < 0.0);
    assert_eq!(last[&3], 0.0, "max(0, bma) = 0 despite the best rating");
}

#[test]
fn each_fault_has_its_penalty() {
    let p = ScoreParams::default();
    let mut standings = BTreeMap::new();
    // Two honest windows first, so every miner has a positive standing to lose.
    let honest: BTreeMap<u16, Verdict> = (1..=6)
        .map(|u| (u, evaluated(0.01 * f64::from(u), 1)))
        .collect();
    for _ in 0..3 {
        for s in score_window(&standings, &honest, &p) {
            standings.insert(s.uid, s.standing);
        }
    }
    let faults: BTreeMap<u16, Verdict> = [
        (
            1,
            Verdict::Copy {
                original: 6,
                overlap: 1.0,
            },
        ),
        (2, Verdict::Invalid("the update is all zeros".into())),
        (3, Verdict::HashMismatch),
        (4, Verdict::Missing),
        (5, Verdict::Infrastructure("gateway unreachable".into())),
        (6, evaluated(0.05, 1)),
    ]
    .into_iter()
    .collect();
    let out: BTreeMap<u16, _> = score_window(&standings, &faults, &p)
        .into_iter()
        .map(|s| (s.uid, s))
        .collect();
    for uid in [1, 2, 3] {
        assert_eq!(out[&uid].final_score, 0.0, "uid {uid}");
        assert_eq!(out[&uid].penalties[0].factor, 0.0);
        assert!(out[&uid].standing.bma < standings[&uid].bma, "indicator −1");
    }
    assert!(out[&1].penalties[0].reason.contains("copy of uid 6"));
    assert!(out[&2].penalties[0].reason.contains("all zeros"));
    assert_eq!(out[&4].penalties[0].factor, 0.75);
    assert!(out[&4].final_score > 0.0);
    // Storage trouble on the validator's side changes nothing.
    assert!(out[&5].penalties.is_empty());
    assert_eq!(out[&5].standing, standings[&5]);
    assert!(out[&6].final_score > 0.0);
}

#[test]
fn missed_windows_escalate_and_reset() {
    let p = ScoreParams::default();
    let mut standings = BTreeMap::from([(
        1,
        Standing {
            bma: 0.5,
            ..Standing::default()
        },
    )]);
    let mut factors = Vec::new();
    for v in [
        Verdict::Late,
        Verdict::Missing,
        Verdict::Missing,
        evaluated(0.1, 1),
        Verdict::Missing,
    ] {
        let s = score_window(&standings, &BTreeMap::from([(1, v)]), &p).remove(0);
        factors.push(s.penalties.first().map(|x| x.factor));
        standings.insert(1, s.standing);
    }
    assert_eq!(
        factors,
        [Some(0.75), Some(0.5), Some(0.0), None, Some(0.75)]
    );
}

#[test]
fn a_stale_base_lowers_sync() {
    let p = ScoreParams::default();
    let s = |behind| {
        score_window(
            &BTreeMap::new(),
            &BTreeMap::from([(
                1,
                Verdict::Evaluated {
                    loss_score: 0.1,
                    indicator: 1,
                    behind,
                },
            )]),
            &p,
        )
        .remove(0)
    };
    assert_eq!(s(Some(0)).standing.sync, 1.0);
    assert!(s(Some(0)).penalties.is_empty());
    let one = s(Some(1));
    assert!((one.standing.sync - (2.0f64 / 3.0).powf(2.5)).abs() < 1e-12);
    assert!(one.penalties[0].reason.contains("1 manifests behind"));
    assert_eq!(s(Some(3)).standing.sync, 0.0);
    assert_eq!(s(None).final_score, 0.0);
}

#[test]
fn the_rank_schedule() {
    let sched = RankSchedule {
        top_n: 3,
        first_to_last: 2.0,
    };
    let w = sched.weights(&[(4, 0.5), (2, 0.9), (7, 0.0), (9, 0.5), (1, -1.0), (3, 0.1)]);
    let uids: Vec<u16> = w.iter().map(|x| x.0).collect();
    assert_eq!(
        uids,
        [2, 4, 9],
        "by score, ties by uid, top 3, positives only"
    );
    assert!((w[0].1 / w[2].1 - 2.0).abs() < 1e-12);
    assert!((w.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(sched.weights(&[(1, 0.0), (2, f64::NAN)]).is_empty());
    assert_eq!(sched.weights(&[(5, 0.3)]), [(5, 1.0)]);
}

proptest! {
    #[test]
    fn weights_sum_to_one_and_follow_rank(
        scores in prop::collection::vec(-1.0f64..1.0, 0..64),
        top_n in 1usize..30,
    ) {
        let finals: Vec<(u16, f64)> = scores.iter().enumerate().map(|(i, s)| (i as u16, *s)).collect();
        let w = RankSchedule { top_n, first_to_last: 2.0 }.weights(&finals);
        let positive = scores.iter().filter(|s| **s > 0.0).count();
        prop_assert_eq!(w.len(), positive.min(top_n));
        if !w.is_empty() {
            prop_assert!((w.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-9);
        }
        for pair in w.windows(2) {
            prop_assert!(pair[0].1 >= pair[1].1);
            prop_assert!(finals[pair[0].0 as usize].1 >= finals[pair[1].0 as usize].1);
        }
    }
}

fn artifact(uid: u16, seed: usize) -> Artifact {
    let values: Vec<f32> = (0..128 * 64)
        .map(|i| ((i * 7919 + seed * 104_729) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    Artifact {
        header: ArtifactHeader {
            netuid: 1,
            uid,
            hotkey: [uid as u8; 32],
            window: 5,
            base_model_hash: [0; 32],
            hparams_hash: [3; 32],
        },
        tensors: vec![compress("w", &[128, 64], &values, 64, 64).unwrap()],
    }
}

fn expected(uid: u16) -> Expected {
    Expected {
        netuid: 1,
        uid,
        hotkey: [uid as u8; 32],
        window: 5,
        hparams_hash: [3; 32],
    }
}

#[test]
fn content_checks_name_the_problem() {
    let a = artifact(2, 1);
    assert_eq!(content_problem(&a, &expected(2)), None);
    assert!(content_problem(&a, &expected(3)).unwrap().contains("uid"));
    let mut other_window = expected(2);
    other_window.window = 6;
    assert!(
        content_problem(&a, &other_window)
            .unwrap()
            .contains("window")
    );
    let zeros = Artifact {
        tensors: vec![compress("w", &[128, 64], &vec![0.0; 128 * 64], 64, 64).unwrap()],
        ..a.clone()
    };
    assert!(
        content_problem(&zeros, &expected(2))
            .unwrap()
            .contains("all zeros")
    );
    let huge = Artifact {
        tensors: vec![compress("w", &[128, 64], &vec![3e5; 128 * 64], 64, 64).unwrap()],
        ..a
    };
    assert!(
        content_problem(&huge, &expected(2))
            .unwrap()
            .contains("magnitude")
    );
}

#[test]
fn later_commitments_that_repeat_are_copies() {
    let (a, b) = (artifact(1, 1), artifact(2, 2));
    assert_eq!(index_overlap(&a, &a), Some(1.0));
    let ab = index_overlap(&a, &b).unwrap();
    assert!(ab < 0.5, "independent updates share few positions: {ab}");

    let arts = [a.clone(), b, a];
    let sent = [
        Sent {
            uid: 1,
            block: 10,
            digest: [1; 32],
        },
        Sent {
            uid: 2,
            block: 11,
            digest: [2; 32],
        },
        // uid 3 re-uploads uid 1's update under another digest (re-encoded), later.
        Sent {
            uid: 3,
            block: 11,
            digest: [3; 32],
        },
    ];
    let found = copies(&sent, 0.9, |i, j| index_overlap(&arts[i], &arts[j]));
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].uid, found[0].original), (3, 1));

    // Identical bytes: the later block is the copy, whatever the uids.
    let same = [
        Sent {
            uid: 4,
            block: 20,
            digest: [9; 32],
        },
        Sent {
            uid: 2,
            block: 21,
            digest: [9; 32],
        },
    ];
    let found = copies(&same, 0.9, |_, _| None);
    assert_eq!(
        (found[0].uid, found[0].original, found[0].overlap),
        (2, 4, 1.0)
    );
}

#[test]
fn a_bma_at_or_below_zero_is_a_recorded_penalty() {
    let p = ScoreParams::default();
    let once = |standings: &BTreeMap<u16, Standing>, indicator| {
        score_window(
            standings,
            &BTreeMap::from([(
                1,
                Verdict::Evaluated {
                    loss_score: 0.1,
                    indicator,
                    behind: Some(0),
                },
            )]),
            &p,
        )
        .remove(0)
    };
    let off = once(&BTreeMap::new(), -1);
    assert!(off.standing.bma < 0.0);
    assert_eq!(off.final_score, 0.0);
    assert_eq!(off.penalties.len(), 1, "{:?}", off.penalties);
    assert!(
        off.penalties[0]
            .reason
            .contains("assigned-data check failed")
    );
    assert_eq!(off.penalties[0].factor, 0.0);
    let on = once(&BTreeMap::new(), 1);
    assert!(on.standing.bma > 0.0 && on.final_score > 0.0);
    assert!(on.penalties.is_empty(), "{:?}", on.penalties);
}
