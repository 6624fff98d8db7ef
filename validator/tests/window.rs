//! One window's decisions: which commitments count, what fetched bytes are worth (including
//! hostile ones), copies, fair evaluation order, weights cadence and the aggregation set.

use kiln_protocol::artifact::DecodeOptions;
use kiln_protocol::codec::compress;
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_protocol::{Artifact, ArtifactHeader, WindowClock};
use kiln_validator::checks::Expected;
use kiln_validator::score::Verdict;
use kiln_validator::window::{
    Download, Posted, Submission, aggregation_set, collect, evaluation_order, find_copies,
    judge_bytes, sets_weights,
};
use std::collections::BTreeMap;

fn commitment(window: u64, kind: CommitmentKind, bytes: &[u8]) -> Commitment {
    Commitment {
        kind,
        window,
        digest: *blake3::hash(bytes).as_bytes(),
        byte_len: bytes.len() as u64,
        locator: "gw".into(),
    }
}

#[test]
fn collect_counts_commitments_inside_the_window() {
    // 20 blocks per window, 4 of grace: window 5 accepts blocks 100..=123.
    let clock = WindowClock::new(20, 4).unwrap();
    let c = |w| commitment(w, CommitmentKind::Artifact, b"x");
    let posted = [
        Posted {
            uid: 1,
            block: 105,
            commitment: c(5),
        },
        Posted {
            uid: 2,
            block: 123,
            commitment: c(5),
        },
        Posted {
            uid: 3,
            block: 124,
            commitment: c(5),
        },
        Posted {
            uid: 4,
            block: 99,
            commitment: c(5),
        },
        Posted {
            uid: 5,
            block: 90,
            commitment: c(4),
        },
        Posted {
            uid: 6,
            block: 101,
            commitment: commitment(5, CommitmentKind::Manifest, b"m"),
        },
    ];
    let got = collect(&clock, 5, &[1, 2, 3, 4, 5, 6, 7], &posted);
    let kind = |uid| match &got[&uid] {
        Submission::Missing => "missing",
        Submission::OutOfWindow { .. } => "out",
        Submission::Committed { .. } => "ok",
    };
    assert_eq!(
        (1..=7).map(kind).collect::<Vec<_>>(),
        ["ok", "ok", "out", "out", "missing", "missing", "missing"]
    );
}

fn header(uid: u16) -> ArtifactHeader {
    ArtifactHeader {
        netuid: 1,
        uid,
        hotkey: [uid as u8; 32],
        window: 5,
        base_model_hash: [0; 32],
        hparams_hash: [3; 32],
    }
}

