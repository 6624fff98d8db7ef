//! The model learns, and the assigned-data check tells honest miners from miners who train on
//! other data (tiny preset, synthetic corpus, CPU).

use candle_core::Device;
use kiln_protocol::assignment::{assigned_pool, random_pool};
use kiln_protocol::codec::ErrorFeedback;
use kiln_protocol::scoring::{LossPair, assigned_data_indicator};
use kiln_protocol::{Hparams, SparseTensor};
use kiln_training::data::{Synth, SynthConfig};
use kiln_training::{
    AdamW, InnerConfig, InnerOutcome, Model, ModelConfig, mean_loss, outer_step, train_inner,
    with_update,
};

/// Rows in the synthetic corpus the tests draw from.
const CORPUS_ROWS: u64 = 4096;

/// The synthetic corpus at the tiny preset's row length.
fn corpus(hp: &Hparams) -> Synth {
    Synth::new(SynthConfig {
        rows: CORPUS_ROWS,
        seq_len: hp.data.seq_len,
        ..SynthConfig::default()
    })
}

/// The tokens of `idx`, concatenated.
fn rows(s: &Synth, idx: &[u64]) -> Vec<u32> {
    idx.iter().flat_map(|&r| s.row(r)).collect()
}

/// Plain training: `windows` inner loops over consecutive rows from `first_row`, each adopted in
/// full (`outer_step` with lr 1 applies `θ_end`).
fn pretrain(model: &Model, s: &Synth, hp: &Hparams, first_row: u64, windows: u64) {
    let cfg = InnerConfig::from_hparams(hp, 10_000);
    let mut opt = AdamW::new(model, cfg.adamw).unwrap();
    let per = (cfg.steps * cfg.batch_rows) as u64;
    for w in 0..windows {
        let idx: Vec<u64> = (0..per)
            .map(|i| (first_row + w * per + i) % CORPUS_ROWS)
            .collect();
        let out = train_inner(
            model,
            &mut opt,
            &rows(s, &idx),
            s.config().seq_len as usize,
            w * cfg.steps as u64,
            &cfg,
        )
        .unwrap();
        adopt(model, &out, 1.0);
    }
}

/// `θ ← θ − lr·Δ` for a whole inner outcome.
fn adopt(model: &Model, out: &InnerOutcome, lr: f64) {
    let agg: Vec<(&str, &[f32])> = out
        .delta
        .iter()
        .map(|d| (d.name.as_str(), d.values.as_slice()))
        .collect();
    outer_step(model, &agg, lr).unwrap();
}

/// The miner's message for a first window: error feedback from zero, then SparseLoCo.
fn compress(model: &Model, hp: &Hparams, out: &InnerOutcome) -> Vec<SparseTensor> {
    let c = &hp.compression;
    let specs = model.codec_specs(c.chunk, c.topk).unwrap();
    let mut ef = ErrorFeedback::new(specs, c.error_feedback_decay as f32);
    let deltas: Vec<&[f32]> = out.delta.iter().map(|d| d.values.as_slice()).collect();
    ef.step(&deltas).unwrap()
}

/// Held-out loss after 40 windows × 4 steps of plain training (160 AdamW steps, 5,120 rows) is
/// more than one nat below the initial ln(512) ≈ 6.24.
#[test]
fn loss_falls_on_the_synthetic_corpus() {
    let hp = Hparams::tiny();
    let s = corpus(&hp);
    let seq = hp.data.seq_len as usize;
    let model = Model::init(&ModelConfig::tiny(), 1, &Device::Cpu).unwrap();
    let held_out: Vec<u64> = (0..32).map(|i| CORPUS_ROWS - 1 - i).collect();
    let held_out = rows(&s, &held_out);
    let before = mean_loss(&model, &held_out, seq, 32).unwrap();
    pretrain(&model, &s, &hp, 0, 40);
    let after = mean_loss(&model, &held_out, seq, 32).unwrap();
    assert!(
        (before - (512f64).ln()).abs() < 0.1,
        "initial loss {before}"
    );
    assert!(
        after < before - 1.0,
        "held-out loss {before:.3} -> {after:.3}"
    );
}

