//! Reproducibility: every score must be recomputable by anyone. Each test body runs once per
//! device this build can use (the CPU, plus a GPU with the `cuda` feature).

use candle_core::Device;
use kiln_protocol::SparseTensor;
use kiln_protocol::codec::compress;
use kiln_training::data::{Synth, SynthConfig};
use kiln_training::device::available;
use kiln_training::{
    AdamW, EvalError, InnerConfig, Model, ModelConfig, mean_loss, outer_step, train_inner,
    train_inner_until, with_update,
};

fn tokens(rows: u64) -> Vec<u32> {
    let s = Synth::new(SynthConfig::default());
    (0..rows).flat_map(|r| s.row(r)).collect()
}

fn for_each_device(body: impl Fn(&Device)) {
    for (spec, device) in available() {
        eprintln!("device {spec}");
        body(&device);
    }
}

fn update_for(model: &Model) -> Vec<SparseTensor> {
    ["model.layers.0.mlp.up_proj.weight", "model.norm.weight"]
        .into_iter()
        .map(|name| {
            let var = model.param(name).unwrap();
            let g: Vec<f32> = (0..var.elem_count())
                .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 0.1)
                .collect();
            compress(name, var.dims(), &g, 64, 16).unwrap()
        })
        .collect()
}

#[test]
fn evaluation_is_bit_identical_across_runs() {
    for_each_device(|device| {
        let rows = tokens(24);
        let eval = || {
            let model = Model::init(&ModelConfig::tiny(), 5, device).unwrap();
            (
                mean_loss(&model, &rows, 64, 8).unwrap(),
                mean_loss(&model, &rows, 64, 8).unwrap(),
            )
        };
        let (a1, a2) = eval();
        let (b1, _) = eval();
        assert_eq!(a1.to_bits(), a2.to_bits());
        assert_eq!(a1.to_bits(), b1.to_bits());
        assert!(a1.is_finite() && a1 > 0.0);
    });
}

#[test]
fn with_update_restores_parameters_bit_exactly() {
    for_each_device(|device| {
        let model = Model::init(&ModelConfig::tiny(), 6, device).unwrap();
        let rows = tokens(8);
        let before_hash = model.state_hash().unwrap();
        let before_loss = mean_loss(&model, &rows, 64, 8).unwrap();
        let update = update_for(&model);
        let inside = with_update(&model, &update, 0.5, |m| {
            (m.state_hash().unwrap(), mean_loss(m, &rows, 64, 8).unwrap())
        })
        .unwrap();
        assert_ne!(inside.0, before_hash, "the update was not applied");
        assert_ne!(inside.1, before_loss);
        assert_eq!(model.state_hash().unwrap(), before_hash);
        assert_eq!(
            mean_loss(&model, &rows, 64, 8).unwrap().to_bits(),
            before_loss.to_bits()
        );

        // A bad update (second tensor of the wrong shape) is refused and changes nothing.
        let mut bad = update.clone();
        bad[1] = compress("model.norm.weight", &[32], &[1.0; 32], 64, 8).unwrap();
        assert!(matches!(
            with_update(&model, &bad, 0.5, |_| ()),
            Err(EvalError::Shape { .. })
        ));
        let unknown = vec![compress("lm_head.bias", &[8], &[1.0; 8], 64, 8).unwrap()];
        assert!(matches!(
            with_update(&model, &unknown, 0.5, |_| ()),
            Err(EvalError::UnknownTensor(_))
        ));
        let twice = vec![update[0].clone(), update[0].clone()];
        assert!(matches!(
            with_update(&model, &twice, 0.5, |_| ()),
            Err(EvalError::Duplicate(_))
        ));
        assert_eq!(model.state_hash().unwrap(), before_hash);
    });
}

