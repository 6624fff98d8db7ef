//! The miner's durable state: a restart resumes the exact error feedback, damage is an error
//! (never a silent reset), and a missed window keeps its update in the feedback.

use candle_core::Device;
use kiln_miner::{Identity, MinerState, StateError, produce};
use kiln_protocol::Hparams;
use kiln_protocol::artifact::ArtifactHeader;
use kiln_training::data::{Synth, SynthConfig};
use kiln_training::{AdamW, InnerConfig, Model, ModelConfig};

struct Setup {
    model: Model,
    hparams: Hparams,
    inner: InnerConfig,
    identity: Identity,
}

fn setup() -> Setup {
    let hparams = Hparams::preset("tiny").unwrap();
    let model = Model::init(&ModelConfig::tiny(), 1, &Device::Cpu).unwrap();
    let inner = InnerConfig::from_hparams(&hparams, 1_000);
    let identity = Identity {
        netuid: 1,
        uid: 3,
        hotkey: [9; 32],
        hparams_hash: hparams.hparams_hash(),
    };
    Setup {
        model,
        hparams,
        inner,
        identity,
    }
}

fn specs(s: &Setup) -> Vec<kiln_protocol::codec::TensorSpec> {
    let c = &s.hparams.compression;
    s.model.codec_specs(c.chunk, c.topk).unwrap()
}

fn fresh(s: &Setup) -> MinerState {
    MinerState::fresh(
        s.identity,
        specs(s),
        s.hparams.compression.error_feedback_decay as f32,
    )
}

fn rows(window: u64, s: &Setup) -> Vec<u32> {
    let synth = Synth::new(SynthConfig::default());
    let n = (s.inner.steps * s.inner.batch_rows) as u64;
    (window * n..(window + 1) * n)
        .flat_map(|r| synth.row(r))
        .collect()
}

fn header(s: &Setup, window: u64) -> ArtifactHeader {
    ArtifactHeader {
        netuid: 1,
        uid: 3,
        hotkey: [9; 32],
        window,
        base_model_hash: s.model.state_hash().unwrap(),
        hparams_hash: s.identity.hparams_hash,
    }
}

#[test]
fn restart_resumes_the_same_error_feedback() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("miner.state");
    let seq_len = s.hparams.data.seq_len as usize;
    let mut opt = AdamW::new(&s.model, s.inner.adamw).unwrap();
    let mut state = fresh(&s);
    assert!(
        MinerState::load(&path, s.identity, specs(&s), 0.95)
            .unwrap()
            .is_none()
    );

    // Window 0 is committed: keep its feedback and save.
    let w0 = produce(
        &s.model,
        &mut opt,
        &rows(0, &s),
        seq_len,
        0,
        &s.inner,
        &state.feedback,
        header(&s, 0),
        &|_| false,
    )
    .unwrap();
    state.feedback = w0.next_feedback;
    state.last_window = Some(0);
    state.save(&path).unwrap();
    let before = state.feedback.buffers_hash();

    // "kill -9": everything in memory is gone; the file is all that is left.
    let decay = s.hparams.compression.error_feedback_decay as f32;
    let loaded = MinerState::load(&path, s.identity, specs(&s), decay)
        .unwrap()
        .unwrap();
    assert_eq!(loaded.feedback.buffers_hash(), before);
    assert_eq!(loaded.last_window, Some(0));

    // The next window from the restored state sends exactly what the uninterrupted miner sends.
    let steps = s.inner.steps as u64;
    let mut opt_a = AdamW::new(&s.model, s.inner.adamw).unwrap();
    let mut opt_b = AdamW::new(&s.model, s.inner.adamw).unwrap();
    let a = produce(
        &s.model,
        &mut opt_a,
        &rows(1, &s),
        seq_len,
        steps,
        &s.inner,
        &state.feedback,
        header(&s, 1),
        &|_| false,
    )
    .unwrap();
    let b = produce(
        &s.model,
        &mut opt_b,
        &rows(1, &s),
        seq_len,
        steps,
        &s.inner,
        &loaded.feedback,
        header(&s, 1),
        &|_| false,
    )
    .unwrap();
    assert_eq!(a.digest, b.digest);
    assert_eq!(
        a.next_feedback.buffers_hash(),
        b.next_feedback.buffers_hash()
    );
    assert_ne!(
        a.next_feedback.buffers_hash(),
        before,
        "the window changed the feedback"
    );

    // A crash while writing the next state leaves a temporary file and the old state intact.
    std::fs::write(path.with_extension("tmp"), b"half-written").unwrap();
    let again = MinerState::load(&path, s.identity, specs(&s), decay)
        .unwrap()
        .unwrap();
    assert_eq!(again.feedback.buffers_hash(), before);
}

#[test]
fn damaged_or_foreign_state_is_refused() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("miner.state");
    fresh(&s).save(&path).unwrap();
    let load = |identity| MinerState::load(&path, identity, specs(&s), 0.95);
    assert!(load(s.identity).unwrap().is_some());

    let other = Identity {
        uid: 4,
        ..s.identity
    };
    assert!(matches!(
        load(other),
        Err(StateError::Mismatch { field: "uid", .. })
    ));
    let run = Identity {
        hparams_hash: [0; 32],
        ..s.identity
    };
    assert!(matches!(
        load(run),
        Err(StateError::Mismatch {
            field: "hparams hash",
            ..
        })
    ));

    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(load(s.identity), Err(StateError::Corrupt { .. })));
    bytes.truncate(100);
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(load(s.identity), Err(StateError::Corrupt { .. })));
}

#[test]
fn a_missed_window_keeps_its_update_in_the_feedback() {
    let s = setup();
    let seq_len = s.hparams.data.seq_len as usize;
    let mut opt = AdamW::new(&s.model, s.inner.adamw).unwrap();
    let state = fresh(&s);
    let w = produce(
        &s.model,
        &mut opt,
        &rows(0, &s),
        seq_len,
        0,
        &s.inner,
        &state.feedback,
        header(&s, 0),
        &|_| false,
    )
    .unwrap();
    // Not committed: e ← β·e + Δ with nothing subtracted.
    let mut kept = state.feedback.clone();
    let slices: Vec<&[f32]> = w.delta.iter().map(|d| d.values.as_slice()).collect();
    kept.accumulate(&slices).unwrap();
    for (i, d) in w.delta.iter().enumerate() {
        assert_eq!(kept.buffer(i), d.values.as_slice(), "{}", d.name);
    }
    // Sending would have subtracted the message.
    assert_ne!(kept.buffers_hash(), w.next_feedback.buffers_hash());
}