/// One window of the real pipeline for a miner that trains on `train` rows: inner loop, error
/// feedback + SparseLoCo, then the validator's evaluation with the decoded update applied at
/// `outer.lr × eval_lr_factor`. Returns the assigned-data indicator.
fn window_indicator(
    model: &Model,
    hp: &Hparams,
    s: &Synth,
    train: &[u64],
    own_eval: &[u32],
    random_eval: &[u32],
) -> i8 {
    let seq = hp.data.seq_len as usize;
    let cfg = InnerConfig::from_hparams(hp, 10_000);
    let mut opt = AdamW::new(model, cfg.adamw).unwrap();
    let out = train_inner(model, &mut opt, &rows(s, train), seq, 1_000, &cfg).unwrap();
    let msg = compress(model, hp, &out);
    let eta = (hp.outer.lr * hp.evaluation.eval_lr_factor) as f32;
    let loss = |m: &Model, r: &[u32]| mean_loss(m, r, seq, 32).unwrap();
    let (own_before, rand_before) = (loss(model, own_eval), loss(model, random_eval));
    let (own_after, rand_after) = with_update(model, &msg, eta, |m| {
        (loss(m, own_eval), loss(m, random_eval))
    })
    .unwrap();
    assigned_data_indicator(
        LossPair {
            before: own_before,
            after: own_after,
        },
        LossPair {
            before: rand_before,
            after: rand_after,
        },
        hp.evaluation.assigned_min_ratio,
    )
}

/// 40 seeded trials on a model pre-trained for 40 windows: the honest miner (trains on its
/// assigned pool) passes the check in ≥ 95 % of them, a miner training on another pool fails it
/// in ≥ 95 %.
#[test]
fn assigned_data_check_separates_honest_and_random_data_trainers() {
    let hp = Hparams::tiny();
    let s = corpus(&hp);
    let model = Model::init(&ModelConfig::tiny(), 2, &Device::Cpu).unwrap();
    pretrain(&model, &s, &hp, 2_000, 40);
    let trials = 40u16;
    let trained = (hp.inner.steps * hp.data.batch_rows) as usize;
    let (mut honest_pass, mut cheat_fail) = (0, 0);
    for t in 0..trials {
        let hotkey = [t as u8; 32];
        let window = 100 + u64::from(t);
        let pool = |uid: u16, hk: &[u8; 32]| {
            assigned_pool(1, uid, hk, window, CORPUS_ROWS, hp.data.pool_rows as usize).unwrap()
        };
        let own = pool(t, &hotkey);
        let other = pool(t + 1000, &[0xee; 32]);
        let random = random_pool(
            1,
            window,
            &[t as u8 ^ 0x5a; 32],
            CORPUS_ROWS,
            hp.data.random_rows as usize,
        )
        .unwrap();
        assert!(hp.data.eval_rows as usize <= trained);
        let own_eval = rows(&s, &own[..hp.data.eval_rows as usize]);
        let random_eval = rows(&s, &random);
        if window_indicator(&model, &hp, &s, &own, &own_eval, &random_eval) == 1 {
            honest_pass += 1;
        }
        if window_indicator(&model, &hp, &s, &other, &own_eval, &random_eval) == -1 {
            cheat_fail += 1;
        }
    }
    let need = (f64::from(trials) * 0.95).ceil() as u16;
    assert!(
        honest_pass >= need,
        "honest miner passed {honest_pass}/{trials}"
    );
    assert!(
        cheat_fail >= need,
        "random-data trainer failed {cheat_fail}/{trials}"
    );
    // The model itself is untouched by all of the above: evaluation restores it.
    let fresh = Model::init(&ModelConfig::tiny(), 2, &Device::Cpu).unwrap();
    pretrain(&fresh, &s, &hp, 2_000, 40);
    assert_eq!(model.state_hash().unwrap(), fresh.state_hash().unwrap());
}