fn artifact_bytes(uid: u16, seed: usize) -> Vec<u8> {
    let values: Vec<f32> = (0..64 * 64)
        .map(|i| ((i * 31 + seed * 17) % 101) as f32 / 101.0 - 0.5)
        .collect();
    Artifact {
        header: header(uid),
        tensors: vec![compress("w", &[64, 64], &values, 64, 32).unwrap()],
    }
    .encode()
    .unwrap()
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
fn fetched_bytes_get_a_verdict() {
    let good = artifact_bytes(2, 0);
    let c = commitment(5, CommitmentKind::Artifact, &good);
    let opts = DecodeOptions::default();
    let judge = |d| judge_bytes(&c, d, &expected(2), &opts);
    assert!(judge(Download::Bytes(good.clone())).is_ok());
    assert_eq!(judge(Download::NotFound).unwrap_err(), Verdict::Missing);
    assert_eq!(
        judge(Download::TooLarge(1 << 40)).unwrap_err(),
        Verdict::TooLarge
    );
    assert!(matches!(
        judge(Download::Unreachable("connection refused".into())).unwrap_err(),
        Verdict::Infrastructure(_)
    ));
    let mut flipped = good.clone();
    flipped[40] ^= 1;
    assert_eq!(
        judge(Download::Bytes(flipped)).unwrap_err(),
        Verdict::HashMismatch
    );
    // Another miner's (valid) artifact committed as one's own: it names another uid.
    let theirs = artifact_bytes(3, 0);
    let c3 = commitment(5, CommitmentKind::Artifact, &theirs);
    let v = judge_bytes(&c3, Download::Bytes(theirs), &expected(2), &opts).unwrap_err();
    assert!(
        matches!(&v, Verdict::Invalid(why) if why.contains("uid")),
        "{v:?}"
    );
    // Hostile bytes that hash right: the decoder's error, never a panic.
    let mut small = opts.clone();
    small.max_len = 1 << 16;
    for seed in 0..200u32 {
        let junk: Vec<u8> = (0..(seed * 37 % 900))
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
            .collect();
        let cj = commitment(5, CommitmentKind::Artifact, &junk);
        let v = judge_bytes(&cj, Download::Bytes(junk), &expected(2), &small).unwrap_err();
        assert!(matches!(v, Verdict::Invalid(_)), "{v:?}");
    }
    // Longer than the limit: refused before decoding.
    let mut tiny = opts.clone();
    tiny.max_len = 10;
    let c = commitment(5, CommitmentKind::Artifact, &good);
    assert_eq!(
        judge_bytes(&c, Download::Bytes(good), &expected(2), &tiny).unwrap_err(),
        Verdict::TooLarge
    );
}

#[test]
fn identical_uploads_from_two_hotkeys_the_later_is_the_copy() {
    let bytes = artifact_bytes(1, 0);
    let a = Artifact::decode(&bytes, &DecodeOptions::default()).unwrap();
    let d = *blake3::hash(&bytes).as_bytes();
    let other = artifact_bytes(2, 9);
    let b = Artifact::decode(&other, &DecodeOptions::default()).unwrap();
    let usable = BTreeMap::from([
        (1, (110, d, a.clone())),
        (2, (104, *blake3::hash(&other).as_bytes(), b)),
        (3, (108, d, a)),
    ]);
    let copies = find_copies(&usable, 0.4);
    assert_eq!(copies.len(), 1, "{copies:?}");
    // uid 3 committed the same digest at block 108, before uid 1 (block 110): uid 1 copied.
    assert_eq!(
        copies[&1],
        Verdict::Copy {
            original: 3,
            overlap: 1.0
        }
    );
}

#[test]
fn evaluation_rotates_through_everyone() {
    let mut last = BTreeMap::new();
    let candidates: Vec<u16> = (0..10).collect();
    let mut seen = std::collections::BTreeSet::new();
    // Room for 3 evaluations per window: within 4 windows every miner is evaluated.
    for w in 0..4u64 {
        for uid in evaluation_order(&candidates, &last).into_iter().take(3) {
            last.insert(uid, w);
            seen.insert(uid);
        }
    }
    assert_eq!(seen.len(), 10);
    assert_eq!(
        evaluation_order(&[5, 2, 9], &BTreeMap::from([(2, 7)])),
        [5, 9, 2]
    );
}

#[test]
fn weights_cadence_and_aggregation_set() {
    assert!(
        sets_weights(10, 5) && !sets_weights(11, 5) && sets_weights(7, 1) && sets_weights(3, 0)
    );
    assert_eq!(
        aggregation_set(&[(9, 0.5), (2, 0.9), (4, 0.0), (7, 0.7), (1, -0.2)], 2),
        [2, 7]
    );
    assert!(aggregation_set(&[(1, 0.0)], 5).is_empty());
}

#[test]
fn resume_picks_up_after_the_last_scored_window_within_the_catch_up_bound() {
    use kiln_validator::window::resume_at;
    assert_eq!(resume_at(None, 40, 2), 40);
    assert_eq!(resume_at(Some(39), 40, 2), 40);
    assert_eq!(resume_at(Some(37), 40, 2), 38);
    // A long downtime: only the last two windows are caught up.
    assert_eq!(resume_at(Some(10), 40, 2), 38);
    assert_eq!(resume_at(Some(10), 40, 0), 40);
    assert_eq!(resume_at(Some(5), 1, 2), 6);
}

proptest::proptest! {
    #[test]
    fn resume_never_repeats_nor_lags_more_than_the_bound(
        last in proptest::option::of(0u64..1000),
        current in 0u64..1000,
        max in 0u64..20,
    ) {
        let at = kiln_validator::window::resume_at(last, current, max);
        if let Some(w) = last {
            proptest::prop_assert!(at > w);
            proptest::prop_assert!(at == w + 1 || at + max == current);
        } else {
            proptest::prop_assert_eq!(at, current);
        }
        proptest::prop_assert!(at + max >= current);
    }
}
