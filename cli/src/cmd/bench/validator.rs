//! `kiln bench validator`: the Gauntlet's cost per miner — the window's random-row loss once,
//! then per miner its own rows before and its own and random rows after its update, with the
//! median-norm clip — on real updates trained by simulated miners.

use super::median;
use anyhow::{Result, bail};
use clap::Args;
use kiln_protocol::Hparams;
use kiln_protocol::assignment::{assigned_pool, random_pool};
use kiln_protocol::codec::ErrorFeedback;
use kiln_training::data::{Synth, SynthConfig};
use kiln_training::{AdamW, DeviceSpec, InnerConfig, Model, ModelConfig, train_inner};
use kiln_validator::evaluate::{EvalConfig, clip_scales_by_miner, clipped, measure, random_loss};
use std::collections::BTreeMap;
use std::time::Instant;

/// Arguments of `kiln bench validator`.
#[derive(Debug, Args)]
pub(crate) struct ValidatorArgs {
    /// Model preset (tiny on CPUs; small on a GPU).
    #[arg(long, default_value = "tiny")]
    model: String,
    /// Run parameters preset (rows per evaluation, codec).
    #[arg(long, default_value = "tiny")]
    preset: String,
    /// Simulated miners, each training one window on its assigned rows.
    #[arg(long, default_value_t = 8)]
    miners: u16,
    /// Rows per forward pass.
    #[arg(long, default_value_t = 32)]
    micro_batch_rows: usize,
    /// `cpu` or `cuda:N`.
    #[arg(long, env = "KILN_DEVICE", default_value = "cpu")]
    device: DeviceSpec,
}

pub(crate) fn run(a: ValidatorArgs) -> Result<()> {
    if a.miners == 0 {
        bail!("need at least one miner");
    }
    let Some(h) = Hparams::preset(&a.preset) else {
        bail!("unknown preset {:?}", a.preset);
    };
    let config = ModelConfig::preset(&a.model)?;
    let device = a.device.open()?;
    let seq = h.data.seq_len;
    let synth = Synth::new(SynthConfig {
        vocab_size: config.vocab_size.min(512) as u32,
        seq_len: seq,
        ..SynthConfig::default()
    });
    let rows = synth.config().rows;
    let tokens = |idx: &[u64]| -> Vec<u32> { idx.iter().flat_map(|&r| synth.row(r)).collect() };
    let model = Model::init(&config, 0, &device)?;
    let inner = InnerConfig::from_hparams(&h, 10_000);
    let c = &h.compression;
    let window = 7;
    let mut updates = BTreeMap::new();
    let mut own = BTreeMap::new();
    let t = Instant::now();
    for uid in 0..a.miners {
        let hotkey = [uid as u8; 32];
        let pool = assigned_pool(1, uid, &hotkey, window, rows, h.data.pool_rows as usize)?;
        let used = (h.inner.steps * h.data.batch_rows) as usize;
        let mut opt = AdamW::new(&model, inner.adamw)?;
        let out = train_inner(
            &model,
            &mut opt,
            &tokens(&pool[..used]),
            seq as usize,
            0,
            &inner,
        )?;
        let mut ef = ErrorFeedback::new(
            model.codec_specs(c.chunk, c.topk)?,
            c.error_feedback_decay as f32,
        );
        let d: Vec<&[f32]> = out.delta.iter().map(|d| d.values.as_slice()).collect();
        updates.insert(uid, ef.step(&d)?);
        own.insert(uid, tokens(&pool[..h.data.eval_rows as usize]));
    }
    let train_s = t.elapsed().as_secs_f64();
    let eval = EvalConfig::from_hparams(&h, a.micro_batch_rows);
    let random = tokens(&random_pool(
        1,
        window,
        &[9; 32],
        rows,
        h.data.random_rows as usize,
    )?);

    let t = Instant::now();
    let before = random_loss(&model, &random, &eval)?;
    let random_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let scales = clip_scales_by_miner(&updates);
    let clip_s = t.elapsed().as_secs_f64();
    let mut per_miner = Vec::new();
    let total = Instant::now();
    for (uid, u) in &updates {
        let t = Instant::now();
        let update = clipped(u, &scales[uid]);
        measure(&model, &update, &own[uid], &random, before, &eval)?;
        per_miner.push(t.elapsed().as_secs_f64());
    }
    let eval_s = total.elapsed().as_secs_f64() + random_s + clip_s;
    println!("device {}", a.device);
    println!(
        "model {} ({} parameters)",
        a.model,
        config.parameter_count()
    );
    println!("miners {}", a.miners);
    println!("own_rows {}", h.data.eval_rows);
    println!("random_rows {}", h.data.random_rows);
    println!("miner_training_s {train_s:.3}");
    println!("random_loss_s {random_s:.4}");
    println!("clip_scales_s {clip_s:.4}");
    println!("eval_per_miner_median_s {:.4}", median(per_miner));
    println!("window_eval_s {eval_s:.3}");
    println!("miners_per_second {:.2}", f64::from(a.miners) / eval_s);
    Ok(())
}