#[test]
fn outer_step_on_identical_inputs_gives_identical_state() {
    for_each_device(|device| {
        let run = || {
            let model = Model::init(&ModelConfig::tiny(), 9, device).unwrap();
            let agg: Vec<(String, Vec<f32>)> = model
                .params()
                .iter()
                .map(|(n, v)| {
                    let g = (0..v.elem_count())
                        .map(|i| (i % 17) as f32 * 1e-3)
                        .collect();
                    (n.clone(), g)
                })
                .collect();
            let refs: Vec<(&str, &[f32])> = agg
                .iter()
                .map(|(n, g)| (n.as_str(), g.as_slice()))
                .collect();
            let before = model.state_hash().unwrap();
            outer_step(&model, &refs, 0.4).unwrap();
            assert_ne!(model.state_hash().unwrap(), before);
            // A wrong-length entry is refused before anything changes.
            let after = model.state_hash().unwrap();
            let bad = [(refs[0].0, &refs[0].1[1..])];
            assert!(outer_step(&model, &bad, 0.4).is_err());
            assert_eq!(model.state_hash().unwrap(), after);
            after
        };
        assert_eq!(run(), run());
    });
}

#[test]
fn inner_loop_is_deterministic_and_restores_the_start() {
    for_each_device(|device| {
        let hp = kiln_protocol::Hparams::tiny();
        let cfg = InnerConfig::from_hparams(&hp, 1_000);
        let rows = tokens(32);
        let run = || {
            let model = Model::init(&ModelConfig::tiny(), 4, device).unwrap();
            let start = model.state_hash().unwrap();
            let mut opt = AdamW::new(&model, cfg.adamw).unwrap();
            let out = train_inner(&model, &mut opt, &rows, 64, 0, &cfg).unwrap();
            assert_eq!(
                model.state_hash().unwrap(),
                start,
                "θ_start was not restored"
            );
            assert_eq!(opt.steps(), cfg.steps as u64);
            assert_eq!(out.losses.len(), cfg.steps);
            assert!(out.delta.iter().any(|d| d.values.iter().any(|&v| v != 0.0)));
            out.delta
        };
        assert_eq!(run(), run());
    });
}

#[test]
fn gradient_accumulation_matches_one_big_batch() {
    let hp = kiln_protocol::Hparams::tiny();
    let rows = tokens(32);
    let delta = |micro: usize| {
        let model = Model::init(&ModelConfig::tiny(), 4, &Device::Cpu).unwrap();
        let cfg = InnerConfig {
            micro_batch_rows: micro,
            ..InnerConfig::from_hparams(&hp, 1_000)
        };
        let mut opt = AdamW::new(&model, cfg.adamw).unwrap();
        train_inner(&model, &mut opt, &rows, 64, 0, &cfg)
            .unwrap()
            .delta
    };
    let (full, accumulated) = (delta(8), delta(2));
    for (a, b) in full.iter().zip(&accumulated) {
        let scale = a.values.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = a
            .values
            .iter()
            .zip(&b.values)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(
            diff <= 1e-3 * scale + 1e-7,
            "{}: max diff {diff} (scale {scale})",
            a.name
        );
    }
}

#[test]
fn stopping_early_is_a_shorter_window() {
    let hp = kiln_protocol::Hparams::tiny();
    let rows = tokens(64);
    let run = |steps: usize, stop_at: usize| {
        let model = Model::init(&ModelConfig::tiny(), 3, &Device::Cpu).unwrap();
        let cfg = InnerConfig {
            steps,
            ..InnerConfig::from_hparams(&hp, 1_000)
        };
        let mut opt = AdamW::new(&model, cfg.adamw).unwrap();
        let asked = std::cell::Cell::new(Vec::new());
        let out = train_inner_until(&model, &mut opt, &rows, 64, 0, &cfg, |h| {
            let mut seen = asked.take();
            seen.push(h);
            asked.set(seen);
            h >= stop_at
        })
        .unwrap();
        (out, asked.take())
    };
    // Asked before steps 1 and 2; stopped before step 2 of 4.
    let (stopped, asked) = run(4, 2);
    assert_eq!(asked, [1, 2]);
    assert_eq!(stopped.losses.len(), 2);
    assert_eq!(stopped.tokens, 2 * hp.data.batch_rows as usize * 64);
    let (short, _) = run(2, usize::MAX);
    for (a, b) in stopped.delta.iter().zip(&short.delta) {
        assert_eq!(a.values, b.values, "{}", a.name);
    }
}
