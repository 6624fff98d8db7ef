//! The Gauntlet measurements on the tiny model: an honest update passes the assigned-data check,
//! one trained on other rows fails it, the model is left untouched, and clipping scales norms.

use candle_core::Device;
use kiln_protocol::Hparams;
use kiln_protocol::assignment::{assigned_pool, random_pool};
use kiln_protocol::codec::ErrorFeedback;
use kiln_training::data::{Synth, SynthConfig};
use kiln_training::{AdamW, InnerConfig, Model, ModelConfig, outer_step, train_inner};
use kiln_validator::evaluate::{EvalConfig, clip_scales_by_miner, clipped, measure, random_loss};
use std::collections::BTreeMap;

const ROWS: u64 = 4096;

fn tokens(s: &Synth, idx: &[u64]) -> Vec<u32> {
    idx.iter().flat_map(|&r| s.row(r)).collect()
}

/// A miner's window: train on `rows`, then its first SparseLoCo message.
fn update(
    model: &Model,
    hp: &Hparams,
    s: &Synth,
    rows: &[u64],
) -> Vec<kiln_protocol::SparseTensor> {
    let cfg = InnerConfig::from_hparams(hp, 10_000);
    let mut opt = AdamW::new(model, cfg.adamw).unwrap();
    let out = train_inner(model, &mut opt, &tokens(s, rows), 64, 1_000, &cfg).unwrap();
    let c = &hp.compression;
    let mut ef = ErrorFeedback::new(
        model.codec_specs(c.chunk, c.topk).unwrap(),
        c.error_feedback_decay as f32,
    );
    let d: Vec<&[f32]> = out.delta.iter().map(|d| d.values.as_slice()).collect();
    ef.step(&d).unwrap()
}

#[test]
fn honest_updates_pass_and_other_data_fails() {
    let hp = Hparams::tiny();
    let s = Synth::new(SynthConfig::default());
    let model = Model::init(&ModelConfig::tiny(), 2, &Device::Cpu).unwrap();
    // Pre-train 30 windows so updates carry signal beyond the global successor table.
    let cfg = InnerConfig::from_hparams(&hp, 10_000);
    let mut opt = AdamW::new(&model, cfg.adamw).unwrap();
    for w in 0..30u64 {
        let idx: Vec<u64> = (0..32).map(|i| (2000 + w * 32 + i) % ROWS).collect();
        let out = train_inner(&model, &mut opt, &tokens(&s, &idx), 64, w * 4, &cfg).unwrap();
        let agg: Vec<(&str, &[f32])> = out
            .delta
            .iter()
            .map(|d| (d.name.as_str(), d.values.as_slice()))
            .collect();
        outer_step(&model, &agg, 1.0).unwrap();
    }
    let eval = EvalConfig::from_hparams(&hp, 32);
    let before_hash = model.state_hash().unwrap();
    let (mut honest, mut cheat) = (0, 0);
    let mut max_overlap = 0f64;
    let trials = 8u16;
    for t in 0..trials {
        let window = 200 + u64::from(t);
        let own = assigned_pool(1, t, &[t as u8; 32], window, ROWS, 64).unwrap();
        let other = assigned_pool(1, t + 500, &[0xee; 32], window, ROWS, 64).unwrap();
        let random = random_pool(1, window, &[t as u8; 32], ROWS, 32).unwrap();
        let own_eval = tokens(&s, &own[..hp.data.eval_rows as usize]);
        let random_eval = tokens(&s, &random);
        let rb = random_loss(&model, &random_eval, &eval).unwrap();
        let updates = BTreeMap::from([
            (1u16, update(&model, &hp, &s, &own)),
            (2u16, update(&model, &hp, &s, &other)),
        ]);
        let scales = clip_scales_by_miner(&updates);
        let m = |uid: u16| {
            let u = clipped(&updates[&uid], &scales[&uid]);
            measure(&model, &u, &own_eval, &random_eval, rb, &eval).unwrap()
        };
        let (h, c) = (m(1), m(2));
        let as_artifact = |uid: u16| kiln_protocol::Artifact {
            header: kiln_protocol::ArtifactHeader {
                netuid: 1,
                uid,
                hotkey: [0; 32],
                window,
                base_model_hash: [0; 32],
                hparams_hash: [0; 32],
            },
            tensors: updates[&uid].clone(),
        };
        let overlap =
            kiln_validator::checks::index_overlap(&as_artifact(1), &as_artifact(2)).unwrap();
        max_overlap = max_overlap.max(overlap);
        assert_eq!(h.random.before, rb);
        assert!((h.loss_score - h.random.relative_improvement()).abs() < 1e-15);
        honest += i32::from(h.indicator == 1);
        cheat += i32::from(c.indicator == -1);
    }
    assert_eq!(
        model.state_hash().unwrap(),
        before_hash,
        "the model is restored"
    );
    assert!(honest >= 7, "honest passed {honest}/{trials}");
    assert!(cheat >= 7, "other-data update failed {cheat}/{trials}");
}

#[test]
fn clipping_brings_norms_down_to_the_median() {
    let hp = Hparams::tiny();
    let s = Synth::new(SynthConfig::default());
    let model = Model::init(&ModelConfig::tiny(), 3, &Device::Cpu).unwrap();
    let base = update(&model, &hp, &s, &(0..64).collect::<Vec<_>>());
    let scaled = |f: f32| {
        clipped(&base, &vec![f64::from(f); base.len()])
            .into_iter()
            .collect::<Vec<_>>()
    };
    // Three miners: norms ×1, ×0.5, ×0.25 of the same update; the median is ×0.5.
    let updates = BTreeMap::from([(1u16, base.clone()), (2, scaled(0.5)), (3, scaled(0.25))]);
    let scales = clip_scales_by_miner(&updates);
    for (i, t) in clipped(&updates[&1], &scales[&1]).iter().enumerate() {
        let want = updates[&2][i].norm();
        assert!(
            (t.norm() - want).abs() <= 1e-4 * want.max(1e-12),
            "{}",
            t.name
        );
    }
    assert!(scales[&2].iter().chain(&scales[&3]).all(|&s| s == 1.0));
}
